#include "formats/framework_form.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "domain/cases.h"
#include "domain/expression.h"
#include "domain/model.h"
#include "formats/framework_form_detail.h"
#include "formats/framework_form_sources.h"
#include "formats/framework_json.h"

namespace esar::formats {
// The helpers every form of this library shares (framework_form_detail.h).
namespace form_detail {

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

// The number N of every field "`prefix`.N…" sent, in order (blank rows included: a missing
// level is a blank target). kInvalidInput for an N that is not a number below kMaxFormRows.
// The one reader of row numbers for every row group of every form.
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
      return FieldError(prefix,
                        "มีรายการมากเกินไป (ไม่เกิน " + std::to_string(kMaxFormRows) + " รายการ)",
                        "too many rows (at most " + std::to_string(kMaxFormRows) + ")");
    }
    out.insert(index);
  }
  return out;
}

// Whether every one of `columns` of row `base` ("variables.2.") is blank in `fields`.
bool BlankRow(const FormFields& fields, const std::string& base,
              const std::vector<std::string>& columns) {
  for (const std::string& c : columns) {
    if (!Trim(Get(fields, base + c)).empty()) return false;
  }
  return true;
}

// The rows `prefix`.N of `fields` in the order of N (every N sent, gaps allowed), without the
// blank ones (every column of `key_columns` empty). kInvalidInput when an N is kMaxFormRows or
// more, or is not a number.
Result<std::vector<Row>> Rows(const FormFields& fields, const std::string& prefix,
                              const std::vector<std::string>& columns,
                              const std::vector<std::string>& key_columns) {
  auto indices = Indices(fields, prefix);
  if (!indices) return indices.status();
  std::vector<Row> rows;
  for (int i : *indices) {
    const std::string base = prefix + "." + std::to_string(i) + ".";
    if (BlankRow(fields, base, key_columns)) continue;
    Row row;
    row.index = i;
    for (const std::string& c : columns) row.values[c] = Get(fields, base + c);
    rows.push_back(std::move(row));
  }
  return rows;
}

// Element `index` of the JSON array `old` when it is an object (the row the form showed there,
// to change field by field), else an empty object (a new row).
json OldRow(const json& old, int index) {
  return old.is_array() && static_cast<size_t>(index) < old.size() &&
                 old[static_cast<size_t>(index)].is_object()
             ? old[static_cast<size_t>(index)]
             : json::object();
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

std::vector<std::string> PathParts(const std::string& rest) {
  std::vector<std::string> parts;
  for (size_t start = 0; start <= rest.size();) {
    const size_t slash = rest.find('/', start);
    parts.push_back(
        rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
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

}  // namespace form_detail

using namespace form_detail;  // NOLINT: this file's own helpers

namespace {

// ---- the KPI form's groups ----

const std::vector<std::pair<const char*, const char*>> kFlags = {
    {"new", "flag.new"},
    {"continuing", "flag.continuing"},
    {"reform_plan", "flag.reform_plan"},
    {"monitoring_only", "flag.monitoring_only"}};

const std::vector<std::string> kVariableColumns = {"id",       "type",    "name.th", "name.en",
                                                   "unit.th",  "unit.en", "formula", "length",
                                                   "optional", "min",     "max"};
const std::vector<std::string> kVariableKeys = {"id", "name.th", "name.en", "formula"};
const std::vector<std::string> kVariableTypes = {"number",      "percent", "count", "pass_fail",
                                                 "number_list", "derived", "date"};
const std::vector<std::string> kDocTexts = {"description", "scope",   "data_collection",
                                            "data_source", "formula", "benefit"};
const std::vector<std::string> kDocLists = {"definitions", "steps"};
const std::vector<std::string> kDocYears = {"baseline", "roadmap"};
const std::vector<std::string> kTextColumns = {"th", "en"};
const std::vector<std::string> kYearColumns = {"fiscal_year", "value", "text.th", "text.en"};

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
    json v = OldRow(old, row.index);
    auto changed = [&](const std::string& c) {
      return row.values.at(c) != Before(*before, row.index, c) || !v.is_object() || v.empty();
    };
    const std::string id = Trim(row.values.at("id"));
    const std::string type = row.values.at("type");
    if (!domain::IsIdentifier(id) || id.size() > 64) {
      return FieldError(
          at + "id",
          "รหัสตัวแปร \"" + id + "\" ใช้ได้เฉพาะอักษรอังกฤษ ตัวเลข และ _ ขึ้นต้นด้วยอักษร (ไม่เกิน 64 ตัว)",
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
        return NotANumber(
            at + bound,
            std::string(bound == std::string("min") ? "ค่าต่ำสุด" : "ค่าสูงสุด") + "ของ " + id,
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
    json entry = OldRow(old, row.index);
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

// ---- the criteria forms ----
//
// Every criteria's fields are named under a prefix: "criteria" for the KPI's own, and
// "criteria.groups.G.criteria" for the criteria of group G of a `groups` criteria, so that one
// reader and one writer serve both ("criteria.targets.1.value",
// "criteria.groups.2.criteria.targets.1.value").

// The criteria forms with a form of their own. Groups nest kMaxFormGroupDepth deep on the form
// (the innermost group's criteria are levels, milestones, points or conditions); deeper nesting,
// and anything the form cannot show without losing it, stays in the JSON editor.
const std::vector<std::string> kFlatForms = {"levels", "milestones", "points", "conditions"};
const std::vector<std::string> kRangeKeys = {"at_least", "above", "at_most", "below"};

bool IsFlatForm(const std::string& form) {
  return std::find(kFlatForms.begin(), kFlatForms.end(), form) != kFlatForms.end();
}

// `depth`: how many groups the criteria lie inside (0 for a KPI's own).
bool HasCriteriaForm(const json& criteria, int depth) {
  const json& form = Member(criteria, "form");
  if (!form.is_string()) return false;
  if (IsFlatForm(form.get<std::string>())) return true;
  if (depth >= kMaxFormGroupDepth || form != "groups" || !Member(criteria, "by").is_string()) {
    return false;
  }
  const json& groups = Member(criteria, "groups");
  if (!groups.is_array() || groups.empty()) return false;
  for (const json& g : groups) {
    const json& range = Member(g, "range");
    if (!Member(g, "id").is_string() || !range.is_object()) return false;
    for (const auto& [key, value] : range.items()) {
      if (std::find(kRangeKeys.begin(), kRangeKeys.end(), key) == kRangeKeys.end() ||
          !value.is_number()) {
        return false;
      }
    }
    if (range.contains("at_least") && range.contains("above")) return false;
    if (range.contains("at_most") && range.contains("below")) return false;
    if (!HasCriteriaForm(Member(g, "criteria"), depth + 1)) return false;
  }
  return true;
}

// A points item's prerequisites as typed: their ids separated by commas.
std::string RequiresText(const json& requires_list) {
  std::string out;
  if (!requires_list.is_array()) return out;
  for (const json& r : requires_list) {
    if (!r.is_string()) continue;
    out += (out.empty() ? "" : ", ") + r.get<std::string>();
  }
  return out;
}

// A group's bound as the form shows it: which of `keys` (the lower or the upper pair) the range
// has, and its value.
std::pair<std::string, std::string> BoundText(const json& range, const char* a, const char* b) {
  for (const char* key : {a, b}) {
    const json& v = Member(range, key);
    if (!v.is_null()) return {key, ValueText(v)};
  }
  return {"", ""};
}

void AddCriteriaFields(FormFields& out, const std::string& p, const json& criteria, int depth) {
  if (!HasCriteriaForm(criteria, depth)) return;
  const std::string form = Member(criteria, "form").get<std::string>();
  out[p + ".form"] = form;
  const json& texts = Member(criteria, "texts");
  if (texts.is_array()) {
    for (size_t i = 0; i < texts.size(); ++i) {
      AddText(out, p + ".texts." + std::to_string(i), texts[i]);
    }
  }
  if (form == "levels") {
    const json& direction = Member(criteria, "direction");
    out[p + ".direction"] = direction.is_string() ? direction.get<std::string>() : "higher";
    const json& scoring = Member(criteria, "scoring");
    out[p + ".scoring"] = scoring.is_string() ? scoring.get<std::string>() : "interpolate";
    const json& targets = Member(criteria, "targets");
    if (!targets.is_array()) return;
    for (size_t i = 0; i < targets.size(); ++i) {
      const std::string at = p + ".targets." + std::to_string(i) + ".";
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
  if (form == "conditions") {
    const json& levels = Member(criteria, "levels");
    if (!levels.is_array()) return;
    for (size_t i = 0; i < levels.size(); ++i) {
      out[p + ".conditions." + std::to_string(i)] = ValueText(levels[i]);
    }
    return;
  }
  if (form == "points") {
    const json& items = Member(criteria, "items");
    if (!items.is_array()) return;
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string at = p + ".items." + std::to_string(i) + ".";
      out[at + "id"] = ValueText(Member(items[i], "id"));
      out[at + "points"] = ValueText(Member(items[i], "points"));
      out[at + "when"] = ValueText(Member(items[i], "when"));
      AddText(out, at + "text", Member(items[i], "text"));
      out[at + "requires"] = RequiresText(Member(items[i], "requires"));
    }
    return;
  }
  if (form == "groups") {
    out[p + ".by"] = ValueText(Member(criteria, "by"));
    const json& integer = Member(criteria, "integer");
    out[p + ".integer"] = integer.is_boolean() && integer.get<bool>() ? "1" : "";
    const json& groups = Member(criteria, "groups");
    for (size_t g = 0; g < groups.size(); ++g) {
      const std::string at = p + ".groups." + std::to_string(g) + ".";
      out[at + "id"] = ValueText(Member(groups[g], "id"));
      AddText(out, at + "name", Member(groups[g], "name"));
      const auto [low_kind, low] = BoundText(Member(groups[g], "range"), "at_least", "above");
      const auto [high_kind, high] = BoundText(Member(groups[g], "range"), "at_most", "below");
      out[at + "low_kind"] = low_kind;
      out[at + "low"] = low;
      out[at + "high_kind"] = high_kind;
      out[at + "high"] = high;
      AddCriteriaFields(out, at + "criteria", Member(groups[g], "criteria"), depth + 1);
    }
    return;
  }
  // milestones
  const json& cumulative = Member(criteria, "cumulative");
  out[p + ".cumulative"] = cumulative.is_boolean() && !cumulative.get<bool>() ? "" : "1";
  const json& levels = Member(criteria, "levels");
  if (!levels.is_array()) return;
  for (size_t l = 0; l < levels.size(); ++l) {
    const std::string level = p + ".levels." + std::to_string(l);
    // The level exists even when it has no milestone (its rows all blank).
    out[p + ".mlevel." + std::to_string(l)] = "1";
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

// What the form sent for field `name` differs from what it showed (`before`).
bool Changed(const FormFields& before, const FormFields& fields, const std::string& name) {
  return Get(fields, name) != Get(before, name);
}

// The level number a message names: "ขั้นที่ 2" / "level 2" for `index` 1.
std::string LevelNo(int index) { return std::to_string(index + 1); }

// `p`.texts rows applied to `c` (the texts each level is shown with).
Status ApplyLevelTexts(json& c, const json& original, const std::string& p,
                       const FormFields& before, const FormFields& fields) {
  const std::string prefix = p + ".texts";
  auto sent = Indices(fields, prefix);
  if (!sent) return sent.status();
  auto was = Indices(before, prefix);
  bool same = *sent == *was || sent->empty();
  for (int i : *sent) {
    const std::string at = prefix + "." + std::to_string(i) + ".";
    if (Changed(before, fields, at + "th") || Changed(before, fields, at + "en")) same = false;
  }
  if (same) return Status::Ok();
  const json& old = Member(original, "texts");
  json texts = json::array();
  int last = -1;
  for (int i : *sent) {
    const std::string at = prefix + "." + std::to_string(i) + ".";
    const std::string th = Get(fields, at + "th"), en = Get(fields, at + "en");
    const bool unchanged =
        !Changed(before, fields, at + "th") && !Changed(before, fields, at + "en");
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

Status ApplyLevels(json& c, const json& original, const std::string& p, const FormFields& before,
                   const FormFields& fields) {
  auto changed = [&](const std::string& name) { return Changed(before, fields, name); };
  const std::string direction = Get(fields, p + ".direction");
  if (direction != "higher" && direction != "lower") {
    return FieldError(p + ".direction", "เลือกทิศทางของเกณฑ์ (ยิ่งมากยิ่งดี หรือ ยิ่งน้อยยิ่งดี)",
                      "choose the criteria's direction (higher or lower is better)");
  }
  if (changed(p + ".direction")) {
    if (direction == "higher") {
      c.erase("direction");
    } else {
      c["direction"] = direction;
    }
  }
  const std::string scoring = Get(fields, p + ".scoring");
  if (scoring != "interpolate" && scoring != "step") {
    return FieldError(p + ".scoring", "เลือกวิธีให้คะแนน (เทียบบัญญัติไตรยางศ์ หรือ ตามขั้นที่ผ่าน)",
                      "choose how the score is given (interpolated or by the level reached)");
  }
  if (changed(p + ".scoring")) {
    if (scoring == "interpolate") {
      c.erase("scoring");
    } else {
      c["scoring"] = scoring;
    }
  }
  auto indices = Indices(fields, p + ".targets");
  if (!indices) return indices.status();
  const json& old = Member(original, "targets");
  json targets = json::array();
  for (int i : *indices) {
    const std::string at = p + ".targets." + std::to_string(i) + ".";
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
                          "เป้าหมายขั้นที่ " + LevelNo(i) +
                              " ที่ต้องเกินค่าหนึ่ง ต้องระบุค่านั้น (หรือเอาเครื่องหมาย \"ต้องเกิน\" ออก)",
                          "the strict target of level " + LevelNo(i) +
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

// `p`.conditions.N: one formula per level, blank for a missing level.
Status ApplyConditions(json& c, const json& original, const std::string& p,
                       const FormFields& before, const FormFields& fields) {
  auto indices = Indices(fields, p + ".conditions");
  if (!indices) return indices.status();
  const json& old = Member(original, "levels");
  json levels = json::array();
  for (int i : *indices) {
    const std::string name = p + ".conditions." + std::to_string(i);
    while (static_cast<int>(levels.size()) < i) levels.push_back(nullptr);
    if (!Changed(before, fields, name) && old.is_array() && static_cast<size_t>(i) < old.size()) {
      levels.push_back(old[static_cast<size_t>(i)]);
      continue;
    }
    const std::string condition = Trim(Get(fields, name));
    // A formula is checked with the whole framework: `esar check` names this field.
    levels.push_back(condition.empty() ? json(nullptr) : json(condition));
  }
  c["levels"] = std::move(levels);
  return Status::Ok();
}

// `p`.items.N: the points items (id, points, when, text, requires).
Status ApplyPoints(json& c, const json& original, const std::string& p, const FormFields& before,
                   const FormFields& fields) {
  static const std::vector<std::string> kKeys = {"id", "points", "when", "text.th", "text.en"};
  const std::string prefix = p + ".items";
  auto indices = Indices(fields, prefix);
  if (!indices) return indices.status();
  const json& old = Member(original, "items");
  json items = json::array();
  std::set<std::string> ids;
  for (int i : *indices) {
    const std::string at = prefix + "." + std::to_string(i) + ".";
    if (BlankRow(fields, at, kKeys) && Trim(Get(fields, at + "requires")).empty()) continue;
    json item = OldRow(old, i);
    const bool fresh = item.empty();
    auto changed = [&](const std::string& col) {
      return fresh || Changed(before, fields, at + col);
    };
    const std::string id = Trim(Get(fields, at + "id"));
    if (changed("id") && (!domain::IsIdentifier(id) || id.size() > 32)) {
      return FieldError(
          at + "id",
          "รหัสรายการ \"" + id +
              "\" ใช้ได้เฉพาะอักษรอังกฤษ ตัวเลข และ _ ขึ้นต้นด้วยอักษร (ไม่เกิน 32 ตัว) เช่น metadata",
          "item id \"" + id +
              "\": only English letters, digits and _, starting with a letter (at "
              "most 32), such as metadata");
    }
    const std::string points_text = Trim(Get(fields, at + "points"));
    auto points = ParseNumber(points_text);
    if (!points) return NotANumber(at + "points", "คะแนนของรายการ " + id, "points of item " + id);
    const std::string when = Trim(Get(fields, at + "when"));
    if (when.empty()) {
      return FieldError(at + "when",
                        "รายการ " + id + ": ระบุเงื่อนไขที่ได้คะแนน เช่น datasets_listed >= 1",
                        "item " + id +
                            ": give the condition that earns it, such as "
                            "datasets_listed >= 1");
    }
    json requires_list = json::array();
    const std::string typed = Get(fields, at + "requires");
    size_t start = 0;
    while (start < typed.size()) {
      size_t end = typed.find_first_of(", \t\r\n", start);
      if (end == std::string::npos) end = typed.size();
      const std::string r = typed.substr(start, end - start);
      start = end + 1;
      if (r.empty()) continue;
      if (!ids.count(r)) {
        return FieldError(at + "requires",
                          "รายการ " + id + " ต้องผ่านรายการ \"" + r +
                              "\" ก่อน แต่ไม่มีรายการนี้ก่อนหน้า (ใส่รหัสของรายการที่อยู่ก่อน คั่นด้วย ,)",
                          "item " + id + " requires \"" + r +
                              "\", which is not an earlier item (give earlier items' ids, "
                              "separated by commas)");
      }
      requires_list.push_back(r);
    }
    if (!ids.insert(id).second) {
      return FieldError(at + "id", "รหัสรายการ \"" + id + "\" ซ้ำกับรายการอื่น",
                        "item id \"" + id + "\" is used twice");
    }
    if (changed("id")) item["id"] = id;
    if (changed("points")) item["points"] = NumberJson(*points);
    if (changed("when")) item["when"] = when;
    if (changed("text.th") || changed("text.en")) {
      PutText(item, "text", Get(fields, at + "text.th"), Get(fields, at + "text.en"));
    }
    if (changed("requires")) {
      if (requires_list.empty()) {
        item.erase("requires");
      } else {
        item["requires"] = std::move(requires_list);
      }
    }
    items.push_back(std::move(item));
  }
  if (items.empty()) {
    return FieldError(prefix, "เกณฑ์แบบคะแนนรายข้อต้องมีอย่างน้อย 1 รายการ",
                      "points criteria need at least one item");
  }
  c["items"] = std::move(items);
  return Status::Ok();
}

Status ApplyMilestones(json& c, const json& original, const std::string& p,
                       const FormFields& before, const FormFields& fields) {
  const bool cumulative = !Get(fields, p + ".cumulative").empty();
  if (Changed(before, fields, p + ".cumulative")) {
    if (cumulative && !original.contains("cumulative")) {
      c.erase("cumulative");
    } else {
      c["cumulative"] = cumulative;
    }
  }
  static const std::vector<std::string> kColumns = {"variable", "text.th", "text.en", "due",
                                                    "reached"};
  auto levels = Indices(fields, p + ".mlevel");
  if (!levels) return levels.status();
  const json& old_levels = Member(original, "levels");
  json out = json::array();
  bool any_changed = *levels != *Indices(before, p + ".mlevel");
  for (int l : *levels) {
    const std::string prefix = p + ".levels." + std::to_string(l);
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
      json m = OldRow(old, row.index);
      auto col_changed = [&](const std::string& col) {
        return row.values.at(col) != Before(*was, row.index, col) || m.empty();
      };
      const std::string variable = Trim(row.values.at("variable"));
      if (!domain::IsIdentifier(variable)) {
        return FieldError(at + "variable",
                          "เป้าหมายความสำเร็จขั้นที่ " + LevelNo(l) +
                              ": ระบุรหัสตัวแปรที่หน่วยงานรายงานว่าผ่าน (อักษรอังกฤษ ตัวเลข และ _)",
                          "milestone of level " + LevelNo(l) +
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
            return FieldError(
                at + "due", "วันที่กำหนด \"" + due + "\" ต้องเป็น วัน/เดือน/ปี พ.ศ. เช่น 31/12/2563",
                "due date \"" + due + "\" must be day/month/Buddhist Era year, such as 31/12/2563");
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

Status ApplyCriteriaAt(json& c, const json& original, const std::string& p,
                       const FormFields& before, const FormFields& fields, int depth);

// A group's range from its two bounds as typed (`p`.groups.G.low_kind/low, high_kind/high).
Status ApplyRange(json& group, const std::string& at, const FormFields& before,
                  const FormFields& fields, const std::string& id) {
  bool changed = group.empty();
  for (const char* col : {"low_kind", "low", "high_kind", "high"}) {
    changed = changed || Changed(before, fields, at + col);
  }
  if (!changed) return Status::Ok();
  json range = Member(group, "range").is_object() ? group["range"] : json::object();
  struct Bound {
    const char* kind;
    const char* value;
    const char* a;
    const char* b;
    const char* th;
    const char* en;
  };
  for (const Bound& bound :
       {Bound{"low_kind", "low", "at_least", "above", "ขอบล่าง", "lower bound"},
        Bound{"high_kind", "high", "at_most", "below", "ขอบบน", "upper bound"}}) {
    const std::string kind = Get(fields, at + bound.kind);
    const std::string typed = Trim(Get(fields, at + bound.value));
    range.erase(bound.a);
    range.erase(bound.b);
    if (typed.empty()) continue;
    if (kind != bound.a && kind != bound.b) {
      return FieldError(
          at + bound.kind,
          std::string("กลุ่ม ") + id + ": เลือกว่า" + bound.th + " " + typed + " นับรวมค่านั้นหรือไม่",
          "group " + id + ": choose whether the " + bound.en + " " + typed + " is included or not");
    }
    auto n = ParseNumber(typed);
    if (!n) {
      return NotANumber(at + bound.value, std::string(bound.th) + "ของกลุ่ม " + id,
                        std::string(bound.en) + " of group " + id);
    }
    range[kind] = NumberJson(*n);
  }
  group["range"] = std::move(range);
  return Status::Ok();
}

// `p`.groups.G: the groups (id, name, range and criteria of their own) chosen by `p`.by, the
// groups' criteria lying `depth` + 1 groups deep.
Status ApplyGroups(json& c, const json& original, const std::string& p, const FormFields& before,
                   const FormFields& fields, int depth) {
  const std::string by = Trim(Get(fields, p + ".by"));
  if (by.empty()) {
    return FieldError(p + ".by", "ระบุค่าที่ใช้แบ่งกลุ่ม เช่น s (คะแนนปีก่อนของหน่วยงาน)",
                      "give the value the groups are chosen by, such as s (the agency's score of "
                      "an earlier year)");
  }
  if (Changed(before, fields, p + ".by")) c["by"] = by;
  if (Changed(before, fields, p + ".integer")) {
    if (Get(fields, p + ".integer").empty()) {
      c.erase("integer");
    } else {
      c["integer"] = true;
    }
  }
  static const std::vector<std::string> kKeys = {"id", "name.th", "name.en", "low", "high"};
  const std::string prefix = p + ".groups";
  auto indices = Indices(fields, prefix);
  if (!indices) return indices.status();
  const json& old = Member(original, "groups");
  json groups = json::array();
  std::set<std::string> ids;
  for (int i : *indices) {
    const std::string at = prefix + "." + std::to_string(i) + ".";
    if (BlankRow(fields, at, kKeys)) continue;
    json group = OldRow(old, i);
    const bool fresh = group.empty();
    const std::string id = Trim(Get(fields, at + "id"));
    if (id.empty() || id.size() > 32) {
      return FieldError(at + "id", "กลุ่มต้องมีรหัส (ไม่เกิน 32 ตัว) เช่น 1",
                        "a group needs an id (at most 32 characters), such as 1");
    }
    if (!ids.insert(id).second) {
      return FieldError(at + "id", "รหัสกลุ่ม \"" + id + "\" ซ้ำ",
                        "group id \"" + id + "\" is used twice");
    }
    if (fresh || Changed(before, fields, at + "id")) group["id"] = id;
    if (fresh || Changed(before, fields, at + "name.th") ||
        Changed(before, fields, at + "name.en")) {
      PutText(group, "name", Get(fields, at + "name.th"), Get(fields, at + "name.en"));
    }
    Status range = ApplyRange(group, at, before, fields, id);
    if (!range.ok()) return range;
    const json& old_criteria = Member(group, "criteria");
    json criteria = old_criteria;
    Status applied =
        ApplyCriteriaAt(criteria, old_criteria, at + "criteria", before, fields, depth + 1);
    if (!applied.ok()) return applied;
    if (criteria != old_criteria) group["criteria"] = std::move(criteria);
    groups.push_back(std::move(group));
  }
  if (groups.empty()) {
    return FieldError(prefix, "เกณฑ์แบบแบ่งกลุ่มต้องมีอย่างน้อย 1 กลุ่ม",
                      "groups criteria need at least one group");
  }
  c["groups"] = std::move(groups);
  return Status::Ok();
}

// Criteria `c` (a copy of `original`, the criteria the form showed under prefix `p`) with the
// form's fields applied. A form chosen anew (`p`.form changed, or criteria the KPI did not have)
// starts from nothing: every field sent is taken, the defaults (higher is better, interpolated,
// cumulative) for selects left unchosen. `depth`: how many groups the criteria lie inside; groups
// deeper than kMaxFormGroupDepth are refused (a forged form cannot nest without end).
Status ApplyCriteriaAt(json& c, const json& original, const std::string& p,
                       const FormFields& before, const FormFields& fields, int depth) {
  const std::string form = Get(fields, p + ".form");
  if (form == Get(before, p + ".form") && !form.empty()) {
    Status applied = form == "levels"       ? ApplyLevels(c, original, p, before, fields)
                     : form == "milestones" ? ApplyMilestones(c, original, p, before, fields)
                     : form == "points"     ? ApplyPoints(c, original, p, before, fields)
                     : form == "conditions" ? ApplyConditions(c, original, p, before, fields)
                                            : ApplyGroups(c, original, p, before, fields, depth);
    if (!applied.ok()) return applied;
    return ApplyLevelTexts(c, original, p, before, fields);
  }
  const bool nested = depth > 0;
  if (form == "groups" && depth >= kMaxFormGroupDepth) {
    return FieldError(p + ".form",
                      "กลุ่มซ้อนกันได้ไม่เกิน " + std::to_string(kMaxFormGroupDepth) +
                          " ชั้นในแบบฟอร์ม: เลือกแบบเกณฑ์อื่นให้กลุ่มนี้",
                      "groups nest at most " + std::to_string(kMaxFormGroupDepth) +
                          " deep on the form: choose another form for this group's criteria");
  }
  if (!IsFlatForm(form) && form != "groups") {
    return FieldError(
        p + ".form", nested ? "เลือกแบบของเกณฑ์ของกลุ่มนี้" : "เลือกแบบของเกณฑ์การประเมิน",
        nested ? "choose the form of this group's criteria" : "choose the form of the criteria");
  }
  FormFields sent = fields;
  for (const auto& [name, value] :
       {std::pair<const char*, const char*>{".direction", "higher"}, {".scoring", "interpolate"}}) {
    if (Get(sent, p + name).empty()) sent[p + name] = value;
  }
  c = json{{"form", form}};
  // As if the form had shown the format's defaults: what is sent differs from them where the
  // user chose otherwise (an unticked "cumulative" is sent as nothing, and means false).
  const FormFields defaults = {{p + ".form", form},
                               {p + ".direction", "higher"},
                               {p + ".scoring", "interpolate"},
                               {p + ".cumulative", "1"}};
  return ApplyCriteriaAt(c, json::object(), p, defaults, sent, depth);
}

Status ApplySubKpis(json& kpi, const json& original, const FormFields& before,
                    const FormFields& fields);

// `kpi`'s criteria with the criteria form applied, when the KPI's criteria have a form or the
// form chose one for a KPI without criteria (else unchanged: edited in the JSON editor).
Status ApplyCriteria(json& kpi, const json& original, const FormFields& before,
                     const FormFields& fields) {
  const json& old = Member(original, "criteria");
  if (Get(fields, "criteria.form") == "sub_kpis" || Get(before, "criteria.form") == "sub_kpis") {
    return ApplySubKpis(kpi, original, before, fields);
  }
  if (!before.count("criteria.form")) {
    // Criteria the form cannot show are the JSON editor's; a KPI without criteria (and without
    // sub-KPIs) gets the ones chosen on the form.
    if (!old.is_null() || original.contains("sub_kpis") || Get(fields, "criteria.form").empty()) {
      return Status::Ok();
    }
  }
  json c = old.is_null() ? json::object() : old;
  Status applied =
      ApplyCriteriaAt(c, old.is_null() ? json::object() : old, "criteria", before, fields, 0);
  if (!applied.ok()) return applied;
  if (c != old) kpi["criteria"] = std::move(c);
  return Status::Ok();
}

// The criteria form's field (or row) a path inside the criteria under prefix `p` concerns
// (`parts`: "targets", "1"; "levels", "0", "2", "due"; "groups", "1", "criteria", ...); `p` for
// the criteria as a whole.
std::string CriteriaFieldOfParts(const std::string& p, const std::vector<std::string>& parts,
                                 size_t from) {
  if (parts.size() <= from) return p;
  const std::string& head = parts[from];
  const size_t left = parts.size() - from;
  if (head == "direction" || head == "scoring" || head == "cumulative" || head == "form" ||
      head == "by" || head == "integer") {
    return p + "." + head;
  }
  if (head == "targets" && left >= 2) return p + ".targets." + parts[from + 1] + ".value";
  if (head == "texts" && left >= 2) return p + ".texts." + parts[from + 1] + ".th";
  if (head == "levels" && left >= 3) {
    std::string field = left >= 4 ? parts[from + 3] : "variable";
    if (field == "text") field = "text.th";
    return p + ".levels." + parts[from + 1] + "." + parts[from + 2] + "." + field;
  }
  if (head == "levels" && left == 2) return p + ".levels." + parts[from + 1];
  if (head == "items" && left >= 2) {
    std::string field = left >= 3 ? parts[from + 2] : "id";
    if (field == "text") field = "text.th";
    return p + ".items." + parts[from + 1] + "." + field;
  }
  if (head == "groups" && left >= 2) {
    const std::string at = p + ".groups." + parts[from + 1];
    if (left == 2) return at;
    const std::string& field = parts[from + 2];
    if (field == "criteria") return CriteriaFieldOfParts(at + ".criteria", parts, from + 3);
    if (field == "id") return at + ".id";
    if (field == "name") return at + ".name.th";
    return at;
  }
  return p;
}

// The criteria form's field for a path inside the KPI's criteria ("targets/1").
std::string CriteriaFieldOfPath(const std::string& rest) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (!rest.empty() && start <= rest.size()) {
    const size_t slash = rest.find('/', start);
    parts.push_back(
        rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return CriteriaFieldOfParts("criteria", parts, 0);
}

// ---- composite KPIs (sub_kpis, §2.2 and §9.6) ----
//
// A composite KPI's form shows "criteria.form" as "sub_kpis" and one row per sub-KPI:
// "sub_kpis.N.id" (sent back unchanged: a sub-KPI's number is its address), ".name.th"/".en" and
// ".weight" (its share of the parent's score). The sub-KPIs' own fields are edited on their own
// pages; adding and removing one are the pages' (they change several KPIs at once).

const std::vector<std::string> kSubKpiColumns = {"id", "name.th", "name.en", "weight"};

void AddSubKpiFields(FormFields& out, const json& kpi) {
  if (Member(kpi, "weight").is_number()) out["weight"] = ValueText(kpi["weight"]);
  const json& subs = Member(kpi, "sub_kpis");
  if (!subs.is_array() || subs.empty() || kpi.contains("criteria")) return;
  out["criteria.form"] = "sub_kpis";
  for (size_t i = 0; i < subs.size(); ++i) {
    const std::string at = "sub_kpis." + std::to_string(i) + ".";
    out[at + "id"] = ValueText(Member(subs[i], "id"));
    AddText(out, at + "name", Member(subs[i], "name"));
    out[at + "weight"] = ValueText(Member(subs[i], "weight"));
  }
}

// A share typed for a sub-KPI: a number from 0 to 100, else kInvalidInput at `field`.
Result<json> ShareJson(const std::string& typed, const std::string& field, const std::string& id) {
  auto n = ParseNumber(typed);
  if (!n || *n < 0 || *n > 100) {
    return FieldError(field, "สัดส่วนของตัวชี้วัดย่อย " + id + " ต้องเป็นตัวเลข 0–100 เช่น 25 หรือ 12.5",
                      "the share of sub-KPI " + id +
                          " must be a number from 0 to 100, such as 25 "
                          "or 12.5");
  }
  return NumberJson(*n);
}

// The composite KPI form's rows applied to `kpi`'s sub-KPIs (their names and shares); a row not
// sent keeps its sub-KPI as it was. kInvalidInput for a composite KPI given a criteria form (its
// sub-KPIs must be removed first), a KPI made composite without a sub-KPI (the first is added on
// its own page), a row that is not one of the KPI's sub-KPIs, a name left empty, a share that is
// not a number from 0 to 100. The shares' sum is `esar check`'s (sub-kpi-weights).
Status ApplySubKpis(json& kpi, const json& original, const FormFields& before,
                    const FormFields& fields) {
  const bool composite = Get(before, "criteria.form") == "sub_kpis";
  const std::string form = Get(fields, "criteria.form");
  if (!composite) {
    return FieldError("criteria.form",
                      "ตัวชี้วัดจะเป็นตัวชี้วัดที่มีตัวชี้วัดย่อยเมื่อเพิ่มตัวชี้วัดย่อยตัวแรก: กรอกเลขที่ ชื่อ และสัดส่วนใน "
                      "\"เพิ่มตัวชี้วัดย่อย\" แล้วเลือกเกณฑ์ของตัวชี้วัดย่อยในหน้าของตัวชี้วัดย่อยนั้น",
                      "a KPI becomes composite with its first sub-KPI: give its number, name and "
                      "share under \"Add a sub-KPI\", then choose its criteria on its own page");
  }
  if (form != "sub_kpis") {
    return FieldError("criteria.form", "ตัวชี้วัดนี้มีตัวชี้วัดย่อย: ลบตัวชี้วัดย่อยทั้งหมดก่อน จึงจะเลือกเกณฑ์แบบอื่นได้",
                      "this KPI has sub-KPIs: remove them first to give it criteria of another "
                      "form");
  }
  auto rows = Rows(fields, "sub_kpis", kSubKpiColumns, kSubKpiColumns);
  if (!rows) return rows.status();
  const json& subs = Member(original, "sub_kpis");
  json out = subs;
  for (const Row& row : *rows) {
    const std::string at = "sub_kpis." + std::to_string(row.index) + ".";
    const size_t i = static_cast<size_t>(row.index);
    const json old = i < subs.size() ? subs[i] : json();
    const std::string id = ValueText(Member(old, "id"));
    if (old.is_null() || Trim(row.values.at("id")) != id) {
      return FieldError(at + "id", "ตัวชี้วัดย่อยแถวนี้ไม่ใช่ของตัวชี้วัดนี้ (เพิ่มตัวชี้วัดย่อยด้วย \"เพิ่มตัวชี้วัดย่อย\")",
                        "this row is not one of this KPI's sub-KPIs (add one with \"Add a "
                        "sub-KPI\")");
    }
    auto changed = [&](const std::string& c) { return Changed(before, fields, at + c); };
    json& sub = out[i];
    if (changed("name.th") || changed("name.en")) {
      if (Trim(row.values.at("name.th")).empty() && Trim(row.values.at("name.en")).empty()) {
        return FieldError(at + "name.th", "ชื่อตัวชี้วัดย่อย " + id + ": ต้องกรอก",
                          "the name of sub-KPI " + id + ": required");
      }
      PutText(sub, "name", row.values.at("name.th"), row.values.at("name.en"));
    }
    if (changed("weight")) {
      auto share = ShareJson(row.values.at("weight"), at + "weight", id);
      if (!share) return share.status();
      sub["weight"] = *share;
    }
  }
  if (out != subs) kpi["sub_kpis"] = std::move(out);
  return Status::Ok();
}

// The KPI id set's JSON pointer search: `kpis` (an array at `path`) and their sub-KPIs, at most
// `depth_left` levels further down.
std::string FindKpiPath(const json& kpis, const std::string& path, const std::string& id,
                        int depth_left) {
  if (!kpis.is_array() || depth_left < 0) return "";
  for (size_t i = 0; i < kpis.size(); ++i) {
    const std::string at = path + "/" + std::to_string(i);
    if (ValueText(Member(kpis[i], "id")) == id) return at;
    const std::string below =
        FindKpiPath(Member(kpis[i], "sub_kpis"), at + "/sub_kpis", id, depth_left - 1);
    if (!below.empty()) return below;
  }
  return "";
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
  AddCriteriaFields(out, "criteria", Member(kpi, "criteria"), 0);
  AddSubKpiFields(out, kpi);
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
  AddSourcesFields(out, kpi);
  return out;
}

Result<nlohmann::json> ApplyKpiForm(const nlohmann::json& kpi, const FormFields& fields,
                                    const std::vector<std::string>& components, bool top_level) {
  if (!kpi.is_object()) return Status::Internal("ApplyKpiForm: the KPI is not an object");
  const FormFields before = KpiFormFields(kpi);
  json out = kpi;
  auto same = [&](const std::string& field) { return !Changed(before, fields, field); };
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

  if (!top_level && !same("weight")) {
    auto share = ShareJson(Get(fields, "weight"), "weight", ValueText(Member(kpi, "id")));
    if (!share) return share.status();
    out["weight"] = *share;
  }

  Status variables = ApplyVariables(out, kpi, fields);
  if (!variables.ok()) return variables;

  // Where the values come from reads the variables as the form left them.
  Status sources = ApplySourcesForm(out, kpi, fields);
  if (!sources.ok()) return sources;

  Status criteria = ApplyCriteria(out, kpi, before, fields);
  if (!criteria.ok()) return criteria;

  const json& old_doc = Member(kpi, "documentation");
  json doc = old_doc.is_object() ? old_doc : json::object();
  for (const std::string& key : kDocTexts) {
    if (text_changed("doc." + key)) {
      PutText(doc, key.c_str(), Get(fields, "doc." + key + ".th"),
              Get(fields, "doc." + key + ".en"));
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
    json c = OldRow(old, row.index);
    auto changed = [&](const std::string& col) {
      return row.values.at(col) != Before(*before, row.index, col) || c.empty();
    };
    const std::string id = Trim(row.values.at("id"));
    if (id.empty() || (changed("id") && !IsSafeKpiId(id))) {
      return FieldError(
          at + "id", "รหัสองค์ประกอบใช้ได้เฉพาะอักษรอังกฤษ ตัวเลข . - และ _ (ไม่เกิน 32 ตัว) เช่น performance",
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
      head == "result" || head == "flags" || head == "rounds" || head == "weight") {
    return head;
  }
  if (head == "sub_kpis") {
    // A sub-KPI's row on its parent's form: its share or name, else the row (its own page has
    // the rest).
    const std::vector<std::string> parts = PathParts(rest);
    if (parts.size() < 2) return "sub_kpis";
    const std::string row = "sub_kpis." + parts[1];
    if (parts.size() == 3 && parts[2] == "weight") return row + ".weight";
    if (parts.size() >= 3 && parts[2] == "name") return row + ".name.th";
    return row;
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
  return SourcesFieldOfPath(rest);
}

std::string KpiFieldOfFinding(const std::string& kpi_path, const std::string& kpi_key,
                              const domain::Finding& finding, const FormFields* fields) {
  const std::string by_path = KpiFieldOfPath(kpi_path, finding.where.json_path);
  const std::string& path = finding.where.json_path;
  if (fields != nullptr && (path.empty() || path == kpi_path || by_path == "criteria")) {
    // The engine compiles formulas without their JSON path (the finding is at the KPI or
    // nowhere); its message quotes the formula, and names the level of a target. Every formula
    // field of the criteria form (a group's too) is looked at.
    for (const auto& [name, value] : *fields) {
      if (name.rfind("criteria.", 0) != 0) continue;
      const std::string formula = Trim(value);
      if (formula.empty() || finding.message_en.find("\"" + formula + "\"") == std::string::npos) {
        continue;
      }
      const size_t targets = name.rfind(".targets.");
      if (targets != std::string::npos && name.size() > 6 &&
          name.compare(name.size() - 6, 6, ".value") == 0) {
        const std::string n = name.substr(targets + 9, name.size() - 6 - targets - 9);
        int index = -1;
        auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), index);
        if (ec == std::errc() && ptr == n.data() + n.size() &&
            finding.message_en.find("level " + std::to_string(index + 1) + " target") !=
                std::string::npos) {
          return name;
        }
        continue;
      }
      const bool formula_field = name.find(".conditions.") != std::string::npos ||
                                 (name.find(".items.") != std::string::npos && name.size() > 5 &&
                                  name.compare(name.size() - 5, 5, ".when") == 0) ||
                                 (name.size() > 3 && name.compare(name.size() - 3, 3, ".by") == 0);
      if (formula_field) return name;
    }
  }
  const size_t sub = kpi_path.rfind("/sub_kpis/");
  if (sub != std::string::npos && path == kpi_path.substr(0, sub) + "/sub_kpis") {
    return "weight";  // the shares of this sub-KPI and its siblings (sub-kpi-weights)
  }
  if (finding.code == "kpi-key-duplicate" && !kpi_key.empty() &&
      finding.message_en.find("\"" + kpi_key + "\"") != std::string::npos) {
    return "key";
  }
  return KpiFieldOfPath(kpi_path, finding.where.json_path);
}

namespace {

// The top-level KPIs' ids of `document`, in order.
std::vector<std::string> TopLevelKpiIds(const json& document) {
  std::vector<std::string> ids;
  const json& kpis = Member(document, "kpis");
  if (!kpis.is_array()) return ids;
  for (const json& k : kpis) {
    if (k.is_object() && k.contains("id") && k["id"].is_string()) ids.push_back(k["id"]);
  }
  return ids;
}

// The agency codes a rule names ("*" included), or none when it names none as it should.
std::vector<std::string> RuleAgencies(const json& rule) {
  std::vector<std::string> out;
  const json& agencies = Member(rule, "agencies");
  if (!agencies.is_array()) return out;
  for (const json& a : agencies) {
    if (a.is_string()) out.push_back(a);
  }
  return out;
}

bool Exempts(const json& entry) {
  const json& exempt = Member(entry, "exempt");
  return !exempt.is_null() && !(exempt.is_boolean() && !exempt.get<bool>());
}

// Whether an assigned-KPI entry still says something once its weight is gone: its own criteria
// or an exemption (`exempt: false` says nothing, §3).
bool SaysMoreThanWeight(const json& entry) { return entry.contains("criteria") || Exempts(entry); }

bool NamesAgency(const json& rule, const std::string& agency) {
  const auto named = RuleAgencies(rule);
  return std::find(named.begin(), named.end(), agency) != named.end() ||
         std::find(named.begin(), named.end(), "*") != named.end();
}

// What the rules naming `agency` (or "*") say of KPI `kpi` besides its weight, as §3 resolves
// it: the last own criteria (null when none) and the last exemption (null when none).
std::pair<json, json> OwnOf(const json& document, const std::string& agency,
                            const std::string& kpi) {
  json criteria, exempt;
  const json& rules = Member(document, "assignments");
  for (const json& rule : rules.is_array() ? rules : json::array()) {
    if (!NamesAgency(rule, agency)) continue;
    const json& entries = Member(rule, "kpis");
    for (const json& e : entries.is_array() ? entries : json::array()) {
      if (ValueText(Member(e, "kpi")) != kpi) continue;
      if (e.contains("criteria")) criteria = e["criteria"];
      if (Exempts(e)) exempt = e["exempt"];
    }
  }
  return {criteria, exempt};
}

// The criteria of top-level KPI `kpi` of `document` (null when it has none).
json KpiCriteria(const json& document, const std::string& kpi) {
  const json& kpis = Member(document, "kpis");
  for (const json& k : kpis.is_array() ? kpis : json::array()) {
    if (ValueText(Member(k, "id")) == kpi) return Member(k, "criteria");
  }
  return nullptr;
}

bool IsLevels(const json& criteria) {
  const json& form = Member(criteria, "form");
  return form.is_string() && form.get<std::string>() == "levels";
}

// The criteria an agency's own targets start from for `kpi`: its own levels criteria, else the
// KPI's levels criteria; null when neither is levels (no own-target fields then).
json OwnTargetsBase(const json& document, const std::string& agency, const std::string& kpi) {
  const json own = OwnOf(document, agency, kpi).first;
  if (IsLevels(own)) return own;
  const json kpi_criteria = KpiCriteria(document, kpi);
  return IsLevels(kpi_criteria) && own.is_null() ? kpi_criteria : json();
}

}  // namespace

FormFields AssignmentFormFields(const nlohmann::json& document, const std::string& agency) {
  FormFields out;
  const json& rules = Member(document, "assignments");
  if (!rules.is_array()) return out;
  for (const json& rule : rules) {
    const auto agencies = RuleAgencies(rule);
    if (std::find(agencies.begin(), agencies.end(), agency) == agencies.end() &&
        std::find(agencies.begin(), agencies.end(), "*") == agencies.end()) {
      continue;
    }
    const json& kpis = Member(rule, "kpis");
    if (!kpis.is_array()) continue;
    for (const json& entry : kpis) {
      const std::string kpi = ValueText(Member(entry, "kpi"));
      if (kpi.empty()) continue;
      out["assigned." + kpi] = "1";
      if (Member(entry, "weight").is_number()) out["weight." + kpi] = ValueText(entry["weight"]);
    }
  }
  return out;
}

FormFields AgencyOwnFormFields(const nlohmann::json& document, const std::string& agency) {
  FormFields out = {{"own.shown", "1"}};
  for (const std::string& kpi : TopLevelKpiIds(document)) {
    const json exempt = OwnOf(document, agency, kpi).second;
    if (!exempt.is_null()) {
      out["exempt." + kpi] = "1";
      if (!exempt.is_boolean()) AddText(out, "exempt." + kpi, exempt);
    }
    const json base = OwnTargetsBase(document, agency, kpi);
    if (base.is_null()) continue;
    FormFields criteria;
    AddCriteriaFields(criteria, "own." + kpi, base, 0);
    const std::string prefix = "own." + kpi + ".targets.";
    for (const auto& [name, value] : criteria) {
      if (name.rfind(prefix, 0) == 0) out[name] = value;
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, double>>> AssignmentFormWeights(
    const nlohmann::json& document, const FormFields& fields) {
  std::vector<std::pair<std::string, double>> out;
  for (const std::string& kpi : TopLevelKpiIds(document)) {
    const bool assigned = !Get(fields, "assigned." + kpi).empty();
    const std::string typed = Trim(Get(fields, "weight." + kpi));
    if (typed.empty()) {
      if (assigned) out.emplace_back(kpi, 0.0);
      continue;
    }
    const auto weight = ParseNumber(typed);
    if (!weight || *weight < 0 || *weight > 100) {
      return FieldError("weight." + kpi,
                        "น้ำหนักของตัวชี้วัด " + kpi + " ต้องเป็นตัวเลข 0 ถึง 100 เช่น 20 หรือ 12.5",
                        "the weight of KPI " + kpi +
                            " must be a number from 0 to 100, such as 20 "
                            "or 12.5");
    }
    if (!assigned) {
      return FieldError("weight." + kpi,
                        "ตัวชี้วัด " + kpi + " มีน้ำหนักแต่ไม่ได้เลือกให้ประเมิน: เลือกให้ประเมิน หรือลบน้ำหนักออก",
                        "KPI " + kpi +
                            " has a weight but is not chosen: tick it, or clear its "
                            "weight");
    }
    out.emplace_back(kpi, *weight);
  }
  return out;
}

Result<nlohmann::json> ApplyAssignmentForm(const nlohmann::json& document,
                                           const std::vector<std::string>& agencies,
                                           const FormFields& fields) {
  auto weights = AssignmentFormWeights(document, fields);
  if (!weights) return weights.status();
  const std::set<std::string> chosen(agencies.begin(), agencies.end());
  std::set<std::string> ticked;
  for (const auto& [kpi, weight] : *weights) ticked.insert(kpi);
  // One agency's form also says its exemptions and own targets (AgencyOwnFormFields): those
  // then replace what the rules said, for every KPI ticked.
  const bool own = agencies.size() == 1 && !Get(fields, "own.shown").empty();
  std::map<std::string, json> exempt_of, criteria_of;  // json() for "none"
  std::set<std::string> targets_sent;
  if (own) {
    const std::string& agency = agencies.front();
    for (const std::string& kpi : TopLevelKpiIds(document)) {
      const bool exempt = !Get(fields, "exempt." + kpi).empty();
      const std::string th = Trim(Get(fields, "exempt." + kpi + ".th"));
      const std::string en = Trim(Get(fields, "exempt." + kpi + ".en"));
      if (!ticked.count(kpi)) {
        if (exempt) {
          return FieldError("exempt." + kpi, "ตัวชี้วัด " + kpi + " ไม่ได้เลือกให้ประเมิน จึงยกเว้นไม่ได้",
                            "KPI " + kpi + " is not chosen, so it cannot be exempted");
        }
        continue;
      }
      if (exempt && th.empty()) {
        return FieldError("exempt." + kpi + ".th", "ใส่เหตุผลของการยกเว้นตัวชี้วัด " + kpi + " เป็นภาษาไทย",
                          "give the reason KPI " + kpi + " is exempted, in Thai");
      }
      if (th.size() > 2000 || en.size() > 2000) {
        return FieldError("exempt." + kpi + ".th", "เหตุผลของการยกเว้นยาวได้ไม่เกิน 2,000 ไบต์",
                          "the reason of an exemption is at most 2,000 bytes");
      }
      exempt_of[kpi] = exempt ? *MakeText(th, en) : json();
      const json base = OwnTargetsBase(document, agency, kpi);
      const std::string p = "own." + kpi;
      auto rows = Indices(fields, p + ".targets");
      if (!rows) return rows.status();
      if (base.is_null() || rows->empty()) continue;
      FormFields before;
      AddCriteriaFields(before, p, base, 0);
      FormFields sent = before;
      for (auto it = sent.begin(); it != sent.end();) {
        it = it->first.rfind(p + ".targets.", 0) == 0 ? sent.erase(it) : std::next(it);
      }
      for (auto it = fields.lower_bound(p + ".targets.");
           it != fields.end() && it->first.rfind(p + ".targets.", 0) == 0; ++it) {
        sent[it->first] = it->second;
      }
      json c = base;
      Status applied = ApplyCriteriaAt(c, base, p, before, sent, 0);
      if (!applied.ok()) return applied;
      targets_sent.insert(kpi);
      criteria_of[kpi] = c == KpiCriteria(document, kpi) ? json() : c;
    }
  }
  const json& rules = Member(document, "assignments");
  json kept = json::array();
  for (const json& rule : rules.is_array() ? rules : json::array()) {
    const auto named = RuleAgencies(rule);
    const json& entries = Member(rule, "kpis");
    if (std::find(named.begin(), named.end(), "*") != named.end()) {
      // A rule for every agency cannot leave one out: §3 has no "not assigned".
      for (const json& entry : entries.is_array() ? entries : json::array()) {
        const std::string kpi = ValueText(Member(entry, "kpi"));
        if (!kpi.empty() && !ticked.count(kpi)) {
          return FieldError(
              "assigned." + kpi,
              "ตัวชี้วัด " + kpi +
                  " มอบหมายให้ทุกหน่วยงานในกรอบการประเมิน จึงยกเลิกเฉพาะหน่วยงานนี้ไม่ได้: "
                  "ให้ยกเว้นการประเมินพร้อมเหตุผลแทน",
              "KPI " + kpi +
                  " is assigned to every agency by the framework, so it cannot be "
                  "taken from this agency alone: exempt the agency with a reason instead");
        }
      }
      for (const json& entry : entries.is_array() ? entries : json::array()) {
        const std::string kpi = ValueText(Member(entry, "kpi"));
        if (own && Exempts(entry) && exempt_of.count(kpi) && exempt_of[kpi].is_null()) {
          return FieldError(
              "exempt." + kpi,
              "ตัวชี้วัด " + kpi + " ยกเว้นให้ทุกหน่วยงานในกรอบการประเมิน จึงยกเลิกการยกเว้นเฉพาะหน่วยงานนี้ไม่ได้",
              "KPI " + kpi +
                  " is exempted for every agency by the framework, so the exemption "
                  "cannot be lifted for this agency alone");
        }
        // The KPI's own criteria, when the form says so, must be written over the rule's.
        if (own && entry.contains("criteria") && targets_sent.count(kpi) &&
            criteria_of[kpi].is_null()) {
          criteria_of[kpi] = KpiCriteria(document, kpi);
        }
      }
      kept.push_back(rule);
      continue;
    }
    json ours = json::array();
    json others = json::array();
    for (const std::string& code : named) (chosen.count(code) ? ours : others).push_back(code);
    if (ours.empty()) {
      kept.push_back(rule);
      continue;
    }
    // The chosen agencies' part keeps only what the new rule below does not say: their own
    // criteria and exemptions, for the KPIs still ticked.
    json part = rule;
    part["agencies"] = ours;
    json left = json::array();
    for (const json& entry : entries.is_array() ? entries : json::array()) {
      if (!ticked.count(ValueText(Member(entry, "kpi")))) continue;
      json e = entry;
      e.erase("weight");
      if (own) {
        // The form says the exemption, and the own targets where it shows them.
        const std::string kpi = ValueText(Member(entry, "kpi"));
        e.erase("exempt");
        if (targets_sent.count(kpi)) e.erase("criteria");
      }
      if (SaysMoreThanWeight(e)) left.push_back(std::move(e));
    }
    if (!others.empty()) {
      json rest = rule;
      rest["agencies"] = others;
      kept.push_back(std::move(rest));
    }
    if (!left.empty()) {
      part["kpis"] = std::move(left);
      kept.push_back(std::move(part));
    }
  }
  if (!weights->empty()) {
    // The weights go last, so that they override every earlier rule, into the last rule when
    // it names exactly these agencies (a form saved again adds no rule).
    const bool merge = !kept.empty() && [&] {
      const auto last = RuleAgencies(kept.back());
      return std::set<std::string>(last.begin(), last.end()) == chosen;
    }();
    if (!merge) kept.push_back(json{{"agencies", agencies}, {"kpis", json::array()}});
    json& list = kept.back()["kpis"];
    for (const auto& [kpi, weight] : *weights) {
      auto it = std::find_if(list.begin(), list.end(),
                             [&](const json& e) { return ValueText(Member(e, "kpi")) == kpi; });
      if (it == list.end()) {
        list.push_back(json{{"kpi", kpi}});
        it = list.end() - 1;
      }
      (*it)["weight"] = NumberJson(weight);
      if (!own) continue;
      if (!exempt_of[kpi].is_null()) {
        (*it)["exempt"] = exempt_of[kpi];
      } else {
        it->erase("exempt");
      }
      if (!targets_sent.count(kpi)) continue;
      if (!criteria_of[kpi].is_null()) {
        (*it)["criteria"] = criteria_of[kpi];
      } else {
        it->erase("criteria");
      }
    }
  }
  json out = document;
  if (kept.empty() && !document.contains("assignments")) return out;
  out["assignments"] = std::move(kept);
  return out;
}

std::string KpiPath(const nlohmann::json& document, const std::string& kpi_id) {
  return FindKpiPath(Member(document, "kpis"), "/kpis", kpi_id, kMaxSubKpiDepth);
}

FormFields SubKpiShareFields(const nlohmann::json& parent, const std::string& except) {
  FormFields out;
  const json& subs = Member(parent, "sub_kpis");
  for (const json& sub : subs.is_array() ? subs : json::array()) {
    const std::string id = ValueText(Member(sub, "id"));
    if (id != except) out["shares." + id] = ValueText(Member(sub, "weight"));
  }
  return out;
}

Result<nlohmann::json> ApplySubKpiShares(const nlohmann::json& parent, const FormFields& fields) {
  json out = parent;
  json& subs = out["sub_kpis"];
  if (!subs.is_array()) return parent;
  const FormFields before = SubKpiShareFields(parent, "");
  for (json& sub : subs) {
    const std::string id = ValueText(Member(sub, "id"));
    const std::string field = "shares." + id;
    if (!fields.count(field) || !Changed(before, fields, field)) continue;
    auto share = ShareJson(Get(fields, field), field, id);
    if (!share) return share.status();
    sub["weight"] = *share;
  }
  return out;
}

namespace {

// How deep the KPI at JSON pointer `path` lies below the top level (0 for a top-level KPI).
int SubDepth(const std::string& path) {
  int depth = 0;
  for (size_t at = path.find("/sub_kpis/"); at != std::string::npos;
       at = path.find("/sub_kpis/", at + 1)) {
    ++depth;
  }
  return depth;
}

}  // namespace

std::string ParentKpiPath(const std::string& kpi_path) {
  const size_t at = kpi_path.rfind("/sub_kpis/");
  return at == std::string::npos ? "" : kpi_path.substr(0, at);
}

Result<KpiFormChange> ApplyKpiFormAt(const nlohmann::json& document, const std::string& kpi_id,
                                     const FormFields& fields,
                                     const std::vector<std::string>& components, bool add,
                                     const std::string& parent_id) {
  KpiFormChange out{document, KpiPath(document, kpi_id)};
  json& doc = out.document;
  if (add) {
    if (!IsSafeKpiId(kpi_id)) {
      return Status::InvalidInput(
          "เลขที่ตัวชี้วัด \"" + kpi_id + "\" ใช้ได้เฉพาะอักษรอังกฤษ ตัวเลข . - และ _ (ไม่เกิน 32 ตัว) เช่น 9",
          "KPI number \"" + kpi_id +
              "\": English letters, digits, '.', '-' and '_' only (at most 32), such as 9",
          Location{"", "id", 0});
    }
    if (!out.kpi_path.empty()) {
      return Status::Conflict("มีตัวชี้วัด " + kpi_id + " อยู่แล้ว จึงไม่ได้เพิ่มซ้ำ",
                              "KPI " + kpi_id + " exists already: nothing was added");
    }
    if (parent_id.empty()) {
      if (!doc.contains("kpis") || !doc["kpis"].is_array()) doc["kpis"] = json::array();
      doc["kpis"].push_back(json{{"id", kpi_id}});
      out.kpi_path = "/kpis/" + std::to_string(doc["kpis"].size() - 1);
    } else {
      const std::string parent_path = KpiPath(doc, parent_id);
      if (parent_path.empty()) {
        return Status::NotFound("ไม่มีตัวชี้วัด " + parent_id, "no KPI " + parent_id);
      }
      if (SubDepth(parent_path) >= kMaxSubKpiDepth) {
        return FieldError("id", "ตัวชี้วัดย่อยซ้อนกันได้ไม่เกิน " + std::to_string(kMaxSubKpiDepth) + " ชั้น",
                          "sub-KPIs nest at most " + std::to_string(kMaxSubKpiDepth) + " deep");
      }
      json& parent = doc[json::json_pointer(parent_path)];
      // The siblings' shares change with the new one's (they sum to 100), and a KPI made
      // composite by its first sub-KPI has no criteria of its own any more (§2.2).
      auto shared = ApplySubKpiShares(parent, fields);
      if (!shared) return shared.status();
      parent = std::move(*shared);
      parent.erase("criteria");
      if (!parent["sub_kpis"].is_array()) parent["sub_kpis"] = json::array();
      parent["sub_kpis"].push_back(json{{"id", kpi_id}, {"weight", 0}});
      out.kpi_path = parent_path + "/sub_kpis/" + std::to_string(parent["sub_kpis"].size() - 1);
    }
  } else if (out.kpi_path.empty()) {
    return Status::NotFound("ไม่มีตัวชี้วัด " + kpi_id, "no KPI " + kpi_id);
  }
  json& kpi = doc[json::json_pointer(out.kpi_path)];
  auto changed = ApplyKpiForm(kpi, fields, components, ParentKpiPath(out.kpi_path).empty());
  if (!changed) return changed.status();
  kpi = std::move(*changed);
  return out;
}

}  // namespace esar::formats
