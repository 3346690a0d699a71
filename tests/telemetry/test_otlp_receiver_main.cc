// test-otlp-receiver: a standalone OTLP/HTTP receiver for end-to-end tests of the daemon.
//
//   test-otlp-receiver --dir DIR [--port N]
//
// Prints its base URL ("http://127.0.0.1:PORT") as the first line of stdout, then writes every
// request body to DIR as NNNNNN-<traces|metrics|logs>.<pb|json> and answers 200. Runs until
// SIGTERM or SIGINT; exit status 0. Bad arguments: exit 2.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "otlp_receiver.h"

int main(int argc, char** argv) {
  std::string dir;
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: test-otlp-receiver --dir DIR [--port N]\n");
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: test-otlp-receiver --dir DIR [--port N]\n");
    return 2;
  }
  // Block the stop signals before any thread starts, then wait for one here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  kafka_autoscaler::testing::TestOtlpReceiver receiver(dir, port);
  std::printf("%s\n", receiver.url().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  receiver.Stop();
  return 0;
}
