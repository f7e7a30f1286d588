#include "formats/inputs.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

#include "formats/csv.h"
#include "formats/json_input.h"
#include "formats/past_results.h"
#include "formats/sheet_writer.h"
#include "formats/xlsx_reader.h"

namespace esar::formats {
namespace {

using nlohmann::json;

constexpr double kMaxMagnitude = 1e15;

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<double> ParseNumber(const std::string& raw) {
  const std::string s = Trim(raw);
  double v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (!s.empty() && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (s.empty() || ec == std::errc::invalid_argument || ptr != end) {
    return Status::InvalidInput(
        "\"" + s + "\" ไม่ใช่ตัวเลข (ใช้จุดทศนิยม ไม่ใส่เครื่องหมาย , หรือ %)",
        "\"" + s + "\" is not a number (use a decimal point, no thousands separators or %)");
  }
  if (ec == std::errc::result_out_of_range || !std::isfinite(v) || std::fabs(v) > kMaxMagnitude) {
    return Status::InvalidInput("ตัวเลข \"" + s + "\" ใหญ่เกินไป (เกิน 10^15)",
                                "the number \"" + s + "\" is too large (beyond 10^15)");
  }
  return v;
}

Result<int> ParseYear(const std::string& raw) {
  auto v = ParseNumber(raw);
  if (!v || *v != std::floor(*v) || *v < 2400 || *v > 2800) {
    return Status::InvalidInput(
        "ปีงบประมาณ \"" + Trim(raw) + "\" ต้องเป็นปี พ.ศ. เช่น 2567",
        "fiscal year \"" + Trim(raw) + "\" must be a Buddhist Era year such as 2567");
  }
  return static_cast<int>(*v);
}

Result<int> ParseRound(const std::string& raw) {
  const std::string s = Trim(raw);
  if (s.empty() || s == "12") return 12;
  if (s == "6") return 6;
  return Status::InvalidInput("รอบ \"" + s + "\" ต้องเป็น 6 หรือ 12",
                              "round \"" + s + "\" must be 6 or 12");
}

Status At(const Status& s, const std::string& file, int line, const std::string& path = "") {
  return Status::InvalidInput(s.message_th(), s.message_en(), Location{file, path, line});
}

Status Missing(const std::string& column, const std::string& file, int line) {
  return Status::InvalidInput("ช่อง \"" + column + "\" ว่าง", "the \"" + column + "\" field is empty",
                              {file, "", line});
}

// The code fields are identifiers that appear in messages and URLs: keep them printable.
bool IsCleanCode(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// The array in a JSON file that holds either the array itself or {"<key>": [...]}.
Result<const json*> JsonList(const json& root, const char* key, const std::string& file,
                             const std::string& what_th, const std::string& what_en) {
  const json* list = &root;
  if (root.is_object() && root.contains(key)) list = &root[key];
  if (!list->is_array()) {
    return Status::InvalidInput("ต้องเป็นอาร์เรย์ของ" + what_th, "must be an array of " + what_en,
                                {file, std::string("/") + key, 0});
  }
  return list;
}

}  // namespace

Result<std::vector<double>> ParseValue(const std::string& text) {
  const std::string s = Trim(text);
  if (s == "ผ่าน" || s == "pass" || s == "PASS" || s == "Pass") return std::vector<double>{1};
  if (s == "ไม่ผ่าน" || s == "fail" || s == "FAIL" || s == "Fail") return std::vector<double>{0};
  // A date (the day a dated milestone was reached): its day number, as domain::Day counts.
  if (auto day = domain::ParseCaseDate(s)) return std::vector<double>{static_cast<double>(*day)};
  std::vector<double> out;
  size_t start = 0;
  while (true) {
    const size_t semi = s.find(';', start);
    auto v =
        ParseNumber(s.substr(start, semi == std::string::npos ? std::string::npos : semi - start));
    if (!v) return v.status();
    out.push_back(*v);
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  return out;
}

Result<std::vector<domain::Agency>> ParseAgencies(const std::string& text,
                                                  const std::string& file) {
  std::vector<domain::Agency> out;
  if (EndsWith(file, ".json")) {
    auto root = ParseJsonText(text, file);
    if (!root) return root.status();
    auto found = JsonList(*root, "agencies", file, "หน่วยงาน", "agencies");
    if (!found) return found.status();
    const json* list = *found;
    for (size_t i = 0; i < list->size(); ++i) {
      const json& a = (*list)[i];
      const std::string path = "/agencies/" + std::to_string(i);
      if (!a.is_object() || !a.contains("code") || !a["code"].is_string()) {
        return Status::InvalidInput("หน่วยงานต้องเป็นออบเจ็กต์ที่มี code เป็นข้อความ",
                                    "an agency is an object with a string \"code\"",
                                    {file, path, 0});
      }
      domain::Agency agency;
      agency.code = a["code"].get<std::string>();
      agency.where = {file, path, 0};
      auto text_of = [&](const char* key, std::string& into) -> bool {
        if (!a.contains(key) || a[key].is_null()) return true;
        if (!a[key].is_string()) return false;
        into = a[key].get<std::string>();
        return true;
      };
      if (a.contains("name") && a["name"].is_object()) {
        for (const char* lang : {"th", "en"}) {
          if (a["name"].contains(lang) && !a["name"][lang].is_null() &&
              !a["name"][lang].is_string()) {
            return Status::InvalidInput(std::string("name.") + lang + " ต้องเป็นข้อความ",
                                        std::string("name.") + lang + " must be a string",
                                        {file, path + "/name/" + lang, 0});
          }
        }
        if (a["name"].contains("th") && a["name"]["th"].is_string())
          agency.name.th = a["name"]["th"].get<std::string>();
        if (a["name"].contains("en") && a["name"]["en"].is_string())
          agency.name.en = a["name"]["en"].get<std::string>();
      } else if (!text_of("name", agency.name.th)) {
        return Status::InvalidInput("name ต้องเป็นข้อความหรือ {\"th\",\"en\"}",
                                    "\"name\" must be a string or {\"th\",\"en\"}",
                                    {file, path + "/name", 0});
      }
      if (!text_of("kind", agency.kind) || !text_of("parent", agency.parent)) {
        return Status::InvalidInput("kind และ parent ต้องเป็นข้อความ",
                                    "\"kind\" and \"parent\" must be strings", {file, path, 0});
      }
      if (a.contains("email")) {
        std::string email;
        if (!text_of("email", email)) {
          return Status::InvalidInput("email ต้องเป็นข้อความ", "\"email\" must be a string",
                                      {file, path + "/email", 0});
        }
        agency.email = std::move(email);
      }
      if (!IsCleanCode(agency.code)) {
        return Status::InvalidInput("รหัสหน่วยงานต้องยาว 1–64 ตัวอักษร ไม่มีอักขระควบคุม",
                                    "an agency code is 1–64 characters without control characters",
                                    {file, path + "/code", 0});
      }
      out.push_back(std::move(agency));
    }
    return out;
  }
  auto table = CsvTable::Parse(text, file, {"code", "name_th"});
  if (!table) return table.status();
  // A cell esar's own export neutralised ("'-X") comes back as it was (RestoreNeutralized).
  const auto cell = [&](const CsvRow& row, const char* column) {
    return RestoreNeutralized(Trim(table->Field(row, column)));
  };
  for (const CsvRow& row : table->rows()) {
    domain::Agency agency;
    agency.code = cell(row, "code");
    if (agency.code.empty()) return Missing("code", file, row.line);
    if (!IsCleanCode(agency.code)) {
      return Status::InvalidInput("รหัสหน่วยงานต้องยาว 1–64 ตัวอักษร ไม่มีอักขระควบคุม",
                                  "an agency code is 1–64 characters without control characters",
                                  {file, "", row.line});
    }
    agency.name = {cell(row, "name_th"), cell(row, "name_en")};
    agency.kind = cell(row, "kind");
    agency.parent = cell(row, "parent");
    if (table->HasColumn("email")) agency.email = cell(row, "email");
    agency.where = {file, "", row.line};
    out.push_back(std::move(agency));
  }
  return out;
}

namespace {

// The first sheet of the XLSX file `bytes` as CSV text whose lines are its rows, and the name
// to give messages about it.
Result<std::pair<std::string, std::string>> FirstSheet(std::string_view bytes,
                                                       const std::string& file) {
  auto book = ReadXlsx(bytes);
  if (!book) {
    const Status& s = book.status();
    return Status::InvalidInput(s.message_th(), s.message_en(), {file, "", 0});
  }
  if (book->sheets.empty()) {
    return Status::InvalidInput("ไฟล์ XLSX ไม่มีชีต", "the XLSX file has no sheet", {file, "", 0});
  }
  const XlsxSheet& sheet = book->sheets.front();
  // Named so the readers take it as CSV (not ".json") and the line reads as the sheet's row.
  return std::pair{SheetToCsv(sheet), file + " [ชีต/sheet " + sheet.name + ", แถว/row]"};
}

}  // namespace

Result<std::vector<domain::Agency>> ParseAgenciesXlsx(std::string_view bytes,
                                                      const std::string& file) {
  auto sheet = FirstSheet(bytes, file);
  if (!sheet) return sheet.status();
  return ParseAgencies(sheet->first, sheet->second);
}

Result<std::vector<domain::Observation>> ParseObservationsXlsx(std::string_view bytes,
                                                               const std::string& file) {
  auto sheet = FirstSheet(bytes, file);
  if (!sheet) return sheet.status();
  return ParseObservations(sheet->first, sheet->second);
}

Result<std::vector<domain::Agency>> LoadAgencies(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return text.status();
  if (EndsWith(path, ".xlsx")) return ParseAgenciesXlsx(*text, path);
  return ParseAgencies(*text, path);
}

Result<std::vector<domain::Observation>> ParseObservations(const std::string& text,
                                                           const std::string& file) {
  std::vector<domain::Observation> out;
  if (EndsWith(file, ".json")) {
    auto root = ParseJsonText(text, file);
    if (!root) return root.status();
    auto found = JsonList(*root, "observations", file, "ค่า", "observations");
    if (!found) return found.status();
    const json* list = *found;
    for (size_t i = 0; i < list->size(); ++i) {
      const json& o = (*list)[i];
      const std::string path = "/observations/" + std::to_string(i);
      if (!o.is_object())
        return Status::InvalidInput("ต้องเป็นออบเจ็กต์", "must be an object", {file, path, 0});
      domain::Observation obs;
      obs.where = {file, path, 0};
      for (const char* key : {"agency", "kpi", "variable"}) {
        if (!o.contains(key) || !o[key].is_string() || o[key].get<std::string>().empty()) {
          return Status::InvalidInput(std::string("ต้องมี \"") + key + "\" เป็นข้อความ",
                                      std::string("needs a string \"") + key + "\"",
                                      {file, path + "/" + key, 0});
        }
      }
      obs.agency = o["agency"].get<std::string>();
      obs.kpi = o["kpi"].get<std::string>();
      obs.variable = o["variable"].get<std::string>();
      if (!o.contains("fiscal_year") || !o["fiscal_year"].is_number_integer()) {
        return Status::InvalidInput("ต้องมี fiscal_year เป็นปี พ.ศ.",
                                    "needs \"fiscal_year\", a Buddhist Era year",
                                    {file, path + "/fiscal_year", 0});
      }
      auto year = ParseYear(std::to_string(o["fiscal_year"].get<long long>()));
      if (!year) return At(year.status(), file, 0, path + "/fiscal_year");
      obs.fiscal_year = *year;
      if (o.contains("round") && !o["round"].is_null()) {
        if (!o["round"].is_number_integer())
          return Status::InvalidInput("รอบต้องเป็น 6 หรือ 12", "round must be 6 or 12",
                                      {file, path + "/round", 0});
        auto round = ParseRound(std::to_string(o["round"].get<long long>()));
        if (!round) return At(round.status(), file, 0, path + "/round");
        obs.round = *round;
      }
      if (!o.contains("value"))
        return Status::InvalidInput("ต้องมี value", "needs \"value\"", {file, path + "/value", 0});
      const json& v = o["value"];
      auto one = [&](const json& x, const std::string& p) -> Result<double> {
        if (x.is_number()) {
          const double d = x.get<double>();
          if (!std::isfinite(d) || std::fabs(d) > kMaxMagnitude)
            return Status::InvalidInput("ตัวเลขใหญ่เกินไป (เกิน 10^15)",
                                        "the number is too large (beyond 10^15)", {file, p, 0});
          return d;
        }
        if (x.is_string()) {
          auto parsed = ParseValue(x.get<std::string>());
          if (!parsed || parsed->size() != 1)
            return Status::InvalidInput("ค่าต้องเป็นตัวเลข หรือ ผ่าน/ไม่ผ่าน",
                                        "a value is a number or pass/fail", {file, p, 0});
          return parsed->front();
        }
        return Status::InvalidInput("ค่าต้องเป็นตัวเลข ข้อความ ผ่าน/ไม่ผ่าน หรืออาร์เรย์ของตัวเลข",
                                    "a value is a number, pass/fail, or an array of numbers",
                                    {file, p, 0});
      };
      if (v.is_array()) {
        if (v.empty())
          return Status::InvalidInput("รายการค่าว่างเปล่า", "the list of values is empty",
                                      {file, path + "/value", 0});
        for (size_t k = 0; k < v.size(); ++k) {
          auto d = one(v[k], path + "/value/" + std::to_string(k));
          if (!d) return d.status();
          obs.values.push_back(*d);
        }
      } else {
        auto d = one(v, path + "/value");
        if (!d) return d.status();
        obs.values.push_back(*d);
      }
      out.push_back(std::move(obs));
    }
    return out;
  }
  auto table = CsvTable::Parse(text, file, {"agency", "kpi", "variable", "fiscal_year", "value"});
  if (!table) return table.status();
  out.reserve(table->rows().size());
  for (const CsvRow& row : table->rows()) {
    domain::Observation obs;
    obs.where = {file, "", row.line};
    obs.agency = Trim(table->Field(row, "agency"));
    obs.kpi = Trim(table->Field(row, "kpi"));
    obs.variable = Trim(table->Field(row, "variable"));
    if (obs.agency.empty()) return Missing("agency", file, row.line);
    if (obs.kpi.empty()) return Missing("kpi", file, row.line);
    if (obs.variable.empty()) return Missing("variable", file, row.line);
    auto year = ParseYear(table->Field(row, "fiscal_year"));
    if (!year) return At(year.status(), file, row.line);
    obs.fiscal_year = *year;
    auto round = ParseRound(table->Field(row, "round"));
    if (!round) return At(round.status(), file, row.line);
    obs.round = *round;
    auto values = ParseValue(table->Field(row, "value"));
    if (!values) return At(values.status(), file, row.line);
    obs.values = std::move(*values);
    out.push_back(std::move(obs));
  }
  return out;
}

Result<std::vector<domain::Observation>> LoadObservations(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return text.status();
  if (EndsWith(path, ".xlsx")) return ParseObservationsXlsx(*text, path);
  return ParseObservations(*text, path);
}

Result<std::vector<domain::PastResult>> ParsePastResults(const std::string& text,
                                                         const std::string& file) {
  auto table = CsvTable::Parse(text, file, {"fiscal_year", "agency", "kpi_key"});
  if (!table) return table.status();
  std::vector<domain::PastResult> out;
  // Where each (agency, key, year, round) was first given, and each total with its value.
  std::map<std::tuple<std::string, std::string, int, int>, int> seen;
  std::map<std::tuple<std::string, int, int>, std::pair<double, int>> totals;
  for (const CsvRow& row : table->rows()) {
    domain::PastResult p;
    p.where = {file, "", row.line};
    auto year = ParseYear(table->Field(row, "fiscal_year"));
    if (!year) return At(year.status(), file, row.line);
    p.fiscal_year = *year;
    auto round = ParseRound(table->Field(row, "round"));
    if (!round) return At(round.status(), file, row.line);
    p.round = *round;
    p.agency = Trim(table->Field(row, "agency"));
    if (p.agency.empty()) return Missing("agency", file, row.line);
    if (!IsCleanCode(p.agency)) {
      return Status::InvalidInput("รหัสหน่วยงานมีอักขระควบคุม หรือยาวเกิน 64 ตัวอักษร",
                                  "the agency code has control characters or is over 64 long",
                                  {file, "", row.line});
    }
    p.kpi_key = Trim(table->Field(row, "kpi_key"));
    if (!p.kpi_key.empty() && !domain::IsValidKpiKey(p.kpi_key)) {
      return Status::InvalidInput(
          "รหัสประจำตัวชี้วัด \"" + p.kpi_key +
              "\" ใช้ไม่ได้: ต้องยาว 1–64 ตัวอักษร ใช้ได้เฉพาะ a–z 0–9 - _ และขึ้นต้นด้วยตัวอักษร",
          "the KPI key \"" + p.kpi_key +
              "\" is not valid: 1–64 characters of a–z 0–9 - _, starting with a letter",
          {file, "", row.line});
    }
    std::optional<double> values[3];
    const char* columns[3] = {"result", "score", "total"};
    for (int i = 0; i < 3; ++i) {
      const std::string cell = Trim(table->Field(row, columns[i]));
      if (cell.empty()) continue;
      auto v = ParseNumber(cell);
      if (!v) {
        return Status::InvalidInput(
            "ช่อง \"" + std::string(columns[i]) + "\": " + v.status().message_th(),
            "column \"" + std::string(columns[i]) + "\": " + v.status().message_en(),
            {file, "", row.line});
      }
      values[i] = *v;
    }
    if (p.kpi_key.empty()) {
      if (values[0] || values[1] || !values[2]) {
        return Status::InvalidInput(
            "แถวที่ไม่มี kpi_key คือคะแนนรวมของหน่วยงาน: ต้องมี total และไม่มี result หรือ score",
            "a row without a kpi_key is the agency's total: it needs total, and no result or "
            "score",
            {file, "", row.line});
      }
    } else if (!values[0] && !values[1]) {
      return Status::InvalidInput(
          "แถวของตัวชี้วัด " + p.kpi_key + " ต้องมี result หรือ score อย่างน้อยหนึ่งค่า",
          "the row of KPI " + p.kpi_key + " needs a result or a score, or both",
          {file, "", row.line});
    }
    const std::string year_text = std::to_string(p.fiscal_year);
    const std::string round_text = std::to_string(p.round);
    if (!p.kpi_key.empty()) {
      const auto [at, fresh] =
          seen.emplace(std::make_tuple(p.agency, p.kpi_key, p.fiscal_year, p.round), row.line);
      if (!fresh) {
        return Status::InvalidInput(
            "หน่วยงาน " + p.agency + " ตัวชี้วัด " + p.kpi_key + " ปีงบประมาณ พ.ศ. " + year_text +
                " รอบ " + round_text + " เดือน ซ้ำกับบรรทัด " + std::to_string(at->second),
            "agency " + p.agency + ", KPI " + p.kpi_key + ", FY" + year_text + " round " +
                round_text + " is given again (first on line " + std::to_string(at->second) + ")",
            {file, "", row.line});
      }
      p.result = values[0];
      p.score = values[1];
      out.push_back(p);
    }
    if (values[2]) {
      const auto [at, fresh] = totals.emplace(std::make_tuple(p.agency, p.fiscal_year, p.round),
                                              std::make_pair(*values[2], row.line));
      if (!fresh) {
        // The total may be repeated on each KPI row of the agency, as spreadsheets do.
        if (at->second.first != *values[2]) {
          return Status::InvalidInput(
              "คะแนนรวมของหน่วยงาน " + p.agency + " ปีงบประมาณ พ.ศ. " + year_text + " รอบ " +
                  round_text + " เดือน ไม่ตรงกับบรรทัด " + std::to_string(at->second.second),
              "the total of agency " + p.agency + " for FY" + year_text + " round " + round_text +
                  " differs from line " + std::to_string(at->second.second),
              {file, "", row.line});
        }
        continue;
      }
      domain::PastResult total = p;
      total.kpi_key.clear();
      total.result.reset();
      total.score = values[2];
      out.push_back(std::move(total));
    }
  }
  return out;
}

Result<std::vector<domain::PastResult>> LoadPastResults(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return text.status();
  return ParsePastResults(*text, path);
}

}  // namespace esar::formats
