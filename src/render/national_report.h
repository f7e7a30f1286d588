#pragma once

// The national annual report (seed 001's kind of content): highlights in short sentences, then
// parts each with a table and, where a picture helps, a bar chart drawn as vectors from the same
// figures. Written as PDF (pango + cairo) and as XLSX (libxlsxwriter: one sheet per part, figures
// as numbers). Every text arrives in the reader's language.

#include <string>
#include <vector>

#include "common/status.h"
#include "render/agency_report.h"
#include "render/pdf_document.h"

namespace esar::render {

// Horizontal bars, one per label; with several series the bars are stacked (a legend names
// them). Values are drawn to scale against `max` (the largest bar when 0).
struct BarChart {
  std::vector<std::string> labels;
  std::vector<std::string> series;            // names, for the legend (one: no legend)
  std::vector<std::vector<double>> values;    // [label][series]
  std::vector<std::string> value_texts;       // printed at each bar's end (may be empty)
  double max = 0;
};

struct NationalPart {
  Section section;      // heading, paragraphs, and the table with the same figures
  BarChart chart;       // no labels: no chart
  std::string sheet;    // the XLSX sheet's name (at most 31 characters)
};

struct NationalReport {
  DocumentOptions document;
  std::string title;
  std::string subtitle;
  std::string highlights_heading;
  std::vector<std::string> highlights;  // the sentences generated from the figures
  std::string summary_sheet;            // the XLSX sheet of the title and highlights
  std::vector<NationalPart> parts;
};

// The PDF; kInternal when cairo fails.
Result<std::string> RenderNationalReportPdf(const NationalReport& report);

// The XLSX: the highlights on the first sheet, then a sheet per part with its table (cells of
// numeric columns written as numbers when they read as one: "1,234.50", "+2.10", "72%").
// kIoError when the temporary file cannot be written or read back.
Result<std::string> RenderNationalReportXlsx(const NationalReport& report);

}  // namespace esar::render
