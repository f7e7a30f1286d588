#pragma once

// An agency's evaluation report (รายงานผลการประเมิน) as the PDF the central office hands on,
// laid out as seeds 000 and 002: the header (agency, "/ ministry", fiscal year and round, weight
// 100, the evaluation score and its summary), the result it was made from and where to check
// it, the KPI table, then per KPI its details, action plan, the table "ประเด็นการประเมิน |
// ผลการดำเนินงาน", the score's explanation and earlier years. Every text arrives already in
// the reader's language: this library knows layout, not the message catalog or the database.

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "render/pdf_document.h"

namespace esar::render {

// A titled part of the report: paragraphs, then a list, then a table, each optional.
struct Section {
  std::string heading;
  std::vector<std::string> paragraphs;
  std::vector<std::string> items;
  bool numbered = false;
  Table table;  // no columns: none
};

struct KpiPart {
  std::string heading;  // "ตัวชี้วัด 1 ความสำเร็จ..."
  std::string line;     // weight, result, score, status in one line
  std::vector<Section> sections;
};

struct AgencyReport {
  DocumentOptions document;  // title, footer (the verify line), page words, creation time
  std::string title;         // "รายงานผลการประเมิน"
  std::string agency;
  std::string ministry;  // shown as "/ ministry"; empty: no line
  std::string period;    // "ปีงบประมาณ พ.ศ. 2567 · รอบ 12 เดือน"
  Table figures;         // weight | score | summary, one row
  std::string summary;   // the summary sentence
  std::vector<std::string> provenance;  // the result it was made from, and where to check it
  Section total_trend;                  // earlier years of the total (no table: none)
  Section kpi_table;                    // every KPI with weight, result, score, weighted
  std::vector<KpiPart> kpis;
};

// The report as PDF bytes (A4, Laksaman 16 pt, page numbers, rows never split). kInternal when
// cairo fails.
Result<std::string> RenderAgencyReport(const AgencyReport& report);

// Adds `section` to `doc` (heading, paragraphs, list, table): shared with the national report.
void AddSection(PdfDocument& doc, const Section& section, int heading_level = 3);

}  // namespace esar::render
