#include "domain/history.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

namespace esar::domain {
namespace {

// (agency, kpi, variable, fiscal year, round): how values are matched to the framework.
using ValueKey = std::tuple<std::string, std::string, std::string, int, int>;

// (agency, key, fiscal year, round).
using PastKey = std::tuple<std::string, std::string, int, int>;

// Every KPI of the framework, sub-KPIs included, with `visit`.
void EachKpi(const std::vector<Kpi>& kpis, const std::function<void(const Kpi&)>& visit) {
  for (const Kpi& k : kpis) {
    visit(k);
    EachKpi(k.sub_kpis, visit);
  }
}

// The reference's year: 0 means the framework's own.
int YearOf(const Framework& fw, const Reference& ref) {
  return ref.fiscal_year == 0 ? fw.fiscal_year : ref.fiscal_year;
}

// The earlier results by (agency, key, year, round), esar's own published ones first.
std::map<PastKey, const PastResult*> IndexPast(const std::vector<PastResult>& past) {
  std::map<PastKey, const PastResult*> out;
  for (const PastResult& p : past) {
    auto [at, fresh] = out.emplace(PastKey{p.agency, p.kpi_key, p.fiscal_year, p.round}, &p);
    if (!fresh && p.source == PastSource::kPublished) at->second = &p;
  }
  return out;
}

}  // namespace

size_t FillBaselines(const Framework& framework, const std::vector<Agency>& agencies,
                     const std::vector<PastResult>& past, std::vector<Observation>& observations,
                     size_t* kept) {
  if (kept) *kept = 0;
  // The references to fill, with the KPI they belong to.
  std::vector<std::pair<const Kpi*, const Reference*>> wanted;
  EachKpi(framework.kpis, [&](const Kpi& kpi) {
    for (const Reference& ref : kpi.references) {
      if (ref.from_result) wanted.push_back({&kpi, &ref});
    }
  });
  if (wanted.empty()) return 0;
  // Only the values these references read are looked up: a round holds many others.
  std::set<std::tuple<std::string, std::string, int, int>> read;  // kpi, variable, year, round
  for (const auto& [kpi, ref] : wanted) {
    read.insert({ref->kpi.empty() ? kpi->id : ref->kpi, ref->variable, YearOf(framework, *ref),
                 ref->round});
  }
  std::set<ValueKey> given;   // the values given
  std::set<ValueKey> filled;  // those filled in here (two references may read the same one)
  for (const Observation& o : observations) {
    if (read.count({o.kpi, o.variable, o.fiscal_year, o.round}))
      given.insert({o.agency, o.kpi, o.variable, o.fiscal_year, o.round});
  }
  const auto index = IndexPast(past);
  size_t added = 0;
  for (const Agency& agency : agencies) {
    for (const auto& [kpi, ref] : wanted) {
      const std::string target = ref->kpi.empty() ? kpi->id : ref->kpi;
      const int year = YearOf(framework, *ref);
      const ValueKey key{agency.code, target, ref->variable, year, ref->round};
      if (given.count(key)) {
        if (kept) ++*kept;  // imported in place of the earlier result
        continue;
      }
      if (filled.count(key)) continue;
      const auto found = index.find({agency.code, ref->from_result->key, year, ref->round});
      if (found == index.end()) continue;
      const std::optional<double>& value =
          ref->from_result->score ? found->second->score : found->second->result;
      if (!value) continue;
      Observation o;
      o.agency = agency.code;
      o.kpi = target;
      o.variable = ref->variable;
      o.fiscal_year = year;
      o.round = ref->round;
      o.values = {*value};
      o.source = found->second->source == PastSource::kPublished ? kFilledFromPublished
                                                                 : kFilledFromImported;
      o.where = found->second->where;
      observations.push_back(std::move(o));
      filled.insert(key);
      ++added;
    }
  }
  return added;
}

void AnnotateBaselines(const Engine& engine, const std::vector<Observation>& observations,
                       std::vector<AgencyScore>& scores) {
  const Framework& fw = engine.framework();
  bool any = false;
  EachKpi(fw.kpis, [&](const Kpi& kpi) {
    for (const Reference& ref : kpi.references) any = any || ref.from_result.has_value();
  });
  if (!any) return;
  // The last value of each key wins, as in scoring.
  std::map<ValueKey, const Observation*> values;
  for (const Observation& o : observations)
    values[{o.agency, o.kpi, o.variable, o.fiscal_year, o.round}] = &o;
  std::function<void(const std::string&, KpiScore&)> annotate = [&](const std::string& agency,
                                                                    KpiScore& score) {
    for (KpiScore& sub : score.sub_kpis) annotate(agency, sub);
    if (score.trace.empty()) return;
    const Kpi* kpi = FindKpi(fw.kpis, score.kpi);
    if (!kpi) return;
    const std::set<std::string> needed = engine.InputsNeeded(agency, kpi->id);
    Trace steps;
    for (const Reference& ref : kpi->references) {
      if (!ref.from_result || !needed.count(ref.name)) continue;
      const std::string target = ref.kpi.empty() ? kpi->id : ref.kpi;
      const auto found = values.find({agency, target, ref.variable, YearOf(fw, ref), ref.round});
      if (found == values.end() || found->second->values.size() != 1) continue;
      TraceStep step;
      step.kind = TraceKind::kBaseline;
      step.id = ref.name;
      step.value = found->second->values.front();
      step.level = YearOf(fw, ref);
      step.level2 = ref.round;
      step.text = found->second->source;
      step.detail = ref.from_result->key;
      step.flag = ref.from_result->score;
      steps.push_back(std::move(step));
    }
    score.trace.insert(score.trace.begin(), steps.begin(), steps.end());
  };
  for (AgencyScore& a : scores) {
    for (KpiScore& k : a.kpis) annotate(a.agency, k);
  }
}

std::vector<PastResult> HistoryOf(const std::vector<PastResult>& past, const std::string& agency,
                                  const std::string& key) {
  std::vector<PastResult> all;
  for (const PastResult& p : past) {
    if (p.agency == agency && p.kpi_key == key) all.push_back(p);
  }
  const auto index = IndexPast(all);
  std::vector<PastResult> out;
  for (const auto& [k, p] : index) out.push_back(*p);
  std::sort(out.begin(), out.end(), [](const PastResult& a, const PastResult& b) {
    return std::tie(a.fiscal_year, a.round) < std::tie(b.fiscal_year, b.round);
  });
  return out;
}

}  // namespace esar::domain
