// The wait policy (SCALING_POLICY=wait): the user states the wait they accept
// (TARGET_WAIT_SECONDS, W) and the policy keeps every message's predicted wait under it with as
// few pods and as few changes as it can. Called by Decide() (policy.cc) for PolicyKind::kWait;
// it returns the raw pod count, which Decide then bounds (idle rule, partition cap, min/max).
// Pure: all memory lives in PolicyState::wait (WaitMemory), bounded (`recent` ≤ kMaxRecent).
//
// Each tick (dt = time since the previous tick):
//   1. Arrival rate λ: Holt level + trend over produced/s. A change detector jumps the level to
//      the new sample when the residual exceeds max(4σ, 10 % of the prediction); a residual as
//      far below needs two ticks in a row before the level drops (one quiet interval is not
//      the end of a burst). σ is the RMS EWMA of the residuals of accepted (non-jump) samples.
//   1a. Short bursts: how many burst onsets in a row were followed by a drop within kShortTicks
//      samples (over within a tick, or straddling two), the smallest of their highest
//      samples (5b), and the largest of their volumes — messages above the rate before the
//      onset, the drop's sample included (5c).
//   1b. Sustained bursts: one that outlives kShortTicks samples is followed to its drop (to
//      the lag rule's 300 s window: longer, it is a new level, and the count in a row starts
//      again); how many in a row ended so, the smallest of their highest samples and the
//      largest of their volumes, as 1a keeps for short ones (5c, 6b). A short burst ends a row
//      of sustained ones and the other way round.
//   2. One pod's rate μ: consumed/s ÷ min(ready, partitions) over intervals in which the
//      consumer set did not change (ready and spec.replicas equal over the last two ticks, and
//      the interval begins the rebalance pause after the tick that saw the last change of the
//      ready count, so no pause falls in the interval; nor while a pause seen longer than that
//      was on, 3b). With the backlog above kInFlightSeconds of arrivals at both ends
//      (saturated) the sample IS μ (μ follows it: averaged in at a weight that falls as
//      1 / σ_μ² once σ_μ — its own residual counted — exceeds kJumpFraction, or taken as
//      it is when off by more than max(kJumpSigmas σ_μ, kJumpFraction), as pods that became
//      slower — unless the pods come back soon: 2b); otherwise it is a lower bound (μ rises to it,
//      never falls; an exact μ averages it in unless it is as far above); a μ restored from a saved
//      state is replaced by the first saturated sample. σ_μ, the pods' own noise relative to μ (a
//      downstream whose speed varies), is the RMS EWMA of the saturated samples' relative residuals
//      against an exact μ: saturated samples come when the pods are slow, and without it each one
//      moved μ whole and a fast interval moved it back, every move a change of the count. An
//      interval whose set grew gives a lower bound too (÷ its end's consumers): before the first
//      sample, and with ticks so long that an up's pods drain a burst within the interval they
//      join, the only one a burst gives.
//      While μ is only a lower bound, scale-down assumes pods kProbe × faster: if they are not, the
//      group saturates and μ becomes exact — or the policy must scale up again, within M of the
//      probe or later from the probe's count at a rate the assumed pods would have carried,
//      which also makes μ exact. An exact μ that no saturated interval (or failed probe)
//      measured again for kMuConfirmedFor is a lower bound again: pods that keep up never
//      saturate, so pods that became faster would otherwise never be found (2a).
//   2b. A stall: a jump of μ to below kStallFraction of it keeps μ and σ_μ as they were; an
//      interval within 2 M that shows the pods nearer that rate than the jumped one (a lower
//      bound or a saturated sample past the geometric mean of the two) restores both, once per
//      kMuConfirmedFor. A downstream that stopped for 30 s is not slower pods, nor noisier
//      ones; stalls that recur within the hour are the pods' noise, and σ_μ learns them.
//   2c. Such a recurring stall is averaged in as any sample is (its residual in σ_μ), and so is
//      every saturated sample after it short of the geometric mean of μ and its rate, until
//      the pods have been that slow for 2 M: then they are slower pods, and μ takes the sample.
//   3. Start-up S: after a scale-up to n pods decided at t0, the first tick that sees
//      ready ≥ n brackets S in (previous tick − t0, now − t0]; S takes the upper end, at most
//      900 s (the first sample replaces the 30 s prior, later ones average in). A cancel (5a)
//      that keeps some of the pods ordered times those: ready ≥ the count kept.
//   3a. Rebalance pause R: after a scale-down to m pods decided at t0 (its pods leave then),
//      the m consumers worked consumed ÷ (m μ) of the time since; the rest is the pause. Taken
//      at the first tick whose interval consumed something with the backlog still above
//      kInFlightSeconds of arrivals (they worked from the pause's end on; a tick with less
//      ends the timing: the pods keep up, or nothing arrives), with μ exact, at most 300 s; the
//      first sample replaces RATE_REBALANCE_SECONDS (the prior), later ones average in. While
//      nothing has been consumed with that backlog waiting, R is at least the time since t0.
//      A pause longer than assumed made every scale-down fall behind and scale up again, each
//      change pausing the group anew.
//   3b. After any change of the ready set (an up's pods joining, too), while every interval
//      since the tick that saw it consumed nothing with work waiting at both ends, the pause
//      is still on; the interval in which it ends is no μ sample. A pause longer than assumed
//      (before a scale-down timed it) read as pods several times slower.
//   3c. For the cost ceiling's replay (10), S and R finer than a tick (and, once a join was
//      timed, the S of the prediction, 4-6, and of M): the interval in which an up's pods
//      joined a saturated group (all worked), with an exact μ of steady pods
//      (σ_μ ≤ kJumpFraction), consumed μ (m (S − a) + k (b − S − R)) for the m consumers it
//      began with, the k it ended with and the bracket (a, b]: (k − m) S + k R =
//      k b − m a − consumed / μ — when it consumed more than the m could alone (the pause
//      ended within it; a join at its very end looked like no pause at all). Least squares
//      over such joins (the last kFitMemory or so, averaged; joins of different k / m tell S
//      and R apart, joins alike give S with R as 3a learned or assumed). The replay's pods, a tick
//      late at the bracket's upper end, let its lag and then its count run high; a pause assumed
//      too long did the same at every change.
//   3d. A join whose interval consumed no more than the m could alone (the k joined at its very
//      end, or their pause outweighed their work in it) is timed with the interval after it:
//      over both, (k − m) S + k R = k (b + dt) − m a − consumed / μ, when the next interval is
//      saturated, with the same k consumers, and consumed something (the pause ended in it).
//   4. Predict: simulate "keep the current count" second by second over H = S + 120 s as a
//      fluid FIFO queue: the backlog now, arrivals at λ plus the trend (if rising) for up to S
//      seconds plus an upper noise band on what has arrived by t of kBand·σ·√(dt·t) (σ is
//      the noise of one tick's mean; independent tick noises add up like a random walk, so
//      the queue absorbs what averages out — not kBand·σ·t, which bought pods for noise),
//      pods still starting ready when their start-up ends, a rebalance pause of
//      RATE_REBALANCE_SECONDS whenever the ready set changes, and consumption
//      min(ready, partitions) × μ. The predicted wait of the message arriving at second t is
//      when cumulative consumption passes it, minus t; the peak over [0, H] is the "predicted
//      peak wait".
//   5. Up: when the peak exceeds W, jump once to the smallest count whose simulated peak stays
//      under W (new pods ready after S, then a rebalance), with a rising trend carried on for
//      S + M rather than S: the count must carry the rise until a change could follow it, as a
//      scale-down looks back M (on a steady rise, pods sized for the rate at their start-up
//      were behind as soon as they were ready, and each of the many small ups paused the group).
//      When no count can (a burst already piled up more than start-up allows), the smallest count
//      within kNoBetterSeconds of the best peak any count reaches — more pods would cost without
//      cutting the wait. Not yet, though, when the same pods ordered at the next tick (dt later)
//      would still keep every wait from now on under W: the up waits for the last tick that can
//      keep the target (why = up_later), so a rise over by the next sample orders nothing, and the
//      wait the target allows is used rather than bought down. An up that cuts the peak (of
//      messages arriving from S + R on) by no more than kNoBetterSeconds is not made
//      (up_useless) — unless the count falls behind without end and the chosen one does not:
//      with a pause longer than W the up's own pause looked worse within the horizon than a
//      small shortfall, for as long as the load stayed above the count.
//   5a. Cancel: when this tick's sample is a drop (believed or not yet) and pods are still
//      starting, the smallest count (never below the ready pods) whose simulated peak stays
//      under W with arrivals at min(λ, the sample) — pods that have not joined cost no
//      rebalance to remove, so a burst over by the next tick does not keep them.
//   5b. Doubt: when the last kShortOnsets burst onsets were each followed by a drop within
//      kShortTicks samples (short batches: 1a) and this onset is at least kPartialOnset ×
//      the smallest of them (a smaller one may be the first part of a batch straddling the
//      tick), or when this tick's sample is a drop: no up (why = up_unconfirmed) if, with
//      arrivals back at the level before the onset (at the sample), the pods would cut the
//      peak by at most kNearlyEmptyFraction × W. The next sample tells.
//   5c. A burst like the short ones: after kShortOnsets short bursts in a row, while this one
//      (an onset 5b doubts, or its second sample) has brought at most (1 + kJumpFraction) × their
//      largest volume, the up is sized for it ending at that volume: the rest arriving at this
//      sample's rate, then the rate before. The count is the smallest that keeps the target or,
//      failing that, under which no message (the backlog's included: after a short burst it is
//      most of what the pods are for) waits more than kBurstSlackSeconds longer than under the
//      count sized for the rate; none above the current count: no up (why = burst_covered).
//      After kShortOnsets sustained bursts in a row (1b), the same for one like them, from its
//      onset to its end, against their largest volume.
//      A burst that brings more is sized for its rate at the tick that sees it.
//   5d. A probe stands until the pods show it wrong: within M of a probe, at its count, with
//      no more waiting than kInFlightSeconds of λ, "keep" is judged with the pods it assumed
//      (μ × kProbe); if they keep W, no up (why = probe_pending). Judged with the lower bound,
//      the next tick undid each probe before an interval at its count could raise the bound.
//   6. Down, only when all hold: the backlog drains in ≤ kNearlyEmptyFraction × W; no message
//      waiting is older than W (the backlog is at most what arrived within W, by the λ samples,
//      or within kInFlightSeconds of λ): a removal would make those oldest older still, and
//      after a burst the partitions drain slowly they are the p99; no change
//      of the count within M = S + rebalance + dt (from the tick that ordered it, when this
//      policy did: counted from the tick that saw it, every up held its pods a tick longer);
//      a smaller count keeps the simulated peak
//      under W (under R + kNearlyEmptyFraction × W when that is more: a pause longer than the
//      target breaks it on any change, and then what arrives after the pause must wait under W
//      again: the pause's pile λ·R drained at m·μ, or the next tick orders the pods back, each
//      way a pause) with arrivals at the highest λ of the last M seconds
//      ("capacity memory") plus the noise band — the pods' own noise too (kBand σ_μ of the
//      capacity, in quadrature: a count chosen on the mean rate of pods whose rate varies fell
//      behind at their next slow spell and was scaled up again) — and the removal's rebalance
//      pause at once; and the
//      pod-seconds saved over 120 s exceed the rebalance loss (min(n, P) × rebalance) plus
//      kEventPrice. A count that does not keep up with λ (capacity < λ − kBand σ) falls behind
//      without end: its saving counts only until its wait at the horizon's end reaches W (when an
//      up follows), and it pays the loss twice (down, and up again).
//   6a. Not yet (why = down_later) when a smaller count than the chosen one already keeps the
//      wait at today's λ and only older samples in the capacity memory hold it back: those age
//      out within τ, and the deeper step can then be taken from n in one change. The shallow
//      step's saving counts only until τ, less what it costs to delay the deeper step to M
//      after itself, and must still exceed its rebalance loss plus kEventPrice.
//   6b. Bursts that repeat within the lag rule's scale-down window (after kShortOnsets short
//      (1a) or sustained (1b) bursts in a row, three onsets whose intervals agree, and the
//      period plus a tick within the rule's 300 s): the next one is simulated where the period
//      puts it (overdue by at most M; later, it did not come), its largest volume arriving at
//      once when it fits in a sample, else at its smallest peak rate (at least: what arrives
//      anyway counts toward it) for the time that volume takes above the rate between bursts
//      (the lowest of the last M). When the
//      pods now keep it under W, the smallest count that does is a floor for 6 and 6a; when
//      they do not but more would, all are held; when none would, holding buys nothing and 6b
//      is off. A count kept at or above that floor says why = burst_hold, and is a prediction
//      (reason `predicted`: not idle while nothing arrives between bursts). PREDICT's
//      pre-scale (8) leaves such bursts to it: pre-scaling each and coming down after is
//      the cycle it avoids (a spike every 2 min: 58 scale events an hour, 85 pre-scaled,
//      against keda-hpa's 38; held, 6; a 60 s batch every 2 min: 87, 87, 48; held, 9).
//   7. Before μ is measured (or without a consumer group) the seed rule: ceil(backlog /
//      MESSAGES_PER_POD), at least one pod while messages arrive; on the first tick of a
//      process (no interval seen yet) never below the current count, so a restarted daemon
//      does not take pods away before it has measured anything.
//   8, 9. Prediction (PREDICT=true): pre-scale ahead of a repeating burst or the day's rise.
//   10. Cost ceiling (COST_CEILING = c > 0, default 0.9): the lag rule most users run today
//      (KEDA's Kafka scaler feeding an HPA, lagThreshold = MESSAGES_PER_POD; policy/hpa_rule.h)
//      is replayed second by second on the arrivals each tick measured, with the learned μ and
//      the S and R of 3c (before any join was timed, the lower end of S's bracket and the R of 3a)
//      — its pods start, pause the group and drain a fluid queue as the simulator's do. A pause
//      neither timed by 3a nor given as RATE_REBALANCE_SECONDS is assumed none (the joins' fit
//      then takes the smallest pause S's bracket allows): with the 5 s default where the pods
//      paused 2 s, the rule's replayed lag ran 6 % or more above keda-hpa's, crossed the HPA's
//      tolerance where keda-hpa's did not, and the replay spent 1.10x keda-hpa's. Over
//      its first hour a change of S or R by a second or more runs it again from its start on
//      what it was fed (hpa_rule.h LagReplay): its first minutes ran with the 30 s prior. The
//      rule's clock is not ours: it is replayed at three phases of its 15 s sync (its first sync
//      0, 5 and 10 s after the replay began), and the ceiling holds to the one that has spent,
//      and is bound to spend over its window, the least (with its count, proposal and floor):
//      where keda-hpa synced 5 or 10 s after our ticks, the replay on ours alone spent up to
//      1.09x keda-hpa's pod-seconds, and `wait` with it. The pod-seconds it spent and ours are
//      weighted over a day. c is below 1 by default: the replay
//      is a model of the rule fed what was learned, and its error (a few per cent either way)
//      should not be spent; the margin narrows by σ_μ / 4 (the replay drains at the mean rate, so
//      noisy pods make it err low; hpa_rule.h CeilingRatio). The budget is c × (the rule's spend +
//      what its 300 s scale-down window binds it to spend from now) − ours − the count held for M −
//      the floor for the rest of the window. Within budget the count may exceed the rule's (the
//      highest of its pods, its next sync's proposal and what it would keep for our own lag
//      over its window — the replay's queue drains at the learned μ, ours at the pods' true
//      rate) by what the budget pays for over M — a loan, at a ratio lowered by as much as our
//      spend so far is above the rule's (reckoned with our count at the floor after M, the
//      loans of a load that held it above were never repaid; and, once the replay has run two
//      of the rule's windows, with the window counted over its first 200 s only, in a climb
//      too: a run that ends within it never sees the loan repaid; before that, where the rule's
//      count carries λ and the rule run on would not climb, with our floor at what carries λ:
//      LoanFloor) — and is never lowered by
//      the ceiling; over budget it is held to the rule's count, a scale-down if need be
//      (why = cost_ceiling) — but not down into a rise, nor below
//      the load: while λ's trend over M exceeds kBand σ, the rule's count falls behind the load
//      (the rule waits for its lag), and a count that does not carry λ now falls behind at
//      once; such downs were undone by an up within minutes, so it stops at the count that
//      carries λ (M ahead while it rises), less kBand σ, as far as the budget pays for it
//      without its margin, never above n.
//      Pre-scales are left alone. The wait is then the rule's at worst, usually better: the
//      count comes when the wait needs it, not when the lag has crossed the threshold.
// Every threshold is in seconds of wait or in σ; none is in messages or pods (the ceiling's
// reference, the lag rule, reads MESSAGES_PER_POD as KEDA does).
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "policy/policy.h"

namespace kafka_autoscaler::policy {

namespace {

constexpr double kAlpha = 0.5;                 // Holt level smoothing
constexpr double kBeta = 0.3;                  // Holt trend smoothing
constexpr double kSigmaWeight = 0.2;           // EWMA weight of a squared residual
constexpr double kJumpSigmas = 4;              // a residual beyond this many σ is a change
constexpr double kJumpFraction = 0.10;         // ... or beyond this fraction of the prediction
constexpr int32_t kDropTicks = 2;              // ticks needed to accept a drop
constexpr int32_t kTrendJumps = 3;             // rise jumps in a row that step alike: a trend
constexpr double kStepAgreement = 2;           // ... within this factor of each other
constexpr double kBand = 2;                    // upper band: kBand σ √(dt t) by t
constexpr double kInFlightSeconds = 5;         // backlog up to this many seconds of λ is in flight
constexpr double kProbe = 1.25;                // optimism of scale-down while μ is a lower bound
constexpr double kMuWeight = 0.5;              // weight of a μ sample averaged in (steady pods)
constexpr double kStallFraction = 0.5;         // a jump of μ below this fraction may be a stall
constexpr double kMuConfirmedFor = 3600;       // an exact μ not measured again for this long (s)
                                               // is a lower bound again
constexpr double kFitConditioning = 0.05;      // 3c: the joins tell S and R apart (det / uu vv)
constexpr int32_t kFitMemory = 8;              // 3c: joins averaged, about (then an EWMA of 1/8)
constexpr double kHorizonBeyondStartup = 120;  // prediction horizon: S + this (s)
constexpr double kNoBetterSeconds = 2;         // peaks within this of the best are as good
constexpr double kBurstSlackSeconds = 1;       // 5c: a message may wait this much longer
constexpr double kNearlyEmptyFraction = 0.25;  // "nearly empty": drains within this × W
constexpr double kCeilingSeconds = 86400;      // COST_CEILING weighs pod-seconds over this
constexpr double kSavingSeconds = 120;         // pod-seconds saved are counted over this
constexpr double kLoanSeconds = 200;     // a loan counts the rule's committed window this far ahead
constexpr double kLoanYoungWindows = 2;  // ... once the replay has run this many of its windows
constexpr double kEventPrice = 60;          // pod-seconds a scale event must earn beyond the pause
constexpr size_t kMaxRecent = 256;          // capacity memory entries at most
constexpr double kMaxStartupSeconds = WaitMemory::kMaxStartupSeconds;
constexpr double kMaxRebalanceSeconds = WaitMemory::kMaxRebalanceSeconds;
constexpr double kBurstFactor = 2;          // a burst onset at least doubles the rate
constexpr int32_t kShortOnsets = WaitMemory::kShortOnsets;
constexpr int32_t kShortTicks = 2;          // a burst over within this many samples is short
constexpr double kPartialOnset = 0.5;       // ... of at least this × their size
constexpr double kPeriodTolerance = 0.05;   // intervals agreeing within this fraction repeat
constexpr double kDayWeight = 0.5;          // EWMA weight of the newest day in the daily profile
constexpr double kAgreeSigmas = 3;      // days agree when a bucket's means differ by ≤ this σ
constexpr double kSpreadFloor = 0.05;   // σ of a bucket is at least this fraction of its mean
constexpr uint16_t kConfidentDays = 2;  // days a bucket needs before it is acted on

// The start-up and pause the cost ceiling's replay of the lag rule runs with (10).
struct ReplayTiming {
  double startup = 0;
  double rebalance = 0;
};

// What the fluid simulation starts from and assumes.
struct Fluid {
  double backlog = 0;
  double lambda = 0;  // mean arrivals per second at t = 0
  // Upper noise band on what has arrived by t: band · min(t, √(sample_seconds · t)). σ is the
  // noise of one tick's mean rate (a sample over sample_seconds); tick noises are independent
  // (what is correlated, the level and trend take), so over t seconds they add up like a
  // random walk, σ·√(sample_seconds·t), not σ·t: the queue absorbs noise that averages out.
  double band = 0;
  double sample_seconds = 1;
  double rise = 0;  // added per second, for at most `rise_for` seconds
  double rise_for = 0;
  double burst = 0;  // added per second for the first `burst_for` seconds
  double burst_for = 0;
  // The next of repeating bursts (6b), from `lump_at` s: arrivals at `lump_rate` at least for
  // `lump_for` s, or (lump_for 0) `lump` messages at once.
  double lump = 0;
  double lump_at = 0;
  double lump_for = 0;
  double lump_rate = 0;
  double mu = 1;           // one pod's rate
  // The noise of one pod's rate relative to μ (WaitMemory::mu_sigma), used by scale-down only:
  // consumption by t may fall short of the mean by kBand · mu_sigma · capacity ·
  // √(sample_seconds · t), independent of the arrivals' noise (the two bands add in quadrature).
  double mu_sigma = 0;
  int32_t partitions = 0;  // 0 = no cap
  double rebalance = 0;    // pause on a change of the ready set
  double horizon = 120;
  int32_t ready = 0;     // consuming now
  int32_t starting = 0;  // already starting, ready at `starting_at`
  double starting_at = 0;
  double startup = 30;  // for pods added now
};

// How the noise of one sample's mean spreads by t: t at first, then √(sample_seconds · t).
double Spread(const Fluid& f, double t) {
  return std::min(t, std::sqrt(std::max(1.0, f.sample_seconds) * t));
}

// Peak predicted wait (s) of every message arriving in [from, horizon] (the backlog counts as
// arriving at 0), with `add` pods added now (negative: removed, starting ones first).
double PeakWait(const Fluid& f, int32_t add, double from = 0,
                std::vector<double>* waits = nullptr) {
  int32_t ready = f.ready;
  int32_t starting = f.starting;
  int32_t added = std::max(0, add);
  double paused_until = -1;
  if (add < 0) {
    const int32_t from_starting = std::min(starting, -add);
    starting -= from_starting;
    const int32_t from_ready = -add - from_starting;
    if (from_ready > 0) {
      ready = std::max(0, ready - from_ready);
      paused_until = f.rebalance;
    }
  }
  const auto steps = static_cast<size_t>(std::ceil(f.horizon));
  std::vector<double> arrived(steps + 1), done(steps + 1);
  arrived[0] = f.backlog;
  done[0] = 0;
  double capacity = 0;
  const auto lump_step = static_cast<size_t>(std::max(0.0, std::floor(f.lump_at)));
  for (size_t k = 0; k < steps; ++k) {
    const double t = static_cast<double>(k);
    if (starting > 0 && t >= f.starting_at) {
      ready += starting;
      starting = 0;
      paused_until = std::max(paused_until, t + f.rebalance);
    }
    if (added > 0 && t >= f.startup) {
      ready += added;
      added = 0;
      paused_until = std::max(paused_until, t + f.rebalance);
    }
    const double lambda = std::max(0.0, f.lambda + f.rise * std::min(t, f.rise_for)) +
                          f.burst * std::clamp(f.burst_for - t, 0.0, 1.0);
    const int32_t consumers = ConsumingPods(ready, f.partitions);
    capacity = consumers * f.mu;
    // What the pods' noise may leave unconsumed counts as arrivals: every later message's
    // place in the queue moves back by as much.
    const double band = std::hypot(f.band, kBand * f.mu_sigma * capacity);
    double lump = 0;
    if (f.lump_for > 0) {
      const double overlap = std::min(t + 1, f.lump_at + f.lump_for) - std::max(t, f.lump_at);
      lump = std::max(0.0, f.lump_rate - lambda) * std::max(0.0, overlap);
    } else if (k == lump_step) {
      lump = f.lump;
    }
    arrived[k + 1] = arrived[k] + lambda + lump + band * (Spread(f, t + 1) - Spread(f, t));
    const double working = std::clamp(t + 1 - paused_until, 0.0, 1.0);
    done[k + 1] = std::min(arrived[k + 1], done[k] + capacity * working);
  }
  // For each arrival instant, the first instant by which the consumption has passed it.
  double peak = 0;
  size_t s = 0;
  for (size_t k = static_cast<size_t>(std::clamp(std::ceil(from), 0.0, static_cast<double>(steps)));
       k <= steps; ++k) {
    const double position = arrived[k];
    if (s < k) s = k;
    while (s <= steps && done[s] + 1e-6 < position) ++s;
    double wait = 0;
    if (s <= steps) {
      wait = static_cast<double>(s - k);
    } else if (capacity > 0) {
      wait = static_cast<double>(steps - k) + (position - done[steps]) / capacity;
    } else {
      wait = 1e9;
    }
    if (waits) waits->push_back(wait);
    peak = std::max(peak, wait);
  }
  return peak;
}

// The smallest count in (n, most] (n pods now) whose simulated peak wait (of messages arriving
// from `from`) stays under `target`; when none does, the smallest within kNoBetterSeconds of the
// best peak.
int32_t SmallestCount(const Fluid& f, int32_t n, int32_t most, double target, double from) {
  std::vector<double> peaks;
  for (int32_t m = n + 1; m <= most; ++m) {
    peaks.push_back(PeakWait(f, m - n, from));
    if (peaks.back() <= target) return m;
  }
  if (peaks.empty()) return n;
  const double best = *std::min_element(peaks.begin(), peaks.end());
  for (size_t i = 0; i < peaks.size(); ++i) {
    if (peaks[i] <= best + kNoBetterSeconds) return n + 1 + static_cast<int32_t>(i);
  }
  return most;
}

// Whether `count` pods keep up with the learned mean arrival rate `rate` (σ its noise): a count
// whose capacity is below it by more than kBand σ falls behind without end — its wait grows
// past any horizon, even when the peak within the horizon looks under the target.
bool Keeps(double mu, int32_t partitions, int32_t count, double rate, double sigma) {
  return ConsumingPods(count, partitions) * mu >= rate - kBand * sigma;
}
bool Keeps(const Fluid& f, int32_t count, double rate, double sigma) {
  return Keeps(f.mu, f.partitions, count, rate, sigma);
}
// The smallest count from `from` on that keeps up with `rate` (Keeps), at most `most`; `from`
// when it is `most` or more.
int64_t SmallestKeeping(double mu, int32_t partitions, int64_t from, int64_t most, double rate,
                        double sigma) {
  int64_t count = from;
  while (count < most && !Keeps(mu, partitions, static_cast<int32_t>(count), rate, sigma)) {
    ++count;
  }
  return count;
}

// Returns true for a burst onset: a jump to at least twice the prediction (beyond 4σ).
// `drop` is set when the sample is a drop (believed or not yet).
bool LearnArrivalRate(double sample, double dt, WaitMemory& w, bool& drop) {
  if (!w.has_level) {
    w.has_level = true;
    w.level = sample;
    w.trend = 0;
    return false;
  }
  const double predicted = std::max(0.0, w.level + w.trend * dt);
  const double residual = sample - predicted;
  const double threshold = std::max(kJumpSigmas * w.sigma, kJumpFraction * predicted);
  if (residual > threshold) {  // a rise: believed at once
    // A rise steep enough to jump at every tick is a trend once kTrendJumps jumps in a row
    // stepped alike (within a factor kStepAgreement): the step per tick becomes the trend. Two
    // are not enough: a burst that straddles a tick boundary jumps twice by about as much.
    const double step = sample - w.level;
    const bool agrees = w.rise_jumps > 0 && step * kStepAgreement >= w.rise_step &&
                        step <= kStepAgreement * w.rise_step;
    w.rise_jumps = agrees ? w.rise_jumps + 1 : 1;
    w.trend = w.rise_jumps >= kTrendJumps ? 0.5 * (step + w.rise_step) / dt : 0;
    w.rise_step = step;
    w.level = sample;
    w.drop_ticks = 0;
    return sample >= kBurstFactor * predicted + kJumpSigmas * w.sigma;
  }
  w.rise_jumps = 0;
  if (residual < -threshold) {  // a drop: believed on the second tick in a row
    drop = true;
    if (++w.drop_ticks >= kDropTicks) {
      w.level = sample;
      w.trend = 0;
      w.drop_ticks = 0;
    }
    return false;
  }
  w.drop_ticks = 0;
  const double level = kAlpha * sample + (1 - kAlpha) * predicted;
  w.trend = kBeta * (level - w.level) / dt + (1 - kBeta) * w.trend;
  w.level = level;
  w.sigma = std::sqrt((1 - kSigmaWeight) * w.sigma * w.sigma + kSigmaWeight * residual * residual);
  return false;
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// The next burst, when the last two intervals between onsets agree within max(one tick, 5 %):
// its onset (as this policy detects onsets) and the pods the last three bursts had (median).
struct Burst {
  SteadyTime at;
  int32_t pods = 0;
  double period = 0;  // s between onsets
};
std::optional<Burst> PredictBurst(const WaitMemory& w, double dt) {
  const int32_t n = w.onset_count;
  if (n < 3) return std::nullopt;
  auto onset = [&](int32_t back) {  // back = 0: the last
    return w.onsets[static_cast<size_t>(n - 1 - back) % WaitMemory::kOnsets];
  };
  const double i1 = Seconds(onset(1) - onset(2));
  const double i2 = Seconds(onset(0) - onset(1));
  if (std::abs(i1 - i2) > std::max(dt, kPeriodTolerance * i2)) return std::nullopt;
  std::array<int32_t, 3> pods{};
  for (int32_t b = 0; b < 3; ++b) {
    pods[static_cast<size_t>(b)] =
        w.onset_pods[static_cast<size_t>(n - 1 - b) % WaitMemory::kOnsets];
  }
  std::sort(pods.begin(), pods.end());
  return Burst{
      onset(0) + std::chrono::duration_cast<Duration>(std::chrono::duration<double>((i1 + i2) / 2)),
      pods[1], (i1 + i2) / 2};
}

// 6b. The next burst when bursts that end (short ones, 1a, or sustained ones, 1b) repeat
// within the lag rule's scale-down window — the period as onsets are seen, a tick apart at
// worst, plus that tick — with the largest volume and smallest peak rate of the last ones.
struct Repeating {
  Burst next;
  double volume = 0;  // messages above the rate before it
  double rate = 0;    // msg/s, its highest sample
};
std::optional<Repeating> RepeatingBurst(const WaitMemory& w, double dt) {
  Repeating r;
  if (w.short_bursts.in_a_row >= kShortOnsets) {
    r.volume = w.short_bursts.volume;
    r.rate = w.short_bursts.peak_rate;
  } else if (w.long_bursts.in_a_row >= kShortOnsets) {
    r.volume = w.long_bursts.volume;
    r.rate = w.long_bursts.peak_rate;
  }
  if (r.volume <= 0) return std::nullopt;
  const auto burst = PredictBurst(w, dt);
  if (!burst || burst->period + dt > HpaRule{}.scale_down_window_seconds) return std::nullopt;
  r.next = *burst;
  return r;
}

// 9. The daily profile (DailyProfile in policy.h).
int64_t AbsoluteBucket(SteadyTime t) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  const int64_t width = DailyProfile::kBucketSeconds;
  return s >= 0 ? s / width : -((-s + width - 1) / width);
}
size_t Slot(int64_t bucket) {
  const auto n = static_cast<int64_t>(DailyProfile::kBuckets);
  return static_cast<size_t>(((bucket % n) + n) % n);
}
// σ a bucket's day means are judged in: its spread across samples, at least kSpreadFloor of its
// mean (noise-free load) and 1 msg/s.
double BucketSigma(const DailyProfile& p, size_t b, double today_spread) {
  return std::max({static_cast<double>(p.spread[b]), today_spread,
                   kSpreadFloor * static_cast<double>(p.mean[b]), 1.0});
}
void FinishBucket(DailyProfile& p) {
  if (p.samples == 0) return;
  const size_t b = Slot(p.bucket);
  const double m = p.sum / p.samples;
  const double sd = std::sqrt(std::max(0.0, p.sum_squares / p.samples - m * m));
  double z = 1e9;
  if (p.days[b] > 0) {
    z = std::abs(m - p.mean[b]) / BucketSigma(p, b, sd);
    p.mean[b] = static_cast<float>(kDayWeight * m + (1 - kDayWeight) * p.mean[b]);
    p.spread[b] = static_cast<float>(kDayWeight * sd + (1 - kDayWeight) * p.spread[b]);
  } else {
    p.mean[b] = static_cast<float>(m);
    p.spread[b] = static_cast<float>(sd);
  }
  p.last_z[b] = static_cast<float>(std::min(z, 1e9));
  p.days[b] = static_cast<uint16_t>(std::min<int32_t>(p.days[b] + 1, UINT16_MAX));
  p.today_z = p.last_z[b];
  p.today_bucket = p.bucket;
}
void LearnDay(double sample, SteadyTime now, DailyProfile& p) {
  const int64_t bucket = AbsoluteBucket(now);
  if (bucket != p.bucket) {
    FinishBucket(p);
    p.bucket = bucket;
    p.sum = p.sum_squares = 0;
    p.samples = 0;
  }
  p.sum += sample;
  p.sum_squares += sample * sample;
  ++p.samples;
}
// The arrival rate (mean + 1σ spread) the profile predicts for the buckets from now to
// now + lead, when it is confident (each counted bucket seen on ≥ kConfidentDays days, its
// last day within kAgreeSigmas σ of the profile) and today agrees so far (the previous bucket, and
// the current one once it has 2 samples, within kAgreeSigmas σ); 0 otherwise.
double DailyRate(const DailyProfile& p, SteadyTime now, double lead) {
  const int64_t current = AbsoluteBucket(now);
  if (p.today_bucket != current - 1 || p.today_z > kAgreeSigmas) return 0;
  if (p.bucket == current && p.samples >= 2) {
    const size_t b = Slot(current);
    const double m = p.sum / p.samples;
    if (p.days[b] == 0 || std::abs(m - p.mean[b]) > kAgreeSigmas * BucketSigma(p, b, 0)) return 0;
  }
  double rate = 0;
  const int64_t last = AbsoluteBucket(
      now + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(lead)));
  for (int64_t k = current; k <= last; ++k) {
    const size_t b = Slot(k);
    if (p.days[b] >= kConfidentDays && p.last_z[b] <= kAgreeSigmas) {
      rate = std::max(rate, static_cast<double>(p.mean[b]) + p.spread[b]);  // 1σ upper band
    }
  }
  return rate;
}

// Messages that arrived within the last `span` seconds: each sample of `recent` is the rate over
// the interval ending at its tick (the oldest one's taken as dt long); a part of the span no
// sample covers counts at the level λ.
double ArrivedWithin(const std::deque<std::pair<SteadyTime, double>>& recent, SteadyTime now,
                     double span, double dt, double lambda) {
  double arrived = 0;
  double covered = 0;  // seconds of the span some sample covers
  for (size_t i = recent.size(); i-- > 0;) {
    const double end = std::max(0.0, Seconds(now - recent[i].first));
    if (end >= span) break;
    const double start = i > 0 ? std::max(end, Seconds(now - recent[i - 1].first)) : end + dt;
    const double part = std::min(start, span) - end;
    arrived += recent[i].second * part;
    covered += part;
  }
  return arrived + lambda * std::max(0.0, span - covered);
}

// The lowest and the highest rate sampled within the last `span` seconds, λ among them.
std::pair<double, double> RecentRates(const WaitMemory& w, SteadyTime now, double span,
                                      double lambda) {
  std::pair<double, double> rates{lambda, lambda};
  for (const auto& [at, rate] : w.recent) {
    if (Seconds(now - at) <= span) {
      rates.first = std::min(rates.first, rate);
      rates.second = std::max(rates.second, rate);
    }
  }
  return rates;
}

// The rebalance pause the prediction assumes: measured (3a), or RATE_REBALANCE_SECONDS.
double Rebalance(const WaitMemory& w, const PolicyConfig& c) {
  return w.rebalance.value_or(static_cast<double>(c.rate_rebalance.count()));
}

// 2. A lower bound on one pod's rate (an interval the pods were not all busy for) raises μ. An
// exact μ it raises only beyond the pods' own noise (a pod that was fast for one interval is not
// a faster pod); within it, it is averaged in.
void RaiseToLowerBound(WaitMemory& w, double bound) {
  if (bound <= 0 || (w.mu && bound <= *w.mu)) return;
  const bool averaged =
      w.mu && w.mu_exact &&
      (bound - *w.mu) <= *w.mu * std::max(kJumpSigmas * w.mu_sigma, kJumpFraction);
  w.mu = averaged ? *w.mu + kMuWeight * (bound - *w.mu) : bound;
}

ReplayTiming TimedForReplay(const WaitMemory& w, double dt, double rebalance);

// 3c. The S the prediction and M use: what the joins' consumption timed, once any join was
// timed (within S's bracket), else the bracket's upper end. The bracket is a tick wide: its
// upper end sized ups for pods up to a tick later than they came and held every count up to a
// tick longer (with a 60 s tick, a minute).
double PredictionStartup(const WaitMemory& w, const PolicyConfig& c, double dt) {
  if (w.join_fit.samples == 0) return w.startup;
  return TimedForReplay(w, dt, Rebalance(w, c)).startup;
}

// M = S + R + dt: how long a change takes to show in the pods' consumption, and how far back
// scale-down looks ("capacity memory").
double MemorySeconds(const WaitMemory& w, const PolicyConfig& c, double dt) {
  return PredictionStartup(w, c, dt) + Rebalance(w, c) + dt;
}

// 3c. One join in the fit: (k − m) S + k R = y, as a running mean of the last kFitMemory.
void FitJoin(int32_t m, int32_t k, double y, WaitMemory::JoinFit& f) {
  const auto u = static_cast<double>(k - m);
  const auto v = static_cast<double>(k);
  f.samples = std::min(f.samples + 1, kFitMemory);
  const double add = 1.0 / f.samples;  // the mean of the last kFitMemory, about
  const double keep = 1 - add;
  f.uu = keep * f.uu + add * u * u;
  f.uv = keep * f.uv + add * u * v;
  f.vv = keep * f.vv + add * v * v;
  f.uy = keep * f.uy + add * u * y;
  f.vy = keep * f.vy + add * v * y;
}

// 1a, 1b: a burst that ended (its highest sample, its volume) joins its kind's row — how many
// in a row (capped), the smallest of their highest samples, the largest of their volumes.
void AddToRow(double peak, double volume, BurstRow& row) {
  row.peak_rate = row.in_a_row > 0 ? std::min(row.peak_rate, peak) : peak;
  row.volume = row.in_a_row > 0 ? std::max(row.volume, volume) : volume;
  row.in_a_row = std::min(row.in_a_row + 1, kShortOnsets);
}

int64_t Reactive(const PolicyInput& in, const PolicyConfig& c, PolicyState& st, WaitDetail& detail,
                 bool& onset, double& dt_out, int32_t& cap_out, int32_t& burst_floor_out) {
  WaitMemory& w = st.wait;
  burst_floor_out = 0;
  const int32_t n = in.current_replicas;
  const int32_t ready = std::clamp(in.ready_replicas, 0, std::max(0, n));
  const double dt =
      w.last_tick ? std::max(1e-3, std::chrono::duration<double>(in.now - *w.last_tick).count())
                  : 0;
  const double target = std::max(1.0, static_cast<double>(c.target_wait.count()));
  const int64_t backlog_messages = std::max<int64_t>(0, in.backlog);
  const double backlog = static_cast<double>(backlog_messages);

  // Bookkeeping of changes of the count and of the consumer set.
  if (w.prev_replicas >= 0 && n != w.prev_replicas) {
    const bool ours = w.last_tick && n == w.ordered;
    w.change_at = ours ? *w.last_tick : in.now;
  }
  // The consumers (ready pods) were the same at both ends of the interval; and also at the
  // start of the previous one, so no rebalance pause (caused by a change seen at the previous
  // tick) falls inside this interval.
  const bool same_ends = w.prev_ready == ready;
  // ... and the pause the last change caused (it began at most at the tick that saw it) was
  // over when the interval began: a pause longer than a tick reaches into the interval after
  // next, whose consumption looked like pods slower than they are.
  // Nor one whose pause, longer than assumed, was still on when the interval began (3b).
  // (The set the interval began with had settled: 3c times a join against it.)
  const bool began_settled = w.prev_prev_ready == w.prev_ready && !w.pause_on &&
                             (!w.ready_changed_at || !w.last_tick ||
                              Seconds(*w.last_tick - *w.ready_changed_at) >= Rebalance(w, c));
  const bool set_unchanged = same_ends && began_settled;
  const bool ready_changed = w.prev_ready >= 0 && ready != w.prev_ready;
  if (ready_changed) w.ready_changed_at = in.now;
  const int32_t ready_before = w.prev_ready;
  const int64_t prev_backlog = w.prev_backlog;
  const std::optional<SteadyTime> prev_tick = w.last_tick;
  w.prev_prev_ready = w.prev_ready;
  w.prev_ready = ready;
  w.prev_replicas = n;
  w.prev_backlog = backlog_messages;
  w.last_tick = in.now;
  // Messages per second the group consumed over the interval, when known.
  const bool consumed_known = in.consumed_per_minute.has_value();
  const double consumed_rate = std::max(0.0, in.consumed_per_minute.value_or(0) / 60.0);

  // 1. Arrival rate.
  std::optional<double> sample;
  if (in.produced_per_minute) sample = std::max(0.0, *in.produced_per_minute / 60.0);
  bool drop = false;
  // The rate expected before this sample: what a burst seen in it may already be back to.
  const double level_before = w.has_level ? std::max(0.0, w.level + w.trend * dt) : 0;
  onset = sample && dt > 0 && LearnArrivalRate(*sample, dt, w, drop);
  if (sample && dt > 0) {
    // 1a. How long bursts here last: a burst whose onset is followed by a drop within
    // kShortTicks samples was short (a batch over within a tick, or one that straddled two).
    if (w.onset_sample) {
      ++w.onset_age;
      // Its next part, or its tail when this sample is the drop.
      w.onset_volume += std::max(0.0, *sample - w.onset_base) * dt;
      if (drop) {
        AddToRow(*w.onset_sample, w.onset_volume, w.short_bursts);
        w.long_bursts.in_a_row = 0;
        w.onset_sample.reset();
      } else if (w.onset_age < kShortTicks) {
        w.onset_sample = std::max(*w.onset_sample, *sample);  // its second part
      } else {
        w.short_bursts.in_a_row = 0;  // sustained: 1b follows it to its end
        w.long_peak = std::max(*w.onset_sample, *sample);
        w.long_base = w.onset_base;
        w.long_volume_now = w.onset_volume;
        w.long_seconds = (w.onset_age + 1) * dt;
        w.onset_sample.reset();
      }
    } else if (w.long_peak) {
      // 1b. A sustained burst: its next part, or its tail when this sample is the drop. One
      // that lasts beyond the lag rule's window is a new level, not a burst.
      w.long_volume_now += std::max(0.0, *sample - w.long_base) * dt;
      w.long_seconds += dt;
      if (drop) {
        AddToRow(*w.long_peak, w.long_volume_now, w.long_bursts);
        w.long_peak.reset();
      } else if (w.long_seconds > HpaRule{}.scale_down_window_seconds) {
        w.long_bursts.in_a_row = 0;
        w.long_peak.reset();
      } else {
        w.long_peak = std::max(*w.long_peak, *sample);
      }
    }
    if (onset && !w.onset_sample) {
      w.long_peak.reset();  // a new onset: whatever was followed is over
      w.onset_sample = sample;
      w.onset_age = 0;
      w.onset_base = level_before;
      w.onset_volume = std::max(0.0, *sample - level_before) * dt;
    }
  }
  dt_out = dt;
  const double lambda = w.level;
  detail.lambda = lambda;
  detail.sigma = w.sigma;
  // Waiting up to this many messages is in flight, not a shortage (the pods keep up).
  const double in_flight = std::max(1.0, kInFlightSeconds * lambda);
  // Work waited at both ends of the interval: every consumer worked it through (saturated).
  const bool saturated = backlog > in_flight && static_cast<double>(prev_backlog) > in_flight;

  // 3b. The pause of the last change of the ready set, whoever made it. A group that consumed
  // nothing since the tick that saw the change, with work waiting at both ends of the interval,
  // is still paused, and the interval in which the pause ends is no μ sample (set_unchanged
  // above). Without it a pause longer than assumed — before any scale-down timed it (3a) —
  // read as pods several times slower. (Not a bound on R: a group that stopped for another
  // reason would hold it high.)
  if (ready_changed) {
    w.pause_on = true;
  } else if (w.pause_on) {
    w.pause_on = saturated && consumed_known && consumed_rate <= 0;
  }

  // 2. One pod's rate.
  const int32_t consumers = ConsumingPods(ready, in.partition_count);
  // 2b. A stall is told by the pods coming back within 2 M of it; after that the jump stands.
  if (w.jumped_at && Seconds(in.now - *w.jumped_at) > 2 * MemorySeconds(w, c, dt)) {
    w.jumped_at.reset();
  }
  if (consumed_known && consumers > 0 && same_ends && dt > 0) {
    const double per_pod = consumed_rate / consumers;
    // 2b. An interval that shows the pods nearer the rate they had before a stall-sized jump than
    // the rate it jumped to (past the geometric mean of the two; a lower bound shows it as well
    // as a saturated sample) undoes the jump, μ and σ_μ both, before this sample is taken —
    // once per kMuConfirmedFor: stalls that recur are the pods' own noise, and σ_μ learns them.
    if (w.jumped_at && w.mu && per_pod >= std::sqrt(w.jumped_from_mu * *w.mu)) {
      if (!w.stall_undone_at || Seconds(in.now - *w.stall_undone_at) > kMuConfirmedFor) {
        w.mu = w.jumped_from_mu;
        w.mu_sigma = w.jumped_from_sigma;
        w.stall_undone_at = in.now;
      }
      w.jumped_at.reset();
    }
    // 2c. The pods back past the geometric mean of μ and a recurring stall's rate: it was noise.
    if (w.slow_since && w.mu && per_pod >= std::sqrt(w.slow_mu * *w.mu)) w.slow_since.reset();
    if (saturated && set_unchanged && per_pod > 0) {
      // A restored μ is another process's (perhaps another image's): this one's first
      // saturated sample replaces it rather than being averaged in.
      // Far off μ: the pods changed (a slower downstream), and averaging in would take several
      // saturated ticks, each falling further behind.
      // Off by more than the pods' own noise (kJumpSigmas σ_μ) too: consumption that is not
      // steady is not a change of the pods. Every sample against an exact μ, a jump included,
      // counts in σ_μ: most pods' slow spells are further off than kJumpFraction, and σ_μ
      // learned from the others alone stayed too small to stop the next jump.
      const double off = w.mu ? (per_pod - *w.mu) / *w.mu : 0;
      const bool jump = w.mu && std::abs(off) > std::max(kJumpSigmas * w.mu_sigma, kJumpFraction);
      // An exact μ of this process's own: its samples are averaged in and measure σ_μ.
      const bool tracked = w.mu_exact && !w.mu_restored;
      // 2c. A stall-sized drop within kMuConfirmedFor of a stall 2b undid is the pods' noise,
      // as 2b says: it counts in σ_μ but is averaged in like any sample, and so is every
      // saturated sample after it short of the geometric mean of the two rates, until the pods
      // have been that slow for 2 M: then they are slower pods, and the sample is taken as a
      // jump is (a spell no saturated sample carries past 4 M lapses). Taken at once, a recurring
      // stall became μ and stayed there: σ_μ, widened by its own residual, made the pods' return no
      // jump, and the samples after it weighed ∝ 1 / σ_μ².
      bool noise = false;
      bool slower = false;
      const double memory_s = MemorySeconds(w, c, dt);
      if (w.slow_since && Seconds(in.now - *w.slow_since) > 4 * memory_s) {
        w.slow_since.reset();  // no saturated sample carried the spell on: a new one may start
      }
      if (tracked && w.slow_since) {
        noise = Seconds(in.now - *w.slow_since) < 2 * memory_s;
        slower = !noise;
        if (slower) w.slow_since.reset();
      } else if (jump && tracked && off < -kStallFraction && w.stall_undone_at &&
                 Seconds(in.now - *w.stall_undone_at) <= kMuConfirmedFor) {
        w.slow_since = in.now;
        w.slow_mu = per_pod;
        noise = true;
      }
      const bool averaged = tracked && (!jump || noise) && !slower;
      const double sigma_before = w.mu_sigma;
      if (tracked) {
        w.mu_sigma =
            std::sqrt((1 - kSigmaWeight) * w.mu_sigma * w.mu_sigma + kSigmaWeight * off * off);
      }
      // Averaged in, a sample moves μ half the way for steady pods, less as their noise grows
      // (weight ∝ 1 / σ_μ², from σ_μ = kJumpFraction on): saturated samples come in the slow
      // spells, and at half weight one spell at a third of the rate moved μ by a third, the
      // pods ordered for it were held by σ_μ's band, and no saturated interval came to undo it.
      // The σ_μ that weighs it includes its own residual: a sample far off moves μ little more
      // than a near one (its influence is bounded), as it says more of the noise than of the mean.
      const double g = kMuWeight * std::pow(kJumpFraction / std::max(w.mu_sigma, kJumpFraction), 2);
      // A jump to below kStallFraction of μ may be a stall (the pods' downstream stopped for a
      // while): what μ and σ_μ were before it is kept for 2b. A stall's sample, taken, left μ at
      // the lower bound the drain showed (pods held at twice the count for an hour), or its
      // residual in σ_μ, whose band then held every pod the stall had ordered.
      if (jump && !noise && off < -kStallFraction && tracked && !w.jumped_at) {
        w.jumped_at = in.now;
        w.jumped_from_mu = *w.mu;
        w.jumped_from_sigma = sigma_before;
      }
      w.mu = averaged ? *w.mu * (1 + g * off) : per_pod;
      w.mu_exact = true;
      w.mu_restored = false;
      w.mu_confirmed_at = in.now;
    } else {
      RaiseToLowerBound(w, per_pod);
    }
  } else if (consumed_known && ready_before >= 0 && ready > ready_before && dt > 0) {
    // An interval in which the consumer set grew bounds μ from below too: no more than its
    // end's consumers consumed, and the joiners' start and the pause only lower what they did.
    // Before the first sample, without it a group whose count grows at every tick (a minimum
    // above the initial count, then a seed-rule climb) would stay on the seed rule. After it,
    // with ticks long enough that an up's pods drain the backlog within the interval they join
    // (a 60 s tick), no interval after a burst was both clean and saturated, μ stayed the load
    // ÷ the count, and every burst was met with pods sized for that. (A set that shrank waits
    // for a clean interval: its larger end may have left at the start, a bound too loose.)
    RaiseToLowerBound(w, consumed_rate / std::max(1, ConsumingPods(ready, in.partition_count)));
  }

  // 2a. Pods that keep up never saturate, so a μ measured once stays exact however much faster
  // they became since (a new image, a faster downstream): what they consume is the load, below
  // that μ. After kMuConfirmedFor without a saturated interval it is a lower bound again, and
  // scale-down probes; a probe that falls behind makes it exact again (5).
  if (w.mu_exact && !w.mu_confirmed_at) w.mu_confirmed_at = in.now;  // restored, or older state
  // Its noise ages with it: a σ_μ that no saturated interval measured for as long (its band
  // keeps pods that never saturate to bring it down) is forgotten, and learned again.
  if (w.mu_exact && Seconds(in.now - *w.mu_confirmed_at) > kMuConfirmedFor) {
    w.mu_exact = false;
    w.mu_sigma = 0;
  }

  // 3d. A join 3c left pending, with the interval after it: the m worked until S, the group
  // paused R, the k worked to this tick, so over (a, now] (k − m) S + k R = k (b + dt) − m a −
  // consumed / μ. Only when the k consumed something in this interval, saturated, with the same
  // consumers throughout: the pause ended within the two.
  // What 3c and 3d both ask of an interval that times a join: its consumption known, an exact
  // μ of steady pods, and work waiting at both ends (every consumer worked).
  const bool times_joins = consumed_known && w.mu && w.mu_exact && !w.mu_restored &&
                           w.mu_sigma <= kJumpFraction && saturated;
  if (const auto j = std::exchange(w.join_pending, std::nullopt)) {
    if (times_joins && same_ends && consumers == j->k && consumed_rate > 0) {
      const double end = j->b + dt;
      FitJoin(j->m, j->k, j->k * end - j->m * j->a - (j->consumed + consumed_rate * dt) / *w.mu,
              w.join_fit);
    }
  }

  // 3. Start-up time.
  if (w.up_at) {
    if (n < w.up_target) {
      w.up_at.reset();  // someone scaled down meanwhile: this scale-up can no longer be timed
    } else if (ready >= w.up_target && prev_tick) {
      // Bounded: pods that took longer (crash loops) would stretch the prediction horizon.
      const double upper =
          std::min(kMaxStartupSeconds, std::chrono::duration<double>(in.now - *w.up_at).count());
      // 3c. When within the bracket they joined, for the replay (10): the m consumers the
      // interval began with worked until the join at S, then the group paused R, then the k
      // worked to its end, so what it consumed says (k − m) S + k R = k b − m a − consumed / μ
      // for the bracket (a, b]. Only with an exact μ of steady pods, work waiting at both ends
      // (saturated: all of them worked), a set that had settled before the interval, and more
      // consumed than the m could alone (beyond the pods' noise): the k worked in it, so the
      // pause ended within it. (A join at the interval's end looked like no pause at all.)
      // When it consumed no more than that, the pause may have reached past its end (a join
      // at the interval's end, or a pause longer than what the k added): the interval after it
      // holds the rest, and the two together are timed at the next tick (3d).
      const int32_t m = ConsumingPods(ready_before, in.partition_count);
      const int32_t k = consumers;
      if (times_joins && began_settled && ready_before >= 0 && k > m) {
        const double a = Seconds(*prev_tick - *w.up_at);
        const double b = Seconds(in.now - *w.up_at);
        if (consumed_rate > (1 + kJumpFraction) * m * *w.mu) {
          FitJoin(m, k, k * b - m * a - consumed_rate * dt / *w.mu, w.join_fit);
        } else {
          w.join_pending = WaitMemory::PendingJoin{
              .a = a, .b = b, .consumed = consumed_rate * dt, .m = m, .k = k};
        }
      }
      w.startup = w.startup_measured ? 0.5 * (w.startup + upper) : upper;
      w.startup_measured = true;
      w.up_at.reset();
    }
  }
  detail.startup_s = w.startup;

  // 3a. Rebalance pause, timed from a scale-down.
  if (w.down_at) {
    const double since = Seconds(in.now - *w.down_at);
    const int32_t consumers_m = ConsumingPods(w.down_target, in.partition_count);
    const double consumed = consumed_known ? consumed_rate * dt : -1;
    const bool saturated_now = backlog > in_flight;
    if (n != w.down_target || ready != w.down_target || consumed < 0 || !w.mu || consumers_m <= 0 ||
        since > kMaxStartupSeconds) {
      w.down_at.reset();  // another change, or nothing to time it by
    } else {
      w.down_consumed += consumed;
      if (!saturated_now) {
        w.down_at.reset();  // the pods keep up, or nothing arrives: no pause to see
      } else if (consumed > 0) {
        // Only an exact μ times the work: a lower bound would make it look longer, the pause
        // shorter than it was.
        if (w.mu_exact) {
          const double worked = w.down_consumed / (consumers_m * *w.mu);
          const double pause = std::clamp(since - worked, 0.0, kMaxRebalanceSeconds);
          w.rebalance = w.down_prior ? 0.5 * (*w.down_prior + pause) : pause;
        }
        w.down_at.reset();
      } else if (w.down_consumed <= 0) {
        // Nothing consumed yet with work waiting: the pause is at least this long. Used at
        // once — the up that such a pile-up brings would end the timing before its sample.
        const double at_least = std::min(since, kMaxRebalanceSeconds);
        if (Rebalance(w, c) < at_least) w.rebalance = at_least;
      }
    }
  }
  // The pause learned at this tick is used from this tick on.
  const double rebalance = Rebalance(w, c);
  detail.rebalance_s = rebalance;

  // The λ samples of the last M seconds (capacity memory) and of the last W (the backlog's
  // age, 6).
  const double memory_s = MemorySeconds(w, c, dt);
  if (sample) w.recent.emplace_back(in.now, *sample);
  while (!w.recent.empty() &&
         (w.recent.size() > kMaxRecent ||
          Seconds(in.now - w.recent.front().first) > std::max(memory_s, target + dt))) {
    w.recent.pop_front();
  }

  const bool arriving = lambda > 0 || sample.value_or(0) > 0;
  if (!w.mu || !w.has_level) {
    detail.why = "seed_rule";
    const int64_t seed =
        std::max<int64_t>(RecommendedPods(in.backlog, c.messages_per_pod), arriving ? 1 : 0);
    // The first tick of a process has seen no interval: a (re)started daemon does not take
    // pods away on the seed rule before it has measured anything (7).
    return prev_tick ? seed : std::max<int64_t>(seed, n);
  }
  const double mu = *w.mu;
  detail.mu = mu;
  detail.mu_sigma = w.mu_sigma;

  int32_t cap = c.max_replicas;
  if (c.limit_to_partitions && in.partition_count > 0) cap = std::min(cap, in.partition_count);
  cap = std::max(cap, c.min_replicas);
  cap_out = cap;

  // 4. "Keep the current count".
  const double startup = PredictionStartup(w, c, dt);  // 3c
  Fluid f;
  f.backlog = backlog;
  f.lambda = lambda;
  f.band = kBand * w.sigma;
  f.sample_seconds = dt;
  f.rise = std::max(0.0, w.trend);
  f.rise_for = startup;
  f.mu = mu;
  f.partitions = in.partition_count;
  f.rebalance = rebalance;
  f.horizon = startup + kHorizonBeyondStartup;
  f.ready = ready;
  f.starting = std::max(0, n - ready);
  f.starting_at =
      w.up_at ? std::max(0.0, startup - std::chrono::duration<double>(in.now - *w.up_at).count())
              : startup / 2;
  f.startup = startup;
  const double keep = PeakWait(f, 0);
  detail.predicted_peak_wait_s = keep;

  // 5a. Cancel pods still starting that the load no longer needs: a burst seen at one tick may
  // be over by the next (short batches). Only on new evidence — a drop of the rate seen at
  // this tick — never on a re-evaluation of the same rate (which would trim a scale-up at the
  // edge of the target and order again next tick). Removing a pod that has not joined costs no
  // rebalance, only the start-up it has done, so the drop is used as soon as it is seen (the
  // removal of ready pods waits until it is believed).
  const int32_t lowest = std::max(c.min_replicas, arriving ? 1 : 0);

  // 6b. Bursts that repeat within the lag rule's window: the next one, its largest volume
  // arriving when the period says — at once when it fits in a sample (how it spread within
  // the tick is unknown), else at its smallest peak rate for the time that volume takes above
  // the rate between bursts. When the pods now keep it under W, a smaller count must too, and
  // the count it needs (`burst_floor`, none above n) is held between bursts (why = burst_hold,
  // a prediction: not idle while nothing arrives between them). A count cycled up for each burst
  // and down after it let every burst wait for start-up (p99 above W) and changed the count twice a
  // burst (a spike every 2 min: 58 scale events an hour against keda-hpa's 38).
  Fluid next = f;
  int32_t burst_floor = 0;
  const auto repeating = RepeatingBurst(w, dt);
  // Due within the period, or overdue by at most M (then at once); later, it did not come.
  const double until = repeating ? Seconds(repeating->next.at - in.now) : 0;
  // The rate between bursts: the lowest of the last M (the level now may be a burst's).
  const double between = repeating ? RecentRates(w, in.now, memory_s, lambda).first : lambda;
  if (repeating && until >= -memory_s && repeating->rate > between) {
    next.lump_at = std::clamp(until, 0.0, repeating->next.period);
    const double spread = repeating->volume / (repeating->rate - between);
    if (spread > dt * (1 + kJumpFraction)) {
      next.lump_for = spread;
      next.lump_rate = repeating->rate;
    } else {
      next.lump = repeating->volume;
    }
    next.horizon = std::max(f.horizon, next.lump_at + next.lump_for + 2 * target);
    if (PeakWait(next, 0) <= target) {
      burst_floor = n;
      while (burst_floor > lowest && PeakWait(next, burst_floor - 1 - n) <= target) --burst_floor;
    } else {
      // Short of what it needs: all of them are held (the burst's own up comes as any up) —
      // unless not even the cap keeps it under W (more pods never wait longer), when holding
      // any buys nothing.
      if (n < cap && PeakWait(next, cap - n) <= target) {
        burst_floor = n;
      } else {
        next.lump = 0;
        next.lump_for = 0;
      }
    }
  }
  burst_floor_out = burst_floor > lowest ? burst_floor : 0;

  if (f.starting > 0 && drop && sample) {
    Fluid now = f;
    now.lambda = std::min(lambda, *sample);
    now.rise = 0;
    int32_t choice = n;
    for (int32_t m = n - 1; m >= std::max(ready, lowest); --m) {
      if (PeakWait(now, m - n) > target || !Keeps(now, m, now.lambda, w.sigma)) break;
      choice = m;
    }
    if (choice < n) {
      // The pods kept were ordered with the rest: their start-up is still timed (short
      // batches cancel most orders, and S would stay at its prior).
      if (w.up_at && choice > w.up_from) w.up_target = std::min(w.up_target, choice);
      detail.why = "cancel";
      return choice;
    }
  }

  // 5. Up, once, to the smallest count that keeps the wait under the target.
  // Messages that arrive before new pods could consume have a wait no count changes much; a
  // count is judged on those arriving from then on.
  const double effect = startup + rebalance;
  // 5d. A probe stands until the pods show it wrong: within M of a scale-down that assumed pods
  // kProbe × faster (μ only a lower bound), with the count it went to and no more waiting than
  // is in flight, "keep" is judged with the pods it assumed. Judged with the lower bound, the
  // prediction undid every probe at the next tick, before an interval at the probe's count could
  // raise the bound, and the up that followed made the bound exact though nothing had fallen
  // behind: 190 msg/s on pods of 20 stayed at 17 pods (μ 11.2, "exact") for hours.
  if (keep > target && n < cap && !w.mu_exact && w.probe_at && n == w.probe_count &&
      Seconds(in.now - *w.probe_at) <= memory_s && backlog <= in_flight) {
    Fluid probed = f;
    probed.mu = mu * kProbe;
    if (PeakWait(probed, 0) <= target) {
      detail.why = "probe_pending";
      return n;
    }
  }
  if (keep > target && n < cap) {
    // Sized for a rise that goes on M beyond the start-up, as a scale-down looks back M: a
    // count sized only for the rate at its pods' start-up falls behind a steady rise as soon as
    // they are ready, and each up then pauses the group again.
    Fluid rising = f;
    rising.rise_for = f.horizon;
    int32_t choice = SmallestCount(rising, n, cap, target, effect);
    // The last responsible tick: when the same pods ordered one tick from now would still keep
    // every message's wait (from now on, not only after they could help) under the target,
    // order them then, with that tick's sample — a rise seen once may already be over, and pods
    // held for a wait far under the target cost what the target does not ask for.
    if (choice > n && dt > 0) {
      Fluid later = f;
      later.startup = startup + dt;
      if (PeakWait(later, choice - n) <= target) {
        detail.why = "up_later";
        return n;
      }
    }
    // 5b. A burst that is likely over already (the last kShortOnsets onsets were each over
    // within kShortTicks samples), or a rate that this tick's sample says has dropped:
    // when, with arrivals back at the level before the onset (at the sample), the pods would
    // cut the peak wait by at most kNearlyEmptyFraction × W (they start too late to help much
    // with the backlog), order nothing yet: at a tick's delay the pods would cost more in
    // changes (an order, then a cancel, at every short batch) than they buy. The next sample tells:
    // a drop orders nothing, a sustained rate orders the pods a tick later. (Only an onset as large
    // as those: a smaller one may be the first part of a burst that straddles the tick.)
    const bool doubted = onset && w.short_bursts.in_a_row >= kShortOnsets &&
                         *sample >= kPartialOnset * w.short_bursts.peak_rate;
    if (choice > n && sample && (doubted || drop)) {
      Fluid over = f;
      over.lambda = std::min(lambda, doubted ? level_before : *sample);
      over.rise = 0;
      if (PeakWait(over, 0) - PeakWait(over, choice - n) <= kNearlyEmptyFraction * target) {
        detail.why = "up_unconfirmed";
        return n;
      }
    }
    // 5c. A burst no larger than the last short ones: while this burst (its onset within
    // kShortTicks samples, after kShortOnsets short bursts in a row) has brought no more messages
    // above the rate before it than the largest of those (within kJumpFraction), size the up for
    // it ending there — the rest of that volume arriving at this sample's rate, then the rate
    // before — and judge every count on the backlog too (it is most of what the pods are for).
    const bool like_short = sample && w.onset_sample && w.short_bursts.in_a_row >= kShortOnsets &&
                            w.onset_volume <= (1 + kJumpFraction) * w.short_bursts.volume &&
                            (!onset || doubted);
    // ... and one like the last sustained ones (1b), from its onset on, sized the same way.
    const bool like_long = sample && !like_short && w.long_bursts.in_a_row >= kShortOnsets &&
                           (w.onset_sample || w.long_peak) &&
                           (w.long_peak ? w.long_volume_now : w.onset_volume) <=
                               (1 + kJumpFraction) * w.long_bursts.volume;
    if (choice > n && (like_short || like_long)) {
      const double base = like_long && w.long_peak ? w.long_base : w.onset_base;
      const double brought = like_long && w.long_peak ? w.long_volume_now : w.onset_volume;
      const double volume = like_long ? w.long_bursts.volume : w.short_bursts.volume;
      Fluid burst = f;
      burst.lambda = std::min(lambda, base);
      burst.rise = 0;
      burst.burst = std::max(0.0, *sample - base);
      burst.burst_for = burst.burst > 0 ? std::max(0.0, volume - brought) / burst.burst : 0;
      // The smallest count that keeps the target, or else under which no message waits more
      // than kBurstSlackSeconds longer than under `choice` (a peak alone would hide the burst's
      // last messages behind the backlog's wait, and they are the p99).
      std::vector<double> most;
      PeakWait(burst, choice - n, 0, &most);
      int32_t sized = n;
      for (std::vector<double> waits; sized < choice; ++sized) {
        waits.clear();
        if (PeakWait(burst, sized - n, 0, &waits) <= target) break;
        double extra = 0;
        for (size_t k = 0; k < waits.size(); ++k) extra = std::max(extra, waits[k] - most[k]);
        if (extra <= kBurstSlackSeconds) break;
      }
      if (sized <= n) {
        detail.why = "burst_covered";
        return n;
      }
      choice = sized;
    }
    // An up that cuts the peak within the horizon by no more than kNoBetterSeconds is useless
    // — unless the count now falls behind without end and the choice does not: with a pause
    // longer than W, the up's pause piles up more at once than a small shortfall does within
    // the horizon, and keeping the count looked better for as long as the load stayed above it.
    const bool catches_up = !Keeps(f, n, lambda, w.sigma) && Keeps(f, choice, lambda, w.sigma);
    if (choice > n && (catches_up || PeakWait(f, 0, effect) - PeakWait(f, choice - n, effect) >
                                         kNoBetterSeconds)) {
      // An up within M of a probe (a scale-down that assumed pods kProbe × faster) is the
      // probe's answer: the pods are not faster. μ stands; otherwise the probe would be asked
      // again and again when the up comes before a clean saturated sample can be taken. So is
      // a later up from the probe's count itself (nothing changed since) at a rate that pods
      // as fast as the probe assumed would have carried: a small shortfall takes longer than
      // M to show in the wait, and had the pods been faster, μ would have risen meanwhile.
      const bool answers_probe =
          w.probe_at &&
          (Seconds(in.now - *w.probe_at) <= memory_s ||
           (n == w.probe_count && ConsumingPods(n, in.partition_count) * mu * kProbe >= lambda));
      if (answers_probe) {
        w.mu_exact = true;
        w.mu_confirmed_at = in.now;
      }
      w.probe_at.reset();
      w.replaced_up_at = w.up_at;
      w.replaced_up_target = w.up_target;
      w.replaced_up_from = w.up_from;
      w.up_at = in.now;
      w.up_target = choice;
      w.up_from = n;
      detail.why = "up";
      return choice;
    }
    detail.why = "up_useless";
    return n;
  }

  // 6. Down, only when it is safe and worth a rebalance.
  const double drain_capacity = std::max(1e-9, consumers * mu);
  const bool nearly_empty = backlog / drain_capacity <= kNearlyEmptyFraction * target;
  const bool quiet =
      !w.change_at || std::chrono::duration<double>(in.now - *w.change_at).count() >= memory_s;
  // More is waiting than arrived within W, so the oldest messages have waited longer than W:
  // a removal would keep them waiting longer still (after a burst above the partitions' drain
  // they are the p99). Not before they are consumed.
  const auto old_waiting = [&] {
    return backlog > in_flight && backlog > ArrivedWithin(w.recent, in.now, target, dt, lambda);
  };
  if (n > lowest && nearly_empty && quiet && f.starting == 0 && !old_waiting()) {
    const double highest = RecentRates(w, in.now, memory_s, lambda).second;
    Fluid down = next;  // 6b: a smaller count keeps the next of repeating bursts under W too
    down.lambda = highest;
    down.rise_for = f.horizon;  // a rise carried on as an up sizes for it (5): no down mid-rise
    down.mu = w.mu_exact ? mu : mu * kProbe;
    down.mu_sigma = w.mu_sigma;
    // Each smaller count under W is worth it when the pod-seconds it saves over kSavingSeconds
    // exceed the rebalance loss (min(n, P) × rebalance) plus kEventPrice. A count that does
    // not keep up lasts only until its queue makes the prediction order pods again (the wait
    // at the horizon's end reaches W), so its saving counts until then, and it pays for the
    // way back too.
    const int32_t paused = ConsumingPods(n, in.partition_count);
    const double change_loss = paused * rebalance + kEventPrice;
    int32_t choice = n;
    bool under_target = false;
    // A pause longer than the target breaks it on any change: then the wait allowed is the
    // pause plus a nearly empty backlog's drain, so that the pods a burst brought can still go.
    const double allowed = std::max(target, rebalance + kNearlyEmptyFraction * target);
    // ... but only while the pause lasts: what arrives after it must wait under W again, or
    // the next tick's prediction (which keeps m) sees the pause's pile and orders pods back,
    // each way a pause (λ·R must drain at m·μ within W: a 30 s pause and W = 20 need 1.5× λ).
    const auto fits = [&](const Fluid& fluid, int32_t m) {
      return PeakWait(fluid, m - n) <= allowed &&
             (allowed <= target || PeakWait(fluid, m - n, rebalance) <= target);
    };
    double choice_lasts = 0;
    double choice_loss = 0;
    // Not below the count the next of repeating bursts needs (6b; judged with μ, not a probe's).
    for (int32_t m = n - 1; m >= std::max(lowest, burst_floor); --m) {
      if (!fits(down, m)) break;
      under_target = true;
      double lasts = kSavingSeconds;
      double loss = change_loss;
      if (!Keeps(down, m, lambda, w.sigma)) {
        const int32_t consumers_m = ConsumingPods(m, in.partition_count);
        const double capacity = consumers_m * down.mu;
        const double reaches_target = (target * capacity - backlog) / (lambda - capacity);
        lasts = std::clamp(reaches_target - down.horizon, 0.0, kSavingSeconds);
        loss = 2 * change_loss;
      }
      if ((n - m) * lasts > loss) {
        choice = m;
        choice_lasts = lasts;
        choice_loss = loss;
      }
    }
    // 6a. A step that the capacity memory makes shallow: when a smaller count already keeps
    // the wait at today's rate and only older samples hold it back, those age out within τ and
    // the deeper step can be taken from n at once. The shallow step then saves only until τ,
    // delays the deeper one to M after itself, and costs a change of its own.
    if (choice < n && choice > lowest) {
      Fluid now_rate = down;
      now_rate.lambda = lambda;
      int32_t deeper = choice;
      for (int32_t m = choice - 1; m >= std::max(lowest, burst_floor); --m) {
        if (!fits(now_rate, m) || !Keeps(now_rate, m, lambda, w.sigma)) break;
        deeper = m;
      }
      if (deeper < choice) {
        // τ: until every sample that keeps `deeper` out has aged out. The peak grows with λ,
        // so the highest rate known to pass and the lowest known to fail spare simulations
        // (`highest` fails: had it passed, the loop above would have chosen `deeper`).
        double tau = 0;
        double passes = lambda;
        double fails = highest;
        for (const auto& r : w.recent) {
          const double age = Seconds(in.now - r.first);
          if (age > memory_s || memory_s - age <= tau || r.second <= passes) continue;
          bool out = r.second >= fails;
          if (!out) {
            Fluid at = down;
            at.lambda = r.second;
            out = !fits(at, deeper);
            (out ? fails : passes) = r.second;
          }
          if (out) tau = memory_s - age;
        }
        const double saved = (n - choice) * std::min(choice_lasts, tau) -
                             (choice - deeper) * std::max(0.0, memory_s - tau);
        if (saved <= choice_loss) {
          detail.why = "down_later";
          return n;
        }
      }
    }
    if (choice < n) {
      if (!w.mu_exact) {
        w.probe_at = in.now;
        w.probe_count = choice;
      }
      w.down_at = in.now;
      w.down_target = choice;
      w.down_consumed = 0;
      w.down_prior = w.rebalance;
      detail.why = "down";
      return choice;
    }
    if (under_target) {
      detail.why = "down_not_worth";
      return n;
    }
  }
  detail.why = "hold";
  return std::max<int32_t>(n, lowest);
}

}  // namespace

namespace {

// 8, 9: prediction on top of the reactive count.
int64_t Predicted(const PolicyInput& in, const PolicyConfig& c, PolicyState& st, WaitDetail& detail,
                  double& dt) {
  bool onset = false;
  int32_t cap = std::max(c.min_replicas, c.max_replicas);
  int32_t burst_floor = 0;
  const int64_t reactive = Reactive(in, c, st, detail, onset, dt, cap, burst_floor);
  // 6b: a count kept (or brought down) no lower than the next repeating burst needs.
  if (burst_floor > 0 && reactive >= burst_floor && reactive <= in.current_replicas) {
    detail.why = "burst_hold";
  }
  WaitMemory& w = st.wait;
  const double memory_s = MemorySeconds(w, c, dt);
  // 8. Prediction: remember burst onsets and the pods each burst had.
  if (w.onset_count > 0) {
    const size_t last = static_cast<size_t>(w.onset_count - 1) % WaitMemory::kOnsets;
    if (Seconds(in.now - w.onsets[last]) <= 2 * memory_s) {
      w.onset_pods[last] = std::max({w.onset_pods[last], in.current_replicas,
                                     static_cast<int32_t>(std::min<int64_t>(reactive, cap))});
    }
  }
  const bool far_from_last =
      w.onset_count == 0 ||
      Seconds(in.now - w.onsets[static_cast<size_t>(w.onset_count - 1) % WaitMemory::kOnsets]) >
          2 * memory_s;
  if (onset && far_from_last) {
    const size_t slot = static_cast<size_t>(w.onset_count) % WaitMemory::kOnsets;
    w.onsets[slot] = in.now;
    w.onset_pods[slot] =
        std::max(in.current_replicas, static_cast<int32_t>(std::min<int64_t>(reactive, cap)));
    w.onset_count = std::min(w.onset_count + 1, INT32_MAX - 1);
  }
  if (c.predict && in.produced_per_minute)
    LearnDay(std::max(0.0, *in.produced_per_minute / 60.0), in.now, w.day.Make());
  if (!c.predict || !detail.mu) return reactive;
  // Pre-scale start-up + rebalance + one tick ahead of the predicted onset, and hold through it
  // — unless the bursts are short and repeat within the lag rule's window: then 6b holds the
  // count that keeps the next one under W between them (pre-scaling each to its pods and
  // coming down after doubled the scale events: 85 an hour on a spike every 2 min).
  if (const auto burst = PredictBurst(w, dt); burst && !RepeatingBurst(w, dt)) {
    const double until = Seconds(burst->at - in.now);
    const int32_t pods = std::min(burst->pods, cap);
    if (until <= memory_s && until >= -memory_s && pods >= reactive) {
      detail.why = "prescale";  // also when already there: holds the pods through the window
      return pods;
    }
  }
  // The daily shape: a confident rise within start-up + rebalance + one tick, beyond the noise
  // of the rate now, gets the pods that carry it before it comes.
  const double ahead = w.day.get() ? DailyRate(*w.day.get(), in.now, memory_s) : 0;
  if (ahead <= w.level + std::max(kJumpSigmas * w.sigma, kJumpFraction * w.level)) {
    return reactive;
  }
  const auto pods = std::min<int64_t>(cap, static_cast<int64_t>(std::ceil(ahead / detail.mu)));
  if (pods < reactive) return reactive;
  detail.why = "prescale_day";
  return pods;
}

// The start-up and pause the replay (10) runs with. 3c's fit once a join was timed: both when
// the joins it saw differ enough in k / m to tell them apart, else S with the pause learned
// (3a), stated or none (10); S within the tick-wide bracket it was learned in (outside it, at the
// bracket's end with the pause the joins say). Before any, the lower end of that bracket once S
// is measured, the 30 s prior before: the replay bounds what `wait` may spend, and a start-up
// it has not timed is taken at its earliest, as an untimed pause at none (10). With the upper
// end the rule's lag, then its count, ran high; with the middle too where the bracket is wide
// (a 60 s tick, which seldom times a join: 30 s for pods of 10, the replay 1.23x keda-hpa's).
ReplayTiming TimedForReplay(const WaitMemory& w, double dt, double rebalance) {
  ReplayTiming out{.startup = w.startup_measured ? std::max(0.0, w.startup - dt) : w.startup,
                   .rebalance = rebalance};
  const WaitMemory::JoinFit& f = w.join_fit;
  if (f.samples == 0 || !w.startup_measured) return out;
  double startup = out.startup;
  const double det = f.uu * f.vv - f.uv * f.uv;
  if (f.uu > 0 && det > kFitConditioning * f.uu * f.vv) {
    startup = (f.vv * f.uy - f.uv * f.vy) / det;
    out.rebalance = (f.uu * f.vy - f.uv * f.uy) / det;
    if (out.rebalance < 0) {  // no pause at all: S alone
      out.rebalance = 0;
      startup = f.uy / f.uu;
    }
  } else if (f.uu > 0) {
    startup = (f.uy - f.uv * rebalance) / f.uu;
  }
  // An S outside the bracket (the pause assumed was off) takes the bracket's nearer end, and the
  // pause the joins' consumption says with it.
  const double lo = std::max(0.0, w.startup - dt);
  if (f.vv > 0 && (startup < lo || startup > w.startup)) {
    startup = std::clamp(startup, lo, w.startup);
    out.rebalance = (f.vy - f.uv * startup) / f.vv;
  }
  out.startup = std::clamp(startup, lo, w.startup);
  out.rebalance = std::clamp(out.rebalance, 0.0, kMaxRebalanceSeconds);
  return out;
}

// Our count after M as a loan of the cost ceiling (10) reckons it over `reach` seconds:
// minReplicaCount, as the loan is repaid by ours coming down while the rule's window holds its
// count — unless, while the replay is young, the rule's count (its pods or next proposal) already
// carries the rate and the rule, run on a sync at a time at the rate and its trend, would not
// climb above it within the reach: then the rule drains the backlog with the count it has and
// keeps it, and the load keeps ours at what carries the rate too, so a loan reckoned with
// minReplicaCount was never repaid (a cold start's 5 pods for 75 s where the rule kept 2, 1.055x
// keda-hpa's pod-seconds in a scenario of two pods). Where the rule climbs — its pods still
// starting while its lag grows (pods of 40 under 190 msg/s, proposed 5 at 15 s, then 9), or a
// rising load — the climb repays the loan as before.
double LoanFloor(const PolicyInput& in, const WaitMemory& w, const HpaRule& rule,
                 const LagReplay& replay, const LagShadow& s, int32_t proposal, bool young,
                 double reach, double lowest) {
  const int32_t rule_count = std::max(s.pods(), proposal);
  if (!young || !Keeps(*w.mu, in.partition_count, rule_count, w.level, w.sigma)) {
    return lowest;
  }
  LagShadow ahead = s;
  for (double u = 0; u < reach; u += rule.hpa_sync_seconds) {
    AdvanceLagShadow(
        rule,
        {.seconds = rule.hpa_sync_seconds,
         .arrival_rate = std::max(0.0, w.level + w.trend * (u + rule.hpa_sync_seconds)),
         .pod_rate = *w.mu,
         .startup = replay.startup,
         .rebalance = replay.rebalance,
         .own_pods = in.current_replicas},
        ahead);
    if (ahead.pods() > rule_count) return lowest;
  }
  return static_cast<double>(SmallestKeeping(
      *w.mu, in.partition_count, static_cast<int64_t>(lowest), rule_count, w.level, w.sigma));
}

// 10. The cost ceiling (COST_CEILING, c > 0): the lag rule replayed on the arrivals each tick
// saw (policy/hpa_rule.h LagShadow), with the learned μ, S and R, at three phases of its sync
// clock, of which the cheapest stands (CheapestLagShadow). Over the rule's scale-down
// window from now, the budget is c × (what the rule spent, weighted over kCeilingSeconds, plus
// what its window binds it to spend) − what we spent − the count held for M − the floor after
// that. Within budget the count may exceed the rule's pods (or what its next sync proposes, or
// what it would keep for our lag) by what the budget pays for over M at a ratio lowered by as
// much as our spend so far is above the rule's, the window counted over its first
// kLoanSeconds once the replay has run kLoanYoungWindows of them, our count after M at the
// floor LoanFloor says, and is never lowered; over budget it is held to that count, a scale-down if
// need be, but not below what carries the load (M ahead while it rises). Pre-scales are left alone.
int64_t Ceiled(const PolicyInput& in, const PolicyConfig& c, WaitMemory& w, WaitDetail& detail,
               double dt, int64_t count) {
  if (c.cost_ceiling <= 0 || !w.mu || !w.has_level) return count;
  const HpaRule rule{.lag_threshold = std::max<int64_t>(1, c.messages_per_pod),
                     .min_replicas = c.min_replicas,
                     .max_replicas = std::max(c.min_replicas, c.max_replicas),
                     .partitions = in.partition_count};
  // The replay starts the first time it is needed: its box exists once it has started.
  const bool started = w.replay.get() != nullptr;
  LagReplay& replay = w.replay.Make();
  // The start-up and pause as the joins timed them (3c), else S at its bracket's lower end.
  // A pause neither timed (3a) nor stated (RATE_REBALANCE_SECONDS) is assumed none, so the
  // joins' fit takes the smallest one S's bracket allows.
  const double pause = w.rebalance || c.rate_rebalance_given ? detail.rebalance_s : 0;
  const ReplayTiming timing = TimedForReplay(w, dt, pause);
  if (!started) {
    StartLagReplay(rule, in.backlog, in.current_replicas, in.ready_replicas, timing.startup,
                   timing.rebalance, kCeilingSeconds, replay);
  } else if (dt > 0) {
    // What was learned since the replay began replays its first hour again (hpa_rule.h
    // LagReplay): the rule's path there is what it spends on for the rest of the run.
    RetimeLagReplay(rule, timing.startup, timing.rebalance, replay);
    AdvanceLagReplay(rule,
                     {.seconds = static_cast<float>(dt),
                      .arrival_rate = static_cast<float>(
                          std::max(0.0, in.produced_per_minute.value_or(0) / 60.0)),
                      .pod_rate = static_cast<float>(*w.mu),
                      .own_pods = in.current_replicas},
                     replay);
  }
  const double window = rule.scale_down_window_seconds;
  // The rule on the clock (the phase of its syncs) that spends the least over its window.
  const CheapestShadow cheapest = CheapestLagShadow(rule, replay, window);
  const LagShadow& s = *cheapest.shadow;
  detail.lag_rule_phase_s = s.phase;
  // What it runs with: within kLagReplayRetimeSeconds of what was learned.
  detail.lag_rule_startup_s = replay.startup;
  detail.lag_rule_rebalance_s = replay.rebalance;
  detail.ceiling = true;
  detail.lag_rule_replicas = s.pods();
  detail.lag_rule_pod_seconds = s.rule_pod_seconds;
  detail.pod_seconds = s.own_pod_seconds;
  const int32_t n = in.current_replicas;
  // What the rule would keep for the lag we have had (every tick, a pre-scale's too: its window
  // remembers them): the replay's queue drains at the learned μ, ours at the pods' true rate.
  // Where the two part (pods slower than μ says, in the slow spells of noisy pods), the rule as
  // it runs would have ordered pods for our lag and kept them over its scale-down window.
  const int32_t on_our_lag =
      HpaStabilized(rule, replay.on_our_lag, s.t, HpaCappedLag(rule, in.backlog), std::max(1, n));
  // A pre-scale (8, 9) is the prediction's, bounded by its own confidence: the rule cannot
  // see a burst coming, and its replay would hold the pods back until the burst had come.
  if (detail.why == "prescale" || detail.why == "prescale_day") return count;
  // What the rule's next sync (at most a sync period away) proposes, and its pods by then.
  const int32_t proposal = cheapest.proposal;
  const int32_t rule_pods = std::max({s.pods(), proposal, on_our_lag});
  detail.lag_rule_replicas = rule_pods;
  const double hold = std::min(window, std::max(dt, MemorySeconds(w, c, dt)));
  const double lowest = std::max(c.min_replicas, 1);
  const double ratio = CeilingRatio(c.cost_ceiling, w.mu_sigma);
  const double rule_spend = cheapest.spend;  // its own and what its window binds it to
  const double ours = s.own_pod_seconds + lowest * (window - hold);
  const double budget = ratio * rule_spend - ours;
  // A loan (a count above both ours and the rule's) is reckoned with our count at the floor
  // after M, which the load may not allow: where it held ours above, the loans were never repaid
  // and our spend stayed above the rule's. The ratio a loan may reach falls by as much as our
  // spend so far is above the rule's; holding the count we have is judged as before. A loan is
  // repaid as the rule holds its count over its window while ours comes down; a run, a load or
  // a bill's period that ends within the window never sees the repayment (a spike 155 s before
  // the hour's end, 1.06x keda-hpa's pod-seconds). A loan counts the window's first
  // kLoanSeconds only, both the rule's commitment and our floor — once the replay has run
  // kLoanYoungWindows windows (before, a loan is all against the future, the rule having spent
  // little yet, and a run just begun is far from its end: shortened there, steady's first up
  // fell a pod short of the load, p99 27 -> 31 s). In a climb too: there the rule's count climbs
  // and its spend outgrows the window it has committed, but a climb that ends with the run
  // never sees it (8 pods against the rule's 6 at 3,360 s, 1.067x keda-hpa's pod-seconds);
  // counted whole there, diurnal's morning loans bought its worst noise seed's p99 (5 seeds,
  // median/worst 22/28 s against 21/38) for about 0.5 % more pod-seconds where it moved the
  // thirty-six fresh seed sets (1,066 of 7,416 scenarios) and that row.
  // It matters only where `wait` asks for more than both within budget, and only then is it
  // reckoned (its floor runs the rule on, its commitment sums the window's seconds).
  int64_t allowed = rule_pods;
  if (budget >= 0) {
    allowed = std::max<int64_t>(rule_pods, n);
    if (count > allowed) {
      const double over =
          s.rule_pod_seconds > 0 ? std::max(0.0, s.own_pod_seconds / s.rule_pod_seconds - 1) : 0;
      const bool young = s.t < kLoanYoungWindows * window;
      const double reach = young ? window : std::clamp(kLoanSeconds, hold, window);
      // Over the whole window a loan's rule spend is the budget's own: not summed a second time.
      const double loan_rule =
          reach < window ? s.rule_pod_seconds + LagShadowCommitted(rule, s, proposal, reach)
                         : rule_spend;
      const double floor_after = LoanFloor(in, w, rule, replay, s, proposal, young, reach, lowest);
      const double loan_ours = s.own_pod_seconds + floor_after * (reach - hold);
      const double loan = ((ratio - over) * loan_rule - loan_ours) / hold;
      allowed = std::max<int64_t>(allowed, static_cast<int64_t>(loan));
    }
  }
  if (count <= allowed) return count;
  // Not down into a rise, nor below the load: while the arrival rate climbs beyond its noise
  // over M, the rule's count falls behind it (the rule waits for its lag to grow), and a count
  // that does not keep up with the rate now falls behind at once; a down to either was undone
  // by an up within minutes, two changes and two pauses for the pod-seconds of M. Such a down
  // stops at the count that carries the rate (M ahead while it rises), less its noise band, as
  // far as the budget pays for it without its margin (the margin is for the replay's error;
  // where the rule runs lean through a long climb, holding above it beyond that took `wait`
  // past its cost); never above the count now or what `wait` asks.
  if (allowed < n) {
    const double unmargined = std::max(1.0, ratio) * rule_spend - ours;
    const int64_t paid = unmargined >= 0 ? static_cast<int64_t>(unmargined / hold) : 0;
    const bool rising = w.trend * hold > kBand * w.sigma;
    const double rate = w.level + (rising ? w.trend * hold : 0.0);
    const int64_t carries = SmallestKeeping(*w.mu, in.partition_count, allowed,
                                            std::min<int64_t>({n, count, paid}), rate, w.sigma);
    if (carries >= count) return count;  // what `wait` asked for stands, and its reason
    allowed = carries;  // below count, at most n: held as any count the ceiling allows
  }
  if (w.up_at && *w.up_at == in.now) {
    if (allowed > w.up_from) {
      w.up_target = static_cast<int32_t>(allowed);
    } else {
      // No pod ordered: the up this one replaced, if any, is still being timed.
      w.up_at = w.replaced_up_at;
      w.up_target = w.replaced_up_target;
      w.up_from = w.replaced_up_from;
    }
  }
  if (w.down_at && *w.down_at == in.now) w.down_target = static_cast<int32_t>(allowed);
  detail.why = "cost_ceiling";
  return allowed;
}

}  // namespace

int64_t WaitPolicyRawPods(const PolicyInput& in, const PolicyConfig& c, PolicyState& st,
                          WaitDetail& detail) {
  double dt = 0;
  const int64_t count = Predicted(in, c, st, detail, dt);
  return Ceiled(in, c, st.wait, detail, dt, count);
}

}  // namespace kafka_autoscaler::policy
