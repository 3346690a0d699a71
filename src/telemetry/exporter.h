// Exporter: sends spans, log records and metric snapshots to an OTLP/HTTP collector (or the
// console) from its own thread, so the reconcile loop never waits on the network.
//
// Callers only enqueue (OnEnd, EnqueueLog: a mutex held for a push). Each of traces and logs has
// a bounded queue (TelemetryOptions::max_queue_size); when full, the new item is dropped and
// counted (Stats, and kafka_autoscaler_telemetry_dropped_total). The thread sends a batch every
// schedule_delay, or as soon as max_export_batch_size items wait; metrics are collected from
// Metrics and sent every metric_export_interval.
//
// Delivery (OTLP/HTTP spec): POST to the signal's URL with Content-Type application/x-protobuf
// or application/json, optional gzip Content-Encoding and the configured headers. 2xx is
// success; a partial-success body is logged with its rejected count. 429, 502, 503, 504 and
// transport failures (refused, reset, timeout) are retried with exponential backoff and jitter,
// waiting at least a server's Retry-After (capped by RetryOptions::max_backoff), up to
// max_attempts; any other status (400 included) is never retried. A batch that is not delivered
// is dropped and counted.
//
// One thread serves the three signals: a hung endpoint of one delays the others by at most its
// timeout × max_attempts, while their queues absorb (and, when full, drop) what arrives.
//
// Timing trade-off: the export thread waits in real time (condition variables), not on the
// Clock seam — it only schedules I/O. Telemetry timestamps come from Clock::WallNow().
//
// Thread-safety: every public method is thread-safe. Shutdown (or the destructor) joins the
// thread; it exports what is queued plus a final metrics snapshot, giving up at the deadline.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "telemetry/metrics.h"
#include "telemetry/options.h"
#include "telemetry/otlp_encoding.h"
#include "telemetry/tracer.h"

namespace kafka_autoscaler::telemetry {

// True on an exporter's thread. The OTLP log sink ignores records logged there (the exporter's
// own diagnostics), so a failing collector cannot feed itself log records.
bool IsExportThread();

struct SignalStats {
  uint64_t exported = 0;  // items delivered (spans, data points, log records)
  uint64_t dropped = 0;   // items dropped: queue full, or not delivered
  uint64_t requests = 0;  // HTTP requests sent (attempts, retries included)
  uint64_t retries = 0;   // attempts after the first
  uint64_t failed_batches = 0;
  uint64_t rejected = 0;   // items a partial-success response said were rejected
  std::string last_error;  // the last failure, for diagnostics
};

struct ExporterStats {
  SignalStats traces, metrics, logs;
  const SignalStats& of(Signal s) const {
    return s == Signal::kTraces ? traces : s == Signal::kMetrics ? metrics : logs;
  }
};

class Exporter final : public SpanSink {
 public:
  // Starts the export thread. `metrics` (required) is collected for metric exports and counts
  // drops; `diagnostics` (may be null) receives export warnings; `console` (may be null: no
  // console output) receives one OTLP JSON line per batch of signals whose exporter is console.
  // All must outlive the Exporter.
  Exporter(TelemetryOptions options, const Clock& clock, Metrics* metrics, Logger* diagnostics,
           std::ostream* console);
  ~Exporter() override;  // Shutdown(5 s) if not called
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  void OnEnd(SpanData span) override;  // never blocks; drops when the queue is full
  void EnqueueLog(LogData log);        // never blocks; drops when the queue is full

  // Exports everything queued now, and a metrics snapshot; true if done within `timeout`.
  bool ForceFlush(std::chrono::milliseconds timeout);
  // Flushes and stops the thread, abandoning whatever is still unsent at `deadline` from now.
  // Idempotent.
  void Shutdown(std::chrono::milliseconds deadline);

  ExporterStats Stats() const;

 private:
  struct Sender;  // one libcurl handle per signal, used on the export thread only

  void Run();
  void ExportSpans(std::vector<SpanData> spans);
  void ExportLogs(std::vector<LogData> logs);
  void ExportMetrics();
  // Sends one request with retries; returns true when delivered. `items` counts for stats.
  bool Send(Signal signal, const google::protobuf::Message& request, uint64_t items);
  // Waits in real time until `until` or the shutdown deadline; false if the deadline passed.
  bool WaitUntil(std::chrono::steady_clock::time_point until);
  std::chrono::steady_clock::time_point Deadline() const;
  void CountDropped(Signal signal, uint64_t items, const std::string& why);
  const SignalOptions& OptionsOf(Signal signal) const;
  SignalStats& StatsOf(Signal signal);  // requires mu_

  const TelemetryOptions options_;
  const Clock& clock_;
  Metrics* const metrics_;
  Logger* const diagnostics_;
  std::ostream* const console_;
  const WallTime start_time_;  // start of cumulative sums
  const std::string version_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the export thread
  std::condition_variable flushed_;  // wakes ForceFlush callers
  std::deque<SpanData> spans_;
  std::deque<LogData> logs_;
  bool stop_ = false;
  uint64_t flush_requested_ = 0;
  uint64_t flush_done_ = 0;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  // deadline_ for libcurl's progress callback, which aborts an in-flight request at shutdown.
  std::atomic<std::chrono::steady_clock::rep> abort_at_{
      std::chrono::steady_clock::time_point::max().time_since_epoch().count()};
  ExporterStats stats_;
  bool joined_ = false;

  std::array<std::unique_ptr<Sender>, 3> senders_;  // export thread only
  std::mutex join_mu_;
  std::thread thread_;  // last: starts after everything above is built
};

}  // namespace kafka_autoscaler::telemetry
