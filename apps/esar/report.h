#pragma once

// `esar report`: the documents the central office hands on, written to files from a database:
// an agency's evaluation report as PDF, or every agency's of a round as one ZIP (`agency`), and
// the national annual report (`national`, PDF or XLSX).

#include <cstdint>
#include <string>

#include "common/text.h"

namespace esar::cli {

struct AgencyReportOptions {
  std::string db_url;
  int64_t round_id = 0;
  std::string agency;  // one agency's PDF; empty with `all`
  bool all = false;    // every agency of the round's publication, as one ZIP
  std::string output;  // the file written
  std::string base_url;  // before /verify/ in the line each PDF prints ("" for the bare path)
  int threads = 2;       // PDFs drawn at once for `all`, each with a connection of its own
};

struct NationalReportOptions {
  std::string db_url;
  int fiscal_year = 0;  // Buddhist Era
  int round = 12;
  std::string format = "pdf";  // or "xlsx"
  std::string output;
};

// Writes the national annual report of `fiscal_year` as PDF or XLSX to `output` in `lang`. Exit
// 0 when written, 2 when it cannot be (no published result that year, a write that failed).
int ReportNational(const NationalReportOptions& options, Lang lang);

// Writes the PDF (or ZIP) to `output` in `lang` (the documents' language and the messages').
// Exit 0 when written, 2 when it cannot be (no published result, an unknown agency, a write
// that failed: said on standard error).
int ReportAgency(const AgencyReportOptions& options, Lang lang);

}  // namespace esar::cli
