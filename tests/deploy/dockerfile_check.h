// DockerfileCheck: reads a Dockerfile into stages and instructions and checks the image's
// invariants without a Docker engine (none runs on the project's machines): pinned bases,
// multi-stage, a numeric non-root USER, EXPOSE of the health port, exec-form ENTRYPOINT/CMD, and
// that every shared library the binary links has its Alpine package in the runtime stage.
//
// The parser follows the Dockerfile reference closely enough for these checks: `\` continues a
// line, comment lines (also inside a continued instruction) are dropped, keywords are
// case-insensitive, `FROM image [AS name]` starts a stage. Plain functions and data; thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace kafka_autoscaler::deploy_test {

struct Instruction {
  std::string keyword;  // upper case: "RUN", "COPY", ...
  std::string args;     // the rest, continuations joined with a space
  int line = 0;         // 1-based line where the instruction starts
};

struct Stage {
  std::string base;  // the FROM image ("alpine:3.20") or an earlier stage's name
  std::string name;  // "AS name", lower-cased; empty when unnamed
  std::vector<Instruction> instructions;  // after FROM, up to the next FROM
};

struct Dockerfile {
  std::vector<Instruction> global;  // before the first FROM (ARG, parser directives are comments)
  std::vector<Stage> stages;
};

// Parses `text`. Errors: kInvalidArgument when no FROM is found or an instruction other than ARG
// precedes the first FROM.
[[nodiscard]] Result<Dockerfile> ParseDockerfile(const std::string& text);

// Packages an `apk add` in `stage` installs (options and shell operators skipped).
std::set<std::string> ApkAddedPackages(const Stage& stage);

// Problems with the image's structure, each naming the line; empty when all hold:
// >= 2 stages; every external base pinned to a release (image:MAJOR.MINOR[...], no "latest", or a
// digest); the last stage copies from an earlier one, ends with a numeric non-root USER, EXPOSEs
// `port`, has exec-form (JSON array) ENTRYPOINT and CMD, and installs no compiler or -dev package.
std::vector<std::string> CheckImageInvariants(const Dockerfile& dockerfile, int port);

// What provides a Debian shared object on Alpine (testdata/debian-soname-to-alpine.tsv).
struct SonameMapping {
  std::string provider;  // PACKAGE, "via:PACKAGE", "static:NAME", "musl", "kernel", "sanitizer"
  std::string note;
};
using SonameTable = std::map<std::string, SonameMapping>;

// Parses the tab-separated table ('#' comments). Errors: kInvalidArgument naming the line.
[[nodiscard]] Result<SonameTable> ParseSonameTable(const std::string& text);

// Problems with the runtime libraries: every soname `ldd` listed (`linked`) must be in `table`;
// a PACKAGE or via:PACKAGE must be installed by the last stage's `apk add`, a static:NAME must
// appear in an earlier stage's instructions, and a direct dependency (`needed`, the binary's
// DT_NEEDED) may not be a via: entry. Empty when all hold.
std::vector<std::string> CheckRuntimeLibraries(const Dockerfile& dockerfile,
                                               const std::set<std::string>& linked,
                                               const std::set<std::string>& needed,
                                               const SonameTable& table);

// The sonames in `ldd` output (the name left of "=>", or the file name of a bare path).
std::set<std::string> SonamesFromLdd(const std::string& ldd_output);
// The DT_NEEDED entries in `readelf -d` output.
std::set<std::string> NeededFromReadelf(const std::string& readelf_output);

}  // namespace kafka_autoscaler::deploy_test
