// mock-kafka: a librdkafka mock Kafka cluster on loopback, driven by line commands on stdin.
// Used by end-to-end and fault tests of the real daemon binary (and handy by hand).
//
// Usage:  mock-kafka [--brokers N] [--topic NAME:PARTITIONS]...
//   --brokers N               number of mock brokers, ids 1..N (default 3)
//   --topic NAME:PARTITIONS   create a topic at start (repeatable)
//
// The first stdout line is the bootstrap address:
//   bootstrap=127.0.0.1:PORT,127.0.0.1:PORT,...
// Then one command per stdin line; each is answered by exactly one stdout line, "ok" or
// "error <message>" (stdout is flushed after every answer). Blank lines and lines starting
// with '#' are ignored without an answer. The program exits 0 when stdin closes or on `quit`.
//
// Commands (ERRCODE is a Kafka error name such as NOT_LEADER_OR_FOLLOWER,
// GROUP_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_OR_PART, or its number; APIKEY is a request name
// such as ListOffsets, Metadata, OffsetFetch, OffsetCommit, FindCoordinator, Produce, Fetch,
// or its number):
//   create_topic TOPIC PARTITIONS          create a topic (error if it exists)
//   produce TOPIC N [PARTITION]            produce N messages, to PARTITION or spread
//                                          round-robin over the topic's partitions (topics
//                                          from --topic/create_topic); answers after all acks
//   commit GROUP TOPIC PARTITION OFFSET    commit OFFSET for GROUP (a real OffsetCommit)
//   broker_down ID | broker_up ID          take a broker down / bring it back
//   rtt ID MS                              add MS ms of round-trip time to a broker (0 clears)
//   push_errors APIKEY ERRCODE COUNT       the next COUNT requests of APIKEY fail with ERRCODE
//   clear_errors APIKEY                    drop queued request errors
//   topic_error TOPIC ERRCODE              Metadata answers for TOPIC carry ERRCODE
//                                          (NO_ERROR or 0 clears); a "missing topic" is
//                                          UNKNOWN_TOPIC_OR_PART, since the mock auto-creates
//   create_partitions TOPIC N              not supported by librdkafka 2.0.2's mock: answers
//                                          "error ..." (kept so tests can detect support)
//   quit                                   exit 0
#include <librdkafka/rdkafka.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "mock_cluster.h"

namespace {

using kafka_autoscaler::Result;
using kafka_autoscaler::Status;
using kafka_autoscaler::kafka::testing::MockCluster;

bool ParseInt(const std::string& s, int64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

// A Kafka error by name (librdkafka's names, plus the protocol's newer NOT_LEADER_OR_FOLLOWER)
// or number.
bool ParseErrorCode(const std::string& s, rd_kafka_resp_err_t& out) {
  int64_t n = 0;
  if (ParseInt(s, n)) {
    out = static_cast<rd_kafka_resp_err_t>(n);
    return true;
  }
  if (s == "NOT_LEADER_OR_FOLLOWER") {
    out = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
    return true;
  }
  const rd_kafka_err_desc* descs = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (size_t i = 0; i < count; ++i) {
    if (descs[i].name != nullptr && s == descs[i].name) {
      out = descs[i].code;
      return true;
    }
  }
  return false;
}

bool ParseApiKey(const std::string& s, int16_t& out) {
  static const std::map<std::string, int16_t> kNames = {
      {"Produce", 0},        {"Fetch", 1},       {"ListOffsets", 2},      {"Metadata", 3},
      {"OffsetCommit", 8},   {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
      {"Heartbeat", 12},     {"LeaveGroup", 13}, {"SyncGroup", 14},       {"ApiVersions", 18},
      {"InitProducerId", 22}};
  int64_t n = 0;
  if (ParseInt(s, n) && n >= 0 && n < 100) {
    out = static_cast<int16_t>(n);
    return true;
  }
  auto it = kNames.find(s);
  if (it == kNames.end()) return false;
  out = it->second;
  return true;
}

class Driver {
 public:
  explicit Driver(MockCluster& cluster) : cluster_(cluster) {}

  Status CreateTopic(const std::string& topic, int partitions) {
    RETURN_IF_ERROR(cluster_.CreateTopic(topic, partitions));
    partitions_[topic] = partitions;
    return kafka_autoscaler::OkStatus();
  }

  // Returns "" on success, or the error text.
  std::string Run(const std::vector<std::string>& a) {
    const std::string& cmd = a[0];
    auto want = [&](size_t n) { return a.size() == n + 1; };
    int64_t x = 0, y = 0, z = 0;
    int16_t api = 0;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (cmd == "create_topic" && want(2) && ParseInt(a[2], x) && x > 0) {
      return Text(CreateTopic(a[1], static_cast<int>(x)));
    }
    if (cmd == "produce" && (want(2) || want(3)) && ParseInt(a[2], x) && x >= 0) {
      if (want(3)) {
        if (!ParseInt(a[3], y)) return "bad PARTITION";
        return Text(cluster_.Produce(a[1], static_cast<int32_t>(y), static_cast<int>(x)));
      }
      auto it = partitions_.find(a[1]);
      if (it == partitions_.end()) return "unknown topic '" + a[1] + "' (give a PARTITION)";
      for (int p = 0; p < it->second; ++p) {
        const int64_t share = x / it->second + (p < x % it->second ? 1 : 0);
        if (share == 0) continue;
        if (auto s = cluster_.Produce(a[1], p, static_cast<int>(share)); !s) return Text(s);
      }
      return "";
    }
    if (cmd == "commit" && want(4) && ParseInt(a[3], x) && ParseInt(a[4], y)) {
      return Text(cluster_.Commit(a[1], {{a[2], static_cast<int32_t>(x), y}}));
    }
    if (cmd == "broker_down" && want(1) && ParseInt(a[1], x)) {
      return Text(cluster_.SetBrokerDown(static_cast<int32_t>(x)));
    }
    if (cmd == "broker_up" && want(1) && ParseInt(a[1], x)) {
      return Text(cluster_.SetBrokerUp(static_cast<int32_t>(x)));
    }
    if (cmd == "rtt" && want(2) && ParseInt(a[1], x) && ParseInt(a[2], y) && y >= 0) {
      return Text(cluster_.SetRtt(static_cast<int32_t>(x), static_cast<int>(y)));
    }
    if (cmd == "push_errors" && want(3)) {
      if (!ParseApiKey(a[1], api)) return "unknown APIKEY '" + a[1] + "'";
      if (!ParseErrorCode(a[2], err)) return "unknown ERRCODE '" + a[2] + "'";
      if (!ParseInt(a[3], z) || z < 0) return "bad COUNT";
      cluster_.PushRequestErrors(api, err, static_cast<size_t>(z));
      return "";
    }
    if (cmd == "clear_errors" && want(1)) {
      if (!ParseApiKey(a[1], api)) return "unknown APIKEY '" + a[1] + "'";
      cluster_.ClearRequestErrors(api);
      return "";
    }
    if (cmd == "topic_error" && want(2)) {
      if (!ParseErrorCode(a[2], err)) return "unknown ERRCODE '" + a[2] + "'";
      cluster_.SetTopicError(a[1], err);
      return "";
    }
    if (cmd == "create_partitions") {
      return "create_partitions is not supported by librdkafka 2.0.2's mock cluster";
    }
    return "bad command: " + cmd + " (see the header of mock_kafka_main.cc)";
  }

 private:
  static std::string Text(const Status& s) { return s ? "" : s.error().message; }

  MockCluster& cluster_;
  std::map<std::string, int> partitions_;
};

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    int64_t n = 0;
    if (arg == "--brokers" && i + 1 < argc && ParseInt(argv[i + 1], n) && n > 0 && n < 100) {
      brokers = static_cast<int>(n);
      ++i;
    } else if (arg == "--topic" && i + 1 < argc) {
      const std::string spec = argv[++i];
      const auto colon = spec.rfind(':');
      if (colon == std::string::npos || colon == 0 || !ParseInt(spec.substr(colon + 1), n) ||
          n <= 0) {
        std::cerr << "mock-kafka: --topic wants NAME:PARTITIONS, got '" << spec << "'\n";
        return 2;
      }
      topics.emplace_back(spec.substr(0, colon), static_cast<int>(n));
    } else {
      std::cerr << "usage: mock-kafka [--brokers N] [--topic NAME:PARTITIONS]...\n";
      return 2;
    }
  }
  auto cluster = MockCluster::Start(brokers);
  if (!cluster) {
    std::cerr << "mock-kafka: " << cluster.error().message << "\n";
    return 1;
  }
  Driver driver(**cluster);
  for (const auto& [name, partitions] : topics) {
    if (auto s = driver.CreateTopic(name, partitions); !s) {
      std::cerr << "mock-kafka: " << s.error().message << "\n";
      return 1;
    }
  }
  std::cout << "bootstrap=" << (*cluster)->bootstrap() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty() || words[0][0] == '#') continue;
    if (words[0] == "quit") {
      std::cout << "ok" << std::endl;
      break;
    }
    const std::string error = driver.Run(words);
    std::cout << (error.empty() ? "ok" : "error " + error) << std::endl;
  }
  return 0;
}
