#include "tests/support/framework_builder.h"

#include <gtest/gtest.h>

#include "formats/framework_json.h"

namespace esar::testing {

domain::Framework FrameworkFromJson(const std::string& json) {
  auto fw = formats::ParseFramework(json, "test.json");
  if (!fw) {
    ADD_FAILURE() << fw.status().ToString(false) << "\n" << json;
    return {};
  }
  return std::move(*fw);
}

domain::Framework SingleKpiFramework(const std::string& kpi_json, const std::string& extra) {
  return FrameworkFromJson(
      R"({"fiscal_year": 2567, )" + extra + R"( "kpis": [)" + kpi_json +
      R"(], "assignments": [{"agencies": ["A"], "kpis": [{"kpi": "k", "weight": 100}]}]})");
}

domain::Observation Obs(const std::string& variable, double value, int fiscal_year,
                        const std::string& kpi, const std::string& agency, int round) {
  domain::Observation o;
  o.agency = agency;
  o.kpi = kpi;
  o.variable = variable;
  o.fiscal_year = fiscal_year;
  o.round = round;
  o.values = {value};
  return o;
}

domain::Observation ObsList(const std::string& variable, std::vector<double> values,
                            int fiscal_year, const std::string& kpi, const std::string& agency) {
  domain::Observation o = Obs(variable, 0, fiscal_year, kpi, agency);
  o.values = std::move(values);
  return o;
}

std::vector<domain::AgencyScore> ScoreAll(const domain::Framework& framework,
                                          const std::vector<domain::Observation>& data,
                                          const std::vector<std::string>& agencies, int round) {
  auto engine = domain::Engine::Compile(framework, round);
  if (!engine) {
    ADD_FAILURE() << engine.status().ToString(false);
    return {};
  }
  std::vector<domain::Agency> list;
  for (const std::string& code : agencies)
    list.push_back({code, {code, code}, "department", "", {}});
  return engine->Score(list, data, true);
}

domain::KpiScore ScoreKpi(const std::string& kpi_json, const std::vector<domain::Observation>& data,
                          const std::string& extra) {
  auto scores = ScoreAll(SingleKpiFramework(kpi_json, extra), data);
  if (scores.size() != 1 || scores[0].kpis.size() != 1) {
    ADD_FAILURE() << "expected one agency with one KPI";
    return {};
  }
  return scores[0].kpis[0];
}

const char* const kPmqaGroupsKpi =
    R"({"id": "k", "component": "c", "name": "PMQA 4.0", "rounds": [12],
    "variables": [{"id": "pmqa", "type": "number"}],
    "references": [{"name": "s", "variable": "pmqa", "fiscal_year": 2566}],
    "criteria": {"form": "groups", "by": "s", "groups": [
      {"id": "1", "range": {"below": 350}, "criteria": {"form": "levels", "targets": [275, "s", 350]}},
      {"id": "2", "range": {"at_least": 350, "below": 400}, "criteria": {"form": "levels", "targets": [350, "s", "s * 1.10"]}},
      {"id": "3", "range": {"at_least": 400, "at_most": 450}, "criteria": {"form": "levels", "targets": [400, "s", "s * 1.02"]}},
      {"id": "4", "range": {"above": 450}, "criteria": {"form": "levels", "targets": [445, "(s + 445) / 2", "s"]}}]}})";

std::string LevelsKpi(const std::string& targets, const std::string& more) {
  return R"({"id": "k", "component": "c", "name": "k", "variables": [{"id": "r", "type": "number"}],
             "criteria": {"form": "levels", "targets": )" +
         targets + more + "}}";
}

}  // namespace esar::testing
