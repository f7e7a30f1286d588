#pragma once

// Tables out as spreadsheets people pass around: CSV (UTF-8 with a byte order mark, so that
// Excel opens Thai as Thai) and XLSX (libxlsxwriter, in its constant-memory mode: each row goes
// to disk as it is written, so a round of 8,000 agencies never sits in memory). Both write to a
// file; the caller streams or keeps it. Text that a spreadsheet would run as a formula is
// neutralised in both (an agency's name or a comment beginning with "=" is someone's input).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace esar::formats {

// One cell of a row: nothing, text, or a number.
struct Cell {
  enum class Kind { kEmpty, kText, kNumber };
  Kind kind = Kind::kEmpty;
  std::string text;
  double number = 0;

  static Cell Text(std::string text) { return {Kind::kText, std::move(text), 0}; }
  static Cell Number(double value) { return {Kind::kNumber, {}, value}; }
  // A number when there is one, else an empty cell.
  static Cell MaybeNumber(std::optional<double> value) { return value ? Number(*value) : Cell{}; }
};

// `text` with a single quote put first when a spreadsheet would read it as a formula or
// command: it begins with = + - @, a tab or a carriage return (OWASP's CSV injection advice).
// Other text is returned as it is.
std::string NeutralizeFormula(std::string_view text);

// The text NeutralizeFormula was given, for a file esar wrote that comes back to it (the
// agencies list, exported, edited and imported again): one leading single quote before
// = + - @, a tab or a carriage return is taken off. Other text is returned as it is.
std::string RestoreNeutralized(std::string_view text);

enum class SheetFormat { kCsv, kXlsx };

// "csv" or "xlsx" (the ?format= of a download); InvalidInput in Thai and English otherwise.
Result<SheetFormat> ParseSheetFormat(std::string_view name);
// The media type of a download ("text/csv; charset=utf-8" or the XLSX one) and its extension
// without the dot.
const char* SheetMediaType(SheetFormat format);
const char* SheetExtension(SheetFormat format);

// A column: its heading (both languages in one cell, "รหัส / Code") and, for XLSX, its width
// in characters and the number format of its numbers ("" = general, e.g. "0.00").
struct Column {
  std::string heading;
  double width = 14;
  std::string number_format;
};

// Writes tables to the file at `path`, one row at a time. Not thread-safe.
class TableWriter {
 public:
  virtual ~TableWriter() = default;

  // Starts a sheet (XLSX: a worksheet named `name`, at most 31 characters, heading row frozen
  // and filtered; CSV: the heading row; a CSV file holds one sheet, so a second is kInternal).
  virtual Status BeginSheet(const std::string& name, const std::vector<Column>& columns) = 0;
  // Adds a row to the current sheet; cells beyond the columns are kInternal. Text cells are
  // neutralised (NeutralizeFormula) and written as text, never as formulas.
  virtual Status AddRow(const std::vector<Cell>& cells) = 0;
  // Completes the file; nothing may be written after. IoError when the disk refused it.
  virtual Status Finish() = 0;

  // A writer of `format` to `path` (created or truncated). IoError when it cannot be created.
  static Result<std::unique_ptr<TableWriter>> Create(SheetFormat format, const std::string& path);
};

// A temporary file for a spreadsheet being made, removed when this object goes (unless the
// file was taken by Release). Not copyable.
class TempFile {
 public:
  // Creates an empty file in the system's temporary folder ($TMPDIR or /tmp) named after
  // `stem`; IoError when it cannot.
  static Result<TempFile> Create(const std::string& stem);
  TempFile(TempFile&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  ~TempFile();
  const std::string& path() const { return path_; }
  // Opens the file for reading and removes its name: the open descriptor (returned, >= 0) keeps
  // the bytes until it is closed. IoError when it cannot be opened.
  Result<int> OpenAndUnlink();

 private:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace esar::formats
