// The demo's chart: load, backlog and replicas over demo time, written as one SVG file.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace kafka_autoscaler::demo {

struct ChartPoint {
  double t_seconds = 0;  // demo time
  double load = 0;       // messages per second produced
  double backlog = 0;    // messages (group lag)
  double replicas = 0;
};

// Writes the chart to `path`. kUnavailable when the file cannot be written.
[[nodiscard]] Status WriteDemoChart(const std::string& path, const std::vector<ChartPoint>& series,
                                    int max_replicas);

}  // namespace kafka_autoscaler::demo
