// The mock-kafka helper as the daemon's end-to-end tests use it: a child process driven
// through its stdin/stdout line protocol, observed by a real KafkaMetricSource.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "fakes/fake_clock.h"
#include "kafka/kafka_source.h"

namespace kafka_autoscaler::kafka {
namespace {

// A running mock-kafka child with pipes to its stdin and from its stdout.
class MockKafkaProcess {
 public:
  explicit MockKafkaProcess(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      std::vector<char*> argv;
      std::string path = MOCK_KAFKA_PATH;
      argv.push_back(path.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(path.c_str(), argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
  }
  ~MockKafkaProcess() {
    if (to_ != nullptr) fclose(to_);
    if (from_ != nullptr) fclose(from_);
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  std::string ReadLine() {
    char buf[4096];
    if (from_ == nullptr || fgets(buf, sizeof buf, from_) == nullptr) return "<eof>";
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }
  // Sends one command and returns its answer line.
  std::string Send(const std::string& command) {
    fprintf(to_, "%s\n", command.c_str());
    fflush(to_);
    return ReadLine();
  }
  // Closes stdin and returns the exit status.
  int CloseAndWait() {
    fclose(to_);
    to_ = nullptr;
    int status = 0;
    waitpid(pid_, &status, 0);
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

TEST(MockKafkaHelperTest, SpeaksTheLineProtocolAndServesRealClients) {
  MockKafkaProcess mock({"--brokers", "3", "--topic", "orders:3"});
  const std::string first = mock.ReadLine();
  ASSERT_EQ(first.rfind("bootstrap=127.0.0.1:", 0), 0u) << first;
  const std::string bootstrap = first.substr(std::string("bootstrap=").size());

  struct Step {
    const char* command;
    const char* want;  // the answer, or its prefix for errors
  };
  const Step steps[] = {
      {.command = "produce orders 7", .want = "ok"},  // 3, 2, 2 round-robin
      {.command = "commit workers orders 0 2", .want = "ok"},
      {.command = "rtt 1 0", .want = "ok"},
      {.command = "push_errors ListOffsets NOT_LEADER_OR_FOLLOWER 0", .want = "ok"},
      {.command = "clear_errors ListOffsets", .want = "ok"},
      {.command = "push_errors NoSuchApi 6 1", .want = "error unknown APIKEY"},
      {.command = "topic_error orders BOGUS", .want = "error unknown ERRCODE"},
      {.command = "create_partitions orders 6", .want = "error "},
      {.command = "frobnicate", .want = "error bad command"},
  };
  for (const auto& s : steps) {
    SCOPED_TRACE(s.command);
    const std::string answer = mock.Send(s.command);
    EXPECT_EQ(answer.rfind(s.want, 0), 0u) << answer;
  }

  kafka_autoscaler::testing::FakeClock clock;
  KafkaSourceOptions o{.bootstrap_servers = bootstrap, .topics = {"orders"}, .group = "workers"};
  o.timeout = std::chrono::milliseconds(5000);
  auto source = KafkaMetricSource::Create(o, clock);
  ASSERT_TRUE(source) << source.error().ToString();
  auto obs = (*source)->Fetch();
  ASSERT_TRUE(obs) << obs.error().ToString();
  EXPECT_EQ(obs->backlog, 1 + 1 + 1);  // 3−2, then two uncommitted non-empty partitions

  ASSERT_EQ(mock.Send("topic_error orders UNKNOWN_TOPIC_OR_PART"), "ok");
  auto fresh = KafkaMetricSource::Create(o, clock);
  ASSERT_TRUE(fresh);
  auto missing = (*fresh)->Fetch();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  EXPECT_EQ(mock.CloseAndWait(), 0);
}

}  // namespace
}  // namespace kafka_autoscaler::kafka
