// ui-fixture: the health server with a History of N synthetic targets (issue 15's many-targets
// mode does not exist yet), for the browser test of the table: sorting, sparklines, click-through
// and how the page copes with thousands of targets.
//   ui-fixture N   prints the port on the first line; serves until stdin closes.
#include <iostream>
#include <string>

#include "controller/history.h"
#include "controller/status_board.h"
#include "http/health_server.h"

namespace ka = kafka_autoscaler;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 3;
  ka::SystemClock clock;
  ka::controller::StatusBoard board(clock, std::chrono::seconds(30), false);
  ka::controller::History history({.interval = std::chrono::seconds(30)});
  const auto now = std::chrono::system_clock::now();
  const int ticks = static_cast<int>(history.Capacity());
  for (int t = 0; t < n; ++t) {
    const ka::controller::TargetInfo info{.namespace_name = "team-" + std::to_string(t % 50),
                                          .name = "consumer-" + std::to_string(t),
                                          .topics = "topic-" + std::to_string(t),
                                          .group = "group-" + std::to_string(t),
                                          .min_replicas = 1,
                                          .max_replicas = 12};
    for (int i = 0; i < ticks; ++i) {
      ka::controller::TickReport r;
      r.wall_time = now - std::chrono::seconds(30) * (ticks - 1 - i);
      r.kafka_ok = r.kube_ok = true;
      const int64_t backlog = (t * 37 % 1000) * (i + 1) + (i * 13 + t) % 97;
      r.observation = ka::kafka::Observation{.backlog = backlog, .partition_count = 12};
      const int32_t desired = static_cast<int32_t>(std::min<int64_t>(12, backlog / 1000 + 1));
      r.scale = ka::kube::ScaleState{.spec_replicas = desired};
      r.decision = ka::policy::Decision{.desired = desired, .reason = ka::policy::Reason::kBacklog};
      r.replicas_after = desired;
      history.Record(info, r);
    }
  }
  ka::controller::ReconcilerOptions labels;
  ka::http::HealthServer server({.host = "127.0.0.1", .port = 0}, board, labels, nullptr, &history);
  if (auto s = server.Start(); !s) {
    std::cerr << s.error().message << "\n";
    return 1;
  }
  std::cout << server.port() << std::endl;
  for (std::string line; std::getline(std::cin, line);) {
  }
  return 0;
}
