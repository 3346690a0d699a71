// ScratchDirCleanup: removes an end-to-end test's scratch folder (kubeconfigs, certificates,
// kubectl's cache, files the test wrote) when the fixture is destroyed — after the members
// declared after it, so after the processes that write there have stopped. A failed test's
// folder is kept, and its path printed, to be looked at.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <system_error>

namespace kafka_autoscaler::testing {

class ScratchDirCleanup {
 public:
  explicit ScratchDirCleanup(const std::filesystem::path& dir) : dir_(dir) {}
  ~ScratchDirCleanup() {
    if (dir_.empty()) return;
    if (::testing::Test::HasFailure()) {
      std::cerr << "kept the failed test's folder " << dir_ << "\n";
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScratchDirCleanup(const ScratchDirCleanup&) = delete;
  ScratchDirCleanup& operator=(const ScratchDirCleanup&) = delete;

 private:
  const std::filesystem::path& dir_;
};

}  // namespace kafka_autoscaler::testing
