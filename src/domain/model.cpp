#include "domain/model.h"

#include "common/text.h"

namespace esar::domain {

bool Range::Contains(double by) const {
  if (at_least && !(by >= *at_least)) return false;
  if (above && !(by > *above)) return false;
  if (at_most && !(by <= *at_most)) return false;
  if (below && !(by < *below)) return false;
  return true;
}

std::string Range::ToString() const {
  std::string out;
  if (at_least) out += ShortestDecimal(*at_least) + " ≤ ";
  if (above) out += ShortestDecimal(*above) + " < ";
  out += "x";
  if (at_most) out += " ≤ " + ShortestDecimal(*at_most);
  if (below) out += " < " + ShortestDecimal(*below);
  return out;
}

const char* PeerMeasureName(PeerMeasure measure) {
  switch (measure) {
    case PeerMeasure::kShare:
      return "share";
    case PeerMeasure::kCount:
      return "count";
    case PeerMeasure::kAverage:
      return "average";
    case PeerMeasure::kSum:
      return "sum";
    case PeerMeasure::kMin:
      return "min";
    case PeerMeasure::kMax:
      return "max";
  }
  return "share";
}

const Kpi* FindKpi(const std::vector<Kpi>& kpis, const std::string& id) {
  for (const Kpi& kpi : kpis) {
    if (kpi.id == id) return &kpi;
    if (const Kpi* sub = FindKpi(kpi.sub_kpis, id)) return sub;
  }
  return nullptr;
}

std::set<std::string> KpisReadToScore(const std::vector<Kpi>& kpis,
                                      const std::set<std::string>& ids) {
  auto top_level_of = [&](const std::string& id) -> const Kpi* {
    for (const Kpi& kpi : kpis) {
      if (kpi.id == id || FindKpi(kpi.sub_kpis, id)) return &kpi;
    }
    return nullptr;
  };
  std::set<std::string> out;
  std::vector<const Kpi*> wanted;  // top-level KPIs to add with their trees
  for (const std::string& id : ids) {
    if (const Kpi* top = top_level_of(id)) wanted.push_back(top);
  }
  while (!wanted.empty()) {
    const Kpi* top = wanted.back();
    wanted.pop_back();
    if (out.count(top->id)) continue;  // added already (references may run in a circle)
    std::vector<const Kpi*> tree = {top};
    while (!tree.empty()) {
      const Kpi* kpi = tree.back();
      tree.pop_back();
      out.insert(kpi->id);
      for (const Kpi& sub : kpi->sub_kpis) tree.push_back(&sub);
      for (const Reference& ref : kpi->references) {
        if (ref.kpi.empty()) continue;
        if (const Kpi* read = top_level_of(ref.kpi); read && !out.count(read->id)) {
          wanted.push_back(read);
        }
      }
    }
  }
  return out;
}

const Kpi* FindKpiByKey(const std::vector<Kpi>& kpis, const std::string& key) {
  if (key.empty()) return nullptr;
  for (const Kpi& kpi : kpis) {
    if (kpi.key == key) return &kpi;
    if (const Kpi* sub = FindKpiByKey(kpi.sub_kpis, key)) return sub;
  }
  return nullptr;
}

VariableSource SourceOfVariable(const Kpi& kpi, const std::string& variable) {
  if (variable.empty()) return VariableSource::kTyped;
  if (kpi.from_agencies && kpi.from_agencies->variable == variable) {
    return VariableSource::kFromAgencies;
  }
  if (kpi.cases &&
      (kpi.cases->on_time_variable == variable || kpi.cases->counted_variable == variable)) {
    return VariableSource::kCaseLog;
  }
  if (kpi.catalog && (kpi.catalog->datasets_variable == variable ||
                      kpi.catalog->complete_variable == variable ||
                      kpi.catalog->complete_percent_variable == variable)) {
    return VariableSource::kCatalog;
  }
  return VariableSource::kTyped;
}

bool IsValidKpiKey(const std::string& key) {
  if (key.empty() || key.size() > 64 || key[0] < 'a' || key[0] > 'z') return false;
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace esar::domain
