#include "e2e/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

extern char** environ;

namespace kafka_autoscaler::testing {

Process::Process(std::vector<std::string> argv, std::map<std::string, std::string> env)
    : program_(argv.empty() ? std::string() : argv[0]) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return;
  // Build the environment before fork: only async-signal-safe calls after it.
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_strings;
  for (auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  stdin_fd_ = in[1];
  out_thread_ = std::thread([this, fd = out[0]] { ReadLoop(fd, true); });
  err_thread_ = std::thread([this, fd = err[0]] { ReadLoop(fd, false); });
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  CloseStdin();
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
  if (pid_ > 0 && ::testing::Test::HasFailure()) KeepOutput();
}

void Process::KeepOutput() const {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = test != nullptr ? test->name() : "unknown";
  const auto path = std::filesystem::temp_directory_path() /
                    ("ka-failed-" + name + "-" + std::to_string(pid_) + ".log");
  std::ofstream out(path);
  std::lock_guard lock(mu_);
  out << "# " << program_ << " (pid " << pid_ << "), exit "
      << (status_ ? std::to_string(*status_) : std::string("unknown")) << "\n# stdout\n";
  for (const auto& l : lines_) out << l << "\n";
  out << partial_ << "\n# stderr\n" << stderr_;
  std::cerr << "kept the output of " << program_ << " (pid " << pid_ << ") in " << path.string()
            << "\n";
}

void Process::ReadLoop(int fd, bool is_stdout) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    if (!is_stdout) {
      stderr_.append(buf, static_cast<size_t>(n));
      continue;
    }
    partial_.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
      lines_.push_back(partial_.substr(0, nl));
      partial_.erase(0, nl + 1);
    }
    cv_.notify_all();
  }
  close(fd);
  std::lock_guard lock(mu_);
  ++eofs_;
  cv_.notify_all();
}

bool Process::WriteLine(const std::string& line) {
  if (stdin_fd_ < 0) return false;
  const std::string data = line + "\n";
  return write(stdin_fd_, data.data(), data.size()) == static_cast<ssize_t>(data.size());
}

void Process::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

std::optional<std::string> Process::WaitForLine(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds timeout,
    size_t from) {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t checked = from;
  for (;;) {
    for (; checked < lines_.size(); ++checked) {
      if (match(lines_[checked])) return lines_[checked];
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; checked < lines_.size(); ++checked) {
        if (match(lines_[checked])) return lines_[checked];
      }
      return std::nullopt;
    }
  }
}

std::optional<std::string> Process::FirstLine(std::chrono::milliseconds timeout) {
  return WaitForLine([](const std::string&) { return true; }, timeout);
}

std::vector<std::string> Process::Lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

std::string Process::Stderr() const {
  std::lock_guard lock(mu_);
  return stderr_;
}

void Process::Signal(int signal) {
  if (pid_ > 0 && !status_) kill(pid_, signal);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      // The pipes may still hold the last output: let the readers drain them.
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(2), [this] { return eofs_ >= 2; });
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool Process::Running() { return pid_ > 0 && !Wait(std::chrono::milliseconds(0)); }

std::string MockKafkaCommand(Process& mock, const std::string& command) {
  const size_t from = mock.Lines().size();
  if (!mock.WriteLine(command)) return "error: cannot write";
  auto answer = mock.WaitForLine(
      [](const std::string& l) { return l.rfind("ok", 0) == 0 || l.rfind("error", 0) == 0; },
      std::chrono::seconds(30), from);
  return answer.value_or("error: no answer");
}

std::pair<int, std::string> HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(3, 0);
  auto r = client.Get(path);
  if (!r) return {0, ""};
  return {r->status, r->body};
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

ShellResult RunShell(const std::string& command) {
  ShellResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

}  // namespace kafka_autoscaler::testing
