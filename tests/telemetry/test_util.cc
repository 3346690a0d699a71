#include "test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

namespace kafka_autoscaler::testing {

std::string MakeTempDir(std::string_view prefix) {
  std::string tmpl = ::testing::TempDir() + std::string(prefix) + "XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    return "";
  }
  return tmpl;
}

std::string WriteTempFile(std::string_view name, const std::string& contents) {
  const std::string path = MakeTempDir("otel-") + "/" + std::string(name);
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = pclose(pipe);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

nlohmann::json DecodeOtlp(std::string_view signal, std::string_view content_type,
                          const std::string& body) {
  const std::string file = WriteTempFile("body.bin", body);
  const std::string decoder = std::string(KA_DECODER_DIR) + "/decode.js";
  const CommandResult r =
      RunCommand(std::string(KA_NODE) + " " + decoder + " " + std::string(signal) + " " +
                 std::string(content_type) + " " + file);
  if (r.exit_status != 0) {
    ADD_FAILURE() << "decode.js failed (did scripts/setup.sh run npm ci in " << KA_DECODER_DIR
                  << "?): " << r.output;
    return nullptr;
  }
  nlohmann::json j = nlohmann::json::parse(r.output, nullptr, false);
  if (j.is_discarded()) {
    ADD_FAILURE() << "decode.js printed no JSON: " << r.output;
    return nullptr;
  }
  return j;
}

std::set<std::string> OfficialAttributeKeys(const std::set<std::string>& keys) {
  std::string command = std::string(KA_NODE) + " " + KA_DECODER_DIR + "/semconv.js";
  for (const std::string& key : keys) {
    if (key.find('\'') != std::string::npos) {
      ADD_FAILURE() << "attribute key with a quote: " << key;
      continue;
    }
    command += " '" + key + "'";
  }
  const CommandResult r = RunCommand(command);
  const nlohmann::json j = nlohmann::json::parse(r.output, nullptr, false);
  if (r.exit_status != 0 || j.is_discarded() || !j.contains("official")) {
    ADD_FAILURE() << "semconv.js failed (did scripts/setup.sh run npm ci in " << KA_DECODER_DIR
                  << "?): " << r.output;
    return {};
  }
  return j["official"].get<std::set<std::string>>();
}

nlohmann::json Attr(const nlohmann::json& attributes, std::string_view key) {
  if (!attributes.is_array()) return nullptr;
  for (const auto& kv : attributes) {
    if (kv.value("key", "") == key) return kv.value("value", nlohmann::json());
  }
  return nullptr;
}

}  // namespace kafka_autoscaler::testing
