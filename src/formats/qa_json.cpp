#include "formats/qa_json.h"

#include <nlohmann/json.hpp>
#include <set>

#include "common/text.h"
#include "common/thai.h"
#include "formats/json_input.h"

namespace esar::formats {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "esar-qa/1";

Status Bad(const std::string& file, const std::string& path, const std::string& th,
           const std::string& en) {
  return Status::InvalidInput(th, en, Location{file, path, 0});
}

// Refuses any key of `object` not in `known`: a misspelt field must not be dropped unseen.
Status OnlyKnown(const json& object, const std::set<std::string>& known, const std::string& file,
                 const std::string& path) {
  for (const auto& [key, value] : object.items()) {
    if (!known.count(key)) {
      return Bad(file, path + "/" + key, "ไม่รู้จักช่อง \"" + key + "\"",
                 "unknown field \"" + key + "\"");
    }
  }
  return Status::Ok();
}

// A question's or answer's text at `path`: a string of plain text, not blank, at most
// kMaxQaTextBytes; returned trimmed.
Result<std::string> QaText(const json& item, const char* name, const std::string& file,
                           const std::string& path) {
  const std::string at = path + "/" + name;
  if (!item.contains(name) || !item[name].is_string())
    return Bad(file, at, std::string("\"") + name + "\" ต้องเป็นข้อความ",
               std::string("\"") + name + "\" must be a string");
  const std::string& raw = item[name].get_ref<const std::string&>();
  if (!IsPlainText(raw))
    return Bad(file, at, "ข้อความมีอักขระควบคุม", "the text holds control characters");
  std::string text = TrimSpaces(raw);
  if (text.empty()) return Bad(file, at, "ข้อความว่าง", "the text is empty");
  if (text.size() > kMaxQaTextBytes)
    return Bad(file, at, "ข้อความยาวเกิน 16 KB", "the text is longer than 16 KB");
  return text;
}

}  // namespace

bool IsValidAgencyKind(const std::string& kind) {
  if (kind.empty() || kind.size() > 64) return false;
  for (const char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

bool IsValidKpiId(const std::string& kpi) {
  if (kpi.empty() || kpi.size() > 32) return false;
  for (const char c : kpi) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      return false;
  }
  return true;
}

Result<QaFile> ParseQaFile(const std::string& text, const std::string& file) {
  auto parsed = ParseJsonText(text, file);
  if (!parsed) return parsed.status();
  const json& doc = *parsed;
  if (!doc.is_object()) return Bad(file, "", "ต้องเป็น JSON ออบเจ็กต์", "must be a JSON object");
  Status known = OnlyKnown(
      doc, {"format", "fiscal_year", "through_year", "agency_kind", "as_of", "items"}, file, "");
  if (!known.ok()) return known;
  if (doc.value("format", json()) != kFormat) {
    return Bad(file, "/format", std::string("\"format\" ต้องเป็น \"") + kFormat + "\"",
               std::string("\"format\" must be \"") + kFormat + "\"");
  }
  QaFile out;
  const json year = doc.value("fiscal_year", json());
  if (!year.is_number_integer() || year.get<int64_t>() < 2400 || year.get<int64_t>() > 2800) {
    return Bad(file, "/fiscal_year", "ปีงบประมาณต้องเป็นปี พ.ศ. (2400 - 2800)",
               "the fiscal year must be a Buddhist Era year (2400 - 2800)");
  }
  out.fiscal_year = year.get<int>();
  out.through_year = out.fiscal_year;
  if (doc.contains("through_year")) {
    const json through = doc["through_year"];
    if (!through.is_number_integer() || through.get<int64_t>() < out.fiscal_year ||
        through.get<int64_t>() > out.fiscal_year + 5) {
      return Bad(file, "/through_year", "through_year ต้องอยู่ระหว่าง fiscal_year ถึง 5 ปีหลังจากนั้น",
                 "through_year must be from fiscal_year to 5 years after it");
    }
    out.through_year = through.get<int>();
  }
  const json kind = doc.value("agency_kind", json());
  if (!kind.is_string() || !IsValidAgencyKind(kind.get<std::string>())) {
    return Bad(file, "/agency_kind", "agency_kind ต้องเป็น a-z, 0-9, _ หรือ - (1 - 64 ตัว)",
               "agency_kind must be 1 - 64 of a-z, 0-9, _ and -");
  }
  out.agency_kind = kind.get<std::string>();
  const json as_of = doc.value("as_of", json());
  if (!as_of.is_string()) {
    return Bad(file, "/as_of", "as_of ต้องเป็นวันที่ YYYY-MM-DD", "as_of must be a date, YYYY-MM-DD");
  }
  auto day = ParseBangkokDateTime(as_of.get<std::string>(), "00:00");
  if (!day) return Bad(file, "/as_of", day.status().message_th(), day.status().message_en());
  out.as_of_ms = *day;
  const json items = doc.value("items", json());
  if (!items.is_array() || items.empty() || items.size() > kMaxQaItems) {
    return Bad(file, "/items", "items ต้องเป็นอาร์เรย์ 1 - 10,000 รายการ",
               "items must be an array of 1 - 10,000 entries");
  }
  std::set<int64_t> numbers;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string path = "/items/" + std::to_string(i);
    const json& item = items[i];
    if (!item.is_object())
      return Bad(file, path, "แต่ละรายการต้องเป็นออบเจ็กต์", "each entry must be an object");
    known = OnlyKnown(item, {"number", "question", "answer", "kpi"}, file, path);
    if (!known.ok()) return known;
    const json number = item.value("number", json());
    if (!number.is_number_integer() || number.get<int64_t>() < 1 ||
        number.get<int64_t>() > 1'000'000) {
      return Bad(file, path + "/number", "number ต้องเป็นจำนวนเต็มบวก",
                 "number must be a positive whole number");
    }
    if (!numbers.insert(number.get<int64_t>()).second) {
      return Bad(file, path + "/number", "ข้อ " + std::to_string(number.get<int64_t>()) + " ซ้ำ",
                 "number " + std::to_string(number.get<int64_t>()) + " appears twice");
    }
    QaItem entry;
    entry.number = number.get<int>();
    auto question = QaText(item, "question", file, path);
    if (!question) return question.status();
    entry.question = std::move(*question);
    auto answer = QaText(item, "answer", file, path);
    if (!answer) return answer.status();
    entry.answer = std::move(*answer);
    if (item.contains("kpi")) {
      if (!item["kpi"].is_string() || !IsValidKpiId(item["kpi"].get<std::string>())) {
        return Bad(file, path + "/kpi", "kpi ต้องเป็นรหัสตัวชี้วัด (1 - 32 ตัว: ตัวอักษร ตัวเลข . _ -)",
                   "kpi must be a KPI id (1 - 32 of letters, digits, . _ -)");
      }
      entry.kpi = item["kpi"].get<std::string>();
    }
    out.items.push_back(std::move(entry));
  }
  return out;
}

Result<QaFile> LoadQaFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return text.status();
  return ParseQaFile(*text, path);
}

}  // namespace esar::formats
