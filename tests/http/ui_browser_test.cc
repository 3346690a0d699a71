// The status page in a real browser (issue 19): Debian's headless Chromium, driven by
// playwright-core (tests/http/ui, installed by scripts/setup.sh), loads /ui from the real daemon
// running against the mock Kafka cluster and the test API server, and must show the values the
// daemon reports on `/`. Then the table of many targets against ui-fixture (3,000 synthetic
// targets: issue 15's mode is not built). Screenshots land in the build folder; the README's
// docs/status-page.png is a copy of status-page.png.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "e2e/process.h"
#include "faults/harness.h"

namespace kafka_autoscaler::testing {
namespace {

// Runs check.mjs; returns its JSON line, or fails the test with its output.
nlohmann::json RunCheck(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {KA_NODE, std::string(KA_UI_DIR) + "/check.mjs", "--chromium",
                                   KA_CHROMIUM};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Process check(argv);
  const auto code = check.Wait(std::chrono::minutes(3));
  std::string out;
  for (const auto& l : check.Lines()) out += l + "\n";
  EXPECT_EQ(code, 0) << out << check.Stderr();
  if (code != 0 || check.Lines().empty()) return nullptr;
  return nlohmann::json::parse(check.Lines().back(), nullptr, false);
}

// Waits until `/` reports a finished tick with this backlog, these replicas and no action.
bool WaitSettled(Harness& h, int64_t backlog, int replicas) {
  return Eventually(
      [&] {
        const auto s = h.Status();
        if (s.is_null() || !s["last_decision"].is_object()) return false;
        const auto& d = s["last_decision"];
        return d.value("backlog", int64_t{-1}) == backlog &&
               d.value("replicas_after", -1) == replicas && d.value("action", "") == "none";
      },
      std::chrono::seconds(60));
}

TEST(UiBrowser, ShowsWhatTheDaemonReports) {
  Harness h("ui-browser");
  ASSERT_TRUE(h.ok()) << h.error();
  auto daemon = h.Start();
  ASSERT_TRUE(h.WaitSteady(1));
  // A little story for the charts: a backlog that scales up, hits MAX_REPLICAS, then drains.
  ASSERT_TRUE(h.Produce(5));  // 30 messages, 10 per pod: 3 replicas
  ASSERT_TRUE(WaitSettled(h, 30, 3));
  ASSERT_TRUE(h.Produce(10));  // 90: 9 wanted, MAX_REPLICAS 5
  ASSERT_TRUE(WaitSettled(h, 90, kMaxReplicas));
  ASSERT_TRUE(h.CommitLeaving(15, 40));  // consumers caught up to 40: 4 replicas
  ASSERT_TRUE(WaitSettled(h, 40, 4));

  const auto s = h.Status();
  const auto& d = s["last_decision"];
  const nlohmann::json expect = {{"backlog", d["backlog"]},
                                 {"replicas", d["replicas_after"]},
                                 {"desired", d["desired"]},
                                 {"reason", d["reason"]},
                                 {"stuck_partitions", s["stuck_partition_count"]},
                                 {"lag_seconds", d["lag_seconds"]}};
  ASSERT_TRUE(d["lag_seconds"].is_number()) << "no time lag on /: " << s.dump();
  EXPECT_GT(d["lag_seconds"].get<double>(), 0) << "40 messages are waiting: " << s.dump();
  const auto result =
      RunCheck({"--url", "http://127.0.0.1:" + std::to_string(h.port()) + "/ui", "--expect",
                expect.dump(), "--screenshot", std::string(KA_UI_OUT) + "/status-page.png"});
  ASSERT_TRUE(result.is_object());
  EXPECT_EQ(result["ok"], true);
  EXPECT_GE(result["distinct_colors"].get<int>(), 32);
  RecordProperty("ui_check", result.dump());
  std::cout << "ui check: " << result.dump() << "\n";
}

TEST(UiBrowser, TableOfThreeThousandTargetsSortsAndOpensOne) {
  Process fixture({KA_UI_FIXTURE, "3000"});
  const auto port = fixture.FirstLine(std::chrono::seconds(60));
  ASSERT_TRUE(port.has_value()) << fixture.Stderr();
  const auto result = RunCheck({"--url", "http://127.0.0.1:" + *port + "/ui", "--targets", "3000",
                                "--screenshot", std::string(KA_UI_OUT) + "/status-page-many.png"});
  ASSERT_TRUE(result.is_object());
  EXPECT_EQ(result["ok"], true);
  std::cout << "ui check (3000 targets): " << result.dump() << "\n";
  fixture.CloseStdin();
  fixture.Wait(std::chrono::seconds(10));
}

}  // namespace
}  // namespace kafka_autoscaler::testing
