// Helpers of the packaging tests: run a command and capture its output, and read multi-document
// YAML (what `kubectl kustomize` prints) into JSON values with the types YAML 1.2's core schema
// gives plain scalars, so a schema check sees `replicas: 1` as an integer and `value: "10"` as a
// string, as the API server would.
//
// Plain functions, no state; safe to call from any thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace kafka_autoscaler::deploy_test {

struct CommandResult {
  int exit_code = -1;  // the command's exit status; -1 when it did not exit normally
  std::string output;  // stdout only
};

// Runs `command` with /bin/sh -c and captures its stdout (stderr goes to the test's stderr).
// Errors: kInternal when the process could not be started.
[[nodiscard]] Result<CommandResult> RunCommand(const std::string& command);

// Every non-empty document of `text`, in order. Plain scalars resolve as YAML 1.2's core schema
// says (null, true/false, integers, floats, else string); quoted scalars are strings.
// Errors: kInvalidArgument with the parser's message (line, column).
[[nodiscard]] Result<std::vector<nlohmann::json>> ParseYamlDocuments(const std::string& text);

// Renders a kustomization directory with `kubectl kustomize DIR` and parses the documents.
// Errors: kInternal when kubectl cannot run or exits non-zero (its output in the message), or
// ParseYamlDocuments' errors.
[[nodiscard]] Result<std::vector<nlohmann::json>> RenderKustomization(const std::string& kubectl,
                                                                      const std::string& dir);

// Reads a whole file. Errors: kNotFound when it cannot be opened.
[[nodiscard]] Result<std::string> ReadFile(const std::string& path);

}  // namespace kafka_autoscaler::deploy_test
