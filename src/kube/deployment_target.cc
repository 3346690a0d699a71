#include "kube/deployment_target.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <string_view>
#include <utility>

#include "kube/json_field.h"

namespace kafka_autoscaler::kube {
namespace {

// "deployment", "statefulset", for messages.
std::string LowerKind(const WorkloadRef& ref) {
  std::string kind = ref.kind;
  for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return kind;
}

// Days in a month (1-12) of the Gregorian calendar.
int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

std::string WorkloadResource(const std::string& kind) {
  if (kind == "Deployment") return "deployments";
  if (kind == "StatefulSet") return "statefulsets";
  return "";
}

nlohmann::json WorkloadObjectRef(const WorkloadRef& ref, const std::string& uid) {
  return {{"apiVersion", "apps/v1"},
          {"kind", ref.kind},
          {"name", ref.name},
          {"namespace", ref.namespace_name},
          {"uid", uid}};
}

std::string WorkloadPath(const WorkloadRef& ref) {
  return "/apis/apps/v1/namespaces/" + ref.namespace_name + "/" + WorkloadResource(ref.kind) + "/" +
         ref.name;
}

Result<nlohmann::json> PatchScale(Client& client, const WorkloadRef& ref,
                                  std::string& resource_version, int32_t replicas) {
  if (resource_version.empty()) {
    // No read to be conditional on (never read, or the last write conflicted): a write now
    // would be decided from state we do not have.
    return MakeError(ErrorCode::kConflict, "kubernetes: " + LowerKind(ref) + " " +
                                               ref.namespace_name + "/" + ref.name +
                                               ": not read since the last conflict; not scaling");
  }
  const RequestInfo info{"patch", WorkloadResource(ref.kind) + "/scale", ref.namespace_name,
                         ref.name};
  nlohmann::json patch = {{"metadata", {{"resourceVersion", resource_version}}},
                          {"spec", {{"replicas", replicas}}}};
  auto result = client.Call("PATCH", WorkloadPath(ref) + "/scale", info, &patch,
                            "application/merge-patch+json");
  if (!result && result.error().code == ErrorCode::kConflict) {
    resource_version.clear();
    return MakeError(result.error().WithContext("another writer changed the " + LowerKind(ref) +
                                                " since it was read; deciding again next tick"));
  }
  if (result) {
    // The write happened; an odd answer only means the next write waits for a fresh read.
    resource_version =
        Field<std::string>(*result, {"metadata", "resourceVersion"}, "").value_or("");
  }
  return result;
}

std::string FormatTime(WallTime t) {
  std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatMicroTime(WallTime t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::string base = FormatTime(secs);
  char frac[32];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(micros));
  return base.substr(0, base.size() - 1) + frac + "Z";
}

Result<WallTime> ParseTime(const std::string& s) {
  std::tm tm{};
  int micros = 0;
  char frac[16] = {0};
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%15[.0-9]", &tm.tm_year, &tm.tm_mon,
                      &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, frac);
  // Only ".digits" as a fraction, years system_clock can hold (nanoseconds since 1970 in 64
  // bits end in 2262) and fields in their ranges (timegm would carry month 51 into the year):
  // anything else from a server is malformed, never a crash or an overflow.
  const std::string_view fraction(frac);
  if (n < 6 || s.empty() || s.back() != 'Z' || tm.tm_year < 1970 || tm.tm_year > 2261 ||
      tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
      tm.tm_mday > DaysInMonth(tm.tm_year, tm.tm_mon) || tm.tm_hour < 0 || tm.tm_hour > 23 ||
      tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60 ||
      (!fraction.empty() && (fraction.size() < 2 || fraction[0] != '.' ||
                             fraction.find_first_not_of("0123456789", 1) != fraction.npos))) {
    return MakeError(ErrorCode::kProtocol, "bad timestamp '" + s + "'");
  }
  if (!fraction.empty()) {
    std::string digits = std::string(fraction.substr(1, 6));
    while (digits.size() < 6) digits += '0';
    micros = std::stoi(digits);  // six digits: cannot throw
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t secs = timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs) + std::chrono::microseconds(micros);
}

DeploymentScaleTarget::DeploymentScaleTarget(Client& client, DeploymentRef ref)
    : client_(client), ref_(std::move(ref)) {}

Result<std::vector<std::string>> DeploymentScaleTarget::OtherAutoscalers() {
  const std::string path =
      "/apis/autoscaling/v2/namespaces/" + ref_.namespace_name + "/horizontalpodautoscalers";
  auto list =
      client_.Call("GET", path, {"list", "horizontalpodautoscalers", ref_.namespace_name, ""});
  if (!list) return MakeError(list.error());
  // Every field through Field(), like Get(): a list of any shape is a kProtocol error.
  std::vector<std::string> found;
  const nlohmann::json no_items = nlohmann::json::array();
  const nlohmann::json* items = &no_items;
  if (list->is_object() && list->contains("items") && (*list)["items"].is_array()) {
    items = &(*list)["items"];
  } else if (!list->is_object()) {
    return MakeError(ErrorCode::kProtocol,
                     "kubernetes: unexpected HorizontalPodAutoscaler list: not an object");
  }
  for (const auto& hpa : *items) {
    auto kind = Field<std::string>(hpa, {"spec", "scaleTargetRef", "kind"}, "");
    auto name = Field<std::string>(hpa, {"spec", "scaleTargetRef", "name"}, "");
    auto api_version = Field<std::string>(hpa, {"spec", "scaleTargetRef", "apiVersion"}, "apps/v1");
    auto hpa_name = Field<std::string>(hpa, {"metadata", "name"}, "?");
    for (const auto* field : {&kind, &name, &api_version, &hpa_name}) {
      if (!*field) {
        return MakeError(
            field->error().WithContext("kubernetes: unexpected HorizontalPodAutoscaler list"));
      }
    }
    if (*kind != ref_.kind || *name != ref_.name || api_version->rfind("apps/", 0) != 0) {
      continue;
    }
    found.push_back("HorizontalPodAutoscaler " + ref_.namespace_name + "/" + *hpa_name);
  }
  return found;
}

Result<ScaleState> DeploymentScaleTarget::Get() {
  std::lock_guard lock(mu_);
  const std::string path = WorkloadPath(ref_);
  const std::string resource = WorkloadResource(ref_.kind);
  auto deployment = client_.Call("GET", path, {"get", resource, ref_.namespace_name, ref_.name});
  if (!deployment) return MakeError(deployment.error());
  auto scale = client_.Call("GET", path + "/scale",
                            {"get", resource + "/scale", ref_.namespace_name, ref_.name});
  if (!scale) return MakeError(scale.error());
  auto autoscalers = OtherAutoscalers();
  if (!autoscalers) return MakeError(autoscalers.error());
  // Every field through Field(): an answer of any shape is a kProtocol error, never a throw.
  ScaleState state;
  auto uid = Field<std::string>(*deployment, {"metadata", "uid"}, "");
  auto paused = Field<std::string>(*deployment, {"metadata", "annotations", kPausedAnnotation}, "");
  auto spec_replicas = Field<int32_t>(*scale, {"spec", "replicas"}, 0);
  auto status_replicas = Field<int32_t>(*scale, {"status", "replicas"}, 0);
  auto selector = Field<std::string>(*scale, {"status", "selector"}, "");
  auto version = Field<std::string>(*scale, {"metadata", "resourceVersion"}, "");
  auto ready_replicas = Field<int32_t>(*deployment, {"status", "readyReplicas"}, 0);
  const Error* bad = nullptr;
  auto check = [&bad](const auto& field) {
    if (!field && bad == nullptr) bad = &field.error();
  };
  check(uid);
  check(paused);
  check(spec_replicas);
  check(status_replicas);
  check(selector);
  check(version);
  check(ready_replicas);
  if (bad != nullptr) {
    return MakeError(bad->WithContext("kubernetes: get " + ref_.namespace_name + "/" + ref_.name +
                                      " (" + ref_.kind + " and its scale)"));
  }
  if (version->empty()) {
    return MakeError(ErrorCode::kProtocol, "kubernetes: get " + ref_.namespace_name + "/" +
                                               ref_.name + ": the scale has no resourceVersion");
  }
  state.uid = *uid;
  state.paused = *paused == "true";
  state.spec_replicas = *spec_replicas;
  state.status_replicas = *status_replicas;
  state.selector = *selector;
  state.ready_replicas = *ready_replicas;
  state.resource_version = *version;
  state.other_autoscalers = std::move(*autoscalers);
  resource_version_ = state.resource_version;
  return state;
}

Status DeploymentScaleTarget::SetReplicas(int32_t replicas) {
  std::lock_guard lock(mu_);
  auto result = PatchScale(client_, ref_, resource_version_, replicas);
  if (!result) return MakeError(result.error());
  return OkStatus();
}

DeploymentEventRecorder::DeploymentEventRecorder(Client& client, DeploymentRef ref,
                                                 const Clock& clock, std::string reporting_instance)
    : client_(client),
      ref_(std::move(ref)),
      clock_(clock),
      reporting_instance_(std::move(reporting_instance)) {}

Result<std::string> DeploymentEventRecorder::Uid() {
  auto deployment =
      client_.Call("GET", WorkloadPath(ref_),
                   {"get", WorkloadResource(ref_.kind), ref_.namespace_name, ref_.name});
  if (!deployment) return MakeError(deployment.error());
  return Field<std::string>(*deployment, {"metadata", "uid"}, "");
}

Status DeploymentEventRecorder::Record(EventType type, const std::string& reason,
                                       const std::string& message) {
  std::lock_guard lock(mu_);
  auto uid = Uid();
  if (!uid) return MakeError(uid.error().WithContext("event"));
  return PostEvent(client_, WorkloadObjectRef(ref_, *uid), type, reason, message, clock_.WallNow(),
                   sequence_++, reporting_instance_);
}

Status PostEvent(Client& client, const nlohmann::json& involved_object, EventType type,
                 const std::string& reason, const std::string& message, WallTime now,
                 uint64_t sequence, const std::string& reporting_instance) {
  const std::string name = involved_object.value("name", "");
  const std::string namespace_name = involved_object.value("namespace", "");
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%llx", static_cast<unsigned long long>(nanos) + sequence);
  const std::string stamp = FormatTime(now);
  nlohmann::json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name + "." + suffix}, {"namespace", namespace_name}}},
      {"involvedObject", involved_object},
      {"reason", reason},
      {"message", message},
      {"type", type == EventType::kWarning ? "Warning" : "Normal"},
      {"source", {{"component", kEventComponent}}},
      {"firstTimestamp", stamp},
      {"lastTimestamp", stamp},
      {"count", 1},
      {"reportingComponent", kEventComponent},
      {"reportingInstance", reporting_instance},
  };
  const std::string path = "/api/v1/namespaces/" + namespace_name + "/events";
  auto created = client.Call("POST", path, {"create", "events", namespace_name, ""}, &event);
  if (!created) return MakeError(created.error().WithContext("event"));
  return OkStatus();
}

}  // namespace kafka_autoscaler::kube
