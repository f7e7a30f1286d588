#include "render/agency_report.h"

namespace esar::render {

void AddSection(PdfDocument& doc, const Section& section, int heading_level) {
  const bool empty = section.paragraphs.empty() && section.items.empty() &&
                     section.table.columns.empty();
  if (empty) return;
  if (!section.heading.empty()) doc.Heading(section.heading, heading_level);
  for (const std::string& p : section.paragraphs) doc.Paragraph(p);
  if (!section.items.empty()) doc.List(section.items, section.numbered);
  if (!section.table.columns.empty()) doc.AddTable(section.table);
  doc.Space(2);
}

Result<std::string> RenderAgencyReport(const AgencyReport& report) {
  PdfDocument doc(report.document);
  doc.Paragraph(report.title, {.size_pt = 20, .bold = true, .align = TextStyle::Align::kCenter});
  doc.Space(3);
  doc.Paragraph(report.agency, {.size_pt = 22, .bold = true});
  if (!report.ministry.empty()) doc.Paragraph("/ " + report.ministry, {.size_pt = 18});
  doc.Paragraph(report.period);
  doc.Space(2);
  doc.AddTable(report.figures);
  doc.Paragraph(report.summary);
  doc.Space(2);
  for (const std::string& line : report.provenance)
    doc.Paragraph(line, {.size_pt = 12, .gray = 0.25});
  doc.Space(2);
  AddSection(doc, report.total_trend, 2);
  AddSection(doc, report.kpi_table, 2);
  for (const KpiPart& kpi : report.kpis) {
    doc.PageBreak();
    doc.Heading(kpi.heading, 2);
    doc.Paragraph(kpi.line);
    doc.Space(1);
    for (const Section& s : kpi.sections) AddSection(doc, s);
  }
  return doc.Finish();
}

}  // namespace esar::render
