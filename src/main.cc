// kafka-autoscaler: wiring only. The one place that reads the environment and argv; everything
// else receives what it needs as arguments.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "config/config.h"

extern char** environ;

namespace ka = kafka_autoscaler;

namespace {

constexpr int kExitConfig = 2;

ka::config::Env ReadEnvironment() {
  ka::config::Env env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// Loads the configuration or prints every problem and returns nullopt.
std::optional<ka::config::Config> LoadConfigOrReport(const ka::config::Env& env) {
  auto cfg = ka::config::Load(env);
  if (!cfg) {
    std::cerr << "kafka-autoscaler: " << cfg.error().ToString() << "\n";
    return std::nullopt;
  }
  return *cfg;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kafka-autoscaler: scales a Kubernetes Deployment to the backlog of a Kafka topic"};
  app.require_subcommand(0, 1);
  auto* run_cmd = app.add_subcommand("run", "run the daemon (default)");
  auto* check_cmd = app.add_subcommand("check", "validate the configuration and probe Kafka and Kubernetes once");
  bool print_config = false;
  check_cmd->add_flag("--print-config", print_config, "print the effective configuration (secrets redacted)");
  auto* version_cmd = app.add_subcommand("version", "print version and build info");
  CLI11_PARSE(app, argc, argv);

  const ka::config::Env env = ReadEnvironment();

  if (*version_cmd) {
    std::cout << "kafka-autoscaler " << KA_VERSION << " (C++" << __cplusplus / 100 % 100
              << ", g++ " << __VERSION__ << ", built " << __DATE__ << ")\n";
    return 0;
  }
  auto cfg = LoadConfigOrReport(env);
  if (!cfg) return kExitConfig;
  if (*check_cmd) {
    if (print_config) std::cout << cfg->ToJson().dump(2) << "\n";
    std::cout << "configuration: ok\n";
    return 0;
  }
  (void)run_cmd;
  std::cerr << "kafka-autoscaler: run is not wired yet\n";
  return 1;
}
