// GET /ui and the JSON API behind it, on the health server: the page is self-contained and its
// Content-Security-Policy admits exactly its own script and style (hashes recomputed here with
// OpenSSL, independently of the build step that embeds the page); the API serves the History.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "controller/history.h"
#include "fakes/fake_clock.h"
#include "http/health_server.h"
#include "http/ui_page.h"

namespace kafka_autoscaler::http {
namespace {

using controller::History;
using controller::TargetInfo;
using controller::TickReport;

std::string Sha256Base64(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  unsigned char out[64] = {};
  EVP_EncodeBlock(out, digest, SHA256_DIGEST_LENGTH);
  return reinterpret_cast<char*>(out);
}

// The text between <tag> and </tag> (the page has exactly one of each).
std::string Element(const std::string& html, const std::string& tag) {
  const size_t open = html.find("<" + tag + ">");
  const size_t close = html.find("</" + tag + ">");
  if (open == std::string::npos || close == std::string::npos) return "";
  const size_t begin = open + tag.size() + 2;
  return html.substr(begin, close - begin);
}

struct Server {
  Server()
      : board(clock, std::chrono::seconds(10), false),
        history({.interval = std::chrono::seconds(10)}) {
    server = std::make_unique<HealthServer>(HealthServerOptions{.host = "127.0.0.1", .port = 0},
                                            board, labels, nullptr, &history);
    EXPECT_TRUE(server->Start());
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
  }
  void Record(const std::string& ns, const std::string& name, int64_t backlog) {
    TickReport r;
    r.wall_time = std::chrono::system_clock::now();
    r.kafka_ok = r.kube_ok = true;
    r.observation = kafka::Observation{.backlog = backlog, .partition_count = 3};
    r.decision = policy::Decision{.desired = 2, .reason = policy::Reason::kBacklog};
    r.replicas_after = 2;
    history.Record(TargetInfo{.namespace_name = ns, .name = name, .topics = "t"}, r);
  }
  testing::FakeClock clock;
  controller::ReconcilerOptions labels;
  controller::StatusBoard board;
  History history;
  std::unique_ptr<HealthServer> server;
  std::unique_ptr<httplib::Client> client;
};

TEST(StatusPage, ServesTheEmbeddedPageWithAStrictPolicy) {
  Server s;
  auto r = s.client->Get("/ui");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->body, UiPageHtml());
  const std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  // The hashes admit exactly the page's own script and style.
  const std::string script = Element(r->body, "script"), style = Element(r->body, "style");
  ASSERT_GT(script.size(), 1000u);
  ASSERT_GT(style.size(), 100u);
  EXPECT_NE(csp.find("script-src 'sha256-" + Sha256Base64(script) + "'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("style-src 'sha256-" + Sha256Base64(style) + "'"), std::string::npos) << csp;
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(s.client->Get("/favicon.ico")->status, 204) << "no 404 in the browser console";
}

TEST(StatusPage, PageIsSelfContainedAndSmall) {
  const std::string html(UiPageHtml());
  EXPECT_LT(html.size(), 64u * 1024u) << "a few tens of KiB";
  // Nothing loaded from elsewhere, and nothing the policy would block.
  for (const char* pattern :
       {R"(\ssrc\s*=)", R"(<link\b)", R"(@import)", R"(url\()", R"(\sstyle\s*=)",
        R"(\son[a-z]+\s*=)", R"(https?://(?!www\.w3\.org/2000/svg))"}) {
    SCOPED_TRACE(pattern);
    EXPECT_FALSE(std::regex_search(html, std::regex(pattern, std::regex::ECMAScript)));
  }
  EXPECT_EQ(Element(html, "script").find("<script"), std::string::npos) << "one script only";
}

TEST(StatusPage, ApiListsTargetsAndServesHistories) {
  Server s;
  s.Record("shop", "orders", 120);
  s.Record("billing", "invoices", 7);
  auto r = s.client->Get("/api/v1/targets");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json; charset=utf-8");
  const auto j = nlohmann::json::parse(r->body);
  ASSERT_EQ(j["targets"].size(), 2u);
  EXPECT_EQ(j["targets"][0]["name"], "invoices");
  EXPECT_EQ(j["targets"][1]["backlog"], 120);
  EXPECT_EQ(j["daemon"]["status"], "starting");
  EXPECT_EQ(j["daemon"]["ticks"], 0);

  auto h = s.client->Get("/api/v1/targets/shop/orders/history");
  ASSERT_EQ(h->status, 200);
  const auto hj = nlohmann::json::parse(h->body);
  EXPECT_EQ(hj["points"]["backlog"], nlohmann::json({120}));
  EXPECT_EQ(hj["decisions"][0]["reason"], "backlog");
  EXPECT_EQ(s.client->Get("/api/v1/targets/shop/nothing/history")->status, 404);
  EXPECT_EQ(s.client->Get("/api/v1/targets/shop")->status, 404);
  // Not compressed even when a browser offers brotli (too slow at httplib's quality for large
  // lists; see status_page.cc).
  auto br = s.client->Get("/api/v1/targets", {{"Accept-Encoding", "br, gzip"}});
  EXPECT_EQ(br->get_header_value("Content-Encoding"), "");
  // Read-only: nothing but GET.
  EXPECT_NE(s.client->Post("/api/v1/targets", "{}", "application/json")->status, 200);
}

TEST(StatusPage, NoPageWithoutAHistory) {
  testing::FakeClock clock;
  controller::StatusBoard board(clock, std::chrono::seconds(10), false);
  HealthServer server({.host = "127.0.0.1", .port = 0}, board, {}, nullptr);
  ASSERT_TRUE(server.Start());
  httplib::Client c("127.0.0.1", server.port());
  EXPECT_EQ(c.Get("/ui")->status, 404);
  EXPECT_EQ(c.Get("/api/v1/targets")->status, 404);
}

}  // namespace
}  // namespace kafka_autoscaler::http
