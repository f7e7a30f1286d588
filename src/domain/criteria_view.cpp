#include "domain/criteria_view.h"

#include "domain/expression.h"

namespace esar::domain {
namespace {

constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// The known values as one slot buffer, so that each formula compiles against them alone.
class KnownScope {
 public:
  explicit KnownScope(const std::map<std::string, double>& known) {
    slots_.reserve(known.size());
    for (const auto& [name, value] : known) {
      scope_.AddScalar(name, static_cast<int>(slots_.size()));
      slots_.push_back(value);
    }
  }

  double Evaluate(const std::string& formula) {
    auto compiled = Expression::Compile(formula, scope_, slots_.data());
    return compiled ? compiled->Evaluate() : kUnknown;
  }

 private:
  Scope scope_;
  std::vector<double> slots_;
};

}  // namespace

AgencyCriteria ResolveForAgency(const Criteria& criteria,
                                const std::map<std::string, double>& known) {
  AgencyCriteria out;
  KnownScope scope(known);
  const Criteria* at = &criteria;
  while (at != nullptr && at->form == CriteriaForm::kGroups) {
    AgencyCriteria::Choice choice{.by = at->groups.by, .value = scope.Evaluate(at->groups.by)};
    const Criteria* next = nullptr;
    if (!std::isnan(choice.value)) {
      // The first group whose range holds the value, as the engine chooses.
      for (const Group& g : at->groups.groups) {
        if (g.range.Contains(choice.value)) {
          choice.group = &g;
          next = g.criteria.get();
          break;
        }
      }
    }
    out.choices.push_back(choice);
    at = next;
  }
  out.criteria = at;
  if (at != nullptr && at->form == CriteriaForm::kLevels) {
    for (const Target& t : at->levels.targets) {
      out.targets.push_back(t.present ? scope.Evaluate(t.expression) : kUnknown);
    }
  }
  return out;
}

std::map<std::string, double> KnownReferences(const Kpi& kpi, const std::string& agency,
                                              int fiscal_year,
                                              const std::vector<Observation>& observations) {
  std::map<std::string, double> known;
  for (const Reference& r : kpi.references) {
    const std::string& of_kpi = r.kpi.empty() ? kpi.id : r.kpi;
    const int year = r.fiscal_year == 0 ? fiscal_year : r.fiscal_year;
    for (const Observation& o : observations) {
      if (o.agency == agency && o.kpi == of_kpi && o.variable == r.variable &&
          o.fiscal_year == year && o.round == r.round && o.values.size() == 1) {
        known[r.name] = o.values[0];
        break;
      }
    }
  }
  return known;
}

std::optional<NameLabel> LabelOfName(const Framework& framework, const Kpi& kpi,
                                     const std::string& name) {
  for (const Reference& r : kpi.references) {
    if (r.name != name) continue;
    const int year = r.fiscal_year == 0 ? framework.fiscal_year : r.fiscal_year;
    const bool other_year = year != framework.fiscal_year;
    const LocalizedText of_year{other_year ? " ปี " + std::to_string(year) : "",
                                other_year ? " in FY" + std::to_string(year) : ""};
    if (r.from_result && r.from_result->score) {
      return NameLabel{{"คะแนนตัวชี้วัด" + of_year.th, "the KPI's score" + of_year.en},
                       {"คะแนน", "points"}};
    }
    const Kpi* of = FindKpi(framework.kpis, r.kpi.empty() ? kpi.id : r.kpi);
    if (of == nullptr) break;
    for (const Variable& v : of->variables) {
      if (v.id == r.variable) {
        if (v.name.empty()) break;
        return NameLabel{{v.name.th + of_year.th, v.name.en + of_year.en}, v.unit};
      }
    }
  }
  for (const Variable& v : kpi.variables) {
    if (v.id == name && !v.name.empty()) return NameLabel{v.name, v.unit};
  }
  return std::nullopt;
}

}  // namespace esar::domain
