#include "sim/simulate.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "sim/generate.h"
#include "sim/svg_chart.h"

namespace kafka_autoscaler::sim {

namespace {

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

struct Column {
  const char* name;
  std::string (*value)(const Metrics&);
};

const std::vector<Column>& Columns() {
  static const std::vector<Column> kColumns = {
      {"p50_wait_s", [](const Metrics& m) { return Fixed(m.p50_wait_seconds, 1); }},
      {"p99_wait_s", [](const Metrics& m) { return Fixed(m.p99_wait_seconds, 1); }},
      {"max_wait_s", [](const Metrics& m) { return Fixed(m.max_wait_seconds, 1); }},
      {"max_backlog", [](const Metrics& m) { return std::to_string(m.max_backlog); }},
      {"pod_seconds", [](const Metrics& m) { return Fixed(m.pod_seconds, 0); }},
      {"scale_events", [](const Metrics& m) { return std::to_string(m.scale_events); }},
      {"s_above_threshold", [](const Metrics& m) { return Fixed(m.seconds_above_threshold, 0); }},
      {"clairvoyant_pod_s", [](const Metrics& m) { return Fixed(m.clairvoyant_pod_seconds, 0); }},
      {"cost_x_clairvoyant",
       [](const Metrics& m) {
         return Fixed(m.clairvoyant_pod_seconds > 0 ? m.pod_seconds / m.clairvoyant_pod_seconds : 0,
                      2);
       }},
  };
  return kColumns;
}

[[nodiscard]] bool WriteFile(const std::filesystem::path& path, const std::string& content,
                             std::ostream& err) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  f.close();
  if (!f) {
    err << "simulate: cannot write " << path.string() << "\n";
    return false;
  }
  return true;
}

std::string TimelineCsv(const Workload& w, const Scenario& s, const std::vector<PolicyRun>& runs) {
  std::ostringstream o;
  o << "t_seconds,produced_per_second,clairvoyant_replicas";
  for (const auto& r : runs) o << ",backlog_" << r.policy << ",replicas_" << r.policy;
  o << "\n";
  for (size_t k = 0; k < w.arrivals.size(); ++k) {
    o << Fixed(static_cast<double>(k) * s.tick_seconds, 1) << ","
      << Fixed(static_cast<double>(w.arrivals[k]) / s.tick_seconds, 1) << "," << w.clairvoyant[k];
    for (const auto& r : runs) o << "," << r.backlog[k] << "," << r.replicas[k];
    o << "\n";
  }
  return o.str();
}

// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::string DecisionsCsv(const std::vector<PolicyRun>& runs) {
  std::vector<std::string> keys;  // every attribute seen, in first-seen order
  for (const auto& r : runs) {
    for (const auto& d : r.decisions) {
      for (const auto& [key, value] : d.attributes) {
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      }
    }
  }
  std::ostringstream o;
  o << "t_seconds,policy";
  for (const auto& k : keys) o << "," << CsvField(k);
  o << "\n";
  std::vector<const std::string*> row(keys.size());
  for (const auto& r : runs) {
    for (const auto& d : r.decisions) {
      std::fill(row.begin(), row.end(), nullptr);
      for (const auto& [key, value] : d.attributes) {
        row[static_cast<size_t>(std::find(keys.begin(), keys.end(), key) - keys.begin())] = &value;
      }
      o << Fixed(d.t_seconds, 1) << "," << r.policy;
      for (const auto* v : row) o << "," << (v ? CsvField(*v) : std::string());
      o << "\n";
    }
  }
  return o.str();
}

std::string SummaryCsv(const Scenario& s, const std::vector<PolicyRun>& runs) {
  std::ostringstream o;
  o << "scenario,policy";
  for (const auto& c : Columns()) o << "," << c.name;
  o << "\n";
  for (const auto& r : runs) {
    o << s.name << "," << r.policy;
    for (const auto& c : Columns()) o << "," << c.value(r.metrics);
    o << "\n";
  }
  return o.str();
}

std::string SummaryTable(const Scenario& s, const std::vector<PolicyRun>& runs) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"policy"};
  for (const auto& c : Columns()) header.push_back(c.name);
  rows.push_back(header);
  for (const auto& r : runs) {
    std::vector<std::string> row = {r.policy};
    for (const auto& c : Columns()) row.push_back(c.value(r.metrics));
    rows.push_back(row);
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::ostringstream o;
  o << "scenario " << s.name << ": " << Fixed(s.duration_seconds, 0) << " s, " << s.partitions
    << " partitions, pod " << Fixed(s.pod.messages_per_second, 0) << " msg/s, startup "
    << Fixed(s.pod.startup_seconds, 0) << " s, rebalance " << Fixed(s.pod.rebalance_seconds, 0)
    << " s, threshold " << s.autoscaler.message_count_threshold;
  if (s.keda_phase_seconds > 0) {
    o << "; keda-hpa's poll and sync " << s.keda_phase_seconds << " s into their periods";
  }
  if (s.history_cycles > 0) {
    o << "; measured after " << s.history_cycles << " earlier cycle"
      << (s.history_cycles == 1 ? "" : "s") << " of the same load";
    if (s.restart_after_history != Scenario::Restart::kNone) {
      o << ", then a restart "
        << (s.restart_after_history == Scenario::Restart::kKept ? "that kept what was learned"
                                                                : "that starts cold");
    }
  }
  o << "\n";
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i == 0) {
        o << row[i] << std::string(width[i] - row[i].size(), ' ');
      } else {
        o << "  " << std::string(width[i] - row[i].size(), ' ') << row[i];
      }
    }
    o << "\n";
  }
  return o.str();
}

std::string ScenarioSvg(const Scenario& s, const Workload& w, const std::vector<PolicyRun>& runs) {
  Chart chart;
  chart.title = "simulate: " + s.name;
  chart.subtitle = std::to_string(s.partitions) + " partitions, pod " +
                   Fixed(s.pod.messages_per_second, 0) + " msg/s, startup " +
                   Fixed(s.pod.startup_seconds, 0) + " s, rebalance " +
                   Fixed(s.pod.rebalance_seconds, 0) + " s, messages_per_pod " +
                   std::to_string(s.autoscaler.messages_per_pod);
  chart.x_step = s.tick_seconds;
  ChartPanel load{"load", "messages / s", {}};
  ChartSeries produced{"produced", {}, "#555555"};
  for (int64_t a : w.arrivals) produced.values.push_back(static_cast<double>(a) / s.tick_seconds);
  load.series.push_back(std::move(produced));
  ChartPanel backlog{"backlog", "messages", {}};
  ChartPanel replicas{"replicas", "pods", {}};
  for (const auto& r : runs) {
    ChartSeries b{r.policy, {}};
    b.values.assign(r.backlog.begin(), r.backlog.end());
    backlog.series.push_back(std::move(b));
    ChartSeries p{r.policy, {}};
    p.values.assign(r.replicas.begin(), r.replicas.end());
    p.step = true;
    replicas.series.push_back(std::move(p));
  }
  ChartSeries oracle{"clairvoyant", {}, "#999999", /*dashed=*/true, /*step=*/true};
  oracle.values.assign(w.clairvoyant.begin(), w.clairvoyant.end());
  replicas.series.push_back(std::move(oracle));
  chart.panels = {std::move(load), std::move(backlog), std::move(replicas)};
  return RenderSvg(chart);
}

std::string SeedsTable(const std::vector<std::vector<PolicyRun>>& per_seed) {
  std::ostringstream o;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-15s %17s %21s %17s\n", "policy", "p99_s med/worst",
                "pod_s med/worst", "events med/worst");
  o << buf;
  if (per_seed.empty()) return o.str();
  for (size_t p = 0; p < per_seed.front().size(); ++p) {
    std::vector<double> p99, pod_s, events;
    for (const auto& runs : per_seed) {
      p99.push_back(runs[p].metrics.p99_wait_seconds);
      pod_s.push_back(runs[p].metrics.pod_seconds);
      events.push_back(static_cast<double>(runs[p].metrics.scale_events));
    }
    auto worst = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
    std::snprintf(buf, sizeof buf, "%-15s %8.1f/%-8.1f %10.0f/%-10.0f %8.0f/%-8.0f\n",
                  per_seed.front()[p].policy.c_str(), Median(p99), worst(p99), Median(pod_s),
                  worst(pod_s), Median(events), worst(events));
    o << buf;
  }
  return o.str();
}

Result<void> ApplyTargetWait(Scenario& s, const std::string& target_wait) {
  if (target_wait.empty()) return {};
  if (target_wait == "lag-threshold") {
    const double seconds =
        static_cast<double>(s.autoscaler.messages_per_pod) / s.pod.messages_per_second;
    s.autoscaler.target_wait_seconds = std::clamp<int64_t>(std::llround(seconds), 1, 604800);
    return {};
  }
  int64_t seconds = 0;
  const char* end = target_wait.data() + target_wait.size();
  const auto [ptr, ec] = std::from_chars(target_wait.data(), end, seconds);
  if (ec != std::errc() || ptr != end || seconds < 1 || seconds > 604800) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--target-wait " + target_wait +
                         ": must be a whole number of seconds within 1..604800, or lag-threshold");
  }
  s.autoscaler.target_wait_seconds = seconds;
  return {};
}

namespace {

// The options that override a scenario's own settings: --target-wait, --keda-phase, then
// --history.
[[nodiscard]] Result<void> ApplyOverrides(Scenario& s, const SimulateOptions& options) {
  if (auto applied = ApplyTargetWait(s, options.target_wait); !applied) return applied;
  if (options.keda_phase) {
    if (auto set = SetKedaPhase(s, *options.keda_phase, "--keda-phase"); !set) return set;
  }
  if (options.history >= 0) {
    if (auto set = SetHistoryCycles(s, options.history, "--history"); !set) return set;
  }
  if (options.restart.empty()) return {};
  if (options.restart != "cold" && options.restart != "kept") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--restart " + options.restart + ": must be cold or kept");
  }
  if (s.history_cycles < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--restart " + options.restart +
                         ": restarts between the history and the measured cycle; needs "
                         "--history N (N >= 1) or the scenario's history_cycles");
  }
  s.restart_after_history =
      options.restart == "kept" ? Scenario::Restart::kKept : Scenario::Restart::kCold;
  return {};
}

[[nodiscard]] bool CheckPolicies(const std::vector<std::string>& policies, std::ostream& err) {
  for (const auto& p : policies) {
    if (std::find(KnownPolicies().begin(), KnownPolicies().end(), p) == KnownPolicies().end()) {
      err << "simulate: unknown policy \"" << p
          << "\"; known: messages, keda-hpa, rate, wait, wait-predict, reactive-bound\n";
      return false;
    }
  }
  return true;
}

int RunGenerate(const SimulateOptions& options, std::ostream& out, std::ostream& err) {
  auto scenarios = GenerateScenarios(options.generate, options.count, options.generate_seed);
  if (!scenarios) {
    err << "simulate: " << scenarios.error().ToString() << "\n";
    return kExitInvalid;
  }
  std::vector<std::string> policies = options.policies;
  if (policies.empty()) policies = KnownPolicies();
  if (!CheckPolicies(policies, err)) return kExitInvalid;
  for (auto& s : *scenarios) {
    if (auto applied = ApplyOverrides(s, options); !applied) {
      err << "simulate: " << applied.error().ToString() << "\n";
      return kExitInvalid;
    }
  }
  auto table = RunGenerated(*scenarios, options.seeds, policies);
  if (!table) {
    err << "simulate: " << table.error().ToString() << "\n";
    return kExitInvalid;
  }
  out << "generated: family " << options.generate << ", " << options.count << " scenarios, seed "
      << options.generate_seed << ", " << options.seeds << " noise seeds each\n"
      << ReportTable(SummarizeAgainstKeda(*table));
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  std::ostringstream csv;
  csv << "scenario,noise_seed,policy,p99_wait_s,pod_seconds,scale_events\n";
  for (const auto& r : *table) {
    csv << r.scenario << "," << r.noise_seed << "," << r.policy << ","
        << Fixed(r.metrics.p99_wait_seconds, 1) << "," << Fixed(r.metrics.pod_seconds, 0) << ","
        << r.metrics.scale_events << "\n";
  }
  const auto path = (options.out_dir / ("generated-" + options.generate + ".csv")).string();
  if (ec || !WriteFile(path, csv.str(), err)) return kExitIo;
  // Each scenario as replayed, so that any row can be replayed alone with --scenario
  // (--seeds 3 gives the noise seeds of the report).
  const auto dir = options.out_dir / "scenarios";
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    err << "simulate: " << dir.string() << ": " << ec.message() << "\n";
    return kExitIo;
  }
  for (const auto& s : *scenarios) {
    if (!WriteFile((dir / (s.name + ".yaml")).string(), ScenarioYaml(s), err)) return kExitIo;
  }
  out << "wrote " << path << " and " << scenarios->size() << " scenarios in " << dir.string()
      << "\n";
  return kExitOk;
}

}  // namespace

int RunSimulate(const SimulateOptions& options, std::ostream& out, std::ostream& err) {
  if (!options.generate.empty()) return RunGenerate(options, out, err);
  auto scenario = LoadScenario(options.scenario);
  if (!scenario) {
    err << "simulate: " << scenario.error().ToString() << "\n";
    return kExitInvalid;
  }
  if (auto applied = ApplyOverrides(*scenario, options); !applied) {
    err << "simulate: " << applied.error().ToString() << "\n";
    return kExitInvalid;
  }
  std::vector<std::string> policies = options.policies;
  if (policies.empty()) policies = KnownPolicies();
  if (!CheckPolicies(policies, err)) return kExitInvalid;
  const Workload workload = BuildWorkload(*scenario);
  std::vector<PolicyRun> runs;
  for (const auto& p : policies) {
    auto run = RunPolicy(*scenario, workload, p);
    if (!run) {
      err << "simulate: " << run.error().ToString() << "\n";
      return kExitInvalid;
    }
    runs.push_back(std::move(*run));
  }
  out << SummaryTable(*scenario, runs);
  for (const auto& r : runs) {
    if (!r.detail.empty()) out << r.policy << ": " << r.detail << "\n";
  }
  if (options.seeds > 1) {
    std::vector<std::vector<PolicyRun>> per_seed = {runs};
    for (int k = 1; k < options.seeds; ++k) {
      Scenario s = *scenario;
      s.seed = scenario->seed + static_cast<uint64_t>(k);
      const Workload w = BuildWorkload(s);
      std::vector<PolicyRun> seed_runs;
      for (const auto& p : policies) {
        auto run = RunPolicy(s, w, p);
        if (!run) return kExitInvalid;
        seed_runs.push_back(std::move(*run));
      }
      per_seed.push_back(std::move(seed_runs));
    }
    out << "over " << options.seeds << " noise seeds (" << scenario->seed << ".."
        << scenario->seed + static_cast<uint64_t>(options.seeds) - 1 << "):\n"
        << SeedsTable(per_seed);
  }

  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    err << "simulate: cannot create " << options.out_dir.string() << ": " << ec.message() << "\n";
    return kExitIo;
  }
  const auto base = options.out_dir / scenario->name;
  const auto csv = base.string() + ".csv";
  const auto timeline = base.string() + "-timeline.csv";
  const auto svg = base.string() + ".svg";
  const auto decisions = base.string() + "-decisions.csv";
  const bool any_decisions = std::any_of(runs.begin(), runs.end(),
                                         [](const PolicyRun& r) { return !r.decisions.empty(); });
  const Workload measured = MeasuredPart(*scenario, workload);
  if (!WriteFile(csv, SummaryCsv(*scenario, runs), err) ||
      !WriteFile(timeline, TimelineCsv(measured, *scenario, runs), err) ||
      !WriteFile(svg, ScenarioSvg(*scenario, measured, runs), err) ||
      (any_decisions && !WriteFile(decisions, DecisionsCsv(runs), err))) {
    return kExitIo;
  }
  out << "wrote " << csv << ", " << timeline << ", " << svg;
  if (any_decisions) out << ", " << decisions;
  out << "\n";
  return kExitOk;
}

}  // namespace kafka_autoscaler::sim
