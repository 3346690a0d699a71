// The status page's routes on the health server (same port and bind as /metrics):
//   GET /ui                                     the page (src/http/ui/index.html), strict CSP
//   GET /api/v1/targets                         {"daemon": {...}, "targets": [summary...]}
//   GET /api/v1/targets/{ns}/{name}/history     one target: summary, last-hour ring, decisions
// Read-only: GET only, no secrets (labels, numbers, reasons and error messages, as on `/`).
// Handlers copy from the StatusBoard and the History under their locks; they never wait on
// Kafka or the API server. Thread-safe as those two are.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "controller/history.h"
#include "controller/reconciler.h"
#include "controller/status_board.h"

namespace httplib {
class Server;
}

namespace kafka_autoscaler::http {

// The "daemon" part of GET /api/v1/targets: status, live, ready, leader, ticks.
nlohmann::json DaemonJson(const controller::StatusBoard& board,
                          const controller::ReconcilerOptions& labels);

void AddStatusPageRoutes(httplib::Server& server, const controller::StatusBoard& board,
                         const controller::History& history,
                         const controller::ReconcilerOptions& labels);

}  // namespace kafka_autoscaler::http
