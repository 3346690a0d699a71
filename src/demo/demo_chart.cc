#include "demo/demo_chart.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace kafka_autoscaler::demo {
namespace {

constexpr double kW = 900, kH = 420, kLeft = 70, kRight = 70, kTop = 40, kBottom = 50;

std::string Polyline(const std::vector<ChartPoint>& s, double t_max, double y_max,
                     double ChartPoint::*field, bool steps) {
  std::ostringstream p;
  double prev_y = -1;
  for (const auto& pt : s) {
    const double x = kLeft + (kW - kLeft - kRight) * pt.t_seconds / t_max;
    const double y = kH - kBottom - (kH - kTop - kBottom) * std::min(1.0, pt.*field / y_max);
    if (steps && prev_y >= 0) p << x << "," << prev_y << " ";
    p << x << "," << y << " ";
    prev_y = y;
  }
  return p.str();
}

}  // namespace

Status WriteDemoChart(const std::string& path, const std::vector<ChartPoint>& series,
                      int max_replicas) {
  double t_max = 1, backlog_max = 1, load_max = 1;
  for (const auto& p : series) {
    t_max = std::max(t_max, p.t_seconds);
    backlog_max = std::max(backlog_max, p.backlog);
    load_max = std::max(load_max, p.load);
  }
  const double left_max = std::max(backlog_max, load_max) * 1.1;
  const double right_max = std::max(1, max_replicas) * 1.1;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kW << "\" height=\"" << kH
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kW / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
      << "kafka-autoscaler demo: load, backlog and replicas</text>\n";
  // Axes and grid.
  for (int i = 0; i <= 5; ++i) {
    const double y = kH - kBottom - (kH - kTop - kBottom) * i / 5.0;
    svg << "<line x1=\"" << kLeft << "\" x2=\"" << kW - kRight << "\" y1=\"" << y << "\" y2=\""
        << y << "\" stroke=\"#ddd\"/>\n"
        << "<text x=\"" << kLeft - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">"
        << static_cast<long>(left_max * i / 5) << "</text>\n"
        << "<text x=\"" << kW - kRight + 6 << "\" y=\"" << y + 4 << "\">"
        << static_cast<long>(right_max * i / 5 + 0.5) << "</text>\n";
  }
  for (int i = 0; i <= 6; ++i) {
    const double x = kLeft + (kW - kLeft - kRight) * i / 6.0;
    svg << "<text x=\"" << x << "\" y=\"" << kH - kBottom + 18 << "\" text-anchor=\"middle\">"
        << static_cast<long>(t_max * i / 6) << "</text>\n";
  }
  svg << "<text x=\"" << kW / 2 << "\" y=\"" << kH - 10 << "\" text-anchor=\"middle\">"
      << "time (s)</text>\n"
      << "<text transform=\"translate(16," << kH / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
      << "messages (backlog) / messages per s (load)</text>\n"
      << "<text transform=\"translate(" << kW - 14 << "," << kH / 2
      << ") rotate(90)\" text-anchor=\"middle\">replicas</text>\n";
  svg << "<polyline fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 3\" stroke-width=\"1.5\" "
         "points=\"" << Polyline(series, t_max, left_max, &ChartPoint::load, false) << "\"/>\n"
      << "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\""
      << Polyline(series, t_max, left_max, &ChartPoint::backlog, false) << "\"/>\n"
      << "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2.5\" points=\""
      << Polyline(series, t_max, right_max, &ChartPoint::replicas, true) << "\"/>\n";
  // Legend.
  const struct {
    const char* color;
    const char* label;
  } legend[] = {{"#999", "load (msg/s, left)"}, {"#d62728", "backlog (messages, left)"},
                {"#1f77b4", "replicas (right)"}};
  for (int i = 0; i < 3; ++i) {
    const double x = kLeft + 10 + i * 220;
    svg << "<line x1=\"" << x << "\" x2=\"" << x + 24 << "\" y1=\"" << kTop + 4 << "\" y2=\""
        << kTop + 4 << "\" stroke=\"" << legend[i].color << "\" stroke-width=\"3\"/>"
        << "<text x=\"" << x + 30 << "\" y=\"" << kTop + 8 << "\">" << legend[i].label
        << "</text>\n";
  }
  svg << "</svg>\n";
  std::ofstream f(path);
  f << svg.str();
  if (!f) return MakeError(ErrorCode::kUnavailable, "cannot write " + path);
  return OkStatus();
}

}  // namespace kafka_autoscaler::demo
