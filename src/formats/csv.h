#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace esar::formats {

struct CsvRow {
  int line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

// Reads RFC 4180 CSV: comma-separated, fields optionally in double quotes (a quote inside is
// doubled), quoted fields may span lines, CRLF or LF, an optional UTF-8 byte order mark.
// Blank lines are skipped. Fails on broken UTF-8, a quote left open, or text after a closing
// quote, naming the line.
//
// (Written here rather than taken from libcsv: the RFC is small, and we need line numbers for
// every message, which libcsv's callback interface does not give.)
Result<std::vector<CsvRow>> ParseCsv(std::string_view text, const std::string& file);

// A CSV table with a header row: columns found by name.
class CsvTable {
 public:
  // Fails when the text is not CSV, has no header, or lacks any of `required` columns.
  static Result<CsvTable> Parse(std::string_view text, const std::string& file,
                                const std::vector<std::string>& required);

  const std::vector<CsvRow>& rows() const { return rows_; }
  // The field of column `name` in `row`, or "" when the column or field is absent.
  const std::string& Field(const CsvRow& row, const std::string& name) const;
  bool HasColumn(const std::string& name) const;

 private:
  std::vector<std::string> header_;
  std::vector<CsvRow> rows_;
};

// `field` quoted for CSV when it needs to be.
std::string CsvEscape(const std::string& field);

}  // namespace esar::formats
