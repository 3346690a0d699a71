// Linked into test binaries labelled `single_thread` (the simulator and the policies): those
// tests run no thread of their own, so ThreadSanitizer cannot report anything in them and
// scripts/test.sh --tsan leaves them out. This check keeps the label honest: a test that
// leaves a thread running (a pool, a timer, a background reader) fails here, in every build.
// A thread started and joined inside a test is not seen.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace {

int LiveThreads() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

// ctest runs each test in a process of its own, so the check at the end covers that one test.
class OneThreadCheck : public testing::Environment {
 public:
  // Sanitizer runtimes may run a thread of their own from the start: that is the baseline.
  void SetUp() override { baseline_ = LiveThreads(); }
  void TearDown() override {
    const int now = LiveThreads();
    EXPECT_EQ(now, baseline_) << "threads left running at the end (at start: " << baseline_
                              << "); this binary is labelled single_thread and skipped under "
                                 "TSan";
  }

 private:
  int baseline_ = -1;
};

[[maybe_unused]] testing::Environment* const kCheck =
    testing::AddGlobalTestEnvironment(new OneThreadCheck);

}  // namespace
