#include "kube/shards.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <set>
#include <utility>

#include "kube/json_field.h"

namespace kafka_autoscaler::kube {
namespace {

constexpr char kLeases[] = "/apis/coordination.k8s.io/v1/namespaces/";
// How often Run looks, between steps, whether the watch saw a Lease released.
constexpr auto kReleasePoll = std::chrono::milliseconds(250);

std::string JoinShards(const std::vector<int>& shards) {
  std::string out;
  for (int s : shards) out += (out.empty() ? "" : ",") + std::to_string(s);
  return out.empty() ? "none" : out;
}

}  // namespace

int ShardOf(std::string_view key, int shards) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : key) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return shards <= 0 ? 0 : static_cast<int>(hash % static_cast<uint64_t>(shards));
}

Result<std::unique_ptr<ShardCoordinator>> ShardCoordinator::Create(Client& client,
                                                                   ShardOptions options,
                                                                   const Clock& clock, Logger& log,
                                                                   OnChange on_change) {
  if (options.shards < 1 || options.shards > 1024) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "SHARDS=" + std::to_string(options.shards) + ": must be within 1..1024");
  }
  if (options.identity.empty() || options.namespace_name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "shards: the replica's identity (POD_NAME) and the Lease namespace "
                     "(POD_NAMESPACE) must be set");
  }
  const auto& t = options.timing;
  if (!(t.lease_duration > t.renew_deadline && t.renew_deadline * 5 > t.retry_period * 6 &&
        t.retry_period > Duration::zero())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "shards: timing must satisfy lease duration > renew deadline > 1.2 x retry "
                     "period > 0");
  }
  return std::unique_ptr<ShardCoordinator>(
      new ShardCoordinator(client, std::move(options), clock, log, std::move(on_change)));
}

ShardCoordinator::ShardCoordinator(Client& client, ShardOptions options, const Clock& clock,
                                   Logger& log, OnChange on_change)
    : client_(client),
      options_(std::move(options)),
      clock_(clock),
      log_(log),
      on_change_(std::move(on_change)) {}

std::string ShardCoordinator::ShardLeaseName(int shard) const {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%02d", shard);
  return options_.lease_prefix + "-shard-" + digits;
}

std::string ShardCoordinator::MemberLeaseName() const {
  return options_.lease_prefix + "-member-" + options_.identity;
}

bool ShardCoordinator::Alive(const Seen& seen, SteadyTime now) const {
  return !seen.record.holder_identity.empty() &&
         now < seen.observed + std::chrono::seconds(seen.record.lease_duration_seconds);
}

LeaderElectionRecord ShardCoordinator::Holding(const std::optional<LeaderElectionRecord>& before,
                                               WallTime now) const {
  LeaderElectionRecord record;
  record.holder_identity = options_.identity;
  record.lease_duration_seconds = static_cast<int>(
      std::chrono::duration_cast<std::chrono::seconds>(options_.timing.lease_duration).count());
  const bool ours = before && before->holder_identity == options_.identity;
  record.acquire_time = ours ? before->acquire_time : now;
  record.renew_time = now;
  record.leader_transitions =
      before ? before->leader_transitions + (ours || before->holder_identity.empty() ? 0 : 1) : 0;
  return record;
}

Result<std::string> ShardCoordinator::Put(const std::string& name,
                                          const std::string& resource_version,
                                          const LeaderElectionRecord& record, bool create) {
  const std::string collection = kLeases + options_.namespace_name + "/leases";
  nlohmann::json body = LeaseObject(options_.namespace_name, name, resource_version, record);
  auto answer = create ? client_.Call("POST", collection,
                                      {"create", "leases", options_.namespace_name, name}, &body)
                       : client_.Call("PUT", collection + "/" + name,
                                      {"update", "leases", options_.namespace_name, name}, &body);
  if (!answer) return MakeError(answer.error());
  auto version = Field<std::string>(*answer, {"metadata", "resourceVersion"}, "");
  if (!version) return MakeError(version.error());
  Seen& seen = seen_[name];
  seen.record = record;
  seen.resource_version = *version;
  seen.observed = clock_.Now();
  return *version;
}

void ShardCoordinator::SetHeld(int shard, std::optional<SteadyTime> renewed_at) {
  bool changed = false;
  {
    std::lock_guard lock(state_mu_);
    if (renewed_at) {
      changed = renewed_.find(shard) == renewed_.end();
      renewed_[shard] = *renewed_at;
    } else {
      changed = renewed_.erase(shard) > 0;
    }
  }
  if (changed && on_change_) on_change_(shard, renewed_at.has_value());
}

Status ShardCoordinator::Step() {
  std::lock_guard step_lock(step_mu_);
  const SteadyTime now = clock_.Now();
  const WallTime wall = clock_.WallNow();
  stepped_ = now;
  // A release the watch saw before this list is in the list; a failed list waits for the next
  // step, not for the next quarter retry period.
  released_seen_ = false;

  // 1. One list: every Lease of ours, and when its record last changed as seen from here.
  auto list = client_.Call("GET", kLeases + options_.namespace_name + "/leases",
                           {"list", "leases", options_.namespace_name, ""});
  if (!list) return MakeError(list.error().WithContext("shards"));
  std::map<std::string, Seen> watched;
  {
    std::lock_guard lock(watch_mu_);
    watched = watched_;
  }
  std::map<std::string, Seen> fresh;
  const std::string prefix = options_.lease_prefix + "-";
  if (list->contains("items") && (*list)["items"].is_array()) {
    for (const auto& item : (*list)["items"]) {
      const std::string name = Field<std::string>(item, {"metadata", "name"}, "").value_or("");
      if (name.rfind(prefix, 0) != 0) continue;
      auto record = RecordOfLease(item);
      if (!record) continue;  // not one of ours after all, or unreadable: ignore it
      Seen seen{*record, Field<std::string>(item, {"metadata", "resourceVersion"}, "").value_or(""),
                now};
      auto old = seen_.find(name);
      if (old != seen_.end() && old->second.record == seen.record)
        seen.observed = old->second.observed;
      // Seen earlier through the watch: expiry counts from then.
      auto w = watched.find(name);
      if (w != watched.end() && w->second.record == seen.record)
        seen.observed = std::min(seen.observed, w->second.observed);
      fresh[name] = std::move(seen);
    }
  }
  seen_ = std::move(fresh);

  // 2. Membership, then the shards held.
  const std::string member = MemberLeaseName();
  {
    auto it = seen_.find(member);
    std::optional<LeaderElectionRecord> before;
    if (it != seen_.end()) before = it->second.record;
    auto put = Put(member, it != seen_.end() ? it->second.resource_version : "",
                   Holding(before, wall), it == seen_.end());
    if (!put)
      log_.Warn("shards: could not renew the membership lease", {{"error", put.error().message}});
  }
  std::vector<int> renewing;
  {
    std::lock_guard lock(state_mu_);
    for (const auto& [shard, at] : renewed_) renewing.push_back(shard);
  }
  for (int shard : renewing) {
    const std::string name = ShardLeaseName(shard);
    auto it = seen_.find(name);
    if (it == seen_.end() || it->second.record.holder_identity != options_.identity) {
      SetHeld(shard, std::nullopt);  // taken over or deleted while we were not renewing
      continue;
    }
    const SteadyTime start = clock_.Now();
    auto put = Put(name, it->second.resource_version, Holding(it->second.record, wall), false);
    if (put) {
      SetHeld(shard, start);
    } else if (put.error().code == ErrorCode::kConflict) {
      SetHeld(shard, std::nullopt);
    }  // other failures: owned until the renew deadline passes
  }

  // 3. Quota from the live members, sorted by identity.
  std::set<std::string> members = {options_.identity};
  for (const auto& [name, seen] : seen_) {
    if (name.rfind(options_.lease_prefix + "-member-", 0) == 0 && Alive(seen, now)) {
      members.insert(seen.record.holder_identity);
    }
  }
  const int n = static_cast<int>(members.size());
  const int index =
      static_cast<int>(std::distance(members.begin(), members.find(options_.identity)));
  const int quota = options_.shards / n + (index < options_.shards % n ? 1 : 0);
  {
    std::lock_guard lock(state_mu_);
    members_ = n;
    quota_ = quota;
  }

  // 4. Release above the quota (stop owning first, then free the Lease), take below it.
  std::vector<int> held = Held();
  while (static_cast<int>(held.size()) > quota) {
    const int shard = held.back();
    held.pop_back();
    SetHeld(shard, std::nullopt);
    const std::string name = ShardLeaseName(shard);
    auto it = seen_.find(name);
    if (it == seen_.end()) continue;
    LeaderElectionRecord released = it->second.record;
    released.holder_identity.clear();
    released.lease_duration_seconds = 1;
    released.renew_time = wall;
    (void)Put(name, it->second.resource_version, released, false);
  }
  const int start = ShardOf(options_.identity, options_.shards);  // spreads racing replicas
  for (int i = 0; i < options_.shards && static_cast<int>(held.size()) < quota; ++i) {
    const int shard = (start + i) % options_.shards;
    if (Owns(shard)) continue;
    const std::string name = ShardLeaseName(shard);
    auto it = seen_.find(name);
    const SteadyTime at = clock_.Now();
    Result<std::string> put = MakeError(ErrorCode::kUnavailable, "not tried");
    if (it == seen_.end()) {
      put = Put(name, "", Holding(std::nullopt, wall), /*create=*/true);
    } else if (it->second.record.holder_identity.empty() ||
               it->second.record.holder_identity == options_.identity || !Alive(it->second, now)) {
      put = Put(name, it->second.resource_version, Holding(it->second.record, wall), false);
    } else {
      continue;  // held by a live replica
    }
    if (put) {
      SetHeld(shard, at);
      held.push_back(shard);
    }
  }
  return OkStatus();
}

Status ShardCoordinator::ReleaseAll() {
  std::lock_guard step_lock(step_mu_);
  const WallTime wall = clock_.WallNow();
  std::vector<int> held;
  {
    std::lock_guard lock(state_mu_);
    for (const auto& [shard, at] : renewed_) held.push_back(shard);
  }
  std::vector<std::string> names;
  for (int shard : held) {
    SetHeld(shard, std::nullopt);
    names.push_back(ShardLeaseName(shard));
  }
  names.push_back(MemberLeaseName());
  Status first = OkStatus();
  for (const std::string& name : names) {
    auto it = seen_.find(name);
    if (it == seen_.end() || it->second.record.holder_identity != options_.identity) continue;
    LeaderElectionRecord released = it->second.record;
    released.holder_identity.clear();
    released.lease_duration_seconds = 1;
    released.renew_time = wall;
    auto put = Put(name, it->second.resource_version, released, false);
    if (!put && first.has_value()) first = MakeError(put.error());
  }
  if (!held.empty()) log_.Info("shards released", {{"shards", JoinShards(held)}});
  return first;
}

void ShardCoordinator::Run(const StopToken& stop) {
  std::vector<int> logged;
  bool failing = false;
  while (!stop.Stopped()) {
    Status status = Step();
    if (!status.has_value() && !failing) {
      log_.Warn("shards: could not list the leases; held shards lapse at their renew deadline",
                {{"error", status.error().message}});
    }
    failing = !status.has_value();
    std::vector<int> held = Held();
    if (held != logged) {
      // One line per change: what is held now, and what was gained and lost since the last line
      // (a loss includes a lapse at the renew deadline, which no Step reports).
      std::vector<int> gained;
      std::vector<int> lost;
      std::set_difference(held.begin(), held.end(), logged.begin(), logged.end(),
                          std::back_inserter(gained));
      std::set_difference(logged.begin(), logged.end(), held.begin(), held.end(),
                          std::back_inserter(lost));
      log_.Info("shards held", {{"shards", JoinShards(held)},
                                {"acquired", JoinShards(gained)},
                                {"lost", JoinShards(lost)},
                                {"members", std::to_string(members())},
                                {"quota", std::to_string(quota())}});
      logged = held;
    }
    // Until the next step is due, checking a few times a second for a release seen by the watch.
    bool stopped = false;
    for (SteadyTime now = clock_.Now(); !stopped && !Due(now); now = clock_.Now()) {
      stopped = clock_.SleepUntil(std::min(NextStep(), now + kReleasePoll), stop);
    }
    if (stopped) break;
  }
  (void)ReleaseAll();
}

void ShardCoordinator::Observe(const nlohmann::json& lease, bool deleted) {
  const std::string name = Field<std::string>(lease, {"metadata", "name"}, "").value_or("");
  if (name.rfind(options_.lease_prefix + "-", 0) != 0) return;
  const SteadyTime now = clock_.Now();
  std::lock_guard lock(watch_mu_);
  if (deleted) {
    watched_.erase(name);
    return;
  }
  auto record = RecordOfLease(lease);
  if (!record) return;
  auto it = watched_.find(name);
  if (it != watched_.end() && it->second.record == *record) return;  // seen first back then
  const bool was_held = it != watched_.end() && !it->second.record.holder_identity.empty();
  if (record->holder_identity.empty() && was_held) released_seen_ = true;
  watched_[name] =
      Seen{*std::move(record),
           Field<std::string>(lease, {"metadata", "resourceVersion"}, "").value_or(""), now};
}

SteadyTime ShardCoordinator::NextStep() const {
  std::lock_guard lock(step_mu_);
  return NextStepLocked();
}

SteadyTime ShardCoordinator::NextStepLocked() const {
  SteadyTime next = stepped_ + options_.timing.retry_period;
  for (const auto& [name, seen] : seen_) {
    const auto& holder = seen.record.holder_identity;
    if (holder.empty() || holder == options_.identity) continue;
    // Expired already at the last step: that step saw it, nothing new happens at its expiry.
    const SteadyTime expiry =
        seen.observed + std::chrono::seconds(seen.record.lease_duration_seconds);
    if (expiry > stepped_ && expiry < next) next = expiry;
  }
  return next;
}

bool ShardCoordinator::Due(SteadyTime now) const {
  std::lock_guard lock(step_mu_);  // one section: a Step in between cannot mix two states
  if (now >= NextStepLocked()) return true;
  return released_seen_.load() && now >= stepped_ + options_.timing.retry_period / 4;
}

bool ShardCoordinator::Owns(int shard) const {
  std::lock_guard lock(state_mu_);
  auto it = renewed_.find(shard);
  return it != renewed_.end() && clock_.Now() < it->second + options_.timing.renew_deadline;
}

std::vector<int> ShardCoordinator::Held() const {
  std::vector<int> out;
  std::lock_guard lock(state_mu_);
  const SteadyTime now = clock_.Now();
  for (const auto& [shard, at] : renewed_) {
    if (now < at + options_.timing.renew_deadline) out.push_back(shard);
  }
  return out;
}

int ShardCoordinator::members() const {
  std::lock_guard lock(state_mu_);
  return members_;
}

int ShardCoordinator::quota() const {
  std::lock_guard lock(state_mu_);
  return quota_;
}

}  // namespace kafka_autoscaler::kube
