#include "formats/catalog.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <streambuf>

#include "formats/csv.h"
#include "formats/sheet_writer.h"

namespace esar::formats {
namespace {

using nlohmann::json;

const char kOther[] = "อื่นๆ";

// The 14 mandatory items. Names, Thai labels and allowed values are those of the scheming schema
// of ckanext-thai_gdc 2.1.0 (ckan_dataset.json): its 13 fields marked required, plus CKAN's
// always-required owner_org. Only these facts are taken (the schema file itself is AGPL-licensed
// and is not copied); where the schema gives an English label only (owner_org, notes,
// license_id) the Thai label is the one the catalog's Thai interface shows.
std::vector<CatalogField> MakeFields() {
  std::vector<CatalogField> f;
  f.push_back({"data_type", "ประเภทชุดข้อมูล", "Data Type", false,
               {"ข้อมูลระเบียน", "ข้อมูลสถิติ", "ข้อมูลภูมิสารสนเทศเชิงพื้นที่",
                "ข้อมูลหลากหลายประเภท", "ข้อมูลประเภทอื่นๆ"},
               "ข้อมูลประเภทอื่นๆ", "data_type_other", false});
  f.push_back({"title", "ชื่อชุดข้อมูล", "Dataset Name", false, {}, "", "", false});
  f.push_back({"maintainer", "ชื่อผู้ติดต่อ", "Contact Person", false, {}, "", "", false});
  f.push_back({"maintainer_email", "อีเมลผู้ติดต่อ", "Contact Email", false, {}, "", "", true});
  f.push_back({"tag_string", "คำสำคัญ", "Tags", true, {}, "", "", false});
  f.push_back({"notes", "รายละเอียด", "Description", false, {}, "", "", false});
  f.push_back({"objective", "วัตถุประสงค์", "Objective", true,
               {"ยุทธศาสตร์ชาติ", "แผนพัฒนาเศรษฐกิจและสังคมแห่งชาติ", "แผนความมั่นคงแห่งชาติ",
                "แผนแม่บทภายใต้ยุทธศาสตร์ชาติ", "แผนปฏิรูปประเทศ",
                "แผนระดับที่ 3 (มติครม. 4 ธ.ค. 2560)", "นโยบายรัฐบาล/ข้อสั่งการนายกรัฐมนตรี",
                "มติคณะรัฐมนตรี", "เพื่อการให้บริการประชาชน", "กฎหมายที่เกี่ยวข้อง", "พันธกิจหน่วยงาน",
                "ดัชนี/ตัวชี้วัดระดับนานาชาติ", "ไม่ทราบ", kOther},
               kOther, "objective_other", false});
  f.push_back({"update_frequency_unit", "หน่วยความถี่ของการปรับปรุงข้อมูล", "Update Frequency Unit",
               false,
               {"ไม่ทราบ", "ปี", "ครึ่งปี", "ไตรมาส", "เดือน", "สัปดาห์", "วัน", "วันทำการ", "ชั่วโมง",
                "นาที", "ตามเวลาจริง", "ไม่มีการปรับปรุงหลังจากการจัดเก็บข้อมูล", kOther},
               kOther, "update_frequency_unit_other", false});
  f.push_back({"geo_coverage", "ขอบเขตเชิงภูมิศาสตร์หรือเชิงพื้นที่", "Geo Coverage", false,
               {"ไม่มี", "โลก", "ทวีป/กลุ่มประเทศในทวีป", "กลุ่มประเทศทางเศรษฐกิจ", "ประเทศ", "ภาค",
                "จังหวัด", "อำเภอ", "ตำบล", "หมู่บ้าน", "เทศบาล/อบต.", "พิกัด", "ไม่ทราบ", kOther},
               kOther, "geo_coverage_other", false});
  f.push_back({"data_source", "แหล่งที่มา", "Data Source", false, {}, "", "", false});
  f.push_back({"data_format", "รูปแบบการเก็บข้อมูล", "Data Format", true,
               {"Database", "CSV", "XML", "Image", "Video", "Audio", "Text", "JSON", "HTML",
                "DOC/DOCX", "XLS", "PDF", "RDF", "NoSQL", "Arc/Info Coverage", "Shapefile",
                "GeoTiff", "GML", "ไม่ทราบ", kOther},
               kOther, "data_format_other", false});
  f.push_back({"data_category", "หมวดหมู่ข้อมูลตามธรรมาภิบาลข้อมูลภาครัฐ", "Data Category", false,
               {"ข้อมูลสาธารณะ", "ข้อมูลส่วนบุคคล", "ข้อมูลความมั่นคง", "ข้อมูลความลับทางราชการ"}, "",
               "", false});
  f.push_back({"license_id", "สัญญาอนุญาต", "License", false,
               {"License not specified", "Creative Commons Attributions",
                "Creative Commons Attribution Share-Alike", "Creative Commons Non-Commercial (Any)",
                "Open Data Common", "GNU Free Documentation License", kOther},
               kOther, "license_id_other", false});
  f.push_back({"owner_org", "หน่วยงานเจ้าของข้อมูล", "Organization", false, {}, "", "", false});
  return f;
}

// A malformed file: the message names the line (and the JSON path) in each language; the
// location carries the file, so Status::ToString reads "catalog.json: บรรทัด 4 (…): …".
Status Malformed(const std::string& file, int64_t line, const std::string& path,
                 const std::string& th, const std::string& en) {
  const std::string where = path.empty() ? "" : " (" + path + ")";
  return Status::InvalidInput(
      (line > 0 ? "บรรทัด " + std::to_string(line) + where + ": " : "") + th,
      (line > 0 ? "line " + std::to_string(line) + where + ": " : "") + en, Location{file, "", 0});
}

// A value as read from the file: absent (or null), text, a list of texts, or something that is
// not text (a JSON object where text is expected).
struct Value {
  enum class Type { kAbsent, kText, kList, kNotText } type = Type::kAbsent;
  std::vector<std::string> items;  // kText: one item; kList: each item
};

// At most `max` bytes of `v`, cut on a character boundary, for messages and lists.
std::string Shorten(std::string_view v, size_t max = 120) {
  if (v.size() <= max) return std::string(v);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
  return std::string(v.substr(0, n)) + "…";
}

// The items of a multiple-choice value written as text: a JSON array of strings
// (`["CSV","PDF"]`), CKAN's stored form `{CSV,PDF}` (items may be double-quoted), or one value.
std::vector<std::string> SplitMultiple(const std::string& text) {
  const std::string t = TrimSpaces(text);
  std::vector<std::string> out;
  if (t.size() >= 2 && t.front() == '[' && t.back() == ']') {
    json j = json::parse(t, nullptr, /*allow_exceptions=*/false);
    if (j.is_array()) {
      for (const json& item : j) {
        if (item.is_string()) out.push_back(TrimSpaces(item.get<std::string>()));
        else out.push_back(item.dump());
      }
      return out;
    }
  }
  if (t.size() >= 2 && t.front() == '{' && t.back() == '}') {
    std::string cur;
    bool quoted = false;
    for (size_t i = 1; i + 1 < t.size(); ++i) {
      const char c = t[i];
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        out.push_back(TrimSpaces(cur));
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    out.push_back(TrimSpaces(cur));
    return out;
  }
  out.push_back(t);
  return out;
}

// Checks one dataset; `get` gives a field's value by its CKAN name.
void CheckFields(const std::function<Value(const std::string&)>& get, CatalogDataset& d) {
  for (const CatalogField& f : CatalogFields()) {
    Value v = get(f.name);
    if (v.type == Value::Type::kNotText) {
      d.faults.push_back({&f, CatalogFaultKind::kNotText, ""});
      continue;
    }
    std::vector<std::string> items;
    if (v.type == Value::Type::kText && f.multiple) {
      items = SplitMultiple(v.items.front());
    } else {
      for (const std::string& s : v.items) items.push_back(TrimSpaces(s));
    }
    std::erase_if(items, [](const std::string& s) { return s.empty(); });
    if (items.empty()) {
      d.faults.push_back({&f, CatalogFaultKind::kMissing, ""});
      continue;
    }
    if (!f.multiple && items.size() > 1) {
      d.faults.push_back({&f, CatalogFaultKind::kNotAChoice, Shorten(v.items.front())});
      continue;
    }
    bool bad = false;
    if (!f.choices.empty()) {
      for (const std::string& item : items) {
        if (std::find(f.choices.begin(), f.choices.end(), item) == f.choices.end()) {
          d.faults.push_back({&f, CatalogFaultKind::kNotAChoice, Shorten(item)});
          bad = true;
          break;
        }
      }
    }
    if (bad) continue;
    if (f.email && !IsWellFormedEmail(items.front())) {
      d.faults.push_back({&f, CatalogFaultKind::kBadEmail, Shorten(items.front())});
      continue;
    }
    if (!f.other_choice.empty() &&
        std::find(items.begin(), items.end(), f.other_choice) != items.end()) {
      Value other = get(f.other_field);
      bool filled = false;
      if (other.type == Value::Type::kText || other.type == Value::Type::kList) {
        for (const std::string& s : other.items) filled = filled || !TrimSpaces(s).empty();
      }
      if (!filled) d.faults.push_back({&f, CatalogFaultKind::kOtherMissing, ""});
    }
  }
}

Value FromJson(const json* j) {
  Value v;
  if (!j || j->is_null()) return v;
  if (j->is_string()) {
    v.type = Value::Type::kText;
    v.items.push_back(j->get<std::string>());
  } else if (j->is_number() || j->is_boolean()) {
    v.type = Value::Type::kText;
    v.items.push_back(j->dump());
  } else if (j->is_array()) {
    v.type = Value::Type::kList;
    for (const json& item : *j) {
      if (item.is_string()) v.items.push_back(item.get<std::string>());
      else if (item.is_object() && item.contains("name") && item["name"].is_string())
        v.items.push_back(item["name"].get<std::string>());  // CKAN's tags: [{"name": …}]
      else if (item.is_number()) v.items.push_back(item.dump());
      else if (!item.is_null()) return Value{Value::Type::kNotText, {}};
    }
  } else {
    v.type = Value::Type::kNotText;
  }
  return v;
}

// A field of a dataset from CKAN's JSON. CKAN's package_search gives the tags as `tags`
// (a list of objects with `name`) rather than `tag_string`, and the organization also as
// `organization.name`; both forms are accepted.
Value JsonField(const json& ds, const std::string& name) {
  auto find = [&](const char* key) -> const json* {
    auto it = ds.find(key);
    return it == ds.end() ? nullptr : &*it;
  };
  Value v = FromJson(find(name.c_str()));
  const bool empty = v.type == Value::Type::kAbsent ||
                     std::all_of(v.items.begin(), v.items.end(),
                                 [](const std::string& s) { return TrimSpaces(s).empty(); });
  if (empty && name == "tag_string") {
    Value tags = FromJson(find("tags"));
    if (tags.type != Value::Type::kAbsent) return tags;
  }
  if (empty && name == "owner_org") {
    const json* org = find("organization");
    if (org && org->is_object()) {
      auto it = org->find("name");
      if (it != org->end()) return FromJson(&*it);
    }
  }
  if (name == "tag_string" && v.type == Value::Type::kText) {
    // CKAN's tag_string is comma-separated.
    Value list{Value::Type::kList, {}};
    std::string cur;
    for (char c : v.items.front()) {
      if (c == ',') {
        list.items.push_back(cur);
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    list.items.push_back(cur);
    return list;
  }
  return v;
}

std::string TextOf(const json& ds, const char* key) {
  auto it = ds.find(key);
  if (it == ds.end() || !it->is_string()) return "";
  return Shorten(it->get<std::string>(), 300);
}

// A streambuf over a ByteSource that knows the line of any byte it has handed out.
class SourceBuf : public std::streambuf {
 public:
  SourceBuf(ByteSource& src, size_t block) : src_(src), buf_(block) {}

  // The 1-based line of the byte at `offset` (bytes from the start). Offsets asked for must not
  // decrease, and must not be before the current block.
  int64_t LineAt(uint64_t offset) {
    const char* target = eback() + std::min<uint64_t>(offset > window_ ? offset - window_ : 0,
                                                       static_cast<uint64_t>(egptr() - eback()));
    if (target > counted_) {
      lines_ += std::count(counted_, target, '\n');
      counted_ = target;
    }
    return lines_ + 1;
  }
  // Bytes handed out so far.
  uint64_t Position() const { return window_ + static_cast<uint64_t>(gptr() - eback()); }
  const Status& error() const { return error_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (egptr()) {
      lines_ += std::count(counted_, static_cast<const char*>(egptr()), '\n');
      window_ += static_cast<uint64_t>(egptr() - eback());
    }
    auto got = src_.Read(buf_.data(), buf_.size());
    if (!got.ok()) {
      error_ = got.status();
      return traits_type::eof();
    }
    setg(buf_.data(), buf_.data(), buf_.data() + *got);
    counted_ = buf_.data();
    if (*got == 0) return traits_type::eof();
    return traits_type::to_int_type(*gptr());
  }

 private:
  ByteSource& src_;
  std::vector<char> buf_;
  uint64_t window_ = 0;  // offset of eback()
  int64_t lines_ = 0;    // newlines before counted_
  const char* counted_ = nullptr;
  Status error_;
};

// Streams `result.results` of a CKAN package_search export: each element is built as a small
// DOM (bounded by max_dataset_bytes), checked, handed on and dropped.
class CatalogSax {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  CatalogSax(SourceBuf& buf, std::string file, const CatalogLimits& limits,
             const CatalogVisitor& visit)
      : buf_(buf), file_(std::move(file)), limits_(limits), visit_(visit) {}

  bool null() { return Scalar(json(nullptr)); }
  bool boolean(bool b) { return Scalar(json(b)); }
  bool number_integer(number_integer_t n) { return Scalar(json(n)); }
  bool number_unsigned(number_unsigned_t n) { return Scalar(json(n)); }
  bool number_float(number_float_t n, const string_t&) { return Scalar(json(n)); }
  bool string(string_t& s) { return Scalar(json(std::move(s))); }
  bool binary(binary_t&) { return Fail("ไฟล์มีข้อมูลไบนารี", "the file holds binary data"); }

  bool start_object(std::size_t) { return Open(false); }
  bool start_array(std::size_t) { return Open(true); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(string_t& k) {
    frames_.back().key = k;
    if (in_dataset_) pending_key_ = std::move(k);
    return SizeOk();
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    if (!buf_.error().ok()) {
      failure_ = buf_.error();
      return false;
    }
    const int64_t line = buf_.LineAt(position > 0 ? position - 1 : 0);
    failure_ = Malformed(file_, line, Where(), "ไม่ใช่ JSON ที่ถูกต้อง (ไวยากรณ์ผิด หรือไม่ใช่ UTF-8)",
                         "not valid JSON (a syntax error, or not UTF-8)");
    return false;
  }

  const Status& failure() const { return failure_; }
  bool saw_results() const { return saw_results_; }
  const CatalogSummary& summary() const { return summary_; }

 private:
  struct Frame {
    bool array = false;
    std::string key;     // objects: the last key read
    int64_t index = -1;  // arrays: the element being read
  };

  // Where the parser is, as "result.results[3].title".
  std::string Where() const {
    std::string p;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.array) {
        if (f.index >= 0) p += "[" + std::to_string(f.index) + "]";
      } else if (!f.key.empty()) {
        if (!p.empty()) p += ".";
        p += f.key;
      }
    }
    return p;
  }

  bool Fail(const std::string& th, const std::string& en) {
    const int64_t line = buf_.LineAt(buf_.Position());
    failure_ = Malformed(file_, line, Where(), th, en);
    return false;
  }

  // True when the frames are exactly: the top object at key "result", an object at key
  // "results", and the array of datasets.
  bool AtResultsArray() const {
    return frames_.size() == 3 && !frames_[0].array && frames_[0].key == "result" &&
           !frames_[1].array && frames_[1].key == "results" && frames_[2].array;
  }

  // Called before any value: advances the enclosing array's index.
  void Element() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }

  bool SizeOk() {
    if (in_dataset_ && buf_.Position() - dataset_start_ > limits_.max_dataset_bytes) {
      return Fail("ชุดข้อมูลยาวเกิน " + std::to_string(limits_.max_dataset_bytes) + " ไบต์",
                  "a dataset longer than " + std::to_string(limits_.max_dataset_bytes) + " bytes");
    }
    return true;
  }

  bool Scalar(json v) {
    Element();
    if (AtResultsArray()) return Fail("ชุดข้อมูลต้องเป็นออบเจกต์ JSON", "a dataset must be a JSON object");
    if (in_dataset_) {
      Insert(std::move(v));
      return SizeOk();
    }
    return true;
  }

  void Insert(json v) {
    json* top = stack_.back();
    if (top->is_array()) top->push_back(std::move(v));
    else (*top)[pending_key_] = std::move(v);
  }

  bool Open(bool array) {
    Element();
    const bool starts_dataset = AtResultsArray();
    if (starts_dataset && array) {
      return Fail("ชุดข้อมูลต้องเป็นออบเจกต์ JSON", "a dataset must be a JSON object");
    }
    if (frames_.size() == 2 && !frames_[0].array && frames_[0].key == "result" &&
        !frames_[1].array && frames_[1].key == "results") {
      if (!array) return Fail("result.results ต้องเป็นรายการ (array)", "result.results must be an array");
      saw_results_ = true;
    }
    if (static_cast<int>(frames_.size()) >= limits_.max_depth) {
      return Fail("ซ้อนกันลึกเกิน " + std::to_string(limits_.max_depth) + " ชั้น",
                  "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    if (starts_dataset) {
      in_dataset_ = true;
      dataset_start_ = buf_.Position();
      dataset_line_ = buf_.LineAt(buf_.Position() > 0 ? buf_.Position() - 1 : 0);
      dataset_ = json::object();
      stack_.assign(1, &dataset_);
    } else if (in_dataset_) {
      Insert(array ? json::array() : json::object());
      json* top = stack_.back();
      stack_.push_back(top->is_array() ? &top->back() : &(*top)[pending_key_]);
    }
    frames_.push_back(Frame{array, "", -1});
    return SizeOk();
  }

  bool Close() {
    frames_.pop_back();
    if (!in_dataset_) return true;
    stack_.pop_back();
    if (!stack_.empty()) return SizeOk();
    in_dataset_ = false;
    CatalogDataset d;
    d.index = summary_.datasets;
    d.line = dataset_line_;
    d.name = TextOf(dataset_, "name");
    d.title = TextOf(dataset_, "title");
    CheckFields([&](const std::string& n) { return JsonField(dataset_, n); }, d);
    ++summary_.datasets;
    if (d.complete()) ++summary_.complete;
    if (visit_) visit_(d);
    dataset_ = json();
    return true;
  }

  SourceBuf& buf_;
  std::string file_;
  const CatalogLimits& limits_;
  const CatalogVisitor& visit_;
  std::vector<Frame> frames_;
  bool in_dataset_ = false;
  uint64_t dataset_start_ = 0;
  int64_t dataset_line_ = 0;
  json dataset_;
  std::vector<json*> stack_;
  std::string pending_key_;
  bool saw_results_ = false;
  Status failure_;
  CatalogSummary summary_;
};

Result<CatalogSummary> CheckJson(ByteSource& source, const std::string& file,
                                 const CatalogVisitor& visit, const CatalogLimits& limits) {
  SourceBuf buf(source, limits.buffer_bytes);
  std::istream in(&buf);
  CatalogSax sax(buf, file, limits, visit);
  const bool ok = json::sax_parse(in, &sax, json::input_format_t::json, /*strict=*/true);
  if (!buf.error().ok()) return buf.error();
  if (!ok || !sax.failure().ok()) {
    if (!sax.failure().ok()) return sax.failure();
    return Malformed(file, 0, "", "ไม่ใช่ JSON ที่ถูกต้อง", "not valid JSON");
  }
  if (!sax.saw_results()) {
    return Malformed(file, 0, "",
                     "ไม่พบรายการชุดข้อมูล result.results (ไฟล์ส่งออกของ CKAN package_search)",
                     "no result.results list of datasets (CKAN's package_search export)");
  }
  return sax.summary();
}

// A streaming RFC 4180 record reader: quoted fields may hold commas, doubled quotes and line
// breaks; CRLF or LF; blank lines skipped.
class CsvRecords {
 public:
  CsvRecords(ByteSource& src, std::string file, const CatalogLimits& limits)
      : src_(src), file_(std::move(file)), limits_(limits), buf_(limits.buffer_bytes) {}

  // The next record into `fields` and its first line into `line`; false at the end.
  Result<bool> Next(std::vector<std::string>& fields, int64_t& line) {
    for (;;) {
      fields.clear();
      std::string field;
      bool quoted = false, was_quoted = false, any = false;
      size_t bytes = 0;
      line = line_;
      for (;;) {
        auto c = Get();
        if (!c.ok()) return c.status();
        if (*c < 0) {
          if (quoted) return Malformed(line, "เครื่องหมายคำพูดเปิดไว้แต่ไม่ได้ปิด", "a quote left open");
          if (!any && field.empty()) return false;
          return Finish(fields, field, line);
        }
        const char ch = static_cast<char>(*c);
        if (++bytes > limits_.max_dataset_bytes) {
          return Malformed(line,
                           "แถวยาวเกิน " + std::to_string(limits_.max_dataset_bytes) +
                               " ไบต์ (อาจมีเครื่องหมายคำพูดที่ไม่ได้ปิด)",
                           "a row longer than " + std::to_string(limits_.max_dataset_bytes) +
                               " bytes (perhaps a quote left open)");
        }
        if (ch == '\n') ++line_;
        if (quoted) {
          if (ch == '"') {
            auto next = Peek();
            if (!next.ok()) return next.status();
            if (*next == '"') {
              (void)Get();
              field.push_back('"');
            } else {
              quoted = false;
            }
          } else {
            field.push_back(ch);
          }
          continue;
        }
        if (ch == '"') {
          if (!field.empty() || was_quoted) {
            return Malformed(line_, "เครื่องหมายคำพูดอยู่กลางช่อง", "a quote in the middle of a field");
          }
          quoted = was_quoted = true;
          any = true;
          continue;
        }
        if (ch == ',') {
          fields.push_back(std::move(field));
          field.clear();
          was_quoted = false;
          any = true;
          continue;
        }
        if (ch == '\r') {
          auto next = Peek();
          if (!next.ok()) return next.status();
          if (*next == '\n') continue;
        }
        if (ch == '\n') {
          if (!any && field.empty()) {
            line = line_;  // a blank line
            continue;
          }
          return Finish(fields, field, line);
        }
        if (was_quoted) {
          return Malformed(line_, "มีข้อความต่อท้ายหลังเครื่องหมายคำพูดปิด", "text after a closing quote");
        }
        field.push_back(ch);
        any = true;
      }
    }
  }

  // Skips a UTF-8 byte order mark at the very start.
  Status SkipBom() {
    for (const int b : {0xEF, 0xBB, 0xBF}) {
      auto c = Peek();
      if (!c.ok()) return c.status();
      if (*c != b) return Status::Ok();
      (void)Get();
    }
    return Status::Ok();
  }

 private:
  Result<bool> Finish(std::vector<std::string>& fields, std::string& field, int64_t line) {
    fields.push_back(std::move(field));
    for (const std::string& f : fields) {
      if (!IsValidUtf8(f)) return Malformed(line, "ไม่ใช่ข้อความ UTF-8", "not UTF-8 text");
    }
    return true;
  }

  Status Malformed(int64_t line, const std::string& th, const std::string& en) {
    return formats::Malformed(file_, line, "", th, en);
  }

  Status Fill() {
    auto got = src_.Read(buf_.data(), buf_.size());
    if (!got.ok()) return got.status();
    pos_ = 0;
    end_ = *got;
    eof_ = *got == 0;
    return Status::Ok();
  }
  // The next byte (0–255) or -1 at the end.
  Result<int> Peek() {
    if (pos_ == end_ && !eof_) {
      if (Status s = Fill(); !s.ok()) return s;
    }
    if (pos_ == end_) return -1;
    return static_cast<int>(static_cast<unsigned char>(buf_[pos_]));
  }
  Result<int> Get() {
    auto c = Peek();
    if (c.ok() && *c >= 0) ++pos_;
    return c;
  }

  ByteSource& src_;
  std::string file_;
  const CatalogLimits& limits_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_ = 1;
};

Result<CatalogSummary> CheckCsv(ByteSource& source, const std::string& file,
                                const CatalogVisitor& visit, const CatalogLimits& limits) {
  CsvRecords csv(source, file, limits);
  if (Status s = csv.SkipBom(); !s.ok()) return s;
  std::vector<std::string> header, row;
  int64_t line = 0;
  auto got = csv.Next(header, line);
  if (!got.ok()) return got.status();
  bool known = false;
  for (std::string& h : header) {
    h = TrimSpaces(h);
    for (const CatalogField& f : CatalogFields()) known = known || h == f.name;
    known = known || h == "tags";
  }
  if (!*got || !known) {
    return Malformed(file, 1, "",
                     "ไม่พบหัวตารางที่เป็นชื่อช่องของ CKAN (เช่น title, maintainer_email)",
                     "no header row of CKAN field names (such as title, maintainer_email)");
  }
  CatalogSummary summary;
  for (;;) {
    got = csv.Next(row, line);
    if (!got.ok()) return got.status();
    if (!*got) break;
    if (row.size() > header.size()) {
      return Malformed(file, line, "",
                       "มี " + std::to_string(row.size()) + " ช่อง มากกว่าหัวตาราง (" +
                           std::to_string(header.size()) + " ช่อง)",
                       std::to_string(row.size()) + " fields, more than the header's " +
                           std::to_string(header.size()));
    }
    auto column = [&](const std::string& name) -> const std::string* {
      for (size_t i = 0; i < header.size() && i < row.size(); ++i)
        if (header[i] == name) return &row[i];
      return nullptr;
    };
    CatalogDataset d;
    d.index = summary.datasets;
    d.line = line;
    if (const std::string* s = column("name")) d.name = Shorten(*s, 300);
    if (const std::string* s = column("title")) d.title = Shorten(*s, 300);
    CheckFields(
        [&](const std::string& n) {
          const std::string* s = column(n);
          if ((!s || TrimSpaces(*s).empty()) && n == "tag_string") s = column("tags");
          Value v;
          if (!s) return v;
          if (n == "tag_string") {
            // Comma-separated, as CKAN writes tag_string.
            v = Value{Value::Type::kList, {}};
            std::string cur;
            for (char c : *s) {
              if (c == ',') {
                v.items.push_back(cur);
                cur.clear();
              } else {
                cur.push_back(c);
              }
            }
            v.items.push_back(cur);
            return v;
          }
          return Value{Value::Type::kText, {*s}};
        },
        d);
    ++summary.datasets;
    if (d.complete()) ++summary.complete;
    if (visit) visit(d);
  }
  return summary;
}

}  // namespace

const std::vector<CatalogField>& CatalogFields() {
  static const std::vector<CatalogField> fields = MakeFields();
  return fields;
}

double CatalogSummary::CompletePercent() const {
  if (datasets == 0) return 0;
  return static_cast<double>(complete) * 100.0 / static_cast<double>(datasets);
}

std::string CatalogFault::Text(Lang lang) const {
  const bool th = lang == Lang::kThai;
  std::string head = (th ? field->label_th : field->label_en) + " (" + field->name + "): ";
  switch (kind) {
    case CatalogFaultKind::kMissing:
      return head + (th ? "ไม่ได้กรอก" : "missing");
    case CatalogFaultKind::kNotAChoice:
      return head + "\"" + value + "\"" +
             (th ? " ไม่อยู่ในตัวเลือกที่กำหนด" : " is not one of the allowed values");
    case CatalogFaultKind::kOtherMissing:
      return head + (th ? "เลือก \"อื่นๆ\" แต่ไม่ได้ระบุรายละเอียดใน " + field->other_field
                        : "\"อื่นๆ\" (other) chosen but " + field->other_field + " is empty");
    case CatalogFaultKind::kBadEmail:
      return head + "\"" + value + "\"" +
             (th ? " ไม่ใช่ที่อยู่อีเมลที่ถูกต้อง" : " is not a well-formed e-mail address");
    case CatalogFaultKind::kNotText:
      return head + (th ? "ต้องเป็นข้อความ" : "must be text");
  }
  return head;
}

const char* CatalogFaultCode(CatalogFaultKind kind) {
  switch (kind) {
    case CatalogFaultKind::kMissing:
      return "missing";
    case CatalogFaultKind::kNotAChoice:
      return "not_a_choice";
    case CatalogFaultKind::kOtherMissing:
      return "other_missing";
    case CatalogFaultKind::kBadEmail:
      return "bad_email";
    case CatalogFaultKind::kNotText:
      return "not_text";
  }
  return "missing";
}

std::optional<CatalogFaultKind> CatalogFaultKindOf(std::string_view code) {
  for (CatalogFaultKind k : {CatalogFaultKind::kMissing, CatalogFaultKind::kNotAChoice,
                             CatalogFaultKind::kOtherMissing, CatalogFaultKind::kBadEmail,
                             CatalogFaultKind::kNotText}) {
    if (code == CatalogFaultCode(k)) return k;
  }
  return std::nullopt;
}

const CatalogField* FindCatalogField(std::string_view name) {
  for (const CatalogField& f : CatalogFields()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string CatalogDatasetJson(const CatalogDataset& d) {
  json faults = json::array();
  for (const CatalogFault& f : d.faults) {
    faults.push_back({{"field", f.field->name},
                      {"kind", CatalogFaultCode(f.kind)},
                      {"value", f.value},
                      {"th", f.Text(Lang::kThai)},
                      {"en", f.Text(Lang::kEnglish)}});
  }
  json j = {{"index", d.index}, {"line", d.line},         {"name", d.name},
            {"title", d.title}, {"complete", d.complete()}, {"faults", std::move(faults)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string CatalogCsvHeader(Lang lang) {
  return lang == Lang::kThai ? "\xEF\xBB\xBFลำดับ,บรรทัด,name,ชื่อชุดข้อมูล,ครบถ้วน,สิ่งที่ขาดหรือผิด\r\n"
                             : "\xEF\xBB\xBFindex,line,name,title,complete,faults\r\n";
}

std::string CatalogDatasetCsv(const CatalogDataset& d, Lang lang) {
  std::string faults;
  for (const CatalogFault& f : d.faults) faults += (faults.empty() ? "" : "; ") + f.Text(lang);
  const bool th = lang == Lang::kThai;
  return std::to_string(d.index + 1) + "," + std::to_string(d.line) + "," + CsvEscape(NeutralizeFormula(d.name)) +
         "," + CsvEscape(NeutralizeFormula(d.title)) + "," +
         (d.complete() ? (th ? "ครบ" : "yes") : (th ? "ไม่ครบ" : "no")) + "," + CsvEscape(NeutralizeFormula(faults)) +
         "\r\n";
}

bool IsWellFormedEmail(std::string_view s) {
  const size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos)
    return false;
  if (s.size() > 254) return false;
  for (char c : s.substr(0, at)) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '(' || c == ')' || c == ',' || c == ';' || c == ':' ||
        c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' || c == '"')
      return false;
  }
  const std::string_view local = s.substr(0, at);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return false;
  const std::string_view domain = s.substr(at + 1);
  if (domain.empty()) return false;
  size_t start = 0;
  int labels = 0;
  std::string_view last;
  for (;;) {
    const size_t dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < 2 || last.size() < 2) return false;
  return std::all_of(last.begin(), last.end(),
                     [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
}

Result<CatalogSummary> CheckCatalog(ByteSource& source, const std::string& file,
                                    const CatalogVisitor& visit, const CatalogLimits& limits) {
  // Sniff the first meaningful byte, then start again from the beginning.
  char probe[64];
  auto got = source.Read(probe, sizeof probe);
  if (!got.ok()) return got.status();
  std::string_view head(probe, *got);
  if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  while (!head.empty() && (head.front() == ' ' || head.front() == '\n' || head.front() == '\r' ||
                           head.front() == '\t'))
    head.remove_prefix(1);
  if (Status s = source.Rewind(); !s.ok()) return s;
  if (*got == 0) {
    return Malformed(file, 0, "", "ไฟล์ว่างเปล่า", "the file is empty");
  }
  if (!head.empty() && head.front() == '{') return CheckJson(source, file, visit, limits);
  return CheckCsv(source, file, visit, limits);
}

}  // namespace esar::formats
