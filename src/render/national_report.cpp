#include "render/national_report.h"

#include <pango/pangocairo.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace esar::render {

namespace {

// Colours that stay apart in grey print as well (dark to light).
constexpr double kPalette[][3] = {{0.12, 0.37, 0.66}, {0.40, 0.64, 0.86}, {0.96, 0.65, 0.14},
                                  {0.80, 0.33, 0.20}, {0.55, 0.55, 0.55}, {0.30, 0.60, 0.30}};

void Text(cairo_t* cr, PangoLayout* layout, const std::string& text, double x, double y,
          double width, PangoAlignment align) {
  pango_layout_set_text(layout, text.data(), static_cast<int>(text.size()));
  pango_layout_set_width(layout, static_cast<int>(width * PANGO_SCALE));
  pango_layout_set_alignment(layout, align);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, layout);
}

constexpr double kRow = 17;     // points per bar
constexpr double kLegend = 18;  // the legend's line

constexpr double kLegendItem = 112;  // points per legend entry
constexpr double kTextWidth = 453;   // the document's text width (A4 less the margins)

// The legend's lines: as many entries a line as the width holds.
double LegendLines(const BarChart& chart) {
  if (chart.series.size() <= 1) return 0;
  const double per_line = std::max(1.0, std::floor(kTextWidth / kLegendItem));
  return std::ceil(static_cast<double>(chart.series.size()) / per_line);
}

double ChartHeightMm(const BarChart& chart) {
  const double points =
      static_cast<double>(chart.labels.size()) * kRow + 8 + LegendLines(chart) * kLegend;
  return points * 25.4 / 72.0;
}

void DrawChart(const BarChart& chart, cairo_t* cr, double width, double /*height*/) {
  PangoLayout* layout = pango_cairo_create_layout(cr);
  PangoFontDescription* font = pango_font_description_from_string("Laksaman 11");
  pango_layout_set_font_description(layout, font);
  pango_font_description_free(font);
  pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
  double y = 0;
  if (chart.series.size() > 1) {
    double x = 0;
    for (size_t s = 0; s < chart.series.size(); ++s) {
      if (x > 0 && x + kLegendItem > width) {
        x = 0;
        y += kLegend;
      }
      const double* c = kPalette[s % 6];
      cairo_set_source_rgb(cr, c[0], c[1], c[2]);
      cairo_rectangle(cr, x, y + 4, 9, 9);
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 0, 0, 0);
      Text(cr, layout, chart.series[s], x + 12, y, kLegendItem - 16, PANGO_ALIGN_LEFT);
      x += kLegendItem;
    }
    y += kLegend;
  }
  const double label_width = width * 0.34;
  const double value_width = 48;
  const double bar_width = width - label_width - value_width - 8;
  double max = chart.max;
  for (const auto& values : chart.values) {
    double sum = 0;
    for (double v : values) sum += std::max(v, 0.0);
    max = chart.max > 0 ? max : std::max(max, sum);
  }
  if (max <= 0) max = 1;
  // The axis.
  cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
  cairo_set_line_width(cr, 0.6);
  cairo_move_to(cr, label_width + 4, y);
  cairo_line_to(cr, label_width + 4, y + static_cast<double>(chart.labels.size()) * kRow);
  cairo_stroke(cr);
  for (size_t i = 0; i < chart.labels.size(); ++i) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    Text(cr, layout, chart.labels[i], 0, y + 1, label_width, PANGO_ALIGN_RIGHT);
    double x = label_width + 4;
    const std::vector<double> values = i < chart.values.size() ? chart.values[i] : std::vector<double>{};
    for (size_t s = 0; s < values.size(); ++s) {
      const double w = std::max(values[s], 0.0) / max * bar_width;
      const double* c = kPalette[s % 6];
      cairo_set_source_rgb(cr, c[0], c[1], c[2]);
      cairo_rectangle(cr, x, y + 3, w, kRow - 6);
      cairo_fill(cr);
      x += w;
    }
    if (i < chart.value_texts.size()) {
      cairo_set_source_rgb(cr, 0, 0, 0);
      Text(cr, layout, chart.value_texts[i], x + 3, y + 1, value_width, PANGO_ALIGN_LEFT);
    }
    y += kRow;
  }
  g_object_unref(layout);
}

// A cell's text as a number, when the whole of it reads as one ("1,234.5", "+2.10", "72%").
bool AsNumber(const std::string& text, double* out) {
  std::string clean;
  for (char c : text) {
    if (c != ',' && c != '%' && c != ' ') clean += c;
  }
  if (clean.empty() || clean == "-" || clean == "+") return false;
  char* end = nullptr;
  *out = std::strtod(clean.c_str(), &end);
  return end && *end == '\0';
}

}  // namespace

Result<std::string> RenderNationalReportPdf(const NationalReport& report) {
  PdfDocument doc(report.document);
  doc.Paragraph(report.title, {.size_pt = 22, .bold = true, .align = TextStyle::Align::kCenter});
  doc.Paragraph(report.subtitle, {.size_pt = 18, .align = TextStyle::Align::kCenter});
  doc.Space(4);
  if (!report.highlights.empty()) {
    doc.Heading(report.highlights_heading, 2);
    doc.List(report.highlights, false);
  }
  for (const NationalPart& part : report.parts) {
    if (!part.chart.labels.empty()) {
      doc.Heading(part.section.heading, 2);
      for (const std::string& p : part.section.paragraphs) doc.Paragraph(p);
      const BarChart chart = part.chart;
      doc.Chart(ChartHeightMm(chart),
                [chart](cairo_t* cr, double w, double h) { DrawChart(chart, cr, w, h); });
      doc.Space(2);
      Section table_only = part.section;
      table_only.heading.clear();
      table_only.paragraphs.clear();
      AddSection(doc, table_only);
    } else {
      AddSection(doc, part.section, 2);
    }
  }
  return doc.Finish();
}

Result<std::string> RenderNationalReportXlsx(const NationalReport& report) {
  char path[] = "/tmp/esar-national-XXXXXX.xlsx";
  const int fd = mkstemps(path, 5);
  if (fd < 0) return Status::IoError("สร้างแฟ้มชั่วคราวไม่ได้", "could not create a temporary file");
  close(fd);
  lxw_workbook* book = workbook_new(path);
  if (!book) {
    std::remove(path);
    return Status::IoError("สร้างแฟ้ม XLSX ไม่ได้", "could not create the XLSX file");
  }
  lxw_format* bold = workbook_add_format(book);
  format_set_bold(bold);
  lxw_format* head = workbook_add_format(book);
  format_set_bold(head);
  format_set_bg_color(head, 0xE6EBF2);
  format_set_text_wrap(head);
  lxw_format* number = workbook_add_format(book);
  format_set_num_format(number, "#,##0.00");
  lxw_worksheet* summary = workbook_add_worksheet(book, report.summary_sheet.c_str());
  if (!summary) {
    workbook_close(book);
    std::remove(path);
    return Status::Internal("libxlsxwriter refused the sheet name " + report.summary_sheet);
  }
  worksheet_set_column(summary, 0, 0, 110, nullptr);
  worksheet_write_string(summary, 0, 0, report.title.c_str(), bold);
  worksheet_write_string(summary, 1, 0, report.subtitle.c_str(), nullptr);
  worksheet_write_string(summary, 3, 0, report.highlights_heading.c_str(), bold);
  lxw_row_t row = 4;
  for (const std::string& s : report.highlights)
    worksheet_write_string(summary, row++, 0, s.c_str(), nullptr);
  for (const NationalPart& part : report.parts) {
    const Table& t = part.section.table;
    lxw_worksheet* sheet = workbook_add_worksheet(book, part.sheet.c_str());
    if (!sheet) continue;
    worksheet_write_string(sheet, 0, 0, part.section.heading.c_str(), bold);
    for (size_t c = 0; c < t.columns.size(); ++c)
      worksheet_set_column(sheet, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                           c == 0 ? 45 : 14, nullptr);
    for (size_t c = 0; c < t.header.size(); ++c)
      worksheet_write_string(sheet, 2, static_cast<lxw_col_t>(c), t.header[c].c_str(), head);
    for (size_t r = 0; r < t.rows.size(); ++r) {
      for (size_t c = 0; c < t.rows[r].size(); ++c) {
        const auto at_row = static_cast<lxw_row_t>(r + 3);
        const auto at_col = static_cast<lxw_col_t>(c);
        double value = 0;
        if (c < t.columns.size() && t.columns[c].numeric && AsNumber(t.rows[r][c], &value)) {
          worksheet_write_number(sheet, at_row, at_col, value, number);
        } else {
          worksheet_write_string(sheet, at_row, at_col, t.rows[r][c].c_str(), nullptr);
        }
      }
    }
    worksheet_freeze_panes(sheet, 3, 1);
  }
  const lxw_error closed = workbook_close(book);
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::remove(path);
  if (closed != LXW_NO_ERROR || bytes.str().empty()) {
    return Status::IoError("เขียนแฟ้ม XLSX ไม่ได้", std::string("could not write the XLSX: ") +
                                                      lxw_strerror(closed));
  }
  return bytes.str();
}

}  // namespace esar::render
