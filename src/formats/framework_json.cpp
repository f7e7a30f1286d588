#include "formats/framework_json.h"

#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>

#include "formats/json_input.h"

namespace esar::formats {
namespace {

using domain::Criteria;
using domain::CriteriaForm;
using nlohmann::json;

// Thrown inside this file only, when a field is wrong; caught in the public functions below and
// returned as a Status naming the file and the JSON path.
struct ReadError {
  std::string path;
  std::string th;
  std::string en;
};

[[noreturn]] void Fail(const std::string& path, std::string th, std::string en) {
  throw ReadError{path, std::move(th), std::move(en)};
}

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    default:
      return "number";
  }
}

void ExpectObject(const json& v, const std::string& path,
                  std::initializer_list<const char*> allowed) {
  if (!v.is_object()) {
    Fail(path, "ต้องเป็นออบเจ็กต์ JSON ({...}) แต่เป็น " + TypeName(v),
         "must be a JSON object ({...}), not " + TypeName(v));
  }
  for (const auto& [key, value] : v.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      Fail(path + "/" + key, "ไม่รู้จักช่อง \"" + key + "\" (ช่องที่ใช้ได้: " + list + ")",
           "unknown field \"" + key + "\" (known fields: " + list + ")");
    }
  }
}

const json* Optional(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

const json& Required(const json& obj, const char* key, const std::string& path) {
  const json* v = Optional(obj, key);
  if (!v) Fail(path + "/" + key, "ต้องระบุช่องนี้", "this field is required");
  return *v;
}

std::string String(const json& v, const std::string& path) {
  if (!v.is_string())
    Fail(path, "ต้องเป็นข้อความ แต่เป็น " + TypeName(v), "must be a string, not " + TypeName(v));
  return v.get<std::string>();
}

double Number(const json& v, const std::string& path) {
  if (!v.is_number())
    Fail(path, "ต้องเป็นตัวเลข แต่เป็น " + TypeName(v), "must be a number, not " + TypeName(v));
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 1e15) {
    Fail(path, "ตัวเลขใหญ่เกินไป (เกิน 10^15)", "the number is too large (beyond 10^15)");
  }
  return d;
}

int Integer(const json& v, const std::string& path, int lo, int hi) {
  const double d = Number(v, path);
  if (d != std::floor(d) || d < lo || d > hi) {
    Fail(path, "ต้องเป็นจำนวนเต็มตั้งแต่ " + std::to_string(lo) + " ถึง " + std::to_string(hi),
         "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<int>(d);
}

bool Boolean(const json& v, const std::string& path) {
  if (!v.is_boolean()) Fail(path, "ต้องเป็น true หรือ false", "must be true or false");
  return v.get<bool>();
}

const json& Array(const json& v, const std::string& path) {
  if (!v.is_array())
    Fail(path, "ต้องเป็นอาร์เรย์ JSON ([...]) แต่เป็น " + TypeName(v),
         "must be a JSON array ([...]), not " + TypeName(v));
  return v;
}

// A text in Thai and English: {"th": "...", "en": "..."}, or a plain string taken as Thai.
LocalizedText Text(const json* v, const std::string& path) {
  LocalizedText out;
  if (!v) return out;
  if (v->is_string()) {
    out.th = v->get<std::string>();
    return out;
  }
  ExpectObject(*v, path, {"th", "en"});
  if (const json* th = Optional(*v, "th")) out.th = String(*th, path + "/th");
  if (const json* en = Optional(*v, "en")) out.en = String(*en, path + "/en");
  return out;
}

std::vector<LocalizedText> Texts(const json* v, const std::string& path) {
  std::vector<LocalizedText> out;
  if (!v) return out;
  const json& arr = Array(*v, path);
  for (size_t i = 0; i < arr.size(); ++i)
    out.push_back(Text(&arr[i], path + "/" + std::to_string(i)));
  return out;
}

// A formula: a string, or a number (written as its shortest text).
std::string Formula(const json& v, const std::string& path) {
  if (v.is_number()) return ShortestDecimal(Number(v, path));
  return String(v, path);
}

std::vector<domain::YearEntry> Years(const json* v, const std::string& path) {
  std::vector<domain::YearEntry> out;
  if (!v) return out;
  const json& arr = Array(*v, path);
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = path + "/" + std::to_string(i);
    ExpectObject(arr[i], p, {"fiscal_year", "text", "value"});
    domain::YearEntry e;
    e.fiscal_year = Integer(Required(arr[i], "fiscal_year", p), p + "/fiscal_year", 2400, 2800);
    e.text = Text(Optional(arr[i], "text"), p + "/text");
    if (const json* value = Optional(arr[i], "value")) e.value = Number(*value, p + "/value");
    out.push_back(std::move(e));
  }
  return out;
}

domain::BelowBasic ReadBelowBasic(const json& v, const std::string& path) {
  domain::BelowBasic out;
  if (v.is_string() && v.get<std::string>() == "zero") return out;
  if (v.is_object()) {
    ExpectObject(v, path, {"interpolate_from"});
    out.rule = domain::BelowBasic::Rule::kInterpolateFromZeroPoint;
    out.zero_point = Number(Required(v, "interpolate_from", path), path + "/interpolate_from");
    return out;
  }
  Fail(path, "ต้องเป็น \"zero\" หรือ {\"interpolate_from\": ตัวเลข}",
       "must be \"zero\" or {\"interpolate_from\": number}");
}

template <typename Enum>
Enum Choice(const json& v, const std::string& path,
            std::initializer_list<std::pair<const char*, Enum>> choices) {
  const std::string s = String(v, path);
  std::string list;
  for (const auto& [name, value] : choices) {
    if (s == name) return value;
    list += std::string(list.empty() ? "" : ", ") + name;
  }
  Fail(path, "ค่า \"" + s + "\" ใช้ไม่ได้ (เลือกจาก: " + list + ")",
       "\"" + s + "\" is not allowed (choose from: " + list + ")");
}

std::shared_ptr<const Criteria> ReadCriteria(const json& v, const std::string& path, int depth);
domain::Day FrameworkDate(const json& v, const std::string& path);

domain::Range ReadRange(const json& v, const std::string& path) {
  ExpectObject(v, path, {"at_least", "above", "at_most", "below"});
  domain::Range r;
  if (const json* x = Optional(v, "at_least")) r.at_least = Number(*x, path + "/at_least");
  if (const json* x = Optional(v, "above")) r.above = Number(*x, path + "/above");
  if (const json* x = Optional(v, "at_most")) r.at_most = Number(*x, path + "/at_most");
  if (const json* x = Optional(v, "below")) r.below = Number(*x, path + "/below");
  if (r.at_least && r.above)
    Fail(path, "ใช้ at_least กับ above พร้อมกันไม่ได้", "at_least and above cannot both be set");
  if (r.at_most && r.below)
    Fail(path, "ใช้ at_most กับ below พร้อมกันไม่ได้", "at_most and below cannot both be set");
  return r;
}

std::shared_ptr<const Criteria> ReadCriteria(const json& v, const std::string& path, int depth) {
  if (depth > 8) Fail(path, "เกณฑ์ซ้อนกันลึกเกินไป", "criteria are nested too deeply");
  if (!v.is_object()) Fail(path, "ต้องเป็นออบเจ็กต์ JSON", "must be a JSON object");
  auto c = std::make_shared<Criteria>();
  c->form = Choice<CriteriaForm>(Required(v, "form", path), path + "/form",
                                 {{"levels", CriteriaForm::kLevels},
                                  {"milestones", CriteriaForm::kMilestones},
                                  {"points", CriteriaForm::kPoints},
                                  {"conditions", CriteriaForm::kConditions},
                                  {"groups", CriteriaForm::kGroups}});
  c->level_texts = Texts(Optional(v, "texts"), path + "/texts");
  switch (c->form) {
    case CriteriaForm::kLevels: {
      ExpectObject(v, path, {"form", "texts", "direction", "scoring", "targets", "below_basic"});
      if (const json* d = Optional(v, "direction")) {
        c->levels.direction =
            Choice<domain::Direction>(*d, path + "/direction",
                                      {{"higher", domain::Direction::kHigherIsBetter},
                                       {"lower", domain::Direction::kLowerIsBetter}});
      }
      if (const json* s = Optional(v, "scoring")) {
        c->levels.scoring =
            Choice<domain::LevelScoring>(*s, path + "/scoring",
                                         {{"interpolate", domain::LevelScoring::kInterpolate},
                                          {"step", domain::LevelScoring::kStep}});
      }
      if (const json* b = Optional(v, "below_basic"))
        c->levels.below_basic = ReadBelowBasic(*b, path + "/below_basic");
      const std::string tp = path + "/targets";
      const json& targets = Array(Required(v, "targets", path), tp);
      for (size_t i = 0; i < targets.size(); ++i) {
        const std::string p = tp + "/" + std::to_string(i);
        domain::Target t;
        const json& tv = targets[i];
        if (tv.is_null() || (tv.is_string() && tv.get<std::string>() == "-")) {
          c->levels.targets.push_back(t);
          continue;
        }
        t.present = true;
        if (tv.is_object()) {
          ExpectObject(tv, p, {"above", "below"});
          if (Optional(tv, "above") && Optional(tv, "below")) {
            Fail(p, "ใช้ above กับ below พร้อมกันไม่ได้", "\"above\" and \"below\" cannot both be set");
          }
          if (const json* a = Optional(tv, "above"))
            t.expression = Formula(*a, p + "/above");
          else if (const json* b = Optional(tv, "below"))
            t.expression = Formula(*b, p + "/below");
          else
            Fail(p, "ต้องมี above หรือ below", "needs \"above\" or \"below\"");
          t.strict = true;
        } else {
          t.expression = Formula(tv, p);
        }
        c->levels.targets.push_back(std::move(t));
      }
      break;
    }
    case CriteriaForm::kMilestones: {
      ExpectObject(v, path, {"form", "texts", "levels", "cumulative"});
      if (const json* cu = Optional(v, "cumulative"))
        c->milestones.cumulative = Boolean(*cu, path + "/cumulative");
      const std::string lp = path + "/levels";
      const json& levels = Array(Required(v, "levels", path), lp);
      for (size_t i = 0; i < levels.size(); ++i) {
        const std::string p = lp + "/" + std::to_string(i);
        std::vector<domain::Milestone> level;
        const json& ms = Array(levels[i], p);
        for (size_t k = 0; k < ms.size(); ++k) {
          const std::string mp = p + "/" + std::to_string(k);
          ExpectObject(ms[k], mp, {"variable", "text", "due", "reached"});
          domain::Milestone m{String(Required(ms[k], "variable", mp), mp + "/variable"),
                              Text(Optional(ms[k], "text"), mp + "/text")};
          if (const json* due = Optional(ms[k], "due")) m.due = FrameworkDate(*due, mp + "/due");
          if (const json* r = Optional(ms[k], "reached")) m.reached = String(*r, mp + "/reached");
          // One without the other is refused here, where the path can be named.
          if (m.due.has_value() != !m.reached.empty()) {
            Fail(mp, "เป้าหมายความสำเร็จที่มีกำหนดวันต้องระบุทั้ง due (วันที่กำหนด) และ reached (ตัวแปรวันที่บรรลุ)",
                 "a dated milestone needs both \"due\" (its due date) and \"reached\" (the date "
                 "variable it was reached on)");
          }
          level.push_back(std::move(m));
        }
        c->milestones.levels.push_back(std::move(level));
      }
      break;
    }
    case CriteriaForm::kPoints: {
      ExpectObject(v, path, {"form", "texts", "items"});
      const std::string ip = path + "/items";
      const json& items = Array(Required(v, "items", path), ip);
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string p = ip + "/" + std::to_string(i);
        ExpectObject(items[i], p, {"id", "text", "points", "when", "requires"});
        domain::PointsItem item;
        item.id = String(Required(items[i], "id", p), p + "/id");
        item.text = Text(Optional(items[i], "text"), p + "/text");
        item.points = Number(Required(items[i], "points", p), p + "/points");
        item.condition = Formula(Required(items[i], "when", p), p + "/when");
        if (const json* r = Optional(items[i], "requires")) {
          const json& reqs = Array(*r, p + "/requires");
          for (size_t k = 0; k < reqs.size(); ++k)
            item.prerequisites.push_back(String(reqs[k], p + "/requires/" + std::to_string(k)));
        }
        c->points.items.push_back(std::move(item));
      }
      break;
    }
    case CriteriaForm::kConditions: {
      ExpectObject(v, path, {"form", "texts", "levels"});
      const std::string lp = path + "/levels";
      const json& levels = Array(Required(v, "levels", path), lp);
      for (size_t i = 0; i < levels.size(); ++i) {
        c->conditions.levels.push_back(
            levels[i].is_null() ? "" : Formula(levels[i], lp + "/" + std::to_string(i)));
      }
      break;
    }
    case CriteriaForm::kGroups: {
      ExpectObject(v, path, {"form", "texts", "by", "integer", "groups"});
      c->groups.by = Formula(Required(v, "by", path), path + "/by");
      if (const json* in = Optional(v, "integer"))
        c->groups.integer = Boolean(*in, path + "/integer");
      const std::string gp = path + "/groups";
      const json& groups = Array(Required(v, "groups", path), gp);
      for (size_t i = 0; i < groups.size(); ++i) {
        const std::string p = gp + "/" + std::to_string(i);
        ExpectObject(groups[i], p, {"id", "name", "range", "criteria"});
        domain::Group g;
        g.id = String(Required(groups[i], "id", p), p + "/id");
        g.name = Text(Optional(groups[i], "name"), p + "/name");
        g.range = ReadRange(Required(groups[i], "range", p), p + "/range");
        g.criteria = ReadCriteria(Required(groups[i], "criteria", p), p + "/criteria", depth + 1);
        c->groups.groups.push_back(std::move(g));
      }
      break;
    }
  }
  return c;
}

domain::Variable ReadVariable(const json& v, const std::string& path) {
  ExpectObject(v, path,
               {"id", "type", "name", "unit", "length", "formula", "optional", "min", "max"});
  domain::Variable var;
  var.id = String(Required(v, "id", path), path + "/id");
  var.type = Choice<domain::VariableType>(Required(v, "type", path), path + "/type",
                                          {{"number", domain::VariableType::kNumber},
                                           {"percent", domain::VariableType::kPercent},
                                           {"count", domain::VariableType::kCount},
                                           {"pass_fail", domain::VariableType::kPassFail},
                                           {"number_list", domain::VariableType::kNumberList},
                                           {"date", domain::VariableType::kDate},
                                           {"derived", domain::VariableType::kDerived}});
  var.name = Text(Optional(v, "name"), path + "/name");
  var.unit = Text(Optional(v, "unit"), path + "/unit");
  if (var.type == domain::VariableType::kNumberList) {
    var.length = Integer(Required(v, "length", path), path + "/length", 1, 1000);
  }
  if (var.type == domain::VariableType::kDerived)
    var.formula = Formula(Required(v, "formula", path), path + "/formula");
  if (const json* o = Optional(v, "optional")) var.optional = Boolean(*o, path + "/optional");
  if (const json* m = Optional(v, "min")) var.min = Number(*m, path + "/min");
  if (const json* m = Optional(v, "max")) var.max = Number(*m, path + "/max");
  if (var.type == domain::VariableType::kPercent && !var.min) var.min = 0;
  return var;
}

// A date in the framework: ISO only ("2024-03-31"), year 1900–2200.
domain::Day FrameworkDate(const json& v, const std::string& path) {
  const std::string s = String(v, path);
  auto d = domain::ParseIsoDate(s);
  if (!d) {
    Fail(path, "วันที่ \"" + s + "\" ใช้ไม่ได้: เขียนแบบ 2024-03-31 (ค.ศ. 1900–2200)",
         "\"" + s + "\" is not a date: write 2024-03-31 (years 1900–2200)");
  }
  return *d;
}

std::vector<int> Rounds(const json& v, const std::string& path) {
  std::vector<int> out;
  const json& arr = Array(v, path);
  if (arr.empty()) Fail(path, "ต้องระบุอย่างน้อยหนึ่งรอบ", "needs at least one round");
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = path + "/" + std::to_string(i);
    const int r = Integer(arr[i], p, 6, 12);
    if (r != 6 && r != 12) Fail(p, "รอบต้องเป็น 6 หรือ 12", "a round is 6 or 12");
    out.push_back(r);
  }
  return out;
}

// A kind of case: a lower-case word ("act", "royal_decree"), as the case log writes it.
bool IsCaseKind(const std::string& s) {
  if (s.empty() || s.size() > 64 || s[0] < 'a' || s[0] > 'z') return false;
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::vector<std::string> Kinds(const json& v, const std::string& path) {
  std::vector<std::string> out;
  const json& arr = Array(v, path);
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = path + "/" + std::to_string(i);
    std::string k = String(arr[i], p);
    if (!IsCaseKind(k)) {
      Fail(p, "ประเภทเรื่อง \"" + k + "\" ต้องเป็นคำภาษาอังกฤษตัวพิมพ์เล็ก (a–z 0–9 _) ไม่เกิน 64 ตัว",
           "the kind \"" + k + "\" must be a lower-case word (a–z 0–9 _), at most 64 characters");
    }
    out.push_back(std::move(k));
  }
  return out;
}

// The "cases" field of a KPI (docs/formats.md, "KPIs computed from case records").
domain::CaseRule ReadCaseRule(const json& v, const std::string& path) {
  ExpectObject(v, path,
               {"kinds", "excluded_categories", "pauses_not_counted", "cutoffs", "classes",
                "backlog", "variables"});
  domain::CaseRule rule;
  rule.kinds = Kinds(Required(v, "kinds", path), path + "/kinds");
  if (const json* e = Optional(v, "excluded_categories")) {
    const json& arr = Array(*e, path + "/excluded_categories");
    for (size_t i = 0; i < arr.size(); ++i) {
      rule.excluded_categories.push_back(
          Integer(arr[i], path + "/excluded_categories/" + std::to_string(i), 1, 6));
    }
  }
  if (const json* pz = Optional(v, "pauses_not_counted")) {
    const json& arr = Array(*pz, path + "/pauses_not_counted");
    for (size_t i = 0; i < arr.size(); ++i) {
      rule.pauses_not_counted.push_back(Choice<domain::PauseReason>(
          arr[i], path + "/pauses_not_counted/" + std::to_string(i),
          {{"ria", domain::PauseReason::kRia},
           {"committee", domain::PauseReason::kCommittee},
           {"outside", domain::PauseReason::kOutside}}));
    }
  }
  const std::string cp = path + "/cutoffs";
  const json& cutoffs = Required(v, "cutoffs", path);
  ExpectObject(cutoffs, cp, {"6", "12"});
  for (const char* r : {"6", "12"}) {
    if (const json* d = Optional(cutoffs, r)) {
      rule.cutoffs.push_back({std::stoi(r), FrameworkDate(*d, cp + "/" + r)});
    }
  }
  if (rule.cutoffs.empty()) Fail(cp, "ต้องระบุวันตัดยอดอย่างน้อยหนึ่งรอบ", "needs a cut-off for a round");
  const std::string kp = path + "/classes";
  const json& classes = Array(Required(v, "classes", path), kp);
  std::set<std::string> ids;
  for (size_t i = 0; i < classes.size(); ++i) {
    const std::string p = kp + "/" + std::to_string(i);
    ExpectObject(classes[i], p, {"id", "name", "when", "standard", "windows"});
    domain::CaseClass c;
    c.id = String(Required(classes[i], "id", p), p + "/id");
    if (!IsSafeKpiId(c.id)) {
      Fail(p + "/id", "รหัสประเภทเรื่องต้องยาว 1–32 ตัว ใช้ได้เฉพาะ A–Z a–z 0–9 . - _",
           "a class id is 1–32 characters of A–Z a–z 0–9 . - _");
    }
    if (!ids.insert(c.id).second) {
      Fail(p + "/id", "รหัสประเภทเรื่อง \"" + c.id + "\" ซ้ำ", "the class id \"" + c.id + "\" is repeated");
    }
    c.name = Text(Optional(classes[i], "name"), p + "/name");
    if (const json* when = Optional(classes[i], "when")) {
      ExpectObject(*when, p + "/when", {"sections", "maps", "maps_complex", "annex_pages"});
      for (const auto& [field, range] : when->items()) {
        const domain::Range r = ReadRange(range, p + "/when/" + field);
        domain::CaseCondition cond;
        cond.field = field == "sections"       ? domain::CaseField::kSections
                     : field == "maps"         ? domain::CaseField::kMaps
                     : field == "maps_complex" ? domain::CaseField::kMapsComplex
                                               : domain::CaseField::kAnnexPages;
        cond.at_least = r.at_least;
        cond.above = r.above;
        cond.at_most = r.at_most;
        cond.below = r.below;
        c.when.push_back(cond);
      }
    }
    const std::string sp = p + "/standard";
    const json& st = Required(classes[i], "standard", p);
    ExpectObject(st, sp, {"months", "days"});
    const json* months = Optional(st, "months");
    const json* days = Optional(st, "days");
    if ((months != nullptr) == (days != nullptr)) {
      Fail(sp, "ต้องระบุ months หรือ days อย่างใดอย่างหนึ่ง", "needs exactly one of \"months\" and \"days\"");
    }
    c.standard.months = months != nullptr;
    c.standard.amount = months ? Integer(*months, sp + "/months", 1, 120)
                               : Integer(*days, sp + "/days", 1, 3650);
    const std::string wp = p + "/windows";
    const json& windows = Array(Required(classes[i], "windows", p), wp);
    for (size_t w = 0; w < windows.size(); ++w) {
      const std::string q = wp + "/" + std::to_string(w);
      ExpectObject(windows[w], q, {"rounds", "from", "to"});
      domain::CaseWindow cw;
      cw.rounds = Rounds(Required(windows[w], "rounds", q), q + "/rounds");
      cw.from = FrameworkDate(Required(windows[w], "from", q), q + "/from");
      cw.to = FrameworkDate(Required(windows[w], "to", q), q + "/to");
      if (cw.to < cw.from) {
        Fail(q + "/to", "วันสิ้นสุดช่วงรับเรื่องอยู่ก่อนวันเริ่ม", "the window ends before it starts");
      }
      c.windows.push_back(std::move(cw));
    }
    rule.classes.push_back(std::move(c));
  }
  if (const json* b = Optional(v, "backlog")) {
    const std::string bp = path + "/backlog";
    ExpectObject(*b, bp, {"rounds", "kinds"});
    domain::CaseBacklogRule br;
    br.rounds = Rounds(Required(*b, "rounds", bp), bp + "/rounds");
    br.kinds = Kinds(Required(*b, "kinds", bp), bp + "/kinds");
    rule.backlog = std::move(br);
  }
  if (const json* vars = Optional(v, "variables")) {
    const std::string vp = path + "/variables";
    ExpectObject(*vars, vp, {"on_time", "counted"});
    rule.on_time_variable = String(Required(*vars, "on_time", vp), vp + "/on_time");
    rule.counted_variable = String(Required(*vars, "counted", vp), vp + "/counted");
  }
  return rule;
}

std::vector<std::string> Strings(const json& v, const std::string& path) {
  std::vector<std::string> out;
  const json& arr = Array(v, path);
  if (arr.size() > 100000) Fail(path, "รายการยาวเกิน 100000", "more than 100000 entries");
  for (size_t i = 0; i < arr.size(); ++i) {
    out.push_back(String(arr[i], path + "/" + std::to_string(i)));
    if (out.back().empty()) {
      Fail(path + "/" + std::to_string(i), "ต้องไม่เป็นข้อความว่าง", "must not be empty");
    }
  }
  return out;
}

// The "from_agencies" field of a KPI (docs/formats.md, "KPIs computed from other agencies'
// results").
domain::FromAgencies ReadFromAgencies(const json& v, const std::string& path) {
  ExpectObject(v, path, {"variable", "key", "agencies", "measure", "level", "at_least", "at_most"});
  domain::FromAgencies rule;
  rule.variable = String(Required(v, "variable", path), path + "/variable");
  rule.key = String(Required(v, "key", path), path + "/key");
  if (!domain::IsValidKpiKey(rule.key)) {
    Fail(path + "/key",
         "รหัสประจำตัวชี้วัด \"" + rule.key +
             "\" ใช้ไม่ได้: ต้องยาว 1–64 ตัวอักษร ใช้ได้เฉพาะ a–z 0–9 - _ และขึ้นต้นด้วยตัวอักษร",
         "the KPI key \"" + rule.key +
             "\" is not valid: 1–64 characters of a–z 0–9 - _, starting with a letter");
  }
  if (const json* a = Optional(v, "agencies")) {
    const std::string ap = path + "/agencies";
    ExpectObject(*a, ap, {"kinds", "ministries", "codes"});
    if (const json* k = Optional(*a, "kinds")) rule.agencies.kinds = Strings(*k, ap + "/kinds");
    if (const json* m = Optional(*a, "ministries"))
      rule.agencies.parents = Strings(*m, ap + "/ministries");
    if (const json* c = Optional(*a, "codes")) rule.agencies.codes = Strings(*c, ap + "/codes");
  }
  rule.measure = Choice<domain::PeerMeasure>(Required(v, "measure", path), path + "/measure",
                                             {{"share", domain::PeerMeasure::kShare},
                                              {"count", domain::PeerMeasure::kCount},
                                              {"average", domain::PeerMeasure::kAverage},
                                              {"sum", domain::PeerMeasure::kSum},
                                              {"min", domain::PeerMeasure::kMin},
                                              {"max", domain::PeerMeasure::kMax}});
  if (const json* l = Optional(v, "level")) rule.level = Integer(*l, path + "/level", 1, 10);
  if (const json* x = Optional(v, "at_least")) rule.at_least = Number(*x, path + "/at_least");
  if (const json* x = Optional(v, "at_most")) rule.at_most = Number(*x, path + "/at_most");
  const bool counts =
      rule.measure == domain::PeerMeasure::kShare || rule.measure == domain::PeerMeasure::kCount;
  const bool by_value = rule.at_least || rule.at_most;
  if (counts && rule.level == 0 && !by_value) {
    Fail(path, "share และ count ต้องบอกว่าหน่วยงานใดนับว่าถึงเป้า: level หรือ at_least / at_most",
         "share and count need what counts as reached: \"level\" or \"at_least\" / \"at_most\"");
  }
  if (counts && rule.level > 0 && by_value) {
    Fail(path, "ใช้ level หรือ at_least / at_most อย่างใดอย่างหนึ่ง",
         "use either \"level\" or \"at_least\" / \"at_most\", not both");
  }
  if (!counts && (rule.level > 0 || by_value)) {
    Fail(path, std::string("level, at_least และ at_most ใช้กับ share และ count เท่านั้น"),
         std::string("\"level\", \"at_least\" and \"at_most\" apply to share and count only"));
  }
  return rule;
}

domain::KpiDocumentation ReadDocumentation(const json* v, const std::string& path) {
  domain::KpiDocumentation d;
  if (!v) return d;
  ExpectObject(*v, path,
               {"description", "definitions", "scope", "data_collection", "data_source", "formula",
                "baseline", "roadmap", "steps", "benefit", "plan_links"});
  d.description = Text(Optional(*v, "description"), path + "/description");
  d.definitions = Texts(Optional(*v, "definitions"), path + "/definitions");
  d.scope = Text(Optional(*v, "scope"), path + "/scope");
  d.data_collection = Text(Optional(*v, "data_collection"), path + "/data_collection");
  d.data_source = Text(Optional(*v, "data_source"), path + "/data_source");
  d.formula_text = Text(Optional(*v, "formula"), path + "/formula");
  d.baseline = Years(Optional(*v, "baseline"), path + "/baseline");
  d.roadmap = Years(Optional(*v, "roadmap"), path + "/roadmap");
  d.steps = Texts(Optional(*v, "steps"), path + "/steps");
  d.benefit = Text(Optional(*v, "benefit"), path + "/benefit");
  if (const json* links = Optional(*v, "plan_links")) {
    const json& arr = Array(*links, path + "/plan_links");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string p = path + "/plan_links/" + std::to_string(i);
      ExpectObject(arr[i], p, {"plan", "items"});
      domain::PlanLink link;
      link.plan = String(Required(arr[i], "plan", p), p + "/plan");
      link.items = Texts(Optional(arr[i], "items"), p + "/items");
      d.plan_links.push_back(std::move(link));
    }
  }
  return d;
}

domain::Kpi ReadKpi(const json& v, const std::string& path, bool is_sub, int depth) {
  if (depth > 4) Fail(path, "ตัวชี้วัดย่อยซ้อนกันลึกเกินไป", "sub-KPIs are nested too deeply");
  ExpectObject(v, path,
               {"id", "key", "component", "name", "flags", "unit", "documentation", "rounds",
                "variables", "references", "result", "criteria", "weight", "sub_kpis", "cases",
                "from_agencies", "catalog"});
  domain::Kpi kpi;
  kpi.id = String(Required(v, "id", path), path + "/id");
  if (!IsSafeKpiId(kpi.id)) {
    Fail(path + "/id",
         "รหัสตัวชี้วัดต้องยาว 1–32 ตัวอักษร ใช้ได้เฉพาะ A–Z a–z 0–9 และ . - _ และขึ้นต้นด้วยตัวอักษรหรือตัวเลข",
         "a KPI id must be 1–32 characters of A–Z a–z 0–9 . - _, starting with a letter or a digit");
  }
  // Whether the key is well formed and unique is `esar check`'s to say (kpi-key), with the
  // other findings, rather than the reader's, which stops at the first problem.
  if (const json* k = Optional(v, "key")) kpi.key = String(*k, path + "/key");
  if (!is_sub) kpi.component = String(Required(v, "component", path), path + "/component");
  kpi.name = Text(&Required(v, "name", path), path + "/name");
  if (const json* flags = Optional(v, "flags")) {
    const json& arr = Array(*flags, path + "/flags");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string p = path + "/flags/" + std::to_string(i);
      const std::string f = String(arr[i], p);
      if (f == "new")
        kpi.is_new = true;
      else if (f == "continuing")
        kpi.continuing = true;
      else if (f == "reform_plan")
        kpi.reform_plan = true;
      else if (f == "monitoring_only")
        kpi.monitoring_only = true;
      else
        Fail(p, "ไม่รู้จัก \"" + f + "\" (ใช้ได้: new, continuing, reform_plan, monitoring_only)",
             "unknown flag \"" + f + "\" (known: new, continuing, reform_plan, monitoring_only)");
    }
  }
  kpi.unit = Text(Optional(v, "unit"), path + "/unit");
  kpi.doc = ReadDocumentation(Optional(v, "documentation"), path + "/documentation");
  if (const json* rounds = Optional(v, "rounds")) {
    kpi.rounds.clear();
    const json& arr = Array(*rounds, path + "/rounds");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string p = path + "/rounds/" + std::to_string(i);
      const int r = Integer(arr[i], p, 6, 12);
      if (r != 6 && r != 12) Fail(p, "รอบต้องเป็น 6 หรือ 12", "a round is 6 or 12");
      kpi.rounds.push_back(r);
    }
  }
  if (const json* vars = Optional(v, "variables")) {
    const json& arr = Array(*vars, path + "/variables");
    for (size_t i = 0; i < arr.size(); ++i)
      kpi.variables.push_back(ReadVariable(arr[i], path + "/variables/" + std::to_string(i)));
  }
  if (const json* refs = Optional(v, "references")) {
    const json& arr = Array(*refs, path + "/references");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string p = path + "/references/" + std::to_string(i);
      ExpectObject(arr[i], p, {"name", "kpi", "variable", "fiscal_year", "round", "from_result"});
      domain::Reference r;
      r.name = String(Required(arr[i], "name", p), p + "/name");
      if (const json* k = Optional(arr[i], "kpi")) r.kpi = String(*k, p + "/kpi");
      r.variable = String(Required(arr[i], "variable", p), p + "/variable");
      if (const json* y = Optional(arr[i], "fiscal_year"))
        r.fiscal_year = Integer(*y, p + "/fiscal_year", 2400, 2800);
      if (const json* rd = Optional(arr[i], "round")) {
        r.round = Integer(*rd, p + "/round", 6, 12);
        if (r.round != 6 && r.round != 12)
          Fail(p + "/round", "รอบต้องเป็น 6 หรือ 12", "a round is 6 or 12");
      }
      if (const json* from = Optional(arr[i], "from_result")) {
        const std::string fp = p + "/from_result";
        ExpectObject(*from, fp, {"key", "read"});
        domain::Reference::FromResult f;
        f.key = String(Required(*from, "key", fp), fp + "/key");
        if (!domain::IsValidKpiKey(f.key)) {
          Fail(fp + "/key",
               "รหัสประจำตัวชี้วัด \"" + f.key +
                   "\" ใช้ไม่ได้: ต้องยาว 1–64 ตัวอักษร ใช้ได้เฉพาะ a–z 0–9 - _ และขึ้นต้นด้วยตัวอักษร",
               "the KPI key \"" + f.key +
                   "\" is not valid: 1–64 characters of a–z 0–9 - _, starting with a letter");
        }
        if (const json* read = Optional(*from, "read")) {
          f.score = Choice<bool>(*read, fp + "/read", {{"result", false}, {"score", true}});
        }
        r.from_result = std::move(f);
      }
      kpi.references.push_back(std::move(r));
    }
  }
  if (const json* r = Optional(v, "result")) kpi.result = Formula(*r, path + "/result");
  if (const json* c = Optional(v, "criteria"))
    kpi.criteria = *ReadCriteria(*c, path + "/criteria", 0);
  if (const json* cs = Optional(v, "cases")) kpi.cases = ReadCaseRule(*cs, path + "/cases");
  if (const json* fa = Optional(v, "from_agencies")) {
    kpi.from_agencies = ReadFromAgencies(*fa, path + "/from_agencies");
    if (kpi.cases) {
      Fail(path + "/from_agencies", "ตัวชี้วัดหนึ่งคำนวณจากบันทึกเรื่อง (cases) หรือจากผลของหน่วยงานอื่นได้อย่างใดอย่างหนึ่ง",
           "a KPI is computed from case records (\"cases\") or from other agencies' results, not both");
    }
  }
  if (const json* cg = Optional(v, "catalog")) {
    const std::string cp = path + "/catalog";
    ExpectObject(*cg, cp, {"variables"});
    const std::string vp = cp + "/variables";
    const json& vars = Required(*cg, "variables", cp);
    ExpectObject(vars, vp, {"datasets", "complete", "complete_percent"});
    domain::CatalogRule rule;
    if (const json* d = Optional(vars, "datasets")) rule.datasets_variable = String(*d, vp + "/datasets");
    if (const json* c = Optional(vars, "complete")) rule.complete_variable = String(*c, vp + "/complete");
    if (const json* p = Optional(vars, "complete_percent"))
      rule.complete_percent_variable = String(*p, vp + "/complete_percent");
    kpi.catalog = std::move(rule);
  }
  if (is_sub)
    kpi.weight_in_parent = Number(Required(v, "weight", path), path + "/weight");
  else if (Optional(v, "weight")) {
    Fail(path + "/weight", "น้ำหนักของตัวชี้วัดหลักกำหนดใน assignments",
         "a top-level KPI's weight is given in \"assignments\"");
  }
  if (const json* subs = Optional(v, "sub_kpis")) {
    const json& arr = Array(*subs, path + "/sub_kpis");
    for (size_t i = 0; i < arr.size(); ++i) {
      kpi.sub_kpis.push_back(
          ReadKpi(arr[i], path + "/sub_kpis/" + std::to_string(i), true, depth + 1));
      kpi.sub_kpis.back().component = kpi.component;
    }
  }
  if (!kpi.criteria && kpi.sub_kpis.empty())
    Fail(path, "ต้องมี criteria หรือ sub_kpis", "needs \"criteria\" or \"sub_kpis\"");
  return kpi;
}

std::vector<domain::AssignmentRule> ReadAssignments(const json& v, const std::string& path) {
  std::vector<domain::AssignmentRule> out;
  const json& arr = Array(v, path);
  for (size_t r = 0; r < arr.size(); ++r) {
    const std::string p = path + "/" + std::to_string(r);
    ExpectObject(arr[r], p, {"agencies", "kpis", "note"});
    domain::AssignmentRule rule;
    const json& agencies = Array(Required(arr[r], "agencies", p), p + "/agencies");
    for (size_t i = 0; i < agencies.size(); ++i)
      rule.agencies.push_back(String(agencies[i], p + "/agencies/" + std::to_string(i)));
    const json& kpis = Array(Required(arr[r], "kpis", p), p + "/kpis");
    for (size_t i = 0; i < kpis.size(); ++i) {
      const std::string kp = p + "/kpis/" + std::to_string(i);
      ExpectObject(kpis[i], kp, {"kpi", "weight", "criteria", "exempt"});
      domain::AssignedKpi a;
      a.kpi = String(Required(kpis[i], "kpi", kp), kp + "/kpi");
      if (const json* w = Optional(kpis[i], "weight")) {
        a.weight = Number(*w, kp + "/weight");
        if (*a.weight < 0 || *a.weight > 100)
          Fail(kp + "/weight", "น้ำหนักต้องอยู่ระหว่าง 0 ถึง 100", "a weight is between 0 and 100");
      }
      if (const json* c = Optional(kpis[i], "criteria"))
        a.criteria = ReadCriteria(*c, kp + "/criteria", 0);
      if (const json* e = Optional(kpis[i], "exempt")) {
        if (e->is_boolean()) {
          a.exempt = e->get<bool>();
        } else {
          a.exempt = true;
          a.exempt_reason = Text(e, kp + "/exempt");
        }
      }
      rule.kpis.push_back(std::move(a));
    }
    out.push_back(std::move(rule));
  }
  return out;
}

domain::Framework ReadFrameworkJson(const json& root) {
  ExpectObject(
      root, "",
      {"format", "fiscal_year", "agency_kind", "title", "source", "levels", "decimals",
       "below_basic", "disordered_targets", "grades", "components", "kpis", "assignments"});
  if (const json* f = Optional(root, "format")) {
    if (String(*f, "/format") != "esar-framework/1") {
      Fail("/format", "รูปแบบไฟล์ต้องเป็น \"esar-framework/1\"",
           "the format must be \"esar-framework/1\"");
    }
  }
  domain::Framework fw;
  fw.fiscal_year = Integer(Required(root, "fiscal_year", ""), "/fiscal_year", 2400, 2800);
  if (const json* k = Optional(root, "agency_kind")) fw.agency_kind = String(*k, "/agency_kind");
  fw.title = Text(Optional(root, "title"), "/title");
  if (const json* levels = Optional(root, "levels")) {
    const json& arr = Array(*levels, "/levels");
    if (arr.empty() || arr.size() > 10) Fail("/levels", "ต้องมี 1–10 ระดับ", "needs 1–10 levels");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string p = "/levels/" + std::to_string(i);
      ExpectObject(arr[i], p, {"name", "points"});
      fw.levels.push_back({Text(Optional(arr[i], "name"), p + "/name"),
                           Number(Required(arr[i], "points", p), p + "/points")});
    }
  } else {
    fw.levels = {{{"เป้าหมายขั้นต้น", "basic"}, 50},
                 {{"เป้าหมายมาตรฐาน", "standard"}, 75},
                 {{"เป้าหมายขั้นสูง", "advanced"}, 100}};
  }
  if (const json* d = Optional(root, "decimals")) {
    ExpectObject(*d, "/decimals", {"result", "score", "total"});
    if (const json* x = Optional(*d, "result"))
      fw.decimals.result = Integer(*x, "/decimals/result", 0, 9);
    if (const json* x = Optional(*d, "score"))
      fw.decimals.score = Integer(*x, "/decimals/score", 0, 9);
    if (const json* x = Optional(*d, "total"))
      fw.decimals.total = Integer(*x, "/decimals/total", 0, 9);
  }
  if (const json* b = Optional(root, "below_basic"))
    fw.below_basic = ReadBelowBasic(*b, "/below_basic");
  if (const json* d = Optional(root, "disordered_targets")) {
    fw.disordered_targets = Choice<domain::DisorderedTargets>(
        *d, "/disordered_targets",
        {{"raise", domain::DisorderedTargets::kRaise}, {"skip", domain::DisorderedTargets::kSkip}});
  }
  if (const json* grades = Optional(root, "grades")) {
    const json& arr = Array(*grades, "/grades");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string p = "/grades/" + std::to_string(i);
      ExpectObject(arr[i], p, {"min", "name"});
      fw.grades.push_back({Number(Required(arr[i], "min", p), p + "/min"),
                           Text(Optional(arr[i], "name"), p + "/name")});
    }
  }
  if (const json* comps = Optional(root, "components")) {
    const json& arr = Array(*comps, "/components");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string p = "/components/" + std::to_string(i);
      ExpectObject(arr[i], p, {"id", "name", "share"});
      fw.components.push_back({String(Required(arr[i], "id", p), p + "/id"),
                               Text(Optional(arr[i], "name"), p + "/name"),
                               Number(Required(arr[i], "share", p), p + "/share")});
    }
  }
  const json& kpis = Array(Required(root, "kpis", ""), "/kpis");
  for (size_t i = 0; i < kpis.size(); ++i)
    fw.kpis.push_back(ReadKpi(kpis[i], "/kpis/" + std::to_string(i), false, 0));
  if (const json* a = Optional(root, "assignments"))
    fw.assignments = ReadAssignments(*a, "/assignments");
  return fw;
}

Status AtFile(const ReadError& e, const std::string& file) {
  return Status::InvalidInput(e.th, e.en, Location{file, e.path.empty() ? "/" : e.path, 0});
}

}  // namespace

bool IsSafeKpiId(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id[0])) return false;
  for (const char c : id) {
    if (!alnum(c) && c != '.' && c != '-' && c != '_') return false;
  }
  return true;
}

Result<domain::Framework> ParseFramework(const std::string& text, const std::string& file) {
  auto root = ParseJsonText(text, file);
  if (!root) return root.status();
  try {
    return ReadFrameworkJson(*root);
  } catch (const ReadError& e) {
    return AtFile(e, file);
  }
}

Result<domain::Framework> LoadFramework(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return text.status();
  return ParseFramework(*text, path);
}

Result<std::vector<domain::AssignmentRule>> ParseAssignments(const std::string& text,
                                                             const std::string& file) {
  auto root = ParseJsonText(text, file);
  if (!root) return root.status();
  try {
    const json* list = &*root;
    if (root->is_object()) {
      ExpectObject(*root, "", {"format", "assignments"});
      list = &Required(*root, "assignments", "");
    }
    return ReadAssignments(*list, root->is_object() ? "/assignments" : "");
  } catch (const ReadError& e) {
    return AtFile(e, file);
  }
}

}  // namespace esar::formats
