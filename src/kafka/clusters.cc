#include "kafka/clusters.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "kafka/kafka_source.h"

namespace kafka_autoscaler::kafka {
namespace {

bool IsDnsLabel(const std::string& s) {
  static const std::regex kLabel("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return !s.empty() && s.size() <= 63 && std::regex_match(s, kLabel);
}

}  // namespace

Result<std::vector<ClusterOptions>> ParseClusters(std::string_view yaml, std::string_view source,
                                                  const ClusterOptions& base) {
  const std::string where(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     where + ": not YAML (line " + std::to_string(e.mark.line + 1) + ")");
  }
  if (!root.IsMap() || !root["clusters"] || !root["clusters"].IsSequence()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     where +
                         ": expected a map with a list `clusters` of {name, bootstrapServers, "
                         "properties}");
  }
  std::vector<std::string> problems;
  std::vector<ClusterOptions> out;
  std::set<std::string> names;
  size_t index = 0;
  for (const YAML::Node& entry : root["clusters"]) {
    const std::string at = "clusters[" + std::to_string(index++) + "]";
    if (!entry.IsMap()) {
      problems.push_back(at + ": expected a map");
      continue;
    }
    ClusterOptions cluster = base;
    bool ok = true;
    for (const auto& field : entry) {
      const std::string key = field.first.as<std::string>("");
      if (key != "name" && key != "bootstrapServers" && key != "properties") {
        problems.push_back(at + ": unknown field \"" + key +
                           "\" (known: name, bootstrapServers, properties)");
        ok = false;
      }
    }
    const YAML::Node name = entry["name"];
    cluster.name = name && name.IsScalar() ? name.Scalar() : "";
    if (!IsDnsLabel(cluster.name)) {
      problems.push_back(at +
                         ".name: must be a DNS label (lower-case letters, digits, '-'; at "
                         "most 63)" +
                         (cluster.name.empty() ? std::string(", and is required")
                                               : ", not \"" + cluster.name + "\""));
      ok = false;
    } else if (cluster.name == "default") {
      problems.push_back(at + ".name: \"default\" is reserved for KAFKA_BOOTSTRAP_SERVERS");
      ok = false;
    } else if (!names.insert(cluster.name).second) {
      problems.push_back(at + ".name: \"" + cluster.name + "\" is defined twice");
      ok = false;
    }
    const YAML::Node bootstrap = entry["bootstrapServers"];
    cluster.bootstrap_servers = bootstrap && bootstrap.IsScalar() ? bootstrap.Scalar() : "";
    if (cluster.bootstrap_servers.empty()) {
      problems.push_back(at + ".bootstrapServers: required (host:port[,host:port...])");
      ok = false;
    }
    cluster.properties = ClientProperties{};
    if (const YAML::Node props = entry["properties"]; props) {
      if (!props.IsMap()) {
        problems.push_back(at + ".properties: expected a map of librdkafka properties");
        ok = false;
      } else {
        for (const auto& p : props) {
          const std::string key = p.first.as<std::string>("");
          if (!p.second.IsScalar()) {
            problems.push_back(at + ".properties." + key + ": expected a string");  // no value
            ok = false;
            continue;
          }
          cluster.properties.entries.push_back({key, p.second.Scalar()});
        }
        if (ok) {
          if (auto valid = ValidateProperties(cluster.properties); !valid) {
            problems.push_back(at + ".properties: " + valid.error().message);
            ok = false;
          }
        }
      }
    }
    if (ok) out.push_back(std::move(cluster));
  }
  if (!problems.empty()) {
    Error e{ErrorCode::kInvalidArgument,
            where + ": " + std::to_string(problems.size()) +
                (problems.size() == 1 ? " problem" : " problems"),
            problems, std::nullopt};
    return MakeError(std::move(e));
  }
  return out;
}

Result<std::vector<ClusterOptions>> LoadClustersFile(const std::string& path,
                                                     const ClusterOptions& base) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, "KAFKA_CLUSTERS_FILE: cannot read " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseClusters(ss.str(), path, base);
}

}  // namespace kafka_autoscaler::kafka
