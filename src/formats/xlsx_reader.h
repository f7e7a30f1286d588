#pragma once

// Reading XLSX files people upload (an agency's filled template, an admin's agencies or data):
// the cells' text, sheet by sheet, and nothing else (no styles, no formulas evaluated).
//
// Built on libzip (the ZIP container) and expat (the XML parts), both packaged and maintained in
// Debian 12 (libzip-dev 1.7, libexpat1-dev 2.5) and already used by half the distribution. No
// packaged C or C++ library reads XLSX itself (xlnt, OpenXLSX and libxls are not in Debian 12;
// libxls reads only the old .xls), and both pieces let us bound every step: libzip tells the
// sizes an entry declares and hands its bytes as they inflate, expat parses them as they come
// (a part is never held whole) and lets us refuse any DTD, which rules out entity expansion and
// external entities altogether.
//
// A hostile file is refused with InvalidInput in Thai and English before it costs much: too many
// entries; an entry that declares or inflates past its bound, or inflates to more than it
// declared; too compressed (a zip bomb); encrypted or compressed by another method; a DTD or an
// entity declaration in any part; too many sheets, rows, columns, cells or shared strings, or a
// cell's text too long.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace esar::formats {

struct XlsxLimits {
  int64_t max_entries = 1'000;                   // entries in the ZIP directory
  int64_t max_part_bytes = int64_t{64} << 20;    // one XML part once inflated
  int64_t max_total_bytes = int64_t{160} << 20;  // all the parts read, once inflated
  int64_t max_ratio = 100;                       // inflated : compressed, for a part...
  int64_t ratio_floor_bytes = int64_t{1} << 20;  // ...larger than this once inflated
  int64_t max_sheets = 32;
  int64_t max_rows = 1'000'000;    // over all sheets
  int64_t max_cells = 5'000'000;   // over all sheets, empty ones not counted
  int64_t max_columns = 256;       // a cell beyond column IV is refused
  int64_t max_shared_strings = 1'000'000;
  int64_t max_text_bytes = int64_t{32} << 20;  // shared strings and inline texts together
  int64_t max_cell_bytes = 32 * 1024;          // one cell's text (Excel's own limit)
};

// One row that has cells: its 1-based number in the sheet and its cells' text by column
// (index 0 = column A; "" for a cell absent or empty).
struct XlsxRow {
  int64_t number = 0;
  std::vector<std::string> cells;
  // The text of column `col` (0-based), or "" beyond the row's last cell.
  const std::string& Cell(size_t col) const;
};

struct XlsxSheet {
  std::string name;
  std::vector<XlsxRow> rows;  // in the order of their numbers; empty rows left out
};

struct XlsxWorkbook {
  std::vector<XlsxSheet> sheets;  // in the workbook's order
  // The sheet named `name`, or null.
  const XlsxSheet* Find(const std::string& name) const;
};

// Every sheet's cells of the XLSX file held in `bytes`, under `limits`. A cell's text is: a
// shared or inline string as written; a number as its stored decimal text ("94.36", "1E-3");
// a boolean as "1" or "0"; an error as its code ("#N/A"); a formula as its last computed value,
// or "=" and the formula when the file holds none (so that a caller refusing it can say which).
// Fails with InvalidInput (Thai and English) on anything that is not a readable XLSX file or
// passes a limit, naming the part, sheet or cell.
Result<XlsxWorkbook> ReadXlsx(std::string_view bytes, const XlsxLimits& limits = {});

// True when `bytes` begin like a ZIP archive ("PK\3\4"), as every XLSX file does.
bool LooksLikeXlsx(std::string_view bytes);

// The spreadsheet name of column `col` (0-based): 0 -> "A", 25 -> "Z", 26 -> "AA".
std::string ColumnName(size_t col);

// `sheet` as CSV text whose line numbers are the sheet's row numbers (rows absent are blank
// lines, which CSV readers skip), so that a CSV reader's "line 12" is the sheet's row 12.
std::string SheetToCsv(const XlsxSheet& sheet);

}  // namespace esar::formats
