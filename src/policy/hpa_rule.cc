#include "policy/hpa_rule.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace kafka_autoscaler::policy {

int64_t HpaCappedLag(const HpaRule& rule, int64_t total_lag) {
  if (rule.allow_idle_consumers || rule.partitions <= 0) return total_lag;
  const int64_t upper = rule.partitions;
  if (total_lag / rule.lag_threshold > upper) return upper * rule.lag_threshold;
  return total_lag;
}

int32_t HpaProposal(const HpaRule& rule, int64_t metric, int32_t spec) {
  const double target = static_cast<double>(rule.lag_threshold);
  const double usage = static_cast<double>(metric);
  const double ratio = usage / (target * static_cast<double>(spec));
  if (std::fabs(1.0 - ratio) <= rule.tolerance) return spec;
  return static_cast<int32_t>(std::min<double>(std::ceil(usage / target), 1e6));
}

namespace {

// Rules 5 and 6: the proposal, stabilized. Scale-up window 0 (the proposal itself); scale-down:
// the highest recommendation within the window, this one included (remembered).
int32_t Stabilized(const HpaRule& rule, HpaMemory& memory, double now, int64_t metric,
                   int32_t current) {
  const int32_t proposal = HpaProposal(rule, metric, current);
  auto& recommendations = memory.recommendations;
  recommendations.erase(
      recommendations.begin(),
      std::find_if(recommendations.begin(), recommendations.end(),
                   [&](const auto& r) { return r.at > now - rule.scale_down_window_seconds; }));
  int32_t down = proposal;
  for (const auto& r : recommendations) down = std::max(down, r.replicas);
  recommendations.push_back({now, proposal});
  return std::clamp(current, proposal, down);
}

}  // namespace

int32_t HpaStabilized(const HpaRule& rule, HpaMemory& memory, double now, int64_t metric,
                      int32_t current) {
  return std::clamp(Stabilized(rule, memory, now, metric, current), std::max(rule.min_replicas, 1),
                    rule.max_replicas);
}

int32_t HpaSync(const HpaRule& rule, HpaMemory& memory, double now, int64_t metric,
                int32_t current) {
  int32_t desired = Stabilized(rule, memory, now, metric, current);

  // Rule 7: rate limits relative to the replicas at the start of the period.
  auto& events = memory.events;
  events.erase(events.begin(), std::find_if(events.begin(), events.end(), [&](const auto& e) {
                 return e.at > now - rule.scale_up_period_seconds;
               }));
  int32_t changed_in_period = 0;
  for (const auto& e : events) changed_in_period += e.change;
  const int32_t period_start = current - changed_in_period;
  if (desired > current) {
    const int32_t by_pods = period_start + rule.scale_up_pods;
    const auto by_percent =
        static_cast<int32_t>(std::ceil(period_start * (1.0 + rule.scale_up_percent / 100.0)));
    desired = std::min(desired, std::max(by_pods, by_percent));
  }
  desired = std::clamp(desired, std::max(rule.min_replicas, 1), rule.max_replicas);
  if (desired != current) events.push_back({now, desired - current});
  return desired;
}

int32_t LagShadow::pods() const {
  int32_t n = ready;
  for (const auto& [at, count] : starting) n += count;
  return n;
}

void StartLagShadow(int64_t backlog, int32_t pods, int32_t ready, double startup, LagShadow& shadow,
                    bool read, double phase) {
  shadow = LagShadow{};
  shadow.phase = phase;
  shadow.next_poll = phase;
  shadow.next_sync = phase;
  shadow.arrived = read;
  shadow.queue = static_cast<double>(std::max<int64_t>(0, backlog));
  shadow.ready = std::clamp(ready, 0, std::max(0, pods));
  if (pods > shadow.ready) shadow.starting.emplace_back(startup / 2, pods - shadow.ready);
}

namespace {

// The deployment's side of a change (sim/sim_world.cc SetReplicas): new pods start; removals
// take pods still starting first, newest first, and a ready pod's removal pauses the group.
void SetPods(LagShadow& s, int32_t to, double startup, double rebalance) {
  int32_t remove = s.pods() - to;
  if (remove < 0) s.starting.emplace_back(s.t + startup, -remove);
  while (remove > 0 && !s.starting.empty()) {
    const int32_t take = std::min(remove, s.starting.back().second);
    s.starting.back().second -= take;
    remove -= take;
    if (s.starting.back().second == 0) s.starting.pop_back();
  }
  if (remove > 0) {
    s.ready -= remove;
    s.paused_until = std::max(s.paused_until, s.t + rebalance);
  }
}

// Pods whose start-up has ended join the group, which pauses.
void Join(LagShadow& s, double rebalance) {
  for (auto it = s.starting.begin(); it != s.starting.end();) {
    if (it->first > s.t + 1e-9) {
      ++it;
      continue;
    }
    s.ready += it->second;
    it = s.starting.erase(it);
    s.paused_until = std::max(s.paused_until, s.t + rebalance);
  }
}

}  // namespace

void AdvanceLagShadow(const HpaRule& rule, const LagShadowStep& step, LagShadow& s) {
  double left = std::clamp(step.seconds, 0.0, kMaxLagShadowSeconds);
  while (left > 1e-9) {
    const double h = std::min(1.0, left);
    left -= h;
    // As the simulator orders a second: pods whose start-up ended join (the group pauses),
    // the second's messages arrive, KEDA and the HPA act on the lag, pods without start-up
    // join, and the ready pods consume.
    Join(s, step.rebalance);
    if (!std::exchange(s.arrived, false)) s.queue += step.arrival_rate * h;
    const auto lag = static_cast<int64_t>(std::floor(s.queue));
    if (s.t >= s.next_poll - 1e-9) {
      s.next_poll += rule.polling_seconds;
      if (lag > 0) s.active_at = s.t;
      if (rule.min_replicas == 0) {
        if (lag > 0 && s.pods() == 0) {
          SetPods(s, 1, step.startup, step.rebalance);
        } else if (lag == 0 && s.pods() > 0 && s.t - s.active_at >= rule.cooldown_seconds) {
          SetPods(s, 0, step.startup, step.rebalance);
        }
      }
    }
    if (s.t >= s.next_sync - 1e-9) {
      s.next_sync += rule.hpa_sync_seconds;
      const int32_t current = s.pods();
      if (current > 0) {
        const int32_t desired = HpaSync(rule, s.hpa, s.t, HpaCappedLag(rule, lag), current);
        if (desired != current) SetPods(s, desired, step.startup, step.rebalance);
      }
    }
    Join(s, step.rebalance);
    const double consuming = std::max(0.0, s.t + h - std::max(s.t, s.paused_until));
    const int32_t consumers = rule.partitions > 0 ? std::min(s.ready, rule.partitions) : s.ready;
    s.queue = std::max(0.0, s.queue - static_cast<double>(consumers) * step.pod_rate * consuming);
    const double keep = step.tau > 0 ? std::exp(-h / step.tau) : 1.0;
    s.rule_pod_seconds = s.rule_pod_seconds * keep + static_cast<double>(s.pods()) * h;
    s.own_pod_seconds = s.own_pod_seconds * keep + static_cast<double>(step.own_pods) * h;
    s.t += h;
  }
}

double LagShadowCommitted(const HpaRule& rule, const LagShadow& s, int32_t proposal,
                          double seconds) {
  const int32_t floor = std::max(rule.min_replicas, 1);
  const int32_t most = std::max(s.pods(), proposal);
  double total = 0;
  for (double u = 0; u < seconds; u += 1) {
    // At now + u the window holds the recommendations made after now + u − window.
    int32_t held = u < rule.scale_down_window_seconds ? proposal : 0;
    for (const auto& r : s.hpa.recommendations) {
      if (r.at > s.t + u - rule.scale_down_window_seconds) held = std::max(held, r.replicas);
    }
    total += std::max(floor, std::min(most, held));
  }
  return total;
}

int32_t LagShadowProposal(const HpaRule& rule, const LagShadow& s) {
  const auto lag = static_cast<int64_t>(std::floor(s.queue));
  return std::clamp(HpaProposal(rule, HpaCappedLag(rule, lag), std::max(1, s.pods())), 1,
                    std::max(1, rule.max_replicas));
}

void StartLagReplay(const HpaRule& rule, int64_t backlog, int32_t pods, int32_t ready,
                    double startup, double rebalance, double tau, LagReplay& r) {
  r = LagReplay{};
  r.backlog = backlog;
  r.pods = pods;
  r.ready = ready;
  r.tau = tau;
  r.startup = startup;
  r.rebalance = rebalance;
  for (size_t k = 0; k < r.shadows.size(); ++k) {
    const double phase =
        rule.hpa_sync_seconds * static_cast<double>(k) / static_cast<double>(r.shadows.size());
    StartLagShadow(backlog, pods, ready, startup, r.shadows[k], /*read=*/true, phase);
  }
}

namespace {

// One tick of the replay, each phase's, with its own start-up and pause.
void Run(const HpaRule& rule, const LagReplay::Fed& f, LagReplay& r) {
  for (LagShadow& shadow : r.shadows) {
    AdvanceLagShadow(rule,
                     {.seconds = f.seconds,
                      .arrival_rate = f.arrival_rate,
                      .pod_rate = f.pod_rate,
                      .startup = r.startup,
                      .rebalance = r.rebalance,
                      .own_pods = f.own_pods,
                      .tau = r.tau},
                     shadow);
  }
}

}  // namespace

void AdvanceLagReplay(const HpaRule& rule, const LagReplay::Fed& tick, LagReplay& r) {
  Run(rule, tick, r);
  if (r.closed) return;
  if (r.fed_seconds + tick.seconds > kLagReplayLogSeconds) {
    r.closed = true;
    r.fed = {};
    return;
  }
  r.fed.push_back(tick);
  r.fed_seconds += tick.seconds;
}

bool RetimeLagReplay(const HpaRule& rule, double startup, double rebalance, LagReplay& r) {
  const bool moved = std::fabs(startup - r.startup) >= kLagReplayRetimeSeconds ||
                     std::fabs(rebalance - r.rebalance) >= kLagReplayRetimeSeconds;
  if (r.closed) {
    r.startup = startup;
    r.rebalance = rebalance;
    return false;
  }
  if (!moved) return false;
  r.startup = startup;
  r.rebalance = rebalance;
  for (LagShadow& shadow : r.shadows) {
    StartLagShadow(r.backlog, r.pods, r.ready, startup, shadow, /*read=*/true, shadow.phase);
  }
  for (const auto& f : r.fed) Run(rule, f, r);
  return true;
}

CheapestShadow CheapestLagShadow(const HpaRule& rule, const LagReplay& r, double seconds) {
  CheapestShadow cheapest;
  for (const LagShadow& shadow : r.shadows) {
    const int32_t proposal = LagShadowProposal(rule, shadow);
    const double spend =
        shadow.rule_pod_seconds + LagShadowCommitted(rule, shadow, proposal, seconds);
    if (cheapest.shadow == nullptr || spend < cheapest.spend) {
      cheapest = {.shadow = &shadow, .proposal = proposal, .spend = spend};
    }
  }
  return cheapest;
}

double CeilingRatio(double cost_ceiling, double mu_sigma) {
  if (cost_ceiling >= 1) return cost_ceiling;
  return std::min(1.0, cost_ceiling + kNoiseMarginPerSigma * std::max(0.0, mu_sigma));
}

}  // namespace kafka_autoscaler::policy
