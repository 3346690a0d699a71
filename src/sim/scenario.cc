#include "sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace kafka_autoscaler::sim {

double Scenario::PodRateAt(double t) const {
  const double in_cycle = t - static_cast<double>(HistoryTicks()) * tick_seconds;
  double rate = pod.messages_per_second;
  for (const LoadPoint& c : pod.rate_changes) {
    if (c.t_seconds > in_cycle) break;
    rate = c.messages_per_second;
  }
  return rate;
}

double Scenario::RateAt(double t) const {
  if (load.empty()) return 0;
  if (history_cycles > 0 && t >= duration_seconds) t = std::fmod(t, duration_seconds);
  if (t <= load.front().t_seconds) return load.front().messages_per_second;
  if (t >= load.back().t_seconds) return load.back().messages_per_second;
  // First point strictly after t; the one before it is at or before t.
  auto it = std::upper_bound(load.begin(), load.end(), t,
                             [](double v, const LoadPoint& p) { return v < p.t_seconds; });
  const LoadPoint& b = *it;
  const LoadPoint& a = *(it - 1);
  const double f = (t - a.t_seconds) / (b.t_seconds - a.t_seconds);
  return a.messages_per_second + f * (b.messages_per_second - a.messages_per_second);
}

int64_t Scenario::TickCount() const {
  return static_cast<int64_t>(std::llround(duration_seconds / tick_seconds));
}

int64_t Scenario::HistoryTicks() const { return history_cycles * TickCount(); }

Result<void> SetHistoryCycles(Scenario& s, int64_t cycles, const std::string& what) {
  if (cycles < 0 || cycles > kMaxHistoryCycles) {
    return MakeError(ErrorCode::kInvalidArgument, what + "=" + std::to_string(cycles) +
                                                      ": must be an integer within 0.." +
                                                      std::to_string(kMaxHistoryCycles));
  }
  if (static_cast<double>(cycles + 1) * static_cast<double>(s.TickCount()) > 1e7) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + "=" + std::to_string(cycles) +
                         ": too many for this scenario (more than 1e7 steps in all)");
  }
  s.history_cycles = static_cast<int32_t>(cycles);
  return {};
}

namespace {

// Whether `seconds` is a whole number of ticks of `tick` (within rounding).
bool WholeTicks(double seconds, double tick) {
  const double ticks = seconds / tick;
  return std::fabs(ticks - std::round(ticks)) <= 1e-6;
}

}  // namespace

Result<void> SetKedaPhase(Scenario& s, double seconds, const std::string& what) {
  std::ostringstream value;
  value << seconds;
  if (!(seconds >= 0 && seconds < kKedaPhaseLimit)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + "=" + value.str() +
                         ": must be a number of seconds, at least 0 and below 30 (KEDA's "
                         "polling interval)");
  }
  if (!WholeTicks(seconds, s.tick_seconds)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + "=" + value.str() + ": must be a whole multiple of tick_seconds");
  }
  s.keda_phase_seconds = seconds;
  return {};
}

int64_t Scenario::IntervalTicks() const {
  return std::max<int64_t>(
      1, static_cast<int64_t>(std::llround(autoscaler.interval_seconds / tick_seconds)));
}

namespace {

// Collects problems while reading typed values out of a YAML map; unknown keys are problems too.
class Reader {
 public:
  Reader(const YAML::Node& node, std::string prefix, std::vector<std::string>& problems)
      : node_(node), prefix_(std::move(prefix)), problems_(problems) {}

  bool Has(const std::string& key) {
    seen_.insert(key);
    return node_[key].IsDefined() && !node_[key].IsNull();
  }
  YAML::Node Get(const std::string& key) { return node_[key]; }
  std::string Name(const std::string& key) const { return prefix_ + key; }

  void Problem(const std::string& key, const std::string& what) {
    problems_.push_back(Name(key) + ": " + what);
  }

  template <typename T>
  std::optional<T> Number(const std::string& key, bool required, T lo, T hi,
                          const std::string& allowed) {
    if (!Has(key)) {
      if (required) Problem(key, "missing; " + allowed);
      return std::nullopt;
    }
    const YAML::Node n = node_[key];
    std::string text = n.IsScalar() ? n.Scalar() : std::string("<not a scalar>");
    try {
      if (!n.IsScalar()) throw YAML::Exception(YAML::Mark::null_mark(), "not a scalar");
      const T v = n.as<T>();
      if constexpr (std::is_floating_point_v<T>) {
        if (!std::isfinite(v)) throw YAML::Exception(YAML::Mark::null_mark(), "not finite");
      }
      if (v < lo || v > hi) {
        problems_.push_back(Name(key) + "=" + text + ": " + allowed);
        return std::nullopt;
      }
      return v;
    } catch (const YAML::Exception&) {
      problems_.push_back(Name(key) + "=" + text + ": " + allowed);
      return std::nullopt;
    }
  }

  void ReportUnknown() {
    if (!node_.IsMap()) return;
    for (const auto& kv : node_) {
      const std::string k = kv.first.as<std::string>("");
      if (!seen_.count(k)) Problem(k, "unknown key");
    }
  }

 private:
  const YAML::Node& node_;
  std::string prefix_;
  std::vector<std::string>& problems_;
  std::set<std::string> seen_;
};

constexpr double kMaxDuration = 31.0 * 24 * 3600;  // a month of simulated time
constexpr double kMaxRate = 1e9;
constexpr double kMaxPodRateNoise = 0.3;  // so that a factor within ±3σ stays above 0.1

// Parses [[t, rate], ...] pairs into `out`; `where` names the source in problems.
void CheckLoad(const std::vector<LoadPoint>& load, const std::string& where,
               std::vector<std::string>& problems) {
  if (load.empty()) problems.push_back(where + ": must hold at least one [t_seconds, rate] point");
  for (size_t i = 0; i < load.size(); ++i) {
    const auto& p = load[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    if (p.t_seconds < 0) problems.push_back(at + ": t_seconds must be >= 0");
    if (p.messages_per_second < 0 || p.messages_per_second > kMaxRate) {
      problems.push_back(at + ": messages_per_second must be within 0..1e9");
    }
    if (i > 0 && p.t_seconds <= load[i - 1].t_seconds) {
      problems.push_back(at + ": t_seconds must be greater than the previous point's");
    }
  }
}

std::vector<LoadPoint> ParseLoadYaml(const YAML::Node& n, const std::string& where,
                                     std::vector<std::string>& problems) {
  std::vector<LoadPoint> out;
  if (!n.IsSequence()) {
    problems.push_back(where + ": must be a list of [t_seconds, messages_per_second] pairs");
    return out;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node p = n[i];
    try {
      if (!p.IsSequence() || p.size() != 2) throw YAML::Exception(YAML::Mark::null_mark(), "");
      const double t = p[0].as<double>();
      const double r = p[1].as<double>();
      if (!std::isfinite(t) || !std::isfinite(r))
        throw YAML::Exception(YAML::Mark::null_mark(), "");
      out.push_back({t, r});
    } catch (const YAML::Exception&) {
      problems.push_back(where + "[" + std::to_string(i) +
                         "]: must be a pair of numbers [t_seconds, messages_per_second]");
    }
  }
  return out;
}

std::vector<LoadPoint> ParseLoadCsv(const std::filesystem::path& path,
                                    std::vector<std::string>& problems) {
  std::vector<LoadPoint> out;
  std::ifstream in(path);
  if (!in) {
    problems.push_back("load_csv=" + path.string() + ": cannot be read");
    return out;
  }
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line_no == 1 && line.find_first_not_of("0123456789.,-+eE \t") != std::string::npos) {
      continue;  // a header such as "t_seconds,messages_per_second"
    }
    std::istringstream ss(line);
    std::string a, b, rest;
    double t = 0, r = 0;
    bool ok = static_cast<bool>(std::getline(ss, a, ',')) &&
              static_cast<bool>(std::getline(ss, b, ',')) && !std::getline(ss, rest, ',');
    if (ok) {
      try {
        size_t ia = 0, ib = 0;
        t = std::stod(a, &ia);
        r = std::stod(b, &ib);
        ok = a.find_first_not_of(" \t", ia) == std::string::npos &&
             b.find_first_not_of(" \t", ib) == std::string::npos && std::isfinite(t) &&
             std::isfinite(r);
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok) {
      problems.push_back("load_csv line " + std::to_string(line_no) +
                         ": must be t_seconds,messages_per_second (got \"" + line + "\")");
      continue;
    }
    out.push_back({t, r});
  }
  return out;
}

}  // namespace

Result<Scenario> ParseScenario(const std::string& yaml_text,
                               const std::filesystem::path& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("invalid scenario: not YAML: ") + e.what());
  }
  if (!root.IsMap()) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid scenario: the top level must be a map");
  }
  std::vector<std::string> problems;
  Scenario s;
  Reader r(root, "", problems);

  if (r.Has("name")) {
    s.name = r.Get("name").IsScalar() ? r.Get("name").Scalar() : "";
    if (s.name.empty()) r.Problem("name", "must be a non-empty string");
  } else {
    r.Problem("name", "missing; a non-empty string");
  }
  s.duration_seconds = r.Number<double>("duration_seconds", true, 1, kMaxDuration,
                                        "must be a number of seconds within 1..2678400")
                           .value_or(0);
  s.tick_seconds = r.Number<double>("tick_seconds", false, 0.001, 3600,
                                    "must be a number of seconds within 0.001..3600")
                       .value_or(1);
  s.partitions =
      r.Number<int32_t>("partitions", true, 1, 100000, "must be an integer within 1..100000")
          .value_or(0);
  s.initial_replicas =
      r.Number<int32_t>("initial_replicas", false, 0, 100000, "must be an integer within 0..100000")
          .value_or(1);
  s.noise = r.Number<double>("noise", false, 0, 1, "must be a number within 0..1").value_or(0);
  s.seed = r.Number<uint64_t>("seed", false, 0, UINT64_MAX, "must be a non-negative integer")
               .value_or(0);
  std::optional<int64_t> top_threshold = r.Number<int64_t>(
      "threshold", false, 0, INT64_MAX, "must be a non-negative integer (messages)");

  if (r.Has("pod")) {
    const YAML::Node pod = r.Get("pod");
    if (!pod.IsMap()) {
      r.Problem("pod",
                "must be a map with messages_per_second, startup_seconds, rebalance_seconds");
    } else {
      Reader pr(pod, "pod.", problems);
      s.pod.messages_per_second =
          pr.Number<double>("messages_per_second", true, 1e-6, kMaxRate, "must be a number > 0")
              .value_or(0);
      s.pod.startup_seconds = pr.Number<double>("startup_seconds", false, 0, 86400,
                                                "must be a number of seconds within 0..86400")
                                  .value_or(0);
      s.pod.rebalance_seconds = pr.Number<double>("rebalance_seconds", false, 0, 3600,
                                                  "must be a number of seconds within 0..3600")
                                    .value_or(0);
      if (pr.Has("rate_changes")) {
        s.pod.rate_changes = ParseLoadYaml(pr.Get("rate_changes"), "pod.rate_changes", problems);
        CheckLoad(s.pod.rate_changes, "pod.rate_changes", problems);
        for (size_t i = 0; i < s.pod.rate_changes.size(); ++i) {
          if (s.pod.rate_changes[i].messages_per_second <= 0) {
            problems.push_back("pod.rate_changes[" + std::to_string(i) +
                               "]: messages_per_second must be > 0");
          }
        }
      }
      s.pod.rate_noise = pr.Number<double>("rate_noise", false, 0, kMaxPodRateNoise,
                                           "must be a number within 0..0.3")
                             .value_or(0);
      s.pod.rate_noise_seconds =
          pr.Number<double>("rate_noise_seconds", false, 1e-3, 86400,
                            "must be a number of seconds > 0 and at most 86400")
              .value_or(s.pod.rate_noise_seconds);
      pr.ReportUnknown();
    }
  } else {
    r.Problem("pod", "missing; a map with messages_per_second, startup_seconds, rebalance_seconds");
  }

  const bool has_load = r.Has("load");
  const bool has_csv = r.Has("load_csv");
  if (has_load && has_csv) {
    r.Problem("load_csv", "give either load or load_csv, not both");
  } else if (has_load) {
    s.load = ParseLoadYaml(r.Get("load"), "load", problems);
    CheckLoad(s.load, "load", problems);
  } else if (has_csv) {
    const YAML::Node n = r.Get("load_csv");
    if (!n.IsScalar() || n.Scalar().empty()) {
      r.Problem("load_csv", "must be a file path");
    } else {
      std::filesystem::path p(n.Scalar());
      if (p.is_relative()) p = base_dir / p;
      const size_t before = problems.size();
      s.load = ParseLoadCsv(p, problems);
      if (problems.size() == before) CheckLoad(s.load, "load_csv", problems);
    }
  } else {
    r.Problem("load", "missing; a list of [t_seconds, messages_per_second] pairs (or load_csv)");
  }

  if (r.Has("keda_hpa")) {
    const YAML::Node node = r.Get("keda_hpa");
    if (!node.IsMap()) {
      r.Problem("keda_hpa", "must be a map with phase_seconds");
    } else {
      Reader kr(node, "keda_hpa.", problems);
      // Checked once the ticks are known (SetKedaPhase): any number here.
      if (const auto phase =
              kr.Number<double>("phase_seconds", false, -1e9, 1e9, "must be a number of seconds")) {
        if (auto set = SetKedaPhase(s, *phase, "keda_hpa.phase_seconds"); !set) {
          problems.push_back(set.error().message);
        }
      }
      kr.ReportUnknown();
    }
  }

  if (r.Has("stuck_partition")) {
    const YAML::Node node = r.Get("stuck_partition");
    if (!node.IsMap()) {
      r.Problem("stuck_partition", "must be a map with partition, from_seconds, until_seconds");
    } else {
      Reader sr(node, "stuck_partition.", problems);
      StuckEpisode e;
      e.partition = sr.Number<int32_t>("partition", true, 0, 99999,
                                       "must be a partition index within 0..partitions-1")
                        .value_or(-1);
      e.from_seconds = sr.Number<double>("from_seconds", true, 0, kMaxDuration,
                                         "must be a number of seconds within the duration")
                           .value_or(0);
      e.until_seconds = sr.Number<double>("until_seconds", true, 0, kMaxDuration,
                                          "must be a number of seconds within the duration")
                            .value_or(0);
      sr.ReportUnknown();
      if (s.partitions > 0 && e.partition >= s.partitions) {
        sr.Problem("partition", "must be below partitions (" + std::to_string(s.partitions) + ")");
      }
      if (s.partitions == 1) {
        sr.Problem("partition", "needs at least 2 partitions (others must advance)");
      }
      if (e.until_seconds <= e.from_seconds) {
        sr.Problem("until_seconds", "must be after from_seconds");
      }
      s.stuck_partition = e;
    }
  }

  auto& a = s.autoscaler;
  if (r.Has("autoscaler")) {
    const YAML::Node node = r.Get("autoscaler");
    if (!node.IsMap()) {
      r.Problem("autoscaler", "must be a map of knobs");
    } else {
      Reader ar(node, "autoscaler.", problems);
      a.messages_per_pod = ar.Number<int64_t>("messages_per_pod", true, 1, INT32_MAX,
                                              "must be an integer within 1..2147483647")
                               .value_or(0);
      a.min_replicas = ar.Number<int32_t>("min_replicas", false, 0, 100000,
                                          "must be an integer within 0..100000")
                           .value_or(1);
      a.max_replicas =
          ar.Number<int32_t>("max_replicas", true, 1, 100000, "must be an integer within 1..100000")
              .value_or(0);
      a.interval_seconds = ar.Number<int64_t>("interval_seconds", false, 1, 3600,
                                              "must be an integer number of seconds within 1..3600")
                               .value_or(60);
      auto threshold = ar.Number<int64_t>("message_count_threshold", false, 0, INT64_MAX,
                                          "must be a non-negative integer (messages)");
      if (threshold && top_threshold) {
        ar.Problem("message_count_threshold", "give it here or as top-level threshold, not both");
      }
      a.message_count_threshold = threshold.value_or(top_threshold.value_or(kDefaultThreshold));
      auto idle = ar.Number<int32_t>("idle_replicas", false, 0, 100000,
                                     "must be an integer within 0..100000");
      a.idle_replicas = idle.value_or(a.min_replicas);
      a.min_ttl_seconds =
          ar.Number<int64_t>("min_ttl_seconds", false, 0, 604800,
                             "must be an integer number of seconds within 0..604800")
              .value_or(300);
      a.target_drain_seconds =
          ar.Number<int64_t>("target_drain_seconds", false, 1, 604800,
                             "must be an integer number of seconds within 1..604800");
      a.scale_down_window_seconds =
          ar.Number<int64_t>("scale_down_window_seconds", false, 0, 604800,
                             "must be an integer number of seconds within 0..604800");
      a.activation_backlog = ar.Number<int64_t>("activation_backlog", false, 0, INT64_MAX,
                                                "must be a non-negative integer (messages)")
                                 .value_or(0);
      a.stuck_after_seconds =
          ar.Number<int64_t>("stuck_after_seconds", false, 1, 604800,
                             "must be an integer number of seconds within 1..604800")
              .value_or(300);
      if (ar.Has("exclude_stuck_lag")) {
        const YAML::Node n = ar.Get("exclude_stuck_lag");
        const std::string v = n.IsScalar() ? n.Scalar() : "";
        if (v == "true" || v == "false") {
          a.exclude_stuck_lag = v == "true";
        } else {
          ar.Problem("exclude_stuck_lag", "must be true or false");
        }
      }
      a.target_lag_seconds =
          ar.Number<int64_t>("target_lag_seconds", false, 0, 604800,
                             "must be an integer number of seconds within 0..604800 (0 = off)")
              .value_or(0);
      a.target_wait_seconds =
          ar.Number<int64_t>("target_wait_seconds", false, 1, 604800,
                             "must be an integer number of seconds within 1..604800")
              .value_or(20);
      a.cost_ceiling =
          ar.Number<double>("cost_ceiling", false, 0, 10, "must be a number within 0..10 (0 = off)")
              .value_or(AutoscalerKnobs{}.cost_ceiling);
      ar.ReportUnknown();
      if (a.max_replicas > 0 && a.min_replicas > a.max_replicas) {
        ar.Problem("min_replicas",
                   "must be <= max_replicas (" + std::to_string(a.max_replicas) + ")");
      }
      if (idle && *idle > a.min_replicas) {
        ar.Problem("idle_replicas",
                   "must be <= min_replicas (" + std::to_string(a.min_replicas) + ")");
      }
    }
  } else {
    r.Problem("autoscaler",
              "missing; a map with messages_per_pod, min_replicas, max_replicas, interval_seconds");
  }
  const std::optional<int64_t> history =
      r.Number<int64_t>("history_cycles", false, 0, kMaxHistoryCycles,
                        "must be an integer within 0.." + std::to_string(kMaxHistoryCycles));
  r.ReportUnknown();

  // Cross-field rules, only between values that parsed.
  if (s.tick_seconds > 0 && s.duration_seconds > 0 && s.duration_seconds / s.tick_seconds > 1e7) {
    r.Problem("tick_seconds", "too small for duration_seconds (more than 1e7 steps)");
  } else if (history && s.tick_seconds > 0 && s.duration_seconds > 0) {
    if (auto set = SetHistoryCycles(s, *history, "history_cycles"); !set) {
      problems.push_back(set.error().message);
    }
  }
  if (s.tick_seconds > 0 && a.interval_seconds > 0) {
    const auto interval = static_cast<double>(a.interval_seconds);
    if (interval < s.tick_seconds * (1 - 1e-9) || !WholeTicks(interval, s.tick_seconds)) {
      problems.push_back("autoscaler.interval_seconds=" + std::to_string(a.interval_seconds) +
                         ": must be a whole multiple of tick_seconds");
    }
  }

  if (!problems.empty()) {
    Error e{ErrorCode::kInvalidArgument,
            "invalid scenario" + (s.name.empty() ? std::string() : " " + s.name) + " (" +
                std::to_string(problems.size()) +
                (problems.size() == 1 ? " problem)" : " problems)"),
            std::move(problems), std::nullopt};
    return MakeError(std::move(e));
  }
  return s;
}

std::string ScenarioYaml(const Scenario& s) {
  YAML::Emitter e;
  e.SetDoublePrecision(17);
  e << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << s.name;
  e << YAML::Key << "duration_seconds" << YAML::Value << s.duration_seconds;
  e << YAML::Key << "tick_seconds" << YAML::Value << s.tick_seconds;
  e << YAML::Key << "partitions" << YAML::Value << s.partitions;
  e << YAML::Key << "initial_replicas" << YAML::Value << s.initial_replicas;
  e << YAML::Key << "pod" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "messages_per_second" << YAML::Value << s.pod.messages_per_second;
  e << YAML::Key << "startup_seconds" << YAML::Value << s.pod.startup_seconds;
  e << YAML::Key << "rebalance_seconds" << YAML::Value << s.pod.rebalance_seconds;
  if (!s.pod.rate_changes.empty()) {
    e << YAML::Key << "rate_changes" << YAML::Value << YAML::BeginSeq;
    for (const auto& c : s.pod.rate_changes) {
      e << YAML::Flow << YAML::BeginSeq << c.t_seconds << c.messages_per_second << YAML::EndSeq;
    }
    e << YAML::EndSeq;
  }
  if (s.pod.rate_noise > 0) {
    e << YAML::Key << "rate_noise" << YAML::Value << s.pod.rate_noise;
    e << YAML::Key << "rate_noise_seconds" << YAML::Value << s.pod.rate_noise_seconds;
  }
  e << YAML::EndMap;
  e << YAML::Key << "load" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : s.load) {
    e << YAML::Flow << YAML::BeginSeq << p.t_seconds << p.messages_per_second << YAML::EndSeq;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "noise" << YAML::Value << s.noise;
  e << YAML::Key << "seed" << YAML::Value << s.seed;
  const auto& a = s.autoscaler;
  e << YAML::Key << "autoscaler" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "messages_per_pod" << YAML::Value << a.messages_per_pod;
  e << YAML::Key << "min_replicas" << YAML::Value << a.min_replicas;
  e << YAML::Key << "max_replicas" << YAML::Value << a.max_replicas;
  e << YAML::Key << "interval_seconds" << YAML::Value << a.interval_seconds;
  e << YAML::Key << "message_count_threshold" << YAML::Value << a.message_count_threshold;
  e << YAML::Key << "idle_replicas" << YAML::Value << a.idle_replicas;
  e << YAML::Key << "min_ttl_seconds" << YAML::Value << a.min_ttl_seconds;
  if (a.target_drain_seconds) {
    e << YAML::Key << "target_drain_seconds" << YAML::Value << *a.target_drain_seconds;
  }
  if (a.scale_down_window_seconds) {
    e << YAML::Key << "scale_down_window_seconds" << YAML::Value << *a.scale_down_window_seconds;
  }
  e << YAML::Key << "activation_backlog" << YAML::Value << a.activation_backlog;
  e << YAML::Key << "stuck_after_seconds" << YAML::Value << a.stuck_after_seconds;
  e << YAML::Key << "exclude_stuck_lag" << YAML::Value << a.exclude_stuck_lag;
  e << YAML::Key << "target_lag_seconds" << YAML::Value << a.target_lag_seconds;
  e << YAML::Key << "target_wait_seconds" << YAML::Value << a.target_wait_seconds;
  e << YAML::Key << "cost_ceiling" << YAML::Value << a.cost_ceiling;
  e << YAML::EndMap;
  if (s.keda_phase_seconds > 0) {
    e << YAML::Key << "keda_hpa" << YAML::Value << YAML::Flow << YAML::BeginMap;
    e << YAML::Key << "phase_seconds" << YAML::Value << s.keda_phase_seconds;
    e << YAML::EndMap;
  }
  if (s.stuck_partition) {
    e << YAML::Key << "stuck_partition" << YAML::Value << YAML::Flow << YAML::BeginMap;
    e << YAML::Key << "partition" << YAML::Value << s.stuck_partition->partition;
    e << YAML::Key << "from_seconds" << YAML::Value << s.stuck_partition->from_seconds;
    e << YAML::Key << "until_seconds" << YAML::Value << s.stuck_partition->until_seconds;
    e << YAML::EndMap;
  }
  if (s.history_cycles > 0) e << YAML::Key << "history_cycles" << YAML::Value << s.history_cycles;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

Result<Scenario> LoadScenario(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return MakeError(ErrorCode::kNotFound, "scenario " + path.string() + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ParseScenario(ss.str(), path.parent_path());
  if (!s) return MakeError(s.error().WithContext(path.string()));
  return s;
}

}  // namespace kafka_autoscaler::sim
