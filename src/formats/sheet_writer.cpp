#include "formats/sheet_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "common/text.h"
#include "formats/csv.h"

namespace esar::formats {

namespace {

Status WriteFailed(const std::string& path, const std::string& why) {
  return Status::IoError("เขียนไฟล์ตาราง " + path + " ไม่ได้: " + why,
                         "cannot write the spreadsheet " + path + ": " + why);
}

// At most `bytes` bytes of the UTF-8 text `s`, cut before a character, with "…" when cut: an
// XLSX cell holds at most 32,767 characters (an audit entry's JSON can hold more).
std::string FitCell(const std::string& s, size_t bytes = 32000) {
  if (s.size() <= bytes) return s;
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + "…";
}

class CsvWriter final : public TableWriter {
 public:
  explicit CsvWriter(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  ~CsvWriter() override {
    if (file_) std::fclose(file_);
  }

  Status BeginSheet(const std::string&, const std::vector<Column>& columns) override {
    if (begun_) return Status::Internal("a CSV file holds one sheet");
    begun_ = true;
    columns_ = columns.size();
    // The byte order mark: without it Excel reads UTF-8 as the machine's code page.
    line_ = "\xEF\xBB\xBF";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i) line_ += ',';
      line_ += CsvEscape(NeutralizeFormula(columns[i].heading));
    }
    return Flush();
  }

  Status AddRow(const std::vector<Cell>& cells) override {
    if (!begun_ || cells.size() > columns_) return Status::Internal("a CSV row beyond its columns");
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) line_ += ',';
      const Cell& c = cells[i];
      if (c.kind == Cell::Kind::kText) line_ += CsvEscape(NeutralizeFormula(c.text));
      // Numbers are data, never neutralised: "-5" stays a number Excel can sum.
      if (c.kind == Cell::Kind::kNumber) line_ += ShortestDecimal(c.number);
    }
    return Flush();
  }

  Status Finish() override {
    std::FILE* f = file_;
    file_ = nullptr;
    if (std::fflush(f) != 0 || std::ferror(f)) {
      std::fclose(f);
      return WriteFailed(path_, std::strerror(errno));
    }
    if (std::fclose(f) != 0) return WriteFailed(path_, std::strerror(errno));
    return Status::Ok();
  }

 private:
  Status Flush() {
    line_ += "\r\n";  // RFC 4180's line end, which Excel expects
    if (!file_ || std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size())
      return WriteFailed(path_, std::strerror(errno));
    line_.clear();
    return Status::Ok();
  }

  std::FILE* file_;
  std::string path_;
  bool begun_ = false;
  size_t columns_ = 0;
  std::string line_;
};

class XlsxWriter final : public TableWriter {
 public:
  XlsxWriter(lxw_workbook* book, std::string path) : book_(book), path_(std::move(path)) {
    heading_ = workbook_add_format(book_);
    format_set_bold(heading_);
    format_set_text_wrap(heading_);
    format_set_align(heading_, LXW_ALIGN_VERTICAL_TOP);
    format_set_bg_color(heading_, 0xE8EEF7);
  }
  ~XlsxWriter() override {
    // A workbook never finished is closed (its temporary files go) into a file nobody uses.
    if (book_) workbook_close(book_);
  }

  Status BeginSheet(const std::string& name, const std::vector<Column>& columns) override {
    sheet_ = workbook_add_worksheet(book_, name.c_str());
    if (!sheet_) return Status::Internal("libxlsxwriter refused the sheet name " + name);
    formats_.clear();
    for (size_t i = 0; i < columns.size(); ++i) {
      lxw_format* f = nullptr;
      if (!columns[i].number_format.empty()) {
        auto& shared = by_format_[columns[i].number_format];
        if (!shared) {
          shared = workbook_add_format(book_);
          format_set_num_format(shared, columns[i].number_format.c_str());
        }
        f = shared;
      }
      formats_.push_back(f);
      const auto col = static_cast<lxw_col_t>(i);
      worksheet_set_column(sheet_, col, col, columns[i].width, nullptr);
    }
    row_ = 0;
    for (size_t i = 0; i < columns.size(); ++i) {
      const std::string heading = NeutralizeFormula(columns[i].heading);
      worksheet_write_string(sheet_, 0, static_cast<lxw_col_t>(i), heading.c_str(), heading_);
    }
    if (!columns.empty()) {
      worksheet_freeze_panes(sheet_, 1, 0);
      worksheet_autofilter(sheet_, 0, 0, 0, static_cast<lxw_col_t>(columns.size() - 1));
    }
    return Status::Ok();
  }

  Status AddRow(const std::vector<Cell>& cells) override {
    if (!sheet_ || cells.size() > formats_.size())
      return Status::Internal("an XLSX row beyond its columns");
    if (row_ + 1 >= LXW_ROW_MAX) {
      return Status::InvalidInput("ตารางยาวเกินที่ Excel รับได้ (1,048,576 แถว)",
                                  "the table is longer than Excel allows (1,048,576 rows)");
    }
    ++row_;
    for (size_t i = 0; i < cells.size(); ++i) {
      const Cell& c = cells[i];
      const auto col = static_cast<lxw_col_t>(i);
      lxw_error e = LXW_NO_ERROR;
      if (c.kind == Cell::Kind::kText) {
        if (c.text.empty()) continue;
        // A string cell, never a formula; neutralised all the same, for whoever copies it out.
        const std::string text = FitCell(NeutralizeFormula(c.text));
        e = worksheet_write_string(sheet_, row_, col, text.c_str(), nullptr);
      } else if (c.kind == Cell::Kind::kNumber) {
        e = worksheet_write_number(sheet_, row_, col, c.number, formats_[i]);
      }
      if (e != LXW_NO_ERROR) return WriteFailed(path_, lxw_strerror(e));
    }
    return Status::Ok();
  }

  Status Finish() override {
    lxw_workbook* book = book_;
    book_ = nullptr;
    const lxw_error e = workbook_close(book);
    if (e != LXW_NO_ERROR) return WriteFailed(path_, lxw_strerror(e));
    return Status::Ok();
  }

 private:
  lxw_workbook* book_;
  std::string path_;
  lxw_format* heading_ = nullptr;
  lxw_worksheet* sheet_ = nullptr;
  lxw_row_t row_ = 0;
  std::vector<lxw_format*> formats_;              // per column of the current sheet
  std::map<std::string, lxw_format*> by_format_;  // owned by the workbook
};

}  // namespace

std::string NeutralizeFormula(std::string_view text) {
  if (!text.empty()) {
    const char c = text.front();
    if (c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r')
      return "'" + std::string(text);
  }
  return std::string(text);
}

std::string RestoreNeutralized(std::string_view text) {
  if (text.size() >= 2 && text.front() == '\'') {
    const char c = text[1];
    if (c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r')
      return std::string(text.substr(1));
  }
  return std::string(text);
}

Result<SheetFormat> ParseSheetFormat(std::string_view name) {
  if (name == "csv") return SheetFormat::kCsv;
  if (name == "xlsx") return SheetFormat::kXlsx;
  return Status::InvalidInput("format ต้องเป็น csv หรือ xlsx", "format must be csv or xlsx");
}

const char* SheetMediaType(SheetFormat format) {
  return format == SheetFormat::kCsv
             ? "text/csv; charset=utf-8"
             : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
}

const char* SheetExtension(SheetFormat format) {
  return format == SheetFormat::kCsv ? "csv" : "xlsx";
}

Result<std::unique_ptr<TableWriter>> TableWriter::Create(SheetFormat format,
                                                         const std::string& path) {
  if (format == SheetFormat::kCsv) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return WriteFailed(path, std::strerror(errno));
    return std::unique_ptr<TableWriter>(new CsvWriter(f, path));
  }
  // constant_memory: each row is flushed to a temporary file as the next begins, and strings
  // are written in place rather than into a shared table held until the end.
  lxw_workbook_options options = {};
  options.constant_memory = LXW_TRUE;
  options.use_zip64 = LXW_FALSE;
  lxw_workbook* book = workbook_new_opt(path.c_str(), &options);
  if (!book) return WriteFailed(path, "libxlsxwriter");
  return std::unique_ptr<TableWriter>(new XlsxWriter(book, path));
}

Result<TempFile> TempFile::Create(const std::string& stem) {
  const char* dir = std::getenv("TMPDIR");
  std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/esar-" + stem + "-XXXXXX";
  const int fd = mkstemp(pattern.data());
  if (fd < 0) return WriteFailed(pattern, std::strerror(errno));
  ::close(fd);
  return TempFile(pattern);
}

TempFile::~TempFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

Result<int> TempFile::OpenAndUnlink() {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return WriteFailed(path_, std::strerror(errno));
  ::unlink(path_.c_str());
  path_.clear();
  return fd;
}

}  // namespace esar::formats
