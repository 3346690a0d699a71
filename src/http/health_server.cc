#include "http/health_server.h"

#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/guarded.h"

#include "http/status_page.h"

namespace kafka_autoscaler::http {

HealthServer::HealthServer(HealthServerOptions options, const controller::StatusBoard& board,
                           controller::ReconcilerOptions labels,
                           std::function<std::string()> metrics_text,
                           const controller::History* history)
    : options_(std::move(options)),
      board_(board),
      labels_(std::move(labels)),
      metrics_text_(std::move(metrics_text)),
      history_(history),
      server_(std::make_unique<httplib::Server>()) {}

HealthServer::~HealthServer() { Stop(); }

Status HealthServer::Start() {
  auto& s = *server_;
  s.set_keep_alive_max_count(100);
  s.set_tcp_nodelay(true);  // else a response's body waits for the client's delayed ACK (40 ms)
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.Get("/", [this](const httplib::Request&, httplib::Response& res) {
    const auto j = board_.StatusJson(labels_);
    res.status = j["status"] == "ok" ? 200 : 503;
    res.set_content(j.dump(2) + "\n", "application/json");
  });
  s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const bool alive = board_.Alive();
    res.status = alive ? 200 : 503;
    res.set_content(alive ? "ok\n" : "loop stalled: no tick started within 3 intervals\n",
                    "text/plain");
  });
  s.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const bool ready = board_.Ready();
    res.status = ready ? 200 : 503;
    if (ready) {
      res.set_content("ok\n", "text/plain");
      return;
    }
    const auto snap = board_.Snapshot();
    std::string why = !snap.last_tick ? "no tick finished yet\n" : "";
    if (snap.last_tick && !snap.last_tick->kafka_ok) {
      why += "kafka: " + snap.last_kafka_error.value_or("not checked") + "\n";
    }
    if (snap.last_tick && !controller::KubeOk(*snap.last_tick)) {
      why += "kubernetes: " + snap.last_kube_error.value_or("not checked") + "\n";
    }
    if (snap.last_tick && !snap.last_tick->other_writer.empty()) {
      why += "other writer: " + snap.last_tick->other_writer + "\n";
    }
    res.set_content(why, "text/plain");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text_ ? metrics_text_() : std::string(),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  if (history_ != nullptr) AddStatusPageRoutes(s, board_, *history_, labels_);
  // Dual-stack unless told otherwise: IPV6_V6ONLY off on "::" (Linux defaults to off too, but
  // net.ipv6.bindv6only may say otherwise). SO_REUSEADDR only: httplib's default also sets
  // SO_REUSEPORT, with which a second daemon on the same port binds "successfully" and the
  // kernel splits the probes between the two.
  s.set_socket_options([](socket_t sock) {
    int on = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    int off = 0;
    setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));  // fails harmlessly on IPv4
  });
  std::vector<std::string> hosts = {options_.host};
  if (options_.host.empty()) hosts = {"::", "0.0.0.0"};
  for (const std::string& host : hosts) {
    if (options_.port == 0) {
      port_ = s.bind_to_any_port(host);
      if (port_ > 0) bound_host_ = host;
    } else if (s.bind_to_port(host, options_.port)) {
      port_ = options_.port;
      bound_host_ = host;
    }
    if (!bound_host_.empty()) break;
  }
  if (bound_host_.empty()) {
    std::string where;
    for (const auto& h : hosts) where += (where.empty() ? "" : " or ") + h;
    return MakeError(ErrorCode::kUnavailable,
                     "http: cannot listen on " + where + " port " + std::to_string(options_.port) +
                         (options_.port == 0 ? "" : " (HEALTH_CHECK_PORT in use?)"));
  }
  thread_ = std::thread([this] {
    RunGuarded("health-server", nullptr, [this] { server_->listen_after_bind(); });
    listen_returned_ = true;
  });
  return OkStatus();
}

void HealthServer::Stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() does nothing until the listening thread has marked itself running: a Stop
  // right after Start would leave that thread accepting forever and the join hanging.
  while (!server_->is_running() && !listen_returned_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_->stop();
  thread_.join();
}

}  // namespace kafka_autoscaler::http
