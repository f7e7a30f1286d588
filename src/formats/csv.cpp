#include "formats/csv.h"

#include <algorithm>

#include "common/text.h"

namespace esar::formats {

Result<std::vector<CsvRow>> ParseCsv(std::string_view text, const std::string& file) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (!IsValidUtf8(text)) {
    return Status::InvalidInput("ไฟล์ไม่ได้เข้ารหัสเป็น UTF-8 ที่ถูกต้อง", "the file is not valid UTF-8",
                                {file, "", 0});
  }
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  int line = 1;
  row.line = 1;
  size_t i = 0;
  bool field_started = false;
  auto end_record = [&]() {
    row.fields.push_back(std::move(field));
    field.clear();
    const bool blank = row.fields.size() == 1 && row.fields[0].empty();
    if (!blank) rows.push_back(std::move(row));
    row = CsvRow{};
    field_started = false;
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"' && !field_started) {
      const int opened = line;
      ++i;
      while (true) {
        if (i >= text.size()) {
          return Status::InvalidInput("เครื่องหมายคำพูด (\") ที่เปิดไว้ไม่ได้ปิด",
                                      "a quote (\") opened here is never closed",
                                      {file, "", opened});
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field += text[i++];
      }
      field_started = true;
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        return Status::InvalidInput("มีข้อความต่อท้ายเครื่องหมายคำพูดปิด", "text follows a closing quote",
                                    {file, "", line});
      }
      continue;
    }
    if (c == ',') {
      row.fields.push_back(std::move(field));
      field.clear();
      field_started = false;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      end_record();
      ++line;
      row.line = line;
      continue;
    }
    field += c;
    field_started = true;
    ++i;
  }
  if (field_started || !row.fields.empty()) end_record();
  return rows;
}

Result<CsvTable> CsvTable::Parse(std::string_view text, const std::string& file,
                                 const std::vector<std::string>& required) {
  auto rows = ParseCsv(text, file);
  if (!rows) return rows.status();
  if (rows->empty()) {
    return Status::InvalidInput("ไฟล์ว่างเปล่า ต้องมีแถวหัวตาราง",
                                "the file is empty; it needs a header row", {file, "", 0});
  }
  CsvTable table;
  table.header_ = std::move(rows->front().fields);
  for (std::string& h : table.header_) {
    h.erase(0, h.find_first_not_of(" \t"));
    h.erase(h.find_last_not_of(" \t") + 1);
  }
  for (const std::string& name : required) {
    if (!table.HasColumn(name)) {
      std::string all;
      for (const std::string& r : required) all += (all.empty() ? "" : ",") + r;
      return Status::InvalidInput("ไม่มีคอลัมน์ \"" + name + "\" ในแถวหัวตาราง (ต้องมี " + all + ")",
                                  "the header has no column \"" + name + "\" (needs " + all + ")",
                                  {file, "", 1});
    }
  }
  table.rows_.assign(std::make_move_iterator(rows->begin() + 1),
                     std::make_move_iterator(rows->end()));
  for (const CsvRow& row : table.rows_) {
    if (row.fields.size() > table.header_.size()) {
      return Status::InvalidInput(
          "แถวนี้มี " + std::to_string(row.fields.size()) + " ช่อง มากกว่าหัวตาราง (" +
              std::to_string(table.header_.size()) + ")",
          "this row has " + std::to_string(row.fields.size()) + " fields, more than the header's " +
              std::to_string(table.header_.size()),
          {file, "", row.line});
    }
  }
  return table;
}

const std::string& CsvTable::Field(const CsvRow& row, const std::string& name) const {
  static const std::string kEmpty;
  auto it = std::find(header_.begin(), header_.end(), name);
  if (it == header_.end()) return kEmpty;
  const auto index = static_cast<size_t>(it - header_.begin());
  return index < row.fields.size() ? row.fields[index] : kEmpty;
}

bool CsvTable::HasColumn(const std::string& name) const {
  return std::find(header_.begin(), header_.end(), name) != header_.end();
}

std::string CsvEscape(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace esar::formats
