#include "domain/from_agencies.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

namespace esar::domain {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void EachKpi(const std::vector<Kpi>& kpis, const std::function<void(const Kpi&)>& visit) {
  for (const Kpi& k : kpis) {
    visit(k);
    EachKpi(k.sub_kpis, visit);
  }
}

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool Matches(const AgencySelector& set, const std::string& code, const std::string& kind,
             const std::string& parent) {
  if (!set.kinds.empty() && !Contains(set.kinds, kind)) return false;
  if (!set.parents.empty() && !Contains(set.parents, parent)) return false;
  if (!set.codes.empty() && !Contains(set.codes, code)) return false;
  return true;
}

bool ByLevel(const FromAgencies& rule) {
  return rule.level > 0;
}

bool Reached(const FromAgencies& rule, const PeerResult& r) {
  if (ByLevel(rule)) return r.level >= rule.level;
  if (std::isnan(r.result)) return false;
  if (rule.at_least && !(r.result >= *rule.at_least)) return false;
  if (rule.at_most && !(r.result <= *rule.at_most)) return false;
  return true;
}

bool Counts(PeerMeasure m) {
  return m == PeerMeasure::kShare || m == PeerMeasure::kCount;
}

json NumberOrNull(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

double NumberOrNaN(const json& v) {
  return v.is_number() ? v.get<double>() : kNaN;
}

// The KPI ids of this framework whose scores a rule reading `key` depends on: the KPI with that
// key, its sub-KPIs, and (transitively) the KPIs their references read in the current year.
std::set<std::string> ReadIds(const Framework& fw, const std::string& key) {
  std::set<std::string> out;
  const Kpi* start = FindKpiByKey(fw.kpis, key);
  if (!start) return out;
  std::vector<const Kpi*> todo = {start};
  while (!todo.empty()) {
    const Kpi* k = todo.back();
    todo.pop_back();
    if (!out.insert(k->id).second) continue;
    for (const Kpi& sub : k->sub_kpis) todo.push_back(&sub);
    for (const Reference& ref : k->references) {
      if (ref.kpi.empty() || (ref.fiscal_year != 0 && ref.fiscal_year != fw.fiscal_year)) continue;
      if (const Kpi* other = FindKpi(fw.kpis, ref.kpi)) todo.push_back(other);
    }
  }
  return out;
}

// (agency, kpi key) -> result, the later entries replacing the earlier.
using ResultIndex = std::map<std::pair<std::string, std::string>, PeerResult>;

void CollectOwn(const Framework& fw, const std::set<std::string>& keys,
                const std::vector<Agency>& agencies, const std::vector<AgencyScore>& scores,
                ResultIndex& index) {
  std::unordered_map<std::string, const Agency*> agency_of;
  for (const Agency& a : agencies) agency_of.emplace(a.code, &a);
  std::function<void(const AgencyScore&, const KpiScore&)> visit = [&](const AgencyScore& a,
                                                                        const KpiScore& k) {
    const Kpi* kpi = FindKpi(fw.kpis, k.kpi);
    if (kpi && !kpi->key.empty() && keys.count(kpi->key)) {
      PeerResult r;
      r.agency = a.agency;
      const auto found = agency_of.find(a.agency);
      if (found != agency_of.end()) {
        r.kind = found->second->kind;
        r.parent = found->second->parent;
      }
      r.kpi_key = kpi->key;
      r.status = k.status;
      r.result = k.result;
      r.level = k.level + 1;
      index[{r.agency, r.kpi_key}] = std::move(r);
    }
    for (const KpiScore& sub : k.sub_kpis) visit(a, sub);
  };
  for (const AgencyScore& a : scores) {
    for (const KpiScore& k : a.kpis) visit(a, k);
  }
}

}  // namespace

PeerComputation ComputeFromAgencies(const FromAgencies& rule, const std::vector<Agency>& directory,
                                    const std::vector<PeerResult>& results) {
  PeerComputation out;
  std::map<std::string, const PeerResult*> by_agency;  // the last result of each agency
  for (const PeerResult& r : results) {
    if (r.kpi_key == rule.key && Matches(rule.agencies, r.agency, r.kind, r.parent))
      by_agency[r.agency] = &r;
  }
  if (!rule.agencies.Empty()) {
    for (const Agency& a : directory) {
      if (!by_agency.count(a.code) && Matches(rule.agencies, a.code, a.kind, a.parent)) {
        out.left_out.push_back({a.code, kNaN, 0, false, "no_result"});
      }
    }
  }
  size_t reached = 0;
  double sum = 0, lo = kNaN, hi = kNaN;
  for (const auto& [code, r] : by_agency) {
    PeerEntry e{code, r->result, r->level, false, ""};
    if (r->status == KpiStatus::kExempt) {
      e.reason = "exempt";
    } else if (r->status == KpiStatus::kMonitoring && Counts(rule.measure) && ByLevel(rule)) {
      e.reason = "monitoring";
    } else if (!Counts(rule.measure) && std::isnan(r->result)) {
      e.reason = "missing";
    }
    if (!e.reason.empty()) {
      out.left_out.push_back(std::move(e));
      continue;
    }
    if (Counts(rule.measure)) {
      e.reached = Reached(rule, *r);
      reached += e.reached ? 1 : 0;
    } else {
      sum += r->result;
      lo = std::isnan(lo) ? r->result : std::min(lo, r->result);
      hi = std::isnan(hi) ? r->result : std::max(hi, r->result);
    }
    out.counted.push_back(std::move(e));
  }
  std::sort(out.left_out.begin(), out.left_out.end(),
            [](const PeerEntry& a, const PeerEntry& b) { return a.agency < b.agency; });
  const double n = static_cast<double>(out.counted.size());
  switch (rule.measure) {
    case PeerMeasure::kShare:
      out.value = n > 0 ? static_cast<double>(reached) / n * 100.0 : kNaN;
      break;
    case PeerMeasure::kCount:
      out.value = static_cast<double>(reached);
      break;
    case PeerMeasure::kAverage:
      out.value = n > 0 ? sum / n : kNaN;
      break;
    case PeerMeasure::kSum:
      out.value = sum;
      break;
    case PeerMeasure::kMin:
      out.value = lo;
      break;
    case PeerMeasure::kMax:
      out.value = hi;
      break;
  }
  return out;
}

std::string EncodePeerSource(const FromAgencies& rule, const PeerComputation& c) {
  json counted = json::array();
  for (const PeerEntry& e : c.counted)
    counted.push_back({e.agency, NumberOrNull(e.result), e.level, e.reached ? 1 : 0});
  json left = json::array();
  for (const PeerEntry& e : c.left_out) left.push_back({e.agency, e.reason});
  json rule_json = {{"key", rule.key}, {"measure", PeerMeasureName(rule.measure)}};
  if (rule.level > 0) rule_json["level"] = rule.level;
  if (rule.at_least) rule_json["at_least"] = *rule.at_least;
  if (rule.at_most) rule_json["at_most"] = *rule.at_most;
  return json({{"from_agencies", {{"rule", rule_json},
                                  {"value", NumberOrNull(c.value)},
                                  {"counted", counted},
                                  {"left_out", left}}}})
      .dump();
}

std::optional<PeerComputation> DecodePeerSource(const std::string& source, FromAgencies* rule) {
  if (source.rfind("{\"from_agencies\"", 0) != 0) return std::nullopt;
  const json j = json::parse(source, nullptr, false);
  if (!j.is_object() || !j.contains("from_agencies")) return std::nullopt;
  const json& f = j["from_agencies"];
  if (!f.is_object() || !f.contains("counted") || !f["counted"].is_array() ||
      !f.contains("left_out") || !f["left_out"].is_array())
    return std::nullopt;
  PeerComputation c;
  c.value = NumberOrNaN(f.value("value", json()));
  if (rule) {
    const json r = f.value("rule", json::object());
    if (!r.is_object()) return std::nullopt;
    *rule = FromAgencies{};
    rule->key = r.value("key", "");
    const std::string measure = r.value("measure", "share");
    for (const PeerMeasure m : {PeerMeasure::kShare, PeerMeasure::kCount, PeerMeasure::kAverage,
                                PeerMeasure::kSum, PeerMeasure::kMin, PeerMeasure::kMax}) {
      if (measure == PeerMeasureName(m)) rule->measure = m;
    }
    if (r.contains("level") && r["level"].is_number_integer()) rule->level = r["level"].get<int>();
    if (r.contains("at_least") && r["at_least"].is_number()) rule->at_least = r["at_least"].get<double>();
    if (r.contains("at_most") && r["at_most"].is_number()) rule->at_most = r["at_most"].get<double>();
  }
  for (const json& e : f["counted"]) {
    if (!e.is_array() || e.size() != 4 || !e[0].is_string() || !e[2].is_number_integer())
      return std::nullopt;
    c.counted.push_back({e[0].get<std::string>(), NumberOrNaN(e[1]), e[2].get<int>(),
                         e[3] == 1, ""});
  }
  for (const json& e : f["left_out"]) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_string())
      return std::nullopt;
    c.left_out.push_back({e[0].get<std::string>(), kNaN, 0, false, e[1].get<std::string>()});
  }
  return c;
}

bool HasFromAgencies(const Framework& framework) {
  bool any = false;
  EachKpi(framework.kpis, [&](const Kpi& k) { any = any || k.from_agencies.has_value(); });
  return any;
}

Result<std::vector<const Kpi*>> FromAgenciesOrder(const Framework& fw) {
  std::vector<const Kpi*> rules;
  EachKpi(fw.kpis, [&](const Kpi& k) {
    if (k.from_agencies) rules.push_back(&k);
  });
  // Edges: rule -> the rules among the KPIs it reads in this framework.
  std::map<const Kpi*, std::vector<const Kpi*>> reads;
  for (const Kpi* r : rules) {
    const std::set<std::string> ids = ReadIds(fw, r->from_agencies->key);
    for (const Kpi* other : rules) {
      if (ids.count(other->id)) reads[r].push_back(other);
    }
  }
  std::vector<const Kpi*> order;
  std::map<const Kpi*, int> state;  // 0 unseen, 1 on the path, 2 done
  std::vector<const Kpi*> path;
  std::optional<std::vector<const Kpi*>> cycle;
  std::function<void(const Kpi*)> visit = [&](const Kpi* k) {
    if (cycle || state[k] == 2) return;
    if (state[k] == 1) {
      const auto from = std::find(path.begin(), path.end(), k);
      cycle.emplace(from, path.end());
      cycle->push_back(k);
      return;
    }
    state[k] = 1;
    path.push_back(k);
    for (const Kpi* next : reads[k]) visit(next);
    path.pop_back();
    state[k] = 2;
    if (!cycle) order.push_back(k);
  };
  for (const Kpi* r : rules) visit(r);
  if (cycle) {
    std::string words;
    for (const Kpi* k : *cycle) {
      words += (words.empty() ? "" : " → ") + k->id;
    }
    const Kpi* first = cycle->front();
    return Status::InvalidInput(
        "ตัวชี้วัด " + first->id + " คำนวณจากผลของหน่วยงานอื่นเป็นวงวน: " + words +
            " (แต่ละตัวต้องรอผลของตัวถัดไป จึงคำนวณไม่ได้)",
        "KPI " + first->id + " is computed from other agencies' results in a cycle: " + words +
            " (each waits for the next one's results, so none can be computed)");
  }
  return order;
}

Status CheckFromAgenciesAcross(const std::vector<NamedFramework>& frameworks) {
  // Nodes: (framework index, KPI with a rule).
  using Node = std::pair<size_t, const Kpi*>;
  std::vector<Node> rules;
  for (size_t i = 0; i < frameworks.size(); ++i) {
    EachKpi(frameworks[i].framework->kpis, [&](const Kpi& k) {
      if (k.from_agencies) rules.emplace_back(i, &k);
    });
  }
  std::map<Node, std::vector<Node>> reads;
  for (const Node& r : rules) {
    const Framework& own = *frameworks[r.first].framework;
    for (size_t j = 0; j < frameworks.size(); ++j) {
      const Framework& other = *frameworks[j].framework;
      if (other.fiscal_year != own.fiscal_year) continue;
      const std::set<std::string> ids = ReadIds(other, r.second->from_agencies->key);
      if (ids.empty()) continue;
      for (const Node& o : rules) {
        if (o.first == j && ids.count(o.second->id)) reads[r].push_back(o);
      }
    }
  }
  std::map<Node, int> state;  // 0 unseen, 1 on the path, 2 done
  std::vector<Node> path;
  std::optional<std::vector<Node>> cycle;
  std::function<void(const Node&)> visit = [&](const Node& n) {
    if (cycle || state[n] == 2) return;
    state[n] = 1;
    path.push_back(n);
    for (const Node& next : reads[n]) {
      if (cycle) break;
      if (state[next] == 1) {
        std::vector<Node> found(std::find(path.begin(), path.end(), next), path.end());
        found.push_back(next);
        // Only a cycle through two frameworks or more is this check's to report.
        const bool across = std::any_of(found.begin(), found.end(),
                                        [&](const Node& x) { return x.first != next.first; });
        if (across) cycle = std::move(found);
        continue;
      }
      visit(next);
    }
    path.pop_back();
    state[n] = 2;
  };
  for (const Node& r : rules) visit(r);
  if (!cycle) return Status::Ok();
  std::string words;
  for (const Node& n : *cycle) {
    words += (words.empty() ? "" : " → ") + n.second->id + " (" + frameworks[n.first].name + ")";
  }
  const Node& first = cycle->front();
  return Status::InvalidInput(
      "ตัวชี้วัด " + first.second->id + " ของกรอบ " + frameworks[first.first].name +
          " คำนวณจากผลของหน่วยงานอื่นเป็นวงวนข้ามกรอบการประเมินของปีงบประมาณเดียวกัน: " + words +
          " (แต่ละตัวต้องรอผลของตัวถัดไป จึงคำนวณไม่ได้)",
      "KPI " + first.second->id + " of the " + frameworks[first.first].name +
          " framework is computed from other agencies' results in a cycle across the frameworks "
          "of one fiscal year: " +
          words + " (each waits for the next one's results, so none can be computed)");
}

Result<size_t> FillFromAgencies(Engine& engine, int round, const std::vector<Agency>& agencies,
                                const std::vector<PeerResult>& others,
                                std::vector<Observation>& observations) {
  const Framework& fw = engine.framework();
  if (!HasFromAgencies(fw)) return size_t{0};
  auto order = FromAgenciesOrder(fw);
  if (!order) return order.status();
  // The top-level KPI each KPI is under: what assignments name.
  std::map<std::string, std::string> top_of;
  for (const Kpi& top : fw.kpis) {
    EachKpi({top}, [&](const Kpi& k) { top_of[k.id] = top.id; });
  }
  // The agencies assigned each top-level KPI that carries a rule.
  std::map<std::string, std::vector<const Agency*>> assigned;
  std::set<std::string> tops;
  for (const Kpi* k : *order) tops.insert(top_of[k->id]);
  for (const Agency& a : agencies) {
    for (const auto& [kpi, weight] : engine.AssignedKpis(a.code)) {
      if (tops.count(kpi)) assigned[kpi].push_back(&a);
    }
  }
  ResultIndex index;
  for (const PeerResult& r : others) index[{r.agency, r.kpi_key}] = r;
  size_t added = 0;
  std::set<std::string> scored_keys;  // own keys whose results are in `index` as they stand
  for (const Kpi* k : *order) {
    const FromAgencies& rule = *k->from_agencies;
    // This framework's own results of the key, scored now that every rule it depends on is in
    // `observations` (FromAgenciesOrder put those first).
    if (FindKpiByKey(fw.kpis, rule.key) && !scored_keys.count(rule.key)) {
      // Each scoring serves every key not yet read; a later rule's key is scored again only
      // when a rule in between may have changed it.
      std::set<std::string> keys;
      EachKpi(fw.kpis, [&](const Kpi& x) {
        if (!x.key.empty()) keys.insert(x.key);
      });
      const std::vector<AgencyScore> scores = engine.Score(agencies, observations, false);
      CollectOwn(fw, keys, agencies, scores, index);
      scored_keys = keys;
    }
    std::vector<PeerResult> results;
    for (const auto& [at, r] : index) {
      if (at.second == rule.key) results.push_back(r);
    }
    const PeerComputation c = ComputeFromAgencies(rule, agencies, results);
    const std::string source = EncodePeerSource(rule, c);
    std::erase_if(observations, [&](const Observation& o) {
      return o.kpi == k->id && o.variable == rule.variable && o.fiscal_year == fw.fiscal_year &&
             o.round == round;
    });
    for (const Agency* a : assigned[top_of[k->id]]) {
      Observation o;
      o.agency = a->code;
      o.kpi = k->id;
      o.variable = rule.variable;
      o.fiscal_year = fw.fiscal_year;
      o.round = round;
      o.values = {c.value};
      o.source = source;
      observations.push_back(std::move(o));
      ++added;
    }
    // This rule's value may change what its readers' keys score: read them again.
    scored_keys.clear();
  }
  return added;
}

void AnnotateFromAgencies(const Engine& engine, const std::vector<Observation>& observations,
                          std::vector<AgencyScore>& scores) {
  const Framework& fw = engine.framework();
  if (!HasFromAgencies(fw)) return;
  std::map<std::pair<std::string, std::string>, const Observation*> values;  // (agency, kpi)
  std::map<std::string, const Kpi*> rules;
  EachKpi(fw.kpis, [&](const Kpi& k) {
    if (k.from_agencies) rules[k.id] = &k;
  });
  for (const Observation& o : observations) {
    const auto rule = rules.find(o.kpi);
    if (rule == rules.end() || o.variable != rule->second->from_agencies->variable ||
        o.fiscal_year != fw.fiscal_year)
      continue;
    values[{o.agency, o.kpi}] = &o;
  }
  std::function<void(const std::string&, KpiScore&)> annotate = [&](const std::string& agency,
                                                                    KpiScore& score) {
    for (KpiScore& sub : score.sub_kpis) annotate(agency, sub);
    if (score.trace.empty()) return;
    const auto found = values.find({agency, score.kpi});
    if (found == values.end() || !DecodePeerSource(found->second->source)) return;
    TraceStep step;
    step.kind = TraceKind::kFromAgencies;
    step.id = found->second->variable;
    step.value = found->second->values.size() == 1 ? found->second->values.front() : kNaN;
    step.detail = found->second->source;
    score.trace.insert(score.trace.begin(), std::move(step));
  };
  for (AgencyScore& a : scores) {
    for (KpiScore& k : a.kpis) annotate(a.agency, k);
  }
}

}  // namespace esar::domain
