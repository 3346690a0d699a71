// Process: a child process for end-to-end tests — the real daemon binary, the mock Kafka
// cluster, the test API server. Its stdin is a pipe the test writes lines to; its stdout and
// stderr are collected by a reader thread, so a test can wait for a line or read everything
// so far. The destructor kills (SIGKILL) and reaps a child still running; when the test has
// failed by then, it writes what the child wrote to a file in the temporary folder and prints
// its path (a CI log shows only part of a run's output). Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kafka_autoscaler::testing {

class Process {
 public:
  // Starts `argv[0]` with `argv`, with `env` added to (and overriding) the test's environment.
  // Returns nullopt-equivalent (pid() < 0) when the program cannot be started.
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Writes one line (a newline is added) to the child's stdin.
  bool WriteLine(const std::string& line);
  void CloseStdin();
  // Waits until a stdout line satisfies `match`, from line index `from` on; returns the line.
  std::optional<std::string> WaitForLine(const std::function<bool(const std::string&)>& match,
                                         std::chrono::milliseconds timeout, size_t from = 0);
  // The first stdout line (the helpers print their address there).
  std::optional<std::string> FirstLine(std::chrono::milliseconds timeout);
  std::vector<std::string> Lines() const;
  std::string Stderr() const;
  // Sends `signal`; then Wait.
  void Signal(int signal);
  // Waits for the exit; returns the exit status (128 + signal when killed), or nullopt on timeout.
  // After the exit, Lines() and Stderr() hold everything the child wrote (up to 2 s of draining).
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();

 private:
  void ReadLoop(int fd, bool is_stdout);
  void KeepOutput() const;

  std::string program_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::optional<int> status_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::string partial_;
  std::string stderr_;
  int eofs_ = 0;  // reader threads that reached end of file (2: all output collected)
  std::thread out_thread_;
  std::thread err_thread_;
};

// Sends `command` to a mock-kafka process and waits for its "ok"/"error ..." answer.
std::string MockKafkaCommand(Process& mock, const std::string& command);

// A plain HTTP GET on 127.0.0.1:port; returns {status, body}, status 0 when unreachable.
std::pair<int, std::string> HttpGet(int port, const std::string& path);

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int FreePort();

// The outcome of a shell command: its exit status (-1 when it did not exit normally) and its
// stdout and stderr together.
struct ShellResult {
  int exit_code = -1;
  std::string output;
};
// Runs `command` with /bin/sh (stderr is captured only when the command redirects it, e.g.
// "... 2>&1") and waits for it.
ShellResult RunShell(const std::string& command);

// Polls `cond` every 100 ms until it holds or `timeout` passes; returns its last value.
bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

}  // namespace kafka_autoscaler::testing
