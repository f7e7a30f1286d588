#include "formats/framework_form_sources.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "formats/form_test_support.h"

namespace esar::formats {
namespace {

using nlohmann::json;
using test_support::EachKpi;
using test_support::Example;
using test_support::ExampleKpi;

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
  // The rule in words: each field as the form shows it.
  const std::vector<std::pair<std::string, std::string>> shown = {
      {"cases.kinds.act", "1"},        {"cases.excluded.6", "1"},
      {"cases.pause.committee", "1"},  {"cases.cutoff.6", "31/3/2567"},
      {"cases.backlog.round.12", "1"},
  };
  EXPECT_EQ(f.count("cases.backlog.round.6"), 0u);
  const std::vector<std::pair<std::string, std::string>> classes = {
      {"cases.backlog.kinds.opinion", "1"},
      {"cases.classes.2.id", "long"},
      {"cases.classes.2.standard", "12"},
      {"cases.classes.2.standard_unit", "months"},
      {"cases.classes.2.sections.at_least", "21"},
      {"cases.classes.2.sections.at_most", ""},
      {"cases.classes.0.windows.0.from", "1/7/2566"},
      {"cases.on_time", "completed_within_standard"},
      {"cases.counted", "received"},
  };
  for (const auto& rows : {shown, classes}) {
    for (const auto& [name, value] : rows) EXPECT_EQ(f.at(name), value) << name;
  }

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
  // Each case: the example KPI, the fields typed over its unchanged form (an empty name: the
  // field removed, as an unticked box), the field refused and words of the English message.
  struct Case {
    const char* example;
    const char* kpi;
    std::vector<std::pair<std::string, std::string>> typed;
    std::string field;
    std::string says;
  };
  const std::vector<std::pair<std::string, std::string>> ref = {
      {"references.0.name", "s"},
      {"references.0.source", "result"},
      {"references.0.fiscal_year", "2566"}};
  auto with = [&](std::vector<std::pair<std::string, std::string>> more) {
    auto all = ref;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  const std::vector<Case> cases = {
      {"ocs-2567",
       "5",
       {{"references.0.name", "s"}, {"references.0.source", "kpi"}},
       "references.0.variable",
       "needs where its value comes from"},
      {"ocs-2567", "5", ref, "references.0.key", "choose the KPI key"},
      {"ocs-2567", "5", with({{"references.0.key", "PMQA"}}), "references.0.key", "not valid"},
      {"ocs-2567", "5", with({{"references.0.key", "pmqa"}}), "references.0.variable",
       "the value stands for"},
      {"ocs-2567", "5",
       with({{"references.0.key", "pmqa"},
             {"references.0.variable", "datasets"},
             {"references.0.fiscal_year", "66"}}),
       "references.0.fiscal_year", "2400 to 2800"},
      {"ocs-2567", "5",
       with({{"references.0.key", "pmqa"},
             {"references.0.variable", "datasets"},
             {"references.0.name", "2s"}}),
       "references.0.name", "only English letters"},
      {"ocs-2567",
       "2",
       {{"cases.on_time", "not_a_variable"}},
       "cases.on_time",
       "is not one of this KPI's variables"},
      {"ocs-2567",
       "2",
       {{"cases.cutoff.12", "2024/13/40"}},
       "cases.cutoff.12",
       "day/month/Buddhist Era year"},
      {"ocs-2567",
       "2",
       {{"cases.classes.0.windows.1.to", "1/1/2566"}},
       "cases.classes.0.windows.1.to",
       "ends before it starts"},
      {"ocs-2567", "2", {{"cases.kinds.opinion", ""}}, "cases.kinds", "at least one kind"},
      {"opdc-2565",
       "2",
       {{"from_agencies.measure", "median"}},
       "from_agencies.measure",
       "choose the measure"},
      {"opdc-2565",
       "2",
       {{"from_agencies.measure", "average"}},
       "from_agencies.level",
       "apply to the share and count reaching only"},
      {"opdc-2565",
       "2",
       {{"from_agencies.level", ""}},
       "from_agencies.level",
       "say what counts as reached"},
      {"opdc-2565",
       "2",
       {{"from_agencies.variable", ""}},
       "from_agencies.variable",
       "choose the variable"},
      {"opdc-2565",
       "7",
       {{"catalog.complete_percent", "percent_of_nothing"}},
       "catalog.complete_percent",
       "is not one of this KPI's variables"},
  };
  for (const Case& c : cases) {
    const json kpi = ExampleKpi(c.example, c.kpi);
    FormFields f = KpiFormFields(kpi);
    for (const auto& [name, value] : c.typed) {
      if (value.empty() && name.find("kinds.") != std::string::npos) {
        f.erase(name);
      } else {
        f[name] = value;
      }
    }
    auto [field, message] = Refusal(kpi, f);
    EXPECT_EQ(field, c.field) << c.example << " KPI " << c.kpi << ": " << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << c.field << ": " << message;
  }
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
                "classes": [{"id": "all", "standard": {"days": 53},
                "windows": [{"from": "2023-10-01", "to": "2024-07-31", "rounds": [12]}]}]})")
                .dump());
}

TEST(SourcesFormTest, AgencyCodesWithDotsStayInTheRule) {
  // Agency codes may hold dots ("moi.dla"); changing the measure alone keeps them, and one ticked
  // on the form is written.
  const json kpi = json::parse(R"({"id": "9", "component": "c", "name": "x",
      "variables": [{"id": "share_ok", "type": "percent"}],
      "from_agencies": {"variable": "share_ok", "key": "e-service", "measure": "share",
                        "at_least": 80, "agencies": {"codes": ["moi.dla"]}},
      "criteria": {"form": "levels", "targets": [80, 90, 95]}})");
  FormFields f = KpiFormFields(kpi);
  EXPECT_EQ(f["from_agencies.codes.moi.dla"], "1");
  f["from_agencies.measure"] = "count";
  auto edited = ApplyKpiForm(kpi, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  EXPECT_EQ((*edited)["from_agencies"]["agencies"].dump(), R"({"codes":["moi.dla"]})");
  EXPECT_EQ((*edited)["from_agencies"]["measure"], "count");
  f["from_agencies.codes.dla.cm"] = "1";
  edited = ApplyKpiForm(kpi, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  EXPECT_EQ((*edited)["from_agencies"]["agencies"].dump(), R"({"codes":["moi.dla","dla.cm"]})");
}

TEST(SourcesFormTest, AgencyCodesTypedJoinTheTickedOnesEachOnce) {
  // A directory too large to offer every agency as a box: codes are typed, separated by spaces
  // or commas, and join those still ticked; one typed twice, or typed and ticked, is named once;
  // one unticked leaves.
  const json kpi = json::parse(R"({"id": "9", "component": "c", "name": "x",
      "variables": [{"id": "share_ok", "type": "percent"}],
      "from_agencies": {"variable": "share_ok", "key": "e-service", "measure": "share",
                        "at_least": 80, "agencies": {"codes": ["3100101", "moi.dla"]}},
      "criteria": {"form": "levels", "targets": [80, 90, 95]}})");
  FormFields f = KpiFormFields(kpi);
  f["from_agencies.codes.3100101"] = "";
  f["from_agencies.typed_codes"] = " 3100102,3100103  moi.dla 3100102 ,, ";
  auto edited = ApplyKpiForm(kpi, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  EXPECT_EQ((*edited)["from_agencies"]["agencies"].dump(),
            R"({"codes":["moi.dla","3100102","3100103"]})");
  // Nothing typed and nothing ticked: no agency named, the rule counts every agency again.
  f["from_agencies.codes.moi.dla"] = "";
  f["from_agencies.typed_codes"] = "  ";
  edited = ApplyKpiForm(kpi, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  EXPECT_FALSE((*edited)["from_agencies"].contains("agencies"));
}

TEST(SourcesFormTest, AClassWithoutConditionsGainsNoEmptyWhenWhenTheRuleChanges) {
  json kpi = ExampleKpi("ocs-2567", "1");
  std::vector<size_t> without;
  for (size_t i = 0; i < kpi["cases"]["classes"].size(); ++i) {
    if (!kpi["cases"]["classes"][i].contains("when")) without.push_back(i);
  }
  if (without.empty()) {
    // The seed's classes all have conditions: take them from the first, as a framework may.
    kpi["cases"]["classes"][0].erase("when");
    without.push_back(0);
  }
  FormFields f = KpiFormFields(kpi);
  // Another part of the rule changed: a pause no longer counted.
  const bool ticked = f.count("cases.pause.committee") && f["cases.pause.committee"] == "1";
  f["cases.pause.committee"] = ticked ? "" : "1";
  auto edited = ApplyKpiForm(kpi, AsSent(f), {}, false);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  for (size_t i : without) {
    EXPECT_FALSE((*edited)["cases"]["classes"][i].contains("when"))
        << (*edited)["cases"]["classes"][i].dump();
  }
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
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/4/references/0"), "");  // another KPI's
}

}  // namespace
}  // namespace esar::formats
