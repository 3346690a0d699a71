// ServerFixture: a TLS test API server with a Deployment prod/web and an admin token, plus
// helpers to build API clients against it. For the kube tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "apiserver/test_apiserver.h"
#include "fakes/fake_clock.h"
#include "kube/client.h"

namespace kafka_autoscaler::testing {

// A temporary directory removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ka-kube-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << content;
    return file;
  }

 private:
  std::string path_;
};

class ServerFixture : public ::testing::Test {
 protected:
  static constexpr char kAdminToken[] = "admin-token";
  void SetUp() override {
    ApiServerOptions options{.tls = true};
    options.tokens.push_back({.token = kAdminToken});
    auto server = TestApiServer::Start(options);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    server_->AddDeployment("prod", "web", 2);
    client_ = NewClient({.token = kAdminToken});
    ASSERT_NE(client_, nullptr);
  }
  // A client for the server, `options` completed with its URL and CA.
  std::unique_ptr<kube::Client> NewClient(kube::ClientOptions options) {
    options.server = server_->url();
    if (options.ca_file.empty() && options.ca_pem.empty()) options.ca_file = server_->ca_file();
    if (options.timeout == std::chrono::milliseconds(10'000)) {
      options.timeout = std::chrono::milliseconds(3000);
    }
    auto client = kube::Client::Create(options, clock_);
    EXPECT_TRUE(client) << client.error().message;
    return client ? std::move(*client) : nullptr;
  }

  FakeClock clock_;
  std::unique_ptr<TestApiServer> server_;
  std::unique_ptr<kube::Client> client_;
};

}  // namespace kafka_autoscaler::testing
