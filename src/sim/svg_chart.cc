#include "sim/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace kafka_autoscaler::sim {

namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                    "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"};
constexpr int kLeft = 80, kRight = 20, kTop = 76, kGap = 56, kBottom = 44;
constexpr int kLegendWidth = 190;

std::string Escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string TickLabel(double v, double step) {
  char buf[32];
  const double a = std::fabs(v);
  if (a >= 1e6)
    std::snprintf(buf, sizeof buf, "%gM", v / 1e6);
  else if (a >= 1e4)
    std::snprintf(buf, sizeof buf, "%gk", v / 1e3);
  else if (step < 1)
    std::snprintf(buf, sizeof buf, "%.2g", v);
  else
    std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

}  // namespace

double NiceStep(double range, int ticks) {
  if (range <= 0 || ticks <= 0) return 1;
  const double raw = range / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * mag;
}

std::string RenderSvg(const Chart& chart) {
  const int plot_w = chart.width - kLeft - kRight;
  const int n_panels = static_cast<int>(chart.panels.size());
  const int height = kTop + n_panels * chart.panel_height + (n_panels - 1) * kGap + kBottom;
  size_t n = 0;
  for (const auto& p : chart.panels) {
    for (const auto& s : p.series) n = std::max(n, s.values.size());
  }
  const double x_end = chart.x_start + chart.x_step * static_cast<double>(std::max<size_t>(n, 1));
  const double x_span = x_end - chart.x_start;
  auto px = [&](double x) { return kLeft + (x - chart.x_start) / x_span * plot_w; };

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << chart.width << "\" height=\""
    << height << "\" viewBox=\"0 0 " << chart.width << " " << height
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << kLeft << "\" y=\"22\" font-size=\"16\" font-weight=\"bold\">"
    << Escape(chart.title) << "</text>\n";
  if (!chart.subtitle.empty()) {
    o << "<text x=\"" << kLeft << "\" y=\"40\" fill=\"#555\">" << Escape(chart.subtitle)
      << "</text>\n";
  }
  const double x_tick = NiceStep(x_span, 10);

  for (int pi = 0; pi < n_panels; ++pi) {
    const ChartPanel& panel = chart.panels[static_cast<size_t>(pi)];
    const int top = kTop + pi * (chart.panel_height + kGap);
    const int bottom = top + chart.panel_height;
    double y_max = 0;
    for (const auto& s : panel.series) {
      for (double v : s.values) y_max = std::max(y_max, v);
    }
    const double y_tick = NiceStep(y_max > 0 ? y_max : 1, 5);
    const double y_top = std::max(y_tick, std::ceil(y_max / y_tick) * y_tick);
    auto py = [&](double y) { return bottom - y / y_top * chart.panel_height; };

    o << "<g>\n<text x=\"" << kLeft << "\" y=\"" << top - 8 << "\" font-weight=\"bold\">"
      << Escape(panel.title) << "</text>\n";
    // Grid and y ticks.
    for (double y = 0; y <= y_top + y_tick * 1e-6; y += y_tick) {
      o << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + plot_w << "\" y1=\"" << Num(py(y))
        << "\" y2=\"" << Num(py(y)) << "\" stroke=\"#e5e5e5\"/>\n";
      o << "<text x=\"" << kLeft - 6 << "\" y=\"" << Num(py(y) + 4)
        << "\" text-anchor=\"end\" fill=\"#333\">" << TickLabel(y, y_tick) << "</text>\n";
    }
    for (double x = std::ceil(chart.x_start / x_tick) * x_tick; x <= x_end + 1e-9; x += x_tick) {
      o << "<line x1=\"" << Num(px(x)) << "\" x2=\"" << Num(px(x)) << "\" y1=\"" << top
        << "\" y2=\"" << bottom << "\" stroke=\"#f0f0f0\"/>\n";
      o << "<text x=\"" << Num(px(x)) << "\" y=\"" << bottom + 16
        << "\" text-anchor=\"middle\" fill=\"#333\">" << TickLabel(x, x_tick) << "</text>\n";
    }
    // Axes and the y label.
    o << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft << "\" y1=\"" << top << "\" y2=\"" << bottom
      << "\" stroke=\"#333\"/>\n";
    o << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + plot_w << "\" y1=\"" << bottom
      << "\" y2=\"" << bottom << "\" stroke=\"#333\"/>\n";
    o << "<text transform=\"translate(" << 18 << "," << (top + bottom) / 2
      << ") rotate(-90)\" text-anchor=\"middle\">" << Escape(panel.y_label) << "</text>\n";

    // Series, reduced to the max per pixel column.
    for (size_t si = 0; si < panel.series.size(); ++si) {
      const ChartSeries& s = panel.series[si];
      const std::string color = s.color.empty() ? kPalette[si % std::size(kPalette)] : s.color;
      const size_t m = s.values.size();
      if (m == 0) continue;
      const size_t buckets = std::min<size_t>(m, static_cast<size_t>(plot_w));
      o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.5\""
        << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"";
      double prev_y = 0;
      for (size_t b = 0; b < buckets; ++b) {
        const size_t from = b * m / buckets, to = std::max(from + 1, (b + 1) * m / buckets);
        double v = s.values[from];
        for (size_t i = from; i < to; ++i) v = std::max(v, s.values[i]);
        const double x0 = chart.x_start + chart.x_step * static_cast<double>(from);
        const double x1 = chart.x_start + chart.x_step * static_cast<double>(to);
        if (s.step) {
          if (b > 0) o << Num(px(x0)) << "," << Num(py(prev_y)) << " ";
          o << Num(px(x0)) << "," << Num(py(v)) << " " << Num(px(x1)) << "," << Num(py(v)) << " ";
        } else {
          o << Num(px((x0 + x1) / 2)) << "," << Num(py(v)) << " ";
        }
        prev_y = v;
      }
      o << "\"/>\n";
    }
    // Legend, top-right over a light box, one line per series, drawn above the lines.
    const int lx = kLeft + plot_w - kLegendWidth;
    o << "<rect x=\"" << lx - 8 << "\" y=\"" << top + 2 << "\" width=\"" << kLegendWidth
      << "\" height=\"" << 16 * panel.series.size() + 8
      << "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n";
    for (size_t si = 0; si < panel.series.size(); ++si) {
      const ChartSeries& s = panel.series[si];
      const std::string color = s.color.empty() ? kPalette[si % std::size(kPalette)] : s.color;
      const int ly = top + 18 + static_cast<int>(si) * 16;
      o << "<line x1=\"" << lx << "\" x2=\"" << lx + 24 << "\" y1=\"" << ly - 4 << "\" y2=\""
        << ly - 4 << "\" stroke=\"" << color << "\" stroke-width=\"2\""
        << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << "/>\n";
      o << "<text x=\"" << lx + 30 << "\" y=\"" << ly << "\">" << Escape(s.label) << "</text>\n";
    }
    o << "</g>\n";
  }
  const int last_bottom = kTop + n_panels * chart.panel_height + (n_panels - 1) * kGap;
  o << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << last_bottom + 36
    << "\" text-anchor=\"middle\">" << Escape(chart.x_label) << "</text>\n";
  o << "</svg>\n";
  return o.str();
}

}  // namespace kafka_autoscaler::sim
