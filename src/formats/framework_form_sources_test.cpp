#include "formats/framework_form_sources.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace esar::formats {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json Example(const std::string& name) {
  std::ifstream in(fs::path(ESAR_SOURCE_DIR) / "examples" / name / "framework.json");
  return json::parse(in);
}

json ExampleKpi(const std::string& name, const std::string& id) {
  const json doc = Example(name);
  for (const json& k : doc["kpis"]) {
    if (k["id"] == id) return k;
  }
  return json();
}

void EachKpi(const json& kpis, std::vector<json>& out) {
  for (const json& k : kpis) {
    out.push_back(k);
    if (k.contains("sub_kpis")) EachKpi(k["sub_kpis"], out);
  }
}

// An unchanged form as the page sends it: a blank row of each kind added for a new entry, the
// unticked boxes absent.
FormFields AsSent(FormFields fields) {
  for (auto it = fields.begin(); it != fields.end();) {
    it = it->second.empty() && it->first.find(".round.") != std::string::npos ? fields.erase(it)
                                                                              : std::next(it);
  }
  for (const char* blank : {"references.99.name", "references.99.variable", "references.99.source",
                            "references.99.round", "references.99.read", "cases.classes.99.id",
                            "cases.classes.99.standard_unit", "cases.classes.0.windows.99.from",
                            "from_agencies.at_least", "catalog.complete_percent"}) {
    fields.emplace(blank, "");
  }
  return fields;
}

TEST(SourcesFormTest, EveryExampleKpiComesBackUnchangedWithItsSourcesShown) {
  int with_sources = 0;
  for (const char* name : {"ocs-2567", "opdc-2565", "mof-ops-2564"}) {
    std::vector<json> kpis;
    EachKpi(Example(name)["kpis"], kpis);
    for (const json& kpi : kpis) {
      const FormFields fields = KpiFormFields(kpi);
      ASSERT_EQ(fields.at("sources.shown"), "1");
      auto back = ApplyKpiForm(kpi, AsSent(fields), {}, false);
      ASSERT_TRUE(back.ok()) << name << " KPI " << kpi["id"] << ": "
                             << back.status().ToString(false);
      EXPECT_EQ(back->dump(2), kpi.dump(2)) << name << " KPI " << kpi["id"];
      for (const char* m : {"references", "cases", "from_agencies", "catalog"}) {
        with_sources += kpi.contains(m);
      }
    }
  }
  // OCS 1, 2 (cases), 6, 7, 8 (references); OPDC 2, 6 (agencies), 7 (catalog); MOF 1 (agencies).
  EXPECT_EQ(with_sources, 9);
}

TEST(SourcesFormTest, TheSeedsCaseRuleIsShownInWordsAndEditedVariableByVariable) {
  const json kpi = ExampleKpi("ocs-2567", "1");
  FormFields f = KpiFormFields(kpi);
  EXPECT_EQ(f.at("cases.kinds.act"), "1");
  EXPECT_EQ(f.at("cases.excluded.6"), "1");
  EXPECT_EQ(f.at("cases.pause.committee"), "1");
  EXPECT_EQ(f.at("cases.cutoff.6"), "31/3/2567");
  EXPECT_EQ(f.at("cases.backlog.round.12"), "1");
  EXPECT_EQ(f.count("cases.backlog.round.6"), 0u);
  EXPECT_EQ(f.at("cases.backlog.kinds.opinion"), "1");
  EXPECT_EQ(f.at("cases.classes.2.id"), "long");
  EXPECT_EQ(f.at("cases.classes.2.standard"), "12");
  EXPECT_EQ(f.at("cases.classes.2.standard_unit"), "months");
  EXPECT_EQ(f.at("cases.classes.2.sections.at_least"), "21");
  EXPECT_EQ(f.at("cases.classes.2.sections.at_most"), "");
  EXPECT_EQ(f.at("cases.classes.0.windows.0.from"), "1/7/2566");
  EXPECT_EQ(f.at("cases.on_time"), "completed_within_standard");
  EXPECT_EQ(f.at("cases.counted"), "received");

  // The counted variable chosen anew: only it changes.
  f["cases.counted"] = "completed_within_standard";
  auto edited = ApplyKpiForm(kpi, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  json expected = kpi;
  expected["cases"]["variables"]["counted"] = "completed_within_standard";
  EXPECT_EQ(edited->dump(2), expected.dump(2));

  // A class's standard in days, its window's end moved, a pause no longer excluded.
  f = KpiFormFields(kpi);
  f["cases.classes.1.standard"] = "180";
  f["cases.classes.1.standard_unit"] = "days";
  f["cases.classes.1.windows.0.to"] = "15/4/2567";
  f.erase("cases.pause.outside");
  edited = ApplyKpiForm(kpi, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  expected = kpi;
  expected["cases"]["classes"][1]["standard"] = json{{"days", 180}};
  expected["cases"]["classes"][1]["windows"][0]["to"] = "2024-04-15";
  expected["cases"]["pauses_not_counted"] = json::array({"ria", "committee"});
  EXPECT_EQ(edited->dump(2), expected.dump(2));
}

// The field and English message of the refusal of `fields` applied to `kpi`.
std::pair<std::string, std::string> Refusal(const json& kpi, const FormFields& fields) {
  auto r = ApplyKpiForm(kpi, AsSent(fields), {}, false);
  if (r.ok()) return {"(accepted)", r->dump()};
  return {r.status().where().json_path, r.status().message_en()};
}

TEST(SourcesFormTest, ABaselineFromLastYearsPublishedResultIsAddedByTheForm) {
  const json kpi = ExampleKpi("ocs-2567", "5");
  ASSERT_FALSE(kpi.is_null());
  FormFields f = KpiFormFields(kpi);
  f["references.0.name"] = "s";
  f["references.0.source"] = "result";
  f["references.0.key"] = "pmqa";
  f["references.0.fiscal_year"] = "2566";
  f["references.0.round"] = "12";
  f["references.0.read"] = "score";
  auto [field, message] = Refusal(kpi, f);
  EXPECT_EQ(field, "references.0.variable") << "KPI 5 reports three variables: " << message;
  f["references.0.variable"] = "datasets";
  auto edited = ApplyKpiForm(kpi, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  EXPECT_EQ((*edited)["references"].dump(),
            json::parse(R"([{"name":"s","variable":"datasets","fiscal_year":2566,
                            "from_result":{"key":"pmqa","read":"score"}}])")
                .dump());
  // Another KPI's variable, and then the row removed.
  f = KpiFormFields(*edited);
  f["references.1.name"] = "p66";
  f["references.1.source"] = "kpi";
  f["references.1.kpi"] = "6";
  f["references.1.variable"] = "pillars";
  f["references.1.fiscal_year"] = "2566";
  edited = ApplyKpiForm(*edited, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  EXPECT_EQ(
      (*edited)["references"][1].dump(),
      json::parse(R"({"name":"p66","kpi":"6","variable":"pillars","fiscal_year":2566})").dump());
  f = KpiFormFields(*edited);
  for (const char* c : {"name", "kpi", "variable", "fiscal_year", "key"}) {
    f[std::string("references.0.") + c] = "";
    f[std::string("references.1.") + c] = "";
  }
  edited = ApplyKpiForm(*edited, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  EXPECT_EQ(edited->dump(2), kpi.dump(2));
}

TEST(SourcesFormTest, BadSourcesAreRefusedAtTheirField) {
  const json kpi = ExampleKpi("ocs-2567", "5");
  FormFields f = KpiFormFields(kpi);
  f["references.0.name"] = "s";
  f["references.0.source"] = "kpi";
  auto [field, message] = Refusal(kpi, f);
  EXPECT_EQ(field, "references.0.variable");
  EXPECT_NE(message.find("needs where its value comes from"), std::string::npos) << message;

  f["references.0.source"] = "result";
  f["references.0.fiscal_year"] = "2566";
  std::tie(field, message) = Refusal(kpi, f);
  EXPECT_EQ(field, "references.0.key");
  f["references.0.key"] = "PMQA";
  std::tie(field, message) = Refusal(kpi, f);
  EXPECT_EQ(field, "references.0.key");
  EXPECT_NE(message.find("not valid"), std::string::npos) << message;
  f["references.0.key"] = "pmqa";
  std::tie(field, message) = Refusal(kpi, f);
  EXPECT_EQ(field, "references.0.variable") << message;
  f["references.0.variable"] = "datasets";
  f["references.0.fiscal_year"] = "66";
  std::tie(field, message) = Refusal(kpi, f);
  EXPECT_EQ(field, "references.0.fiscal_year");
  f["references.0.fiscal_year"] = "2566";
  f["references.0.name"] = "2s";
  std::tie(field, message) = Refusal(kpi, f);
  EXPECT_EQ(field, "references.0.name");

  const json cases = ExampleKpi("ocs-2567", "2");
  f = KpiFormFields(cases);
  f["cases.on_time"] = "not_a_variable";
  std::tie(field, message) = Refusal(cases, f);
  EXPECT_EQ(field, "cases.on_time");
  EXPECT_NE(message.find("is not one of this KPI's variables"), std::string::npos) << message;
  f = KpiFormFields(cases);
  f["cases.cutoff.12"] = "2024/13/40";
  std::tie(field, message) = Refusal(cases, f);
  EXPECT_EQ(field, "cases.cutoff.12");
  f = KpiFormFields(cases);
  f["cases.classes.0.windows.1.to"] = "1/1/2566";
  std::tie(field, message) = Refusal(cases, f);
  EXPECT_EQ(field, "cases.classes.0.windows.1.to");
  EXPECT_NE(message.find("ends before it starts"), std::string::npos) << message;
  f = KpiFormFields(cases);
  f.erase("cases.kinds.opinion");
  std::tie(field, message) = Refusal(cases, f);
  EXPECT_EQ(field, "cases.kinds");

  const json peers = ExampleKpi("opdc-2565", "2");
  f = KpiFormFields(peers);
  f["from_agencies.measure"] = "median";
  std::tie(field, message) = Refusal(peers, f);
  EXPECT_EQ(field, "from_agencies.measure");
  f["from_agencies.measure"] = "average";
  std::tie(field, message) = Refusal(peers, f);
  EXPECT_EQ(field, "from_agencies.level");
  f["from_agencies.measure"] = "share";
  f["from_agencies.level"] = "";
  std::tie(field, message) = Refusal(peers, f);
  EXPECT_EQ(field, "from_agencies.level");
  f["from_agencies.variable"] = "";
  std::tie(field, message) = Refusal(peers, f);
  EXPECT_EQ(field, "from_agencies.variable");

  const json catalog = ExampleKpi("opdc-2565", "7");
  f = KpiFormFields(catalog);
  f["catalog.complete_percent"] = "percent_of_nothing";
  std::tie(field, message) = Refusal(catalog, f);
  EXPECT_EQ(field, "catalog.complete_percent");
}

TEST(SourcesFormTest, ACrossAgencyKpiAndACatalogKpiAreMadeByTheForm) {
  json kpi = json::parse(R"({"id": "9", "component": "c", "name": "x",
      "variables": [{"id": "share_ok", "type": "percent"}, {"id": "n", "type": "count"},
                    {"id": "done", "type": "count"}],
      "criteria": {"form": "levels", "targets": [80, 90, 95]}})");
  FormFields f = KpiFormFields(kpi);
  f["from_agencies.variable"] = "share_ok";
  f["from_agencies.key"] = "e-service";
  f["from_agencies.measure"] = "share";
  f["from_agencies.at_least"] = "80";
  f["from_agencies.kinds.department"] = "1";
  f["from_agencies.ministries.MOF"] = "1";
  f["from_agencies.codes.CGD"] = "1";
  f["from_agencies.codes.FPO"] = "";
  f["catalog.datasets"] = "n";
  f["catalog.complete"] = "done";
  auto made = ApplyKpiForm(kpi, AsSent(f), {}, false);
  ASSERT_TRUE(made.ok()) << made.status().ToString(false);
  EXPECT_EQ((*made)["from_agencies"].dump(),
            json::parse(R"({"variable": "share_ok", "key": "e-service", "measure": "share",
                "at_least": 80, "agencies": {"kinds": ["department"], "ministries": ["MOF"],
                "codes": ["CGD"]}})")
                .dump());
  EXPECT_EQ((*made)["catalog"].dump(),
            json::parse(R"({"variables": {"datasets": "n", "complete": "done"}})").dump());
  // And a case rule beside it is refused in words.
  f = KpiFormFields(*made);
  f["cases.kinds.opinion"] = "1";
  f["cases.cutoff.12"] = "30/9/2567";
  f["cases.classes.0.id"] = "all";
  f["cases.classes.0.standard"] = "53";
  f["cases.classes.0.standard_unit"] = "days";
  f["cases.classes.0.windows.0.from"] = "1/10/2566";
  f["cases.classes.0.windows.0.to"] = "31/7/2567";
  f["cases.classes.0.windows.0.round.12"] = "1";
  auto [field, message] = Refusal(*made, f);
  EXPECT_EQ(field, "from_agencies.variable");
  EXPECT_NE(message.find("not both"), std::string::npos) << message;
  // Without the agencies rule the case rule is written as §14.1 has it.
  for (auto& [name, value] : f) {
    if (name.rfind("from_agencies.", 0) == 0) value = "";
  }
  auto cases = ApplyKpiForm(*made, AsSent(f), {}, false);
  ASSERT_TRUE(cases.ok()) << cases.status().ToString(false);
  EXPECT_FALSE(cases->contains("from_agencies"));
  EXPECT_EQ((*cases)["cases"].dump(),
            json::parse(R"({"kinds": ["opinion"], "cutoffs": {"12": "2024-09-30"},
                "classes": [{"id": "all", "standard": {"days": 53}, "when": {},
                "windows": [{"from": "2023-10-01", "to": "2024-07-31", "rounds": [12]}]}]})")
                .dump());
}

TEST(SourcesFormTest, FindingsPathsNameTheSourcesField) {
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/references/1/from_result/key"), "references.1.key");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/references/0"), "references.0");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/cases/variables/counted"), "cases.counted");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/cases/classes/2/windows/0/to"),
            "cases.classes.2.windows.0.to");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/cases/classes/2"), "cases.classes.2.id");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/from_agencies/variable"), "from_agencies.variable");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/catalog/variables/complete"), "catalog.complete");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/sub_kpis/0"), "");
}

}  // namespace
}  // namespace esar::formats
