#include "domain/engine.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "domain/expression.h"
#include "domain/from_agencies.h"
#include "domain/history.h"

namespace esar::domain {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMaxLevels = 10;
constexpr int kMaxCriteriaDepth = 8;

// A run of consecutive slots holding one variable's value(s).
struct SlotRun {
  int first = 0;
  int length = 1;
};

// The key of a reported value's slot, written over `key` (which keeps its room: Layout makes one
// for each of a slice's ~20,000 values).
void SlotKeyInto(const std::string& kpi, const std::string& variable, int fiscal_year, int round,
                 std::string& key) {
  key.assign(kpi);
  key += '\x1f';
  key += variable;
  char number[16];
  for (const int n : {fiscal_year, round}) {
    key += '\x1f';
    key.append(number, static_cast<size_t>(std::to_chars(number, number + sizeof number, n).ptr -
                                           number));
  }
}

std::string SlotKey(const std::string& kpi, const std::string& variable, int fiscal_year,
                    int round) {
  std::string key;
  SlotKeyInto(kpi, variable, fiscal_year, round, key);
  return key;
}

Status KpiError(const Kpi& kpi, const std::string& th, const std::string& en) {
  return Status::InvalidInput("ตัวชี้วัด " + kpi.id + ": " + th, "KPI " + kpi.id + ": " + en);
}

// `inner` said of one part of `kpi`: `where_th` / `where_en` name the part.
Status Prefixed(const Kpi& kpi, const std::string& where_th, const std::string& where_en,
                const Status& inner) {
  return Status::InvalidInput("ตัวชี้วัด " + kpi.id + " " + where_th + ": " + inner.message_th(),
                              "KPI " + kpi.id + " " + where_en + ": " + inner.message_en());
}

struct RequiredInput {
  SlotRun run;
  std::string name;
  bool is_reference = false;
};

// `s` located at `json_path` of the framework file (the caller names the file).
Status At(const Status& s, const std::string& json_path) {
  return Status::InvalidInput(s.message_th(), s.message_en(), Location{"", json_path, 0});
}

struct CompiledTarget {
  bool present = false;
  bool strict = false;
  Expression expression;
};

struct CompiledCriteria {
  CriteriaForm form = CriteriaForm::kLevels;
  const Criteria* source = nullptr;
  // kLevels
  Direction direction = Direction::kHigherIsBetter;
  LevelScoring scoring = LevelScoring::kInterpolate;
  std::optional<BelowBasic> below_basic;
  std::vector<CompiledTarget> targets;
  // kMilestones: per level, each milestone with the slots of its pass/fail variable and, when
  // dated, of its date variable (-1: none)
  struct CompiledMilestone {
    int slot = 0;
    int date_slot = -1;
    const Milestone* milestone = nullptr;
  };
  std::vector<std::vector<CompiledMilestone>> milestones;
  bool cumulative = true;
  // kPoints
  struct Item {
    const PointsItem* item = nullptr;
    Expression condition;
    std::vector<size_t> prerequisites;  // indices of earlier items
  };
  std::vector<Item> items;
  // kConditions: an empty optional is a missing level
  std::vector<std::optional<Expression>> conditions;
  // kGroups
  std::optional<Expression> by;
  struct CompiledGroup {
    const Group* group = nullptr;
    std::unique_ptr<CompiledCriteria> criteria;
  };
  std::vector<CompiledGroup> groups;
  // The reported values and baselines that scoring under these criteria reads (through the
  // result, the derived values and the criteria): any of them missing makes the KPI missing.
  std::vector<RequiredInput> required;
};

// Every name `c` reads, through its targets, conditions, milestones, items and groups; with
// `dates`, also the date variables of dated milestones (used, though not required to score).
void CollectNames(const CompiledCriteria& c, std::set<std::string>& names, bool dates = false) {
  auto add = [&](const Expression& e) {
    names.insert(e.names_used().begin(), e.names_used().end());
  };
  for (const CompiledTarget& t : c.targets) {
    if (t.present) add(t.expression);
  }
  for (const auto& level : c.milestones) {
    // The date of a dated milestone is not listed: a date not reported makes that milestone
    // not count (the trace says so), not the whole KPI missing.
    for (const auto& m : level) {
      names.insert(m.milestone->variable);
      if (dates && m.date_slot >= 0) names.insert(m.milestone->reached);
    }
  }
  for (const auto& item : c.items) add(item.condition);
  for (const auto& cond : c.conditions) {
    if (cond) add(*cond);
  }
  if (c.by) add(*c.by);
  for (const auto& g : c.groups) CollectNames(*g.criteria, names, dates);
}

struct CompiledKpi {
  const Kpi* kpi = nullptr;
  Scope scope;
  std::vector<RequiredInput> inputs;  // every non-optional reported value and reference
  std::map<std::string, std::vector<std::string>> derived_reads;  // derived name -> names it reads
  std::vector<RequiredInput> required_without_criteria;           // for a monitoring KPI's result
  size_t component = 0;                                           // index into Impl::components
  std::vector<int> optional_slots;
  std::vector<std::pair<int, Expression>> derived;  // in dependency order
  std::optional<Expression> result;
  std::unique_ptr<CompiledCriteria> criteria;
  std::vector<CompiledKpi> subs;
  bool in_round = true;
};

struct ResolvedEntry {
  size_t kpi_index = 0;
  double weight = 0;
  const CompiledCriteria* criteria = nullptr;  // the agency's own, or null for the KPI's
  bool exempt = false;
  LocalizedText exempt_reason;
};

struct CompiledRuleEntry {
  const AssignedKpi* assigned = nullptr;
  size_t kpi_index = 0;
  std::unique_ptr<CompiledCriteria> criteria;
};

struct CompiledRule {
  const AssignmentRule* rule = nullptr;
  bool all_agencies = false;
  std::set<std::string> agencies;
  std::vector<CompiledRuleEntry> entries;
};

}  // namespace

const char* KpiStatusName(KpiStatus status) {
  switch (status) {
    case KpiStatus::kScored:
      return "scored";
    case KpiStatus::kExempt:
      return "exempt";
    case KpiStatus::kMonitoring:
      return "monitoring";
    case KpiStatus::kMissing:
      return "missing";
  }
  return "missing";
}

struct Engine::Impl {
  Framework framework;
  int round = 12;
  std::unordered_map<std::string, SlotRun> data_slots;  // SlotKey -> run, for reported data
  int slot_count = 0;
  std::vector<double> scratch;
  std::vector<CompiledKpi> kpis;
  std::vector<CompiledRule> rules;
  // Each agency's resolved assignments ("profile"), resolved once; agencies that no rule names
  // individually share the profile of the "*" rules.
  mutable std::vector<std::vector<ResolvedEntry>> profiles;
  mutable std::unordered_map<std::string, uint32_t> profile_of_agency;
  // Each distinct profile's index by its contents (ProfileSignature): agencies named one by one
  // in the same rules share one profile instead of 8,000 copies of it.
  mutable std::unordered_map<std::string, uint32_t> profile_by_signature;
  // The profile of each set of rules an agency falls under (their indexes in `rules`): it is all
  // an agency's profile depends on, so the 8,000 agencies one rule names resolve it once, not one
  // by one (60 ms of a round's computation at every local government's scale).
  mutable std::map<std::vector<uint32_t>, uint32_t> profile_of_rules;
  mutable std::optional<uint32_t> shared_profile;
  std::set<std::string> named_agencies;  // agencies some rule names individually
  std::vector<Component> components;     // the framework's, then any a KPI names undeclared

  // ---- compilation ----

  SlotRun AllocateData(const std::string& kpi, const std::string& variable, int fiscal_year,
                       int data_round, int length) {
    const std::string key = SlotKey(kpi, variable, fiscal_year, data_round);
    auto it = data_slots.find(key);
    if (it != data_slots.end()) return it->second;
    SlotRun run{slot_count, std::max(length, 1)};
    slot_count += run.length;
    data_slots.emplace(key, run);
    return run;
  }

  // Makes `name` stand for `run` in formulas: one number, or a list of its slots.
  static void Bind(Scope& scope, const std::string& name, SlotRun run, bool is_list) {
    if (!is_list) {
      scope.AddScalar(name, run.first);
      return;
    }
    std::vector<int> slots(static_cast<size_t>(run.length));
    for (int e = 0; e < run.length; ++e) slots[static_cast<size_t>(e)] = run.first + e;
    scope.AddList(name, std::move(slots));
  }

  // Phase 1: gives every variable, derived value and reference of `kpi` its slots.
  Status AllocateSlots(const Kpi& kpi, CompiledKpi& out,
                       std::map<const Variable*, SlotRun>& derived_runs) {
    out.kpi = &kpi;
    std::set<std::string> names;
    for (const Variable& v : kpi.variables) {
      if (!IsIdentifier(v.id)) {
        return KpiError(kpi, "ชื่อตัวแปร \"" + v.id + "\" ต้องเป็นอักษรละติน ตัวเลข หรือ _",
                        "variable name \"" + v.id + "\" must be Latin letters, digits or _");
      }
      if (!names.insert(v.id).second) {
        return KpiError(kpi, "ชื่อ \"" + v.id + "\" ซ้ำ", "the name \"" + v.id + "\" is used twice");
      }
      if (v.type == VariableType::kNumberList && (v.length < 1 || v.length > 1000)) {
        return KpiError(kpi, "ตัวแปรรายการ \"" + v.id + "\" ต้องมีความยาว 1–1000",
                        "list variable \"" + v.id + "\" needs a length of 1–1000");
      }
      if (v.type == VariableType::kDerived) {
        SlotRun run{slot_count, 1};
        slot_count += 1;
        derived_runs[&v] = run;
        out.scope.AddScalar(v.id, run.first);
        continue;
      }
      const int length = v.type == VariableType::kNumberList ? v.length : 1;
      SlotRun run = AllocateData(kpi.id, v.id, framework.fiscal_year, round, length);
      Bind(out.scope, v.id, run, length > 1);
      if (v.optional) {
        for (int e = 0; e < run.length; ++e) out.optional_slots.push_back(run.first + e);
      } else {
        out.inputs.push_back({run, v.id, false});
      }
    }
    for (const Reference& ref : kpi.references) {
      if (!IsIdentifier(ref.name)) {
        return KpiError(kpi, "ชื่ออ้างอิง \"" + ref.name + "\" ต้องเป็นอักษรละติน ตัวเลข หรือ _",
                        "reference name \"" + ref.name + "\" must be Latin letters, digits or _");
      }
      if (!names.insert(ref.name).second) {
        return KpiError(kpi, "ชื่อ \"" + ref.name + "\" ซ้ำ",
                        "the name \"" + ref.name + "\" is used twice");
      }
      const std::string& target_id = ref.kpi.empty() ? kpi.id : ref.kpi;
      const Kpi* target = FindKpi(framework.kpis, target_id);
      if (!target) {
        return KpiError(kpi, "อ้างถึงตัวชี้วัด \"" + target_id + "\" ซึ่งไม่มีอยู่",
                        "refers to KPI \"" + target_id + "\", which does not exist");
      }
      const Variable* variable = nullptr;
      for (const Variable& v : target->variables) {
        if (v.id == ref.variable) variable = &v;
      }
      if (!variable || variable->type == VariableType::kDerived) {
        return KpiError(kpi,
                        "อ้างถึงตัวแปร \"" + ref.variable + "\" ที่ตัวชี้วัด " + target_id + " ไม่ได้รายงาน",
                        "refers to variable \"" + ref.variable + "\", which KPI " + target_id +
                            " does not report");
      }
      const int year = ref.fiscal_year == 0 ? framework.fiscal_year : ref.fiscal_year;
      const int length = variable->type == VariableType::kNumberList ? variable->length : 1;
      if (ref.from_result && (length != 1 || year >= framework.fiscal_year)) {
        // An earlier result is one number of an earlier year: a list or this year's value
        // could never be filled in.
        return KpiError(kpi,
                        "อ้างอิง \"" + ref.name +
                            "\" อ่านผลการประเมินปีก่อน (from_result) จึงต้องเป็นค่าเดียวของปีงบประมาณก่อน " +
                            std::to_string(framework.fiscal_year),
                        "reference \"" + ref.name +
                            "\" reads an earlier result (from_result), so it must be one number of "
                            "a fiscal year before " +
                            std::to_string(framework.fiscal_year));
      }
      SlotRun run = AllocateData(target_id, ref.variable, year, ref.round, length);
      Bind(out.scope, ref.name, run, length > 1);
      out.inputs.push_back({run, ref.name, true});
    }
    if (kpi.sub_kpis.empty() == !kpi.criteria.has_value()) {
      return KpiError(kpi, "ต้องมีเกณฑ์การประเมิน หรือตัวชี้วัดย่อย อย่างใดอย่างหนึ่ง",
                      "needs either criteria or sub-KPIs, not both or neither");
    }
    out.subs.resize(kpi.sub_kpis.size());
    for (size_t i = 0; i < kpi.sub_kpis.size(); ++i) {
      Status s = AllocateSlots(kpi.sub_kpis[i], out.subs[i], derived_runs);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<CompiledCriteria>> CompileCriteria(const Kpi& kpi,
                                                            const Criteria& criteria,
                                                            const Scope& scope, bool has_result,
                                                            int depth) {
    if (depth > kMaxCriteriaDepth) {
      return KpiError(kpi, "เกณฑ์ซ้อนกันลึกเกินไป", "criteria are nested too deeply");
    }
    double* slots = scratch.data();
    auto out = std::make_unique<CompiledCriteria>();
    out->form = criteria.form;
    out->source = &criteria;
    const size_t level_count = framework.levels.size();
    switch (criteria.form) {
      case CriteriaForm::kLevels: {
        const LevelsCriteria& lv = criteria.levels;
        if (!has_result) {
          return KpiError(kpi, "เกณฑ์แบบระดับต้องมีผลการดำเนินงานเป็นตัวเลข (กำหนด result)",
                          "levels criteria need a numeric result (set \"result\")");
        }
        if (lv.targets.size() != level_count) {
          return KpiError(kpi,
                          "มีค่าเป้าหมาย " + std::to_string(lv.targets.size()) +
                              " ค่า แต่กรอบการประเมินมี " + std::to_string(level_count) + " ระดับ",
                          "has " + std::to_string(lv.targets.size()) +
                              " targets but the framework has " + std::to_string(level_count) +
                              " levels");
        }
        out->direction = lv.direction;
        out->scoring = lv.scoring;
        out->below_basic = lv.below_basic;
        for (size_t i = 0; i < lv.targets.size(); ++i) {
          CompiledTarget t;
          t.present = lv.targets[i].present;
          t.strict = lv.targets[i].strict;
          if (t.present) {
            auto e = Expression::Compile(lv.targets[i].expression, scope, slots);
            if (!e)
              return Prefixed(kpi, "ค่าเป้าหมายระดับ " + std::to_string(i + 1),
                              "level " + std::to_string(i + 1) + " target", e.status());
            t.expression = std::move(*e);
          }
          out->targets.push_back(std::move(t));
        }
        break;
      }
      case CriteriaForm::kMilestones: {
        if (criteria.milestones.levels.size() != level_count) {
          return KpiError(kpi, "จำนวนระดับของเป้าหมายความสำเร็จไม่เท่ากับจำนวนระดับของกรอบการประเมิน",
                          "the milestones have a different number of levels from the framework");
        }
        out->cumulative = criteria.milestones.cumulative;
        for (const auto& level : criteria.milestones.levels) {
          std::vector<CompiledCriteria::CompiledMilestone> compiled;
          for (const Milestone& m : level) {
            auto it = scope.scalars().find(m.variable);
            if (it == scope.scalars().end()) {
              return KpiError(
                  kpi, "เป้าหมายความสำเร็จอ้างถึงตัวแปร \"" + m.variable + "\" ซึ่งไม่มีอยู่",
                  "a milestone refers to variable \"" + m.variable + "\", which does not exist");
            }
            int date_slot = -1;
            if (m.due.has_value() != !m.reached.empty()) {
              return KpiError(
                  kpi,
                  "เป้าหมายความสำเร็จ \"" + m.variable +
                      "\" ต้องระบุทั้งวันที่กำหนด (due) และตัวแปรวันที่บรรลุ (reached) หรือไม่ระบุทั้งคู่",
                  "milestone \"" + m.variable +
                      "\" needs both a due date (due) and a date variable (reached), or neither");
            }
            if (m.due) {
              const Variable* date = nullptr;
              for (const Variable& v : kpi.variables) {
                if (v.id == m.reached) date = &v;
              }
              auto slot = scope.scalars().find(m.reached);
              if (!date || date->type != VariableType::kDate || slot == scope.scalars().end()) {
                return KpiError(kpi,
                                "เป้าหมายความสำเร็จ \"" + m.variable + "\" อ่านวันที่บรรลุจาก \"" +
                                    m.reached + "\" ซึ่งไม่ใช่ตัวแปรชนิดวันที่ (date) ของตัวชี้วัดนี้",
                                "milestone \"" + m.variable + "\" reads the date reached from \"" +
                                    m.reached + "\", which is not a date variable of this KPI");
              }
              date_slot = slot->second;
            }
            compiled.push_back({it->second, date_slot, &m});
          }
          out->milestones.push_back(std::move(compiled));
        }
        break;
      }
      case CriteriaForm::kPoints: {
        std::map<std::string, size_t> index;
        for (const PointsItem& item : criteria.points.items) {
          CompiledCriteria::Item ci;
          ci.item = &item;
          auto e = Expression::Compile(item.condition, scope, slots);
          if (!e)
            return Prefixed(kpi, "รายการคะแนน \"" + item.id + "\"",
                            "points item \"" + item.id + "\"", e.status());
          ci.condition = std::move(*e);
          for (const std::string& req : item.prerequisites) {
            auto it = index.find(req);
            if (it == index.end()) {
              return KpiError(kpi,
                              "รายการคะแนน \"" + item.id + "\" ต้องอาศัย \"" + req +
                                  "\" ซึ่งต้องมาก่อนหน้า (ห้ามอ้างวนกัน)",
                              "points item \"" + item.id + "\" prerequisites \"" + req +
                                  "\", which must come before it (no cycles)");
            }
            ci.prerequisites.push_back(it->second);
          }
          if (!index.emplace(item.id, out->items.size()).second) {
            return KpiError(kpi, "รายการคะแนน \"" + item.id + "\" ซ้ำ",
                            "points item \"" + item.id + "\" appears twice");
          }
          out->items.push_back(std::move(ci));
        }
        break;
      }
      case CriteriaForm::kConditions: {
        if (criteria.conditions.levels.size() != level_count) {
          return KpiError(kpi, "จำนวนเงื่อนไขไม่เท่ากับจำนวนระดับของกรอบการประเมิน",
                          "the number of conditions differs from the framework's levels");
        }
        for (size_t i = 0; i < criteria.conditions.levels.size(); ++i) {
          const std::string& text = criteria.conditions.levels[i];
          if (text.empty()) {
            out->conditions.emplace_back();
            continue;
          }
          auto e = Expression::Compile(text, scope, slots);
          if (!e)
            return Prefixed(kpi, "เงื่อนไขระดับ " + std::to_string(i + 1),
                            "level " + std::to_string(i + 1) + " condition", e.status());
          out->conditions.emplace_back(std::move(*e));
        }
        break;
      }
      case CriteriaForm::kGroups: {
        auto by = Expression::Compile(criteria.groups.by, scope, slots);
        if (!by) return Prefixed(kpi, "เงื่อนไขการแบ่งกลุ่ม", "group formula", by.status());
        out->by = std::move(*by);
        if (criteria.groups.groups.empty()) {
          return KpiError(kpi, "ต้องมีอย่างน้อยหนึ่งกลุ่ม", "needs at least one group");
        }
        for (const Group& g : criteria.groups.groups) {
          if (!g.criteria)
            return KpiError(kpi, "กลุ่ม " + g.id + " ไม่มีเกณฑ์", "group " + g.id + " has no criteria");
          auto inner = CompileCriteria(kpi, *g.criteria, scope, has_result, depth + 1);
          if (!inner) return inner.status();
          out->groups.push_back({&g, std::move(*inner)});
        }
        break;
      }
    }
    return out;
  }

  // The inputs that scoring `ck` under `criteria` (or only its result, when null) reads.
  static std::vector<RequiredInput> Needed(const CompiledKpi& ck,
                                           const CompiledCriteria* criteria) {
    std::set<std::string> names;
    if (ck.result) names.insert(ck.result->names_used().begin(), ck.result->names_used().end());
    if (criteria) CollectNames(*criteria, names);
    // Derived values read further names; follow them (compilation has ruled out cycles).
    std::vector<std::string> pending(names.begin(), names.end());
    while (!pending.empty()) {
      const std::string name = pending.back();
      pending.pop_back();
      auto it = ck.derived_reads.find(name);
      if (it == ck.derived_reads.end()) continue;
      for (const std::string& read : it->second) {
        if (names.insert(read).second) pending.push_back(read);
      }
    }
    std::vector<RequiredInput> out;
    for (const RequiredInput& input : ck.inputs) {
      if (names.count(input.name)) out.push_back(input);
    }
    return out;
  }

  // Phase 2: compiles every formula of `kpi` against its scope.
  Status CompileKpi(const Kpi& kpi, CompiledKpi& out,
                    const std::map<const Variable*, SlotRun>& derived_runs) {
    out.in_round = std::find(kpi.rounds.begin(), kpi.rounds.end(), round) != kpi.rounds.end();
    double* slots = scratch.data();
    // Derived variables, ordered so that each comes after the ones it reads.
    std::map<std::string, std::pair<int, Expression>> pending;
    for (const Variable& v : kpi.variables) {
      if (v.type != VariableType::kDerived) continue;
      auto e = Expression::Compile(v.formula, out.scope, slots);
      if (!e) return Prefixed(kpi, "ตัวแปร " + v.id, "variable " + v.id, e.status());
      out.derived_reads[v.id] = e->names_used();
      pending.emplace(v.id, std::make_pair(derived_runs.at(&v).first, std::move(*e)));
    }
    std::set<std::string> done;
    std::set<std::string> visiting;
    std::function<Status(const std::string&, std::string)> visit = [&](const std::string& id,
                                                                       std::string path) -> Status {
      if (done.count(id)) return Status::Ok();
      if (visiting.count(id)) {
        return KpiError(kpi, "ตัวแปรคำนวณอ้างถึงกันเป็นวง: " + path + id,
                        "derived variables depend on each other in a cycle: " + path + id);
      }
      visiting.insert(id);
      auto& entry = pending.at(id);
      for (const std::string& name : entry.second.names_used()) {
        if (pending.count(name)) {
          Status s = visit(name, path + id + " → ");
          if (!s.ok()) return s;
        }
      }
      visiting.erase(id);
      done.insert(id);
      out.derived.emplace_back(entry.first, std::move(entry.second));
      return Status::Ok();
    };
    std::vector<std::string> ids;
    for (const auto& [id, unused] : pending) ids.push_back(id);
    for (const std::string& id : ids) {
      Status s = visit(id, "");
      if (!s.ok()) return s;
    }

    bool has_result = false;
    if (!kpi.result.empty()) {
      auto e = Expression::Compile(kpi.result, out.scope, slots);
      if (!e) return Prefixed(kpi, "สูตรคำนวณผล", "result formula", e.status());
      out.result = std::move(*e);
      has_result = true;
    } else {
      // The result defaults to the KPI's only reported number.
      const Variable* single = nullptr;
      int numeric = 0;
      for (const Variable& v : kpi.variables) {
        if (v.type != VariableType::kNumberList && v.type != VariableType::kPassFail &&
            v.type != VariableType::kDate) {
          ++numeric;
          single = &v;
        }
      }
      if (numeric == 1) {
        auto e = Expression::Compile(single->id, out.scope, slots);
        if (!e) return Prefixed(kpi, "ผลการดำเนินงาน", "result", e.status());
        out.result = std::move(*e);
        has_result = true;
      }
    }
    out.required_without_criteria = Needed(out, nullptr);
    if (kpi.criteria) {
      auto c = CompileCriteria(kpi, *kpi.criteria, out.scope, has_result, 0);
      if (!c) return c.status();
      out.criteria = std::move(*c);
      out.criteria->required = Needed(out, out.criteria.get());
    }
    for (size_t i = 0; i < kpi.sub_kpis.size(); ++i) {
      Status s = CompileKpi(kpi.sub_kpis[i], out.subs[i], derived_runs);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Status CompileRules() {
    for (size_t r = 0; r < framework.assignments.size(); ++r) {
      const AssignmentRule& rule = framework.assignments[r];
      const std::string path = "/assignments/" + std::to_string(r);
      CompiledRule cr;
      cr.rule = &rule;
      for (const std::string& a : rule.agencies) {
        if (a == "*")
          cr.all_agencies = true;
        else {
          cr.agencies.insert(a);
          named_agencies.insert(a);
        }
      }
      for (const AssignedKpi& assigned : rule.kpis) {
        CompiledRuleEntry entry;
        entry.assigned = &assigned;
        bool found = false;
        for (size_t k = 0; k < kpis.size(); ++k) {
          if (kpis[k].kpi->id == assigned.kpi) {
            entry.kpi_index = k;
            found = true;
          }
        }
        if (!found) {
          return At(Status::InvalidInput("การมอบหมายอ้างถึงตัวชี้วัด \"" + assigned.kpi +
                                             "\" ซึ่งไม่มีในกรอบการประเมิน (หรือเป็นตัวชี้วัดย่อย)",
                                         "an assignment names KPI \"" + assigned.kpi +
                                             "\", which is not a top-level KPI of the framework"),
                    path);
        }
        if (assigned.criteria) {
          const CompiledKpi& ck = kpis[entry.kpi_index];
          if (!ck.kpi->sub_kpis.empty()) {
            return At(KpiError(*ck.kpi, "ตัวชี้วัดประกอบกำหนดเกณฑ์เฉพาะหน่วยงานไม่ได้",
                               "a composite KPI cannot take agency-specific criteria"),
                      path);
          }
          auto c = CompileCriteria(*ck.kpi, *assigned.criteria, ck.scope, ck.result.has_value(), 0);
          if (!c) return At(c.status(), path);
          entry.criteria = std::move(*c);
          entry.criteria->required = Needed(ck, entry.criteria.get());
        }
        cr.entries.push_back(std::move(entry));
      }
      rules.push_back(std::move(cr));
    }
    return Status::Ok();
  }

  // The indexes in `rules` of the rules `agency` falls under, in order: all an agency's
  // assignments depend on.
  std::vector<uint32_t> RulesOf(const std::string& agency) const {
    std::vector<uint32_t> under;
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].all_agencies || rules[i].agencies.count(agency))
        under.push_back(static_cast<uint32_t>(i));
    }
    return under;
  }

  // What an agency under the rules `under` (RulesOf) is assigned: their entries, a later rule's
  // over an earlier one's.
  std::vector<ResolvedEntry> ResolveEntries(const std::vector<uint32_t>& under) const {
    std::map<size_t, ResolvedEntry> by_kpi;
    for (const uint32_t rule : under) {
      for (const CompiledRuleEntry& entry : rules[rule].entries) {
        ResolvedEntry& r = by_kpi[entry.kpi_index];
        r.kpi_index = entry.kpi_index;
        if (entry.assigned->weight) r.weight = *entry.assigned->weight;
        if (entry.criteria) r.criteria = entry.criteria.get();
        if (entry.assigned->exempt) {
          r.exempt = true;
          r.exempt_reason = entry.assigned->exempt_reason;
        }
      }
    }
    std::vector<ResolvedEntry> list;
    for (auto& [index, entry] : by_kpi) list.push_back(std::move(entry));
    return list;
  }

  // What a profile holds, as a key: two profiles with the same signature score alike.
  static std::string ProfileSignature(const std::vector<ResolvedEntry>& entries) {
    std::string out;
    for (const ResolvedEntry& e : entries) {
      out += std::to_string(e.kpi_index) + ':' + std::to_string(std::bit_cast<uint64_t>(e.weight)) +
             ':' + std::to_string(reinterpret_cast<uintptr_t>(e.criteria)) + ':' +
             (e.exempt ? '1' : '0') + ':' + std::to_string(e.exempt_reason.th.size()) + ':' +
             e.exempt_reason.th + std::to_string(e.exempt_reason.en.size()) + ':' +
             e.exempt_reason.en + ';';
    }
    return out;
  }

  // The index of `agency`'s profile in `profiles`, resolving it the first time.
  uint32_t ProfileOf(const std::string& agency) const {
    const bool named = named_agencies.count(agency) > 0;
    if (!named && shared_profile) return *shared_profile;
    if (named) {
      auto it = profile_of_agency.find(agency);
      if (it != profile_of_agency.end()) return it->second;
    }
    std::vector<uint32_t> under = RulesOf(agency);
    uint32_t index = 0;
    if (auto known = profile_of_rules.find(under); known != profile_of_rules.end()) {
      index = known->second;
    } else {
      std::vector<ResolvedEntry> entries = ResolveEntries(under);
      const auto [found, added] = profile_by_signature.emplace(
          ProfileSignature(entries), static_cast<uint32_t>(profiles.size()));
      index = found->second;
      if (added) profiles.push_back(std::move(entries));
      profile_of_rules.emplace(std::move(under), index);
    }
    if (named)
      profile_of_agency.emplace(agency, index);
    else
      shared_profile = index;
    return index;
  }

  const std::vector<ResolvedEntry>& Resolve(const std::string& agency) const {
    return profiles[ProfileOf(agency)];
  }

  // ---- scoring ----

  double ScoreLevels(const CompiledCriteria& c, double result, int* level, Trace* trace,
                     bool* computable) {
    const double sign = c.direction == Direction::kLowerIsBetter ? -1.0 : 1.0;
    struct Point {
      int level;
      double target;  // multiplied by sign, so that higher is always better
      double points;
      bool strict;
    };
    Point points[kMaxLevels];
    size_t n = 0;
    for (size_t i = 0; i < c.targets.size() && i < kMaxLevels; ++i) {
      const CompiledTarget& t = c.targets[i];
      if (!t.present) {
        if (trace)
          trace->push_back({.kind = TraceKind::kTargetMissing, .level = static_cast<int>(i)});
        continue;
      }
      const double value = t.expression.Evaluate();
      if (std::isnan(value)) {
        if (trace)
          trace->push_back({.kind = TraceKind::kNotComputable,
                            .level = static_cast<int>(i),
                            .text = t.expression.text()});
        *computable = false;
        return 0;
      }
      if (trace) {
        trace->push_back({.kind = TraceKind::kTarget,
                          .level = static_cast<int>(i),
                          .flag = t.strict,
                          .text = t.expression.constant() ? "" : t.expression.text(),
                          .value = value});
      }
      double signed_target = sign * value;
      bool strict = t.strict;
      if (n > 0) {
        const Point& prev = points[n - 1];
        const bool out_of_order =
            signed_target < prev.target || (signed_target == prev.target && prev.strict && !strict);
        if (out_of_order) {
          if (framework.disordered_targets == DisorderedTargets::kSkip) {
            if (trace)
              trace->push_back({.kind = TraceKind::kTargetSkipped,
                                .level = static_cast<int>(i),
                                .value = value});
            continue;
          }
          if (trace) {
            trace->push_back({.kind = TraceKind::kTargetRaised,
                              .level = static_cast<int>(i),
                              .value = value,
                              .value2 = sign * prev.target});
          }
          signed_target = prev.target;
          strict = prev.strict;
        }
      }
      points[n++] = {static_cast<int>(i), signed_target, framework.levels[i].points, strict};
    }
    if (n == 0) return 0;
    const double r = sign * result;
    // Targets are in order now (raised or skipped above), so the levels reached are a prefix:
    // count them without branching, as results fall unpredictably between targets.
    int reached = -1;
    for (size_t j = 0; j < n; ++j) {
      reached += static_cast<int>(points[j].strict ? r > points[j].target : r >= points[j].target);
    }
    if (reached == static_cast<int>(n) - 1) {
      const Point& top = points[n - 1];
      *level = top.level;
      if (trace)
        trace->push_back({.kind = TraceKind::kTopReached,
                          .level = top.level,
                          .value = sign * top.target,
                          .value2 = top.points});
      return top.points;
    }
    if (reached >= 0) {
      const Point& lo = points[static_cast<size_t>(reached)];
      const Point& hi = points[static_cast<size_t>(reached) + 1];
      *level = lo.level;
      if (c.scoring == LevelScoring::kStep || hi.strict) {
        if (trace)
          trace->push_back(
              {.kind = TraceKind::kStepReached, .level = lo.level, .value = lo.points});
        return lo.points;
      }
      const double score =
          lo.points + (r - lo.target) / (hi.target - lo.target) * (hi.points - lo.points);
      if (trace) {
        trace->push_back({.kind = TraceKind::kInterpolated,
                          .level = lo.level,
                          .level2 = hi.level,
                          .value = result,
                          .value2 = sign * lo.target,
                          .value3 = lo.points,
                          .value4 = sign * hi.target,
                          .value5 = hi.points,
                          .value6 = score});
      }
      return score;
    }
    *level = -1;
    const BelowBasic& below = c.below_basic ? *c.below_basic : framework.below_basic;
    const Point& basic = points[0];
    // The segment that ends at a strict basic target is a step, like any segment ending at one.
    if (below.rule == BelowBasic::Rule::kZero || c.scoring == LevelScoring::kStep || basic.strict) {
      if (trace)
        trace->push_back(
            {.kind = TraceKind::kBelowBasic, .value = result, .value2 = sign * basic.target});
      return 0;
    }
    const double zero = sign * below.zero_point;
    double score = 0;
    if (basic.target > zero && r > zero) score = basic.points * (r - zero) / (basic.target - zero);
    if (trace) {
      trace->push_back({.kind = TraceKind::kBelowBasic,
                        .flag = true,
                        .value = result,
                        .value2 = sign * basic.target,
                        .value3 = below.zero_point,
                        .value6 = score});
    }
    return score;
  }

  double LevelPoints(int level) const {
    return level >= 0 ? framework.levels[static_cast<size_t>(level)].points : 0.0;
  }

  // The score under `c`; sets *computable to false when an input needed is missing.
  double ScoreCriteria(const CompiledCriteria& c, double result, KpiScore& out, Trace* trace,
                       bool* computable) {
    switch (c.form) {
      case CriteriaForm::kLevels:
        return ScoreLevels(c, result, &out.level, trace, computable);
      case CriteriaForm::kMilestones: {
        int reached = -1;
        for (size_t i = 0; i < c.milestones.size(); ++i) {
          bool all = true;
          for (const auto& m : c.milestones[i]) {
            const Milestone& milestone = *m.milestone;
            bool passed = scratch[static_cast<size_t>(m.slot)] >= 0.5;
            TraceStep step{.kind = TraceKind::kMilestone,
                           .level = static_cast<int>(i),
                           .id = milestone.variable,
                           .name = milestone.text};
            if (m.date_slot >= 0) {
              // Reached late, or without the date it was reached, it does not count.
              const double reached_on = scratch[static_cast<size_t>(m.date_slot)];
              const double due = static_cast<double>(*milestone.due);
              step.flag2 = true;
              step.value = due;
              step.value2 = reached_on;
              if (!passed) {
                step.detail = "not_reached";
              } else if (std::isnan(reached_on)) {
                step.detail = "no_date";
                passed = false;
              } else if (reached_on > due) {
                step.detail = "late";
                passed = false;
              } else {
                step.detail = "on_time";
              }
            }
            all = all && passed;
            step.flag = passed;
            if (trace) trace->push_back(std::move(step));
          }
          if (all && !c.milestones[i].empty())
            reached = static_cast<int>(i);
          else if (c.cumulative)
            break;
        }
        out.level = reached;
        const double score = LevelPoints(reached);
        if (trace)
          trace->push_back({.kind = TraceKind::kStepReached, .level = reached, .value = score});
        return score;
      }
      case CriteriaForm::kPoints: {
        std::vector<char> met(c.items.size(), 0);
        double sum = 0;
        for (size_t i = 0; i < c.items.size(); ++i) {
          const auto& item = c.items[i];
          const double v = item.condition.Evaluate();
          const bool holds = !std::isnan(v) && v != 0;
          bool prerequisites = true;
          for (size_t req : item.prerequisites) prerequisites = prerequisites && met[req];
          met[i] = holds && prerequisites;
          if (met[i]) sum += item.item->points;
          if (trace) {
            trace->push_back({.kind = TraceKind::kPointsItem,
                              .flag = static_cast<bool>(met[i]),
                              .flag2 = holds && !prerequisites,
                              .id = item.item->id,
                              .name = item.item->text,
                              .value = item.item->points});
          }
        }
        const double top = framework.levels.empty() ? 100.0 : framework.levels.back().points;
        const double score = std::clamp(sum, 0.0, top);
        for (size_t l = 0; l < framework.levels.size(); ++l) {
          if (score >= framework.levels[l].points) out.level = static_cast<int>(l);
        }
        return score;
      }
      case CriteriaForm::kConditions: {
        int reached = -1;
        for (size_t i = 0; i < c.conditions.size(); ++i) {
          if (!c.conditions[i]) {
            if (trace)
              trace->push_back({.kind = TraceKind::kTargetMissing, .level = static_cast<int>(i)});
            continue;
          }
          const double v = c.conditions[i]->Evaluate();
          const bool holds = !std::isnan(v) && v != 0;
          if (holds) reached = static_cast<int>(i);
          if (trace) {
            trace->push_back({.kind = TraceKind::kCondition,
                              .level = static_cast<int>(i),
                              .flag = holds,
                              .text = c.conditions[i]->text()});
          }
        }
        out.level = reached;
        const double score = LevelPoints(reached);
        if (trace)
          trace->push_back({.kind = TraceKind::kStepReached, .level = reached, .value = score});
        return score;
      }
      case CriteriaForm::kGroups: {
        const double by = c.by->Evaluate();
        if (std::isnan(by)) {
          if (trace) trace->push_back({.kind = TraceKind::kNotComputable, .text = c.by->text()});
          *computable = false;
          return 0;
        }
        for (const auto& g : c.groups) {
          if (!g.group->range.Contains(by)) continue;
          out.group = g.group->id;
          if (trace) {
            trace->push_back({.kind = TraceKind::kGroupChosen,
                              .id = g.group->id,
                              .text = c.by->text(),
                              .detail = g.group->range.ToString(),
                              .name = g.group->name,
                              .value = by});
          }
          return ScoreCriteria(*g.criteria, result, out, trace, computable);
        }
        if (trace)
          trace->push_back({.kind = TraceKind::kNoGroup, .text = c.by->text(), .value = by});
        *computable = false;
        return 0;
      }
    }
    return 0;
  }

  // Clears `out` for scoring `ck` again, keeping its memory.
  static void Reset(KpiScore& out, const CompiledKpi& ck) {
    if (out.kpi != ck.kpi->id) out.kpi = ck.kpi->id;  // usually the same KPI as last agency's
    out.status = KpiStatus::kMissing;
    out.result = kNaN;
    out.score = 0;
    out.weight = 0;
    out.weighted = 0;
    out.level = -1;
    out.group.clear();
    out.sub_kpis.clear();
    out.trace.clear();
  }

  // Scores `ck` from the scratch buffer (already holding the agency's row) into `out`.
  void ScoreKpiInto(const CompiledKpi& ck, const CompiledCriteria* override_criteria, bool explain,
                    KpiScore& out) {
    Reset(out, ck);
    Trace* trace = explain ? &out.trace : nullptr;
    if (!ck.in_round) {
      out.status = KpiStatus::kExempt;
      if (trace)
        trace->push_back({.kind = TraceKind::kNotInRound, .value = static_cast<double>(round)});
      return;
    }
    if (!ck.subs.empty()) {
      bool any = false;
      double score = 0;
      for (const CompiledKpi& sub : ck.subs) {
        KpiScore s;
        ScoreKpiInto(sub, nullptr, explain, s);
        s.weight = sub.kpi->weight_in_parent;
        s.weighted = s.score * s.weight / 100.0;
        any = any || s.status == KpiStatus::kScored;
        score += s.weighted;
        if (trace) {
          trace->push_back({.kind = TraceKind::kSubKpi,
                            .id = sub.kpi->id,
                            .value = s.score,
                            .value2 = s.weight,
                            .value3 = s.weighted});
        }
        out.sub_kpis.push_back(std::move(s));
      }
      out.score = score;
      out.status = any ? KpiStatus::kScored : KpiStatus::kMissing;
      if (ck.kpi->monitoring_only) out.status = KpiStatus::kMonitoring;
      return;
    }
    for (int slot : ck.optional_slots) {
      double& v = scratch[static_cast<size_t>(slot)];
      if (std::isnan(v)) v = 0;
    }
    const CompiledCriteria* criteria = override_criteria ? override_criteria : ck.criteria.get();
    const auto& required =
        criteria && !ck.kpi->monitoring_only ? criteria->required : ck.required_without_criteria;
    for (const RequiredInput& input : required) {
      for (int e = 0; e < input.run.length; ++e) {
        if (std::isnan(scratch[static_cast<size_t>(input.run.first + e)])) {
          out.status = ck.kpi->monitoring_only ? KpiStatus::kMonitoring : KpiStatus::kMissing;
          if (trace)
            trace->push_back({.kind = TraceKind::kMissing,
                              .id = input.name,
                              .text = input.is_reference ? "baseline" : ""});
          return;
        }
      }
    }
    for (const auto& [slot, expression] : ck.derived)
      scratch[static_cast<size_t>(slot)] = expression.Evaluate();
    if (ck.result) {
      out.result = ck.result->Evaluate();
      if (trace)
        trace->push_back({.kind = TraceKind::kResult, .text = ck.kpi->result, .value = out.result});
      if (std::isnan(out.result)) {
        if (trace) trace->push_back({.kind = TraceKind::kNotComputable, .text = ck.result->text()});
        out.status = ck.kpi->monitoring_only ? KpiStatus::kMonitoring : KpiStatus::kMissing;
        return;
      }
    }
    if (ck.kpi->monitoring_only) {
      out.status = KpiStatus::kMonitoring;
      if (trace) trace->push_back({.kind = TraceKind::kMonitoring});
      return;
    }
    bool computable = true;
    const double score = ScoreCriteria(*criteria, out.result, out, trace, &computable);
    if (!computable) {
      out.status = KpiStatus::kMissing;
      out.score = 0;
      out.level = -1;
      return;
    }
    out.status = KpiStatus::kScored;
    out.score = score;
    return;
  }

  // Scores the agency whose values are `row` into `out`, reusing `out`'s memory.
  void ScoreRowInto(const double* row, uint32_t profile, const Agency& agency, bool explain,
                    AgencyScore& out) {
    if (out.agency != agency.code) out.agency = agency.code;
    out.total = 0;
    out.scored_weight = 0;
    out.grade = -1;
    out.components.clear();
    const std::vector<ResolvedEntry>& entries = profiles[profile];
    std::copy(row, row + slot_count, scratch.begin());
    component_slot.assign(components.size(), -1);
    out.kpis.resize(entries.size());
    double sum = 0;
    for (size_t e = 0; e < entries.size(); ++e) {
      const ResolvedEntry& entry = entries[e];
      const CompiledKpi& ck = kpis[entry.kpi_index];
      KpiScore& ks = out.kpis[e];
      if (entry.exempt) {
        Reset(ks, ck);
        ks.status = KpiStatus::kExempt;
        if (explain) ks.trace.push_back({.kind = TraceKind::kExempt, .name = entry.exempt_reason});
      } else {
        ScoreKpiInto(ck, entry.criteria, explain, ks);
      }
      ks.weight = ks.status == KpiStatus::kMonitoring ? 0 : entry.weight;
      if (ks.status != KpiStatus::kScored && ks.status != KpiStatus::kMissing) continue;
      ks.weighted = ks.score * ks.weight / 100.0;
      sum += ks.weighted;
      out.scored_weight += ks.weight;
      if (explain) {
        ks.trace.push_back({.kind = TraceKind::kWeight,
                            .value = ks.score,
                            .value2 = ks.weight,
                            .value3 = ks.weighted});
      }
      int& slot = component_slot[ck.component];
      if (slot < 0) {
        slot = static_cast<int>(out.components.size());
        out.components.push_back({components[ck.component].id, components[ck.component].share, 0});
      }
      out.components[static_cast<size_t>(slot)].weighted += ks.weighted;
    }
    // Exact when nothing is exempt: the weights then add up to 100 and no rescaling happens.
    if (out.scored_weight <= 0)
      out.total = kNaN;
    else if (out.scored_weight == 100.0)
      out.total = sum;
    else
      out.total = sum * 100.0 / out.scored_weight;
    out.grade = Grade(out.total);
  }

  // The grade band of `total`, judged on the total as published (rounded to the framework's
  // decimals) so that the grade agrees with the figure shown. Formatting is needed only when the
  // total is within rounding distance of a band's edge.
  int Grade(double total) const {
    if (std::isnan(total)) return -1;
    double judged = total;
    // Rounding to d decimals moves a total by at most half of 10^-d: only closer to an edge
    // than that can the rounded figure fall on the other side of it.
    const double window = std::pow(10.0, -framework.decimals.total);
    for (const GradeBand& band : framework.grades) {
      if (std::fabs(total - band.min_total) < window) {
        judged = std::stod(FormatDecimal(total, framework.decimals.total));
        break;
      }
    }
    for (size_t g = 0; g < framework.grades.size(); ++g) {
      if (judged >= framework.grades[g].min_total) return static_cast<int>(g);
    }
    return -1;
  }

  std::vector<int> component_slot;  // per component: its index in the agency's output, or -1
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

const Framework& Engine::framework() const { return impl_->framework; }

Result<Engine> Engine::Compile(const Framework& framework, int round) {
  auto impl = std::make_unique<Impl>();
  impl->framework = framework;
  impl->round = round;
  Framework& fw = impl->framework;
  if (fw.levels.empty() || fw.levels.size() > kMaxLevels) {
    return Status::InvalidInput("กรอบการประเมินต้องมี 1–10 ระดับ", "the framework needs 1–10 levels");
  }
  std::stable_sort(fw.grades.begin(), fw.grades.end(), [](const GradeBand& a, const GradeBand& b) {
    return a.min_total > b.min_total;
  });
  std::map<const Variable*, SlotRun> derived_runs;
  impl->kpis.resize(fw.kpis.size());
  std::set<std::string> ids;
  for (size_t i = 0; i < fw.kpis.size(); ++i) {
    Status s = impl->AllocateSlots(fw.kpis[i], impl->kpis[i], derived_runs);
    if (!s.ok()) return At(s, "/kpis/" + std::to_string(i));
  }
  std::function<Status(const std::vector<Kpi>&)> unique_ids =
      [&](const std::vector<Kpi>& list) -> Status {
    for (const Kpi& k : list) {
      if (!ids.insert(k.id).second) {
        return Status::InvalidInput("รหัสตัวชี้วัด \"" + k.id + "\" ซ้ำ",
                                    "KPI id \"" + k.id + "\" appears twice");
      }
      Status s = unique_ids(k.sub_kpis);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  };
  Status unique = unique_ids(fw.kpis);
  if (!unique.ok()) return unique;
  impl->components = fw.components;
  for (size_t i = 0; i < fw.kpis.size(); ++i) {
    auto& list = impl->components;
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const Component& c) { return c.id == fw.kpis[i].component; });
    if (it == list.end()) {
      list.push_back({fw.kpis[i].component, {}, 0});
      it = list.end() - 1;
    }
    impl->kpis[i].component = static_cast<size_t>(it - list.begin());
  }
  // The buffer never grows after this, so the compiled formulas' pointers into it stay valid.
  impl->scratch.assign(static_cast<size_t>(impl->slot_count), kNaN);
  for (size_t i = 0; i < fw.kpis.size(); ++i) {
    Status s = impl->CompileKpi(fw.kpis[i], impl->kpis[i], derived_runs);
    if (!s.ok()) return At(s, "/kpis/" + std::to_string(i));
  }
  Status rules = impl->CompileRules();
  if (!rules.ok()) return rules;
  return Engine(std::move(impl));
}

Engine::Matrix Engine::Layout(const std::vector<Agency>& agencies,
                              const std::vector<Observation>& observations) const {
  Matrix m;
  m.rows_ = agencies.size();
  m.width_ = static_cast<size_t>(impl_->slot_count);
  m.values_.assign(m.rows_ * m.width_, kNaN);
  std::unordered_map<std::string, size_t> row_of;
  row_of.reserve(agencies.size());
  m.profiles_.resize(agencies.size());
  for (size_t r = 0; r < agencies.size(); ++r) {
    row_of.emplace(agencies[r].code, r);
    m.profiles_[r] = impl_->ProfileOf(agencies[r].code);
  }
  std::string key;
  // An agency's values usually come together: its row is looked up once for them.
  const std::string* agency = nullptr;  // the last value's, whose row is `row`
  auto row = row_of.end();
  for (const Observation& o : observations) {
    if (!agency || o.agency != *agency) row = row_of.find(o.agency);
    agency = &o.agency;
    if (row == row_of.end()) continue;
    SlotKeyInto(o.kpi, o.variable, o.fiscal_year, o.round, key);
    auto run = impl_->data_slots.find(key);
    if (run == impl_->data_slots.end()) continue;
    if (static_cast<int>(o.values.size()) != run->second.length) continue;  // `esar check` says so
    double* dest = m.values_.data() + row->second * m.width_ + run->second.first;
    std::copy(o.values.begin(), o.values.end(), dest);
  }
  return m;
}

AgencyScore Engine::ScoreRow(const Matrix& matrix, size_t row, const Agency& agency, bool explain) {
  AgencyScore out;
  ScoreRowInto(matrix, row, agency, explain, out);
  return out;
}

void Engine::ScoreRowInto(const Matrix& matrix, size_t row, const Agency& agency, bool explain,
                          AgencyScore& out) {
  impl_->ScoreRowInto(matrix.Row(row), matrix.profiles_[row], agency, explain, out);
}

std::vector<AgencyScore> Engine::Score(const std::vector<Agency>& agencies,
                                       const std::vector<Observation>& observations, bool explain) {
  Matrix matrix = Layout(agencies, observations);
  std::vector<AgencyScore> out;
  for (size_t r = 0; r < agencies.size(); ++r) {
    if (impl_->profiles[matrix.profiles_[r]].empty()) continue;
    out.push_back(ScoreRow(matrix, r, agencies[r], explain));
  }
  // Where each baseline taken from an earlier year's result came from, for the explanation.
  if (explain) AnnotateBaselines(*this, observations, out);
  // Which agencies a value computed from other agencies' results counted and left out.
  if (explain) AnnotateFromAgencies(*this, observations, out);
  return out;
}

namespace {
void CollectKpiNames(const CompiledKpi& ck, std::map<std::string, std::set<std::string>>& out) {
  std::set<std::string>& names = out[ck.kpi->id];
  auto add = [&](const Expression& e) {
    names.insert(e.names_used().begin(), e.names_used().end());
  };
  for (const auto& [slot, e] : ck.derived) add(e);
  if (ck.result) add(*ck.result);
  if (ck.criteria) CollectNames(*ck.criteria, names, true);
  for (const CompiledKpi& sub : ck.subs) CollectKpiNames(sub, out);
}
}  // namespace

std::map<std::string, std::set<std::string>> Engine::NamesUsed() const {
  std::map<std::string, std::set<std::string>> out;
  for (const CompiledKpi& ck : impl_->kpis) CollectKpiNames(ck, out);
  for (const CompiledRule& rule : impl_->rules) {
    for (const CompiledRuleEntry& e : rule.entries) {
      if (e.criteria) CollectNames(*e.criteria, out[impl_->kpis[e.kpi_index].kpi->id], true);
    }
  }
  return out;
}

std::set<std::string> Engine::InputsNeeded(const std::string& agency,
                                           const std::string& kpi) const {
  std::set<std::string> out;
  std::function<const CompiledKpi*(const std::vector<CompiledKpi>&)> find =
      [&](const std::vector<CompiledKpi>& list) -> const CompiledKpi* {
    for (const CompiledKpi& ck : list) {
      if (ck.kpi->id == kpi) return &ck;
      if (const CompiledKpi* sub = find(ck.subs)) return sub;
    }
    return nullptr;
  };
  const CompiledKpi* ck = find(impl_->kpis);
  if (!ck) return out;
  const CompiledCriteria* criteria = ck->criteria.get();
  for (const ResolvedEntry& e : impl_->Resolve(agency)) {
    if (&impl_->kpis[e.kpi_index] == ck && e.criteria) criteria = e.criteria;
  }
  const auto& required =
      criteria && !ck->kpi->monitoring_only ? criteria->required : ck->required_without_criteria;
  for (const RequiredInput& input : required) out.insert(input.name);
  return out;
}

std::vector<std::pair<std::string, double>> Engine::AssignedKpis(const std::string& agency) const {
  std::vector<std::pair<std::string, double>> out;
  for (const ResolvedEntry& e : impl_->Resolve(agency)) {
    const CompiledKpi& ck = impl_->kpis[e.kpi_index];
    out.emplace_back(ck.kpi->id, ck.kpi->monitoring_only ? 0.0 : e.weight);
  }
  return out;
}

const KpiScore* FindKpiScore(const std::vector<KpiScore>& scores, const std::string& id) {
  for (const KpiScore& s : scores) {
    if (s.kpi == id) return &s;
    if (const KpiScore* sub = FindKpiScore(s.sub_kpis, id)) return sub;
  }
  return nullptr;
}

}  // namespace esar::domain
