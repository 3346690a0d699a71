// LearnedStateKeeper (LEARNED_STATE_CONFIGMAP): keeps what the wait policy learned in a
// kube::TextStore (a ConfigMap) so a restarted daemon, or the next leader, does not start cold.
//
//   - Restore() at start, leader or not (followers decide too, and may lead next): a stored
//     state is put back into the Reconciler (logged: "restored learned state", with its age and
//     what it holds); a state that does not fit (another target, another format, a bad field)
//     is logged and left alone, and the daemon starts cold; a state of another target is never
//     overwritten either (two targets named one ConfigMap: a configuration error, logged as
//     such, and this one keeps nothing). When the store cannot be read
//     (API server down, forbidden), each later tick tries again, and nothing is saved until a
//     read succeeded: a cold state must not overwrite a good one.
//   - OnTick() saves every `every` (LEARNED_STATE_SAVE_SECONDS) while `may_write` (the leader,
//     or no leader election); a failed save is logged and tried again one interval later.
//   - Flush() saves once more (at a graceful stop, before the Lease is given up).
// Used from the loop thread only, like the Reconciler.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/clock.h"
#include "common/log.h"
#include "controller/loop.h"
#include "controller/reconciler.h"
#include "kube/text_store.h"

namespace kafka_autoscaler::controller {

// What a restored state holds, for the "restored learned state" log line: its age, μ (and
// whether exact), the start-up estimate, the burst onsets kept and the profile's days. `saved`
// must be a state RestoreLearned() accepted.
Fields DescribeLearned(const nlohmann::json& saved, WallTime now);

class LearnedStateKeeper final : public TickListener {
 public:
  // All references must outlive the keeper. `may_write` unset: always.
  LearnedStateKeeper(Reconciler& reconciler, kube::TextStore& store, const Clock& clock,
                     Logger& log, Duration every, std::function<bool()> may_write);

  // Reads the store and restores what it holds; true once a read succeeded.
  bool Restore();
  void OnTick(const TickReport& report) override;
  // Saves now (when allowed and a read succeeded); the outcome.
  Status Flush();

 private:
  bool MayWrite() const { return !may_write_ || may_write_(); }

  Reconciler& reconciler_;
  kube::TextStore& store_;
  const Clock& clock_;
  Logger& log_;
  Duration every_;
  std::function<bool()> may_write_;
  bool read_ = false;                    // a read of the store succeeded
  bool read_failed_ = false;             // a read failed (warned once)
  bool foreign_ = false;                 // ... and found another target's state: never saved
  std::optional<SteadyTime> next_save_;  // unset until the first tick after the read
};

}  // namespace kafka_autoscaler::controller
