#include "dockerfile_check.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <nlohmann/json.hpp>

namespace kafka_autoscaler::deploy_test {
namespace {

std::string Trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> Words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string At(const Instruction& i) { return "line " + std::to_string(i.line) + ": "; }

// A JSON array of non-empty strings: the exec form of ENTRYPOINT, CMD and RUN.
bool IsExecForm(const std::string& args) {
  auto parsed = nlohmann::json::parse(args, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array() || parsed.empty()) return false;
  return std::all_of(parsed.begin(), parsed.end(),
                     [](const auto& v) { return v.is_string() && !v.template get<std::string>().empty(); });
}

// Build tools that must not reach the runtime stage.
bool IsBuildPackage(const std::string& pkg) {
  static const std::set<std::string> kTools = {"build-base", "gcc", "g++", "make", "cmake",
                                               "samurai", "ninja", "pkgconf", "musl-dev"};
  return kTools.count(pkg) > 0 || (pkg.size() > 4 && pkg.substr(pkg.size() - 4) == "-dev");
}

bool IsNumber(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// image@sha256:<64 hex digits>
bool HasDigest(const std::string& image) {
  const auto at = image.find("@sha256:");
  if (at == std::string::npos) return false;
  const std::string hex = image.substr(at + 8);
  return hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// image:MAJOR.MINOR[anything], e.g. alpine:3.20, alpine:3.20.3, debian:12.5-slim; not a bare
// major ("alpine:3"), not "latest", not a missing tag. The tag follows the last ':' after the
// last '/' (a registry may carry a port).
bool HasReleaseTag(const std::string& image) {
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return false;
  const std::string tag = image.substr(colon + 1);
  size_t i = 0;
  while (i < tag.size() && tag[i] >= '0' && tag[i] <= '9') ++i;
  if (i == 0 || i >= tag.size() || tag[i] != '.') return false;
  return i + 1 < tag.size() && tag[i + 1] >= '0' && tag[i + 1] <= '9';
}

}  // namespace

Result<Dockerfile> ParseDockerfile(const std::string& text) {
  Dockerfile out;
  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  std::string pending;
  int pending_line = 0;
  auto flush = [&]() -> Status {
    const std::string logical = Trim(pending);
    pending.clear();
    if (logical.empty()) return {};
    const auto space = logical.find_first_of(" \t");
    Instruction ins{.keyword = Upper(logical.substr(0, space)),
                    .args = space == std::string::npos ? "" : Trim(logical.substr(space)),
                    .line = pending_line};
    if (ins.keyword == "FROM") {
      const auto words = Words(ins.args);
      Stage stage;
      for (size_t i = 0; i < words.size(); ++i) {
        if (words[i].rfind("--", 0) == 0) continue;  // --platform=...
        if (stage.base.empty()) {
          stage.base = words[i];
        } else if (Upper(words[i]) == "AS" && i + 1 < words.size()) {
          stage.name = Lower(words[i + 1]);
          break;
        }
      }
      out.stages.push_back(stage);
    } else if (out.stages.empty()) {
      if (ins.keyword != "ARG") {
        return MakeError(ErrorCode::kInvalidArgument,
                         At(ins) + ins.keyword + " before the first FROM (only ARG may be)");
      }
      out.global.push_back(ins);
    } else {
      out.stages.back().instructions.push_back(ins);
    }
    return {};
  };
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = Trim(raw);
    if (line.empty() && pending.empty()) continue;
    if (!line.empty() && line[0] == '#') continue;  // comments, also inside continuations
    if (pending.empty()) pending_line = line_no;
    if (!line.empty() && line.back() == '\\') {
      pending += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    pending += line;
    if (auto s = flush(); !s) return MakeError(s.error());
  }
  if (auto s = flush(); !s) return MakeError(s.error());
  if (out.stages.empty()) return MakeError(ErrorCode::kInvalidArgument, "no FROM instruction");
  return out;
}

std::set<std::string> ApkAddedPackages(const Stage& stage) {
  std::set<std::string> packages;
  for (const auto& ins : stage.instructions) {
    if (ins.keyword != "RUN") continue;
    const auto words = Words(ins.args);
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] != "apk" || words[i + 1] != "add") continue;
      for (size_t j = i + 2; j < words.size(); ++j) {
        const std::string& w = words[j];
        if (w == "&&" || w == ";" || w == "||" || w == "|") break;
        if (w.rfind("-", 0) == 0) continue;
        packages.insert(w);
      }
    }
  }
  return packages;
}

std::vector<std::string> CheckImageInvariants(const Dockerfile& dockerfile, int port) {
  std::vector<std::string> problems;
  if (dockerfile.stages.size() < 2) {
    problems.push_back("single stage: build tools would ship in the image (need a build stage)");
  }
  std::set<std::string> stage_names;
  for (const auto& stage : dockerfile.stages) {
    const std::string base = Lower(stage.base);
    if (!stage_names.count(base) && base != "scratch" && !HasDigest(base) &&
        !HasReleaseTag(base)) {
      problems.push_back("FROM " + stage.base +
                         ": base image not pinned to a release (want image:MAJOR.MINOR or a digest)");
    }
    if (!stage.name.empty()) stage_names.insert(stage.name);
  }
  if (dockerfile.stages.empty()) return problems;
  const Stage& last = dockerfile.stages.back();

  bool copies_from_stage = false;
  const Instruction* user = nullptr;
  const Instruction* entrypoint = nullptr;
  bool exposes = false;
  for (const auto& ins : last.instructions) {
    if (ins.keyword == "COPY" && ins.args.find("--from=") != std::string::npos) {
      copies_from_stage = true;
    }
    if (ins.keyword == "USER") user = &ins;
    if (ins.keyword == "ENTRYPOINT") entrypoint = &ins;
    if (ins.keyword == "EXPOSE") {
      for (const auto& w : Words(ins.args)) {
        if (w == std::to_string(port) || w == std::to_string(port) + "/tcp") exposes = true;
      }
    }
    if ((ins.keyword == "CMD" || ins.keyword == "ENTRYPOINT") && !IsExecForm(ins.args)) {
      problems.push_back(At(ins) + ins.keyword + " is in shell form (needs a shell, gets no signals)"
                         "; use the exec form [\"/path\", \"arg\"]");
    }
    if (ins.keyword == "RUN" && user != nullptr) {
      problems.push_back(At(ins) + "RUN after USER in the runtime stage");
    }
  }
  if (!copies_from_stage) {
    problems.push_back("runtime stage copies nothing from the build stage (COPY --from=...)");
  }
  const std::string uid = user == nullptr ? "" : user->args.substr(0, user->args.find(':'));
  const std::string gid = user == nullptr || user->args.find(':') == std::string::npos
                              ? "0"
                              : user->args.substr(user->args.find(':') + 1);
  if (user == nullptr) {
    problems.push_back("runtime stage has no USER: the container would run as root");
  } else if (!IsNumber(uid) || !IsNumber(gid)) {
    problems.push_back(At(*user) + "USER " + user->args +
                       " is not numeric (runAsNonRoot can only verify a numeric uid)");
  } else if (std::stol(uid) == 0) {
    problems.push_back(At(*user) + "USER " + user->args + " is root");
  }
  if (!exposes) problems.push_back("runtime stage does not EXPOSE " + std::to_string(port));
  if (entrypoint == nullptr) {
    problems.push_back("runtime stage has no ENTRYPOINT");
  } else if (IsExecForm(entrypoint->args)) {
    const auto argv = nlohmann::json::parse(entrypoint->args);
    const std::string program = argv[0].get<std::string>();
    if (program.empty() || program[0] != '/') {
      problems.push_back(At(*entrypoint) + "ENTRYPOINT program is not an absolute path");
    }
    if (program == "/bin/sh" || program == "/bin/bash" || program == "sh") {
      problems.push_back(At(*entrypoint) + "ENTRYPOINT runs a shell");
    }
  }
  for (const auto& pkg : ApkAddedPackages(last)) {
    if (IsBuildPackage(pkg)) problems.push_back("runtime stage installs build package " + pkg);
  }
  for (const auto& ins : last.instructions) {
    if (ins.keyword == "RUN" && ins.args.find("apk add") != std::string::npos &&
        ins.args.find("--no-cache") == std::string::npos) {
      problems.push_back(At(ins) + "apk add without --no-cache leaves the index in the image");
    }
  }
  return problems;
}

Result<SonameTable> ParseSonameTable(const std::string& text) {
  SonameTable table;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (Trim(line).empty() || Trim(line)[0] == '#') continue;
    std::vector<std::string> cols;
    std::istringstream fields(line);
    for (std::string col; std::getline(fields, col, '\t');) cols.push_back(Trim(col));
    if (cols.size() < 2 || cols[0].empty() || cols[1].empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "soname table line " + std::to_string(line_no) + ": want SONAME<TAB>PROVIDER");
    }
    table[cols[0]] = SonameMapping{.provider = cols[1], .note = cols.size() > 2 ? cols[2] : ""};
  }
  return table;
}

std::vector<std::string> CheckRuntimeLibraries(const Dockerfile& dockerfile,
                                               const std::set<std::string>& linked,
                                               const std::set<std::string>& needed,
                                               const SonameTable& table) {
  std::vector<std::string> problems;
  if (dockerfile.stages.empty()) return {"no stages"};
  const std::set<std::string> runtime = ApkAddedPackages(dockerfile.stages.back());
  std::string build_text;
  for (size_t i = 0; i + 1 < dockerfile.stages.size(); ++i) {
    for (const auto& ins : dockerfile.stages[i].instructions) build_text += ins.args + "\n";
  }
  for (const auto& soname : linked) {
    auto it = table.find(soname);
    if (it == table.end()) {
      problems.push_back(soname + ": not in tests/deploy/testdata/debian-soname-to-alpine.tsv; "
                         "add it with the Alpine package that provides it (and apk add that "
                         "package in the Dockerfile's runtime stage)");
      continue;
    }
    const std::string& provider = it->second.provider;
    if (provider == "musl" || provider == "kernel" || provider == "sanitizer") continue;
    if (provider.rfind("static:", 0) == 0) {
      const std::string name = provider.substr(7);
      if (build_text.find(name) == std::string::npos) {
        problems.push_back(soname + ": the table says " + name +
                           " is built into the binary, but no build-stage instruction mentions it");
      }
      continue;
    }
    std::string package = provider;
    if (provider.rfind("via:", 0) == 0) {
      package = provider.substr(4);
      if (needed.count(soname)) {
        problems.push_back(soname + ": the binary links it directly, so it needs its own Alpine "
                           "package, not via:" + package);
      }
    }
    if (!runtime.count(package)) {
      problems.push_back(soname + ": Alpine package " + package +
                         " is not installed by the runtime stage's apk add");
    }
  }
  return problems;
}

std::set<std::string> SonamesFromLdd(const std::string& ldd_output) {
  std::set<std::string> out;
  std::istringstream in(ldd_output);
  std::string line;
  while (std::getline(in, line)) {
    const auto words = Words(line);
    if (words.empty() || words[0] == "statically") continue;
    std::string name = words[0];
    if (const auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
    out.insert(name);
  }
  return out;
}

std::set<std::string> NeededFromReadelf(const std::string& readelf_output) {
  std::set<std::string> out;
  std::istringstream in(readelf_output);
  std::string line;
  const std::string marker = "Shared library: [";
  while (std::getline(in, line)) {
    if (line.find("(NEEDED)") == std::string::npos) continue;
    const auto start = line.find(marker);
    const auto end = line.rfind(']');
    if (start == std::string::npos || end == std::string::npos || end < start) continue;
    out.insert(line.substr(start + marker.size(), end - start - marker.size()));
  }
  return out;
}

}  // namespace kafka_autoscaler::deploy_test
