#include "sim/generate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

namespace kafka_autoscaler::sim {

namespace {

constexpr double kDuration = 3600;

class Draw {
 public:
  explicit Draw(uint64_t seed) : rng_(seed) {}
  double Uniform(double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(rng_() >> 11) * 0x1.0p-53);
  }
  int Pick(int n) { return std::min(n - 1, static_cast<int>(Uniform(0, n))); }
  double Exponential(double mean) { return -mean * std::log(1.0 - Uniform(0, 1) * 0.999999); }
  double Pareto(double alpha) { return std::pow(1.0 - Uniform(0, 1) * 0.999999, -1.0 / alpha); }

 private:
  std::mt19937_64 rng_;
};

// Load points with strictly increasing times inside the duration.
class Curve {
 public:
  void Add(double t, double v) {
    t = std::round(t);
    if (!points_.empty() && t <= points_.back().t_seconds) t = points_.back().t_seconds + 1;
    if (t > kDuration) return;
    points_.push_back({t, std::max(0.0, v)});
  }
  // Holds the current level until t, then ramps to v within `ramp` seconds.
  void Step(double t, double v, double ramp = 2) {
    Add(t, Last());
    Add(t + ramp, v);
  }
  double Last() const { return points_.empty() ? 0 : points_.back().messages_per_second; }
  std::vector<LoadPoint> Take() { return std::move(points_); }

 private:
  std::vector<LoadPoint> points_;
};

void RandomLevels(Draw& d, Curve& c, double capacity) {
  c.Add(0, d.Uniform(0.05, 0.8) * capacity);
  for (double t = d.Uniform(120, 600); t < kDuration; t += d.Uniform(120, 600)) {
    c.Step(t, d.Uniform(0.05, 0.8) * capacity, d.Uniform(2, 60));
  }
}

Scenario One(const std::string& family, int index, Draw& d) {
  Scenario s;
  s.name = family + "-" + std::to_string(index);
  s.duration_seconds = kDuration;
  s.tick_seconds = 1;
  const int32_t partition_choices[] = {6, 8, 12, 16, 24, 32};
  s.partitions = partition_choices[d.Pick(6)];
  s.pod.messages_per_second = std::round(d.Uniform(20, 200));
  s.pod.startup_seconds = std::round(d.Uniform(10, 45));
  s.pod.rebalance_seconds = std::round(d.Uniform(2, 8));
  s.noise = std::round(d.Uniform(0.02, 0.1) * 100) / 100;
  if (family == "few-partitions") s.partitions = 1 + d.Pick(4);
  if (family == "many-partitions") {
    const int32_t many[] = {64, 96, 128};
    s.partitions = many[d.Pick(3)];
  }
  if (family == "slow-start") s.pod.startup_seconds = std::round(d.Uniform(60, 180));
  if (family == "fast-start") s.pod.startup_seconds = std::round(d.Uniform(1, 8));
  if (family == "jitter") s.noise = std::array<double, 3>{0.1, 0.25, 0.5}[index % 3];
  const double cap = s.partitions * s.pod.messages_per_second;
  Curve c;
  if (family == "heavy-tail") {
    const double base = d.Uniform(0.05, 0.2) * cap;
    const double gap = d.Uniform(200, 600);
    c.Add(0, base);
    for (double t = d.Exponential(gap); t < kDuration; t += d.Exponential(gap)) {
      const double len = d.Uniform(10, 120);
      c.Step(t, std::min(2 * cap, base * d.Pareto(1.5)));
      c.Step(t + len, base);
      t += len;
    }
  } else if (family == "jitter") {
    const double mid = d.Uniform(0.2, 0.6) * cap;
    const double period = d.Uniform(600, 3600);
    for (double t = 0; t <= kDuration; t += 60) {
      c.Add(t, mid * (1 + 0.3 * std::sin(2 * M_PI * t / period)));
    }
  } else if (family == "idle-gaps") {
    double t = 0;
    c.Add(0, 0);
    while (t < kDuration) {
      t += d.Uniform(120, 900);
      c.Step(t, d.Uniform(0.1, 0.6) * cap);
      t += d.Uniform(120, 600);
      c.Step(t, 0);
    }
  } else if (family == "periodic") {
    const double period = d.Uniform(300, 1200);
    const double size = d.Uniform(0.5, 3.0) * cap;
    const double len = d.Uniform(5, 30);
    c.Add(0, 0);
    for (double t = d.Uniform(30, period); t < kDuration; t += period) {
      c.Step(t, size, 1);
      c.Step(t + len, 0, 1);
    }
  } else if (family == "overload") {
    const double base = d.Uniform(0.2, 0.5) * cap;
    const double start = d.Uniform(300, 1800);
    c.Add(0, base);
    c.Step(start, d.Uniform(1.1, 1.8) * cap, 10);
    c.Step(start + d.Uniform(120, 600), base, 10);
  } else if (family == "ramps") {
    // Linear moves between random levels, each over U(120, 900) s, held U(0, 300) s.
    c.Add(0, d.Uniform(0.05, 0.8) * cap);
    for (double t = d.Uniform(0, 300); t < kDuration; t += d.Uniform(0, 300)) {
      const double len = d.Uniform(120, 900);
      c.Step(t, d.Uniform(0.05, 0.8) * cap, len);
      t += len;
    }
  } else if (family == "spike-decay") {
    const double base = d.Uniform(0.05, 0.2) * cap;
    const double gap = d.Uniform(400, 1200);
    c.Add(0, base);
    for (double t = d.Exponential(gap); t < kDuration; t += d.Exponential(gap)) {
      const double peak = d.Uniform(0.5, 1.5) * cap;
      const double tau = d.Uniform(20, 200);  // the excess halves every tau × ln 2 seconds
      c.Step(t, peak);
      for (double a = 10; a <= 5 * tau; a += 10) {
        c.Add(t + 2 + a, base + (peak - base) * std::exp(-a / tau));
      }
      c.Add(t + 2 + 5 * tau + 10, base);
      t += 5 * tau + 12;
    }
  } else if (family == "sawtooth") {
    const double low = d.Uniform(0.05, 0.2) * cap;
    const double high = d.Uniform(0.4, 1.0) * cap;
    const double rise = d.Uniform(300, 900);
    c.Add(0, low);
    for (double t = d.Uniform(0, rise); t < kDuration; t += rise) {
      c.Add(t, low);
      c.Add(t + rise - 2, high);
    }
  } else if (family == "trend") {
    // The hour's load grows (or, one time in two, shrinks) several-fold, with a slow wave on it.
    double from = d.Uniform(0.05, 0.2) * cap, to = d.Uniform(0.5, 1.0) * cap;
    if (d.Pick(2) == 1) std::swap(from, to);
    const double wave = d.Uniform(0, 0.2), period = d.Uniform(600, 1800);
    for (double t = 0; t <= kDuration; t += 60) {
      c.Add(t, (from + (to - from) * t / kDuration) * (1 + wave * std::sin(2 * M_PI * t / period)));
    }
  } else if (family == "mixed") {
    // Batches on top of a daily-like wave: both shapes at once.
    const double mid = d.Uniform(0.2, 0.5) * cap;
    const double period = d.Uniform(1200, 3600);
    const double every = d.Uniform(300, 900), size = d.Uniform(0.5, 2.0) * cap;
    const double len = d.Uniform(5, 30);
    const auto wave = [&](double t) { return mid * (1 + 0.4 * std::sin(2 * M_PI * t / period)); };
    double t = 0;
    for (double batch = d.Uniform(30, every); t <= kDuration; batch += every) {
      for (; t < batch && t <= kDuration; t += 60) c.Add(t, wave(t));
      if (batch > kDuration) break;
      c.Add(batch, wave(batch));
      c.Add(batch + 1, wave(batch) + size);
      c.Add(batch + 1 + len, wave(batch + 1 + len) + size);
      c.Add(batch + 2 + len, wave(batch + 2 + len));
      t = batch + 2 + len + 60;
    }
  } else {
    RandomLevels(d, c, cap);
  }
  s.load = c.Take();
  if (s.load.empty()) s.load = {{0, 0}};
  if (family == "pod-shift") {
    // One pod's rate changes once or twice within the hour (a slower downstream, a new image),
    // by a factor within 0.5..2 each time: a model of the pods learned earlier goes stale.
    double t = d.Uniform(600, 2400);
    for (int k = 0, changes = 1 + d.Pick(2); k < changes && t < kDuration - 300; ++k) {
      const double before = s.pod.rate_changes.empty()
                                ? s.pod.messages_per_second
                                : s.pod.rate_changes.back().messages_per_second;
      const double factor = std::exp(d.Uniform(std::log(0.5), std::log(2.0)));
      s.pod.rate_changes.push_back({std::round(t), std::max(1.0, std::round(before * factor))});
      t += d.Uniform(600, 1200);
    }
  }
  s.initial_replicas = 1;
  s.seed = 0;
  s.autoscaler.messages_per_pod =
      std::max<int64_t>(1, std::llround(s.pod.messages_per_second * d.Uniform(10, 60)));
  s.autoscaler.min_replicas = 1;
  s.autoscaler.max_replicas = s.partitions;
  s.autoscaler.interval_seconds = 15;
  s.autoscaler.idle_replicas = 1;
  return s;
}

std::string FamilyOf(const std::string& name) {
  const auto dash = name.rfind('-');
  return dash == std::string::npos ? name : name.substr(0, dash);
}

}  // namespace

const std::vector<std::string>& GeneratorFamilies() {
  static const std::vector<std::string> kFamilies = {
      "heavy-tail", "jitter",     "idle-gaps",      "periodic",       "overload",
      "slow-start", "fast-start", "few-partitions", "many-partitions"};
  return kFamilies;
}

const std::vector<std::string>& MoreFamilies() {
  static const std::vector<std::string> kFamilies = {"ramps", "spike-decay", "sawtooth", "trend",
                                                     "mixed"};
  return kFamilies;
}

const std::vector<std::string>& StandaloneFamilies() {
  static const std::vector<std::string> kFamilies = {"pod-shift"};
  return kFamilies;
}

Result<std::vector<Scenario>> GenerateScenarios(const std::string& family, int count,
                                                uint64_t seed) {
  bool known = family == "all" || family == "more";
  std::string names = "all, more";
  for (const auto* group : {&GeneratorFamilies(), &MoreFamilies(), &StandaloneFamilies()}) {
    for (const auto& f : *group) {
      known |= f == family;
      names += ", " + f;
    }
  }
  if (!known) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "unknown family \"" + family + "\" (known: " + names + ")");
  }
  const std::vector<std::string> one = {family};
  const auto& deal = family == "all"    ? GeneratorFamilies()
                     : family == "more" ? MoreFamilies()
                                        : one;
  std::vector<Scenario> out;
  Draw d(seed);
  for (int i = 0; i < count; ++i)
    out.push_back(One(deal[static_cast<size_t>(i) % deal.size()], i, d));
  return out;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<PolicySummary> SummarizeAgainstKeda(const std::vector<CaseResult>& table) {
  // scenario → policy → the three measures over noise seeds.
  struct Measures {
    std::vector<double> p99, pod_s, events;
  };
  std::map<std::string, std::map<std::string, Measures>> by;
  std::vector<std::string> policies;
  for (const auto& r : table) {
    auto& m = by[r.scenario][r.policy];
    m.p99.push_back(r.metrics.p99_wait_seconds);
    m.pod_s.push_back(r.metrics.pod_seconds);
    m.events.push_back(static_cast<double>(r.metrics.scale_events));
    if (r.policy != "keda-hpa" &&
        std::find(policies.begin(), policies.end(), r.policy) == policies.end()) {
      policies.push_back(r.policy);
    }
  }
  std::vector<PolicySummary> out;
  for (const auto& p : policies) {
    PolicySummary s;
    s.policy = p;
    std::vector<double> p99, pod_s, events;
    for (const auto& [scenario, per_policy] : by) {
      const auto keda = per_policy.find("keda-hpa");
      const auto mine = per_policy.find(p);
      if (keda == per_policy.end() || mine == per_policy.end()) continue;
      const double kp = Median(keda->second.p99), kc = Median(keda->second.pod_s),
                   ke = Median(keda->second.events);
      const double mp = Median(mine->second.p99), mc = Median(mine->second.pod_s),
                   me = Median(mine->second.events);
      ++s.scenarios;
      const bool win = mp < kp && mc < kc && me < ke;
      if (win) ++s.wins;
      if (mc > 1.05 * kc) ++s.pod_s_over_5pct;
      auto& fw = s.family_wins[FamilyOf(scenario)];
      fw.first += win ? 1 : 0;
      fw.second += 1;
      p99.push_back(kp > 0 ? mp / kp : (mp > 0 ? 1e9 : 1));
      pod_s.push_back(kc > 0 ? mc / kc : (mc > 0 ? 1e9 : 1));
      events.push_back((me + 1) / (ke + 1));
    }
    auto worst = [](const std::vector<double>& v) {
      return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
    };
    s.p99_median = Median(p99);
    s.p99_worst = worst(p99);
    s.pod_s_median = Median(pod_s);
    s.pod_s_worst = worst(pod_s);
    s.events_median = Median(events);
    s.events_worst = worst(events);
    out.push_back(std::move(s));
  }
  return out;
}

std::string ReportTable(const std::vector<PolicySummary>& summaries) {
  std::ostringstream o;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-15s %9s %7s %15s %15s %15s %10s\n", "policy", "scenarios",
                "beats", "p99 med/worst", "pod_s med/worst", "events med/wst", "pod_s>5%");
  o << buf;
  for (const auto& s : summaries) {
    const double share = s.scenarios > 0 ? 100.0 * s.wins / s.scenarios : 0;
    std::snprintf(buf, sizeof buf,
                  "%-15s %9d %6.1f%% %7.2f/%-7.2f %7.2f/%-7.2f %7.2f/%-7.2f %10d\n",
                  s.policy.c_str(), s.scenarios, share, s.p99_median, s.p99_worst, s.pod_s_median,
                  s.pod_s_worst, s.events_median, s.events_worst, s.pod_s_over_5pct);
    o << buf;
  }
  o << "\nshare of scenarios beating keda-hpa on all three, per family:\n";
  std::snprintf(buf, sizeof buf, "%-16s", "family");
  o << buf;
  for (const auto& s : summaries) {
    std::snprintf(buf, sizeof buf, " %15s", s.policy.c_str());
    o << buf;
  }
  o << "\n";
  if (!summaries.empty()) {
    for (const auto& [family, _] : summaries.front().family_wins) {
      std::snprintf(buf, sizeof buf, "%-16s", family.c_str());
      o << buf;
      for (const auto& s : summaries) {
        const auto it = s.family_wins.find(family);
        const auto [w, n] = it == s.family_wins.end() ? std::pair<int, int>{0, 0} : it->second;
        std::snprintf(buf, sizeof buf, " %8d/%-6d", w, n);
        o << buf;
      }
      o << "\n";
    }
  }
  return o.str();
}

Result<std::vector<CaseResult>> RunGenerated(const std::vector<Scenario>& scenarios,
                                             int noise_seeds,
                                             const std::vector<std::string>& policies) {
  std::vector<std::string> all = {"keda-hpa"};
  for (const auto& p : policies) {
    if (p != "keda-hpa") all.push_back(p);
  }
  std::vector<CaseResult> out;
  for (const auto& base : scenarios) {
    for (int k = 0; k < noise_seeds; ++k) {
      Scenario s = base;
      s.seed = static_cast<uint64_t>(k);
      const Workload w = BuildWorkload(s);
      for (const auto& p : all) {
        auto run = RunPolicy(s, w, p);
        if (!run) return MakeError(run.error());
        out.push_back({s.name, p, k, run->metrics});
      }
    }
  }
  return out;
}

}  // namespace kafka_autoscaler::sim
