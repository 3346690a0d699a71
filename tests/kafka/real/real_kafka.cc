#include "real_kafka.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

namespace kafka_autoscaler::kafka::testing {
namespace {

using kafka_autoscaler::testing::FreePort;
using kafka_autoscaler::testing::Process;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kControllerId = 100;
constexpr char kStarted[] = "Kafka Server started";
// A loaded 2-core machine (CI runs two tests at once) has been seen to need ~20 s per JVM.
constexpr seconds kReadyTimeout{180};

// Brokers log warnings only, plus the one line that says they are ready; tools log to stderr.
constexpr char kServerLog[] = R"(Configuration:
  Appenders: {Console: {name: STDOUT, target: SYSTEM_OUT, PatternLayout: {pattern: "[%d] %p %m (%c)%n"}}}
  Loggers:
    Root: {level: WARN, AppenderRef: [{ref: STDOUT}]}
    Logger: [{name: kafka.server.KafkaRaftServer, level: INFO}]
)";
constexpr char kToolLog[] = R"(Configuration:
  Appenders: {Console: {name: STDERR, target: SYSTEM_ERR, PatternLayout: {pattern: "[%d] %p %m (%c)%n"}}}
  Loggers: {Root: {level: WARN, AppenderRef: [{ref: STDERR}]}}
)";
// The same for Kafka 3.x (reload4j).
constexpr char kServerLog3[] = R"(log4j.rootLogger=WARN, out
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
)";
constexpr char kToolLog3[] = R"(log4j.rootLogger=WARN, err
log4j.appender.err=org.apache.log4j.ConsoleAppender
log4j.appender.err.Target=System.err
log4j.appender.err.layout=org.apache.log4j.PatternLayout
log4j.appender.err.layout.ConversionPattern=[%d] %p %m (%c)%n
)";

Status WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return MakeError(ErrorCode::kInternal, "cannot write " + path.string());
  return OkStatus();
}

std::string Joined(const std::vector<std::string>& lines, size_t last) {
  std::string out;
  for (size_t i = lines.size() > last ? lines.size() - last : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

}  // namespace

Result<std::string> RunProgram(const std::vector<std::string>& argv, milliseconds timeout) {
  Process p(argv);
  if (p.pid() <= 0) return MakeError(ErrorCode::kInternal, "cannot start " + argv[0]);
  p.CloseStdin();
  const auto status = p.Wait(timeout);
  std::string out;
  for (const auto& line : p.Lines()) out += line + "\n";
  if (!status) return MakeError(ErrorCode::kTimeout, argv[0] + " did not finish: " + p.Stderr());
  if (*status != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    return MakeError(ErrorCode::kInternal,
                     cmd + "exited " + std::to_string(*status) + ": " + p.Stderr() + out);
  }
  return out;
}

std::string RealKafka::LibDir(const std::string& version) {
  std::string cache = KA_KAFKA_CACHE;
  if (const char* env = std::getenv("KA_KAFKA_CACHE"); env != nullptr && *env != '\0') cache = env;
  return cache + "/kafka-" + version + "/lib";
}

std::vector<std::string> RealKafka::Java(const std::string& heap,
                                         const std::string& log_config) const {
  // setpriv: the JVM gets SIGKILL when the test process dies, however it dies.
  return {KA_SETPRIV, "--pdeathsig", "KILL", KA_JAVA, "-Xmx" + heap, "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xss512k", "-Djava.awt.headless=true",
          // 4.x logs with log4j2 (YAML), 3.x with reload4j (properties).
          Log4j() ? "-Dlog4j2.configurationFile=" + (dir_ / (log_config + ".yaml")).string()
                  : "-Dlog4j.configuration=file:" + (dir_ / (log_config + ".properties")).string(),
          "-cp", LibDir(options_.version) + "/*"};
}

Status RealKafka::MakeCertificates() {
  const auto tls = dir_ / "tls";
  std::filesystem::create_directories(tls);
  auto ssl = [&](std::vector<std::string> args) -> Status {
    args.insert(args.begin(), KA_OPENSSL);
    auto r = RunProgram(args, seconds(60));
    if (!r) return MakeError(r.error());
    return OkStatus();
  };
  const auto p = [&](const char* f) { return (tls / f).string(); };
  for (const char* ca : {"ca", "wrong-ca"}) {
    const std::string name = ca;
    RETURN_IF_ERROR(ssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                         "/CN=kafka-autoscaler test " + name, "-keyout", p(ca) + ".key", "-out",
                         p(ca) + ".pem"}));
  }
  RETURN_IF_ERROR(ssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
                       p("server.key"), "-out", p("server.csr")}));
  RETURN_IF_ERROR(WriteFile(tls / "san.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"));
  RETURN_IF_ERROR(
      ssl({"x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
           "-CAcreateserial", "-days", "2", "-extfile", p("san.cnf"), "-out", p("server.pem")}));
  // Kafka's PEM key store: the (unencrypted PKCS#8) key, then the certificate chain.
  std::ifstream key(tls / "server.key"), cert(tls / "server.pem");
  std::stringstream both;
  both << key.rdbuf() << cert.rdbuf();
  return WriteFile(tls / "keystore.pem", both.str());
}

Status RealKafka::WriteProperties(Node& n) {
  const int replication = std::min(3, options_.brokers);
  const std::string voters = (options_.brokers == 1 ? "1" : std::to_string(kControllerId)) +
                             "@127.0.0.1:" + std::to_string(controller_port_);
  std::vector<std::string> listeners, advertised;
  if (n.broker) {
    listeners.push_back("PLAINTEXT://127.0.0.1:" + std::to_string(n.port));
    if (options_.secure)
      listeners.push_back("SASL_SSL://127.0.0.1:" + std::to_string(n.secure_port));
    advertised = listeners;
  }
  if (n.controller)
    listeners.push_back("CONTROLLER://127.0.0.1:" + std::to_string(controller_port_));
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  std::string roles = n.broker && n.controller ? "broker,controller"
                      : n.broker               ? "broker"
                                               : "controller";
  std::ostringstream p;
  p << "process.roles=" << roles << "\n"
    << "node.id=" << n.id << "\n"
    << "controller.quorum.voters=" << voters << "\n"
    << "controller.listener.names=CONTROLLER\n"
    << "listeners=" << join(listeners) << "\n"
    << "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL\n"
    << "log.dirs=" << (dir_ / ("node-" + std::to_string(n.id))).string()
    << "\n"
    // Sized for a 2-core machine: one network thread, few I/O and background threads, a small
    // log cleaner buffer (its default 128 MiB would not fit the 256 MiB heap).
    << "num.network.threads=1\nnum.io.threads=2\nbackground.threads=2\n"
    << "num.replica.fetchers=1\nnum.recovery.threads.per.data.dir=1\n"
    << "log.cleaner.dedupe.buffer.size=16777216\nlog.cleaner.threads=1\n";
  if (n.broker) {
    p << "advertised.listeners=" << join(advertised) << "\n"
      << "inter.broker.listener.name=PLAINTEXT\n"
      << "auto.create.topics.enable=false\n"
      << "num.partitions=1\n"
      << "default.replication.factor=" << replication << "\n"
      << "offsets.topic.replication.factor=" << replication << "\n"
      << "offsets.topic.num.partitions=" << options_.brokers << "\n"
      << "transaction.state.log.replication.factor=" << replication << "\n"
      << "transaction.state.log.min.isr=1\n"
      << "group.initial.rebalance.delay.ms=0\n";
    if (Log4j()) {  // 4.x only
      p << "share.coordinator.state.topic.replication.factor=" << replication << "\n"
        << "share.coordinator.state.topic.min.isr=1\n";
    }
  }
  if (options_.secure) {
    // ANONYMOUS (the PLAINTEXT listeners: the test's own clients, the brokers among themselves
    // and towards the controller) is a super user; everyone else needs ACLs.
    p << "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n"
      << "super.users=User:admin;User:ANONYMOUS\n"
      << "allow.everyone.if.no.acl.found=false\n";
    if (n.broker) {
      p << "sasl.enabled.mechanisms=SCRAM-SHA-512\n"
        << "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
           "org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
        << "ssl.keystore.type=PEM\n"
        << "ssl.keystore.location=" << (dir_ / "tls" / "keystore.pem").string() << "\n";
    }
  }
  return WriteFile(n.properties, p.str());
}

Result<std::unique_ptr<RealKafka>> RealKafka::Start(RealKafkaOptions options) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string lib = LibDir(options.version);
  if (!std::filesystem::exists(lib + "/kafka_2.13-" + options.version + ".jar")) {
    return MakeError(ErrorCode::kNotFound,
                     "no Kafka jars in " + lib + ": run scripts/setup.sh (it fetches them)");
  }
  static std::atomic<int> counter{0};
  std::unique_ptr<RealKafka> k(new RealKafka());
  k->options_ = std::move(options);
  k->dir_ =
      std::filesystem::temp_directory_path() / ("ka-realkafka-" + std::to_string(getpid()) + "-" +
                                                k->options_.name + "-" + std::to_string(++counter));
  std::filesystem::remove_all(k->dir_);
  std::filesystem::create_directories(k->dir_);
  RETURN_IF_ERROR(WriteFile(k->dir_ / "server-log.yaml", kServerLog));
  RETURN_IF_ERROR(WriteFile(k->dir_ / "tool-log.yaml", kToolLog));
  RETURN_IF_ERROR(WriteFile(k->dir_ / "server-log.properties", kServerLog3));
  RETURN_IF_ERROR(WriteFile(k->dir_ / "tool-log.properties", kToolLog3));
  if (k->options_.secure) RETURN_IF_ERROR(k->MakeCertificates());

  k->controller_port_ = FreePort();
  const int brokers = std::max(1, k->options_.brokers);
  for (int id = 1; id <= brokers; ++id) {
    Node n;
    n.id = id;
    n.controller = brokers == 1;
    k->nodes_.push_back(std::move(n));
  }
  if (brokers > 1) {
    Node c;
    c.id = kControllerId;
    c.broker = false;
    c.controller = true;
    k->nodes_.push_back(std::move(c));
  }
  for (auto& n : k->nodes_) {
    if (n.broker) n.port = FreePort();
    if (n.broker && k->options_.secure) n.secure_port = FreePort();
    n.properties = k->dir_ / ("node-" + std::to_string(n.id) + ".properties");
    RETURN_IF_ERROR(k->WriteProperties(n));
  }

  // Format every node at once (one JVM each) with one cluster id.
  auto uuid = RunProgram(
      [&] {
        auto a = k->Java("64m", "tool-log");
        a.insert(a.end(), {"kafka.tools.StorageTool", "random-uuid"});
        return a;
      }(),
      kReadyTimeout);
  if (!uuid) return MakeError(uuid.error());
  std::string cluster_id = *uuid;
  while (!cluster_id.empty() && std::isspace(static_cast<unsigned char>(cluster_id.back()))) {
    cluster_id.pop_back();
  }
  std::vector<std::unique_ptr<Process>> formats;
  for (auto& n : k->nodes_) {
    auto a = k->Java("128m", "tool-log");
    a.insert(a.end(),
             {"kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", n.properties.string()});
    for (const auto& [user, password] : k->options_.scram_users) {
      a.insert(a.end(),
               {"--add-scram", "SCRAM-SHA-512=[name=" + user + ",password=" + password + "]"});
    }
    formats.push_back(std::make_unique<Process>(a));
    formats.back()->CloseStdin();
  }
  for (auto& f : formats) {
    const auto status = f->Wait(kReadyTimeout);
    if (status != 0) {
      return MakeError(ErrorCode::kInternal,
                       "kafka format failed: " + f->Stderr() + Joined(f->Lines(), 20));
    }
  }
  std::vector<Node*> all;
  for (auto& n : k->nodes_) all.push_back(&n);
  RETURN_IF_ERROR(k->StartNodes(all));
  auto client = KafkaTestClient::Create(k->bootstrap());
  if (!client) return MakeError(client.error());
  k->client_ = std::move(*client);
  k->startup_time_ =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
  return k;
}

Status RealKafka::StartNodes(const std::vector<Node*>& nodes) {
  for (Node* n : nodes) {
    auto a = Java("256m", "server-log");
    a.insert(a.end(), {"kafka.Kafka", n->properties.string()});
    n->process = std::make_unique<Process>(a);
    if (n->process->pid() <= 0) return MakeError(ErrorCode::kInternal, "cannot start java");
  }
  for (Node* n : nodes) {
    const auto line = n->process->WaitForLine(
        [](const std::string& l) { return l.find(kStarted) != std::string::npos; }, kReadyTimeout);
    if (!line) {
      return MakeError(ErrorCode::kTimeout, "kafka node " + std::to_string(n->id) +
                                                " not ready: " + Log(n->id) + n->process->Stderr());
    }
  }
  return OkStatus();
}

RealKafka::~RealKafka() {
  client_.reset();
  for (auto& n : nodes_) {
    if (n.process) n.process->Signal(SIGKILL);
  }
  for (auto& n : nodes_) n.process.reset();  // reaps
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string RealKafka::bootstrap() const {
  std::string s;
  for (const auto& n : nodes_) {
    if (n.broker) s += (s.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(n.port);
  }
  return s;
}

std::string RealKafka::secure_bootstrap() const {
  std::string s;
  for (const auto& n : nodes_) {
    if (n.broker) {
      s += (s.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(n.secure_port);
    }
  }
  return s;
}

std::vector<int> RealKafka::broker_ids() const {
  std::vector<int> ids;
  for (const auto& n : nodes_) {
    if (n.broker) ids.push_back(n.id);
  }
  return ids;
}

RealKafka::Node* RealKafka::Find(int node) {
  for (auto& n : nodes_) {
    if (n.id == node) return &n;
  }
  return nullptr;
}

void RealKafka::Signal(int node, int signal) {
  if (Node* n = Find(node); n != nullptr && n->process) n->process->Signal(signal);
}

void RealKafka::Kill(int node) {
  Node* n = Find(node);
  if (n == nullptr || !n->process) return;
  n->process->Signal(SIGKILL);
  (void)n->process->Wait(seconds(30));
}

Status RealKafka::Restart(int node) {
  Node* n = Find(node);
  if (n == nullptr) return MakeError(ErrorCode::kNotFound, "no node " + std::to_string(node));
  Kill(node);
  return StartNodes({n});
}

Result<std::string> RealKafka::Tool(const std::string& main_class,
                                    const std::vector<std::string>& args) const {
  auto a = Java("256m", "tool-log");
  a.push_back(main_class);
  a.insert(a.end(), args.begin(), args.end());
  return RunProgram(a, kReadyTimeout);
}

std::string RealKafka::Log(int node) const {
  for (const auto& n : nodes_) {
    if (n.id == node && n.process) return Joined(n.process->Lines(), 30);
  }
  return "";
}

}  // namespace kafka_autoscaler::kafka::testing
