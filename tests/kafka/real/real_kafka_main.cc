// real-kafka: starts a RealKafka (real_kafka.h) and keeps it until SIGTERM or SIGINT, for
// scripts/real-kafka.sh. Usage: real-kafka [--brokers N] [--version V] [--secure]. Prints the
// bootstrap servers, the start-up time, then "ready".
#include <signal.h>

#include <cstring>
#include <iostream>
#include <string>

#include "real_kafka.h"

int main(int argc, char** argv) {
  using kafka_autoscaler::kafka::testing::RealKafka;
  kafka_autoscaler::kafka::testing::RealKafkaOptions options{.name = "cli"};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
      options.brokers = std::stoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--version") == 0 && i + 1 < argc) {
      options.version = argv[++i];
    } else if (std::strcmp(argv[i], "--secure") == 0) {
      options.secure = true;
      options.scram_users = {{"admin", "admin-secret"}, {"scaler", "scaler-secret"}};
    } else {
      std::cerr << "usage: real-kafka [--brokers N] [--version V] [--secure]\n";
      return 2;
    }
  }
  // Block the signals before any thread starts, then wait for one.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto kafka = RealKafka::Start(options);
  if (!kafka) {
    std::cerr << "real-kafka: " << kafka.error().message << "\n";
    return 1;
  }
  std::cout << "bootstrap=" << (*kafka)->bootstrap() << "\n";
  if (options.secure) {
    std::cout << "secure_bootstrap=" << (*kafka)->secure_bootstrap() << "\n"
              << "ca_file=" << (*kafka)->ca_file() << "\n";
  }
  std::cout << "startup_ms=" << (*kafka)->startup_time().count() << "\nready" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
