#include "policy/learned_state.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace kafka_autoscaler::policy {

namespace {

using nlohmann::json;

double SteadySeconds(SteadyTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
double WallSeconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
Duration FromSeconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

constexpr double kHuge = std::numeric_limits<double>::max();
// last_z uses 1e9 for "unknown" (policy.h); a z above it is refused.
constexpr double kUnknownZ = 1e9;

Status Invalid(const std::string& field, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument, "learned state: " + field + ": " + what);
}

// A finite number in [lo, hi] at `key` of `object` (named `path` in errors).
Result<double> Number(const json& object, const char* key, const std::string& path, double lo,
                      double hi) {
  auto it = object.find(key);
  if (it == object.end()) return MakeError(Invalid(path, "missing").error());
  if (!it->is_number()) return MakeError(Invalid(path, "not a number").error());
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    return MakeError(Invalid(path, "out of range [" + std::to_string(lo) + ", " +
                                       std::to_string(hi) + "] (" + it->dump() + ")")
                         .error());
  }
  return v;
}
Result<bool> Bool(const json& object, const char* key, const std::string& path) {
  auto it = object.find(key);
  if (it == object.end()) return MakeError(Invalid(path, "missing").error());
  if (!it->is_boolean()) return MakeError(Invalid(path, "not a boolean").error());
  return it->get<bool>();
}
// The object at `key`, or nullptr for null (when `nullable`).
Result<const json*> Object(const json& object, const char* key, const std::string& path,
                           bool nullable) {
  auto it = object.find(key);
  if (it == object.end()) return MakeError(Invalid(path, "missing").error());
  if (nullable && it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_object()) return MakeError(Invalid(path, "not an object").error());
  return &*it;
}

// Bursts in a row (short_bursts, long_bursts): how many, their smallest peak rate and their
// largest volume.
Result<BurstRow> Bursts(const json& saved, const char* key) {
  const std::string name = key;
  auto o = Object(saved, key, name, /*nullable=*/false);
  if (!o) return MakeError(o.error());
  auto in_a_row = Number(**o, "in_a_row", name + ".in_a_row", 0, WaitMemory::kShortOnsets);
  if (!in_a_row) return MakeError(in_a_row.error());
  if (*in_a_row != std::floor(*in_a_row)) {
    return MakeError(Invalid(name + ".in_a_row", "not an integer").error());
  }
  auto peak = Number(**o, "smallest_peak_rate", name + ".smallest_peak_rate", 0, kHuge);
  if (!peak) return MakeError(peak.error());
  auto volume = Number(**o, "largest_volume", name + ".largest_volume", 0, kHuge);
  if (!volume) return MakeError(volume.error());
  return BurstRow{static_cast<int32_t>(*in_a_row), *peak, *volume};
}
json BurstsJson(const BurstRow& r) {
  return {
      {"in_a_row", r.in_a_row}, {"smallest_peak_rate", r.peak_rate}, {"largest_volume", r.volume}};
}

// One of the daily profile's arrays: exactly kBuckets finite numbers in [lo, hi].
template <typename T>
Status Buckets(const json& profile, const char* key, double lo, double hi,
               std::array<T, DailyProfile::kBuckets>& out) {
  const std::string path = std::string("daily_profile.") + key;
  auto it = profile.find(key);
  if (it == profile.end()) return Invalid(path, "missing");
  if (!it->is_array() || it->size() != DailyProfile::kBuckets) {
    return Invalid(path, "not an array of " + std::to_string(DailyProfile::kBuckets) + " numbers");
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const json& v = (*it)[i];
    if (!v.is_number()) return Invalid(path + "[" + std::to_string(i) + "]", "not a number");
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi || (std::is_integral_v<T> && x != std::floor(x))) {
      return Invalid(path + "[" + std::to_string(i) + "]", "out of range (" + v.dump() + ")");
    }
    out[i] = static_cast<T>(x);
  }
  return OkStatus();
}

template <typename T>
json Array(const std::array<T, DailyProfile::kBuckets>& a) {
  json out = json::array();
  for (const T& v : a) out.push_back(v);
  return out;
}

}  // namespace

json SaveLearned(const WaitMemory& w, std::string_view target, SteadyTime now, WallTime wall_now) {
  json j = {{"version", kLearnedStateVersion},
            {"target", std::string(target)},
            {"saved_at_unix_seconds", WallSeconds(wall_now)},
            {"steady_seconds_at_save", SteadySeconds(now)}};
  j["per_pod_rate"] = w.mu ? json{{"value", *w.mu}, {"exact", w.mu_exact}} : json(nullptr);
  if (w.mu && w.mu_exact && w.mu_confirmed_at) {
    // Optional: how old the measurement was (an exact μ ages into a lower bound, wait_policy.cc).
    j["per_pod_rate"]["confirmed_seconds_before_save"] = SecondsBetween(*w.mu_confirmed_at, now);
  }
  // Optional: the pods' own noise relative to μ (σ_μ; 0 until measured).
  if (w.mu) j["per_pod_rate"]["noise"] = w.mu_sigma;
  j["startup_seconds"] = {{"value", w.startup}, {"measured", w.startup_measured}};
  j["rebalance_seconds"] = w.rebalance ? json(*w.rebalance) : json(nullptr);
  j["arrival_sigma"] = w.sigma;
  j["short_bursts"] = BurstsJson(w.short_bursts);
  j["long_bursts"] = BurstsJson(w.long_bursts);
  json onsets = json::array();
  const int32_t kept = std::min<int32_t>(w.onset_count, WaitMemory::kOnsets);
  for (int32_t back = kept - 1; back >= 0; --back) {  // oldest first
    const size_t slot = static_cast<size_t>(w.onset_count - 1 - back) % WaitMemory::kOnsets;
    onsets.push_back({{"seconds_before_save", SecondsBetween(w.onsets[slot], now)},
                      {"pods", w.onset_pods[slot]}});
  }
  j["burst_onsets"] = std::move(onsets);
  if (const DailyProfile* p = w.day.get()) {
    j["daily_profile"] = {{"bucket_seconds", DailyProfile::kBucketSeconds},
                          {"mean", Array(p->mean)},
                          {"spread", Array(p->spread)},
                          {"last_z", Array(p->last_z)},
                          {"days", Array(p->days)}};
  } else {
    j["daily_profile"] = nullptr;
  }
  return j;
}

Status RestoreLearned(const json& saved, std::string_view target, SteadyTime now, WallTime wall_now,
                      WaitMemory& w) {
  if (!saved.is_object()) return Invalid("(top)", "not an object");
  // The target first: a state of another target is never this one's to judge or overwrite.
  auto t = saved.find("target");
  if (t == saved.end() || !t->is_string()) return Invalid("target", "missing or not a string");
  if (t->get<std::string>() != target) {
    // Its own code: the state is not bad, it is another target's (learned_state.h).
    return MakeError(ErrorCode::kFailedPrecondition, "learned state: target: learned for \"" +
                                                         t->get<std::string>() + "\", not \"" +
                                                         std::string(target) + "\"");
  }
  auto version = Number(saved, "version", "version", 0, kHuge);
  if (!version) return MakeError(version.error());
  if (*version != kLearnedStateVersion) {
    return Invalid("version", "format " + saved["version"].dump() + ", this build reads " +
                                  std::to_string(kLearnedStateVersion));
  }
  auto saved_at = Number(saved, "saved_at_unix_seconds", "saved_at_unix_seconds", 0, kHuge);
  if (!saved_at) return MakeError(saved_at.error());
  auto steady_at = Number(saved, "steady_seconds_at_save", "steady_seconds_at_save", -kHuge, kHuge);
  if (!steady_at) return MakeError(steady_at.error());

  // Seconds the daemon was down (never negative: a wall clock stepped back counts as none).
  const double down = std::max(0.0, WallSeconds(wall_now) - *saved_at);

  WaitMemory next = w;  // assigned back only once everything was read
  auto mu = Object(saved, "per_pod_rate", "per_pod_rate", /*nullable=*/true);
  if (!mu) return MakeError(mu.error());
  if (*mu) {
    auto value = Number(**mu, "value", "per_pod_rate.value", 1e-9, kHuge);
    if (!value) return MakeError(value.error());
    auto exact = Bool(**mu, "exact", "per_pod_rate.exact");
    if (!exact) return MakeError(exact.error());
    next.mu = *value;
    next.mu_exact = *exact;
    next.mu_restored = true;
    // Without it (a state saved before it was written), the policy counts the age from the
    // first tick after the restore.
    next.mu_confirmed_at.reset();
    if ((*mu)->contains("confirmed_seconds_before_save")) {
      auto age = Number(**mu, "confirmed_seconds_before_save",
                        "per_pod_rate.confirmed_seconds_before_save", 0, kHuge);
      if (!age) return MakeError(age.error());
      if (*exact) next.mu_confirmed_at = now - FromSeconds(down + *age);
    }
    // Without it (a state saved before it was written) the noise is learned again.
    next.mu_sigma = 0;
    if ((*mu)->contains("noise")) {
      auto noise = Number(**mu, "noise", "per_pod_rate.noise", 0, WaitMemory::kMaxMuSigma);
      if (!noise) return MakeError(noise.error());
      next.mu_sigma = *noise;
    }
  } else {
    next.mu.reset();
    next.mu_exact = false;
    next.mu_restored = false;
    next.mu_confirmed_at.reset();
    next.mu_sigma = 0;
  }
  auto startup = Object(saved, "startup_seconds", "startup_seconds", /*nullable=*/false);
  if (!startup) return MakeError(startup.error());
  auto startup_value =
      Number(**startup, "value", "startup_seconds.value", 0, WaitMemory::kMaxStartupSeconds);
  if (!startup_value) return MakeError(startup_value.error());
  auto measured = Bool(**startup, "measured", "startup_seconds.measured");
  if (!measured) return MakeError(measured.error());
  next.startup = *startup_value;
  next.startup_measured = *measured;
  auto rebalance = saved.find("rebalance_seconds");
  if (rebalance == saved.end()) return Invalid("rebalance_seconds", "missing");
  if (rebalance->is_null()) {
    next.rebalance.reset();
  } else {
    auto r = Number(saved, "rebalance_seconds", "rebalance_seconds", 0,
                    WaitMemory::kMaxRebalanceSeconds);
    if (!r) return MakeError(r.error());
    next.rebalance = *r;
  }
  auto sigma = Number(saved, "arrival_sigma", "arrival_sigma", 0, kHuge);
  if (!sigma) return MakeError(sigma.error());
  next.sigma = *sigma;
  auto shorts = Bursts(saved, "short_bursts");
  if (!shorts) return MakeError(shorts.error());
  next.short_bursts = *shorts;
  // Optional: sustained bursts (absent from a state saved before they were kept).
  if (saved.contains("long_bursts")) {
    auto longs = Bursts(saved, "long_bursts");
    if (!longs) return MakeError(longs.error());
    next.long_bursts = *longs;
  }

  auto onsets = saved.find("burst_onsets");
  if (onsets == saved.end() || !onsets->is_array() || onsets->size() > WaitMemory::kOnsets) {
    return Invalid("burst_onsets",
                   "not an array of at most " + std::to_string(WaitMemory::kOnsets) + " onsets");
  }
  next.onsets = {};
  next.onset_pods = {};
  next.onset_count = static_cast<int32_t>(onsets->size());
  double previous_age = kHuge;
  for (size_t i = 0; i < onsets->size(); ++i) {
    const std::string path = "burst_onsets[" + std::to_string(i) + "]";
    const json& o = (*onsets)[i];
    if (!o.is_object()) return Invalid(path, "not an object");
    auto age = Number(o, "seconds_before_save", path + ".seconds_before_save", 0, kHuge);
    if (!age) return MakeError(age.error());
    if (*age > previous_age) return Invalid(path, "older than the onset before it");
    previous_age = *age;
    auto pods = Number(o, "pods", path + ".pods", 0, std::numeric_limits<int32_t>::max());
    if (!pods) return MakeError(pods.error());
    if (*pods != std::floor(*pods)) return Invalid(path + ".pods", "not an integer");
    next.onsets[i] = now - FromSeconds(down + *age);
    next.onset_pods[i] = static_cast<int32_t>(*pods);
  }

  auto profile = Object(saved, "daily_profile", "daily_profile", /*nullable=*/true);
  if (!profile) return MakeError(profile.error());
  if (*profile) {
    auto width = Number(**profile, "bucket_seconds", "daily_profile.bucket_seconds", 0, kHuge);
    if (!width) return MakeError(width.error());
    if (*width != DailyProfile::kBucketSeconds) {
      return Invalid("daily_profile.bucket_seconds",
                     "must be " + std::to_string(DailyProfile::kBucketSeconds));
    }
    DailyProfile read;
    for (Status s : {Buckets(**profile, "mean", 0, kHuge, read.mean),
                     Buckets(**profile, "spread", 0, kHuge, read.spread),
                     Buckets(**profile, "last_z", 0, kUnknownZ, read.last_z),
                     Buckets(**profile, "days", 0, UINT16_MAX, read.days)}) {
      if (!s) return s;
    }
    // Bucket b of the saved profile covered steady phase b; the same wall-clock phase now lies
    // `shift` buckets on, by how far the steady epoch moved against the wall clock.
    const double moved = (*saved_at - *steady_at) - (WallSeconds(wall_now) - SteadySeconds(now));
    const auto n = static_cast<int64_t>(DailyProfile::kBuckets);
    const int64_t shift =
        ((std::llround(moved / DailyProfile::kBucketSeconds) % n) + n) % n;  // in [0, n)
    DailyProfile& p = next.day.Make();
    p = DailyProfile{};  // the running bucket and today's agreement start over
    for (int64_t b = 0; b < n; ++b) {
      const auto to = static_cast<size_t>((b + shift) % n);
      const auto from = static_cast<size_t>(b);
      p.mean[to] = read.mean[from];
      p.spread[to] = read.spread[from];
      p.last_z[to] = read.last_z[from];
      p.days[to] = read.days[from];
    }
  } else {
    next.day = DailyProfileBox{};
  }
  w = std::move(next);
  return OkStatus();
}

}  // namespace kafka_autoscaler::policy
