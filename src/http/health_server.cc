#include "http/health_server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

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
  if (options_.port == 0) {
    port_ = s.bind_to_any_port(options_.host);
    if (port_ <= 0) return MakeError(ErrorCode::kUnavailable, "http: cannot bind any port");
  } else {
    if (!s.bind_to_port(options_.host, options_.port)) {
      return MakeError(ErrorCode::kUnavailable,
                       "http: cannot listen on " + options_.host + ":" +
                           std::to_string(options_.port) + " (HEALTH_CHECK_PORT in use?)");
    }
    port_ = options_.port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return OkStatus();
}

void HealthServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kafka_autoscaler::http
