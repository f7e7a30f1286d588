#pragma once

// The questions and answers of one cycle as a file (docs/formats.md §5.2, format "esar-qa/1"):
// what the central office answered before esar, e.g. seed 004's list for the provinces of
// fiscal years 2563 - 2564, loaded by `esar import questions`.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace esar::formats {

struct QaItem {
  int number = 0;        // as the office numbered it (1, 2, ...), unique in the file
  std::string question;  // trimmed, plain text
  std::string answer;
  std::string kpi;  // the KPI it concerns, "" for the cycle as a whole
};

struct QaFile {
  int fiscal_year = 0;   // Buddhist Era, the cycle's first year
  int through_year = 0;  // the last year the answers cover (= fiscal_year for one year)
  std::string agency_kind;  // "province", "department", ...
  int64_t as_of_ms = 0;     // the date the list was current ("ข้อมูล ณ วันที่"), Bangkok midnight
  std::vector<QaItem> items;  // in file order
};

// The most text one question or answer may hold (bytes of UTF-8), in a file or asked in esar.
inline constexpr size_t kMaxQaTextBytes = 16 * 1024;
// The most items one file may hold.
inline constexpr size_t kMaxQaItems = 10'000;

// Parses `text` (from `file`, for messages) as an esar-qa/1 document. Every field is checked and
// unknown fields are refused, each problem named by its JSON path, in Thai and English: "format"
// must be "esar-qa/1"; "fiscal_year" a Buddhist Era year (2400 - 2800); "through_year" (optional)
// from fiscal_year to 5 years after; "agency_kind" 1 - 64 of a-z, 0-9, _ and -; "as_of" a date
// YYYY-MM-DD; "items" 1 - 10,000 objects with "number" (a positive whole number, unique),
// "question" and "answer" (plain text, not blank, at most 16 KB) and an optional "kpi" (1 - 32 of
// letters, digits, . _ -). The JSON limits of ParseJsonText apply.
Result<QaFile> ParseQaFile(const std::string& text, const std::string& file);
// ParseQaFile on the file at `path`.
Result<QaFile> LoadQaFile(const std::string& path);

// True for an agency kind as cycles name it: 1 - 64 of a-z, 0-9, _ and -.
bool IsValidAgencyKind(const std::string& kind);
// True for a KPI id as frameworks write it ("4.1", "pmqa-1"): 1 - 32 of letters, digits, . _ -.
bool IsValidKpiId(const std::string& kpi);

}  // namespace esar::formats
