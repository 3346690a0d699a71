#include "telemetry/exporter.h"

#include <curl/curl.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ostream>
#include <random>

#include "common/guarded.h"

namespace kafka_autoscaler::telemetry {

namespace {

using SteadyClock = std::chrono::steady_clock;

bool& ExportThreadFlag() {
  thread_local bool on_export_thread = false;
  return on_export_thread;
}

size_t SignalIndex(Signal s) { return static_cast<size_t>(s); }

Result<std::string> Gzip(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return MakeError(ErrorCode::kInternal, "gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return MakeError(ErrorCode::kInternal, "gzip: deflate failed");
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// Retry-After: delay-seconds or an HTTP-date.
std::optional<std::chrono::milliseconds> ParseRetryAfter(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (value.size() > 9) return std::chrono::hours(24);
    return std::chrono::seconds(std::stoll(value));
  }
  const time_t when = curl_getdate(value.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return std::chrono::seconds(std::max<time_t>(0, when - now));
}

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string content_type;
  std::optional<std::chrono::milliseconds> retry_after;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<HttpResponse*>(user)->body.append(data, size * n);
  return size * n;
}

size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  const std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    const std::string name = Lower(Trim(line.substr(0, colon)));
    const std::string value = Trim(line.substr(colon + 1));
    if (name == "retry-after") r->retry_after = ParseRetryAfter(value);
    if (name == "content-type") r->content_type = Lower(value);
  }
  return size * n;
}

// Aborts an in-flight transfer once the shutdown deadline has passed (libcurl calls this about
// once a second while waiting, and more often while data moves).
int AbortAfterDeadline(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* deadline = static_cast<const std::atomic<SteadyClock::rep>*>(user);
  return SteadyClock::now().time_since_epoch().count() >= deadline->load() ? 1 : 0;
}

bool RetryableStatus(long status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

}  // namespace

bool IsExportThread() { return ExportThreadFlag(); }

// One libcurl easy handle per signal, reused so connections are kept alive.
struct Exporter::Sender {
  explicit Sender(const SignalOptions& o) : options(o), curl(curl_easy_init()) {
    std::string content_type = "Content-Type: ";
    content_type += ContentType(o.protocol);
    headers = curl_slist_append(headers, content_type.c_str());
    if (o.compression == Compression::kGzip) {
      headers = curl_slist_append(headers, "Content-Encoding: gzip");
    }
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    for (const auto& [k, v] : o.headers) {
      headers = curl_slist_append(headers, (k + ": " + v).c_str());
    }
  }
  ~Sender() {
    if (curl != nullptr) curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
  }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // One POST; a transport failure is an Error (kTimeout or kUnavailable).
  // `deadline` (steady ticks, may move earlier while the transfer runs) is when to abandon the
  // transfer even before `timeout`: the shutdown deadline.
  Result<HttpResponse> Post(const std::string& body, std::chrono::milliseconds timeout,
                            const std::atomic<SteadyClock::rep>* deadline,
                            const std::string& user_agent) {
    if (curl == nullptr) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
    HttpResponse response;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, options.url.c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<int64_t>(1, timeout.count())));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::max<int64_t>(1, timeout.count())));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AbortAfterDeadline);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, deadline);
    const CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
      const ErrorCode code =
          rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
      const std::string what = rc == CURLE_ABORTED_BY_CALLBACK
                                   ? "abandoned at the shutdown deadline"
                                   : curl_easy_strerror(rc);
      return MakeError(code, std::string("POST ") + options.url + ": " + what);
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

  const SignalOptions& options;
  CURL* curl;
  curl_slist* headers = nullptr;
};

Exporter::Exporter(TelemetryOptions options, const Clock& clock, Metrics* metrics,
                   Logger* diagnostics, std::ostream* console)
    : options_(std::move(options)),
      clock_(clock),
      metrics_(metrics),
      diagnostics_(diagnostics),
      console_(console),
      start_time_(clock.WallNow()),
      version_(options_.ResourceValue("service.version")),
      thread_([this] { RunGuarded("telemetry-exporter", diagnostics_, [this] { Run(); }); }) {}

Exporter::~Exporter() { Shutdown(std::chrono::seconds(5)); }

const SignalOptions& Exporter::OptionsOf(Signal signal) const {
  switch (signal) {
    case Signal::kTraces:
      return options_.traces;
    case Signal::kMetrics:
      return options_.metrics;
    case Signal::kLogs:
      return options_.logs;
  }
  return options_.traces;
}

SignalStats& Exporter::StatsOf(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return stats_.traces;
    case Signal::kMetrics:
      return stats_.metrics;
    case Signal::kLogs:
      return stats_.logs;
  }
  return stats_.traces;
}

void Exporter::OnEnd(SpanData span) {
  if (options_.traces.exporter == ExporterKind::kNone) return;
  {
    std::lock_guard lock(mu_);
    if (!stop_ && spans_.size() < options_.max_queue_size) {
      spans_.push_back(std::move(span));
      if (spans_.size() >= options_.max_export_batch_size) cv_.notify_one();
      return;
    }
    stats_.traces.dropped++;
  }
  metrics_->AddTelemetryDropped(Signal::kTraces, 1);
}

void Exporter::EnqueueLog(LogData log) {
  if (options_.logs.exporter == ExporterKind::kNone) return;
  {
    std::lock_guard lock(mu_);
    if (!stop_ && logs_.size() < options_.max_queue_size) {
      logs_.push_back(std::move(log));
      if (logs_.size() >= options_.max_export_batch_size) cv_.notify_one();
      return;
    }
    stats_.logs.dropped++;
  }
  metrics_->AddTelemetryDropped(Signal::kLogs, 1);
}

bool Exporter::ForceFlush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (joined_ || stop_) return spans_.empty() && logs_.empty();
  const uint64_t ticket = ++flush_requested_;
  cv_.notify_one();
  return flushed_.wait_for(lock, timeout, [&] { return flush_done_ >= ticket || joined_; });
}

void Exporter::Shutdown(std::chrono::milliseconds deadline) {
  std::lock_guard join_lock(join_mu_);
  {
    std::lock_guard lock(mu_);
    if (joined_) return;
    stop_ = true;
    deadline_ = SteadyClock::now() + deadline;
    abort_at_ = deadline_.time_since_epoch().count();
    cv_.notify_all();
  }
  thread_.join();
  std::lock_guard lock(mu_);
  joined_ = true;
  flushed_.notify_all();
}

ExporterStats Exporter::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

SteadyClock::time_point Exporter::Deadline() const {
  std::lock_guard lock(mu_);
  return deadline_;
}

bool Exporter::WaitUntil(SteadyClock::time_point until) {
  std::unique_lock lock(mu_);
  while (true) {
    const auto now = SteadyClock::now();
    if (now >= deadline_) return false;
    if (now >= until) return true;
    cv_.wait_until(lock, std::min(until, deadline_));
  }
}

void Exporter::CountDropped(Signal signal, uint64_t items, const std::string& why) {
  {
    std::lock_guard lock(mu_);
    SignalStats& s = StatsOf(signal);
    s.dropped += items;
    s.failed_batches++;
    s.last_error = why;
  }
  metrics_->AddTelemetryDropped(signal, static_cast<double>(items));
  if (diagnostics_ != nullptr) {
    diagnostics_->Warn("telemetry export failed; batch dropped",
                       {{"signal", std::string(SignalName(signal))},
                        {"items", static_cast<int64_t>(items)},
                        {"error", why}});
  }
}

void Exporter::Run() {
  ExportThreadFlag() = true;
  for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    if (OptionsOf(s).exporter == ExporterKind::kOtlp) {
      senders_[SignalIndex(s)] = std::make_unique<Sender>(OptionsOf(s));
    }
  }
  auto next_batch = SteadyClock::now() + options_.schedule_delay;
  auto next_metrics = SteadyClock::now() + options_.metric_export_interval;
  const size_t batch = options_.max_export_batch_size;
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait_until(lock, std::min(next_batch, next_metrics), [&] {
      return stop_ || flush_requested_ > flush_done_ || spans_.size() >= batch ||
             logs_.size() >= batch || SteadyClock::now() >= std::min(next_batch, next_metrics);
    });
    const bool stopping = stop_;
    const uint64_t ticket = flush_requested_;
    const bool forced = stopping || ticket > flush_done_;
    const auto now = SteadyClock::now();
    if (forced || now >= next_batch || spans_.size() >= batch || logs_.size() >= batch) {
      // Drain what is queued now, one batch per request.
      while (!spans_.empty() || !logs_.empty()) {
        std::vector<SpanData> spans;
        std::vector<LogData> logs;
        while (!spans_.empty() && spans.size() < batch) {
          spans.push_back(std::move(spans_.front()));
          spans_.pop_front();
        }
        while (!logs_.empty() && logs.size() < batch) {
          logs.push_back(std::move(logs_.front()));
          logs_.pop_front();
        }
        lock.unlock();
        if (!spans.empty()) ExportSpans(std::move(spans));
        if (!logs.empty()) ExportLogs(std::move(logs));
        lock.lock();
      }
      next_batch = SteadyClock::now() + options_.schedule_delay;
    }
    if (forced || now >= next_metrics) {
      lock.unlock();
      ExportMetrics();
      lock.lock();
      next_metrics = SteadyClock::now() + options_.metric_export_interval;
    }
    flush_done_ = std::max(flush_done_, ticket);
    flushed_.notify_all();
    if (stopping) break;
  }
  lock.unlock();
  for (auto& s : senders_) s.reset();
}

void Exporter::ExportSpans(std::vector<SpanData> spans) {
  Send(Signal::kTraces, BuildTraceRequest(options_.resource, version_, spans), spans.size());
}

void Exporter::ExportLogs(std::vector<LogData> logs) {
  Send(Signal::kLogs, BuildLogsRequest(options_.resource, version_, logs), logs.size());
}

void Exporter::ExportMetrics() {
  if (options_.metrics.exporter == ExporterKind::kNone) return;
  const auto request = BuildMetricsRequest(options_.resource, version_, metrics_->Collect(),
                                           start_time_, clock_.WallNow());
  uint64_t points = 0;
  for (const auto& m : request.resource_metrics(0).scope_metrics(0).metrics()) {
    points += static_cast<uint64_t>(m.gauge().data_points_size() + m.sum().data_points_size() +
                                    m.histogram().data_points_size());
  }
  Send(Signal::kMetrics, request, points);
}

bool Exporter::Send(Signal signal, const google::protobuf::Message& request, uint64_t items) {
  const SignalOptions& o = OptionsOf(signal);
  if (o.exporter == ExporterKind::kNone) return true;
  if (o.exporter == ExporterKind::kConsole) {
    auto json = ToOtlpJson(request);
    if (!json) {
      CountDropped(signal, items, json.error().message);
      return false;
    }
    if (console_ != nullptr) *console_ << *json << std::endl;
    std::lock_guard lock(mu_);
    StatsOf(signal).exported += items;
    return true;
  }
  auto body = EncodeBody(request, o.protocol);
  if (body && o.compression == Compression::kGzip) body = Gzip(*body);
  if (!body) {
    CountDropped(signal, items, body.error().message);
    return false;
  }
  Sender& sender = *senders_[SignalIndex(signal)];
  const std::string user_agent = "kafka-autoscaler/" + version_;
  std::mt19937_64 rng(std::random_device{}());
  std::string why;
  for (int attempt = 1; attempt <= std::max(1, options_.retry.max_attempts); ++attempt) {
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(Deadline() - SteadyClock::now());
    if (remaining <= std::chrono::milliseconds(0)) {
      why = "shutdown deadline passed" + (why.empty() ? "" : " after: " + why);
      break;
    }
    {
      std::lock_guard lock(mu_);
      StatsOf(signal).requests++;
      if (attempt > 1) StatsOf(signal).retries++;
    }
    auto response = sender.Post(*body, std::min(o.timeout, remaining), &abort_at_, user_agent);
    std::optional<std::chrono::milliseconds> retry_after;
    if (response && response->status >= 200 && response->status < 300) {
      auto partial = ParsePartialSuccess(signal, response->body,
                                         response->content_type.find("json") != std::string::npos);
      uint64_t rejected = 0;
      if (partial && partial->rejected > 0) rejected = static_cast<uint64_t>(partial->rejected);
      rejected = std::min(rejected, items);
      {
        std::lock_guard lock(mu_);
        StatsOf(signal).exported += items - rejected;
        StatsOf(signal).rejected += rejected;
      }
      if (diagnostics_ != nullptr && partial &&
          (partial->rejected > 0 || !partial->error_message.empty())) {
        diagnostics_->Warn("telemetry export partially accepted",
                           {{"signal", std::string(SignalName(signal))},
                            {"rejected", partial->rejected},
                            {"error", partial->error_message}});
      }
      return true;
    }
    if (response) {
      why = "POST " + o.url + ": HTTP " + std::to_string(response->status);
      if (!response->body.empty() && response->body.size() < 512 &&
          response->content_type.find("json") != std::string::npos) {
        why += " " + response->body;
      }
      if (!RetryableStatus(response->status)) break;  // 400 and the like: never retried
      retry_after = response->retry_after;
    } else {
      why = response.error().message;
    }
    if (attempt == options_.retry.max_attempts) break;
    // Exponential backoff with jitter: a random wait in [base/2, base].
    double base_ms = static_cast<double>(options_.retry.initial_backoff.count());
    for (int i = 1; i < attempt; ++i) base_ms *= options_.retry.multiplier;
    base_ms = std::min(base_ms, static_cast<double>(options_.retry.max_backoff.count()));
    std::uniform_real_distribution<double> jitter(base_ms / 2, base_ms);
    auto wait = std::chrono::milliseconds(static_cast<int64_t>(jitter(rng)));
    if (retry_after) wait = std::max(wait, std::min(*retry_after, options_.retry.max_backoff));
    if (!WaitUntil(SteadyClock::now() + wait)) {
      why = "shutdown deadline passed while retrying: " + why;
      break;
    }
  }
  CountDropped(signal, items, why);
  return false;
}

}  // namespace kafka_autoscaler::telemetry
