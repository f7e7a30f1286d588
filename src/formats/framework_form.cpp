#include "formats/framework_form.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <utility>

#include "domain/cases.h"
#include "domain/expression.h"
#include "domain/model.h"
#include "formats/framework_json.h"

namespace esar::formats {
namespace {

using nlohmann::json;

// A form's text with the line breaks browsers send (CR LF) made the document's (LF).
std::string Lf(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i];
  }
  return out;
}

std::string Trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string Get(const FormFields& fields, const std::string& name) {
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : Lf(it->second);
}

Status FieldError(const std::string& field, const std::string& th, const std::string& en) {
  return Status::InvalidInput(th, en, Location{"", field, 0});
}

// A localized text's two languages as the form shows them.
std::pair<std::string, std::string> ReadText(const json& value) {
  if (value.is_string()) return {value.get<std::string>(), ""};
  if (!value.is_object()) return {"", ""};
  auto part = [&](const char* lang) {
    return value.contains(lang) && value[lang].is_string() ? value[lang].get<std::string>()
                                                           : std::string();
  };
  return {part("th"), part("en")};
}

// The JSON of a localized text typed as `th` and `en`: a plain string when there is no English
// (the format's Thai default), nullopt when both are empty.
std::optional<json> MakeText(const std::string& th, const std::string& en) {
  if (th.empty() && en.empty()) return std::nullopt;
  if (en.empty()) return json(th);
  if (th.empty()) return json{{"en", en}};
  return json{{"th", th}, {"en", en}};
}

// A number or a formula as typed: the JSON number's shortest text, or the string itself.
std::string ValueText(const json& value) {
  if (value.is_number()) return value.dump();
  if (value.is_string()) return value.get<std::string>();
  return "";
}

std::optional<double> ParseNumber(const std::string& typed) {
  const std::string text = Trim(typed);
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value) || std::fabs(value) > 1e15) {
    return std::nullopt;
  }
  return value;
}

// A number as JSON: whole numbers as integers, so that 70 is written 70, not 70.0.
json NumberJson(double value) {
  if (std::floor(value) == value && std::fabs(value) < 9e15) {
    return json(static_cast<int64_t>(value));
  }
  return json(value);
}

Status NotANumber(const std::string& field, const std::string& label_th,
                  const std::string& label_en) {
  return FieldError(field, label_th + ": ต้องเป็นตัวเลข เช่น 80 หรือ 12.5",
                    label_en + ": must be a number such as 80 or 12.5");
}

// One row of a row group: its index as sent and its columns' values.
struct Row {
  int index = 0;
  std::map<std::string, std::string> values;
  bool operator==(const Row&) const = default;
};

// The rows `prefix`.N of `fields` in the order of N (every N sent, gaps allowed), without the
// blank ones (every column of `key_columns` empty). kInvalidInput when an N is kMaxFormRows or
// more, or is not a number.
Result<std::vector<Row>> Rows(const FormFields& fields, const std::string& prefix,
                              const std::vector<std::string>& columns,
                              const std::vector<std::string>& key_columns) {
  std::set<int> indices;
  const std::string start = prefix + ".";
  for (auto it = fields.lower_bound(start); it != fields.end() && it->first.rfind(start, 0) == 0;
       ++it) {
    const std::string rest = it->first.substr(start.size());
    const std::string n = rest.substr(0, rest.find('.'));
    int index = -1;
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), index);
    if (ec != std::errc() || ptr != n.data() + n.size() || n.empty() || index < 0 ||
        index >= kMaxFormRows) {
      return FieldError(prefix, "มีรายการมากเกินไป (ไม่เกิน " + std::to_string(kMaxFormRows) + " รายการ)",
                        "too many rows (at most " + std::to_string(kMaxFormRows) + ")");
    }
    indices.insert(index);
  }
  std::vector<Row> rows;
  for (int i : indices) {
    const std::string base = start + std::to_string(i) + ".";
    Row row;
    row.index = i;
    for (const std::string& c : columns) row.values[c] = Get(fields, base + c);
    bool blank = true;
    for (const std::string& c : key_columns) {
      if (!Trim(row.values[c]).empty()) blank = false;
    }
    if (!blank) rows.push_back(std::move(row));
  }
  return rows;
}

// The value of column `column` of the row sent as `index` in `before`, or "".
std::string Before(const std::vector<Row>& before, int index, const std::string& column) {
  for (const Row& r : before) {
    if (r.index == index) {
      auto it = r.values.find(column);
      return it == r.values.end() ? "" : it->second;
    }
  }
  return "";
}

// Sets `object[key]` to the text typed as th/en, or removes it when both are empty.
void PutText(json& object, const char* key, const std::string& th, const std::string& en) {
  auto text = MakeText(th, en);
  if (text) {
    object[key] = *text;
  } else {
    object.erase(key);
  }
}

// ---- the KPI form's groups ----

const std::vector<std::pair<const char*, const char*>> kFlags = {
    {"new", "flag.new"},
    {"continuing", "flag.continuing"},
    {"reform_plan", "flag.reform_plan"},
    {"monitoring_only", "flag.monitoring_only"}};

const std::vector<std::string> kVariableColumns = {"id",     "type",    "name.th", "name.en",
                                                   "unit.th", "unit.en", "formula", "length",
                                                   "optional", "min",   "max"};
const std::vector<std::string> kVariableKeys = {"id", "name.th", "name.en", "formula"};
const std::vector<std::string> kVariableTypes = {"number",    "percent",     "count", "pass_fail",
                                                 "number_list", "derived", "date"};
const std::vector<std::string> kDocTexts = {"description", "scope",   "data_collection",
                                            "data_source", "formula", "benefit"};
const std::vector<std::string> kDocLists = {"definitions", "steps"};
const std::vector<std::string> kDocYears = {"baseline", "roadmap"};
const std::vector<std::string> kTextColumns = {"th", "en"};
const std::vector<std::string> kYearColumns = {"fiscal_year", "value", "text.th", "text.en"};

void AddText(FormFields& out, const std::string& name, const json& value) {
  auto [th, en] = ReadText(value);
  out[name + ".th"] = th;
  out[name + ".en"] = en;
}

const json& Member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::set<int> RoundsOf(const json& kpi) {
  const json& rounds = Member(kpi, "rounds");
  if (rounds.is_null()) return {6, 12};
  std::set<int> out;
  if (rounds.is_array()) {
    for (const json& r : rounds) {
      if (r.is_number()) out.insert(static_cast<int>(r.get<double>()));
    }
  }
  return out;
}

Status ApplyVariables(json& kpi, const json& original, const FormFields& fields) {
  const FormFields before_fields = KpiFormFields(original);
  auto before = Rows(before_fields, "variables", kVariableColumns, kVariableKeys);
  auto sent = Rows(fields, "variables", kVariableColumns, kVariableKeys);
  if (!sent) return sent.status();
  if (*sent == *before) return Status::Ok();
  const json& old = Member(original, "variables");
  json out = json::array();
  std::set<std::string> ids;
  for (const Row& row : *sent) {
    const std::string at = "variables." + std::to_string(row.index) + ".";
    json v = old.is_array() && static_cast<size_t>(row.index) < old.size() &&
                     old[static_cast<size_t>(row.index)].is_object()
                 ? old[static_cast<size_t>(row.index)]
                 : json::object();
    auto changed = [&](const std::string& c) {
      return row.values.at(c) != Before(*before, row.index, c) || !v.is_object() ||
             v.empty();
    };
    const std::string id = Trim(row.values.at("id"));
    const std::string type = row.values.at("type");
    if (!domain::IsIdentifier(id) || id.size() > 64) {
      return FieldError(at + "id",
                        "รหัสตัวแปร \"" + id +
                            "\" ใช้ได้เฉพาะอักษรอังกฤษ ตัวเลข และ _ ขึ้นต้นด้วยอักษร (ไม่เกิน 64 ตัว)",
                        "variable id \"" + id +
                            "\": only English letters, digits and _, starting with a letter (at "
                            "most 64)");
    }
    if (!ids.insert(id).second) {
      return FieldError(at + "id", "รหัสตัวแปร \"" + id + "\" ซ้ำกับตัวแปรอื่นของตัวชี้วัดนี้",
                        "variable id \"" + id + "\" is used twice in this KPI");
    }
    if (std::find(kVariableTypes.begin(), kVariableTypes.end(), type) == kVariableTypes.end()) {
      return FieldError(at + "type", "เลือกชนิดของตัวแปร " + id, "choose the type of variable " + id);
    }
    if (changed("id")) v["id"] = id;
    if (changed("type")) v["type"] = type;
    if (changed("name.th") || changed("name.en")) {
      PutText(v, "name", row.values.at("name.th"), row.values.at("name.en"));
    }
    if (changed("unit.th") || changed("unit.en")) {
      PutText(v, "unit", row.values.at("unit.th"), row.values.at("unit.en"));
    }
    const std::string formula = Trim(row.values.at("formula"));
    if (type == "derived" && formula.empty()) {
      return FieldError(at + "formula", "ตัวแปรคำนวณ " + id + " ต้องมีสูตร",
                        "derived variable " + id + " needs a formula");
    }
    if (changed("formula")) {
      if (formula.empty()) {
        v.erase("formula");
      } else {
        v["formula"] = formula;
      }
    }
    const std::string length = Trim(row.values.at("length"));
    if (type == "number_list" && length.empty()) {
      return FieldError(at + "length", "รายการตัวเลข " + id + " ต้องระบุจำนวน (1–1000)",
                        "number list " + id + " needs its length (1-1000)");
    }
    if (changed("length")) {
      if (length.empty()) {
        v.erase("length");
      } else {
        auto n = ParseNumber(length);
        if (!n || *n != std::floor(*n) || *n < 1 || *n > 1000) {
          return FieldError(at + "length", "จำนวนของ " + id + " ต้องเป็นจำนวนเต็ม 1–1000",
                            "the length of " + id + " must be a whole number from 1 to 1000");
        }
        v["length"] = NumberJson(*n);
      }
    }
    if (changed("optional")) {
      if (row.values.at("optional").empty()) {
        v.erase("optional");
      } else {
        v["optional"] = true;
      }
    }
    for (const char* bound : {"min", "max"}) {
      if (!changed(bound)) continue;
      const std::string text = Trim(row.values.at(bound));
      if (text.empty()) {
        v.erase(bound);
        continue;
      }
      auto n = ParseNumber(text);
      if (!n) {
        return NotANumber(at + bound,
                          std::string(bound == std::string("min") ? "ค่าต่ำสุด" : "ค่าสูงสุด") +
                              "ของ " + id,
                          std::string(bound) + " of " + id);
      }
      v[bound] = NumberJson(*n);
    }
    out.push_back(std::move(v));
  }
  if (out.empty()) {
    kpi.erase("variables");
  } else {
    kpi["variables"] = std::move(out);
  }
  return Status::Ok();
}

// Applies a list of texts (`doc.<key>` rows) to documentation object `doc`.
Status ApplyTextList(json& doc, const json& original_doc, const std::string& key,
                     const FormFields& before_fields, const FormFields& fields) {
  const std::string prefix = "doc." + key;
  auto before = Rows(before_fields, prefix, kTextColumns, kTextColumns);
  auto sent = Rows(fields, prefix, kTextColumns, kTextColumns);
  if (!sent) return sent.status();
  if (*sent == *before) return Status::Ok();
  const json& old = Member(original_doc, key.c_str());
  json out = json::array();
  for (const Row& row : *sent) {
    const bool same = row.values.at("th") == Before(*before, row.index, "th") &&
                      row.values.at("en") == Before(*before, row.index, "en");
    if (same && old.is_array() && static_cast<size_t>(row.index) < old.size()) {
      out.push_back(old[static_cast<size_t>(row.index)]);
    } else {
      out.push_back(*MakeText(row.values.at("th"), row.values.at("en")));
    }
  }
  if (out.empty()) {
    doc.erase(key);
  } else {
    doc[key] = std::move(out);
  }
  return Status::Ok();
}

// Applies the rows of a baseline or roadmap (`doc.<key>`) to documentation object `doc`.
Status ApplyYears(json& doc, const json& original_doc, const std::string& key,
                  const FormFields& before_fields, const FormFields& fields) {
  const std::string prefix = "doc." + key;
  auto before = Rows(before_fields, prefix, kYearColumns, kYearColumns);
  auto sent = Rows(fields, prefix, kYearColumns, kYearColumns);
  if (!sent) return sent.status();
  if (*sent == *before) return Status::Ok();
  const json& old = Member(original_doc, key.c_str());
  json out = json::array();
  for (const Row& row : *sent) {
    const std::string at = prefix + "." + std::to_string(row.index) + ".";
    json entry = old.is_array() && static_cast<size_t>(row.index) < old.size() &&
                         old[static_cast<size_t>(row.index)].is_object()
                     ? old[static_cast<size_t>(row.index)]
                     : json::object();
    auto changed = [&](const std::string& c) {
      return row.values.at(c) != Before(*before, row.index, c) || entry.empty();
    };
    auto year = ParseNumber(row.values.at("fiscal_year"));
    if (!year || *year != std::floor(*year) || *year < 2400 || *year > 2800) {
      return FieldError(at + "fiscal_year", "ปีงบประมาณต้องเป็นปี พ.ศ. เช่น 2566",
                        "the fiscal year must be a Buddhist Era year such as 2566");
    }
    if (changed("fiscal_year")) entry["fiscal_year"] = NumberJson(*year);
    if (changed("value")) {
      const std::string text = Trim(row.values.at("value"));
      if (text.empty()) {
        entry.erase("value");
      } else {
        auto n = ParseNumber(text);
        if (!n) return NotANumber(at + "value", "ค่า", "value");
        entry["value"] = NumberJson(*n);
      }
    }
    if (changed("text.th") || changed("text.en")) {
      PutText(entry, "text", row.values.at("text.th"), row.values.at("text.en"));
    }
    out.push_back(std::move(entry));
  }
  if (out.empty()) {
    doc.erase(key);
  } else {
    doc[key] = std::move(out);
  }
  return Status::Ok();
}


// ---- the criteria form (levels and milestones; other forms stay in the JSON editor) ----

// The criteria forms that have a form of their own. Groups, points and conditions are edited
// in the KPI's JSON until theirs exist.
bool HasCriteriaForm(const json& criteria) {
  const json& form = Member(criteria, "form");
  return form.is_string() && (form == "levels" || form == "milestones");
}

// A milestone's due date as typed in the form: day/month/Buddhist Era year ("31/12/2563").
std::string DueText(const json& due) {
  if (!due.is_string()) return "";
  auto day = domain::ParseIsoDate(due.get<std::string>());
  if (!day) return due.get<std::string>();
  int y = 0, m = 0, d = 0;
  domain::CivilFromDay(*day, y, m, d);
  return std::to_string(d) + "/" + std::to_string(m) + "/" + std::to_string(y + 543);
}

// The number N of every field "`prefix`.N…" sent, in order (blank rows included: a missing
// level is a blank target). kInvalidInput for an N that is not a number below kMaxFormRows.
Result<std::set<int>> Indices(const FormFields& fields, const std::string& prefix) {
  std::set<int> out;
  const std::string start = prefix + ".";
  for (auto it = fields.lower_bound(start); it != fields.end() && it->first.rfind(start, 0) == 0;
       ++it) {
    const std::string rest = it->first.substr(start.size());
    const std::string n = rest.substr(0, rest.find('.'));
    int index = -1;
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), index);
    if (ec != std::errc() || ptr != n.data() + n.size() || n.empty() || index < 0 ||
        index >= kMaxFormRows) {
      return FieldError(prefix, "มีรายการมากเกินไป (ไม่เกิน " + std::to_string(kMaxFormRows) + " รายการ)",
                        "too many rows (at most " + std::to_string(kMaxFormRows) + ")");
    }
    out.insert(index);
  }
  return out;
}

void AddCriteriaFields(FormFields& out, const json& criteria) {
  if (!HasCriteriaForm(criteria)) return;
  const std::string form = Member(criteria, "form").get<std::string>();
  out["criteria.form"] = form;
  const json& texts = Member(criteria, "texts");
  if (texts.is_array()) {
    for (size_t i = 0; i < texts.size(); ++i) {
      AddText(out, "criteria.texts." + std::to_string(i), texts[i]);
    }
  }
  if (form == "levels") {
    const json& direction = Member(criteria, "direction");
    out["criteria.direction"] = direction.is_string() ? direction.get<std::string>() : "higher";
    const json& scoring = Member(criteria, "scoring");
    out["criteria.scoring"] = scoring.is_string() ? scoring.get<std::string>() : "interpolate";
    const json& targets = Member(criteria, "targets");
    if (!targets.is_array()) return;
    for (size_t i = 0; i < targets.size(); ++i) {
      const std::string at = "criteria.targets." + std::to_string(i) + ".";
      const json& t = targets[i];
      std::string value;
      bool strict = false;
      if (t.is_object()) {
        strict = true;
        value = ValueText(t.contains("above") ? t["above"] : Member(t, "below"));
      } else if (!(t.is_string() && t.get<std::string>() == "-")) {
        value = ValueText(t);
      }
      out[at + "value"] = value;
      out[at + "strict"] = strict ? "1" : "";
    }
    return;
  }
  // milestones
  const json& cumulative = Member(criteria, "cumulative");
  out["criteria.cumulative"] = cumulative.is_boolean() && !cumulative.get<bool>() ? "" : "1";
  const json& levels = Member(criteria, "levels");
  if (!levels.is_array()) return;
  for (size_t l = 0; l < levels.size(); ++l) {
    const std::string level = "criteria.levels." + std::to_string(l);
    // The level exists even when it has no milestone (its rows all blank).
    out["criteria.mlevel." + std::to_string(l)] = "1";
    if (!levels[l].is_array()) continue;
    for (size_t m = 0; m < levels[l].size(); ++m) {
      const json& ms = levels[l][m];
      const std::string at = level + "." + std::to_string(m) + ".";
      out[at + "variable"] = ValueText(Member(ms, "variable"));
      AddText(out, at + "text", Member(ms, "text"));
      out[at + "due"] = DueText(Member(ms, "due"));
      out[at + "reached"] = ValueText(Member(ms, "reached"));
    }
  }
}

// `criteria.texts` rows applied to `c` (the texts each level is shown with).
Status ApplyLevelTexts(json& c, const json& original, const FormFields& before,
                       const FormFields& fields) {
  auto sent = Indices(fields, "criteria.texts");
  if (!sent) return sent.status();
  auto was = Indices(before, "criteria.texts");
  bool same = *sent == *was || sent->empty();
  for (int i : *sent) {
    for (const char* lang : {".th", ".en"}) {
      const std::string name = "criteria.texts." + std::to_string(i) + lang;
      auto b = before.find(name);
      if (Get(fields, name) != (b == before.end() ? "" : Lf(b->second))) same = false;
    }
  }
  if (same) return Status::Ok();
  const json& old = Member(original, "texts");
  json texts = json::array();
  int last = -1;
  for (int i : *sent) {
    const std::string at = "criteria.texts." + std::to_string(i) + ".";
    const std::string th = Get(fields, at + "th"), en = Get(fields, at + "en");
    const bool unchanged = th == Lf(before.count(at + "th") ? before.at(at + "th") : "") &&
                           en == Lf(before.count(at + "en") ? before.at(at + "en") : "");
    while (static_cast<int>(texts.size()) < i) texts.push_back("");
    if (unchanged && old.is_array() && static_cast<size_t>(i) < old.size()) {
      texts.push_back(old[static_cast<size_t>(i)]);
    } else {
      auto text = MakeText(Trim(th).empty() ? "" : th, Trim(en).empty() ? "" : en);
      texts.push_back(text ? *text : json(""));
    }
    if (!Trim(th).empty() || !Trim(en).empty()) last = i;
  }
  // Levels with no text at the end are left out; no text at all removes `texts`.
  while (static_cast<int>(texts.size()) > last + 1) texts.erase(texts.size() - 1);
  if (texts.empty()) {
    c.erase("texts");
  } else {
    c["texts"] = std::move(texts);
  }
  return Status::Ok();
}

Status ApplyLevels(json& c, const json& original, const FormFields& before,
                   const FormFields& fields) {
  auto changed = [&](const std::string& name) {
    auto b = before.find(name);
    return Get(fields, name) != (b == before.end() ? "" : Lf(b->second));
  };
  const std::string direction = Get(fields, "criteria.direction");
  if (direction != "higher" && direction != "lower") {
    return FieldError("criteria.direction", "เลือกทิศทางของเกณฑ์ (ยิ่งมากยิ่งดี หรือ ยิ่งน้อยยิ่งดี)",
                      "choose the criteria's direction (higher or lower is better)");
  }
  if (changed("criteria.direction")) {
    if (direction == "higher") {
      c.erase("direction");
    } else {
      c["direction"] = direction;
    }
  }
  const std::string scoring = Get(fields, "criteria.scoring");
  if (scoring != "interpolate" && scoring != "step") {
    return FieldError("criteria.scoring", "เลือกวิธีให้คะแนน (เทียบบัญญัติไตรยางศ์ หรือ ตามขั้นที่ผ่าน)",
                      "choose how the score is given (interpolated or by the level reached)");
  }
  if (changed("criteria.scoring")) {
    if (scoring == "interpolate") {
      c.erase("scoring");
    } else {
      c["scoring"] = scoring;
    }
  }
  auto indices = Indices(fields, "criteria.targets");
  if (!indices) return indices.status();
  const json& old = Member(original, "targets");
  json targets = json::array();
  for (int i : *indices) {
    const std::string at = "criteria.targets." + std::to_string(i) + ".";
    const std::string value = Trim(Get(fields, at + "value"));
    const bool strict = !Get(fields, at + "strict").empty();
    if (!changed(at + "value") && !changed(at + "strict") && old.is_array() &&
        static_cast<size_t>(i) < old.size()) {
      targets.push_back(old[static_cast<size_t>(i)]);
      continue;
    }
    if (value.empty()) {
      if (strict) {
        return FieldError(at + "value",
                          "เป้าหมายขั้นที่ " + std::to_string(i + 1) +
                              " ที่ต้องเกินค่าหนึ่ง ต้องระบุค่านั้น (หรือเอาเครื่องหมาย \"ต้องเกิน\" ออก)",
                          "the strict target of level " + std::to_string(i + 1) +
                              " needs a value (or untick \"strictly beyond\")");
      }
      targets.push_back(nullptr);  // a missing level (the seeds' "-")
      continue;
    }
    auto number = ParseNumber(value);
    json target = number ? NumberJson(*number) : json(value);
    // A formula is checked with the whole framework (its names are the KPI's): `esar check`
    // names this field when it is wrong.
    if (strict) target = json{{direction == "lower" ? "below" : "above", target}};
    targets.push_back(std::move(target));
  }
  c["targets"] = std::move(targets);
  return Status::Ok();
}

Status ApplyMilestones(json& c, const json& original, const FormFields& before,
                       const FormFields& fields) {
  const bool cumulative = !Get(fields, "criteria.cumulative").empty();
  if (Get(fields, "criteria.cumulative") != Lf(before.count("criteria.cumulative") ? before.at("criteria.cumulative") : "")) {
    if (cumulative && !original.contains("cumulative")) {
      c.erase("cumulative");
    } else {
      c["cumulative"] = cumulative;
    }
  }
  static const std::vector<std::string> kColumns = {"variable", "text.th", "text.en", "due",
                                                    "reached"};
  auto levels = Indices(fields, "criteria.mlevel");
  if (!levels) return levels.status();
  const json& old_levels = Member(original, "levels");
  json out = json::array();
  bool any_changed = *levels != *Indices(before, "criteria.mlevel");
  for (int l : *levels) {
    const std::string prefix = "criteria.levels." + std::to_string(l);
    auto was = Rows(before, prefix, kColumns, kColumns);
    auto sent = Rows(fields, prefix, kColumns, kColumns);
    if (!sent) return sent.status();
    const json old = old_levels.is_array() && static_cast<size_t>(l) < old_levels.size()
                         ? old_levels[static_cast<size_t>(l)]
                         : json();
    if (was.ok() && *sent == *was && old.is_array()) {
      out.push_back(old);
      continue;
    }
    any_changed = true;
    json level = json::array();
    for (const Row& row : *sent) {
      const std::string at = prefix + "." + std::to_string(row.index) + ".";
      json m = old.is_array() && static_cast<size_t>(row.index) < old.size() &&
                       old[static_cast<size_t>(row.index)].is_object()
                   ? old[static_cast<size_t>(row.index)]
                   : json::object();
      auto col_changed = [&](const std::string& col) {
        return row.values.at(col) != Before(*was, row.index, col) || m.empty();
      };
      const std::string variable = Trim(row.values.at("variable"));
      if (!domain::IsIdentifier(variable)) {
        return FieldError(at + "variable",
                          "เป้าหมายความสำเร็จขั้นที่ " + std::to_string(l + 1) +
                              ": ระบุรหัสตัวแปรที่หน่วยงานรายงานว่าผ่าน (อักษรอังกฤษ ตัวเลข และ _)",
                          "milestone of level " + std::to_string(l + 1) +
                              ": give the id of the variable the agency reports as passed "
                              "(English letters, digits and _)");
      }
      if (col_changed("variable")) m["variable"] = variable;
      if (col_changed("text.th") || col_changed("text.en")) {
        PutText(m, "text", row.values.at("text.th"), row.values.at("text.en"));
      }
      const std::string due = Trim(row.values.at("due"));
      const std::string reached = Trim(row.values.at("reached"));
      if (due.empty() != reached.empty()) {
        return FieldError(at + (due.empty() ? "due" : "reached"),
                          "เป้าหมายความสำเร็จที่มีกำหนดวัน ต้องระบุทั้งวันที่กำหนด และตัวแปรวันที่บรรลุ",
                          "a dated milestone needs both its due date and the date variable it "
                          "was reached on");
      }
      if (col_changed("due")) {
        if (due.empty()) {
          m.erase("due");
        } else {
          auto day = domain::ParseCaseDate(due);
          if (!day) {
            return FieldError(at + "due",
                              "วันที่กำหนด \"" + due + "\" ต้องเป็น วัน/เดือน/ปี พ.ศ. เช่น 31/12/2563",
                              "due date \"" + due +
                                  "\" must be day/month/Buddhist Era year, such as 31/12/2563");
          }
          m["due"] = domain::IsoDate(*day);
        }
      }
      if (col_changed("reached")) {
        if (reached.empty()) {
          m.erase("reached");
        } else if (!domain::IsIdentifier(reached)) {
          return FieldError(at + "reached", "ตัวแปรวันที่บรรลุ: ใช้รหัสตัวแปรชนิดวันที่ของตัวชี้วัดนี้",
                            "reached on: the id of a date variable of this KPI");
        } else {
          m["reached"] = reached;
        }
      }
      level.push_back(std::move(m));
    }
    out.push_back(std::move(level));
  }
  if (any_changed) c["levels"] = std::move(out);
  return Status::Ok();
}

// `kpi`'s criteria with the criteria form applied, when they have a form (else unchanged).
Status ApplyCriteria(json& kpi, const json& original, const FormFields& before,
                     const FormFields& fields) {
  if (!before.count("criteria.form")) return Status::Ok();  // edited in the JSON editor
  const json& old = Member(original, "criteria");
  if (Get(fields, "criteria.form") != before.at("criteria.form")) {
    return FieldError("criteria.form",
                      "เปลี่ยนแบบของเกณฑ์ได้ในตัวแก้ไข JSON ด้านล่างเท่านั้น",
                      "the criteria's form can be changed in the JSON editor below only");
  }
  json c = old;
  Status applied = before.at("criteria.form") == "levels" ? ApplyLevels(c, old, before, fields)
                                                          : ApplyMilestones(c, old, before, fields);
  if (!applied.ok()) return applied;
  Status texts = ApplyLevelTexts(c, old, before, fields);
  if (!texts.ok()) return texts;
  if (c != old) kpi["criteria"] = std::move(c);
  return Status::Ok();
}

// The criteria form's field (or row) a path inside the criteria ("targets/1",
// "levels/0/2/due") concerns; "criteria" for the criteria as a whole.
std::string CriteriaFieldOfPath(const std::string& rest) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= rest.size() && !rest.empty()) {
    const size_t slash = rest.find('/', start);
    parts.push_back(rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.empty()) return "criteria";
  const std::string& head = parts[0];
  if (head == "direction" || head == "scoring" || head == "cumulative" || head == "form") {
    return "criteria." + head;
  }
  if (head == "targets" && parts.size() >= 2) return "criteria.targets." + parts[1] + ".value";
  if (head == "texts" && parts.size() >= 2) return "criteria.texts." + parts[1] + ".th";
  if (head == "levels" && parts.size() >= 3) {
    std::string field = parts.size() >= 4 ? parts[3] : "variable";
    if (field == "text") field = "text.th";
    return "criteria.levels." + parts[1] + "." + parts[2] + "." + field;
  }
  if (head == "levels" && parts.size() == 2) return "criteria.levels." + parts[1];
  return "criteria";
}

}  // namespace

FormFields KpiFormFields(const nlohmann::json& kpi) {
  FormFields out;
  AddText(out, "name", Member(kpi, "name"));
  out["key"] = ValueText(Member(kpi, "key"));
  out["component"] = ValueText(Member(kpi, "component"));
  AddText(out, "unit", Member(kpi, "unit"));
  out["result"] = ValueText(Member(kpi, "result"));
  const json& flags = Member(kpi, "flags");
  for (const auto& [flag, field] : kFlags) {
    bool on = false;
    if (flags.is_array()) {
      for (const json& f : flags) on = on || (f.is_string() && f.get<std::string>() == flag);
    }
    if (on) out[field] = "1";
  }
  const std::set<int> rounds = RoundsOf(kpi);
  for (int r : {6, 12}) {
    if (rounds.count(r)) out["round." + std::to_string(r)] = "1";
  }
  const json& variables = Member(kpi, "variables");
  if (variables.is_array()) {
    for (size_t i = 0; i < variables.size(); ++i) {
      const json& v = variables[i];
      const std::string at = "variables." + std::to_string(i) + ".";
      out[at + "id"] = ValueText(Member(v, "id"));
      out[at + "type"] = ValueText(Member(v, "type"));
      AddText(out, at + "name", Member(v, "name"));
      AddText(out, at + "unit", Member(v, "unit"));
      out[at + "formula"] = ValueText(Member(v, "formula"));
      out[at + "length"] = ValueText(Member(v, "length"));
      if (Member(v, "optional").is_boolean() && Member(v, "optional").get<bool>()) {
        out[at + "optional"] = "1";
      } else {
        out[at + "optional"] = "";
      }
      out[at + "min"] = ValueText(Member(v, "min"));
      out[at + "max"] = ValueText(Member(v, "max"));
    }
  }
  AddCriteriaFields(out, Member(kpi, "criteria"));
  const json& doc = Member(kpi, "documentation");
  for (const std::string& key : kDocTexts) AddText(out, "doc." + key, Member(doc, key.c_str()));
  for (const std::string& key : kDocLists) {
    const json& list = Member(doc, key.c_str());
    if (!list.is_array()) continue;
    for (size_t i = 0; i < list.size(); ++i) {
      AddText(out, "doc." + key + "." + std::to_string(i), list[i]);
    }
  }
  for (const std::string& key : kDocYears) {
    const json& list = Member(doc, key.c_str());
    if (!list.is_array()) continue;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string at = "doc." + key + "." + std::to_string(i) + ".";
      out[at + "fiscal_year"] = ValueText(Member(list[i], "fiscal_year"));
      out[at + "value"] = ValueText(Member(list[i], "value"));
      AddText(out, at + "text", Member(list[i], "text"));
    }
  }
  return out;
}

Result<nlohmann::json> ApplyKpiForm(const nlohmann::json& kpi, const FormFields& fields,
                                    const std::vector<std::string>& components, bool top_level) {
  if (!kpi.is_object()) return Status::Internal("ApplyKpiForm: the KPI is not an object");
  const FormFields before = KpiFormFields(kpi);
  json out = kpi;
  auto same = [&](const std::string& field) { return Get(fields, field) == Lf(before.count(field) ? before.at(field) : ""); };
  auto text_changed = [&](const std::string& field) {
    return !same(field + ".th") || !same(field + ".en");
  };

  if (Trim(Get(fields, "name.th")).empty() && Trim(Get(fields, "name.en")).empty()) {
    return FieldError("name.th", "ชื่อตัวชี้วัด: ต้องกรอก", "KPI name: required");
  }
  if (text_changed("name")) PutText(out, "name", Get(fields, "name.th"), Get(fields, "name.en"));

  if (!same("key")) {
    const std::string key = Trim(Get(fields, "key"));
    if (key.empty()) {
      out.erase("key");
    } else if (!domain::IsValidKpiKey(key)) {
      return FieldError("key",
                        "รหัสประจำตัวชี้วัด \"" + key +
                            "\" ใช้ได้เฉพาะอักษรอังกฤษตัวเล็ก ตัวเลข - และ _ ขึ้นต้นด้วยอักษร เช่น pmqa",
                        "KPI key \"" + key +
                            "\": lower-case English letters, digits, - and _ only, starting "
                            "with a letter, such as pmqa");
    } else {
      out["key"] = key;
    }
  }

  const std::string component = Get(fields, "component");
  if (top_level && !components.empty() && !same("component") &&
      std::find(components.begin(), components.end(), component) == components.end()) {
    return FieldError("component", "เลือกองค์ประกอบของตัวชี้วัด", "choose the KPI's component");
  }
  if (!same("component")) {
    if (component.empty()) {
      out.erase("component");
    } else {
      out["component"] = component;
    }
  }

  if (text_changed("unit")) PutText(out, "unit", Get(fields, "unit.th"), Get(fields, "unit.en"));

  if (!same("result")) {
    const std::string result = Trim(Get(fields, "result"));
    if (result.empty()) {
      out.erase("result");
    } else {
      out["result"] = result;
    }
  }

  bool flags_same = true;
  for (const auto& [flag, field] : kFlags) {
    flags_same = flags_same && (Get(fields, field).empty() == (before.count(field) == 0));
  }
  if (!flags_same) {
    json flags = json::array();
    for (const auto& [flag, field] : kFlags) {
      if (!Get(fields, field).empty()) flags.push_back(flag);
    }
    if (flags.empty()) {
      out.erase("flags");
    } else {
      out["flags"] = std::move(flags);
    }
  }

  std::set<int> rounds;
  for (int r : {6, 12}) {
    if (!Get(fields, "round." + std::to_string(r)).empty()) rounds.insert(r);
  }
  if (rounds != RoundsOf(kpi)) {
    if (rounds == std::set<int>{6, 12}) {
      out.erase("rounds");
    } else {
      out["rounds"] = json(std::vector<int>(rounds.begin(), rounds.end()));
    }
  }

  Status variables = ApplyVariables(out, kpi, fields);
  if (!variables.ok()) return variables;

  Status criteria = ApplyCriteria(out, kpi, before, fields);
  if (!criteria.ok()) return criteria;

  const json& old_doc = Member(kpi, "documentation");
  json doc = old_doc.is_object() ? old_doc : json::object();
  for (const std::string& key : kDocTexts) {
    if (text_changed("doc." + key)) {
      PutText(doc, key.c_str(), Get(fields, "doc." + key + ".th"), Get(fields, "doc." + key + ".en"));
    }
  }
  for (const std::string& key : kDocLists) {
    Status s = ApplyTextList(doc, old_doc, key, before, fields);
    if (!s.ok()) return s;
  }
  for (const std::string& key : kDocYears) {
    Status s = ApplyYears(doc, old_doc, key, before, fields);
    if (!s.ok()) return s;
  }
  if (doc != old_doc) {
    if (doc.empty()) {
      out.erase("documentation");
    } else {
      out["documentation"] = std::move(doc);
    }
  }
  return out;
}

FormFields ComponentsFormFields(const nlohmann::json& document) {
  FormFields out;
  const json& components = Member(document, "components");
  if (!components.is_array()) return out;
  for (size_t i = 0; i < components.size(); ++i) {
    const std::string at = "components." + std::to_string(i) + ".";
    out[at + "id"] = ValueText(Member(components[i], "id"));
    AddText(out, at + "name", Member(components[i], "name"));
    out[at + "share"] = ValueText(Member(components[i], "share"));
  }
  return out;
}

Result<nlohmann::json> ApplyComponentsForm(const nlohmann::json& document,
                                           const FormFields& fields) {
  static const std::vector<std::string> kColumns = {"id", "name.th", "name.en", "share"};
  auto before = Rows(ComponentsFormFields(document), "components", kColumns, kColumns);
  auto sent = Rows(fields, "components", kColumns, kColumns);
  if (!sent) return sent.status();
  json out = document;
  if (*sent == *before) return out;
  const json& old = Member(document, "components");
  json list = json::array();
  std::set<std::string> ids;
  for (const Row& row : *sent) {
    const std::string at = "components." + std::to_string(row.index) + ".";
    json c = old.is_array() && static_cast<size_t>(row.index) < old.size() &&
                     old[static_cast<size_t>(row.index)].is_object()
                 ? old[static_cast<size_t>(row.index)]
                 : json::object();
    auto changed = [&](const std::string& col) {
      return row.values.at(col) != Before(*before, row.index, col) || c.empty();
    };
    const std::string id = Trim(row.values.at("id"));
    if (id.empty() || (changed("id") && !IsSafeKpiId(id))) {
      return FieldError(at + "id",
                        "รหัสองค์ประกอบใช้ได้เฉพาะอักษรอังกฤษ ตัวเลข . - และ _ (ไม่เกิน 32 ตัว) เช่น performance",
                        "a component id takes English letters, digits, '.', '-' and '_' only (at "
                        "most 32), such as performance");
    }
    if (!ids.insert(id).second) {
      return FieldError(at + "id", "รหัสองค์ประกอบ \"" + id + "\" ซ้ำ",
                        "component id \"" + id + "\" is used twice");
    }
    auto share = ParseNumber(row.values.at("share"));
    if (!share || *share < 0 || *share > 100) {
      return FieldError(at + "share", "สัดส่วนขององค์ประกอบ " + id + " ต้องเป็นตัวเลข 0–100",
                        "the share of component " + id + " must be a number from 0 to 100");
    }
    if (changed("id")) c["id"] = id;
    if (changed("name.th") || changed("name.en")) {
      PutText(c, "name", row.values.at("name.th"), row.values.at("name.en"));
    }
    if (changed("share")) c["share"] = NumberJson(*share);
    list.push_back(std::move(c));
  }
  if (list.empty() && !old.is_array()) {
    out.erase("components");
  } else {
    out["components"] = std::move(list);
  }
  return out;
}

std::string KpiFieldOfPath(const std::string& kpi_path, const std::string& json_path) {
  if (json_path.rfind(kpi_path + "/", 0) != 0) return "";
  const std::string rest = json_path.substr(kpi_path.size() + 1);
  auto first = [](const std::string& s) { return s.substr(0, s.find('/')); };
  const std::string head = first(rest);
  if (head == "criteria") return CriteriaFieldOfPath(rest.size() > 9 ? rest.substr(9) : "");
  if (head == "name" || head == "key" || head == "component" || head == "unit" ||
      head == "result" || head == "flags" || head == "rounds") {
    return head;
  }
  if (head == "variables") {
    const std::string tail = rest.size() > head.size() + 1 ? rest.substr(head.size() + 1) : "";
    const std::string n = first(tail);
    return n.empty() ? "variables" : "variables." + n;
  }
  if (head == "documentation") {
    const std::string tail = rest.size() > head.size() + 1 ? rest.substr(head.size() + 1) : "";
    const std::string field = first(tail);
    return field.empty() ? "" : "doc." + field;
  }
  return "";
}

std::string KpiFieldOfFinding(const std::string& kpi_path, const std::string& kpi_key,
                              const domain::Finding& finding, const FormFields* fields) {
  const std::string by_path = KpiFieldOfPath(kpi_path, finding.where.json_path);
  const std::string& path = finding.where.json_path;
  if (fields != nullptr && (path.empty() || path == kpi_path || by_path == "criteria")) {
    // The engine compiles targets without their JSON path (the finding is at the KPI or
    // nowhere); its message names the level and quotes the formula.
    for (int i = 0; i < kMaxFormRows; ++i) {
      auto it = fields->find("criteria.targets." + std::to_string(i) + ".value");
      if (it == fields->end()) break;
      const std::string formula = Trim(it->second);
      if (!formula.empty() &&
          finding.message_en.find("level " + std::to_string(i + 1) + " target") != std::string::npos &&
          finding.message_en.find("\"" + formula + "\"") != std::string::npos) {
        return it->first;
      }
    }
  }
  if (finding.code == "kpi-key-duplicate" && !kpi_key.empty() &&
      finding.message_en.find("\"" + kpi_key + "\"") != std::string::npos) {
    return "key";
  }
  return KpiFieldOfPath(kpi_path, finding.where.json_path);
}

}  // namespace esar::formats
