// HealthServer: the HTTP endpoints on HEALTH_CHECK_PORT.
//   GET /         JSON status (200 healthy, 503 not) with Kafka and Kubernetes state and the
//                 last decision
//   GET /healthz  liveness: 200 while the loop ticks (a tick started within 3 intervals)
//   GET /readyz   readiness: 200 when the last Kafka and Kubernetes checks succeeded
//   GET /metrics  Prometheus text format
//   GET /ui, /api/v1/targets...  the status page and its JSON (http/status_page.h), when a
//                 History is given
// Handlers only read the StatusBoard snapshot and the metrics registry; they never wait on
// Kafka or the API server. The server runs on its own threads between Start() and Stop().
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/result.h"
#include "controller/history.h"
#include "controller/reconciler.h"
#include "controller/status_board.h"

namespace httplib {
class Server;
}

namespace kafka_autoscaler::http {

struct HealthServerOptions {
  // HEALTH_CHECK_HOST. Empty: "::" with IPV6_V6ONLY off (IPv4 and IPv6 clients alike; kubelet
  // probes an IPv6-only pod on its IPv6 address), falling back to "0.0.0.0" where the host
  // has no IPv6. An address literal: exactly that address.
  std::string host;
  int port = 8000;  // HEALTH_CHECK_PORT; 0 picks a free port (tests)
};

class HealthServer {
 public:
  // `metrics_text` returns the Prometheus exposition; it must be thread-safe. `history` (may be
  // null: no status page) feeds GET /ui and /api/v1/targets; it must outlive the server.
  HealthServer(HealthServerOptions options, const controller::StatusBoard& board,
               controller::ReconcilerOptions labels, std::function<std::string()> metrics_text,
               const controller::History* history = nullptr);
  ~HealthServer();

  // Binds and starts serving. Fails with kUnavailable when the port cannot be bound.
  [[nodiscard]] Status Start();
  int port() const { return port_; }
  // The address bound ("::", "0.0.0.0" or HEALTH_CHECK_HOST), after Start().
  const std::string& bound_host() const { return bound_host_; }
  void Stop();

 private:
  HealthServerOptions options_;
  const controller::StatusBoard& board_;
  controller::ReconcilerOptions labels_;
  std::function<std::string()> metrics_text_;
  const controller::History* history_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::string bound_host_;
  std::atomic<bool> listen_returned_{false};  // set by thread_ when listening ends
};

}  // namespace kafka_autoscaler::http
