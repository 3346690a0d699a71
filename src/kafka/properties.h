// ClientProperties: librdkafka configuration properties (the `key=value` file named by
// KAFKA_CONFIG_FILE), used for TLS, SASL and any other tuning librdkafka supports.
//
// Parsing here is syntax only (one `key=value` per line, `#` or `!` comments, blank lines);
// property names and values are checked by librdkafka itself when a client is configured
// (ValidateProperties in kafka_source.h), so errors carry librdkafka's own text. Values of
// secret properties (passwords, client secrets, inline private keys) never appear in any
// string this module produces: use Describe() to print a property set. Plain data; copyable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kafka_autoscaler::kafka {

struct Property {
  std::string key;
  std::string value;
};

struct ClientProperties {
  std::vector<Property> entries;  // in file order; a later duplicate key wins when applied

  // "key=value, sasl.password=[redacted], ..." — safe to log.
  [[nodiscard]] std::string Describe() const;
};

// True for properties whose value is a secret (sasl.password, ssl.key.password,
// ssl.keystore.password, sasl.oauthbearer.client.secret, ssl.key.pem, ...).
[[nodiscard]] bool IsSecretProperty(std::string_view key);

// The value as it may be printed: "[redacted]" for secrets, the value otherwise.
[[nodiscard]] std::string PrintableValue(std::string_view key, std::string_view value);

// Parses properties text. `source` names it in errors ("client.properties"). On a syntax
// error returns kInvalidArgument with one detail line per bad line ("client.properties:3:
// expected key=value"); bad lines are never echoed, as they may hold a secret.
[[nodiscard]] Result<ClientProperties> ParseProperties(std::string_view text,
                                                       std::string_view source);

// Reads and parses a properties file. kNotFound when it cannot be read.
[[nodiscard]] Result<ClientProperties> LoadPropertiesFile(const std::string& path);

}  // namespace kafka_autoscaler::kafka
