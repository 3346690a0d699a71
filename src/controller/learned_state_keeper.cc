#include "controller/learned_state_keeper.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace kafka_autoscaler::controller {

Fields DescribeLearned(const nlohmann::json& saved, WallTime now) {
  const double age = std::max(0.0, std::chrono::duration<double>(now.time_since_epoch()).count() -
                                       saved.value("saved_at_unix_seconds", 0.0));
  const auto& mu = saved["per_pod_rate"];
  int64_t days = 0;
  if (saved["daily_profile"].is_object()) {
    for (const auto& d : saved["daily_profile"]["days"]) days = std::max(days, d.get<int64_t>());
  }
  return {{"age_seconds", age},
          {"per_pod_rate", mu.is_object() ? mu["value"].get<double>() : 0.0},
          {"per_pod_rate_exact", mu.is_object() && mu["exact"].get<bool>()},
          {"startup_seconds", saved["startup_seconds"]["value"].get<double>()},
          {"burst_onsets", static_cast<int64_t>(saved["burst_onsets"].size())},
          {"daily_profile_days", days}};
}

LearnedStateKeeper::LearnedStateKeeper(Reconciler& reconciler, kube::TextStore& store,
                                       const Clock& clock, Logger& log, Duration every,
                                       std::function<bool()> may_write)
    : reconciler_(reconciler),
      store_(store),
      clock_(clock),
      log_(log),
      every_(every),
      may_write_(std::move(may_write)) {}

bool LearnedStateKeeper::Restore() {
  auto text = store_.Load();
  if (!text) {
    // Once per episode: a Role without the ConfigMap rules would otherwise warn every tick.
    log_.Log(read_failed_ ? LogLevel::kDebug : LogLevel::kWarn,
             "could not read the learned state; trying again each tick, saving nothing until then",
             {{"store", store_.Describe()}, {"error", text.error().ToString()}});
    read_failed_ = true;
    return false;
  }
  read_ = true;
  if (!*text) {
    log_.Info("no learned state yet; starting cold", {{"store", store_.Describe()}});
    return true;
  }
  const auto saved = nlohmann::json::parse(**text, nullptr, /*allow_exceptions=*/false);
  if (saved.is_discarded()) {
    log_.Warn("learned state not restored; starting cold",
              {{"store", store_.Describe()}, {"error", std::string("not JSON")}});
    return true;
  }
  if (auto s = reconciler_.RestoreLearned(saved); !s) {
    if (s.error().code == ErrorCode::kFailedPrecondition) {  // another target's state
      foreign_ = true;
      log_.Error(
          "the learned state store holds another target's state; keeping nothing (give "
          "each target its own LEARNED_STATE_CONFIGMAP)",
          {{"store", store_.Describe()}, {"error", s.error().message}});
      return true;
    }
    log_.Warn("learned state not restored; starting cold",
              {{"store", store_.Describe()}, {"error", s.error().message}});
    return true;
  }
  Fields fields{{"store", store_.Describe()}};
  for (Field& f : DescribeLearned(saved, clock_.WallNow())) fields.push_back(std::move(f));
  log_.Info("restored learned state", std::move(fields));
  return true;
}

Status LearnedStateKeeper::Flush() {
  if (!read_) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "learned state: the store was never read; not overwriting it");
  }
  if (foreign_) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "learned state: the store holds another target's state; not overwriting it");
  }
  if (!MayWrite())
    return MakeError(ErrorCode::kFailedPrecondition, "learned state: not the leader");
  auto s = store_.Save(reconciler_.SaveLearned().dump());
  if (!s) {
    log_.Warn("could not save the learned state",
              {{"store", store_.Describe()}, {"error", s.error().ToString()}});
    return s;
  }
  log_.Debug("saved the learned state", {{"store", store_.Describe()}});
  return s;
}

void LearnedStateKeeper::OnTick(const TickReport& /*report*/) {
  if (!read_ && !Restore()) return;
  const SteadyTime now = clock_.Now();
  if (!next_save_) next_save_ = now + every_;
  if (now < *next_save_ || !MayWrite()) return;
  next_save_ = now + every_;
  (void)Flush();
}

}  // namespace kafka_autoscaler::controller
