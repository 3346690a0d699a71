// The Dockerfile's invariants, checked without a Docker engine: structure (pinned Alpine base,
// multi-stage, numeric non-root USER, EXPOSE 8000, exec-form ENTRYPOINT) and that every shared
// library of the kafka-autoscaler binary built here (`ldd`) has its Alpine package in the
// runtime stage, through testdata/debian-soname-to-alpine.tsv. Each check also runs on a broken
// Dockerfile to prove it bites.
//
// Usage: deploy_dockerfile_test --binary=PATH/kafka-autoscaler [gtest flags]
#include <gtest/gtest.h>

#include <string>

#include "dockerfile_check.h"
#include "manifest_yaml.h"

namespace kafka_autoscaler::deploy_test {
namespace {

std::string g_binary;  // set by main() from --binary=

const std::string kSource = KA_SOURCE_DIR;

Dockerfile LoadProjectDockerfile() {
  auto text = ReadFile(kSource + "/Dockerfile");
  EXPECT_TRUE(text.has_value()) << text.error().ToString();
  auto parsed = ParseDockerfile(text.value_or(""));
  EXPECT_TRUE(parsed.has_value()) << parsed.error().ToString();
  return parsed.value_or(Dockerfile{});
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "  " + l + "\n";
  return out;
}

bool Mentions(const std::vector<std::string>& problems, const std::string& needle) {
  for (const auto& p : problems) {
    if (p.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(DockerfileParse, JoinsContinuationsDropsCommentsAndSplitsStages) {
  const std::string text =
      "ARG V=1\n"
      "FROM alpine:3.20 AS Build\n"
      "RUN apk add --no-cache \\\n"
      "    # a comment inside the instruction\n"
      "    cmake \\\n"
      "    samurai && echo done\n"
      "\n"
      "from alpine:3.20\n"
      "copy --from=build /a /b\n";
  auto parsed = ParseDockerfile(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->global.size(), 1u);
  ASSERT_EQ(parsed->stages.size(), 2u);
  EXPECT_EQ(parsed->stages[0].base, "alpine:3.20");
  EXPECT_EQ(parsed->stages[0].name, "build");
  ASSERT_EQ(parsed->stages[0].instructions.size(), 1u);
  EXPECT_EQ(parsed->stages[0].instructions[0].line, 3);
  EXPECT_EQ(ApkAddedPackages(parsed->stages[0]), (std::set<std::string>{"cmake", "samurai"}));
  ASSERT_EQ(parsed->stages[1].instructions.size(), 1u);
  EXPECT_EQ(parsed->stages[1].instructions[0].keyword, "COPY");
  EXPECT_FALSE(ParseDockerfile("RUN echo no base\nFROM alpine:3.20\n").has_value());
  EXPECT_FALSE(ParseDockerfile("# only a comment\n").has_value());
}

TEST(Dockerfile, ProjectImageHoldsItsInvariants) {
  const Dockerfile dockerfile = LoadProjectDockerfile();
  const auto problems = CheckImageInvariants(dockerfile, 8000);
  EXPECT_TRUE(problems.empty()) << Joined(problems);
  // The runtime stage is Alpine, pinned, and runs the binary directly.
  ASSERT_GE(dockerfile.stages.size(), 2u);
  EXPECT_EQ(dockerfile.stages.back().base.rfind("alpine:3.", 0), 0u) << dockerfile.stages.back().base;
  EXPECT_EQ(dockerfile.stages.front().base, dockerfile.stages.back().base)
      << "build and runtime stages should use the same Alpine release (same musl, same libraries)";
}

TEST(Dockerfile, InvariantChecksBite) {
  struct Case {
    std::string name;
    std::string dockerfile;
    std::string expected;  // a problem mentioning this must be reported
  };
  const std::string good_tail =
      "COPY --from=build /out/app /usr/local/bin/app\n"
      "USER 65532:65532\nEXPOSE 8000\nENTRYPOINT [\"/usr/local/bin/app\"]\nCMD [\"run\"]\n";
  const std::string build = "FROM alpine:3.20 AS build\nRUN make\n";
  const std::vector<Case> cases = {
      {.name = "unpinned latest", .dockerfile = build + "FROM alpine:latest\n" + good_tail,
       .expected = "not pinned"},
      {.name = "no tag", .dockerfile = "FROM alpine AS build\nFROM alpine:3.20\n" + good_tail,
       .expected = "FROM alpine:"},
      {.name = "major only", .dockerfile = build + "FROM alpine:3\n" + good_tail,
       .expected = "not pinned"},
      {.name = "single stage",
       .dockerfile = "FROM alpine:3.20\nCOPY --from=x /a /b\nUSER 1\nEXPOSE 8000\n"
                     "ENTRYPOINT [\"/a\"]\n",
       .expected = "single stage"},
      {.name = "root user",
       .dockerfile = build + "FROM alpine:3.20\nCOPY --from=build /a /b\nUSER 0\nEXPOSE 8000\n"
                             "ENTRYPOINT [\"/a\"]\n",
       .expected = "is root"},
      {.name = "named user",
       .dockerfile = build + "FROM alpine:3.20\nCOPY --from=build /a /b\nUSER nobody\n"
                             "EXPOSE 8000\nENTRYPOINT [\"/a\"]\n",
       .expected = "not numeric"},
      {.name = "no user",
       .dockerfile = build + "FROM alpine:3.20\nCOPY --from=build /a /b\nEXPOSE 8000\n"
                             "ENTRYPOINT [\"/a\"]\n",
       .expected = "no USER"},
      {.name = "wrong port",
       .dockerfile = build + "FROM alpine:3.20\nCOPY --from=build /a /b\nUSER 1\nEXPOSE 8080\n"
                             "ENTRYPOINT [\"/a\"]\n",
       .expected = "does not EXPOSE 8000"},
      {.name = "shell-form entrypoint",
       .dockerfile = build + "FROM alpine:3.20\nCOPY --from=build /a /b\nUSER 1\nEXPOSE 8000\n"
                             "ENTRYPOINT /usr/local/bin/app run\n",
       .expected = "shell form"},
      {.name = "shell wrapper",
       .dockerfile = build + "FROM alpine:3.20\nCOPY --from=build /a /b\nUSER 1\nEXPOSE 8000\n"
                             "ENTRYPOINT [\"/bin/sh\", \"-c\", \"app\"]\n",
       .expected = "runs a shell"},
      {.name = "compiler in runtime",
       .dockerfile = build + "FROM alpine:3.20\nRUN apk add --no-cache build-base curl-dev\n" +
                     good_tail,
       .expected = "build package build-base"},
      {.name = "apk cache kept",
       .dockerfile = build + "FROM alpine:3.20\nRUN apk add libcurl\n" + good_tail,
       .expected = "--no-cache"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto parsed = ParseDockerfile(c.dockerfile);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    const auto problems = CheckImageInvariants(*parsed, 8000);
    EXPECT_TRUE(Mentions(problems, c.expected)) << "expected '" << c.expected << "' among:\n"
                                                << Joined(problems);
  }
}

TEST(Dockerfile, EveryLinkedLibraryHasItsAlpinePackageInTheRuntimeStage) {
  ASSERT_FALSE(g_binary.empty()) << "pass --binary=PATH/kafka-autoscaler";
  auto ldd = RunCommand("ldd '" + g_binary + "'");
  ASSERT_TRUE(ldd.has_value()) << ldd.error().ToString();
  ASSERT_EQ(ldd->exit_code, 0) << "ldd failed on " << g_binary << ":\n" << ldd->output;
  auto readelf = RunCommand("readelf -d '" + g_binary + "'");
  ASSERT_TRUE(readelf.has_value()) << readelf.error().ToString();
  ASSERT_EQ(readelf->exit_code, 0);

  const auto linked = SonamesFromLdd(ldd->output);
  const auto needed = NeededFromReadelf(readelf->output);
  ASSERT_FALSE(needed.empty()) << "no DT_NEEDED entries read from " << g_binary;
  for (const auto& n : needed) EXPECT_TRUE(linked.count(n)) << n << " missing from ldd output";
  ASSERT_TRUE(linked.count("libstdc++.so.6")) << ldd->output;

  auto table_text = ReadFile(kSource + "/tests/deploy/testdata/debian-soname-to-alpine.tsv");
  ASSERT_TRUE(table_text.has_value()) << table_text.error().ToString();
  auto table = ParseSonameTable(*table_text);
  ASSERT_TRUE(table.has_value()) << table.error().ToString();

  const auto problems = CheckRuntimeLibraries(LoadProjectDockerfile(), linked, needed, *table);
  EXPECT_TRUE(problems.empty()) << "ldd " << g_binary << ":\n" << ldd->output << "problems:\n"
                                << Joined(problems);
}

TEST(Dockerfile, LibraryCheckBites) {
  auto parsed = ParseDockerfile(
      "FROM alpine:3.20 AS build\nRUN echo building prometheus-cpp\n"
      "FROM alpine:3.20\nRUN apk add --no-cache libstdc++ libcurl\n");
  ASSERT_TRUE(parsed.has_value());
  const SonameTable table = {
      {"libstdc++.so.6", {.provider = "libstdc++"}},
      {"libcurl.so.4", {.provider = "libcurl"}},
      {"librdkafka.so.1", {.provider = "librdkafka"}},
      {"libnghttp2.so.14", {.provider = "via:libcurl"}},
      {"libzstd.so.1", {.provider = "via:librdkafka"}},
      {"libprometheus-cpp-core.so.1.0", {.provider = "static:prometheus-cpp"}},
      {"libcpp-httplib.so.0.11", {.provider = "static:cpp-httplib"}},
      {"libc.so.6", {.provider = "musl"}},
  };
  struct Case {
    std::string name;
    std::set<std::string> linked;
    std::set<std::string> needed;
    std::string expected;  // "" = no problem
  };
  const std::vector<Case> cases = {
      {.name = "all provided",
       .linked = {"libstdc++.so.6", "libcurl.so.4", "libnghttp2.so.14", "libc.so.6",
                  "libprometheus-cpp-core.so.1.0"},
       .needed = {"libstdc++.so.6", "libcurl.so.4"},
       .expected = ""},
      {.name = "unknown soname", .linked = {"libfoo.so.1"}, .expected = "libfoo.so.1: not in"},
      {.name = "package missing in runtime", .linked = {"librdkafka.so.1"},
       .expected = "librdkafka is not installed"},
      {.name = "transitive of a missing package", .linked = {"libzstd.so.1"},
       .expected = "librdkafka is not installed"},
      {.name = "direct dependency claimed as transitive", .linked = {"libnghttp2.so.14"},
       .needed = {"libnghttp2.so.14"}, .expected = "links it directly"},
      {.name = "static library not built", .linked = {"libcpp-httplib.so.0.11"},
       .expected = "no build-stage instruction mentions it"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto problems = CheckRuntimeLibraries(*parsed, c.linked, c.needed, table);
    if (c.expected.empty()) {
      EXPECT_TRUE(problems.empty()) << Joined(problems);
    } else {
      EXPECT_TRUE(Mentions(problems, c.expected)) << "expected '" << c.expected << "' among:\n"
                                                  << Joined(problems);
    }
  }
}

TEST(Dockerfile, SonameParsers) {
  const std::string ldd =
      "\tlinux-vdso.so.1 (0x00007ffd)\n"
      "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f)\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
  EXPECT_EQ(SonamesFromLdd(ldd), (std::set<std::string>{"linux-vdso.so.1", "libstdc++.so.6",
                                                        "ld-linux-x86-64.so.2"}));
  const std::string readelf =
      " 0x0000000000000001 (NEEDED)             Shared library: [libcurl.so.4]\n"
      " 0x000000000000000e (SONAME)             Library soname: [libx.so.1]\n"
      " 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]\n";
  EXPECT_EQ(NeededFromReadelf(readelf), (std::set<std::string>{"libcurl.so.4", "libc.so.6"}));
}

}  // namespace
}  // namespace kafka_autoscaler::deploy_test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--binary=", 0) == 0) kafka_autoscaler::deploy_test::g_binary = arg.substr(9);
  }
  return RUN_ALL_TESTS();
}
