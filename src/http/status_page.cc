#include "http/status_page.h"

#include <httplib.h>

#include <array>
#include <nlohmann/json.hpp>

#include "http/ui_page.h"

namespace kafka_autoscaler::http {

namespace {

// Base64 of the bytes that `hex` spells (a CSP hash source wants the digest in base64).
std::string HexToBase64(std::string_view hex) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) {
      v = (v << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0);
    }
    for (size_t k = 0; k < 4; ++k) {
      out.push_back(k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 0x3f] : '=');
    }
  }
  return out;
}

void SetCommonHeaders(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
}

// With a charset, cpp-httplib 0.11 does not compress the body: it would pick brotli at quality
// 11 for any browser, which took 15 s for the 2.9 MB list of 3,000 targets (uncompressed: 0.4 s).
void SendJson(httplib::Response& res, int status, const nlohmann::json& j) {
  SetCommonHeaders(res);
  res.status = status;
  res.set_content(j.dump() + "\n", "application/json; charset=utf-8");
}

}  // namespace

std::string UiContentSecurityPolicy() {
  return "default-src 'none'; script-src 'sha256-" + HexToBase64(UiScriptSha256Hex()) +
         "'; style-src 'sha256-" + HexToBase64(UiStyleSha256Hex()) +
         "'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
         "frame-ancestors 'none'";
}

nlohmann::json DaemonJson(const controller::StatusBoard& board,
                          const controller::ReconcilerOptions& labels) {
  const nlohmann::json s = board.StatusJson(labels);
  nlohmann::json d;
  for (const char* key : {"status", "live", "ready", "leader_election", "leader", "ticks"}) {
    d[key] = s[key];
  }
  return d;
}

void AddStatusPageRoutes(httplib::Server& s, const controller::StatusBoard& board,
                         const controller::History& history,
                         const controller::ReconcilerOptions& labels) {
  const std::string csp = UiContentSecurityPolicy();
  s.Get("/ui", [csp](const httplib::Request&, httplib::Response& res) {
    SetCommonHeaders(res);
    res.set_header("Content-Security-Policy", csp);
    res.set_header("X-Frame-Options", "DENY");
    res.set_content(std::string(UiPageHtml()), "text/html; charset=utf-8");
  });
  s.Get("/ui/", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/ui"); });
  // Browsers ask for an icon; "no content" keeps their consoles (and the browser test) clean.
  s.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  s.Get("/api/v1/targets",
        [&board, &history, labels](const httplib::Request&, httplib::Response& res) {
          nlohmann::json j = history.TargetsJson();
          j["daemon"] = DaemonJson(board, labels);
          SendJson(res, 200, j);
        });
  s.Get(R"(/api/v1/targets/([^/]+)/([^/]+)/history)",
        [&history](const httplib::Request& req, httplib::Response& res) {
          const std::string ns = httplib::detail::decode_url(req.matches[1], false);
          const std::string name = httplib::detail::decode_url(req.matches[2], false);
          nlohmann::json j = history.TargetHistoryJson(ns, name);
          if (j.is_null()) {
            SendJson(res, 404, {{"error", "no target " + ns + "/" + name}});
            return;
          }
          SendJson(res, 200, j);
        });
}

}  // namespace kafka_autoscaler::http
