// SvgChart: a small, dependency-free line chart writer. A chart is a stack of panels sharing one
// x axis (time); each panel has its own y axis, grid, label and any number of named series,
// drawn as lines (or steps) with a legend. `simulate` draws load / backlog / replicas per policy
// with it, and `demo` reuses it for backlog and replicas. Series longer than the plot's width
// in pixels are reduced to the max per pixel column, so spikes stay visible.
// Pure: Render() builds a string; no I/O. Thread-compatible.
#pragma once

#include <string>
#include <vector>

namespace kafka_autoscaler::sim {

struct ChartSeries {
  std::string label;
  std::vector<double> values;  // one per x step
  std::string color;           // CSS colour; empty = from the palette
  bool dashed = false;
  bool step = false;  // draw as a step function (replica counts)
};

struct ChartPanel {
  std::string title;
  std::string y_label;
  std::vector<ChartSeries> series;
};

struct Chart {
  std::string title;
  std::string subtitle;
  std::string x_label = "time (s)";
  double x_start = 0;  // x of values[0]
  double x_step = 1;   // x distance between two values
  std::vector<ChartPanel> panels;
  int width = 1000;        // pixels
  int panel_height = 220;  // pixels per panel
};

// The chart as a standalone SVG document.
[[nodiscard]] std::string RenderSvg(const Chart& chart);

// A "nice" tick step (1, 2 or 5 × 10^k) giving about `ticks` ticks over `range`.
[[nodiscard]] double NiceStep(double range, int ticks);

}  // namespace kafka_autoscaler::sim
