#include "telemetry/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <random>

namespace kafka_autoscaler::telemetry {

namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) {
      return MakeError(ErrorCode::kInvalidArgument, "truncated percent escape");
    }
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return MakeError(ErrorCode::kInvalidArgument, "bad percent escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string NewUuid() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                  // version 4
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

// Reads the environment and collects every problem instead of stopping at the first.
class Reader {
 public:
  explicit Reader(const Env& env) : env_(env) {}

  const std::string* Get(const std::string& name) const {
    auto it = env_.find(name);
    if (it == env_.end() || Trim(it->second).empty()) return nullptr;
    return &it->second;
  }
  // The per-signal variable if set, else the generic one; null if neither.
  std::pair<std::string, const std::string*> GetSignal(const std::string& generic,
                                                       const std::string& specific) const {
    if (const std::string* v = Get(specific)) return {specific, v};
    return {generic, Get(generic)};
  }
  // A generic variable (OTEL_EXPORTER_OTLP_PROTOCOL) is read once per signal; say it once.
  void Problem(const std::string& name, const std::string& value, const std::string& what) {
    Add(name + "=" + value + ": " + what);
  }
  void ProblemRedacted(const std::string& name, const std::string& what) {
    Add(name + "=<redacted>: " + what);
  }
  void Add(std::string line) {
    if (std::find(problems_.begin(), problems_.end(), line) == problems_.end()) {
      problems_.push_back(std::move(line));
    }
  }

  bool Bool(const std::string& name, bool fallback) {
    const std::string* v = Get(name);
    if (v == nullptr) return fallback;
    const std::string s = Lower(Trim(*v));
    if (s == "true") return true;
    if (s == "false") return false;
    Problem(name, *v, "must be true or false");
    return fallback;
  }

  std::chrono::milliseconds Millis(const std::string& name, const std::string* v,
                                   std::chrono::milliseconds fallback, bool allow_zero) {
    if (v == nullptr) return fallback;
    const std::string s = Trim(*v);
    int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
    if (ec != std::errc() || ptr != s.data() + s.size() || ms < 0 || (!allow_zero && ms == 0) ||
        ms > 24LL * 3600 * 1000) {
      Problem(name, *v,
              std::string("must be a whole number of milliseconds, ") + (allow_zero ? "0" : "1") +
                  "..86400000");
      return fallback;
    }
    return std::chrono::milliseconds(ms);
  }

  size_t Count(const std::string& name, size_t fallback) {
    const std::string* v = Get(name);
    if (v == nullptr) return fallback;
    const std::string s = Trim(*v);
    size_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr != s.data() + s.size() || n == 0 || n > 1'000'000) {
      Problem(name, *v, "must be a whole number, 1..1000000");
      return fallback;
    }
    return n;
  }

  SignalOptions Signal(const std::string& signal, const std::string& base_url) {
    SignalOptions o;
    const std::string upper = signal == "traces"    ? "TRACES"
                              : signal == "metrics" ? "METRICS"
                                                    : "LOGS";
    const std::string exporter_var = "OTEL_" + upper + "_EXPORTER";
    if (const std::string* v = Get(exporter_var)) {
      const std::string s = Lower(Trim(*v));
      if (s == "otlp") {
        o.exporter = ExporterKind::kOtlp;
      } else if (s == "console") {
        o.exporter = ExporterKind::kConsole;
      } else if (s == "none" || (signal == "metrics" && s == "prometheus")) {
        o.exporter = ExporterKind::kNone;
      } else {
        Problem(exporter_var, *v,
                signal == "metrics" ? "must be otlp, console, none or prometheus"
                                    : "must be otlp, console or none");
      }
    }
    const std::string prefix = "OTEL_EXPORTER_OTLP_";
    if (const std::string* v = Get(prefix + upper + "_ENDPOINT")) {
      o.url = Trim(*v);
      CheckUrl(prefix + upper + "_ENDPOINT", o.url);
    } else {
      o.url = base_url + (base_url.ends_with('/') ? "" : "/") + "v1/" + signal;
    }
    if (auto [name, v] = GetSignal(prefix + "PROTOCOL", prefix + upper + "_PROTOCOL"); v) {
      const std::string s = Lower(Trim(*v));
      if (s == "http/protobuf") {
        o.protocol = Protocol::kHttpProtobuf;
      } else if (s == "http/json") {
        o.protocol = Protocol::kHttpJson;
      } else {
        Problem(name, *v, "must be http/protobuf or http/json (grpc is not supported)");
      }
    }
    if (auto [name, v] = GetSignal(prefix + "HEADERS", prefix + upper + "_HEADERS"); v) {
      auto parsed = ParseKeyValueList(*v);
      if (parsed) {
        o.headers = *std::move(parsed);
      } else {
        ProblemRedacted(name, "must be a list of key=value pairs separated by commas (" +
                                  parsed.error().message + ")");
      }
    }
    {
      auto [name, v] = GetSignal(prefix + "TIMEOUT", prefix + upper + "_TIMEOUT");
      o.timeout = Millis(name, v, o.timeout, /*allow_zero=*/false);
    }
    if (auto [name, v] = GetSignal(prefix + "COMPRESSION", prefix + upper + "_COMPRESSION"); v) {
      const std::string s = Lower(Trim(*v));
      if (s == "gzip") {
        o.compression = Compression::kGzip;
      } else if (s == "none") {
        o.compression = Compression::kNone;
      } else {
        Problem(name, *v, "must be gzip or none");
      }
    }
    return o;
  }

  void CheckUrl(const std::string& name, const std::string& url) {
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      Problem(name, url, "must be an http:// or https:// URL");
    } else if (url.find_first_of(" \t\r\n") != std::string::npos) {
      Problem(name, url, "must not contain whitespace");
    }
  }

  const std::vector<std::string>& problems() const { return problems_; }

 private:
  const Env& env_;
  std::vector<std::string> problems_;
};

std::string_view ExporterName(ExporterKind kind) {
  switch (kind) {
    case ExporterKind::kOtlp:
      return "otlp";
    case ExporterKind::kConsole:
      return "console";
    case ExporterKind::kNone:
      return "none";
  }
  return "none";
}

}  // namespace

std::string_view ProtocolName(Protocol protocol) {
  return protocol == Protocol::kHttpJson ? "http/json" : "http/protobuf";
}

std::vector<std::string> KnownVariables() {
  std::vector<std::string> names = {"OTEL_SDK_DISABLED",
                                    "OTEL_SERVICE_NAME",
                                    "OTEL_RESOURCE_ATTRIBUTES",
                                    "OTEL_METRIC_EXPORT_INTERVAL",
                                    "OTEL_BSP_SCHEDULE_DELAY",
                                    "OTEL_BSP_MAX_QUEUE_SIZE",
                                    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                                    "POD_NAME",
                                    "POD_NAMESPACE"};
  for (const char* option : {"PROTOCOL", "HEADERS", "TIMEOUT", "COMPRESSION"}) {
    names.push_back(std::string("OTEL_EXPORTER_OTLP_") + option);
  }
  for (const char* signal : {"TRACES", "METRICS", "LOGS"}) {
    names.push_back(std::string("OTEL_") + signal + "_EXPORTER");
    for (const char* option : {"ENDPOINT", "PROTOCOL", "HEADERS", "TIMEOUT", "COMPRESSION"}) {
      names.push_back(std::string("OTEL_EXPORTER_OTLP_") + signal + "_" + option);
    }
  }
  return names;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseKeyValueList(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string member = Trim(text.substr(start, end - start));
    start = end + 1;
    if (member.empty()) continue;
    const size_t eq = member.find('=');
    if (eq == std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument, "a member has no '='");
    }
    auto key = PercentDecode(Trim(std::string_view(member).substr(0, eq)));
    auto value = PercentDecode(Trim(std::string_view(member).substr(eq + 1)));
    if (!key || !value) {
      return MakeError(ErrorCode::kInvalidArgument, "bad percent-encoding");
    }
    if (key->empty()) return MakeError(ErrorCode::kInvalidArgument, "a member has an empty key");
    out.emplace_back(*std::move(key), *std::move(value));
  }
  return out;
}

std::string TelemetryOptions::ResourceValue(std::string_view key) const {
  for (const auto& [k, v] : resource) {
    if (k == key) return v;
  }
  return "";
}

std::string TelemetryOptions::Describe() const {
  if (sdk_disabled) return "telemetry export disabled (OTEL_SDK_DISABLED)";
  std::string out;
  auto one = [&](std::string_view signal, const SignalOptions& o) {
    out += std::string(signal) + "=" + std::string(ExporterName(o.exporter));
    if (o.exporter == ExporterKind::kOtlp) {
      out += "(" + o.url + " " + std::string(ProtocolName(o.protocol)) +
             " timeout_ms=" + std::to_string(o.timeout.count()) +
             (o.compression == Compression::kGzip ? " gzip" : "");
      for (const auto& h : o.headers) out += " " + h.first + "=<redacted>";
      out += ")";
    }
    out += " ";
  };
  one("traces", traces);
  one("metrics", metrics);
  one("logs", logs);
  out += "metric_interval_ms=" + std::to_string(metric_export_interval.count());
  return out;
}

Result<TelemetryOptions> LoadOptions(const Env& env, std::string_view service_version) {
  Reader r(env);
  TelemetryOptions o;
  o.sdk_disabled = r.Bool("OTEL_SDK_DISABLED", false);

  std::string base = "http://localhost:4318";
  if (const std::string* v = r.Get("OTEL_EXPORTER_OTLP_ENDPOINT")) {
    base = Trim(*v);
    r.CheckUrl("OTEL_EXPORTER_OTLP_ENDPOINT", base);
  }
  o.traces = r.Signal("traces", base);
  o.metrics = r.Signal("metrics", base);
  o.logs = r.Signal("logs", base);
  o.metric_export_interval =
      r.Millis("OTEL_METRIC_EXPORT_INTERVAL", r.Get("OTEL_METRIC_EXPORT_INTERVAL"),
               o.metric_export_interval, /*allow_zero=*/false);
  o.schedule_delay = r.Millis("OTEL_BSP_SCHEDULE_DELAY", r.Get("OTEL_BSP_SCHEDULE_DELAY"),
                              o.schedule_delay, /*allow_zero=*/false);
  o.max_queue_size = r.Count("OTEL_BSP_MAX_QUEUE_SIZE", o.max_queue_size);
  o.max_export_batch_size = r.Count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", o.max_export_batch_size);
  if (o.max_export_batch_size > o.max_queue_size) {
    r.Problem("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", std::to_string(o.max_export_batch_size),
              "must be <= OTEL_BSP_MAX_QUEUE_SIZE (" + std::to_string(o.max_queue_size) + ")");
  }

  // Resource: OTEL_RESOURCE_ATTRIBUTES, then the values we know, OTEL_SERVICE_NAME last.
  std::vector<std::pair<std::string, std::string>> attrs;
  if (const std::string* v = r.Get("OTEL_RESOURCE_ATTRIBUTES")) {
    auto parsed = ParseKeyValueList(*v);
    if (parsed) {
      attrs = *std::move(parsed);
    } else {
      r.Problem(
          "OTEL_RESOURCE_ATTRIBUTES", *v,
          "must be a list of key=value pairs separated by commas (" + parsed.error().message + ")");
    }
  }
  auto set = [&](const std::string& key, const std::string& value, bool override_existing) {
    for (auto& [k, v] : attrs) {
      if (k == key) {
        if (override_existing) v = value;
        return;
      }
    }
    attrs.emplace_back(key, value);
  };
  if (const std::string* v = r.Get("OTEL_SERVICE_NAME")) {
    set("service.name", Trim(*v), true);
  } else {
    set("service.name", "kafka-autoscaler", false);
  }
  set("service.version", std::string(service_version), false);
  set("service.instance.id", NewUuid(), false);
  if (const std::string* v = r.Get("POD_NAME")) set("k8s.pod.name", Trim(*v), false);
  if (const std::string* v = r.Get("POD_NAMESPACE")) set("k8s.namespace.name", Trim(*v), false);
  // service.name first, for people reading the payload.
  std::stable_partition(attrs.begin(), attrs.end(),
                        [](const auto& kv) { return kv.first == "service.name"; });
  o.resource = std::move(attrs);

  if (!r.problems().empty()) {
    Error e{ErrorCode::kInvalidArgument,
            "invalid telemetry configuration (" + std::to_string(r.problems().size()) + " problem" +
                (r.problems().size() == 1 ? "" : "s") + ")",
            r.problems(), std::nullopt};
    return MakeError(std::move(e));
  }
  return o;
}

}  // namespace kafka_autoscaler::telemetry
