// What the wait policy has learned, as JSON, so a restarted daemon (or the replica that takes
// a target over) does not start cold (LEARNED_STATE_CONFIGMAP; docs/simulator.md, "Keeping what
// was learned"). Only what outlives a restart is kept: one pod's rate μ (whether it is exact,
// how long before the save it was measured, and its noise), the start-up and rebalance estimates,
// the arrival noise σ, the short-burst statistics, the last burst onsets with their pods (PREDICT's
// period) and the daily profile. What a restart makes stale (the arrival rate's level and trend,
// the capacity memory, timings in progress) is learned again from the first ticks.
//
// Times are steady (monotonic) in WaitMemory, and a new process has a new steady epoch: onsets
// are saved as seconds before the save and restored against the wall clock (the time the daemon
// was down passes for them too), and the daily profile's buckets, which are phases of steady
// time, are rotated by how far the steady epoch moved against the wall clock (to the nearest
// bucket). The day's running bucket is not kept: the profile acts again once a bucket finished
// after the restart agrees with it.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "policy/policy.h"

namespace kafka_autoscaler::policy {

// Format version written in "version"; a different one is refused.
inline constexpr int kLearnedStateVersion = 1;

// `target` names what the state was learned for (namespace, workload, topics, group): a state
// saved for another target is refused on restore.
nlohmann::json SaveLearned(const WaitMemory& w, std::string_view target, SteadyTime now,
                           WallTime wall_now);

// Checks every field of `saved` (version, target, types, finite values within the bounds the
// policy itself keeps) and only then replaces the learned parts of `w`; on any error `w` is
// untouched and the error names the field. A well-formed state saved for another target is
// kFailedPrecondition (nothing wrong with it: it is not this target's); every other refusal is
// kInvalidArgument. The parts a restart makes stale are left as they
// are (a fresh WaitMemory's: learned again).
Status RestoreLearned(const nlohmann::json& saved, std::string_view target, SteadyTime now,
                      WallTime wall_now, WaitMemory& w);

}  // namespace kafka_autoscaler::policy
