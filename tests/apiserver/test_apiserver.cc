#include "apiserver/test_apiserver.h"

#include <httplib.h>
#include <stdlib.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apiserver/crd_schema.h"
#include "manifest_yaml.h"

namespace kafka_autoscaler::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  return out;
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json StatusBody(int code, const std::string& reason, const std::string& message,
                json details = nullptr) {
  json body = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
               {"status", "Failure"}, {"message", message}, {"reason", reason},
               {"code", code}};
  if (!details.is_null()) body["details"] = std::move(details);
  return body;
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void Fail(httplib::Response& res, int code, const std::string& reason, const std::string& message,
          json details = nullptr) {
  Reply(res, code, StatusBody(code, reason, message, std::move(details)));
}

std::string QualifiedResource(const std::string& resource, const std::string& group) {
  return group.empty() ? resource : resource + "." + group;
}

// The real server's 409 for a write based on a stale resourceVersion.
void FailConflict(httplib::Response& res, const std::string& resource, const std::string& group,
                  const std::string& name) {
  Fail(res, 409, "Conflict",
       "Operation cannot be fulfilled on " + QualifiedResource(resource, group) + " \"" + name +
           "\": the object has been modified; please apply your changes to the latest version "
           "and try again",
       {{"name", name}, {"group", group}, {"kind", resource}});
}

// A list object ("DeploymentList", ...) of `items` at `resource_version`.
json ListBody(const std::string& api_version, const std::string& kind, json items,
              uint64_t resource_version) {
  return {{"apiVersion", api_version},
          {"kind", kind},
          {"metadata", {{"resourceVersion", std::to_string(resource_version)}}},
          {"items", std::move(items)}};
}

json ParseBody(const std::string& body) {
  return json::parse(body, nullptr, /*allow_exceptions=*/false);
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), "*") != list.end() ||
         std::find(list.begin(), list.end(), value) != list.end();
}

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kConflict:
      return "conflict";
    case FaultKind::kServerError:
      return "server_error";
    case FaultKind::kTooManyRequests:
      return "too_many_requests";
    case FaultKind::kDelay:
      return "delay";
    case FaultKind::kDrop:
      return "drop";
    case FaultKind::kBody:
      return "body";
  }
  return "?";
}

// What the server serves, once, for both discovery formats.
struct SubresourceInfo {
  std::string name;
  std::string group;
  std::string version;
  std::string kind;
  std::vector<std::string> verbs;
};
struct ResourceInfo {
  std::string name;
  std::string singular;
  std::string kind;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<SubresourceInfo> subresources;
};
struct GroupVersionInfo {
  std::string group;  // "" for the core group
  std::string version;
  std::vector<ResourceInfo> resources;
  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
};

const std::vector<std::string>& AllVerbs() {
  static const std::vector<std::string> kVerbs = {"create", "delete", "deletecollection", "get",
                                                  "list",   "patch",  "update",           "watch"};
  return kVerbs;
}

std::vector<GroupVersionInfo> DiscoveryTable() {
  const std::vector<std::string> sub_verbs = {"get", "patch", "update"};
  return {
      {.group = "",
       .version = "v1",
       .resources =
           {{.name = "configmaps",
             .singular = "configmap",
             .kind = "ConfigMap",
             .short_names = {"cm"}},
            {.name = "events", .singular = "event", .kind = "Event", .short_names = {"ev"}},
            {.name = "pods",
             .singular = "pod",
             .kind = "Pod",
             .short_names = {"po"},
             .categories = {"all"}}}},
      {.group = "apps",
       .version = "v1",
       .resources = {{.name = "deployments",
                      .singular = "deployment",
                      .kind = "Deployment",
                      .short_names = {"deploy"},
                      .categories = {"all"},
                      .subresources = {{"scale", "autoscaling", "v1", "Scale", sub_verbs},
                                       {"status", "apps", "v1", "Deployment", sub_verbs}}},
                     {.name = "replicasets",
                      .singular = "replicaset",
                      .kind = "ReplicaSet",
                      .short_names = {"rs"},
                      .categories = {"all"}},
                     {.name = "statefulsets",
                      .singular = "statefulset",
                      .kind = "StatefulSet",
                      .short_names = {"sts"},
                      .categories = {"all"},
                      .subresources = {{"scale", "autoscaling", "v1", "Scale", sub_verbs},
                                       {"status", "apps", "v1", "StatefulSet", sub_verbs}}}}},
      {.group = "autoscaling",
       .version = "v2",
       .resources = {{.name = "horizontalpodautoscalers",
                      .singular = "horizontalpodautoscaler",
                      .kind = "HorizontalPodAutoscaler",
                      .short_names = {"hpa"},
                      .categories = {"all"}}}},
      {.group = "coordination.k8s.io",
       .version = "v1",
       .resources = {{.name = "leases", .singular = "lease", .kind = "Lease"}}},
      {.group = "kafka-autoscaler.io",
       .version = "v1alpha1",
       .resources = {{.name = "kafkascalers",
                      .singular = "kafkascaler",
                      .kind = "KafkaScaler",
                      .short_names = {"ks"},
                      .subresources = {{"status", "kafka-autoscaler.io", "v1alpha1", "KafkaScaler",
                                        sub_verbs}}}}},
  };
}

// APIResourceList, as /api/v1 and /apis/apps/v1 answer.
json ResourceList(const GroupVersionInfo& gv) {
  json resources = json::array();
  for (const auto& r : gv.resources) {
    json entry = {{"name", r.name},
                  {"singularName", r.singular},
                  {"namespaced", true},
                  {"kind", r.kind},
                  {"verbs", AllVerbs()}};
    if (!r.short_names.empty()) entry["shortNames"] = r.short_names;
    if (!r.categories.empty()) entry["categories"] = r.categories;
    resources.push_back(entry);
    for (const auto& sub : r.subresources) {
      json s = {{"name", r.name + "/" + sub.name},
                {"singularName", ""},
                {"namespaced", true},
                {"kind", sub.kind},
                {"verbs", sub.verbs}};
      if (sub.group != gv.group) s["group"] = sub.group;
      if (sub.version != gv.version) s["version"] = sub.version;
      resources.push_back(s);
    }
  }
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", gv.GroupVersion()},
          {"resources", resources}};
}

// apidiscovery.k8s.io/v2 APIGroupDiscoveryList for the core group (/api) or the others (/apis).
json AggregatedDiscovery(bool core) {
  json items = json::array();
  for (const auto& gv : DiscoveryTable()) {
    if (gv.group.empty() != core) continue;
    json resources = json::array();
    for (const auto& r : gv.resources) {
      json entry = {
          {"resource", r.name},
          {"responseKind", {{"group", gv.group}, {"version", gv.version}, {"kind", r.kind}}},
          {"scope", "Namespaced"},
          {"singularResource", r.singular},
          {"verbs", AllVerbs()}};
      if (!r.short_names.empty()) entry["shortNames"] = r.short_names;
      if (!r.categories.empty()) entry["categories"] = r.categories;
      if (!r.subresources.empty()) {
        json subs = json::array();
        for (const auto& sub : r.subresources) {
          subs.push_back({{"subresource", sub.name},
                          {"responseKind",
                           {{"group", sub.group}, {"version", sub.version}, {"kind", sub.kind}}},
                          {"verbs", sub.verbs}});
        }
        entry["subresources"] = subs;
      }
      resources.push_back(entry);
    }
    json metadata = json::object();
    if (!core) metadata["name"] = gv.group;
    items.push_back({{"metadata", metadata},
                     {"versions", json::array({{{"version", gv.version},
                                                {"resources", resources},
                                                {"freshness", "Current"}}})}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/v2"},
          {"metadata", json::object()},
          {"items", items}};
}

constexpr char kAggregatedType[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

// True when the Accept header lists the v2 aggregated discovery type.
bool WantsAggregated(const std::string& accept) {
  for (const auto& part : Split(accept, ',')) {
    std::string p;
    for (char c : part) {
      if (c != ' ') p += c;
    }
    if (p.rfind("application/json", 0) == 0 &&
        p.find("g=apidiscovery.k8s.io") != std::string::npos &&
        p.find("v=v2;") != std::string::npos &&
        p.find("as=APIGroupDiscoveryList") != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string QueryString(const httplib::Request& req) {
  std::string q;
  for (const auto& [k, v] : req.params) q += (q.empty() ? "" : "&") + k + "=" + v;
  return q;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Policy and fault parsing.

Result<TokenGrant> ParseTokenFlag(const std::string& flag) {
  TokenGrant grant;
  auto colon = flag.find(':');
  grant.token = flag.substr(0, colon);
  if (grant.token.empty()) return MakeError(ErrorCode::kInvalidArgument, "--token: empty token");
  if (colon == std::string::npos) return grant;
  grant.allow_all = false;
  for (const auto& rule_text : Split(flag.substr(colon + 1), ';')) {
    if (rule_text.empty()) continue;
    auto eq = rule_text.find('=');
    if (eq == std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--token: rule '" + rule_text + "' is not verbs=resources[@names]");
    }
    PolicyRule rule;
    rule.verbs = Split(rule_text.substr(0, eq), ',');
    std::string rest = rule_text.substr(eq + 1);
    if (auto at = rest.find('@'); at != std::string::npos) {
      rule.resource_names = Split(rest.substr(at + 1), ',');
      rest = rest.substr(0, at);
    }
    rule.resources = Split(rest, ',');
    grant.rules.push_back(std::move(rule));
  }
  return grant;
}

Result<TokenGrant> TokenGrantFromJson(const json& j) {
  try {
    TokenGrant grant;
    grant.token = j.at("token").get<std::string>();
    if (j.contains("user")) grant.user = j["user"].get<std::string>();
    if (j.contains("rules")) {
      grant.allow_all = false;
      for (const auto& r : j["rules"]) {
        PolicyRule rule;
        rule.verbs = r.value("verbs", std::vector<std::string>{});
        rule.resources = r.value("resources", std::vector<std::string>{});
        rule.resource_names = r.value("resourceNames", std::vector<std::string>{});
        grant.rules.push_back(std::move(rule));
      }
    }
    return grant;
  } catch (const json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("token grant: ") + e.what());
  }
}

namespace {
json YamlToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    json out = json::object();
    for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
    return out;
  }
  if (node.IsSequence()) {
    json out = json::array();
    for (const auto& item : node) out.push_back(YamlToJson(item));
    return out;
  }
  if (node.IsNull()) return nullptr;
  return node.as<std::string>();
}
}  // namespace

Result<std::vector<TokenGrant>> ParsePolicy(const std::string& text) {
  json doc = ParseBody(text);
  if (doc.is_discarded()) {
    try {
      doc = YamlToJson(YAML::Load(text));
    } catch (const YAML::Exception& e) {
      return MakeError(ErrorCode::kInvalidArgument, std::string("policy: ") + e.what());
    }
  }
  if (!doc.is_object() || !doc.contains("tokens") || !doc["tokens"].is_array()) {
    return MakeError(ErrorCode::kInvalidArgument, "policy: expected {\"tokens\": [...]}");
  }
  std::vector<TokenGrant> grants;
  for (const auto& t : doc["tokens"]) {
    auto grant = TokenGrantFromJson(t);
    if (!grant) return MakeError(grant.error());
    grants.push_back(std::move(*grant));
  }
  return grants;
}

Result<Fault> FaultFromJson(const json& j) {
  if (!j.is_object()) return MakeError(ErrorCode::kInvalidArgument, "fault: expected an object");
  Fault fault;
  const std::string kind = j.value("kind", "");
  bool known = false;
  for (FaultKind k : {FaultKind::kConflict, FaultKind::kServerError, FaultKind::kTooManyRequests,
                      FaultKind::kDelay, FaultKind::kDrop, FaultKind::kBody}) {
    if (kind == FaultKindName(k)) {
      fault.kind = k;
      known = true;
    }
  }
  if (!known) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "fault: kind '" + kind +
                         "' is not conflict|server_error|too_many_requests|delay|drop|body");
  }
  try {
    fault.method = j.value("method", "");
    fault.path_contains = j.value("path_contains", "");
    fault.times = j.value("times", 1);
    fault.retry_after_seconds = j.value("retry_after_seconds", 1);
    fault.delay = std::chrono::milliseconds(j.value("delay_ms", 0));
    fault.status = j.value("status", 200);
    fault.body = j.value("body", "");
  } catch (const json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("fault: ") + e.what());
  }
  return fault;
}

Result<TlsFiles> GenerateTlsFiles(const std::string& dir) {
  TlsFiles files{dir + "/ca.crt", dir + "/ca.key", dir + "/server.crt", dir + "/server.key"};
  {
    std::ofstream ext(dir + "/server.ext");
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
           "extendedKeyUsage=serverAuth\n"
           "basicConstraints=CA:FALSE\n"
           "keyUsage=digitalSignature,keyEncipherment\n";
  }
  const std::string log = dir + "/openssl.log";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::vector<std::string> commands = {
      "openssl req -x509" + ec + " -keyout '" + files.ca_key + "' -out '" + files.ca_cert +
          "' -days 2 -subj /CN=kafka-autoscaler-test-ca",
      "openssl req" + ec + " -keyout '" + files.server_key + "' -out '" + dir +
          "/server.csr' -subj /CN=127.0.0.1",
      "openssl x509 -req -in '" + dir + "/server.csr' -CA '" + files.ca_cert + "' -CAkey '" +
          files.ca_key + "' -CAcreateserial -out '" + files.server_cert + "' -days 2 -extfile '" +
          dir + "/server.ext'",
  };
  for (const auto& command : commands) {
    if (std::system((command + " >>'" + log + "' 2>&1").c_str()) != 0) {
      std::ifstream in(log);
      std::stringstream ss;
      ss << in.rdbuf();
      return MakeError(ErrorCode::kInternal, "openssl failed: " + command + "\n" + ss.str());
    }
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// Routing.

struct TestApiServer::Route {
  bool is_resource = false;
  std::string group;
  std::string version;
  std::string ns;
  std::string resource;
  std::string name;
  std::string sub;
  std::string verb;
  std::string ResourceWithSub() const { return sub.empty() ? resource : resource + "/" + sub; }
};

// ---------------------------------------------------------------------------------------------
// Life cycle.

TestApiServer::TestApiServer(ApiServerOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<TestApiServer>> TestApiServer::Start(ApiServerOptions options) {
  std::unique_ptr<TestApiServer> server(new TestApiServer(std::move(options)));
  const ApiServerOptions& opt = server->options_;
  for (const auto& grant : opt.tokens) server->tokens_[grant.token] = grant;
  server->auth_enabled_ = !opt.tokens.empty();
  if (!opt.openapi_dir.empty()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(opt.openapi_dir, ec)) {
      std::string file = entry.path().filename().string();
      const std::string suffix = "_openapi.json";
      if (file.size() <= suffix.size() ||
          file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      std::string gv = file.substr(0, file.size() - suffix.size());
      for (size_t pos; (pos = gv.find("__")) != std::string::npos;) gv.replace(pos, 2, "/");
      std::ifstream in(entry.path());
      std::stringstream ss;
      ss << in.rdbuf();
      server->openapi_docs_[gv] = ss.str();
    }
    if (ec || server->openapi_docs_.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "test apiserver: no *_openapi.json in " + opt.openapi_dir);
    }
  }
  {
    const std::string crd_file =
        opt.kafkascaler_crd_file.empty() ? KA_KAFKASCALER_CRD : opt.kafkascaler_crd_file;
    auto text = deploy_test::ReadFile(crd_file);
    auto docs = text ? deploy_test::ParseYamlDocuments(*text)
                     : Result<std::vector<json>>(MakeError(text.error()));
    if (!docs || docs->size() != 1 || !(*docs)[0]["spec"]["versions"].is_array()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "test apiserver: cannot read the KafkaScaler CRD " + crd_file +
                           (docs ? std::string() : ": " + docs.error().message));
    }
    server->kafkascaler_version_ = (*docs)[0]["spec"]["versions"][0];
  }
  if (opt.tls) {
    server->cert_dir_ = opt.cert_dir;
    if (server->cert_dir_.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "ka-apiserver-XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr) {
        return MakeError(ErrorCode::kInternal, "test apiserver: mkdtemp failed");
      }
      server->cert_dir_ = tmpl;
      server->owns_cert_dir_ = true;
    } else {
      fs::create_directories(server->cert_dir_);
    }
    auto files = GenerateTlsFiles(server->cert_dir_);
    if (!files) return MakeError(files.error());
    server->tls_ = *files;
    server->server_ = std::make_unique<httplib::SSLServer>(server->tls_.server_cert.c_str(),
                                                           server->tls_.server_key.c_str());
  } else {
    server->server_ = std::make_unique<httplib::Server>();
  }
  if (!server->server_->is_valid()) {
    return MakeError(ErrorCode::kInternal, "test apiserver: server setup failed (TLS files?)");
  }
  // Every client holds a few watches open (one thread each): httplib's default pool of 8
  // threads stalls as soon as several daemons watch at once (three replicas: 12 watches), and
  // each request of a partitioned client (Partition) holds one until the partition heals.
  server->server_->new_task_queue = [] { return new httplib::ThreadPool(160); };
  TestApiServer* self = server.get();
  auto handler = [self](const httplib::Request& req, httplib::Response& res) {
    self->Handle(req, res);
  };
  server->server_->Get(".*", handler);
  server->server_->Post(".*", handler);
  server->server_->Put(".*", handler);
  server->server_->Patch(".*", handler);
  server->server_->Delete(".*", handler);
  server->server_->set_keep_alive_timeout(1);
  // Headers and body are written separately; with Nagle's algorithm the body waited for the
  // client's delayed ACK, 40 ms on every TLS request.
  server->server_->set_tcp_nodelay(true);
  server->server_->set_read_timeout(5, 0);
  server->server_->set_payload_max_length(8 << 20);
  int port = opt.port;
  if (port == 0) {
    port = server->server_->bind_to_any_port(opt.host);
    if (port < 0) return MakeError(ErrorCode::kUnavailable, "test apiserver: bind failed");
  } else if (!server->server_->bind_to_port(opt.host.c_str(), port)) {
    return MakeError(ErrorCode::kUnavailable,
                     "test apiserver: cannot bind " + opt.host + ":" + std::to_string(port));
  }
  server->port_ = port;
  server->url_ =
      std::string(opt.tls ? "https" : "http") + "://" + opt.host + ":" + std::to_string(port);
  server->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  return server;
}

TestApiServer::~TestApiServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  changed_.notify_all();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  if (owns_cert_dir_) {
    std::error_code ec;
    fs::remove_all(cert_dir_, ec);
  }
}

Status TestApiServer::WriteKubeconfig(const std::string& path, const std::string& token,
                                      const std::string& namespace_name) const {
  std::ofstream out(path);
  if (!out) return MakeError(ErrorCode::kInternal, "cannot write " + path);
  out << "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n"
      << "    server: " << url_ << "\n";
  if (!tls_.ca_cert.empty()) out << "    certificate-authority: " << tls_.ca_cert << "\n";
  out << "users:\n- name: test\n  user:\n";
  if (!token.empty()) out << "    token: " << token << "\n";
  out << "contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n"
      << "    namespace: " << namespace_name << "\ncurrent-context: test\n";
  return out ? OkStatus() : MakeError(ErrorCode::kInternal, "cannot write " + path);
}

// ---------------------------------------------------------------------------------------------
// Public state access.

std::string TestApiServer::NextResourceVersionLocked() {
  return std::to_string(++resource_version_);
}

std::string TestApiServer::NewUidLocked() {
  uint64_t a = rng_(), b = rng_();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>((b >> 48) & 0xfff),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

namespace {

const char* ResourceOf(WorkloadKind kind) {
  return kind == WorkloadKind::kDeployment ? "deployments" : "statefulsets";
}

const char* KindName(WorkloadKind kind) {
  return kind == WorkloadKind::kDeployment ? "Deployment" : "StatefulSet";
}

std::string KeyOf(const json& object) {
  const json& meta = object["metadata"];
  return meta.value("namespace", "") + "/" + meta.value("name", "");
}

}  // namespace

TestApiServer::Collection& TestApiServer::WorkloadsLocked(WorkloadKind kind) {
  return kind == WorkloadKind::kDeployment ? deployments_ : statefulsets_;
}

const TestApiServer::Collection& TestApiServer::WorkloadsLocked(WorkloadKind kind) const {
  return kind == WorkloadKind::kDeployment ? deployments_ : statefulsets_;
}

json TestApiServer::ChangeLocked(Collection& collection, json object, bool deleted) {
  constexpr size_t kKeep = 1000;  // changes a watch can resume from
  object["metadata"]["resourceVersion"] = NextResourceVersionLocked();
  const std::string key = KeyOf(object);
  auto it = collection.objects.find(key);
  WatchEvent event{resource_version_, deleted ? "DELETED" : "ADDED", object, nullptr};
  if (it != collection.objects.end() && !deleted) {
    event.type = "MODIFIED";
    event.old_object = it->second;
  }
  if (deleted) {
    collection.objects.erase(key);
  } else {
    collection.objects[key] = object;
  }
  collection.events.push_back(std::move(event));
  if (collection.events.size() > kKeep) {
    collection.history_from = collection.events.front().resource_version;
    collection.events.erase(collection.events.begin());
  }
  changed_.notify_all();
  return object;
}

void TestApiServer::ExpireNextContinue(const std::string& resource) {
  std::lock_guard lock(mu_);
  expire_next_continue_.insert(resource);
}

void TestApiServer::CompactHistory(const std::string& resource) {
  std::lock_guard lock(mu_);
  for (Collection* c :
       {&deployments_, &statefulsets_, &hpas_, &kafkascalers_, &leases_, &configmaps_}) {
    if (c->resource != resource) continue;
    c->events.clear();
    c->history_from = resource_version_;
  }
}

json TestApiServer::TouchWorkloadLocked(WorkloadKind kind, json d, bool spec_changed) {
  if (spec_changed) {
    d["metadata"]["generation"] = d["metadata"].value("generation", 0) + 1;
  }
  // An instant controller: pods follow spec.replicas at once, and are ready at once unless a
  // ready limit holds some back (SetWorkloadReadyLimit).
  const int replicas = d["spec"].value("replicas", 1);
  int ready = replicas;
  const auto limit = ready_limits_.find(std::string(ResourceOf(kind)) + "/" + KeyOf(d));
  if (limit != ready_limits_.end()) ready = std::min(ready, limit->second);
  json status = {{"observedGeneration", d["metadata"]["generation"]},
                 {"replicas", replicas},
                 {"updatedReplicas", replicas},
                 {"readyReplicas", ready},
                 {"availableReplicas", ready}};
  if (kind == WorkloadKind::kDeployment) {
    status["conditions"] = json::array({{{"type", "Available"},
                                         {"status", "True"},
                                         {"lastUpdateTime", Now()},
                                         {"lastTransitionTime", Now()},
                                         {"reason", "MinimumReplicasAvailable"},
                                         {"message", "Deployment has minimum availability."}},
                                        {{"type", "Progressing"},
                                         {"status", "True"},
                                         {"lastUpdateTime", Now()},
                                         {"lastTransitionTime", Now()},
                                         {"reason", "NewReplicaSetAvailable"},
                                         {"message", "ReplicaSet has successfully progressed."}}});
    if (ready < replicas) status["unavailableReplicas"] = replicas - ready;
    if (ready == 0) status.erase("availableReplicas");
  } else {
    const std::string revision = d["metadata"].value("name", "") + "-5d8f7c9b6";
    status["currentReplicas"] = replicas;
    status["currentRevision"] = revision;
    status["updateRevision"] = revision;
    status["collisionCount"] = 0;
  }
  if (ready == 0) status.erase("readyReplicas");
  d["status"] = status;
  return ChangeLocked(WorkloadsLocked(kind), std::move(d));
}

json TestApiServer::AddWorkload(WorkloadKind kind, const std::string& ns, const std::string& name,
                                int32_t replicas,
                                const std::map<std::string, std::string>& annotations) {
  std::lock_guard lock(mu_);
  json ann = json::object();
  if (kind == WorkloadKind::kDeployment) ann["deployment.kubernetes.io/revision"] = "1";
  for (const auto& [k, v] : annotations) ann[k] = v;
  json labels = {{"app", name}};
  json spec = {{"replicas", replicas},
               {"selector", {{"matchLabels", labels}}},
               {"template",
                {{"metadata", {{"labels", labels}}},
                 {"spec",
                  {{"containers", json::array({{{"name", "consumer"},
                                                {"image", "registry.k8s.io/pause:3.9"},
                                                {"imagePullPolicy", "IfNotPresent"},
                                                {"resources", json::object()},
                                                {"terminationMessagePath", "/dev/termination-log"},
                                                {"terminationMessagePolicy", "File"}}})},
                   {"restartPolicy", "Always"},
                   {"terminationGracePeriodSeconds", 30},
                   {"dnsPolicy", "ClusterFirst"},
                   {"schedulerName", "default-scheduler"},
                   {"securityContext", json::object()}}}}},
               {"revisionHistoryLimit", 10}};
  if (kind == WorkloadKind::kDeployment) {
    spec["strategy"] = {{"type", "RollingUpdate"},
                        {"rollingUpdate", {{"maxUnavailable", "25%"}, {"maxSurge", "25%"}}}};
    spec["progressDeadlineSeconds"] = 600;
  } else {
    spec["serviceName"] = name;
    spec["podManagementPolicy"] = "OrderedReady";
    spec["updateStrategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}};
    spec["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Retain"},
                                                    {"whenScaled", "Retain"}};
  }
  json d = {{"apiVersion", "apps/v1"},
            {"kind", KindName(kind)},
            {"metadata",
             {{"name", name},
              {"namespace", ns},
              {"uid", NewUidLocked()},
              {"generation", 0},
              {"creationTimestamp", Now()},
              {"labels", labels},
              {"annotations", ann}}},
            {"spec", spec}};
  Collection& workloads = WorkloadsLocked(kind);
  if (auto old = workloads.objects.find(ns + "/" + name); old != workloads.objects.end()) {
    ChangeLocked(workloads, old->second, /*deleted=*/true);
  }
  return TouchWorkloadLocked(kind, std::move(d), /*spec_changed=*/true);
}

json TestApiServer::AddHorizontalPodAutoscaler(const std::string& ns, const std::string& name,
                                               const std::string& target,
                                               const std::string& target_kind) {
  std::lock_guard lock(mu_);
  json hpa = {
      {"apiVersion", "autoscaling/v2"},
      {"kind", "HorizontalPodAutoscaler"},
      {"metadata",
       {{"name", name}, {"namespace", ns}, {"uid", NewUidLocked()}, {"creationTimestamp", Now()}}},
      {"spec",
       {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", target_kind}, {"name", target}}},
        {"minReplicas", 1},
        {"maxReplicas", 10},
        {"metrics",
         json::array({{{"type", "Resource"},
                       {"resource",
                        {{"name", "cpu"},
                         {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}}})}}},
  };
  return ChangeLocked(hpas_, std::move(hpa));
}

bool TestApiServer::DeleteHorizontalPodAutoscaler(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = hpas_.objects.find(ns + "/" + name);
  if (it == hpas_.objects.end()) return false;
  ChangeLocked(hpas_, it->second, /*deleted=*/true);
  return true;
}

bool TestApiServer::DeleteWorkload(WorkloadKind kind, const std::string& ns,
                                   const std::string& name) {
  std::lock_guard lock(mu_);
  Collection& workloads = WorkloadsLocked(kind);
  auto it = workloads.objects.find(ns + "/" + name);
  if (it == workloads.objects.end()) return false;
  ChangeLocked(workloads, it->second, /*deleted=*/true);
  return true;
}

std::optional<json> TestApiServer::Workload(WorkloadKind kind, const std::string& ns,
                                            const std::string& name) const {
  std::lock_guard lock(mu_);
  const Collection& workloads = WorkloadsLocked(kind);
  auto it = workloads.objects.find(ns + "/" + name);
  if (it == workloads.objects.end()) return std::nullopt;
  return it->second;
}

bool TestApiServer::SetWorkloadReadyLimit(WorkloadKind kind, const std::string& ns,
                                          const std::string& name, std::optional<int32_t> ready) {
  std::lock_guard lock(mu_);
  Collection& workloads = WorkloadsLocked(kind);
  auto it = workloads.objects.find(ns + "/" + name);
  if (it == workloads.objects.end()) return false;
  const std::string limit_key = std::string(ResourceOf(kind)) + "/" + ns + "/" + name;
  if (ready) {
    ready_limits_[limit_key] = std::max(*ready, 0);
  } else {
    ready_limits_.erase(limit_key);
  }
  TouchWorkloadLocked(kind, it->second, /*spec_changed=*/false);
  return true;
}

bool TestApiServer::PatchWorkload(WorkloadKind kind, const std::string& ns, const std::string& name,
                                  const json& merge_patch) {
  std::lock_guard lock(mu_);
  Collection& workloads = WorkloadsLocked(kind);
  auto it = workloads.objects.find(ns + "/" + name);
  if (it == workloads.objects.end()) return false;
  json patched = it->second;
  patched.merge_patch(merge_patch);
  TouchWorkloadLocked(kind, patched, patched["spec"] != it->second["spec"]);
  return true;
}

std::vector<json> TestApiServer::Events(const std::string& ns) const {
  std::lock_guard lock(mu_);
  auto it = events_.find(ns);
  return it == events_.end() ? std::vector<json>{} : it->second;
}

std::optional<json> TestApiServer::Lease(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = leases_.objects.find(ns + "/" + name);
  if (it == leases_.objects.end()) return std::nullopt;
  return it->second;
}

std::optional<json> TestApiServer::ConfigMap(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = configmaps_.objects.find(ns + "/" + name);
  if (it == configmaps_.objects.end()) return std::nullopt;
  return it->second;
}

json TestApiServer::PutConfigMap(json object) {
  std::lock_guard lock(mu_);
  if (!object.is_object()) object = json::object();
  json& meta = object["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (!meta.contains("namespace") || !meta["namespace"].is_string() ||
      meta["namespace"].get<std::string>().empty()) {
    meta["namespace"] = "default";
  }
  object["apiVersion"] = "v1";
  object["kind"] = "ConfigMap";
  if (auto it = configmaps_.objects.find(KeyOf(object)); it != configmaps_.objects.end()) {
    meta["uid"] = it->second["metadata"]["uid"];
    meta["creationTimestamp"] = it->second["metadata"]["creationTimestamp"];
  } else {
    if (!meta.contains("uid")) meta["uid"] = NewUidLocked();
    if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = Now();
  }
  return ChangeLocked(configmaps_, std::move(object));
}

void TestApiServer::SetToken(TokenGrant grant) {
  std::lock_guard lock(mu_);
  auth_enabled_ = true;
  tokens_[grant.token] = std::move(grant);
}

void TestApiServer::RotateToken(const std::string& old_token, const std::string& new_token) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(old_token);
  if (it == tokens_.end()) return;
  TokenGrant grant = it->second;
  tokens_.erase(it);
  grant.token = new_token;
  tokens_[new_token] = std::move(grant);
}

void TestApiServer::InjectFault(Fault fault) {
  std::lock_guard lock(mu_);
  faults_.push_back(std::move(fault));
}

void TestApiServer::ClearFaults() {
  std::lock_guard lock(mu_);
  faults_.clear();
}

std::vector<LoggedRequest> TestApiServer::Requests() const {
  std::lock_guard lock(mu_);
  return log_;
}

void TestApiServer::ClearRequests() {
  std::lock_guard lock(mu_);
  log_.clear();
}

int TestApiServer::CountRequests(const std::string& method,
                                 const std::string& path_contains) const {
  std::lock_guard lock(mu_);
  return static_cast<int>(std::count_if(log_.begin(), log_.end(), [&](const LoggedRequest& r) {
    return (method.empty() || r.method == method) &&
           r.path.find(path_contains) != std::string::npos;
  }));
}

void TestApiServer::Partition(const std::string& user) {
  std::lock_guard lock(mu_);
  partitioned_.insert(user);
}

void TestApiServer::Heal(const std::string& user) {
  {
    std::lock_guard lock(mu_);
    partitioned_.erase(user);
  }
  stop_cv_.notify_all();
  changed_.notify_all();
}

const TokenGrant* TestApiServer::GrantLocked(const httplib::Request& req) const {
  const std::string auth = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (auth.rfind(prefix, 0) != 0) return nullptr;
  auto it = tokens_.find(auth.substr(prefix.size()));
  return it == tokens_.end() ? nullptr : &it->second;
}

std::string TestApiServer::UserLocked(const httplib::Request& req) const {
  const TokenGrant* grant = GrantLocked(req);
  return grant == nullptr ? "" : grant->user;
}

void TestApiServer::Log(const httplib::Request& req, int status, const std::string& user) {
  std::lock_guard lock(mu_);
  log_.push_back({req.method, req.path, QueryString(req), status, user,
                  req.get_header_value("Content-Type"), req.get_header_value("Accept")});
}

// ---------------------------------------------------------------------------------------------
// Request handling.

void TestApiServer::Handle(const httplib::Request& req, httplib::Response& res) {
  if (req.path.rfind("/_test/", 0) == 0) {
    HandleAdmin(req, res);
    return;
  }
  // Parse the path into request attributes (as the real server's RequestInfoFactory).
  Route route;
  std::vector<std::string> seg;
  for (auto& s : Split(req.path, '/')) {
    if (!s.empty()) seg.push_back(s);
  }
  size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    route.version = seg[1];
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    route.group = seg[1];
    route.version = seg[2];
    i = 3;
  }
  if (i > 0 && seg.size() > i) {
    route.is_resource = true;
    if (seg[i] == "namespaces" && seg.size() > i + 2) {
      route.ns = seg[i + 1];
      i += 2;
    }
    route.resource = seg[i];
    if (seg.size() > i + 1) route.name = seg[i + 1];
    if (seg.size() > i + 2) route.sub = seg[i + 2];
    if (route.resource == "namespaces" && route.ns.empty() && seg.size() == i + 2) {
      route.name = seg[i + 1];
    }
  }
  const std::string& m = req.method;
  if (m == "GET") {
    route.verb =
        route.name.empty() ? (req.get_param_value("watch") == "true" ? "watch" : "list") : "get";
  } else if (m == "POST") {
    route.verb = "create";
  } else if (m == "PUT") {
    route.verb = "update";
  } else if (m == "PATCH") {
    route.verb = "patch";
  } else if (m == "DELETE") {
    route.verb = route.name.empty() ? "deletecollection" : "delete";
  }

  // Authentication and authorization.
  std::string user;
  std::optional<Fault> fault;
  bool partitioned = false;
  {
    std::lock_guard lock(mu_);
    if (auth_enabled_) {
      const TokenGrant* grant = GrantLocked(req);
      if (grant == nullptr) {
        Fail(res, 401, "Unauthorized", "Unauthorized");
        log_.push_back({req.method, req.path, QueryString(req), 401, "",
                        req.get_header_value("Content-Type"), req.get_header_value("Accept")});
        return;
      }
      user = grant->user;
      if (route.is_resource && !grant->allow_all) {
        const std::string resource = route.ResourceWithSub();
        bool allowed = false;
        for (const auto& rule : grant->rules) {
          if (Contains(rule.verbs, route.verb) && Contains(rule.resources, resource) &&
              (rule.resource_names.empty() ||
               (!route.name.empty() && Contains(rule.resource_names, route.name)))) {
            allowed = true;
          }
        }
        if (!allowed) {
          std::string subject = QualifiedResource(route.resource, route.group);
          if (!route.name.empty()) subject += " \"" + route.name + "\"";
          std::string message = subject + " is forbidden: User \"" + user + "\" cannot " +
                                route.verb + " resource \"" + resource + "\" in API group \"" +
                                route.group + "\"";
          message +=
              route.ns.empty() ? " at the cluster scope" : " in the namespace \"" + route.ns + "\"";
          json details = {{"group", route.group}, {"kind", route.resource}};
          if (!route.name.empty()) details["name"] = route.name;
          Fail(res, 403, "Forbidden", message, details);
          log_.push_back({req.method, req.path, QueryString(req), 403, user,
                          req.get_header_value("Content-Type"), req.get_header_value("Accept")});
          return;
        }
      }
    }
    if (!user.empty() && partitioned_.count(user)) {
      LoggedRequest held{req.method,
                         req.path,
                         QueryString(req),
                         0,
                         user,
                         req.get_header_value("Content-Type"),
                         req.get_header_value("Accept")};
      held.held = true;
      log_.push_back(std::move(held));
      partitioned = true;
    }
    for (auto it = faults_.begin(); !partitioned && it != faults_.end(); ++it) {
      if ((it->method.empty() || it->method == req.method) &&
          req.path.find(it->path_contains) != std::string::npos) {
        fault = *it;
        if (--it->times <= 0) faults_.erase(it);
        break;
      }
    }
  }
  if (partitioned) {
    // Held until the partition heals (or the server stops), then dropped unanswered.
    std::unique_lock lock(mu_);
    stop_cv_.wait(lock, [&] { return stopping_ || !partitioned_.count(user); });
    res.status = 200;
    res.set_content_provider(1024, "application/json",
                             [](size_t, size_t, httplib::DataSink&) { return false; });
    return;
  }
  if (fault) {
    switch (fault->kind) {
      case FaultKind::kDelay: {
        std::unique_lock lock(mu_);
        stop_cv_.wait_for(lock, fault->delay, [this] { return stopping_; });
        break;
      }
      case FaultKind::kConflict: {
        FailConflict(res, route.resource, route.group, route.name);
        Log(req, 409, user);
        return;
      }
      case FaultKind::kServerError:
        Fail(res, 500, "InternalError", "Internal error occurred: injected fault",
             {{"causes", json::array({{{"message", "injected fault"}}})}});
        Log(req, 500, user);
        return;
      case FaultKind::kTooManyRequests:
        Fail(res, 429, "TooManyRequests", "Too many requests, please try again later.",
             {{"retryAfterSeconds", fault->retry_after_seconds}});
        res.set_header("Retry-After", std::to_string(fault->retry_after_seconds));
        Log(req, 429, user);
        return;
      case FaultKind::kDrop:
        // Promise a body, then fail to write it: the server closes the connection mid-response.
        res.status = 200;
        res.set_content_provider(1024, "application/json",
                                 [](size_t, size_t, httplib::DataSink&) { return false; });
        Log(req, 0, user);
        return;
      case FaultKind::kBody:
        res.status = fault->status;
        res.set_content(fault->body, "application/json");
        Log(req, fault->status, user);
        return;
    }
  }
  {
    std::lock_guard lock(mu_);
    HandleLocked(req, res, route, user);
    LoggedRequest logged{req.method,
                         req.path,
                         QueryString(req),
                         res.status,
                         user,
                         req.get_header_value("Content-Type"),
                         req.get_header_value("Accept")};
    if (options_.fencing_lease && req.method != "GET" && req.method != "DELETE" &&
        res.status < 300) {
      if (const std::string lease = options_.fencing_lease(req.path); !lease.empty()) {
        auto it = leases_.objects.find(lease);
        logged.lease_holder =
            it == leases_.objects.end()
                ? ""
                : it->second.value("spec", json::object()).value("holderIdentity", "");
      }
    }
    log_.push_back(std::move(logged));
  }
}

void TestApiServer::HandleLocked(const httplib::Request& req, httplib::Response& res,
                                 const Route& route, const std::string& /*user*/) {
  if (!route.is_resource) {
    if (!Discovery(req, res))
      Fail(res, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  const std::string gv = route.group.empty() ? route.version : route.group + "/" + route.version;
  for (WorkloadKind kind : {WorkloadKind::kDeployment, WorkloadKind::kStatefulSet}) {
    if (gv == "apps/v1" && route.resource == ResourceOf(kind)) {
      return HandleWorkloads(req, res, route, kind);
    }
  }
  if (gv == "v1" && route.resource == "events") return HandleEvents(req, res, route);
  if (gv == "coordination.k8s.io/v1" && route.resource == "leases") {
    return HandleLeases(req, res, route);
  }
  if (gv == "v1" && route.resource == "configmaps") return HandleConfigMaps(req, res, route);
  if (gv == "kafka-autoscaler.io/v1alpha1" && route.resource == "kafkascalers") {
    return HandleKafkaScalers(req, res, route);
  }
  if ((route.verb == "list" || route.verb == "watch") && gv == "autoscaling/v2" &&
      route.resource == "horizontalpodautoscalers") {
    return ListOrWatch(req, res, route, hpas_, /*tables=*/false);
  }
  if (route.verb == "list" && ((gv == "apps/v1" && route.resource == "replicasets") ||
                               (gv == "v1" && route.resource == "pods"))) {
    const bool rs = route.resource == "replicasets";
    Reply(res, 200,
          ListBody(gv, rs ? "ReplicaSetList" : "PodList", json::array(), resource_version_));
    return;
  }
  Fail(res, 404, "NotFound", "the server could not find the requested resource");
}

bool TestApiServer::Discovery(const httplib::Request& req, httplib::Response& res) {
  const std::string& p = req.path;
  if (req.method != "GET") return false;
  if (p == "/version") {
    Reply(res, 200,
          {{"major", "1"},
           {"minor", "35"},
           {"emulationMajor", "1"},
           {"emulationMinor", "35"},
           {"minCompatibilityMajor", "1"},
           {"minCompatibilityMinor", "34"},
           {"gitVersion", "v1.35.0"},
           {"gitCommit", "0000000000000000000000000000000000000000"},
           {"gitTreeState", "clean"},
           {"buildDate", "2025-12-17T00:00:00Z"},
           {"goVersion", "go1.25.5"},
           {"compiler", "gc"},
           {"platform", "linux/amd64"}});
    return true;
  }
  const bool aggregated =
      options_.aggregated_discovery && WantsAggregated(req.get_header_value("Accept"));
  if ((p == "/api" || p == "/apis") && aggregated) {
    res.status = 200;
    res.set_content(AggregatedDiscovery(p == "/api").dump(), kAggregatedType);
    res.set_header("Vary", "Accept");
    return true;
  }
  if (p == "/api") {
    Reply(res, 200,
          {{"kind", "APIVersions"},
           {"versions", {"v1"}},
           {"serverAddressByClientCIDRs",
            json::array({{{"clientCIDR", "0.0.0.0/0"},
                          {"serverAddress", options_.host + ":" + std::to_string(port_)}}})}});
    return true;
  }
  if (p == "/apis") {
    json groups = json::array();
    for (const auto& gv : DiscoveryTable()) {
      if (gv.group.empty()) continue;
      json version = {{"groupVersion", gv.GroupVersion()}, {"version", gv.version}};
      groups.push_back({{"name", gv.group},
                        {"versions", json::array({version})},
                        {"preferredVersion", version}});
    }
    Reply(res, 200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}});
    return true;
  }
  for (const auto& gv : DiscoveryTable()) {
    if (p == (gv.group.empty() ? "/api/" : "/apis/") + gv.GroupVersion()) {
      Reply(res, 200, ResourceList(gv));
      return true;
    }
  }
  if (p == "/openapi/v3" && !openapi_docs_.empty()) {
    json paths = json::object();
    for (const auto& [gv, doc] : openapi_docs_) {
      char hash[32];
      std::snprintf(hash, sizeof hash, "%016zX", std::hash<std::string>{}(doc));
      paths[gv] = {{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + hash}};
    }
    Reply(res, 200, {{"paths", paths}});
    return true;
  }
  if (p.rfind("/openapi/v3/", 0) == 0) {
    auto it = openapi_docs_.find(p.substr(12));
    if (it == openapi_docs_.end()) return false;
    res.status = 200;
    res.set_content(it->second, "application/json");
    return true;
  }
  return false;
}

namespace {

std::string ScaleSelector(const json& deployment) {
  std::string out;
  const json labels = deployment["spec"]["selector"].value("matchLabels", json::object());
  for (const auto& [k, v] : labels.items()) {
    out += (out.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  }
  return out;
}

json ScaleOf(const json& d) {
  const json& meta = d["metadata"];
  return {
      {"apiVersion", "autoscaling/v1"},
      {"kind", "Scale"},
      {"metadata",
       {{"name", meta["name"]},
        {"namespace", meta["namespace"]},
        {"uid", meta["uid"]},
        {"resourceVersion", meta["resourceVersion"]},
        {"creationTimestamp", meta["creationTimestamp"]}}},
      {"spec", {{"replicas", d["spec"].value("replicas", 1)}}},
      {"status", {{"replicas", d["status"].value("replicas", 0)}, {"selector", ScaleSelector(d)}}}};
}

bool IsMergePatch(const httplib::Request& req) {
  const std::string ct = req.get_header_value("Content-Type");
  return ct.rfind("application/merge-patch+json", 0) == 0 ||
         ct.rfind("application/strategic-merge-patch+json", 0) == 0;
}

// The string at a dotted path of `object` ("" when absent).
std::string PathValue(const json& object, const std::string& path) {
  const json* node = &object;
  for (const auto& part : Split(path, '.')) {
    if (!node->is_object() || !node->contains(part)) return std::string();
    node = &(*node)[part];
  }
  return node->is_string() ? node->get<std::string>() : node->dump();
}

// The value of a field selector's field; nullopt when the field is not supported.
using FieldOf = std::optional<std::string> (*)(const json& object, const std::string& field);

// Fields of an Event.
std::optional<std::string> EventField(const json& event, const std::string& field) {
  static constexpr std::string_view kSupported[] = {"involvedObject.kind",
                                                    "involvedObject.namespace",
                                                    "involvedObject.name",
                                                    "involvedObject.uid",
                                                    "involvedObject.apiVersion",
                                                    "involvedObject.resourceVersion",
                                                    "involvedObject.fieldPath",
                                                    "reason",
                                                    "reportingComponent",
                                                    "source",
                                                    "type",
                                                    "metadata.name",
                                                    "metadata.namespace"};
  if (std::find(std::begin(kSupported), std::end(kSupported), field) == std::end(kSupported)) {
    return std::nullopt;
  }
  if (field == "source") {
    return event.value("source", json::object()).value("component", "");
  }
  return PathValue(event, field);
}

// Fields every resource supports.
std::optional<std::string> MetadataField(const json& object, const std::string& field) {
  if (field != "metadata.name" && field != "metadata.namespace") return std::nullopt;
  return PathValue(object, field);
}

std::string Trim(const std::string& s) {
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// One requirement of a label or field selector, on a value that may be absent.
struct Requirement {
  enum class Op { kEq, kNeq, kIn, kNotIn, kExists, kNotExists };
  std::string key;
  Op op = Op::kEq;
  std::vector<std::string> values;

  bool Matches(const std::optional<std::string>& value) const {
    const bool listed = value && std::find(values.begin(), values.end(), *value) != values.end();
    switch (op) {
      case Op::kEq:
      case Op::kIn:
        return listed;
      case Op::kNeq:
      case Op::kNotIn:
        return !listed;
      case Op::kExists:
        return value.has_value();
      case Op::kNotExists:
        return !value.has_value();
    }
    return false;
  }
};

// labelSelector and fieldSelector of a list or watch; the default matches everything.
struct Selector {
  std::vector<Requirement> labels;
  std::vector<Requirement> fields;
  FieldOf field_of = MetadataField;

  bool Matches(const json& object) const {
    const json no_labels = json::object();
    const json& meta = object.contains("metadata") ? object["metadata"] : no_labels;
    const json& labels_of = meta.contains("labels") ? meta["labels"] : no_labels;
    for (const auto& r : labels) {
      std::optional<std::string> value;
      if (labels_of.contains(r.key)) value = labels_of[r.key].get<std::string>();
      if (!r.Matches(value)) return false;
    }
    for (const auto& r : fields) {
      if (!r.Matches(field_of(object, r.key))) return false;
    }
    return true;
  }
};

// "a=b,c in (d,e),!f": the terms, split at commas outside parentheses.
std::vector<std::string> SelectorTerms(const std::string& text) {
  std::vector<std::string> terms(1);
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      terms.emplace_back();
    } else {
      terms.back() += c;
    }
  }
  return terms;
}

Result<std::vector<Requirement>> ParseLabelSelector(const std::string& text) {
  using Op = Requirement::Op;
  std::vector<Requirement> out;
  for (const auto& raw : SelectorTerms(text)) {
    const std::string term = Trim(raw);
    if (term.empty()) continue;
    Requirement r;
    const auto open = term.find('(');
    if (open != std::string::npos) {
      const std::string head = Trim(term.substr(0, open));
      const auto space = head.find(' ');
      const std::string word = space == std::string::npos ? "" : Trim(head.substr(space));
      r.key = head.substr(0, space);
      r.op = word == "in" ? Op::kIn : Op::kNotIn;
      if ((word != "in" && word != "notin") || term.back() != ')') r.key.clear();
      for (const auto& v : Split(term.substr(open + 1, term.size() - open - 2), ',')) {
        r.values.push_back(Trim(v));
      }
    } else if (term[0] == '!') {
      r.key = Trim(term.substr(1));
      r.op = Op::kNotExists;
    } else if (const auto eq = term.find('='); eq != std::string::npos) {
      const bool neq = eq > 0 && term[eq - 1] == '!';
      r.key = Trim(term.substr(0, neq ? eq - 1 : eq));
      r.op = neq ? Op::kNeq : Op::kEq;
      const size_t value_at = eq + (term.compare(eq, 2, "==") == 0 ? 2 : 1);
      r.values.push_back(Trim(term.substr(value_at)));
    } else {
      r.key = term;
      r.op = Op::kExists;
    }
    if (r.key.empty() || r.key.find_first_of(" =!()") != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "unable to parse requested label selector: '" + term + "'");
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<Requirement>> ParseFieldSelector(const std::string& text, FieldOf field_of) {
  std::vector<Requirement> out;
  for (const auto& term : Split(text, ',')) {
    if (term.empty()) continue;
    auto neq = term.find("!=");
    auto eq = term.find('=');
    if (eq == std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument, "invalid selector: '" + term + "'");
    }
    std::string field = term.substr(0, neq != std::string::npos ? neq : eq);
    if (!field_of(json::object(), field)) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "unable to parse requested fieldSelector: field label not supported: " + field);
    }
    out.push_back({.key = field,
                   .op = neq != std::string::npos ? Requirement::Op::kNeq : Requirement::Op::kEq,
                   .values = {term.substr(term.find_last_of('=') + 1)}});
  }
  return out;
}

// The selectors of a request; kInvalidArgument (a 400) when one does not parse.
Result<Selector> ParseSelectors(const httplib::Request& req, FieldOf field_of = MetadataField) {
  Selector selector;
  selector.field_of = field_of;
  auto labels = ParseLabelSelector(req.get_param_value("labelSelector"));
  if (!labels) return MakeError(labels.error());
  auto fields = ParseFieldSelector(req.get_param_value("fieldSelector"), field_of);
  if (!fields) return MakeError(fields.error());
  selector.labels = std::move(*labels);
  selector.fields = std::move(*fields);
  return selector;
}

// The objects of `objects` in namespace `ns` ("" = all namespaces) that `selector` matches.
json ItemsIn(const std::map<std::string, json>& objects, const std::string& ns,
             const Selector& selector = {}) {
  json items = json::array();
  for (const auto& [key, object] : objects) {
    if ((ns.empty() || object["metadata"]["namespace"] == ns) && selector.Matches(object)) {
      items.push_back(object);
    }
  }
  return items;
}

// The body of an update or a merge patch; null, after answering 405, 415 or 400, when the
// request is not one.
json WriteBody(const httplib::Request& req, httplib::Response& res, const std::string& verb) {
  if (verb != "update" && verb != "patch") {
    Fail(res, 405, "MethodNotAllowed", "the server does not allow this method");
    return nullptr;
  }
  if (verb == "patch" && !IsMergePatch(req)) {
    Fail(res, 415, "UnsupportedMediaType",
         "the body of the request was in an unknown format - accepted media types include: "
         "application/merge-patch+json, application/strategic-merge-patch+json");
    return nullptr;
  }
  json body = ParseBody(req.body);
  if (!body.is_object()) {
    Fail(res, 400, "BadRequest", "the body of the request was in an unknown format");
    return nullptr;
  }
  return body;
}

}  // namespace

void TestApiServer::HandleWorkloads(const httplib::Request& req, httplib::Response& res,
                                    const Route& route, WorkloadKind kind) {
  Collection& workloads = WorkloadsLocked(kind);
  const std::string resource = ResourceOf(kind);
  const std::string key = route.ns + "/" + route.name;
  auto not_found = [&] {
    Fail(res, 404, "NotFound", resource + ".apps \"" + route.name + "\" not found",
         {{"name", route.name}, {"group", "apps"}, {"kind", resource}});
  };
  if (route.name.empty()) {
    if (route.verb != "list" && route.verb != "watch") {
      Fail(res, 405, "MethodNotAllowed", "the server does not allow this method");
      return;
    }
    return ListOrWatch(req, res, route, workloads, /*tables=*/false);
  }
  auto it = workloads.objects.find(key);
  if (it == workloads.objects.end()) return not_found();
  const json& d = it->second;
  if (!route.sub.empty() && route.sub != "scale") {
    Fail(res, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  const bool scale = route.sub == "scale";
  if (route.verb == "get") {
    Reply(res, 200, scale ? ScaleOf(d) : d);
    return;
  }
  json body = WriteBody(req, res, route.verb);
  if (body.is_null()) return;
  const std::string current_rv = d["metadata"]["resourceVersion"];
  const json sent_meta = body.value("metadata", json::object());
  const std::string sent_rv = sent_meta.is_object() && sent_meta.contains("resourceVersion") &&
                                      sent_meta["resourceVersion"].is_string()
                                  ? sent_meta["resourceVersion"].get<std::string>()
                                  : "";
  if (!sent_rv.empty() && sent_rv != current_rv) {
    return FailConflict(res, resource, "apps", route.name);
  }
  json updated;
  if (scale) {
    updated = ScaleOf(d);
    if (route.verb == "patch") {
      updated.merge_patch(body);
    } else {
      updated = body;
    }
    const json replicas = updated.value("spec", json::object()).value("replicas", json());
    if (!replicas.is_number_integer() || replicas.get<int64_t>() < 0) {
      const std::string value = replicas.dump();
      const std::string message =
          replicas.is_number_integer()
              ? "spec.replicas: Invalid value: " + value + ": must be greater than or equal to 0"
              : "spec.replicas: Invalid value: " + value + ": must be an integer";
      Fail(res, 422, "Invalid", "Scale.autoscaling \"" + route.name + "\" is invalid: " + message,
           {{"name", route.name},
            {"group", "autoscaling"},
            {"kind", "Scale"},
            {"causes", json::array({{{"reason", "FieldValueInvalid"},
                                     {"message", message},
                                     {"field", "spec.replicas"}}})}});
      return;
    }
    json scaled = d;
    scaled["spec"]["replicas"] = replicas;
    Reply(res, 200, ScaleOf(TouchWorkloadLocked(kind, scaled, d["spec"] != scaled["spec"])));
    return;
  }
  if (route.verb == "patch") {
    updated = d;
    updated.merge_patch(body);
  } else {
    updated = body;
  }
  if (!updated.contains("spec") || !updated["spec"].is_object()) {
    Fail(res, 422, "Invalid",
         std::string(KindName(kind)) + ".apps \"" + route.name +
             "\" is invalid: spec: Required value");
    return;
  }
  // Fields the server owns survive any write.
  json meta = updated.value("metadata", json::object());
  for (const char* owned : {"name", "namespace", "uid", "creationTimestamp", "generation"}) {
    meta[owned] = d["metadata"][owned];
  }
  const bool changed = updated["spec"] != d["spec"];
  updated["metadata"] = meta;
  updated["apiVersion"] = "apps/v1";
  updated["kind"] = KindName(kind);
  Reply(res, 200, TouchWorkloadLocked(kind, updated, changed));
}

void TestApiServer::HandleEvents(const httplib::Request& req, httplib::Response& res,
                                 const Route& route) {
  auto& events = events_[route.ns];
  if (route.verb == "create") {
    json e = ParseBody(req.body);
    if (!e.is_object()) {
      Fail(res, 400, "BadRequest", "the body of the request was in an unknown format");
      return;
    }
    json& meta = e["metadata"];
    if (!meta.is_object()) meta = json::object();
    if (meta.contains("namespace") && meta["namespace"] != route.ns) {
      Fail(res, 400, "BadRequest",
           "the namespace of the provided object does not match the namespace sent on the "
           "request");
      return;
    }
    std::string name = meta.value("name", "");
    if (name.empty() && meta.contains("generateName")) {
      name = meta["generateName"].get<std::string>() + NewUidLocked().substr(0, 5);
    }
    if (name.empty() || !e.contains("involvedObject")) {
      Fail(res, 422, "Invalid",
           "Event \"" + name + "\" is invalid: metadata.name or involvedObject: Required value");
      return;
    }
    for (const auto& existing : events) {
      if (existing["metadata"]["name"] == name) {
        Fail(res, 409, "AlreadyExists", "events \"" + name + "\" already exists",
             {{"name", name}, {"kind", "events"}});
        return;
      }
    }
    meta["name"] = name;
    meta["namespace"] = route.ns;
    meta["uid"] = NewUidLocked();
    meta["resourceVersion"] = NextResourceVersionLocked();
    meta["creationTimestamp"] = Now();
    e["apiVersion"] = "v1";
    e["kind"] = "Event";
    events.push_back(e);
    Reply(res, 201, e);
    return;
  }
  if (route.verb == "get") {
    for (const auto& e : events) {
      if (e["metadata"]["name"] == route.name) {
        Reply(res, 200, e);
        return;
      }
    }
    Fail(res, 404, "NotFound", "events \"" + route.name + "\" not found",
         {{"name", route.name}, {"kind", "events"}});
    return;
  }
  if (route.verb != "list") {
    Fail(res, 405, "MethodNotAllowed", "the server does not allow this method");
    return;
  }
  auto selector = ParseSelectors(req, EventField);
  if (!selector) {
    Fail(res, 400, "BadRequest", selector.error().message);
    return;
  }
  json items = json::array();
  for (const auto& e : events) {
    if (selector->Matches(e)) items.push_back(e);
  }
  Reply(res, 200, ListBody("v1", "EventList", items, resource_version_));
}

void TestApiServer::HandleLeases(const httplib::Request& req, httplib::Response& res,
                                 const Route& route) {
  auto subject = [](const std::string& name) {
    return "leases.coordination.k8s.io \"" + name + "\"";
  };
  auto details = [](const std::string& name) {
    return json{{"name", name}, {"group", "coordination.k8s.io"}, {"kind", "leases"}};
  };
  if (route.verb == "list" || route.verb == "watch") {
    return ListOrWatch(req, res, route, leases_, /*tables=*/false);
  }
  if (route.verb == "create") {
    json l = ParseBody(req.body);
    if (!l.is_object() || !l.contains("metadata") || !l["metadata"].contains("name")) {
      Fail(res, 422, "Invalid",
           "Lease.coordination.k8s.io is invalid: metadata.name: Required value");
      return;
    }
    const std::string name = l["metadata"]["name"];
    const std::string key = route.ns + "/" + name;
    if (leases_.objects.count(key)) {
      Fail(res, 409, "AlreadyExists", subject(name) + " already exists", details(name));
      return;
    }
    l["apiVersion"] = "coordination.k8s.io/v1";
    l["kind"] = "Lease";
    l["metadata"]["namespace"] = route.ns;
    l["metadata"]["uid"] = NewUidLocked();
    l["metadata"]["creationTimestamp"] = Now();
    Reply(res, 201, ChangeLocked(leases_, std::move(l)));
    return;
  }
  const std::string key = route.ns + "/" + route.name;
  auto it = leases_.objects.find(key);
  if (it == leases_.objects.end()) {
    Fail(res, 404, "NotFound", subject(route.name) + " not found", details(route.name));
    return;
  }
  if (route.verb == "get") {
    Reply(res, 200, it->second);
    return;
  }
  if (route.verb == "delete") {
    ChangeLocked(leases_, it->second, /*deleted=*/true);
    Reply(res, 200,
          {{"kind", "Status"},
           {"apiVersion", "v1"},
           {"metadata", json::object()},
           {"status", "Success"},
           {"details", details(route.name)}});
    return;
  }
  if (route.verb != "update") {
    Fail(res, 405, "MethodNotAllowed", "the server does not allow this method");
    return;
  }
  json l = ParseBody(req.body);
  if (!l.is_object()) {
    Fail(res, 400, "BadRequest", "the body of the request was in an unknown format");
    return;
  }
  const json meta = l.value("metadata", json::object());
  const std::string sent_rv = meta.value("resourceVersion", "");
  if (!sent_rv.empty() && sent_rv != it->second["metadata"]["resourceVersion"]) {
    FailConflict(res, "leases", "coordination.k8s.io", route.name);
    return;
  }
  json stored = it->second;
  stored["spec"] = l.value("spec", json::object());
  if (meta.contains("labels")) stored["metadata"]["labels"] = meta["labels"];
  if (meta.contains("annotations")) stored["metadata"]["annotations"] = meta["annotations"];
  Reply(res, 200, ChangeLocked(leases_, std::move(stored)));
}

namespace {

// One error of a 422, as the real server's field.Error: the cause's reason ("FieldValueInvalid"
// ...), field ("data[k]") and message ("Invalid value: ...: detail"), which the Status message
// shows as "FIELD: MESSAGE".
struct FieldError {
  std::string reason;
  std::string field;
  std::string message;
};

// The real server's 422: `KIND "NAME" is invalid: FIELD: MESSAGE`, several errors as
// `[FIELD: MESSAGE, FIELD: MESSAGE]`, each also a cause in details.
void FailInvalid(httplib::Response& res, const std::string& kind, const std::string& group,
                 const std::string& name, const std::vector<FieldError>& errors) {
  std::string list;
  json causes = json::array();
  for (const auto& e : errors) {
    list += (list.empty() ? "" : ", ") + e.field + ": " + e.message;
    causes.push_back({{"reason", e.reason}, {"message", e.message}, {"field", e.field}});
  }
  if (errors.size() > 1) list = "[" + list + "]";
  json details = {{"name", name}, {"kind", kind}, {"causes", causes}};
  if (!group.empty()) details["group"] = group;
  Fail(res, 422, "Invalid",
       (group.empty() ? kind : kind + "." + group) + " \"" + name + "\" is invalid: " + list,
       details);
}

FieldError InvalidValue(const std::string& field, const json& value, const std::string& detail,
                        const std::string& reason = "FieldValueInvalid") {
  return {reason, field, "Invalid value: " + value.dump() + ": " + detail};
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// apimachinery's IsDNS1123Subdomain (object names).
std::vector<std::string> DnsSubdomainProblems(const std::string& name) {
  std::vector<std::string> out;
  if (name.size() > 253) out.push_back("must be no more than 253 characters");
  bool ok = !name.empty();
  for (const auto& label : Split(name + ".", '.')) {
    ok = ok && !label.empty() && IsAlnum(label.front()) && IsAlnum(label.back());
    for (char c : label) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  }
  if (!ok) {
    out.push_back(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        "regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  }
  return out;
}

// apimachinery's IsConfigMapKey (data and binaryData keys).
std::vector<std::string> ConfigKeyProblems(const std::string& key) {
  std::vector<std::string> out;
  if (key.size() > 253) out.push_back("must be no more than 253 characters");
  bool ok = !key.empty();
  for (char c : key) ok = ok && (IsAlnum(c) || c == '-' || c == '_' || c == '.');
  if (!ok) {
    out.push_back(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')");
  }
  if (key == ".") {
    out.push_back("must not be '.'");
  } else if (key == "..") {
    out.push_back("must not be '..'");
  } else if (key.rfind("..", 0) == 0) {
    out.push_back("must not start with '..'");
  }
  return out;
}

// The decoded size of padded standard base64 (Go's encoding of []byte); nullopt, with the
// offset of the first bad byte in `bad_at`, when `text` is not that.
std::optional<size_t> Base64Size(const std::string& text, size_t& bad_at) {
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alphabet = IsAlnum(c) || c == '+' || c == '/';
    if (c == '=' && i + 2 >= text.size() && i % 4 >= 2) {
      ++padding;
    } else if (!alphabet || padding > 0) {
      bad_at = i;
      return std::nullopt;
    }
  }
  if (text.size() % 4 != 0) {
    bad_at = text.size() - text.size() % 4;
    return std::nullopt;
  }
  return text.size() / 4 * 3 - padding;
}

constexpr size_t kMaxConfigMapBytes = 1048576;  // corev1.MaxSecretSize, also for ConfigMaps

// Why the real server would refuse ConfigMap `cm` (`old`: the stored one, on an update): a
// decoding problem (a 400) in `bad_request`, else validation errors (a 422).
struct ConfigMapCheck {
  std::string bad_request;
  std::vector<FieldError> errors;
};

ConfigMapCheck CheckConfigMap(const json& cm, const json* old) {
  ConfigMapCheck check;
  const json& meta = cm["metadata"];
  const std::string name = meta.value("name", "");
  if (name.empty()) {
    check.errors.push_back({"FieldValueRequired", "metadata.name",
                            "Required value: name or generateName is required"});
  }
  for (const auto& problem :
       name.empty() ? std::vector<std::string>{} : DnsSubdomainProblems(name)) {
    check.errors.push_back(InvalidValue("metadata.name", name, problem));
  }
  size_t total = 0;
  for (const char* field : {"data", "binaryData"}) {
    if (!cm.contains(field)) continue;
    const json& values = cm[field];
    if (!values.is_object()) {
      check.errors.push_back(
          InvalidValue(field, values, "must be an object of strings", "FieldValueTypeInvalid"));
      continue;
    }
    const bool binary = std::string(field) == "binaryData";
    for (const auto& [key, value] : values.items()) {
      const std::string path = std::string(field) + "[" + key + "]";
      for (const auto& problem : ConfigKeyProblems(key)) {
        check.errors.push_back(InvalidValue(path, key, problem));
      }
      if (binary && cm.contains("data") && cm["data"].is_object() && cm["data"].contains(key)) {
        check.errors.push_back(InvalidValue("binaryData", key, "duplicate of key present in data"));
      }
      if (!value.is_string()) {
        check.errors.push_back(
            InvalidValue(path, value, "must be a string", "FieldValueTypeInvalid"));
        continue;
      }
      const std::string& text = value.get_ref<const std::string&>();
      if (!binary) {
        total += text.size();
        continue;
      }
      size_t bad_at = 0;
      if (auto size = Base64Size(text, bad_at)) {
        total += *size;
      } else if (check.bad_request.empty()) {
        check.bad_request =
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: illegal base64 data at "
            "input byte " +
            std::to_string(bad_at);
      }
    }
  }
  if (total > kMaxConfigMapBytes) {
    check.errors.push_back(
        {"FieldValueTooLong", "[]",
         "Too long: must have at most " + std::to_string(kMaxConfigMapBytes) + " bytes"});
  }
  if (cm.contains("immutable") && !cm["immutable"].is_boolean()) {
    check.errors.push_back(
        InvalidValue("immutable", cm["immutable"], "must be a boolean", "FieldValueTypeInvalid"));
  }
  // ValidateConfigMapUpdate: nothing of an immutable ConfigMap changes but its metadata.
  if (old != nullptr && old->value("immutable", json()) == true) {
    const std::string immutable = "Forbidden: field is immutable when `immutable` is set";
    if (cm.value("immutable", json()) != true) {
      check.errors.push_back({"FieldValueForbidden", "immutable", immutable});
    }
    for (const char* field : {"data", "binaryData"}) {
      if (cm.value(field, json()) != old->value(field, json())) {
        check.errors.push_back({"FieldValueForbidden", field, immutable});
      }
    }
  }
  return check;
}

// The writable part of a ConfigMap's metadata and its content, from what a client sent.
json ConfigMapMetadataFrom(const json& sent) {
  json meta = json::object();
  if (!sent.is_object()) return meta;
  for (const char* field :
       {"name", "generateName", "labels", "annotations", "ownerReferences", "finalizers"}) {
    if (sent.contains(field) && !sent[field].is_null()) meta[field] = sent[field];
  }
  return meta;
}

void CopyConfigMapContent(const json& from, json& to) {
  for (const char* field : {"data", "binaryData", "immutable"}) {
    if (from.contains(field) && !from[field].is_null()) {
      to[field] = from[field];
    } else {
      to.erase(field);
    }
  }
}

}  // namespace

// ConfigMaps (core v1), as the real server's registry: create (201, 409 AlreadyExists, 422
// from validation), get, list and watch (in a namespace or across namespaces), update and merge
// patch (409 Conflict on a stale resourceVersion; an update that changes nothing keeps the
// resourceVersion), delete (with preconditions).
void TestApiServer::HandleConfigMaps(const httplib::Request& req, httplib::Response& res,
                                     const Route& route) {
  auto subject = [](const std::string& name) { return "configmaps \"" + name + "\""; };
  auto details = [](const std::string& name) {
    return json{{"name", name}, {"group", ""}, {"kind", "configmaps"}};
  };
  auto not_found = [&] {
    Fail(res, 404, "NotFound", "the server could not find the requested resource");
  };
  if (!route.sub.empty() || (route.ns.empty() && !route.name.empty())) return not_found();
  if (route.name.empty()) {
    if (route.verb == "list" || route.verb == "watch") {
      return ListOrWatch(req, res, route, configmaps_, /*tables=*/false);
    }
    if (route.verb != "create" || route.ns.empty()) {
      Fail(res, 405, "MethodNotAllowed", "the server does not allow this method");
      return;
    }
    json body = ParseBody(req.body);
    if (!body.is_object()) {
      Fail(res, 400, "BadRequest", "the body of the request was in an unknown format");
      return;
    }
    const json sent_meta = body.value("metadata", json::object());
    if (sent_meta.is_object() && sent_meta.contains("namespace") && sent_meta["namespace"] != "" &&
        sent_meta["namespace"] != route.ns) {
      Fail(res, 400, "BadRequest",
           "the namespace of the provided object does not match the namespace sent on the "
           "request");
      return;
    }
    json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", ConfigMapMetadataFrom(sent_meta)}};
    json& meta = cm["metadata"];
    if (meta.contains("name") && !meta["name"].is_string()) meta.erase("name");
    if (!meta.contains("name") && meta.value("generateName", json()).is_string() &&
        !meta["generateName"].get<std::string>().empty()) {
      meta["name"] = meta["generateName"].get<std::string>() + NewUidLocked().substr(0, 5);
    }
    const std::string name = meta.value("name", "");
    CopyConfigMapContent(body, cm);
    const ConfigMapCheck check = CheckConfigMap(cm, nullptr);
    if (!check.bad_request.empty()) return Fail(res, 400, "BadRequest", check.bad_request);
    if (!check.errors.empty()) return FailInvalid(res, "ConfigMap", "", name, check.errors);
    if (configmaps_.objects.count(route.ns + "/" + name)) {
      Fail(res, 409, "AlreadyExists", subject(name) + " already exists", details(name));
      return;
    }
    meta["namespace"] = route.ns;
    meta["uid"] = NewUidLocked();
    meta["creationTimestamp"] = Now();
    Reply(res, 201, ChangeLocked(configmaps_, std::move(cm)));
    return;
  }
  auto it = configmaps_.objects.find(route.ns + "/" + route.name);
  if (it == configmaps_.objects.end()) {
    Fail(res, 404, "NotFound", subject(route.name) + " not found", details(route.name));
    return;
  }
  const json& stored = it->second;
  if (route.verb == "get") {
    Reply(res, 200, stored);
    return;
  }
  if (route.verb == "delete") {
    // DeleteOptions.preconditions, as the real server checks them.
    const json options = req.body.empty() ? json::object() : ParseBody(req.body);
    const json preconditions =
        options.is_object() ? options.value("preconditions", json::object()) : json::object();
    if (preconditions.is_object()) {
      for (const auto& [field, label] :
           {std::pair{"resourceVersion", "ResourceVersion"}, std::pair{"uid", "UID"}}) {
        const json wanted = preconditions.value(field, json());
        if (wanted.is_string() && wanted != stored["metadata"][field]) {
          Fail(res, 409, "Conflict",
               "Operation cannot be fulfilled on " + subject(route.name) +
                   ": Precondition failed: " + label +
                   " in precondition: " + wanted.get<std::string>() + ", " + label +
                   " in object meta: " + stored["metadata"][field].get<std::string>(),
               details(route.name));
          return;
        }
      }
    }
    json gone = details(route.name);
    gone["uid"] = stored["metadata"]["uid"];
    ChangeLocked(configmaps_, stored, /*deleted=*/true);
    Reply(res, 200,
          {{"kind", "Status"},
           {"apiVersion", "v1"},
           {"metadata", json::object()},
           {"status", "Success"},
           {"details", gone}});
    return;
  }
  json body = WriteBody(req, res, route.verb);
  if (body.is_null()) return;
  json sent = body;
  if (route.verb == "patch") {
    sent = stored;
    sent.merge_patch(body);
  }
  const json sent_meta = sent.value("metadata", json::object());
  if (!sent_meta.is_object()) {
    Fail(res, 400, "BadRequest", "the body of the request was in an unknown format");
    return;
  }
  const json sent_rv = sent_meta.value("resourceVersion", json());
  if (!sent_rv.is_null() && !sent_rv.is_string()) {
    Fail(res, 400, "BadRequest", "metadata.resourceVersion: must be a string");
    return;
  }
  if (sent_rv.is_string() && sent_rv != "" && sent_rv != stored["metadata"]["resourceVersion"]) {
    return FailConflict(res, "configmaps", "", route.name);
  }
  const json sent_name = sent_meta.value("name", json(""));
  if (sent_name != route.name) {
    Fail(res, 400, "BadRequest",
         "the name of the object (" + (sent_name.is_string() ? sent_name.get<std::string>() : "") +
             ") does not match the name on the URL (" + route.name + ")");
    return;
  }
  const json sent_ns = sent_meta.value("namespace", json(""));
  if (sent_ns != "" && sent_ns != route.ns) {
    Fail(res, 400, "BadRequest",
         "the namespace of the provided object does not match the namespace sent on the "
         "request");
    return;
  }
  // Fields the server owns survive any write; the rest is what the client sent.
  json updated = stored;
  json writable = ConfigMapMetadataFrom(sent_meta);
  for (const char* field :
       {"generateName", "labels", "annotations", "ownerReferences", "finalizers"}) {
    if (writable.contains(field)) {
      updated["metadata"][field] = writable[field];
    } else {
      updated["metadata"].erase(field);
    }
  }
  CopyConfigMapContent(sent, updated);
  const ConfigMapCheck check = CheckConfigMap(updated, &stored);
  if (!check.bad_request.empty()) return Fail(res, 400, "BadRequest", check.bad_request);
  if (!check.errors.empty()) return FailInvalid(res, "ConfigMap", "", route.name, check.errors);
  // As etcd: a write that changes nothing is no change (same resourceVersion, no event).
  if (updated == stored) return Reply(res, 200, stored);
  Reply(res, 200, ChangeLocked(configmaps_, std::move(updated)));
}

void TestApiServer::HandleAdmin(const httplib::Request& req, httplib::Response& res) {
  const std::string rest = req.path.substr(7);  // after "/_test/"
  const std::vector<std::string> seg = Split(rest, '/');
  const std::string& m = req.method;
  json body = req.body.empty() ? json::object() : ParseBody(req.body);
  auto bad = [&](const std::string& message) { Fail(res, 400, "BadRequest", message); };
  if (body.is_discarded()) return bad("body is not JSON");
  if (rest == "requests" && m == "GET") {
    json out = json::array();
    for (const auto& r : Requests()) {
      out.push_back({{"method", r.method},
                     {"path", r.path},
                     {"query", r.query},
                     {"status", r.status},
                     {"user", r.user}});
    }
    return Reply(res, 200, out);
  }
  if (rest == "requests" && m == "DELETE") {
    ClearRequests();
    return Reply(res, 200, json::object());
  }
  if (rest == "faults" && m == "POST") {
    auto fault = FaultFromJson(body);
    if (!fault) return bad(fault.error().message);
    InjectFault(*fault);
    return Reply(res, 200, json::object());
  }
  if (rest == "faults" && m == "DELETE") {
    ClearFaults();
    return Reply(res, 200, json::object());
  }
  for (WorkloadKind kind : {WorkloadKind::kDeployment, WorkloadKind::kStatefulSet}) {
    if (seg.empty() || seg[0] != ResourceOf(kind)) continue;
    const std::string missing = std::string("no such ") + KindName(kind);
    if (seg.size() == 1 && m == "POST") {
      try {
        std::map<std::string, std::string> annotations =
            body.value("annotations", std::map<std::string, std::string>{});
        return Reply(res, 201,
                     AddWorkload(kind, body.value("namespace", "default"),
                                 body.at("name").get<std::string>(), body.value("replicas", 1),
                                 annotations));
      } catch (const json::exception& e) {
        return bad(e.what());
      }
    }
    if (seg.size() < 3) break;
    bool found = true;
    if (seg.size() == 3 && m == "DELETE") {
      return DeleteWorkload(kind, seg[1], seg[2]) ? Reply(res, 200, json::object())
                                                  : Fail(res, 404, "NotFound", missing);
    } else if (seg.size() == 3 && m == "PATCH") {
      found = PatchWorkload(kind, seg[1], seg[2], body);
    } else if (seg.size() == 4 && seg[3] == "ready" && m == "POST") {
      std::optional<int32_t> ready;
      if (body.contains("ready") && body["ready"].is_number_integer()) {
        ready = body["ready"].get<int32_t>();
      }
      found = SetWorkloadReadyLimit(kind, seg[1], seg[2], ready);
    } else if (seg.size() != 3 || m != "GET") {
      break;
    }
    auto object = Workload(kind, seg[1], seg[2]);
    return found && object ? Reply(res, 200, *object) : Fail(res, 404, "NotFound", missing);
  }
  if (!seg.empty() && seg[0] == "horizontalpodautoscalers") {
    if (seg.size() == 1 && m == "POST") {
      try {
        return Reply(res, 201,
                     AddHorizontalPodAutoscaler(
                         body.value("namespace", "default"), body.at("name").get<std::string>(),
                         body.at("target").get<std::string>(),
                         body.value("target_kind", std::string("Deployment"))));
      } catch (const json::exception& e) {
        return bad(e.what());
      }
    }
    if (seg.size() == 3 && m == "DELETE") {
      return DeleteHorizontalPodAutoscaler(seg[1], seg[2])
                 ? Reply(res, 200, json::object())
                 : Fail(res, 404, "NotFound", "no such HorizontalPodAutoscaler");
    }
  }
  if (rest == "tokens" && m == "POST") {
    auto grant = TokenGrantFromJson(body);
    if (!grant) return bad(grant.error().message);
    SetToken(*grant);
    return Reply(res, 200, json::object());
  }
  if (rest == "tokens/rotate" && m == "POST") {
    RotateToken(body.value("old", ""), body.value("new", ""));
    return Reply(res, 200, json::object());
  }
  if (seg.size() == 2 && seg[0] == "events" && m == "GET") {
    return Reply(res, 200, Events(seg[1]));
  }
  Fail(res, 404, "NotFound", "unknown admin path " + req.path);
}

namespace {

// kubectl's human-readable age (k8s.io/apimachinery duration.HumanDuration).
std::string HumanAge(int64_t s) {
  if (s < 0) return "<invalid>";
  const int64_t m = s / 60, h = s / 3600, d = s / 86400;
  if (s < 120) return std::to_string(s) + "s";
  if (m < 10) return std::to_string(m) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  if (m < 180) return std::to_string(m) + "m";
  if (h < 8) return std::to_string(h) + "h" + (m % 60 ? std::to_string(m % 60) + "m" : "");
  if (h < 48) return std::to_string(h) + "h";
  if (h < 192) return std::to_string(d) + "d" + (h % 24 ? std::to_string(h % 24) + "h" : "");
  if (d < 730) return std::to_string(d) + "d";
  return std::to_string(d / 365) + "y" + (d % 365 ? std::to_string(d % 365) + "d" : "");
}

int64_t SecondsSince(const std::string& rfc3339) {
  std::tm tm{};
  if (strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return -1;
  return static_cast<int64_t>(std::time(nullptr) - timegm(&tm));
}

bool WantsTable(const httplib::Request& req) {
  const std::string accept = req.get_header_value("Accept");
  return accept.find("as=Table") != std::string::npos &&
         accept.find("g=meta.k8s.io") != std::string::npos;
}

}  // namespace

// A meta.k8s.io/v1 Table of KafkaScalers: Name and the CRD's printer columns (kubectl get).
json TestApiServer::KafkaScalerTableLocked(const json& items) const {
  json columns = json::array({{{"name", "Name"},
                               {"type", "string"},
                               {"format", "name"},
                               {"description", "Name must be unique within a namespace."},
                               {"priority", 0}}});
  for (const auto& c : kafkascaler_version_.value("additionalPrinterColumns", json::array())) {
    columns.push_back({{"name", c["name"]},
                       {"type", c["type"]},
                       {"format", c.value("format", "")},
                       {"description", c.value("description", "")},
                       {"priority", c.value("priority", 0)}});
  }
  json rows = json::array();
  for (const auto& o : items) {
    json cells = json::array({o["metadata"]["name"]});
    for (const auto& c : kafkascaler_version_.value("additionalPrinterColumns", json::array())) {
      json v = EvalPrinterColumn(o, c["jsonPath"].get<std::string>());
      if (c["type"] == "date" && v.is_string()) v = HumanAge(SecondsSince(v.get<std::string>()));
      if (!v.is_null() && !v.is_primitive()) v = v.dump();
      cells.push_back(v);
    }
    rows.push_back({{"cells", cells},
                    {"object",
                     {{"kind", "PartialObjectMetadata"},
                      {"apiVersion", "meta.k8s.io/v1"},
                      {"metadata", o["metadata"]}}}});
  }
  return json{{"kind", "Table"},
              {"apiVersion", "meta.k8s.io/v1"},
              {"metadata", {{"resourceVersion", std::to_string(resource_version_)}}},
              {"columnDefinitions", columns},
              {"rows", rows}};
}

void TestApiServer::HandleKafkaScalers(const httplib::Request& req, httplib::Response& res,
                                       const Route& route) {
  const std::string group = "kafka-autoscaler.io";
  const std::string api_version = group + "/v1alpha1";
  const json& schema = kafkascaler_version_["schema"]["openAPIV3Schema"];
  auto subject = [&](const std::string& name) {
    return "kafkascalers." + group + " \"" + name + "\"";
  };
  auto details = [&](const std::string& name) {
    return json{{"name", name}, {"group", group}, {"kind", "kafkascalers"}};
  };
  // Defaults, then the schema; a 422 worded like the real server's when it does not conform.
  auto admit = [&](json& object, const std::string& name) {
    ApplyCrdDefaults(object, schema);
    auto problems = CheckCrdSchema(object, schema, "");
    if (problems.empty()) return true;
    json causes = json::array();
    std::string joined;
    for (const auto& p : problems) {
      causes.push_back(
          {{"reason", "FieldValueInvalid"}, {"message", p}, {"field", p.substr(0, p.find(':'))}});
      joined += (joined.empty() ? "" : ", ") + p;
    }
    Fail(res, 422, "Invalid",
         "KafkaScaler." + group + " \"" + name + "\" is invalid: [" + joined + "]",
         {{"name", name}, {"group", group}, {"kind", "KafkaScaler"}, {"causes", causes}});
    return false;
  };

  if (route.name.empty()) {
    if (route.verb == "watch" || route.verb == "list") {
      return ListOrWatch(req, res, route, kafkascalers_, /*tables=*/true);
    }
    if (route.verb != "create" || route.ns.empty()) {
      Fail(res, 405, "MethodNotAllowed", "the server does not allow this method");
      return;
    }
    json o = ParseBody(req.body);
    if (!o.is_object()) {
      Fail(res, 400, "BadRequest", "the body of the request was in an unknown format");
      return;
    }
    json& meta = o["metadata"];
    if (!meta.is_object() || !meta.contains("name") || !meta["name"].is_string()) {
      Fail(res, 422, "Invalid",
           "KafkaScaler." + group + " is invalid: metadata.name: Required value");
      return;
    }
    const std::string name = meta["name"];
    if (meta.contains("namespace") && meta["namespace"] != route.ns) {
      Fail(res, 400, "BadRequest",
           "the namespace of the provided object does not match the namespace sent on the "
           "request");
      return;
    }
    const std::string key = route.ns + "/" + name;
    if (kafkascalers_.objects.count(key)) {
      Fail(res, 409, "AlreadyExists", subject(name) + " already exists", details(name));
      return;
    }
    o.erase("status");  // the status subresource owns it
    o["apiVersion"] = api_version;
    o["kind"] = "KafkaScaler";
    if (!admit(o, name)) return;
    meta["namespace"] = route.ns;
    meta["uid"] = NewUidLocked();
    meta["generation"] = 1;
    meta["creationTimestamp"] = Now();
    Reply(res, 201, ChangeLocked(kafkascalers_, std::move(o)));
    return;
  }

  auto it = kafkascalers_.objects.find(route.ns + "/" + route.name);
  if (it == kafkascalers_.objects.end()) {
    Fail(res, 404, "NotFound", subject(route.name) + " not found", details(route.name));
    return;
  }
  if (!route.sub.empty() && route.sub != "status") {
    Fail(res, 404, "NotFound", "the server could not find the requested resource");
    return;
  }
  const json& stored = it->second;
  if (route.verb == "get") {
    Reply(res, 200, WantsTable(req) ? KafkaScalerTableLocked(json::array({stored})) : stored);
    return;
  }
  if (route.verb == "delete" && route.sub.empty()) {
    Reply(res, 200, ChangeLocked(kafkascalers_, stored, /*deleted=*/true));
    return;
  }
  json body = WriteBody(req, res, route.verb);
  if (body.is_null()) return;
  const json sent_meta = body.value("metadata", json::object());
  if (sent_meta.is_object() && sent_meta.contains("resourceVersion") &&
      sent_meta["resourceVersion"] != stored["metadata"]["resourceVersion"]) {
    return FailConflict(res, "kafkascalers", group, route.name);
  }
  json updated = stored;
  if (route.verb == "patch") {
    updated.merge_patch(body);
  } else {
    updated = body;
  }
  const bool status_write = route.sub == "status";
  // The main resource never changes status, the status subresource never changes anything else.
  if (status_write) {
    json status = updated.value("status", json());
    updated = stored;
    if (status.is_null()) {
      updated.erase("status");
    } else {
      updated["status"] = status;
    }
  } else if (stored.contains("status")) {
    updated["status"] = stored["status"];
  } else {
    updated.erase("status");
  }
  json meta = updated.value("metadata", json::object());
  for (const char* owned : {"name", "namespace", "uid", "creationTimestamp", "generation"}) {
    meta[owned] = stored["metadata"][owned];
  }
  updated["metadata"] = meta;
  updated["apiVersion"] = api_version;
  updated["kind"] = "KafkaScaler";
  if (!admit(updated, route.name)) return;
  if (updated == stored) {  // a no-op write keeps the resourceVersion, as the real server does
    Reply(res, 200, stored);
    return;
  }
  if (!status_write && updated["spec"] != stored["spec"]) {
    updated["metadata"]["generation"] = stored["metadata"]["generation"].get<int64_t>() + 1;
  }
  Reply(res, 200, ChangeLocked(kafkascalers_, std::move(updated)));
}

// limit=N: at most N items, and metadata.continue when more follow; continue=TOKEN: the next
// chunk (kubectl's --chunk-size, client-go's pager). The token carries the list's
// resourceVersion and the last key served; the chunk is the objects after that key, and the
// list's resourceVersion stays the first chunk's. Unlike the real server, which serves every
// chunk from the first one's snapshot, later chunks show the objects as they are now (a change
// meanwhile is also in the watch from the list's resourceVersion, so an informer converges
// either way). A token older than the collection's history (CompactHistory) is 410 Expired, as
// the real server answers once etcd has compacted the snapshot's revision.
void TestApiServer::ListOrWatch(const httplib::Request& req, httplib::Response& res,
                                const Route& route, const Collection& collection, bool tables) {
  if (route.verb == "watch") return Watch(req, res, route, collection, tables);
  auto selector = ParseSelectors(req);
  if (!selector) return Fail(res, 400, "BadRequest", selector.error().message);
  int64_t limit = 0;
  if (req.has_param("limit")) {
    const std::string text = req.get_param_value("limit");
    char* end = nullptr;
    limit = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || limit < 0) {
      return Fail(res, 400, "BadRequest", "limit: Invalid value: \"" + text + "\"");
    }
  }
  uint64_t list_version = resource_version_;
  std::string after;  // the last key of the previous chunk
  if (req.has_param("continue")) {
    const std::string token = req.get_param_value("continue");
    const size_t colon = token.find(':');
    const std::string version = token.substr(0, colon);
    char* end = nullptr;
    list_version = std::strtoull(version.c_str(), &end, 10);
    if (colon == std::string::npos || version.empty() || *end != '\0') {
      return Fail(res, 400, "BadRequest", "continue key is not valid: " + token);
    }
    if (list_version < collection.history_from ||
        expire_next_continue_.erase(collection.resource) > 0) {
      return Fail(res, 410, "Expired",
                  "The provided continue parameter is too old to display a consistent list "
                  "result. You can start a new list without the continue parameter.");
    }
    after = token.substr(colon + 1);
  }
  json items = json::array();
  std::string next;
  for (auto it = collection.objects.upper_bound(after); it != collection.objects.end(); ++it) {
    const json& object = it->second;
    if ((!route.ns.empty() && object["metadata"]["namespace"] != route.ns) ||
        !selector->Matches(object)) {
      continue;
    }
    if (limit > 0 && static_cast<int64_t>(items.size()) == limit) {
      next = std::to_string(list_version) + ":" + std::prev(it)->first;
      break;
    }
    items.push_back(object);
  }
  if (tables && WantsTable(req)) {
    json table = KafkaScalerTableLocked(items);
    if (!next.empty()) table["metadata"]["continue"] = next;
    return Reply(res, 200, table);
  }
  json body =
      ListBody(collection.api_version, collection.kind + "List", std::move(items), list_version);
  if (!next.empty()) body["metadata"]["continue"] = next;
  Reply(res, 200, body);
}

// GET ...?watch=true: a stream of WatchEvent lines, as the real server sends.
// resourceVersion "" or "0": ADDED for every current object first; a number: the changes after
// it, or one ERROR event with a 410 Status when the history no longer reaches back to it.
// allowWatchBookmarks=true adds a BOOKMARK each idle second; timeoutSeconds ends the stream.
// Under a selector, a MODIFIED object that starts matching is ADDED, one that stops DELETED.
void TestApiServer::Watch(const httplib::Request& req, httplib::Response& res, const Route& route,
                          const Collection& collection, bool tables) {
  auto selector = ParseSelectors(req);
  if (!selector) return Fail(res, 400, "BadRequest", selector.error().message);
  struct State {
    std::string ns;
    Selector selector;
    uint64_t cursor = 0;
    std::vector<std::string> pending;  // lines to send before waiting
    bool bookmarks = false;
    bool done = false;
    std::string user;  // a partition of this user holds the stream, its end drops it
    std::chrono::steady_clock::time_point deadline;
    bool Visible(const json& o) const {
      return (ns.empty() || o["metadata"]["namespace"] == ns) && selector.Matches(o);
    }
  };
  auto state = std::make_shared<State>();
  state->ns = route.ns;
  state->selector = std::move(*selector);
  state->bookmarks = req.get_param_value("allowWatchBookmarks") == "true";
  state->user = UserLocked(req);
  int64_t timeout = 1800;
  if (req.has_param("timeoutSeconds")) {
    timeout =
        std::clamp<int64_t>(std::atoll(req.get_param_value("timeoutSeconds").c_str()), 1, 3600);
  }
  state->deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  const std::string from = req.get_param_value("resourceVersion");
  // kubectl asks for Tables (as=Table): each ADDED/MODIFIED/DELETED object is then a one-row Table.
  const bool as_table = tables && WantsTable(req);
  auto line = [this, as_table](const std::string& type, const json& object) {
    const bool row = as_table && type != "ERROR" && type != "BOOKMARK";
    return json{{"type", type},
                {"object", row ? KafkaScalerTableLocked(json::array({object})) : object}}
               .dump() +
           "\n";
  };
  // The line a change is for this watch ("" when it does not concern it).
  auto line_of = [state, line](const WatchEvent& e) {
    const bool now = state->Visible(e.object);
    const bool before = e.type == "MODIFIED" ? state->Visible(e.old_object) : now;
    if (!now && !before) return std::string();
    std::string type = e.type;
    if (now && !before) type = "ADDED";
    if (!now && before) type = "DELETED";
    return line(type, e.object);
  };
  auto gone = [line](const std::string& message) {
    return line("ERROR", StatusBody(410, "Expired", message, nullptr));
  };
  if (from.empty() || from == "0") {
    for (const auto& o : ItemsIn(collection.objects, route.ns, state->selector)) {
      state->pending.push_back(line("ADDED", o));
    }
    state->cursor = resource_version_;
  } else {
    const uint64_t rv = std::strtoull(from.c_str(), nullptr, 10);
    if (rv < collection.history_from) {
      state->pending.push_back(gone("too old resource version: " + from + " (" +
                                    std::to_string(collection.history_from) + ")"));
      state->done = true;
    }
    state->cursor = rv;
  }
  res.status = 200;
  res.set_chunked_content_provider(
      // With a charset cpp-httplib does not compress: a compressor would hold each event back.
      "application/json; charset=utf-8",
      [this, state, line, line_of, gone, &collection](size_t, httplib::DataSink& sink) {
        std::vector<std::string> out;
        bool end = false;
        {
          std::unique_lock lock(mu_);
          if (!state->user.empty() && partitioned_.count(state->user)) {
            changed_.wait(lock, [&] { return stopping_ || !partitioned_.count(state->user); });
            return false;
          }
          out.swap(state->pending);
          if (state->done) {
            end = true;
          } else if (out.empty()) {
            auto has_news = [&] {
              return stopping_ || (!collection.events.empty() &&
                                   collection.events.back().resource_version > state->cursor);
            };
            const auto wake = std::min(state->deadline,
                                       std::chrono::steady_clock::now() + std::chrono::seconds(1));
            changed_.wait_until(lock, wake, has_news);
            if (state->cursor < collection.history_from) {
              out.push_back(gone("too old resource version"));
              end = true;
            }
            for (const auto& e : collection.events) {
              if (end || e.resource_version <= state->cursor) continue;
              state->cursor = e.resource_version;
              if (std::string l = line_of(e); !l.empty()) out.push_back(std::move(l));
            }
            if (out.empty() && state->bookmarks && !end) {
              out.push_back(
                  line("BOOKMARK",
                       {{"kind", collection.kind},
                        {"apiVersion", collection.api_version},
                        {"metadata", {{"resourceVersion", std::to_string(resource_version_)}}}}));
            }
            end = end || stopping_ || std::chrono::steady_clock::now() >= state->deadline;
          }
        }
        for (const auto& l : out) {
          if (!sink.write(l.data(), l.size())) return false;
        }
        if (end) sink.done();
        return true;
      });
}

}  // namespace kafka_autoscaler::testing
