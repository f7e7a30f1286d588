#include "formats/xlsx_reader.h"

#include <expat.h>
#include <zip.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <memory>

#include "common/text.h"
#include "formats/csv.h"

namespace esar::formats {

namespace {

Status Refused(const std::string& th, const std::string& en) {
  return Status::InvalidInput("ไฟล์ XLSX ใช้ไม่ได้: " + th, "the XLSX file cannot be used: " + en);
}

// The local part of an element or attribute name from a parser made with XML_ParserCreateNS
// ("namespace|local").
std::string_view Local(const XML_Char* name) {
  std::string_view n(name);
  const size_t bar = n.rfind('|');
  return bar == std::string_view::npos ? n : n.substr(bar + 1);
}

// The value of attribute `local` among expat's name/value pairs, or null.
const XML_Char* Attribute(const XML_Char** attributes, std::string_view local) {
  for (size_t i = 0; attributes[i]; i += 2) {
    if (Local(attributes[i]) == local) return attributes[i + 1];
  }
  return nullptr;
}

// An expat parser for one part, with every DTD refused: no document type means no entity can
// be declared, so neither entity expansion ("billion laughs") nor external entities can occur.
// The handlers see start and end tags and character data; a handler that fails stops the parse.
class PartParser {
 public:
  using Start = std::function<Status(std::string_view, const XML_Char**)>;
  using End = std::function<Status(std::string_view)>;
  using Text = std::function<Status(std::string_view)>;

  PartParser(std::string part, Start start, End end, Text text)
      : part_(std::move(part)),
        start_(std::move(start)),
        end_(std::move(end)),
        text_(std::move(text)),
        parser_(XML_ParserCreateNS(nullptr, '|'), &XML_ParserFree) {
    XML_Parser p = parser_.get();
    XML_SetUserData(p, this);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetStartDoctypeDeclHandler(
        p, [](void* self, const XML_Char*, const XML_Char*, const XML_Char*, int) {
          static_cast<PartParser*>(self)->Fail(
              Refused("ส่วน " + static_cast<PartParser*>(self)->part_ + " มีการประกาศ DTD ซึ่งไม่อนุญาต",
                      "part " + static_cast<PartParser*>(self)->part_ +
                          " declares a DTD, which is refused"));
        });
    XML_SetEntityDeclHandler(p, [](void* self, const XML_Char*, int, const XML_Char*, int,
                                   const XML_Char*, const XML_Char*, const XML_Char*,
                                   const XML_Char*) {
      static_cast<PartParser*>(self)->Fail(
          Refused("ส่วน " + static_cast<PartParser*>(self)->part_ + " ประกาศ entity ซึ่งไม่อนุญาต",
                  "part " + static_cast<PartParser*>(self)->part_ +
                      " declares an entity, which is refused"));
    });
    XML_SetElementHandler(
        p,
        [](void* self, const XML_Char* name, const XML_Char** attributes) {
          auto* me = static_cast<PartParser*>(self);
          if (me->failed_) return;
          Status s = me->start_(Local(name), attributes);
          if (!s.ok()) me->Fail(s);
        },
        [](void* self, const XML_Char* name) {
          auto* me = static_cast<PartParser*>(self);
          if (me->failed_) return;
          Status s = me->end_(Local(name));
          if (!s.ok()) me->Fail(s);
        });
    XML_SetCharacterDataHandler(p, [](void* self, const XML_Char* s, int len) {
      auto* me = static_cast<PartParser*>(self);
      if (me->failed_ || !me->text_) return;
      Status st = me->text_(std::string_view(s, static_cast<size_t>(len)));
      if (!st.ok()) me->Fail(st);
    });
  }

  // Parses the next piece of the part (`last` for the end of it).
  Status Feed(std::string_view bytes, bool last) {
    if (failed_) return error_;
    const XML_Status s =
        XML_Parse(parser_.get(), bytes.data(), static_cast<int>(bytes.size()), last);
    if (failed_) return error_;
    if (s != XML_STATUS_OK) {
      const std::string why = XML_ErrorString(XML_GetErrorCode(parser_.get()));
      const std::string line = std::to_string(XML_GetCurrentLineNumber(parser_.get()));
      return Refused("XML ในส่วน " + part_ + " เสีย (บรรทัด " + line + "): " + why,
                     "the XML of part " + part_ + " is broken (line " + line + "): " + why);
    }
    return Status::Ok();
  }

 private:
  void Fail(Status s) {
    if (failed_) return;
    failed_ = true;
    error_ = std::move(s);
    XML_StopParser(parser_.get(), XML_FALSE);
  }

  std::string part_;
  Start start_;
  End end_;
  Text text_;
  std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser_;
  bool failed_ = false;
  Status error_;
};

// The archive, its limits and what has been inflated so far.
class Archive {
 public:
  explicit Archive(const XlsxLimits& limits) : limits_(limits) {}
  ~Archive() {
    if (zip_) zip_discard(zip_);
  }

  Status Open(std::string_view bytes) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (!source) return Damaged(zip_error_strerror(&error));
    // ZIP_CHECKCONS: the local headers must agree with the central directory, so that what
    // the directory declares (and is checked here) is what is read.
    zip_ = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (!zip_) {
      zip_source_free(source);
      const std::string why = zip_error_strerror(&error);
      zip_error_fini(&error);
      return Damaged(why);
    }
    zip_error_fini(&error);
    const zip_int64_t entries = zip_get_num_entries(zip_, 0);
    if (entries < 0 || entries > limits_.max_entries) {
      return Refused("มีรายการในไฟล์ ZIP มากเกิน " + std::to_string(limits_.max_entries) + " รายการ",
                     "the ZIP holds more than " + std::to_string(limits_.max_entries) +
                         " entries");
    }
    return Status::Ok();
  }

  bool Has(const std::string& name) const { return zip_name_locate(zip_, name.c_str(), 0) >= 0; }

  // Inflates entry `name` piece by piece into `parser`, within the limits: its declared size,
  // its ratio and the total checked first, then what comes out counted against them as it does.
  Status Parse(const std::string& name, PartParser& parser) {
    const zip_int64_t index = zip_name_locate(zip_, name.c_str(), 0);
    if (index < 0) {
      return Refused("ไม่มีส่วน " + name + " ที่ไฟล์ XLSX ต้องมี",
                     "the part " + name + " every XLSX file has is missing");
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_, static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE)) {
      return Damaged("no sizes for " + name);
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      return Refused("ส่วน " + name + " เข้ารหัสไว้", "part " + name + " is encrypted");
    if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method != ZIP_CM_STORE &&
        st.comp_method != ZIP_CM_DEFLATE) {
      return Refused("ส่วน " + name + " บีบอัดด้วยวิธีที่ไม่รองรับ",
                     "part " + name + " is compressed by an unsupported method");
    }
    const auto declared = static_cast<int64_t>(std::min<zip_uint64_t>(st.size, INT64_MAX));
    const auto compressed = static_cast<int64_t>(std::min<zip_uint64_t>(st.comp_size, INT64_MAX));
    Status bounded = Bound(name, declared, compressed, declared);
    if (!bounded.ok()) return bounded;
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file(
        zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0), &zip_fclose);
    if (!file) return Damaged(zip_error_strerror(zip_get_error(zip_)));
    std::string buffer(64 * 1024, '\0');
    int64_t produced = 0;
    while (true) {
      const zip_int64_t n = zip_fread(file.get(), buffer.data(), buffer.size());
      if (n < 0) return Damaged(zip_error_strerror(zip_file_get_error(file.get())));
      if (n == 0) break;
      produced += n;
      // More than it declared is a lie about its size: the declared checks meant nothing.
      if (produced > declared) {
        return Refused("ส่วน " + name + " ขยายได้มากกว่าขนาดที่ระบุไว้",
                       "part " + name + " inflates to more than its declared size");
      }
      Status s = parser.Feed(std::string_view(buffer.data(), static_cast<size_t>(n)), false);
      if (!s.ok()) return s;
    }
    total_ += produced;
    return parser.Feed({}, true);
  }

 private:
  Status Damaged(const std::string& why) {
    return Refused("ไม่ใช่ไฟล์ ZIP ที่อ่านได้ (" + why + ")", "not a readable ZIP archive (" + why + ")");
  }

  // The checks on an entry's sizes before it is inflated.
  Status Bound(const std::string& name, int64_t size, int64_t compressed, int64_t adding) {
    // The ratio first: a bomb is named as one, whatever else it also exceeds.
    if (size > limits_.ratio_floor_bytes && size > limits_.max_ratio * std::max<int64_t>(compressed, 1)) {
      const std::string ratio = std::to_string(limits_.max_ratio);
      return Refused("ส่วน " + name + " บีบอัดไว้เกิน " + ratio + " เท่า (zip bomb)",
                     "part " + name + " is compressed more than " + ratio + " times (a zip bomb)");
    }
    const std::string mb = std::to_string(limits_.max_part_bytes >> 20);
    if (size > limits_.max_part_bytes) {
      return Refused("ส่วน " + name + " ขยายแล้วใหญ่เกิน " + mb + " MB",
                     "part " + name + " is larger than " + mb + " MB once inflated");
    }
    if (total_ + adding > limits_.max_total_bytes) {
      const std::string total = std::to_string(limits_.max_total_bytes >> 20);
      return Refused("ขยายแล้วรวมใหญ่เกิน " + total + " MB", "larger than " + total +
                                                              " MB in all once inflated");
    }
    return Status::Ok();
  }

  const XlsxLimits& limits_;
  zip_t* zip_ = nullptr;
  int64_t total_ = 0;
};

// "B12" -> column 1 (0-based) and row 12; false when it is not a cell reference.
bool ParseReference(std::string_view ref, int64_t& col, int64_t& row) {
  size_t i = 0;
  col = 0;
  while (i < ref.size() && ref[i] >= 'A' && ref[i] <= 'Z') {
    col = col * 26 + (ref[i] - 'A' + 1);
    if (col > 1'000'000) return false;
    ++i;
  }
  if (i == 0 || i == ref.size()) return false;
  row = 0;
  for (; i < ref.size(); ++i) {
    if (ref[i] < '0' || ref[i] > '9') return false;
    row = row * 10 + (ref[i] - '0');
    if (row > 100'000'000) return false;
  }
  --col;
  return row > 0;
}

std::string Join(const std::string& base, const std::string& target) {
  if (!target.empty() && target.front() == '/') return target.substr(1);
  return base + target;
}

}  // namespace

const std::string& XlsxRow::Cell(size_t col) const {
  static const std::string kEmpty;
  return col < cells.size() ? cells[col] : kEmpty;
}

const XlsxSheet* XlsxWorkbook::Find(const std::string& name) const {
  for (const XlsxSheet& s : sheets) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool LooksLikeXlsx(std::string_view bytes) { return bytes.substr(0, 4) == std::string_view("PK\3\4", 4); }

std::string ColumnName(size_t col) {
  std::string name;
  size_t n = col + 1;
  while (n > 0) {
    name.insert(name.begin(), static_cast<char>('A' + (n - 1) % 26));
    n = (n - 1) / 26;
  }
  return name;
}

std::string SheetToCsv(const XlsxSheet& sheet) {
  std::string out;
  int64_t line = 1;
  for (const XlsxRow& row : sheet.rows) {
    for (; line < row.number; ++line) out += "\n";
    for (size_t i = 0; i < row.cells.size(); ++i) {
      if (i) out += ',';
      // One line per row: a line break inside a cell would shift every later line number.
      std::string cell = row.cells[i];
      std::replace(cell.begin(), cell.end(), '\n', ' ');
      std::replace(cell.begin(), cell.end(), '\r', ' ');
      out += CsvEscape(cell);
    }
    out += "\n";
    ++line;
  }
  return out;
}

Result<XlsxWorkbook> ReadXlsx(std::string_view bytes, const XlsxLimits& limits) {
  if (!LooksLikeXlsx(bytes))
    return Refused("ไม่ใช่ไฟล์ XLSX (ไม่ขึ้นต้นแบบ ZIP)", "not an XLSX file (it does not begin like a ZIP)");
  Archive archive(limits);
  Status opened = archive.Open(bytes);
  if (!opened.ok()) return opened;

  // The workbook: its sheets' names and relationship ids, in order.
  std::vector<std::pair<std::string, std::string>> declared;  // name, r:id
  {
    PartParser parser(
        "xl/workbook.xml",
        [&](std::string_view name, const XML_Char** attributes) -> Status {
          if (name != "sheet") return Status::Ok();
          const XML_Char* sheet_name = Attribute(attributes, "name");
          const XML_Char* id = Attribute(attributes, "id");
          if (!sheet_name || !id) return Status::Ok();
          if (static_cast<int64_t>(declared.size()) >= limits.max_sheets) {
            return Refused("มีชีตมากเกิน " + std::to_string(limits.max_sheets) + " ชีต",
                           "more than " + std::to_string(limits.max_sheets) + " sheets");
          }
          declared.emplace_back(sheet_name, id);
          return Status::Ok();
        },
        [](std::string_view) { return Status::Ok(); }, nullptr);
    Status s = archive.Parse("xl/workbook.xml", parser);
    if (!s.ok()) return s;
  }
  std::map<std::string, std::string> targets;  // relationship id -> part
  std::string shared_part;
  if (archive.Has("xl/_rels/workbook.xml.rels")) {
    PartParser parser(
        "xl/_rels/workbook.xml.rels",
        [&](std::string_view name, const XML_Char** attributes) -> Status {
          if (name != "Relationship") return Status::Ok();
          const XML_Char* id = Attribute(attributes, "Id");
          const XML_Char* target = Attribute(attributes, "Target");
          const XML_Char* type = Attribute(attributes, "Type");
          if (!id || !target) return Status::Ok();
          if (targets.size() > 10'000) return Refused("ความสัมพันธ์มากเกินไป", "too many relationships");
          targets[id] = Join("xl/", target);
          if (type && std::string_view(type).ends_with("/sharedStrings"))
            shared_part = Join("xl/", target);
          return Status::Ok();
        },
        [](std::string_view) { return Status::Ok(); }, nullptr);
    Status s = archive.Parse("xl/_rels/workbook.xml.rels", parser);
    if (!s.ok()) return s;
  }
  if (shared_part.empty() && archive.Has("xl/sharedStrings.xml")) shared_part = "xl/sharedStrings.xml";

  int64_t text_bytes = 0;
  auto too_much_text = [&]() {
    const std::string mb = std::to_string(limits.max_text_bytes >> 20);
    return Refused("ข้อความในไฟล์รวมยาวเกิน " + mb + " MB",
                   "the file's texts come to more than " + mb + " MB");
  };
  auto cell_too_long = [&](const std::string& where) {
    const std::string kb = std::to_string(limits.max_cell_bytes / 1024);
    return Refused(where + " ยาวเกิน " + kb + " KB", where + " is longer than " + kb + " KB");
  };

  // Shared strings: the text of each <si>, its runs joined, phonetic hints (<rPh>) left out.
  std::vector<std::string> shared;
  if (!shared_part.empty()) {
    std::string current;
    bool in_si = false, in_t = false;
    int phonetic = 0;
    PartParser parser(
        shared_part,
        [&](std::string_view name, const XML_Char**) -> Status {
          if (name == "si") {
            if (static_cast<int64_t>(shared.size()) >= limits.max_shared_strings) {
              return Refused(
                  "มีข้อความร่วม (shared strings) มากเกิน " + std::to_string(limits.max_shared_strings),
                  "more than " + std::to_string(limits.max_shared_strings) + " shared strings");
            }
            in_si = true;
            current.clear();
          } else if (name == "rPh") {
            ++phonetic;
          } else if (name == "t" && in_si && phonetic == 0) {
            in_t = true;
          }
          return Status::Ok();
        },
        [&](std::string_view name) -> Status {
          if (name == "si") {
            in_si = false;
            shared.push_back(std::move(current));
            current.clear();
          } else if (name == "rPh") {
            --phonetic;
          } else if (name == "t") {
            in_t = false;
          }
          return Status::Ok();
        },
        [&](std::string_view text) -> Status {
          if (!in_t) return Status::Ok();
          text_bytes += static_cast<int64_t>(text.size());
          if (text_bytes > limits.max_text_bytes) return too_much_text();
          current.append(text);
          if (static_cast<int64_t>(current.size()) > limits.max_cell_bytes)
            return cell_too_long("ข้อความร่วมลำดับ " + std::to_string(shared.size() + 1) + " / shared string");
          return Status::Ok();
        });
    Status s = archive.Parse(shared_part, parser);
    if (!s.ok()) return s;
  }

  XlsxWorkbook book;
  int64_t rows = 0, cells = 0;
  for (const auto& [sheet_name, id] : declared) {
    const auto target = targets.find(id);
    const std::string part = target != targets.end() ? target->second : "";
    if (part.empty() || !archive.Has(part)) {
      return Refused("ไม่พบข้อมูลของชีต \"" + sheet_name + "\"",
                     "the data of sheet \"" + sheet_name + "\" is missing");
    }
    XlsxSheet sheet;
    sheet.name = sheet_name;
    // The cell being read.
    std::string type, value, formula, inline_text, ref_text;
    int64_t col = -1, next_col = 0, row_number = 0;
    bool in_v = false, in_f = false, in_is_t = false, in_is = false, in_c = false;
    auto where = [&]() {
      return "ชีต \"" + sheet_name + "\" เซลล์ " + ColumnName(static_cast<size_t>(col)) +
             std::to_string(row_number);
    };
    PartParser parser(
        part,
        [&](std::string_view name, const XML_Char** attributes) -> Status {
          if (name == "row") {
            const XML_Char* r = Attribute(attributes, "r");
            int64_t number = row_number + 1;
            if (r) {
              number = 0;
              for (const char* p = r; *p; ++p) {
                if (*p < '0' || *p > '9' || number > 100'000'000)
                  return Refused("เลขแถวในชีต \"" + sheet_name + "\" ผิด",
                                 "a row number in sheet \"" + sheet_name + "\" is wrong");
                number = number * 10 + (*p - '0');
              }
            }
            if (number <= row_number) {
              return Refused("แถวในชีต \"" + sheet_name + "\" ไม่เรียงลำดับ",
                             "the rows of sheet \"" + sheet_name + "\" are out of order");
            }
            if (++rows > limits.max_rows) {
              return Refused("มีแถวมากเกิน " + std::to_string(limits.max_rows) + " แถว",
                             "more than " + std::to_string(limits.max_rows) + " rows");
            }
            row_number = number;
            next_col = 0;
            sheet.rows.push_back({row_number, {}});
          } else if (name == "c") {
            if (sheet.rows.empty()) return Refused("เซลล์อยู่นอกแถว", "a cell outside any row");
            const XML_Char* r = Attribute(attributes, "r");
            const XML_Char* t = Attribute(attributes, "t");
            int64_t ref_row = row_number;
            col = next_col;
            if (r && (!ParseReference(r, col, ref_row) || ref_row != row_number)) {
              return Refused("ตำแหน่งเซลล์ \"" + std::string(r) + "\" ในชีต \"" + sheet_name + "\" ผิด",
                             "the cell reference \"" + std::string(r) + "\" in sheet \"" +
                                 sheet_name + "\" is wrong");
            }
            if (col >= limits.max_columns) {
              return Refused(where() + " อยู่เกินคอลัมน์ที่ " + std::to_string(limits.max_columns),
                             "cell " + ColumnName(static_cast<size_t>(col)) +
                                 std::to_string(row_number) + " of sheet \"" + sheet_name +
                                 "\" is beyond column " + std::to_string(limits.max_columns));
            }
            if (++cells > limits.max_cells) {
              return Refused("มีเซลล์มากเกิน " + std::to_string(limits.max_cells) + " เซลล์",
                             "more than " + std::to_string(limits.max_cells) + " cells");
            }
            next_col = col + 1;
            type = t ? t : "n";
            value.clear();
            formula.clear();
            inline_text.clear();
            in_c = true;
          } else if (in_c && name == "v") {
            in_v = true;
          } else if (in_c && name == "f") {
            in_f = true;
          } else if (in_c && name == "is") {
            in_is = true;
          } else if (in_is && name == "t") {
            in_is_t = true;
          }
          return Status::Ok();
        },
        [&](std::string_view name) -> Status {
          if (name == "v") {
            in_v = false;
          } else if (name == "f") {
            in_f = false;
          } else if (name == "t") {
            in_is_t = false;
          } else if (name == "is") {
            in_is = false;
          } else if (name == "c" && in_c) {
            in_c = false;
            std::string text;
            if (type == "s") {
              size_t index = 0;
              const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), index);
              if (ec != std::errc() || p != value.data() + value.size() || index >= shared.size()) {
                return Refused(where() + " อ้างข้อความร่วมที่ไม่มี",
                               "cell " + ColumnName(static_cast<size_t>(col)) +
                                   std::to_string(row_number) + " of sheet \"" + sheet_name +
                                   "\" names a shared string that does not exist");
              }
              text = shared[index];
            } else if (type == "inlineStr") {
              text = std::move(inline_text);
            } else if (!value.empty()) {
              text = std::move(value);
            } else if (!formula.empty()) {
              text = "=" + formula;
            }
            if (!text.empty()) {
              XlsxRow& row = sheet.rows.back();
              row.cells.resize(std::max(row.cells.size(), static_cast<size_t>(col) + 1));
              row.cells[static_cast<size_t>(col)] = std::move(text);
            }
          }
          return Status::Ok();
        },
        [&](std::string_view text) -> Status {
          std::string* into = in_v ? &value : in_f ? &formula : in_is_t ? &inline_text : nullptr;
          if (!into) return Status::Ok();
          text_bytes += static_cast<int64_t>(text.size());
          if (text_bytes > limits.max_text_bytes) return too_much_text();
          into->append(text);
          if (static_cast<int64_t>(into->size()) > limits.max_cell_bytes)
            return cell_too_long(where());
          return Status::Ok();
        });
    Status s = archive.Parse(part, parser);
    if (!s.ok()) return s;
    // Rows that turned out empty (styled but blank) are left out.
    std::erase_if(sheet.rows, [](const XlsxRow& r) {
      return std::all_of(r.cells.begin(), r.cells.end(),
                         [](const std::string& c) { return c.empty(); });
    });
    book.sheets.push_back(std::move(sheet));
  }
  return book;
}

}  // namespace esar::formats
