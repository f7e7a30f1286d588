#include "formats/framework_form_sources.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "domain/cases.h"
#include "domain/expression.h"
#include "domain/model.h"
#include "formats/framework_form_detail.h"
#include "formats/framework_json.h"

namespace esar::formats {
namespace {

using nlohmann::json;
using namespace form_detail;  // NOLINT: the library's own form helpers

const std::vector<std::string> kCaseKinds = {"act", "royal_decree", "ministerial_regulation",
                                             "opinion"};
const std::vector<std::string> kPauses = {"ria", "committee", "outside"};
const std::vector<std::string> kCaseFields = {"sections", "maps", "maps_complex", "annex_pages"};
const std::vector<std::string> kMeasures = {"share", "count", "average", "sum", "min", "max"};
const std::vector<std::string> kCatalogRoles = {"datasets", "complete", "complete_percent"};
const std::vector<std::string> kReferenceColumns = {"name",        "source", "kpi", "variable",
                                                    "fiscal_year", "round",  "key", "read"};
const std::vector<std::string> kReferenceKeys = {"name", "variable", "key", "fiscal_year", "kpi"};

// The fields under `prefix` that say something (a value that is not blank), as sent or shown:
// a form is unchanged where these are equal (a blank row added for a new entry, an unticked
// checkbox sent or not, say nothing).
FormFields Said(const FormFields& fields, const std::string& prefix) {
  FormFields out;
  for (auto it = fields.lower_bound(prefix); it != fields.end() && it->first.rfind(prefix, 0) == 0;
       ++it) {
    const std::string value = Get(fields, it->first);
    if (!Trim(value).empty()) out[it->first] = value;
  }
  return out;
}

bool Ticked(const FormFields& fields, const std::string& name) {
  return !Trim(Get(fields, name)).empty();
}

// The names N of every ticked field "`prefix`.N" (one word, no dot unless `dotted`: agency codes
// may hold dots, "moi.dla"), in the order of `offered` and then by name.
std::vector<std::string> TickedNames(const FormFields& fields, const std::string& prefix,
                                     const std::vector<std::string>& offered, bool dotted = false) {
  std::set<std::string> ticked;
  const std::string start = prefix + ".";
  for (auto it = fields.lower_bound(start); it != fields.end() && it->first.rfind(start, 0) == 0;
       ++it) {
    const std::string name = it->first.substr(start.size());
    if (!name.empty() && (dotted || name.find('.') == std::string::npos) &&
        Ticked(fields, it->first)) {
      ticked.insert(name);
    }
  }
  std::vector<std::string> out;
  for (const std::string& o : offered) {
    if (ticked.erase(o)) out.push_back(o);
  }
  out.insert(out.end(), ticked.begin(), ticked.end());
  return out;
}

// `names` as a JSON list in the order of `old` (a list of the same names keeps its JSON), names
// not in it after; numbers when `numbers` (excluded categories, rounds).
json ListLike(const json& old, const std::vector<std::string>& names, bool numbers) {
  std::vector<std::string> rest = names;
  json out = json::array();
  if (old.is_array()) {
    for (const json& o : old) {
      auto it = std::find(rest.begin(), rest.end(), ValueText(o));
      if (it == rest.end()) continue;
      out.push_back(o);
      rest.erase(it);
    }
  }
  for (const std::string& n : rest) {
    out.push_back(numbers ? NumberJson(*ParseNumber(n)) : json(n));
  }
  return out;
}

// Adds "`prefix`.<value>" = "1" for every value of the JSON list `list`.
void AddTicks(FormFields& out, const std::string& prefix, const json& list) {
  if (!list.is_array()) return;
  for (const json& v : list) {
    const std::string name = ValueText(v);
    if (!name.empty()) out[prefix + "." + name] = "1";
  }
}

// The ids of `kpi`'s variables.
std::set<std::string> VariableIds(const json& kpi) {
  std::set<std::string> out;
  const json& variables = Member(kpi, "variables");
  for (const json& v : variables.is_array() ? variables : json::array()) {
    const std::string id = ValueText(Member(v, "id"));
    if (!id.empty()) out.insert(id);
  }
  return out;
}

// The id of `kpi`'s only variable that is not derived, or "" when it has none or several.
std::string OnlyReported(const json& kpi) {
  std::string only;
  const json& variables = Member(kpi, "variables");
  for (const json& v : variables.is_array() ? variables : json::array()) {
    if (ValueText(Member(v, "type")) == "derived") continue;
    if (!only.empty()) return "";
    only = ValueText(Member(v, "id"));
  }
  return only;
}

// kInvalidInput at `field` unless `name` is one of the KPI's variables.
Status OneOfTheVariables(const std::set<std::string>& ids, const std::string& field,
                         const std::string& name) {
  if (ids.count(name)) return Status::Ok();
  return FieldError(field, "\"" + name + "\" ไม่ใช่ตัวแปรของตัวชี้วัดนี้: เลือกจากตัวแปรในส่วน \"ตัวแปร\"",
                    "\"" + name +
                        "\" is not one of this KPI's variables: choose one of those in "
                        "\"Variables\"");
}

// A day typed as day/month/B.E. year (or ISO) as the ISO date the format keeps. kInvalidInput
// at `field` otherwise.
Result<std::string> TypedDate(const FormFields& fields, const std::string& field,
                              const std::string& label_th, const std::string& label_en) {
  const std::string typed = Trim(Get(fields, field));
  auto day = domain::ParseCaseDate(typed);
  if (!day) {
    return FieldError(
        field, label_th + ": \"" + typed + "\" ต้องเป็น วัน/เดือน/ปี พ.ศ. เช่น 31/3/2567",
        label_en + ": \"" + typed + "\" must be day/month/Buddhist Era year, such as 31/3/2567");
  }
  return domain::IsoDate(*day);
}

// A whole number typed in [low, high], or kInvalidInput at `field`.
Result<int> TypedWhole(const FormFields& fields, const std::string& field, int low, int high,
                       const std::string& label_th, const std::string& label_en) {
  auto n = ParseNumber(Get(fields, field));
  if (!n || *n != static_cast<double>(static_cast<long long>(*n)) || *n < low || *n > high) {
    return FieldError(
        field, label_th + " ต้องเป็นจำนวนเต็ม " + std::to_string(low) + "–" + std::to_string(high),
        label_en + " must be a whole number from " + std::to_string(low) + " to " +
            std::to_string(high));
  }
  return static_cast<int>(*n);
}

// ---- references ----

void AddReferences(FormFields& out, const json& kpi) {
  const json& refs = Member(kpi, "references");
  if (!refs.is_array()) return;
  for (size_t i = 0; i < refs.size(); ++i) {
    const json& r = refs[i];
    const std::string at = "references." + std::to_string(i) + ".";
    const json& from = Member(r, "from_result");
    out[at + "name"] = ValueText(Member(r, "name"));
    out[at + "source"] = from.is_null() ? "kpi" : "result";
    out[at + "kpi"] = ValueText(Member(r, "kpi"));
    out[at + "variable"] = ValueText(Member(r, "variable"));
    out[at + "fiscal_year"] = ValueText(Member(r, "fiscal_year"));
    const std::string round = ValueText(Member(r, "round"));
    out[at + "round"] = round.empty() ? "12" : round;
    out[at + "key"] = ValueText(Member(from, "key"));
    const std::string read = ValueText(Member(from, "read"));
    out[at + "read"] = read.empty() ? "result" : read;
  }
}

Status ApplyReferences(json& kpi, const json& original, const FormFields& before_fields,
                       const FormFields& fields) {
  auto before = Rows(before_fields, "references", kReferenceColumns, kReferenceKeys);
  auto sent = Rows(fields, "references", kReferenceColumns, kReferenceKeys);
  if (!sent) return sent.status();
  if (!before) return before.status();
  if (*sent == *before) return Status::Ok();
  const json& old = Member(original, "references");
  json out = json::array();
  std::set<std::string> names = VariableIds(kpi);
  for (const Row& row : *sent) {
    const std::string at = "references." + std::to_string(row.index) + ".";
    json r = OldRow(old, row.index);
    const bool fresh = r.empty();
    bool same = !fresh;
    for (const std::string& c : kReferenceColumns) {
      same = same && row.values.at(c) == Before(*before, row.index, c);
    }
    if (same) {
      names.insert(row.values.at("name"));
      out.push_back(std::move(r));
      continue;
    }
    auto changed = [&](const std::string& c) {
      return fresh || row.values.at(c) != Before(*before, row.index, c);
    };
    const std::string name = Trim(row.values.at("name"));
    if (!domain::IsIdentifier(name) || name.size() > 64) {
      return FieldError(at + "name",
                        "ชื่อค่าอ้างอิง \"" + name +
                            "\" ใช้ได้เฉพาะอักษรอังกฤษ ตัวเลข และ _ ขึ้นต้นด้วยอักษร (ไม่เกิน 64 ตัว) เช่น s",
                        "reference name \"" + name +
                            "\": only English letters, digits and _, starting with a letter (at "
                            "most 64), such as s");
    }
    if (!names.insert(name).second) {
      return FieldError(at + "name", "ชื่อ \"" + name + "\" ซ้ำกับตัวแปรหรือค่าอ้างอิงอื่นของตัวชี้วัดนี้",
                        "the name \"" + name + "\" is already a variable or reference of this KPI");
    }
    // A new row's selects left unchosen take what the row says: a key means a published result.
    std::string source = row.values.at("source");
    if (source.empty()) source = Trim(row.values.at("key")).empty() ? "kpi" : "result";
    const bool from_result = source == "result";
    if (source != "kpi" && !from_result) {
      return FieldError(
          at + "source", "เลือกที่มาของค่า " + name + ": ตัวแปรของตัวชี้วัด หรือผลที่เผยแพร่แล้ว",
          "choose where " + name + " comes from: a KPI's variable or a published result");
    }
    const std::string key = Trim(row.values.at("key"));
    std::string variable = Trim(row.values.at("variable"));
    if (from_result) {
      if (key.empty()) {
        return FieldError(
            at + "key", "ค่าอ้างอิง " + name + " จากผลที่เผยแพร่แล้ว: เลือกรหัสประจำตัวชี้วัด (เช่น pmqa)",
            "reference " + name + " from a published result: choose the KPI key (such as pmqa)");
      }
      if (!domain::IsValidKpiKey(key)) {
        return FieldError(
            at + "key",
            "รหัสประจำตัวชี้วัด \"" + key +
                "\" ใช้ไม่ได้: ต้องยาว 1–64 ตัวอักษร ใช้ได้เฉพาะ a–z 0–9 - _ และขึ้นต้นด้วยตัวอักษร",
            "the KPI key \"" + key +
                "\" is not valid: 1–64 characters of a–z 0–9 - _, starting with a "
                "letter");
      }
      // The value stands for a variable of the KPI read (an import in its place names it): of
      // this KPI, the only one reported is meant when none is chosen.
      if (variable.empty() && Trim(row.values.at("kpi")).empty()) variable = OnlyReported(kpi);
      if (variable.empty()) {
        return FieldError(
            at + "variable",
            "ค่าอ้างอิง " + name + " จากผลที่เผยแพร่แล้ว: ระบุรหัสตัวแปรของตัวชี้วัดที่ค่านี้แทน (เช่น pmqa)",
            "reference " + name +
                " from a published result: give the id of the KPI's variable the "
                "value stands for (such as pmqa)");
      }
    } else if (variable.empty()) {
      return FieldError(
          at + "variable",
          "ค่าอ้างอิง " + name +
              " ต้องบอกที่มา: รหัสตัวแปรของตัวชี้วัดที่อ่าน หรือเลือก \"ผลที่เผยแพร่แล้ว\" พร้อมรหัสประจำตัวชี้วัด",
          "reference " + name +
              " needs where its value comes from: the variable of the KPI read, or "
              "\"a published result\" with its KPI key");
    }
    if (!domain::IsIdentifier(variable) || variable.size() > 64) {
      return FieldError(at + "variable",
                        "รหัสตัวแปร \"" + variable + "\" ใช้ได้เฉพาะอักษรอังกฤษ ตัวเลข และ _ ขึ้นต้นด้วยอักษร",
                        "variable id \"" + variable +
                            "\": only English letters, digits and _, starting with a letter");
    }
    const std::string year = Trim(row.values.at("fiscal_year"));
    if (!year.empty()) {
      auto y = TypedWhole(fields, at + "fiscal_year", 2400, 2800, "ปีงบประมาณ (พ.ศ.)",
                          "the fiscal year (B.E.)");
      if (!y) return y.status();
    } else if (from_result) {
      return FieldError(at + "fiscal_year",
                        "ค่าอ้างอิง " + name + " จากผลที่เผยแพร่แล้ว: ระบุปีงบประมาณของผลนั้น (พ.ศ. เช่น 2566)",
                        "reference " + name +
                            " from a published result: give that result's fiscal year (B.E., such "
                            "as 2566)");
    }
    std::string round = row.values.at("round");
    if (round.empty()) round = "12";
    if (round != "6" && round != "12") {
      return FieldError(at + "round", "เลือกรอบของค่า (6 หรือ 12 เดือน)",
                        "choose the round of the value (6 or 12 months)");
    }
    std::string read = row.values.at("read");
    if (read.empty()) read = "result";
    if (from_result && read != "result" && read != "score") {
      return FieldError(at + "read", "เลือกว่าจะอ่านผลการดำเนินงานหรือคะแนน",
                        "choose whether the result or the score is read");
    }
    if (changed("name")) r["name"] = name;
    if (changed("kpi")) {
      const std::string other = Trim(row.values.at("kpi"));
      if (other.empty()) {
        r.erase("kpi");
      } else {
        r["kpi"] = other;
      }
    }
    if (changed("variable") || changed("source") || !r.contains("variable")) {
      r["variable"] = variable;
    }
    if (changed("fiscal_year")) {
      if (year.empty()) {
        r.erase("fiscal_year");
      } else {
        r["fiscal_year"] = NumberJson(*ParseNumber(year));
      }
    }
    if (changed("round") && !(fresh && round == "12")) r["round"] = std::stoi(round);
    if (!from_result) {
      r.erase("from_result");
    } else {
      json from = Member(r, "from_result").is_object() ? r["from_result"] : json::object();
      if (changed("key") || !from.contains("key")) from["key"] = key;
      if (changed("read") && !(read == "result" && !from.contains("read"))) from["read"] = read;
      r["from_result"] = std::move(from);
    }
    out.push_back(std::move(r));
  }
  if (out.empty()) {
    kpi.erase("references");
  } else {
    kpi["references"] = std::move(out);
  }
  return Status::Ok();
}

// ---- the case rule ----

const std::vector<std::string> kClassColumns = [] {
  std::vector<std::string> c = {"id", "name.th", "name.en", "standard", "standard_unit"};
  for (const std::string& f : kCaseFields) {
    c.push_back(f + ".at_least");
    c.push_back(f + ".at_most");
  }
  return c;
}();
const std::vector<std::string> kWindowColumns = {"from", "to", "round.6", "round.12"};

void AddCases(FormFields& out, const json& kpi) {
  const json& c = Member(kpi, "cases");
  if (!c.is_object()) return;
  AddTicks(out, "cases.kinds", Member(c, "kinds"));
  AddTicks(out, "cases.excluded", Member(c, "excluded_categories"));
  AddTicks(out, "cases.pause", Member(c, "pauses_not_counted"));
  for (const char* r : {"6", "12"}) {
    out[std::string("cases.cutoff.") + r] = DueText(Member(Member(c, "cutoffs"), r));
  }
  const json& backlog = Member(c, "backlog");
  AddTicks(out, "cases.backlog.round", Member(backlog, "rounds"));
  AddTicks(out, "cases.backlog.kinds", Member(backlog, "kinds"));
  out["cases.on_time"] = ValueText(Member(Member(c, "variables"), "on_time"));
  out["cases.counted"] = ValueText(Member(Member(c, "variables"), "counted"));
  const json& classes = Member(c, "classes");
  if (!classes.is_array()) return;
  for (size_t i = 0; i < classes.size(); ++i) {
    const json& k = classes[i];
    const std::string at = "cases.classes." + std::to_string(i) + ".";
    out[at + "id"] = ValueText(Member(k, "id"));
    AddText(out, at + "name", Member(k, "name"));
    const json& standard = Member(k, "standard");
    const bool days = !Member(standard, "days").is_null();
    out[at + "standard"] = ValueText(Member(standard, days ? "days" : "months"));
    out[at + "standard_unit"] = days ? "days" : "months";
    for (const std::string& f : kCaseFields) {
      const json& range = Member(Member(k, "when"), f.c_str());
      out[at + f + ".at_least"] = ValueText(Member(range, "at_least"));
      out[at + f + ".at_most"] = ValueText(Member(range, "at_most"));
    }
    const json& windows = Member(k, "windows");
    for (size_t w = 0; w < (windows.is_array() ? windows.size() : 0); ++w) {
      const std::string wat = at + "windows." + std::to_string(w) + ".";
      out[wat + "from"] = DueText(Member(windows[w], "from"));
      out[wat + "to"] = DueText(Member(windows[w], "to"));
      AddTicks(out, wat + "round", Member(windows[w], "rounds"));
      for (const char* r : {"round.6", "round.12"}) {
        if (!out.count(wat + r)) out[wat + r] = "";
      }
    }
  }
}

// A class's windows (`at`windows.W) applied to `windows` (the class's old ones).
Result<json> ApplyWindows(const json& old, const std::string& at, const FormFields& before_fields,
                          const FormFields& fields, const std::string& class_id) {
  auto before = Rows(before_fields, at + "windows", kWindowColumns, {"from", "to"});
  auto sent = Rows(fields, at + "windows", kWindowColumns, {"from", "to"});
  if (!sent) return sent.status();
  if (!before) return before.status();
  json out = json::array();
  for (const Row& row : *sent) {
    const std::string wat = at + "windows." + std::to_string(row.index) + ".";
    json w = OldRow(old, row.index);
    bool same = !w.empty();
    for (const std::string& c : kWindowColumns) {
      same = same && row.values.at(c) == Before(*before, row.index, c);
    }
    if (same) {
      out.push_back(std::move(w));
      continue;
    }
    const std::string label_th = "ช่วงรับเรื่องของประเภท " + class_id;
    const std::string label_en = "the window of class " + class_id;
    auto from = TypedDate(fields, wat + "from", label_th + " วันเริ่ม", label_en + ", first day");
    if (!from) return from.status();
    auto to = TypedDate(fields, wat + "to", label_th + " วันสุดท้าย", label_en + ", last day");
    if (!to) return to.status();
    if (*to < *from) {
      return FieldError(wat + "to", label_th + " สิ้นสุดก่อนวันเริ่ม",
                        label_en + " ends before it starts");
    }
    std::vector<std::string> rounds;
    for (const char* r : {"6", "12"}) {
      if (Ticked(fields, wat + "round." + r)) rounds.push_back(r);
    }
    if (rounds.empty()) {
      return FieldError(wat + "round.6", label_th + ": เลือกรอบที่ใช้ช่วงนี้ (6 และ/หรือ 12 เดือน)",
                        label_en + ": tick the rounds it counts in (6 and/or 12 months)");
    }
    w["from"] = *from;
    w["to"] = *to;
    w["rounds"] = ListLike(Member(w, "rounds"), rounds, true);
    out.push_back(std::move(w));
  }
  return out;
}

Result<json> ApplyClasses(const json& old, const FormFields& before_fields,
                          const FormFields& fields) {
  auto before = Rows(before_fields, "cases.classes", kClassColumns, {"id", "name.th", "name.en"});
  auto sent = Rows(fields, "cases.classes", kClassColumns, {"id", "name.th", "name.en"});
  if (!sent) return sent.status();
  if (!before) return before.status();
  json out = json::array();
  std::set<std::string> ids;
  for (const Row& row : *sent) {
    const std::string at = "cases.classes." + std::to_string(row.index) + ".";
    json k = OldRow(old, row.index);
    const bool fresh = k.empty();
    const std::string id = Trim(row.values.at("id"));
    if (!IsSafeKpiId(id)) {
      return FieldError(
          at + "id",
          "รหัสประเภทเรื่อง \"" + id + "\" ต้องยาว 1–32 ตัว ใช้ได้เฉพาะ A–Z a–z 0–9 . - _ เช่น short",
          "class id \"" + id + "\": 1–32 characters of A–Z a–z 0–9 . - _, such as short");
    }
    if (!ids.insert(id).second) {
      return FieldError(at + "id", "รหัสประเภทเรื่อง \"" + id + "\" ซ้ำ",
                        "the class id \"" + id + "\" is used twice");
    }
    auto changed = [&](const std::string& c) {
      return fresh || row.values.at(c) != Before(*before, row.index, c);
    };
    if (changed("id")) k["id"] = id;
    if (changed("name.th") || changed("name.en")) {
      PutText(k, "name", row.values.at("name.th"), row.values.at("name.en"));
    }
    const std::string unit = row.values.at("standard_unit");
    if (unit != "months" && unit != "days") {
      return FieldError(at + "standard_unit", "เลือกหน่วยของเวลามาตรฐาน (เดือน หรือ วัน)",
                        "choose the standard time's unit (months or days)");
    }
    auto amount = TypedWhole(fields, at + "standard", 1, unit == "months" ? 120 : 3650,
                             "เวลามาตรฐานของประเภท " + id, "the standard time of class " + id);
    if (!amount) return amount.status();
    if (changed("standard") || changed("standard_unit")) {
      k["standard"] = json{{unit, *amount}};
    }
    json when = Member(k, "when").is_object() ? k["when"] : json::object();
    for (const std::string& f : kCaseFields) {
      json range = Member(when, f.c_str()).is_object() ? when[f] : json::object();
      for (const char* bound : {"at_least", "at_most"}) {
        const std::string column = f + "." + bound;
        if (!changed(column)) continue;
        const std::string typed = Trim(row.values.at(column));
        if (typed.empty()) {
          range.erase(bound);
          continue;
        }
        auto n = ParseNumber(typed);
        if (!n) {
          return NotANumber(at + column, "เงื่อนไขของประเภท " + id, "a condition of class " + id);
        }
        range[bound] = NumberJson(*n);
      }
      if (range.empty()) {
        when.erase(f);
      } else {
        when[f] = std::move(range);
      }
    }
    // A class without conditions keeps having no "when" (the reader takes it as optional).
    const bool never_had_any = when.empty() && !k.contains("when");
    if (!never_had_any && (fresh || when != Member(k, "when"))) k["when"] = std::move(when);
    auto windows = ApplyWindows(Member(k, "windows"), at, before_fields, fields, id);
    if (!windows) return windows.status();
    if (windows->empty()) {
      return FieldError(at + "windows.0.from", "ประเภท " + id + " ต้องมีช่วงวันที่รับเรื่องที่นับอย่างน้อยหนึ่งช่วง",
                        "class " + id + " needs at least one window of registration days");
    }
    k["windows"] = std::move(*windows);
    out.push_back(std::move(k));
  }
  return out;
}

Status ApplyCases(json& kpi, const json& original, const FormFields& before,
                  const FormFields& fields) {
  if (Said(fields, "cases.") == Said(before, "cases.")) return Status::Ok();
  const json& old = Member(original, "cases");
  if (Said(fields, "cases.").empty()) {
    kpi.erase("cases");
    return Status::Ok();
  }
  json c = old.is_object() ? old : json::object();
  std::vector<std::string> offered = kCaseKinds;
  const std::vector<std::string> kinds = TickedNames(fields, "cases.kinds", offered);
  if (kinds.empty()) {
    return FieldError("cases.kinds", "เลือกประเภทเรื่องที่นับอย่างน้อยหนึ่งประเภท",
                      "tick at least one kind of case the KPI counts");
  }
  c["kinds"] = ListLike(Member(c, "kinds"), kinds, false);
  const auto excluded = TickedNames(fields, "cases.excluded", {"1", "2", "3", "4", "5", "6"});
  for (const std::string& e : excluded) {
    if (e.size() != 1 || e[0] < '1' || e[0] > '6') {
      return FieldError("cases.excluded", "กรณีพิเศษมีหมายเลข 1–6", "special categories are 1 to 6");
    }
  }
  if (excluded.empty()) {
    c.erase("excluded_categories");
  } else {
    c["excluded_categories"] = ListLike(Member(c, "excluded_categories"), excluded, true);
  }
  const auto pauses = TickedNames(fields, "cases.pause", kPauses);
  for (const std::string& p : pauses) {
    if (std::find(kPauses.begin(), kPauses.end(), p) == kPauses.end()) {
      return FieldError("cases.pause", "เหตุที่หยุดนับเวลาต้องเป็น ria, committee หรือ outside",
                        "a pause reason is ria, committee or outside");
    }
  }
  if (pauses.empty()) {
    c.erase("pauses_not_counted");
  } else {
    c["pauses_not_counted"] = ListLike(Member(c, "pauses_not_counted"), pauses, false);
  }
  json cutoffs = Member(c, "cutoffs").is_object() ? c["cutoffs"] : json::object();
  for (const char* r : {"6", "12"}) {
    const std::string field = std::string("cases.cutoff.") + r;
    if (Get(fields, field) == Get(before, field) && cutoffs.contains(r)) continue;
    if (Trim(Get(fields, field)).empty()) {
      cutoffs.erase(r);
      continue;
    }
    auto day = TypedDate(fields, field, std::string("วันตัดยอดรอบ ") + r + " เดือน",
                         std::string("the ") + r + "-month round's cut-off");
    if (!day) return day.status();
    cutoffs[r] = *day;
  }
  if (cutoffs.empty()) {
    return FieldError("cases.cutoff.12", "ระบุวันตัดยอดอย่างน้อยหนึ่งรอบ (วัน/เดือน/ปี พ.ศ.)",
                      "give the cut-off of at least one round (day/month/B.E. year)");
  }
  c["cutoffs"] = std::move(cutoffs);
  auto classes = ApplyClasses(Member(c, "classes"), before, fields);
  if (!classes) return classes.status();
  if (classes->empty()) {
    return FieldError("cases.classes.0.id",
                      "เพิ่มประเภทเรื่องอย่างน้อยหนึ่งประเภท พร้อมเวลามาตรฐานและช่วงรับเรื่อง",
                      "add at least one class of case, with its standard time and window");
  }
  c["classes"] = std::move(*classes);
  const auto backlog_rounds = TickedNames(fields, "cases.backlog.round", {"6", "12"});
  const auto backlog_kinds = TickedNames(fields, "cases.backlog.kinds", offered);
  if (backlog_rounds.empty() && backlog_kinds.empty()) {
    c.erase("backlog");
  } else {
    if (backlog_kinds.empty()) {
      return FieldError("cases.backlog.kinds", "เรื่องค้างเก่า: เลือกประเภทเรื่องที่นับ",
                        "backlog: tick the kinds of case it counts");
    }
    for (const std::string& r : backlog_rounds) {
      if (r != "6" && r != "12") {
        return FieldError("cases.backlog.round", "รอบต้องเป็น 6 หรือ 12", "a round is 6 or 12");
      }
    }
    json b = Member(c, "backlog").is_object() ? c["backlog"] : json::object();
    b["rounds"] = ListLike(Member(b, "rounds"), backlog_rounds, true);
    b["kinds"] = ListLike(Member(b, "kinds"), backlog_kinds, false);
    c["backlog"] = std::move(b);
  }
  const std::string on_time = Trim(Get(fields, "cases.on_time"));
  const std::string counted = Trim(Get(fields, "cases.counted"));
  if (on_time.empty() && counted.empty()) {
    c.erase("variables");
  } else {
    const std::set<std::string> ids = VariableIds(kpi);
    for (const auto& [field, name] :
         {std::pair{"cases.on_time", on_time}, std::pair{"cases.counted", counted}}) {
      if (name.empty()) {
        return FieldError(field, "เลือกตัวแปรที่รับจำนวนเรื่องทั้งสองตัว (ทันเวลา และ ที่นับ)",
                          "choose both variables the counts fill (on time and counted)");
      }
      Status s = OneOfTheVariables(ids, field, name);
      if (!s.ok()) return s;
    }
    json v = Member(c, "variables").is_object() ? c["variables"] : json::object();
    v["on_time"] = on_time;
    v["counted"] = counted;
    c["variables"] = std::move(v);
  }
  kpi["cases"] = std::move(c);
  return Status::Ok();
}

// ---- other agencies' results ----

void AddFromAgencies(FormFields& out, const json& kpi) {
  const json& r = Member(kpi, "from_agencies");
  if (!r.is_object()) return;
  for (const char* f : {"variable", "key", "measure", "level", "at_least", "at_most"}) {
    out[std::string("from_agencies.") + f] = ValueText(Member(r, f));
  }
  const json& agencies = Member(r, "agencies");
  AddTicks(out, "from_agencies.kinds", Member(agencies, "kinds"));
  AddTicks(out, "from_agencies.ministries", Member(agencies, "ministries"));
  AddTicks(out, "from_agencies.codes", Member(agencies, "codes"));
}

Status ApplyFromAgencies(json& kpi, const json& original, const FormFields& before,
                         const FormFields& fields) {
  const std::string p = "from_agencies.";
  if (Said(fields, p) == Said(before, p)) return Status::Ok();
  if (Said(fields, p).empty()) {
    kpi.erase("from_agencies");
    return Status::Ok();
  }
  const json& old = Member(original, "from_agencies");
  json r = old.is_object() ? old : json::object();
  const std::string variable = Trim(Get(fields, p + "variable"));
  if (variable.empty()) {
    return FieldError(p + "variable", "เลือกตัวแปรที่รับค่าที่คำนวณจากผลของหน่วยงานอื่น",
                      "choose the variable the value from other agencies' results fills");
  }
  Status s = OneOfTheVariables(VariableIds(kpi), p + "variable", variable);
  if (!s.ok()) return s;
  r["variable"] = variable;
  const std::string key = Trim(Get(fields, p + "key"));
  if (!domain::IsValidKpiKey(key)) {
    return FieldError(
        p + "key",
        key.empty()
            ? "เลือกรหัสประจำตัวชี้วัดของผลที่อ่าน (เช่น e-service)"
            : "รหัสประจำตัวชี้วัด \"" + key + "\" ใช้ไม่ได้: ต้องยาว 1–64 ตัวอักษร ใช้ได้เฉพาะ a–z 0–9 - _",
        key.empty() ? "choose the key of the KPI whose results are read (such as "
                      "e-service)"
                    : "the KPI key \"" + key + "\" is not valid: 1–64 characters of a–z 0–9 - _");
  }
  r["key"] = key;
  const std::string measure = Get(fields, p + "measure");
  if (std::find(kMeasures.begin(), kMeasures.end(), measure) == kMeasures.end()) {
    return FieldError(p + "measure",
                      "เลือกวิธีคำนวณ (ร้อยละที่ถึงเป้า จำนวนที่ถึงเป้า ค่าเฉลี่ย ผลรวม ค่าต่ำสุด หรือค่าสูงสุด)",
                      "choose the measure (share or count reaching, average, sum, minimum or "
                      "maximum)");
  }
  r["measure"] = measure;
  const bool counts = measure == "share" || measure == "count";
  const std::string level = Trim(Get(fields, p + "level"));
  const std::string at_least = Trim(Get(fields, p + "at_least"));
  const std::string at_most = Trim(Get(fields, p + "at_most"));
  const bool by_value = !at_least.empty() || !at_most.empty();
  if (!counts && (!level.empty() || by_value)) {
    return FieldError(p + (level.empty() ? (at_least.empty() ? "at_most" : "at_least") : "level"),
                      "ระดับและค่าที่ถือว่าถึงเป้าใช้กับร้อยละและจำนวนที่ถึงเป้าเท่านั้น: ล้างช่องนี้",
                      "a level or bounds apply to the share and count reaching only: clear this "
                      "field");
  }
  if (counts && level.empty() && !by_value) {
    return FieldError(p + "level", "บอกว่าหน่วยงานใดนับว่าถึงเป้า: เลือกระดับ หรือกรอกค่าอย่างน้อย/อย่างมาก",
                      "say what counts as reached: choose a level, or give at least / at most");
  }
  if (counts && !level.empty() && by_value) {
    return FieldError(p + "level", "ใช้ระดับ หรือค่าอย่างน้อย/อย่างมาก อย่างใดอย่างหนึ่ง",
                      "use either a level or at least / at most, not both");
  }
  if (level.empty()) {
    r.erase("level");
  } else {
    auto l = TypedWhole(fields, p + "level", 1, 10, "ระดับ", "the level");
    if (!l) return l.status();
    r["level"] = *l;
  }
  for (const auto& [name, typed] :
       {std::pair{"at_least", at_least}, std::pair{"at_most", at_most}}) {
    if (typed.empty()) {
      r.erase(name);
      continue;
    }
    auto n = ParseNumber(typed);
    if (!n) {
      return NotANumber(p + name, name == std::string("at_least") ? "ค่าอย่างน้อย" : "ค่าอย่างมาก",
                        name == std::string("at_least") ? "at least" : "at most");
    }
    r[name] = NumberJson(*n);
  }
  json agencies = Member(r, "agencies").is_object() ? r["agencies"] : json::object();
  for (const char* part : {"kinds", "ministries", "codes"}) {
    auto names = TickedNames(fields, p + part, {}, /*dotted=*/true);
    if (part == std::string("codes")) {
      // Codes typed rather than ticked (a directory too large to offer every agency), separated
      // by spaces or commas, after the ticked ones, each once.
      std::string typed = Get(fields, p + "typed_codes");
      std::replace(typed.begin(), typed.end(), ',', ' ');
      std::istringstream words(typed);
      std::set<std::string> seen(names.begin(), names.end());
      for (std::string code; words >> code;) {
        if (seen.insert(code).second) names.push_back(code);
      }
    }
    if (names.empty()) {
      agencies.erase(part);
    } else {
      agencies[part] = ListLike(Member(agencies, part), names, false);
    }
  }
  if (agencies.empty()) {
    r.erase("agencies");
  } else {
    r["agencies"] = std::move(agencies);
  }
  kpi["from_agencies"] = std::move(r);
  return Status::Ok();
}

// ---- the data catalog ----

void AddCatalog(FormFields& out, const json& kpi) {
  const json& c = Member(kpi, "catalog");
  if (!c.is_object()) return;
  for (const std::string& role : kCatalogRoles) {
    out["catalog." + role] = ValueText(Member(Member(c, "variables"), role.c_str()));
  }
}

Status ApplyCatalog(json& kpi, const json& original, const FormFields& before,
                    const FormFields& fields) {
  if (Said(fields, "catalog.") == Said(before, "catalog.")) return Status::Ok();
  if (Said(fields, "catalog.").empty()) {
    kpi.erase("catalog");
    return Status::Ok();
  }
  const json& old = Member(original, "catalog");
  json c = old.is_object() ? old : json::object();
  json v = Member(c, "variables").is_object() ? c["variables"] : json::object();
  const std::set<std::string> ids = VariableIds(kpi);
  for (const std::string& role : kCatalogRoles) {
    const std::string name = Trim(Get(fields, "catalog." + role));
    if (name.empty()) {
      v.erase(role);
      continue;
    }
    Status s = OneOfTheVariables(ids, "catalog." + role, name);
    if (!s.ok()) return s;
    v[role] = name;
  }
  c["variables"] = std::move(v);
  kpi["catalog"] = std::move(c);
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& OfferedCaseKinds() { return kCaseKinds; }
const std::vector<std::string>& CaseConditionFields() { return kCaseFields; }
const std::vector<std::string>& PeerMeasures() { return kMeasures; }

void AddSourcesFields(FormFields& out, const nlohmann::json& kpi) {
  out["sources.shown"] = "1";
  AddReferences(out, kpi);
  AddCases(out, kpi);
  AddFromAgencies(out, kpi);
  AddCatalog(out, kpi);
}

Status ApplySourcesForm(nlohmann::json& kpi, const nlohmann::json& original,
                        const FormFields& fields) {
  if (Get(fields, "sources.shown").empty()) return Status::Ok();
  FormFields before;
  AddSourcesFields(before, original);
  Status s = ApplyReferences(kpi, original, before, fields);
  if (s.ok()) s = ApplyCases(kpi, original, before, fields);
  if (s.ok()) s = ApplyFromAgencies(kpi, original, before, fields);
  if (s.ok()) s = ApplyCatalog(kpi, original, before, fields);
  if (s.ok() && kpi.contains("cases") && kpi.contains("from_agencies")) {
    return FieldError("from_agencies.variable",
                      "ตัวชี้วัดหนึ่งคำนวณจากบันทึกเรื่องหรือจากผลของหน่วยงานอื่นได้อย่างใดอย่างหนึ่ง: ล้างส่วนใดส่วนหนึ่ง",
                      "a KPI is computed from case records or from other agencies' results, not "
                      "both: clear one of them");
  }
  return s;
}

std::string SourcesFieldOfPath(const std::string& rest) {
  const std::vector<std::string> parts = PathParts(rest);
  const std::string& head = parts[0];
  auto part = [&](size_t i) { return i < parts.size() ? parts[i] : std::string(); };
  if (head == "references") {
    if (part(1).empty()) return "references";
    const std::string at = "references." + part(1);
    if (part(2) == "from_result") return at + "." + (part(3) == "read" ? "read" : "key");
    const std::string field = part(2);
    if (field == "name" || field == "kpi" || field == "variable" || field == "fiscal_year" ||
        field == "round") {
      return at + "." + field;
    }
    return at;
  }
  if (head == "cases") {
    const std::string field = part(1);
    if (field == "variables") return part(2) == "counted" ? "cases.counted" : "cases.on_time";
    if (field == "cutoffs") return "cases.cutoff." + (part(2) == "6" ? part(2) : "12");
    if (field == "classes" && !part(2).empty()) {
      const std::string at = "cases.classes." + part(2);
      if (part(3) == "windows" && !part(4).empty()) {
        return at + ".windows." + part(4) + "." + (part(5) == "to" ? "to" : "from");
      }
      if (part(3) == "standard") return at + ".standard";
      return at + ".id";
    }
    if (field == "kinds" || field == "backlog" || field == "excluded_categories" ||
        field == "pauses_not_counted") {
      return field == "kinds"                 ? "cases.kinds"
             : field == "backlog"             ? "cases.backlog.kinds"
             : field == "excluded_categories" ? "cases.excluded"
                                              : "cases.pause";
    }
    return "cases";
  }
  if (head == "from_agencies") {
    const std::string field = part(1);
    if (field == "variable" || field == "key" || field == "measure" || field == "level" ||
        field == "at_least" || field == "at_most") {
      return "from_agencies." + field;
    }
    return "from_agencies";
  }
  if (head == "catalog") {
    const std::string role = part(2);
    if (std::find(kCatalogRoles.begin(), kCatalogRoles.end(), role) != kCatalogRoles.end()) {
      return "catalog." + role;
    }
    return "catalog";
  }
  return "";
}

}  // namespace esar::formats
