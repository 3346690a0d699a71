#include "kafka/properties.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kafka_autoscaler::kafka {
namespace {

std::string_view Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool IsSecretProperty(std::string_view key) {
  const std::string k = Lower(Trim(key));
  if (k.find("password") != std::string::npos || k.find("secret") != std::string::npos) {
    return true;
  }
  // Inline private keys and OAUTHBEARER settings that may embed credentials.
  return k == "ssl.key.pem" || k == "ssl_key" || k == "sasl.oauthbearer.config" ||
         k == "sasl.oauthbearer.extensions" || k == "ssl.keystore.location.password";
}

std::string PrintableValue(std::string_view key, std::string_view value) {
  return IsSecretProperty(key) ? "[redacted]" : std::string(value);
}

std::string ClientProperties::Describe() const {
  std::string out;
  for (const auto& p : entries) {
    if (!out.empty()) out += ", ";
    out += p.key + "=" + PrintableValue(p.key, p.value);
  }
  return out;
}

Result<ClientProperties> ParseProperties(std::string_view text, std::string_view source) {
  ClientProperties props;
  std::vector<std::string> problems;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = Trim(text.substr(pos, end - pos));
    ++line_no;
    pos = end + 1;
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    const size_t eq = line.find('=');
    const std::string where = std::string(source) + ":" + std::to_string(line_no);
    if (eq == std::string_view::npos) {
      problems.push_back(where + ": expected key=value");
      continue;
    }
    const std::string_view key = Trim(line.substr(0, eq));
    if (key.empty()) {
      problems.push_back(where + ": empty property name before '='");
      continue;
    }
    props.entries.push_back(Property{std::string(key), std::string(Trim(line.substr(eq + 1)))});
  }
  if (!problems.empty()) {
    Error e{ErrorCode::kInvalidArgument,
            "kafka: " + std::string(source) + ": " + std::to_string(problems.size()) +
                " malformed line(s)",
            std::move(problems), std::nullopt};
    return MakeError(std::move(e));
  }
  return props;
}

Result<ClientProperties> LoadPropertiesFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, "kafka: cannot read KAFKA_CONFIG_FILE '" + path +
                                               "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseProperties(text.str(), path);
}

}  // namespace kafka_autoscaler::kafka
