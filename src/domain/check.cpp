#include "domain/check.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "domain/engine.h"
#include "domain/expression.h"
#include "domain/from_agencies.h"

namespace esar::domain {
namespace {

constexpr double kWeightTolerance = 1e-9;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Num(double v) { return ShortestDecimal(v); }

class Findings {
 public:
  explicit Findings(std::string file) : file_(std::move(file)) {}

  void Add(Severity severity, std::string code, Location where, std::string th, std::string en) {
    out_.push_back({severity, std::move(code), std::move(where), std::move(th), std::move(en)});
  }
  void AtPath(Severity severity, std::string code, std::string json_path, std::string th,
              std::string en) {
    Add(severity, std::move(code), Location{file_, std::move(json_path), 0}, std::move(th),
        std::move(en));
  }
  std::vector<Finding> Take() { return std::move(out_); }

 private:
  std::string file_;
  std::vector<Finding> out_;
};

// Every KPI (sub-KPIs included) with its JSON path in the framework file.
void WalkKpis(const std::vector<Kpi>& kpis, const std::string& prefix,
              const std::function<void(const Kpi&, const std::string&)>& visit) {
  for (size_t i = 0; i < kpis.size(); ++i) {
    const std::string path = prefix + "/" + std::to_string(i);
    visit(kpis[i], path);
    WalkKpis(kpis[i].sub_kpis, path + "/sub_kpis", visit);
  }
}

// Values worth trying for a name when looking for targets in the wrong order: every number
// written in the criteria, a step either side of it, and zero.
std::vector<double> Candidates(const std::vector<double>& constants) {
  std::set<double> values = {0};
  for (double c : constants) {
    for (double d : {-10.0, -1.0, -0.01, 0.0, 0.01, 1.0, 10.0}) values.insert(c + d);
  }
  return {values.begin(), values.end()};
}

void NumbersIn(const std::string& text, std::vector<double>& out) {
  size_t i = 0;
  while (i < text.size()) {
    const bool starts =
        std::isdigit(static_cast<unsigned char>(text[i])) &&
        (i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_'));
    if (!starts) {
      ++i;
      continue;
    }
    size_t used = 0;
    try {
      out.push_back(std::stod(text.substr(i), &used));
    } catch (...) {
      used = 1;
    }
    i += std::max<size_t>(used, 1);
  }
}

// Looks for values of the targets' names (within the group's range when the group is chosen
// by one of those names) at which a level's target is below the one before it.
void CheckTargetOrder(const Kpi& kpi, const LevelsCriteria& levels, const Group* group,
                      const std::string& group_by, const std::vector<LevelDefinition>& level_defs,
                      const std::string& path, Findings& findings) {
  std::vector<std::string> names;
  std::vector<double> constants;
  for (const Target& t : levels.targets) {
    if (!t.present) continue;
    NumbersIn(t.expression, constants);
  }
  if (group) {
    for (const auto& bound :
         {group->range.at_least, group->range.above, group->range.at_most, group->range.below}) {
      if (bound) constants.push_back(*bound);
    }
  }
  // One slot per scalar name the KPI knows; lists are left out (targets over lists are rare).
  Scope scope;
  std::vector<double> slots(kpi.variables.size() + kpi.references.size(), 0.0);
  int next = 0;
  for (const Variable& v : kpi.variables) {
    if (v.type != VariableType::kNumberList) scope.AddScalar(v.id, next);
    ++next;
  }
  for (const Reference& r : kpi.references) scope.AddScalar(r.name, next++);
  std::vector<std::optional<Expression>> compiled;
  std::set<std::string> used;
  for (const Target& t : levels.targets) {
    if (!t.present) {
      compiled.emplace_back();
      continue;
    }
    auto e = Expression::Compile(t.expression, scope, slots.data());
    if (!e) return;  // the engine reports malformed formulas
    used.insert(e->names_used().begin(), e->names_used().end());
    compiled.emplace_back(std::move(*e));
  }
  names.assign(used.begin(), used.end());
  if (names.size() > 2) return;  // too many combinations to sample; the engine still copes
  // From the largest down: the first disorder found is then near the edge where it begins
  // (s = 274.99 rather than s = 0), which tells a person more.
  std::vector<double> candidates = Candidates(constants);
  std::reverse(candidates.begin(), candidates.end());
  const double sign = levels.direction == Direction::kLowerIsBetter ? -1 : 1;
  auto try_values = [&](const std::map<std::string, double>& values) -> bool {
    for (const auto& [name, value] : values) {
      slots[static_cast<size_t>(scope.scalars().at(name))] = value;
      if (group && name == group_by && !group->range.Contains(value)) return false;
    }
    double previous = -kInf;
    size_t previous_level = 0;
    for (size_t i = 0; i < compiled.size(); ++i) {
      if (!compiled[i]) continue;
      const double v = sign * compiled[i]->Evaluate();
      if (std::isnan(v)) continue;
      if (v < previous) {
        std::string when;
        for (const auto& [name, value] : values)
          when += (when.empty() ? "" : ", ") + name + " = " + Num(value);
        const std::string where_th = group ? "กลุ่ม " + group->id + ": " : "";
        const std::string where_en = group ? "group " + group->id + ": " : "";
        findings.AtPath(
            Severity::kWarning, "targets-disordered", path + "/targets/" + std::to_string(i),
            "ตัวชี้วัด " + kpi.id + " " + where_th + "เมื่อ " + when + " " + level_defs[i].name.th +
                " (" + Num(sign * v) + ") ต่ำกว่า" + level_defs[previous_level].name.th + " (" +
                Num(sign * previous) +
                ") จึงใช้ค่าเป้าหมายของระดับก่อนหน้าแทน (หรือข้ามระดับนี้ ตามที่กรอบการประเมินกำหนด)",
            "KPI " + kpi.id + " " + where_en + "when " + when + ", the " + level_defs[i].name.en +
                " target (" + Num(sign * v) + ") goes the wrong way from the " +
                level_defs[previous_level].name.en + " target (" + Num(sign * previous) +
                "); the engine raises it to the previous level's target (or skips it, as the "
                "framework says)");
        return true;
      }
      previous = v;
      previous_level = i;
    }
    return false;
  };
  if (names.empty()) {
    try_values({});
    return;
  }
  for (double a : candidates) {
    if (names.size() == 1) {
      if (try_values({{names[0], a}})) return;
      continue;
    }
    for (double b : candidates) {
      if (try_values({{names[0], a}, {names[1], b}})) return;
    }
  }
}

struct Bound {
  double value;
  bool inclusive;
};

Bound Lower(const Range& r) {
  if (r.at_least) return {*r.at_least, true};
  if (r.above) return {*r.above, false};
  return {-kInf, false};
}
Bound Upper(const Range& r) {
  if (r.at_most) return {*r.at_most, true};
  if (r.below) return {*r.below, false};
  return {kInf, false};
}

void CheckGroups(const Kpi& kpi, const GroupsCriteria& groups, const std::string& path,
                 Findings& findings) {
  struct Item {
    size_t index;
    Bound lo, hi;
  };
  std::vector<Item> items;
  for (size_t i = 0; i < groups.groups.size(); ++i) {
    const Range& r = groups.groups[i].range;
    Bound lo = Lower(r), hi = Upper(r);
    if (groups.integer) {
      // On whole numbers, "> 2" is ">= 3" and "< 3" is "<= 2".
      lo = {std::isinf(lo.value) ? lo.value
                                 : (lo.inclusive ? std::ceil(lo.value) : std::floor(lo.value) + 1),
            true};
      hi = {std::isinf(hi.value) ? hi.value
                                 : (hi.inclusive ? std::floor(hi.value) : std::ceil(hi.value) - 1),
            true};
    }
    if (lo.value > hi.value || (lo.value == hi.value && !(lo.inclusive && hi.inclusive))) {
      findings.AtPath(
          Severity::kError, "group-empty", path + "/groups/" + std::to_string(i) + "/range",
          "ตัวชี้วัด " + kpi.id + " กลุ่ม " + groups.groups[i].id + " มีช่วงว่าง ไม่มีหน่วยงานใดตกอยู่ในกลุ่มนี้ได้",
          "KPI " + kpi.id + " group " + groups.groups[i].id +
              " has an empty range: no agency can fall in it");
      continue;
    }
    items.push_back({i, lo, hi});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.lo.value < b.lo.value ||
           (a.lo.value == b.lo.value && a.lo.inclusive && !b.lo.inclusive);
  });
  for (size_t k = 1; k < items.size(); ++k) {
    const Item& a = items[k - 1];
    const Item& b = items[k];
    const std::string& ida = groups.groups[a.index].id;
    const std::string& idb = groups.groups[b.index].id;
    const std::string at = path + "/groups/" + std::to_string(b.index) + "/range";
    const bool overlap =
        b.lo.value < a.hi.value || (b.lo.value == a.hi.value && b.lo.inclusive && a.hi.inclusive);
    bool gap =
        b.lo.value > a.hi.value || (b.lo.value == a.hi.value && !b.lo.inclusive && !a.hi.inclusive);
    if (groups.integer) gap = b.lo.value > a.hi.value + 1;
    if (overlap) {
      findings.AtPath(
          Severity::kError, "groups-overlap", at,
          "ตัวชี้วัด " + kpi.id + " กลุ่ม " + ida + " และกลุ่ม " + idb + " ทับซ้อนกันที่ค่า " + Num(b.lo.value),
          "KPI " + kpi.id + " groups " + ida + " and " + idb + " overlap at " + Num(b.lo.value));
    } else if (gap) {
      findings.AtPath(
          Severity::kError, "groups-gap", at,
          "ตัวชี้วัด " + kpi.id + " มีช่องว่างระหว่างกลุ่ม " + ida + " และกลุ่ม " + idb + " (ระหว่าง " +
              Num(a.hi.value) + " ถึง " + Num(b.lo.value) + ") หน่วยงานในช่วงนี้จะไม่มีกลุ่ม",
          "KPI " + kpi.id + " leaves a gap between groups " + ida + " and " + idb + " (from " +
              Num(a.hi.value) + " to " + Num(b.lo.value) + "): an agency there has no group");
    }
  }
}

// True when `v` is a reported date esar can hold: a whole domain::Day from 1 Jan 1900 to
// 31 Dec 2200 (what formats::ParseValue reads from 2021-01-15 or 15/1/2564).
bool IsDateValue(double v) {
  return v == std::floor(v) && v >= DayFromCivil(1900, 1, 1) && v <= DayFromCivil(2200, 12, 31);
}

// The dated milestones of `criteria`, its groups' criteria included, appended to `out`.
void CollectDatedMilestones(const Criteria& criteria, std::vector<const Milestone*>& out) {
  for (const auto& level : criteria.milestones.levels) {
    for (const Milestone& m : level) {
      if (m.due) out.push_back(&m);
    }
  }
  for (const Group& g : criteria.groups.groups) {
    if (g.criteria) CollectDatedMilestones(*g.criteria, out);
  }
}

// Every dated milestone `kpi` has, in its own criteria or an agency's.
std::vector<const Milestone*> DatedMilestones(const Framework& fw, const Kpi& kpi) {
  std::vector<const Milestone*> out;
  if (kpi.criteria) CollectDatedMilestones(*kpi.criteria, out);
  for (const AssignmentRule& rule : fw.assignments) {
    for (const AssignedKpi& a : rule.kpis) {
      if (a.kpi == kpi.id && a.criteria) CollectDatedMilestones(*a.criteria, out);
    }
  }
  return out;
}

void CheckCriteria(const Kpi& kpi, const Criteria& criteria, const Framework& fw,
                   const Group* group, const std::string& group_by, const std::string& path,
                   Findings& findings) {
  switch (criteria.form) {
    case CriteriaForm::kLevels:
      if (criteria.levels.targets.size() == fw.levels.size()) {
        CheckTargetOrder(kpi, criteria.levels, group, group_by, fw.levels, path, findings);
      }
      break;
    case CriteriaForm::kGroups:
      CheckGroups(kpi, criteria.groups, path, findings);
      for (size_t g = 0; g < criteria.groups.groups.size(); ++g) {
        const Group& grp = criteria.groups.groups[g];
        if (grp.criteria) {
          CheckCriteria(kpi, *grp.criteria, fw, &grp, criteria.groups.by,
                        path + "/groups/" + std::to_string(g) + "/criteria", findings);
        }
      }
      break;
    case CriteriaForm::kMilestones: {
      // A due date outside the fiscal year evaluated is most likely a year typed in the wrong
      // era or a copy of last year's framework: the milestone would be late (or early) for all.
      const Day first = DayFromCivil(fw.fiscal_year - 544, 10, 1);
      const Day last = DayFromCivil(fw.fiscal_year - 543, 9, 30);
      for (size_t l = 0; l < criteria.milestones.levels.size(); ++l) {
        for (size_t m = 0; m < criteria.milestones.levels[l].size(); ++m) {
          const Milestone& ms = criteria.milestones.levels[l][m];
          if (!ms.due || (*ms.due >= first && *ms.due <= last)) continue;
          findings.AtPath(
              Severity::kWarning, "milestone-due-outside-year",
              path + "/levels/" + std::to_string(l) + "/" + std::to_string(m) + "/due",
              "ตัวชี้วัด " + kpi.id + " เป้าหมายความสำเร็จ \"" + ms.variable + "\" มีกำหนด " +
                  IsoDate(*ms.due) + " ซึ่งอยู่นอกปีงบประมาณ พ.ศ. " +
                  std::to_string(fw.fiscal_year) + " (" + IsoDate(first) + " ถึง " + IsoDate(last) +
                  ")",
              "KPI " + kpi.id + " milestone \"" + ms.variable + "\" is due on " +
                  IsoDate(*ms.due) + ", outside fiscal year " + std::to_string(fw.fiscal_year) +
                  " (" + IsoDate(first) + " to " + IsoDate(last) + ")");
        }
      }
      break;
    }
    case CriteriaForm::kPoints: {
      double sum = 0;
      for (const PointsItem& item : criteria.points.items) sum += item.points;
      const double top = fw.levels.empty() ? 100 : fw.levels.back().points;
      if (sum < top - kWeightTolerance) {
        findings.AtPath(Severity::kWarning, "points-short", path + "/items",
                        "ตัวชี้วัด " + kpi.id + " คะแนนทุกรายการรวมกันได้เพียง " + Num(sum) +
                            " จึงไม่มีทางได้ " + Num(top) + " คะแนน",
                        "KPI " + kpi.id + ": all items together give only " + Num(sum) +
                            " points, so " + Num(top) + " cannot be reached");
      }
      break;
    }
    default:
      break;
  }
}

// The case rule of a KPI computed from case records: every round the KPI is scored in needs a
// cut-off and a window for every class, or its cases could not be judged in that round.
// The variables a data-catalog check fills must be the KPI's own: counts (or numbers) for the
// two counts, a percent (or number) for the share; at least one must be named.
void CheckCatalogRule(const Kpi& kpi, const CatalogRule& rule, const std::string& path,
                      Findings& findings) {
  struct Slot {
    const std::string* name;
    const char* key;
    bool percent;
  };
  const Slot slots[] = {{&rule.datasets_variable, "datasets", false},
                        {&rule.complete_variable, "complete", false},
                        {&rule.complete_percent_variable, "complete_percent", true}};
  bool any = false;
  for (const Slot& slot : slots) {
    if (slot.name->empty()) continue;
    any = true;
    bool declared = false;
    for (const Variable& v : kpi.variables) {
      const bool type_ok = v.type == VariableType::kNumber ||
                           (slot.percent ? v.type == VariableType::kPercent
                                         : v.type == VariableType::kCount);
      declared = declared || (v.id == *slot.name && type_ok);
    }
    if (!declared) {
      findings.AtPath(Severity::kError, "catalog-variable", path + "/variables/" + slot.key,
                      "ตัวแปร \"" + *slot.name + "\" ที่ผลตรวจบัญชีข้อมูลจะเติมให้ ไม่ได้ประกาศเป็นตัวแปรชนิด " +
                          (slot.percent ? "percent" : "count") + " หรือ number ของตัวชี้วัด " + kpi.id,
                      "the variable \"" + *slot.name + "\" the catalog check fills in is not a " +
                          (slot.percent ? "percent" : "count") + " or number variable of KPI " + kpi.id);
    }
  }
  if (!any) {
    findings.AtPath(Severity::kError, "catalog-variable", path + "/variables",
                    "ตัวชี้วัด " + kpi.id + " ไม่ได้ระบุตัวแปรที่ผลตรวจบัญชีข้อมูลเติมให้",
                    "KPI " + kpi.id + " names no variable for the catalog check to fill in");
  }
}

void CheckCaseRule(const Framework& fw, const Kpi& kpi, const CaseRule& rule,
                   const std::string& path, Findings& findings) {
  if (rule.kinds.empty()) {
    findings.AtPath(Severity::kError, "cases-kinds", path + "/kinds",
                    "ตัวชี้วัด " + kpi.id + " ไม่ได้ระบุประเภทเรื่องที่นับ (kinds)",
                    "KPI " + kpi.id + " names no kind of case to count");
  }
  // The fiscal year named in Buddhist Era runs 1 October (CE year − 544) to 30 September.
  const int ce = fw.fiscal_year - 543;
  const Day fy_start = DayFromCivil(ce - 1, 10, 1), fy_end = DayFromCivil(ce, 9, 30);
  for (const int round : kpi.rounds) {
    const std::string r = std::to_string(round);
    const CaseCutoff* cutoff = nullptr;
    for (const CaseCutoff& c : rule.cutoffs) {
      if (c.round == round) cutoff = &c;
    }
    if (!cutoff) {
      findings.AtPath(Severity::kError, "cases-cutoff", path + "/cutoffs",
                      "ตัวชี้วัด " + kpi.id + " ไม่มีวันตัดยอดเรื่องเสร็จของรอบ " + r + " เดือน",
                      "KPI " + kpi.id + " has no completion cut-off for the " + r + "-month round");
    } else if (cutoff->date < fy_start || cutoff->date > fy_end) {
      findings.AtPath(Severity::kWarning, "cases-cutoff-year", path + "/cutoffs/" + r,
                      "วันตัดยอดรอบ " + r + " เดือน (" + IsoDate(cutoff->date) +
                          ") อยู่นอกปีงบประมาณ " + std::to_string(fw.fiscal_year),
                      "the " + r + "-month cut-off (" + IsoDate(cutoff->date) +
                          ") is outside fiscal year " + std::to_string(fw.fiscal_year));
    }
    for (size_t i = 0; i < rule.classes.size(); ++i) {
      const CaseClass& c = rule.classes[i];
      int windows = 0;
      for (const CaseWindow& w : c.windows) {
        windows += static_cast<int>(std::count(w.rounds.begin(), w.rounds.end(), round));
      }
      if (windows != 1) {
        findings.AtPath(Severity::kError, "cases-window",
                        path + "/classes/" + std::to_string(i) + "/windows",
                        "ประเภทเรื่อง \"" + c.id + "\" ของตัวชี้วัด " + kpi.id + " ต้องมีช่วงรับเรื่องของรอบ " +
                            r + " เดือน หนึ่งช่วงพอดี (มี " + std::to_string(windows) + ")",
                        "class \"" + c.id + "\" of KPI " + kpi.id +
                            " needs exactly one receiving window for the " + r + "-month round (has " +
                            std::to_string(windows) + ")");
      }
    }
  }
  for (const std::string* name : {&rule.on_time_variable, &rule.counted_variable}) {
    if (name->empty()) continue;
    bool declared = false;
    for (const Variable& v : kpi.variables) {
      declared = declared || (v.id == *name && (v.type == VariableType::kCount ||
                                                v.type == VariableType::kNumber));
    }
    if (!declared) {
      findings.AtPath(Severity::kError, "cases-variable", path + "/variables",
                      "ตัวแปร \"" + *name + "\" ที่ผลนับเรื่องจะเติมให้ ไม่ได้ประกาศเป็นตัวแปรชนิด count หรือ number ของตัวชี้วัด " +
                          kpi.id,
                      "the variable \"" + *name + "\" the case counts fill in is not a count or number variable of KPI " +
                          kpi.id);
    }
  }
}

// A KPI computed from other agencies' results: the variable it fills is one the KPI declares as
// a plain number, and no such KPI waits, through others, for its own results.
void CheckFromAgencies(const Framework& fw, Findings& findings) {
  WalkKpis(fw.kpis, "/kpis", [&](const Kpi& kpi, const std::string& path) {
    if (!kpi.from_agencies) return;
    const std::string& name = kpi.from_agencies->variable;
    bool declared = false;
    for (const Variable& v : kpi.variables) {
      declared = declared || (v.id == name && (v.type == VariableType::kCount ||
                                               v.type == VariableType::kNumber ||
                                               v.type == VariableType::kPercent));
    }
    if (!declared) {
      findings.AtPath(Severity::kError, "from-agencies-variable", path + "/from_agencies/variable",
                      "ตัวแปร \"" + name + "\" ที่ผลของหน่วยงานอื่นจะเติมให้ ไม่ได้ประกาศเป็นตัวแปรชนิด number, percent หรือ count ของตัวชี้วัด " +
                          kpi.id,
                      "the variable \"" + name + "\" that other agencies' results fill in is not a number, percent or count variable of KPI " +
                          kpi.id);
    }
  });
  auto order = FromAgenciesOrder(fw);
  if (!order) {
    findings.AtPath(Severity::kError, "from-agencies-cycle", "/kpis", order.status().message_th(),
                    order.status().message_en());
  }
}

void CheckFramework(const Framework& fw, Findings& findings) {
  double shares = 0;
  std::set<std::string> component_ids;
  for (const Component& c : fw.components) {
    shares += c.share;
    component_ids.insert(c.id);
  }
  if (!fw.components.empty() && std::fabs(shares - 100) > kWeightTolerance) {
    findings.AtPath(Severity::kError, "components-sum", "/components",
                    "สัดส่วนขององค์ประกอบรวมกันได้ " + Num(shares) + " แต่ต้องเท่ากับ 100",
                    "the components' shares add up to " + Num(shares) + ", not 100");
  }
  for (size_t i = 1; i < fw.levels.size(); ++i) {
    if (fw.levels[i].points <= fw.levels[i - 1].points) {
      findings.AtPath(Severity::kError, "level-points", "/levels/" + std::to_string(i),
                      "คะแนนของแต่ละระดับต้องเพิ่มขึ้นตามลำดับ",
                      "each level must be worth more points than the one before");
    }
  }
  for (size_t i = 0; i < fw.kpis.size(); ++i) {
    const Kpi& kpi = fw.kpis[i];
    if (!component_ids.empty() && !component_ids.count(kpi.component)) {
      findings.AtPath(Severity::kError, "kpi-component",
                      "/kpis/" + std::to_string(i) + "/component",
                      "ตัวชี้วัด " + kpi.id + " อยู่ในองค์ประกอบ \"" + kpi.component + "\" ซึ่งไม่มีอยู่",
                      "KPI " + kpi.id + " belongs to component \"" + kpi.component +
                          "\", which does not exist");
    }
  }
  // Keys name a KPI across fiscal years: a malformed or repeated one would mix two KPIs' history.
  std::map<std::string, std::string> key_owner;  // key -> id of the first KPI with it
  WalkKpis(fw.kpis, "/kpis", [&](const Kpi& kpi, const std::string& path) {
    if (kpi.key.empty()) return;
    if (!IsValidKpiKey(kpi.key)) {
      findings.AtPath(Severity::kError, "kpi-key", path + "/key",
                      "รหัสประจำตัวชี้วัด (key) \"" + kpi.key + "\" ของตัวชี้วัด " + kpi.id +
                          " ใช้ไม่ได้: ต้องยาว 1–64 ตัวอักษร ใช้ได้เฉพาะ a–z 0–9 - _ และขึ้นต้นด้วยตัวอักษร",
                      "the key \"" + kpi.key + "\" of KPI " + kpi.id +
                          " is not valid: 1–64 characters of a–z 0–9 - _, starting with a letter");
      return;
    }
    const auto [at, fresh] = key_owner.emplace(kpi.key, kpi.id);
    if (!fresh) {
      findings.AtPath(Severity::kError, "kpi-key-duplicate", path + "/key",
                      "ตัวชี้วัด " + kpi.id + " ใช้รหัสประจำตัวชี้วัด \"" + kpi.key +
                          "\" ซ้ำกับตัวชี้วัด " + at->second,
                      "KPI " + kpi.id + " has the key \"" + kpi.key + "\" of KPI " + at->second +
                          " again");
    }
  });
  WalkKpis(fw.kpis, "/kpis", [&](const Kpi& kpi, const std::string& path) {
    if (!kpi.sub_kpis.empty()) {
      double sum = 0;
      for (const Kpi& sub : kpi.sub_kpis) sum += sub.weight_in_parent;
      if (std::fabs(sum - 100) > kWeightTolerance) {
        findings.AtPath(
            Severity::kError, "sub-kpi-weights", path + "/sub_kpis",
            "น้ำหนักของตัวชี้วัดย่อยของ " + kpi.id + " รวมกันได้ " + Num(sum) + " แต่ต้องเท่ากับ 100",
            "the sub-KPIs of " + kpi.id + " weigh " + Num(sum) + " together, not 100");
      }
    }
    if (kpi.criteria)
      CheckCriteria(kpi, *kpi.criteria, fw, nullptr, "", path + "/criteria", findings);
    if (kpi.cases) CheckCaseRule(fw, kpi, *kpi.cases, path + "/cases", findings);
    if (kpi.catalog) CheckCatalogRule(kpi, *kpi.catalog, path + "/catalog", findings);
  });
  for (size_t r = 0; r < fw.assignments.size(); ++r) {
    for (size_t k = 0; k < fw.assignments[r].kpis.size(); ++k) {
      const AssignedKpi& a = fw.assignments[r].kpis[k];
      const Kpi* kpi = FindKpi(fw.kpis, a.kpi);
      if (kpi && a.criteria) {
        CheckCriteria(
            *kpi, *a.criteria, fw, nullptr, "",
            "/assignments/" + std::to_string(r) + "/kpis/" + std::to_string(k) + "/criteria",
            findings);
      }
    }
  }
}

void CheckUnusedNames(const Framework& fw, const Engine& engine, Findings& findings) {
  const auto used = engine.NamesUsed();
  WalkKpis(fw.kpis, "/kpis", [&](const Kpi& kpi, const std::string& path) {
    if (kpi.monitoring_only || !kpi.sub_kpis.empty()) return;
    auto it = used.find(kpi.id);
    const std::set<std::string> none;
    const std::set<std::string>& names = it == used.end() ? none : it->second;
    for (size_t v = 0; v < kpi.variables.size(); ++v) {
      const std::string& id = kpi.variables[v].id;
      if (!names.count(id)) {
        findings.AtPath(
            Severity::kWarning, "variable-unused", path + "/variables/" + std::to_string(v),
            "ตัวชี้วัด " + kpi.id + " ตัวแปร \"" + id + "\" ไม่ได้ใช้ในสูตรหรือเกณฑ์ใดเลย",
            "KPI " + kpi.id + " variable \"" + id + "\" is not used by any formula or criterion");
      }
    }
    for (size_t r = 0; r < kpi.references.size(); ++r) {
      const std::string& name = kpi.references[r].name;
      if (!names.count(name)) {
        findings.AtPath(Severity::kWarning, "reference-unused",
                        path + "/references/" + std::to_string(r),
                        "ตัวชี้วัด " + kpi.id + " ค่าอ้างอิง \"" + name + "\" ไม่ได้ใช้ในสูตรหรือเกณฑ์ใดเลย",
                        "KPI " + kpi.id + " reference \"" + name +
                            "\" is not used by any formula or criterion");
      }
    }
  });
}

void CheckWeights(const Framework& fw, const Engine& engine,
                  const std::vector<std::string>& agencies, Findings& findings) {
  for (const std::string& agency : agencies) {
    const auto assigned = engine.AssignedKpis(agency);
    if (assigned.empty()) continue;
    for (WeightProblem& p : CheckAgencyWeights(fw, agency, assigned).problems) {
      findings.AtPath(p.finding.severity, p.finding.code, "/assignments",
                      std::move(p.finding.message_th), std::move(p.finding.message_en));
    }
  }
}

void CheckAgencies(const std::vector<Agency>& agencies, Findings& findings) {
  std::map<std::string, const Agency*> by_code;
  for (const Agency& a : agencies) {
    if (!by_code.emplace(a.code, &a).second) {
      findings.Add(Severity::kError, "agency-duplicate", a.where,
                   "รหัสหน่วยงาน \"" + a.code + "\" ซ้ำ",
                   "agency code \"" + a.code + "\" appears twice");
    }
  }
  for (const Agency& a : agencies) {
    if (a.parent.empty()) continue;
    if (!by_code.count(a.parent)) {
      findings.Add(
          Severity::kError, "agency-parent", a.where,
          "หน่วยงาน " + a.code + " สังกัด \"" + a.parent + "\" ซึ่งไม่มีในรายชื่อหน่วยงาน",
          "agency " + a.code + " belongs to \"" + a.parent + "\", which is not in the agency list");
      continue;
    }
    // Walk up the hierarchy; coming back to where we started is a cycle.
    std::set<std::string> seen = {a.code};
    const Agency* at = by_code[a.parent];
    while (at) {
      if (!seen.insert(at->code).second) {
        findings.Add(Severity::kError, "agency-cycle", a.where,
                     "สายการบังคับบัญชาของหน่วยงาน " + a.code + " วนกลับมาที่ตัวเอง",
                     "the hierarchy above agency " + a.code + " loops back on itself");
        break;
      }
      at = at->parent.empty() || !by_code.count(at->parent) ? nullptr : by_code[at->parent];
    }
  }
}

void CheckData(const Framework& fw, const Engine& engine, const CheckInput& input,
               Findings& findings) {
  std::set<std::string> known_agencies;
  if (input.agencies) {
    for (const Agency& a : *input.agencies) known_agencies.insert(a.code);
  }
  std::map<std::string, Location> seen;
  std::set<std::string> have;  // agency|kpi|variable|year|round of every observation
  for (const Observation& o : *input.observations) {
    const std::string key = o.agency + "|" + o.kpi + "|" + o.variable + "|" +
                            std::to_string(o.fiscal_year) + "|" + std::to_string(o.round);
    have.insert(key);
    if (auto [it, fresh] = seen.emplace(key, o.where); !fresh) {
      findings.Add(Severity::kError, "data-duplicate", o.where,
                   "ค่านี้ซ้ำกับที่ให้ไว้แล้วที่ " + it->second.ToString(),
                   "this value was already given at " + it->second.ToString());
      continue;
    }
    if (input.agencies && !known_agencies.count(o.agency)) {
      findings.Add(Severity::kWarning, "data-agency", o.where,
                   "ไม่มีหน่วยงาน \"" + o.agency + "\" ในรายชื่อหน่วยงาน ค่านี้จะไม่ถูกใช้",
                   "agency \"" + o.agency + "\" is not in the agency list; this value is not used");
    }
    const Kpi* kpi = FindKpi(fw.kpis, o.kpi);
    if (!kpi) {
      findings.Add(Severity::kWarning, "data-kpi", o.where,
                   "ไม่มีตัวชี้วัด \"" + o.kpi + "\" ในกรอบการประเมิน ค่านี้จะไม่ถูกใช้",
                   "KPI \"" + o.kpi + "\" is not in the framework; this value is not used");
      continue;
    }
    const Variable* var = nullptr;
    for (const Variable& v : kpi->variables) {
      if (v.id == o.variable) var = &v;
    }
    if (!var || var->type == VariableType::kDerived) {
      findings.Add(Severity::kWarning, "data-variable", o.where,
                   "ตัวชี้วัด " + o.kpi + " ไม่มีตัวแปรที่รายงานชื่อ \"" + o.variable + "\" ค่านี้จะไม่ถูกใช้",
                   "KPI " + o.kpi + " has no reported variable \"" + o.variable +
                       "\"; this value is not used");
      continue;
    }
    const size_t expected =
        var->type == VariableType::kNumberList ? static_cast<size_t>(var->length) : 1;
    if (o.values.size() != expected) {
      findings.Add(Severity::kError, "data-length", o.where,
                   "ตัวแปร \"" + o.variable + "\" ต้องมี " + std::to_string(expected) + " ค่า แต่ให้มา " +
                       std::to_string(o.values.size()) + " ค่า",
                   "variable \"" + o.variable + "\" takes " + std::to_string(expected) +
                       " values, " + std::to_string(o.values.size()) + " given");
      continue;
    }
    for (double v : o.values) {
      std::string th, en;
      if (var->min && v < *var->min) {
        th = "ค่า " + Num(v) + " ต่ำกว่าค่าต่ำสุดที่ยอมรับ (" + Num(*var->min) + ")";
        en = "value " + Num(v) + " is below the minimum " + Num(*var->min);
      } else if (var->max && v > *var->max) {
        th = "ค่า " + Num(v) + " สูงกว่าค่าสูงสุดที่ยอมรับ (" + Num(*var->max) + ")";
        en = "value " + Num(v) + " is above the maximum " + Num(*var->max);
      } else if (var->type == VariableType::kPassFail && v != 0 && v != 1) {
        th = "ค่าผ่าน/ไม่ผ่านต้องเป็น ผ่าน หรือ ไม่ผ่าน";
        en = "a pass/fail value must be pass or fail";
      } else if (var->type == VariableType::kCount && (v < 0 || v != std::floor(v))) {
        th = "จำนวนต้องเป็นจำนวนเต็มที่ไม่ติดลบ";
        en = "a count must be a whole number, not negative";
      } else if (var->type == VariableType::kDate && !IsDateValue(v)) {
        th = "ค่า " + Num(v) + " ไม่ใช่วันที่: เขียนแบบ 15/1/2564 (พ.ศ.) หรือ 2021-01-15";
        en = "value " + Num(v) + " is not a date: write 15/1/2564 (Buddhist Era) or 2021-01-15";
      }
      if (!th.empty()) {
        findings.Add(Severity::kError, "data-range", o.where, "ตัวแปร \"" + o.variable + "\": " + th,
                     "variable \"" + o.variable + "\": " + en);
        break;
      }
    }
  }
  // A dated milestone reported reached with no date: it will not count (domain.md §4.3).
  for (const Observation& o : *input.observations) {
    const Kpi* kpi = FindKpi(fw.kpis, o.kpi);
    if (!kpi || o.values.size() != 1 || o.values[0] < 0.5) continue;
    for (const Milestone* m : DatedMilestones(fw, *kpi)) {
      if (m->variable != o.variable) continue;
      const std::string date_key = o.agency + "|" + o.kpi + "|" + m->reached + "|" +
                                   std::to_string(o.fiscal_year) + "|" + std::to_string(o.round);
      if (have.count(date_key)) continue;
      findings.Add(Severity::kWarning, "milestone-date-missing", o.where,
                   "หน่วยงาน " + o.agency + " ตัวชี้วัด " + o.kpi + " รายงานว่า \"" + o.variable +
                       "\" บรรลุแล้ว แต่ไม่ได้ให้วันที่บรรลุ (\"" + m->reached +
                       "\") เป้าหมายความสำเร็จนี้จึงไม่นับ",
                   "agency " + o.agency + " KPI " + o.kpi + " reports \"" + o.variable +
                       "\" reached but gives no date it was reached (\"" + m->reached +
                       "\"), so the milestone does not count");
      break;
    }
  }
  if (!input.agencies) return;
  // An agency that is scored on a KPI needing a baseline, and has none.
  for (const Agency& a : *input.agencies) {
    for (const auto& [kpi_id, weight] : engine.AssignedKpis(a.code)) {
      (void)weight;
      const Kpi* kpi = FindKpi(fw.kpis, kpi_id);
      bool exempt = false;
      for (const AssignmentRule& rule : fw.assignments) {
        const bool applies =
            std::find(rule.agencies.begin(), rule.agencies.end(), "*") != rule.agencies.end() ||
            std::find(rule.agencies.begin(), rule.agencies.end(), a.code) != rule.agencies.end();
        if (!applies) continue;
        for (const AssignedKpi& ak : rule.kpis) exempt = exempt || (ak.kpi == kpi_id && ak.exempt);
      }
      if (exempt ||
          std::find(kpi->rounds.begin(), kpi->rounds.end(), input.round) == kpi->rounds.end())
        continue;
      std::function<void(const Kpi&)> visit = [&](const Kpi& k) {
        const std::set<std::string> needed = engine.InputsNeeded(a.code, k.id);
        for (const Reference& ref : k.references) {
          if (!needed.count(ref.name)) continue;  // the criteria that apply never read it
          const std::string target = ref.kpi.empty() ? k.id : ref.kpi;
          const int year = ref.fiscal_year == 0 ? fw.fiscal_year : ref.fiscal_year;
          if (year == fw.fiscal_year && ref.round == input.round) continue;  // this year's report
          const std::string key = a.code + "|" + target + "|" + ref.variable + "|" +
                                  std::to_string(year) + "|" + std::to_string(ref.round);
          if (!have.count(key) && ref.from_result) {
            const std::string y = std::to_string(year);
            const std::string r = std::to_string(ref.round);
            findings.Add(Severity::kError, "baseline-missing", a.where,
                         "หน่วยงาน " + a.code + " ไม่มีผลการประเมินปีงบประมาณ พ.ศ. " + y + " รอบ " + r +
                             " เดือนที่เผยแพร่แล้วของตัวชี้วัด " + ref.from_result->key + " (" +
                             (ref.from_result->score ? "คะแนน" : "ผลการดำเนินงาน") +
                             ") ซึ่งเป็นข้อมูลพื้นฐาน \"" + ref.name + "\" ของตัวชี้วัด " + k.id +
                             " — ให้นำเข้าผลปี " + y + " (esar import results) หรือนำเข้าค่าแทน (ตัวชี้วัด " +
                             target + " ตัวแปร " + ref.variable + ") หรือยกเว้นการประเมินตัวชี้วัดนี้",
                         "agency " + a.code + " has no published FY" + y + " " + r + "-month " +
                             (ref.from_result->score ? "score" : "result") + " of KPI " +
                             ref.from_result->key + ", which is baseline \"" + ref.name +
                             "\" of KPI " + k.id + ": load FY" + y +
                             "'s results (esar import results), import a value "
                             "in its place (KPI " +
                             target + " variable " + ref.variable +
                             "), or exempt the agency from this KPI");
          } else if (!have.count(key)) {
            findings.Add(
                Severity::kError, "baseline-missing", a.where,
                "หน่วยงาน " + a.code + " ต้องมีข้อมูลพื้นฐาน \"" + ref.name + "\" (ตัวชี้วัด " + target +
                    " ตัวแปร " + ref.variable + " ปีงบประมาณ " + std::to_string(year) +
                    ") สำหรับตัวชี้วัด " + k.id + " แต่ไม่มี — ให้เพิ่มข้อมูล หรือยกเว้นการประเมินตัวชี้วัดนี้",
                "agency " + a.code + " needs baseline \"" + ref.name + "\" (KPI " + target +
                    " variable " + ref.variable + ", FY " + std::to_string(year) + ") for KPI " +
                    k.id + " and has none: add it, or exempt the agency from this KPI");
          }
        }
        for (const Kpi& sub : k.sub_kpis) visit(sub);
      };
      visit(*kpi);
    }
  }
}

}  // namespace

bool HasErrors(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::kError; });
}

std::vector<Finding> Check(const CheckInput& input) {
  const Framework& fw = *input.framework;
  Findings findings(input.framework_file);
  auto engine = Engine::Compile(fw, input.round);
  if (!engine) {
    const Status s = engine.status();
    findings.AtPath(Severity::kError, "framework-invalid", s.where().json_path, s.message_th(),
                    s.message_en());
    return findings.Take();
  }
  CheckFramework(fw, findings);
  CheckFromAgencies(fw, findings);
  if (!input.other_frameworks.empty()) {
    std::vector<NamedFramework> all = {
        {input.framework_name.empty() ? (fw.agency_kind.empty() ? input.framework_file
                                                                 : fw.agency_kind)
                                      : input.framework_name,
         &fw}};
    all.insert(all.end(), input.other_frameworks.begin(), input.other_frameworks.end());
    const Status across = CheckFromAgenciesAcross(all);
    if (!across.ok()) {
      findings.AtPath(Severity::kError, "from-agencies-cycle-across", "/kpis",
                      across.message_th(), across.message_en());
    }
  }
  CheckUnusedNames(fw, *engine, findings);
  std::vector<std::string> agency_codes;
  if (input.agencies) {
    for (const Agency& a : *input.agencies) agency_codes.push_back(a.code);
  } else {
    // Without an agency list, check what every agency gets and each agency a rule names.
    std::set<std::string> named;
    for (const AssignmentRule& rule : fw.assignments)
      named.insert(rule.agencies.begin(), rule.agencies.end());
    agency_codes.assign(named.begin(), named.end());
  }
  CheckWeights(fw, *engine, agency_codes, findings);
  if (input.agencies) {
    std::set<std::string> codes(agency_codes.begin(), agency_codes.end());
    for (size_t r = 0; r < fw.assignments.size(); ++r) {
      for (const std::string& a : fw.assignments[r].agencies) {
        if (a != "*" && !codes.count(a)) {
          findings.AtPath(
              Severity::kWarning, "assignment-agency",
              "/assignments/" + std::to_string(r) + "/agencies",
              "การมอบหมายระบุหน่วยงาน \"" + a + "\" ซึ่งไม่มีในรายชื่อหน่วยงาน",
              "an assignment names agency \"" + a + "\", which is not in the agency list");
        }
      }
    }
    CheckAgencies(*input.agencies, findings);
  }
  if (input.observations) CheckData(fw, *engine, input, findings);
  return findings.Take();
}

AgencyWeights CheckAgencyWeights(const Framework& fw, const std::string& agency,
                                 const std::vector<std::pair<std::string, double>>& assigned) {
  AgencyWeights out;
  const std::string who_th = agency == "*" ? "ทุกหน่วยงาน" : "หน่วยงาน " + agency;
  const std::string who_en = agency == "*" ? "every agency" : "agency " + agency;
  auto problem = [&](std::string kpi, std::string component, std::string code, std::string th,
                     std::string en) {
    out.problems.push_back(
        {std::move(kpi), std::move(component),
         Finding{Severity::kError, std::move(code), Location{}, std::move(th), std::move(en)}});
  };
  for (const Component& c : fw.components) out.by_component[c.id] = 0;
  for (const auto& [kpi_id, weight] : assigned) {
    const Kpi* kpi = FindKpi(fw.kpis, kpi_id);
    if (kpi == nullptr || kpi->monitoring_only) continue;
    if (weight <= 0) {
      problem(kpi_id, "", "weight-missing", who_th + ": ตัวชี้วัด " + kpi_id + " ไม่มีน้ำหนัก",
              who_en + ": KPI " + kpi_id + " has no weight");
    }
    out.total += weight;
    out.by_component[kpi->component] += weight;
  }
  if (std::fabs(out.total - 100) > kWeightTolerance) {
    problem("", "", "weights-sum",
            who_th + ": น้ำหนักของตัวชี้วัดรวมกันได้ " + Num(out.total) + " แต่ต้องเท่ากับ 100",
            who_en + ": the KPI weights add up to " + Num(out.total) + ", not 100");
  }
  for (const Component& c : fw.components) {
    const double got = out.by_component[c.id];
    if (std::fabs(got - c.share) > kWeightTolerance) {
      problem("", c.id, "component-weights",
              who_th + ": น้ำหนักในองค์ประกอบ \"" + (c.name.th.empty() ? c.id : c.name.th) +
                  "\" รวมกันได้ " + Num(got) + " แต่องค์ประกอบนี้มีสัดส่วน " + Num(c.share),
              who_en + ": the weights in component \"" + (c.name.en.empty() ? c.id : c.name.en) +
                  "\" add up to " + Num(got) + ", but its share is " + Num(c.share));
    }
  }
  return out;
}

}  // namespace esar::domain
