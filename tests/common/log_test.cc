// Logger: both formats stay one well-formed line per record whatever bytes a field carries.
#include "common/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/guarded.h"
#include "fakes/fake_clock.h"

namespace kafka_autoscaler {
namespace {

// Kafka error strings come from brokers and librdkafka and may hold any bytes. In the text
// format a field with a space was quoted through nlohmann's dump(), which threw type_error 316
// on invalid UTF-8 and ended the process from inside a tick.
TEST(LogTest, TextFormatSurvivesInvalidUtf8AndControlCharacters) {
  testing::FakeClock clock;
  std::ostringstream out;
  Logger log(clock, out, LogLevel::kDebug, LogFormat::kText);
  EXPECT_NO_THROW(log.Warn("kafka observation failed",
                           {{"error", std::string("Broker: \xff\xfe transport failure")},
                            {"raw", std::string("a\xff")},
                            {"forged", std::string("x\nlevel=error msg=forged")},
                            {"plain", std::string("orders")}}));
  const std::string line = out.str();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one record, one line: " << line;
  EXPECT_NE(line.find("error=\"Broker: \xEF\xBF\xBD\xEF\xBF\xBD transport failure\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("raw=\"a\xEF\xBF\xBD\""), std::string::npos) << line;
  EXPECT_NE(line.find("plain=orders"), std::string::npos) << line;
}

TEST(LogTest, JsonFormatSurvivesInvalidUtf8) {
  testing::FakeClock clock;
  std::ostringstream out;
  Logger log(clock, out, LogLevel::kDebug, LogFormat::kJson);
  EXPECT_NO_THROW(log.Warn("kafka observation failed \xff",
                           {{"error", std::string("Broker: \xff transport failure")}}));
  const auto j = nlohmann::json::parse(out.str(), nullptr, false);
  ASSERT_TRUE(j.is_object()) << out.str();
  EXPECT_EQ(j["error"], "Broker: \xEF\xBF\xBD transport failure");
}

// An exception escaping a thread used to call std::terminate (SIGABRT, no reason logged). A
// guarded thread logs why and ends the process with exit status 1.
TEST(GuardedDeathTest, EscapingExceptionIsLoggedAndExitsNonZero) {
  EXPECT_EXIT(
      {
        testing::FakeClock clock;
        Logger log(clock, std::cerr, LogLevel::kInfo, LogFormat::kJson);
        std::thread t([&] {
          RunGuarded("leader-election", &log, [] { throw std::runtime_error("boom: bad Lease"); });
        });
        t.join();
      },
      ::testing::ExitedWithCode(kExitThreadFailed),
      "thread 'leader-election' failed; exiting.*boom: bad Lease");
}

TEST(GuardedTest, NormalReturnIsUntouched) {
  int ran = 0;
  RunGuarded("worker", nullptr, [&] { ++ran; });
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace kafka_autoscaler
