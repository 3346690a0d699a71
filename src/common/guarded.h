// RunGuarded: the body of every thread the daemon starts, and of main() itself.
//
// An exception that escapes a thread's function calls std::terminate: SIGABRT, perhaps a core
// file, and not a word in the log about why. RunGuarded catches it, logs "thread '<name>'
// failed" with the exception's text (to `log`, or stderr when null), flushes, and ends the
// process at once with exit status 1, so the pod restarts with the reason in its last line.
// It does not unwind other threads (std::_Exit): a half-done thread may hold locks that
// orderly destructors would wait on. Thread-safe.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <string_view>

#include "common/log.h"

namespace kafka_autoscaler {

inline constexpr int kExitThreadFailed = 1;

// Runs `body`; on an escaping exception logs it and ends the process with kExitThreadFailed.
inline void RunGuarded(std::string_view name, Logger* log,
                       const std::function<void()>& body) noexcept {
  std::string what;
  try {
    body();
    return;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  try {
    const std::string message = "thread '" + std::string(name) + "' failed; exiting";
    if (log != nullptr) {
      log->Error(message, {{"error", what}});
    } else {
      std::cerr << "kafka-autoscaler: " << message << ": " << what << std::endl;
    }
    std::cout.flush();
  } catch (...) {
    std::fputs("kafka-autoscaler: a thread failed; exiting\n", stderr);
  }
  std::fflush(nullptr);
  std::_Exit(kExitThreadFailed);
}

}  // namespace kafka_autoscaler
