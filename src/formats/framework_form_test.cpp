#include "formats/framework_form.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/form_test_support.h"
#include "formats/framework_json.h"

namespace esar::formats {
namespace {

using nlohmann::json;
using test_support::EachKpi;
using test_support::Example;

// What a browser sends back for an unchanged form: every field as shown, line breaks as CR LF,
// and one blank row of each kind the page adds for a new entry.
FormFields AsSent(FormFields fields) {
  for (auto& [name, value] : fields) {
    std::string crlf;
    for (char c : value) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    value = crlf;
  }
  for (const char* blank : {"criteria.levels.0.99.variable", "criteria.levels.2.98.due",
                            "variables.99.id", "variables.99.name.th", "doc.definitions.99.th",
                            "doc.steps.99.en", "doc.baseline.99.fiscal_year",
                            "components.99.share"}) {
    fields[blank] = "";
  }
  return fields;
}

TEST(KpiFormTest, EveryExampleKpiComesBackUnchangedFromAnUntouchedForm) {
  int seen = 0;
  for (const char* name : {"ocs-2567", "opdc-2565", "mof-ops-2564"}) {
    const json doc = Example(name);
    std::vector<json> kpis;
    EachKpi(doc["kpis"], kpis);
    for (const json& kpi : kpis) {
      auto back = ApplyKpiForm(kpi, AsSent(KpiFormFields(kpi)), {}, false);
      ASSERT_TRUE(back.ok()) << name << " KPI " << kpi["id"] << ": "
                             << back.status().ToString(false);
      EXPECT_EQ(back->dump(2), kpi.dump(2)) << name << " KPI " << kpi["id"];
      ++seen;
    }
    auto components = ApplyComponentsForm(doc, AsSent(ComponentsFormFields(doc)));
    ASSERT_TRUE(components.ok());
    EXPECT_EQ(components->dump(2), doc.dump(2)) << name;
  }
  EXPECT_GE(seen, 20);
}

TEST(KpiFormTest, EveryExampleKpiWithCriteriaHasACriteriaForm) {
  int levels = 0, milestones = 0, points = 0, groups = 0, composite = 0;
  for (const char* name : {"ocs-2567", "opdc-2565", "mof-ops-2564"}) {
    std::vector<json> kpis;
    EachKpi(Example(name)["kpis"], kpis);
    for (const json& kpi : kpis) {
      const FormFields f = KpiFormFields(kpi);
      const std::string form = kpi.contains("criteria") ? kpi["criteria"]["form"].get<std::string>() : "";
      if (form.empty()) {
        EXPECT_EQ(f.at("criteria.form"), "sub_kpis") << kpi["id"];
        ++composite;  // sub-KPIs, no criteria of its own
        continue;
      }
      EXPECT_EQ(f.count("criteria.form") ? f.at("criteria.form") : "", form) << kpi["id"];
      levels += form == "levels";
      milestones += form == "milestones";
      points += form == "points";
      groups += form == "groups";
    }
  }
  EXPECT_GE(levels, 15);
  EXPECT_GE(milestones, 3);
  EXPECT_EQ(points, 1);  // OPDC FY2565 KPI 7, the Data Catalog
  EXPECT_EQ(groups, 4);  // OCS FY2567 KPIs 5-8, each group's criteria a form too
  EXPECT_GE(composite, 1);
}

TEST(KpiFormTest, PointsWithPrerequisitesAreEditedAsAForm) {
  const json kpi = Example("opdc-2565")["kpis"][6];  // KPI 7: five items, each needing an earlier
  FormFields f = KpiFormFields(kpi);
  EXPECT_EQ(f.at("criteria.form"), "points");
  EXPECT_EQ(f.at("criteria.items.1.id"), "metadata");
  EXPECT_EQ(f.at("criteria.items.1.points"), "15");
  EXPECT_EQ(f.at("criteria.items.1.requires"), "list");
  f["criteria.items.1.points"] = "12.5";
  f["criteria.items.4.requires"] = "list, open_published";  // two prerequisites
  f["criteria.items.5.id"] = "api";  // a new item at the end
  f["criteria.items.5.points"] = "-5";
  f["criteria.items.5.when"] = "api_given";
  f["criteria.items.5.text.th"] = "มี API";
  f["criteria.items.5.requires"] = "";
  auto back = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  json want = kpi["criteria"];
  want["items"][1]["points"] = 12.5;
  want["items"][4]["requires"] = json::array({"list", "open_published"});
  want["items"].push_back(json::parse(R"({"id": "api", "points": -5, "when": "api_given", "text": "มี API"})"));
  EXPECT_EQ((*back)["criteria"], want) << json::diff(want, (*back)["criteria"]).dump();
  // The second item removed: its row blank. Nothing else moves.
  FormFields again = KpiFormFields(kpi);
  for (const char* col : {"id", "points", "when", "text.th", "text.en", "requires"}) {
    again[std::string("criteria.items.4.") + col] = "";
  }
  auto fewer = ApplyKpiForm(kpi, again, {}, true);
  ASSERT_TRUE(fewer.ok()) << fewer.status().ToString(false);
  want = kpi["criteria"];
  want["items"].erase(4);
  EXPECT_EQ((*fewer)["criteria"], want);
}

TEST(KpiFormTest, GroupsByABaselineWithTargetFormulasAreEditedAsAForm) {
  const json kpi = Example("ocs-2567")["kpis"][7];  // KPI 8: PMQA groups by the FY2566 score s
  FormFields f = KpiFormFields(kpi);
  EXPECT_EQ(f.at("criteria.form"), "groups");
  EXPECT_EQ(f.at("criteria.by"), "s");
  EXPECT_EQ(f.at("criteria.groups.1.low_kind"), "at_least");
  EXPECT_EQ(f.at("criteria.groups.1.low"), "350");
  EXPECT_EQ(f.at("criteria.groups.1.high_kind"), "below");
  EXPECT_EQ(f.at("criteria.groups.1.high"), "400");
  EXPECT_EQ(f.at("criteria.groups.2.criteria.form"), "levels");
  EXPECT_EQ(f.at("criteria.groups.2.criteria.targets.2.value"), "s * 1.02");
  f["criteria.groups.2.criteria.targets.2.value"] = "s * 1.03";
  f["criteria.groups.3.low_kind"] = "at_least";  // 450 itself now in group 4
  f["criteria.groups.2.high_kind"] = "below";
  f["criteria.groups.0.name.en"] = "";
  auto back = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  json want = kpi["criteria"];
  want["groups"][2]["criteria"]["targets"][2] = "s * 1.03";
  want["groups"][3]["range"] = json{{"at_least", 450}};
  want["groups"][2]["range"] = json{{"at_least", 400}, {"below", 450}};
  want["groups"][0]["name"] = want["groups"][0]["name"]["th"];
  EXPECT_EQ((*back)["criteria"], want) << json::diff(want, (*back)["criteria"]).dump();
  json doc = Example("ocs-2567");
  doc["kpis"][7] = *back;
  EXPECT_TRUE(ParseFramework(doc.dump(), "f.json").ok());

  // A fifth group added with criteria of another form (conditions), and the `integer` flag.
  FormFields more = KpiFormFields(kpi);
  more["criteria.integer"] = "1";
  more["criteria.groups.4.id"] = "5";
  more["criteria.groups.4.name.th"] = "ไม่มีคะแนนปีก่อน";
  more["criteria.groups.4.low_kind"] = "";
  more["criteria.groups.4.high_kind"] = "below";
  more["criteria.groups.4.high"] = "0";
  more["criteria.groups.4.criteria.form"] = "conditions";
  more["criteria.groups.4.criteria.conditions.0"] = "pmqa >= 100";
  more["criteria.groups.4.criteria.conditions.1"] = "";
  more["criteria.groups.4.criteria.conditions.2"] = "pmqa >= 300";
  auto added = ApplyKpiForm(kpi, more, {}, true);
  ASSERT_TRUE(added.ok()) << added.status().ToString(false);
  EXPECT_EQ((*added)["criteria"]["integer"], true);
  EXPECT_EQ((*added)["criteria"]["groups"][4],
            json::parse(R"({"id": "5", "name": "ไม่มีคะแนนปีก่อน", "range": {"below": 0},
                "criteria": {"form": "conditions", "levels": ["pmqa >= 100", null, "pmqa >= 300"]}})"));
  EXPECT_EQ((*added)["criteria"]["groups"][3], kpi["criteria"]["groups"][3]);
}

TEST(KpiFormTest, AKpiWithoutCriteriaGetsTheFormChosenAndAFormCanBeChanged) {
  json kpi = Example("ocs-2567")["kpis"][0];
  kpi.erase("criteria");
  FormFields f = KpiFormFields(kpi);
  EXPECT_EQ(f.count("criteria.form"), 0u);
  f["criteria.form"] = "levels";
  f["criteria.direction"] = "";  // left unchosen: the default
  f["criteria.targets.0.value"] = "80";
  f["criteria.targets.1.value"] = "90";
  f["criteria.targets.2.value"] = "100";
  f["criteria.texts.0.th"] = "ร้อยละ 80";
  auto levels = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_TRUE(levels.ok()) << levels.status().ToString(false);
  EXPECT_EQ((*levels)["criteria"],
            json::parse(R"({"form": "levels", "targets": [80, 90, 100], "texts": ["ร้อยละ 80"]})"));
  // From levels to points: the new form's fields only; the old targets are gone.
  FormFields to_points = KpiFormFields(*levels);
  to_points["criteria.form"] = "points";
  to_points["criteria.items.0.id"] = "plan";
  to_points["criteria.items.0.points"] = "100";
  to_points["criteria.items.0.when"] = "plan_done";
  auto points = ApplyKpiForm(*levels, to_points, {}, true);
  ASSERT_TRUE(points.ok()) << points.status().ToString(false);
  EXPECT_EQ((*points)["criteria"], json::parse(R"({"form": "points", "texts": ["ร้อยละ 80"],
      "items": [{"id": "plan", "points": 100, "when": "plan_done"}]})"));
  // Milestones chosen anew with "cumulative" unticked (sent as nothing): not cumulative.
  FormFields to_milestones = KpiFormFields(*levels);
  to_milestones["criteria.form"] = "milestones";
  to_milestones["criteria.mlevel.0"] = "1";
  to_milestones["criteria.levels.0.0.variable"] = "plan_done";
  auto milestones = ApplyKpiForm(*levels, to_milestones, {}, true);
  ASSERT_TRUE(milestones.ok()) << milestones.status().ToString(false);
  EXPECT_EQ((*milestones)["criteria"]["cumulative"], false);
  EXPECT_EQ((*milestones)["criteria"]["levels"], json::parse(R"([[{"variable": "plan_done"}]])"));
}

TEST(KpiFormTest, BadPointsAndGroupsInputNamesTheField) {
  const json points = Example("opdc-2565")["kpis"][6];
  auto error_at = [](const json& kpi, const FormFields& f) {
    auto back = ApplyKpiForm(kpi, f, {}, true);
    return back.ok() ? std::string("(accepted)") : back.status().where().json_path;
  };
  FormFields f = KpiFormFields(points);
  f["criteria.items.2.points"] = "ten";
  EXPECT_EQ(error_at(points, f), "criteria.items.2.points");
  f = KpiFormFields(points);
  f["criteria.items.2.when"] = " ";
  EXPECT_EQ(error_at(points, f), "criteria.items.2.when");
  f = KpiFormFields(points);
  f["criteria.items.1.requires"] = "used";  // a later item: prerequisites come first
  EXPECT_EQ(error_at(points, f), "criteria.items.1.requires");
  auto later = ApplyKpiForm(points, f, {}, true);
  EXPECT_NE(later.status().message_th().find("\"used\""), std::string::npos);
  EXPECT_NE(later.status().message_en().find("not an earlier item"), std::string::npos);
  f = KpiFormFields(points);
  f["criteria.items.3.id"] = "list";
  EXPECT_EQ(error_at(points, f), "criteria.items.3.id");
  f = KpiFormFields(points);
  f["criteria.items.3.id"] = "has space";
  EXPECT_EQ(error_at(points, f), "criteria.items.3.id");
  f = KpiFormFields(points);
  for (int i = 0; i < 5; ++i) {
    for (const char* col : {"id", "points", "when", "text.th", "text.en", "requires"}) {
      f["criteria.items." + std::to_string(i) + "." + col] = "";
    }
  }
  EXPECT_EQ(error_at(points, f), "criteria.items");

  const json groups = Example("ocs-2567")["kpis"][7];
  f = KpiFormFields(groups);
  f["criteria.by"] = "";
  EXPECT_EQ(error_at(groups, f), "criteria.by");
  f = KpiFormFields(groups);
  f["criteria.groups.1.id"] = "1";
  EXPECT_EQ(error_at(groups, f), "criteria.groups.1.id");
  f = KpiFormFields(groups);
  f["criteria.groups.1.low"] = "three hundred";
  EXPECT_EQ(error_at(groups, f), "criteria.groups.1.low");
  f = KpiFormFields(groups);
  f["criteria.groups.0.low"] = "0";  // a bound without saying whether it is included
  EXPECT_EQ(error_at(groups, f), "criteria.groups.0.low_kind");
  f = KpiFormFields(groups);
  f["criteria.groups.4.id"] = "5";
  f["criteria.groups.4.low_kind"] = "above";
  f["criteria.groups.4.low"] = "500";
  EXPECT_EQ(error_at(groups, f), "criteria.groups.4.criteria.form");  // its criteria unchosen
  f["criteria.groups.4.criteria.form"] = "groups";  // groups inside groups: their `by` first
  EXPECT_EQ(error_at(groups, f), "criteria.groups.4.criteria.by");
  f = KpiFormFields(groups);
  f["criteria.groups.2.criteria.targets.1.strict"] = "1";
  f["criteria.groups.2.criteria.targets.1.value"] = "";
  EXPECT_EQ(error_at(groups, f), "criteria.groups.2.criteria.targets.1.value");
}

TEST(KpiFormTest, LevelsCriteriaAreEditedAsAForm) {
  const json kpi = Example("ocs-2567")["kpis"][0];  // 80 / 90 / 100 with a text per level
  FormFields f = KpiFormFields(kpi);
  EXPECT_EQ(f.at("criteria.targets.1.value"), "90");
  EXPECT_EQ(f.at("criteria.direction"), "higher");
  f["criteria.targets.0.value"] = "";  // a missing level
  f["criteria.targets.1.value"] = "s * 1.10";
  f["criteria.targets.2.value"] = "95.5";
  f["criteria.targets.2.strict"] = "1";
  f["criteria.direction"] = "lower";
  f["criteria.scoring"] = "step";
  f["criteria.texts.1.en"] = "";
  f["criteria.texts.1.th"] = "ตามสูตร";
  auto back = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  json want = kpi["criteria"];
  want["targets"] = json::parse(R"([null, "s * 1.10", {"below": 95.5}])");
  want["direction"] = "lower";
  want["scoring"] = "step";
  want["texts"][1] = "ตามสูตร";
  EXPECT_EQ((*back)["criteria"], want) << json::diff(want, (*back)["criteria"]).dump();
  // Back to the defaults: the fields leave the document, as the format's defaults.
  FormFields again = KpiFormFields(*back);
  EXPECT_EQ(again.at("criteria.targets.2.strict"), "1");
  EXPECT_EQ(again.at("criteria.targets.2.value"), "95.5");
  EXPECT_EQ(again.at("criteria.targets.0.value"), "");
  again["criteria.direction"] = "higher";
  again["criteria.scoring"] = "interpolate";
  again["criteria.targets.2.strict"] = "";
  for (int i = 0; i < 3; ++i) {
    again["criteria.texts." + std::to_string(i) + ".th"] = "";
    again["criteria.texts." + std::to_string(i) + ".en"] = "";
  }
  auto plain = ApplyKpiForm(*back, again, {}, true);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString(false);
  EXPECT_EQ((*plain)["criteria"], json::parse(R"({"form": "levels", "targets": [null, "s * 1.10", 95.5]})"));
}

TEST(KpiFormTest, MilestonesAreEditedAsAFormWithBuddhistEraDueDates) {
  const json kpi = Example("mof-ops-2564")["kpis"][2];  // KPI 3: a dated milestone first
  FormFields f = KpiFormFields(kpi);
  EXPECT_EQ(f.at("criteria.levels.0.0.due"), "31/12/2563");
  EXPECT_EQ(f.at("criteria.levels.0.0.reached"), "plan_approved_on");
  EXPECT_EQ(f.at("criteria.cumulative"), "1");
  f["criteria.levels.1.2.variable"] = "units_central";  // a new milestone at level 2
  f["criteria.levels.1.2.text.th"] = "ตรวจส่วนกลาง";
  f["criteria.levels.1.2.due"] = "30/9/2564";
  f["criteria.levels.1.2.reached"] = "plan_approved_on";
  f["criteria.levels.2.1.variable"] = "";  // the second milestone of level 3 removed
  f["criteria.levels.2.1.text.th"] = "";
  f["criteria.levels.0.0.due"] = "";  // no longer dated
  f["criteria.levels.0.0.reached"] = "";
  f["criteria.cumulative"] = "";
  auto back = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  json want = kpi["criteria"];
  want["cumulative"] = false;
  want["levels"][0][0].erase("due");
  want["levels"][0][0].erase("reached");
  want["levels"][1].push_back(json::parse(
      R"({"variable": "units_central", "text": "ตรวจส่วนกลาง", "due": "2021-09-30", "reached": "plan_approved_on"})"));
  want["levels"][2].erase(1);
  EXPECT_EQ((*back)["criteria"], want) << json::diff(want, (*back)["criteria"]).dump();
  json doc = Example("mof-ops-2564");
  doc["kpis"][2] = *back;
  EXPECT_TRUE(ParseFramework(doc.dump(), "f.json").ok());
}

TEST(KpiFormTest, BadCriteriaInputNamesTheField) {
  const json levels = Example("ocs-2567")["kpis"][0];
  FormFields f = KpiFormFields(levels);
  f["criteria.targets.2.value"] = "";
  f["criteria.targets.2.strict"] = "1";
  auto strict = ApplyKpiForm(levels, f, {}, true);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().where().json_path, "criteria.targets.2.value");
  EXPECT_NE(strict.status().message_th().find("เป้าหมายขั้นที่ 3"), std::string::npos);
  f = KpiFormFields(levels);
  f["criteria.direction"] = "sideways";
  EXPECT_EQ(ApplyKpiForm(levels, f, {}, true).status().where().json_path, "criteria.direction");
  f = KpiFormFields(levels);
  f["criteria.form"] = "sideways";
  EXPECT_EQ(ApplyKpiForm(levels, f, {}, true).status().where().json_path, "criteria.form");

  const json dated = Example("mof-ops-2564")["kpis"][2];
  f = KpiFormFields(dated);
  f["criteria.levels.0.0.due"] = "31/13/2563";
  auto due = ApplyKpiForm(dated, f, {}, true);
  ASSERT_FALSE(due.ok());
  EXPECT_EQ(due.status().where().json_path, "criteria.levels.0.0.due");
  EXPECT_NE(due.status().message_th().find("31/12/2563"), std::string::npos);  // the example
  f = KpiFormFields(dated);
  f["criteria.levels.0.0.reached"] = "";
  EXPECT_EQ(ApplyKpiForm(dated, f, {}, true).status().where().json_path,
            "criteria.levels.0.0.reached");
  f = KpiFormFields(dated);
  f["criteria.levels.1.0.variable"] = "not an id";
  EXPECT_EQ(ApplyKpiForm(dated, f, {}, true).status().where().json_path,
            "criteria.levels.1.0.variable");
  // Criteria without a form are kept whatever a forged form sends for them (groups four deep:
  // the form shows three levels of groups).
  json deep = Example("ocs-2567")["kpis"][7];
  for (int i = 0; i < 3; ++i) {
    deep["criteria"]["groups"][0]["criteria"] = json{{"form", "groups"}, {"by", "s"},
        {"groups", deep["criteria"]["groups"]}};
  }
  f = KpiFormFields(deep);
  EXPECT_EQ(f.count("criteria.form"), 0u);
  f["criteria.targets.0.value"] = "1";
  f["criteria.groups.0.id"] = "9";
  auto kept = ApplyKpiForm(deep, f, {}, true);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ((*kept)["criteria"], deep["criteria"]);
}

TEST(KpiFormTest, EditsChangeOnlyWhatWasEdited) {
  const json doc = Example("ocs-2567");
  const json kpi = doc["kpis"][2];
  FormFields f = KpiFormFields(kpi);
  f["unit.en"] = "per cent";
  f["doc.definitions.1.th"] = "นิยามใหม่";
  f["doc.definitions.1.en"] = "";
  f["doc.definitions.3.th"] = "ข้อ 4";  // a new row
  f["doc.benefit.th"] = "ประชาชนได้กฎหมายที่ดีขึ้น";
  f["key"] = "ria";
  f["round.6"] = "";
  f["flag.reform_plan"] = "1";
  f["doc.baseline.0.fiscal_year"] = "2566";
  f["doc.baseline.0.value"] = "97.5";
  auto back = ApplyKpiForm(kpi, f, {"performance", "potential"}, true);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  json want = kpi;
  want["unit"]["en"] = "per cent";
  want["documentation"]["definitions"][1] = "นิยามใหม่";
  want["documentation"]["definitions"].push_back("ข้อ 4");
  want["documentation"]["benefit"] = "ประชาชนได้กฎหมายที่ดีขึ้น";
  want["documentation"]["baseline"] = json::array({{{"fiscal_year", 2566}, {"value", 97.5}}});
  want["key"] = "ria";
  want["rounds"] = json::array({12});
  want["flags"] = json::array({"reform_plan"});
  EXPECT_EQ(*back, want) << json::diff(want, *back).dump();
  // The result parses as a framework.
  json changed = doc;
  changed["kpis"][2] = *back;
  EXPECT_TRUE(ParseFramework(changed.dump(), "f.json").ok());
}

TEST(KpiFormTest, VariablesAreAddedChangedAndRemoved) {
  const json kpi = Example("ocs-2567")["kpis"][2];
  FormFields f = KpiFormFields(kpi);
  const size_t n = kpi["variables"].size();
  ASSERT_GE(n, 1u);
  const std::string last = "variables." + std::to_string(n) + ".";
  f[last + "id"] = "ratio";
  f[last + "type"] = "derived";
  f[last + "formula"] = "1 + 1";
  f[last + "name.th"] = "อัตราส่วน";
  f[last + "min"] = "0";
  f[last + "optional"] = "1";
  f["variables.0.max"] = "1000";
  auto back = ApplyKpiForm(kpi, f, {}, false);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  ASSERT_EQ((*back)["variables"].size(), n + 1);
  EXPECT_EQ((*back)["variables"][n],
            (json{{"id", "ratio"}, {"type", "derived"}, {"name", "อัตราส่วน"}, {"formula", "1 + 1"},
                  {"optional", true}, {"min", 0}}));
  EXPECT_EQ((*back)["variables"][0]["max"], 1000);
  // Blanking a row removes it.
  for (const char* c : {"id", "name.th", "name.en", "formula"}) f[last + c] = "";
  f["variables.0.id"] = "";
  f["variables.0.name.th"] = "";
  f["variables.0.name.en"] = "";
  f["variables.0.formula"] = "";
  back = ApplyKpiForm(kpi, f, {}, false);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  EXPECT_EQ((*back)["variables"].size(), n - 1);
}

TEST(KpiFormTest, BadInputNamesTheField) {
  const json kpi = Example("ocs-2567")["kpis"][0];
  struct Case {
    std::string field, value, named, words;
  };
  const std::vector<Case> cases = {
      {"name.th", "", "name.th", "ชื่อตัวชี้วัด"},
      {"key", "PMQA 4", "key", "รหัสประจำตัวชี้วัด"},
      {"component", "nowhere", "component", "องค์ประกอบ"},
      {"variables.0.id", "1st", "variables.0.id", "รหัสตัวแปร"},
      {"variables.0.type", "text", "variables.0.type", "ชนิดของตัวแปร"},
      {"variables.0.min", "ten", "variables.0.min", "ต้องเป็นตัวเลข"},
      {"variables.0.length", "0", "variables.0.length", "1–1000"},
      {"doc.baseline.0.fiscal_year", "2024", "doc.baseline.0.fiscal_year", "พ.ศ."},
  };
  for (const Case& c : cases) {
    FormFields f = KpiFormFields(kpi);
    f[c.field] = c.value;
    if (c.field == "name.th") f["name.en"] = "";
    if (c.field == "variables.0.length") f["variables.0.type"] = "number_list";
    auto back = ApplyKpiForm(kpi, f, {"performance"}, true);
    ASSERT_FALSE(back.ok()) << c.field;
    EXPECT_EQ(back.status().code(), StatusCode::kInvalidInput);
    EXPECT_EQ(back.status().where().json_path, c.named) << c.field;
    EXPECT_NE(back.status().message_th().find(c.words), std::string::npos)
        << back.status().message_th();
    EXPECT_FALSE(back.status().message_en().empty());
  }
  // A derived variable without a formula, a second variable with the same id.
  FormFields f = KpiFormFields(kpi);
  f["variables.0.type"] = "derived";
  f["variables.0.formula"] = "";
  auto back = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().where().json_path, "variables.0.formula");
  f = KpiFormFields(kpi);
  f["variables.9.id"] = f["variables.0.id"];
  f["variables.9.type"] = "number";
  back = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().where().json_path, "variables.9.id");
}

TEST(KpiFormTest, AForgedFormWithTooManyRowsIsRefused) {
  const json kpi = Example("ocs-2567")["kpis"][0];
  FormFields f = KpiFormFields(kpi);
  for (int i = 0; i <= kMaxFormRows; ++i) f["doc.steps." + std::to_string(i) + ".th"] = "x";
  auto back = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().where().json_path, "doc.steps");
}

TEST(ComponentsFormTest, SharesChangeAndBadRowsAreNamed) {
  const json doc = Example("mof-ops-2564");
  FormFields f = ComponentsFormFields(doc);
  f["components.0.share"] = "60";
  f["components.1.share"] = "40.5";
  f["components.2.id"] = "extra";
  f["components.2.name.th"] = "องค์ประกอบเพิ่ม";
  f["components.2.share"] = "0";
  auto back = ApplyComponentsForm(doc, f);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  EXPECT_EQ((*back)["components"][0]["share"], 60);
  EXPECT_EQ((*back)["components"][1]["share"], 40.5);
  EXPECT_EQ((*back)["components"][1]["name"], doc["components"][1]["name"]);
  EXPECT_EQ((*back)["components"][2], (json{{"id", "extra"}, {"name", "องค์ประกอบเพิ่ม"}, {"share", 0}}));
  f["components.2.share"] = "101";
  back = ApplyComponentsForm(doc, f);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().where().json_path, "components.2.share");
  f["components.2.share"] = "1";
  f["components.2.id"] = "performance";
  back = ApplyComponentsForm(doc, f);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().where().json_path, "components.2.id");
}

TEST(KpiFormTest, FindingsPathsNameTheFormField) {
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/key"), "key");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/variables/2/formula"), "variables.2");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/documentation/scope"), "doc.scope");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/targets/1"), "criteria.targets.1.value");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/targets/2/above"),
            "criteria.targets.2.value");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/levels/0/1/due"),
            "criteria.levels.0.1.due");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/levels/2/0/text"),
            "criteria.levels.2.0.text.th");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/levels/1"), "criteria.levels.1");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/direction"), "criteria.direction");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/groups/0/range"), "criteria.groups.0");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/groups/1/name"),
            "criteria.groups.1.name.th");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/groups/2/criteria/targets/1"),
            "criteria.groups.2.criteria.targets.1.value");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/groups/2/criteria/levels/0"),
            "criteria.groups.2.criteria.levels.0");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/by"), "criteria.by");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/items/3/when"), "criteria.items.3.when");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria/items/1/requires/0"),
            "criteria.items.1.requires");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/criteria"), "criteria");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/31/key"), "");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/assignments"), "");
  // A key two KPIs share is reported at the second: it concerns the edited KPI's key field too.
  domain::Finding duplicate;
  duplicate.code = "kpi-key-duplicate";
  duplicate.where.json_path = "/kpis/7/key";
  duplicate.message_th = "ตัวชี้วัด 8 ใช้รหัสประจำตัวชี้วัด \"pmqa\" ซ้ำกับตัวชี้วัด 1";
  duplicate.message_en = "KPI 8 has the key \"pmqa\" of KPI 1 again";
  EXPECT_EQ(KpiFieldOfFinding("/kpis/0", "pmqa", duplicate), "key");
  EXPECT_EQ(KpiFieldOfFinding("/kpis/0", "other", duplicate), "");
}

// ---- composite KPIs and groups inside groups (issue 12 §1) ----

TEST(KpiFormTest, ACompositeKpisRowsEditItsSubKpisNamesAndSharesOnly) {
  const json kpi = Example("mof-ops-2564")["kpis"][3];  // KPI 4: 4.1 (25) and 4.2 (75)
  FormFields f = KpiFormFields(kpi);
  EXPECT_EQ(f.at("criteria.form"), "sub_kpis");
  EXPECT_EQ(f.at("sub_kpis.0.id"), "4.1");
  EXPECT_EQ(f.at("sub_kpis.1.weight"), "75");
  auto same = ApplyKpiForm(kpi, AsSent(f), {}, true);
  ASSERT_TRUE(same.ok()) << same.status().ToString(false);
  EXPECT_EQ(*same, kpi);
  f["sub_kpis.0.weight"] = "40";
  f["sub_kpis.1.weight"] = "60";
  f["sub_kpis.1.name.en"] = "Digital readiness";
  auto back = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  json want = kpi;
  want["sub_kpis"][0]["weight"] = 40;
  want["sub_kpis"][1]["weight"] = 60;
  want["sub_kpis"][1]["name"]["en"] = "Digital readiness";
  EXPECT_EQ(*back, want) << json::diff(want, *back).dump();

  auto refused = [&](FormFields sent, const std::string& field) {
    auto r = ApplyKpiForm(kpi, sent, {}, true);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.status().where().json_path, field) << r.status().ToString(false);
  };
  FormFields g = f;
  g["sub_kpis.1.weight"] = "ห้าสิบ";
  refused(g, "sub_kpis.1.weight");
  g = f;
  g["sub_kpis.1.weight"] = "120";
  refused(g, "sub_kpis.1.weight");
  g = f;
  g["sub_kpis.5.id"] = "4.6";  // a forged row: no such sub-KPI
  g["sub_kpis.5.weight"] = "10";
  refused(g, "sub_kpis.5.id");
  g = f;
  g["sub_kpis.0.name.th"] = "";
  g["sub_kpis.0.name.en"] = " ";
  refused(g, "sub_kpis.0.name.th");
  g = f;
  g["criteria.form"] = "levels";  // its sub-KPIs must go first
  refused(g, "criteria.form");
  // A KPI with criteria made composite on its form alone: its first sub-KPI comes on its page.
  const json plain = Example("mof-ops-2564")["kpis"][0];
  FormFields p = KpiFormFields(plain);
  p["criteria.form"] = "sub_kpis";
  auto r = ApplyKpiForm(plain, p, {}, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().where().json_path, "criteria.form");
}

TEST(KpiFormTest, ASubKpiIsEditedAtItsPlaceKeepingItsParentAndSiblings) {
  const json doc = Example("mof-ops-2564");
  EXPECT_EQ(KpiPath(doc, "4.2"), "/kpis/3/sub_kpis/1");
  EXPECT_EQ(KpiPath(doc, "4"), "/kpis/3");
  EXPECT_EQ(KpiPath(doc, "4.9"), "");
  const json sub = doc["kpis"][3]["sub_kpis"][1];
  FormFields f = KpiFormFields(sub);
  EXPECT_EQ(f.at("weight"), "75");
  auto same = ApplyKpiFormAt(doc, "4.2", AsSent(f), {}, false, "");
  ASSERT_TRUE(same.ok()) << same.status().ToString(false);
  EXPECT_EQ(same->document, doc);
  EXPECT_EQ(same->kpi_path, "/kpis/3/sub_kpis/1");
  f["name.en"] = "Digital readiness";
  f["weight"] = "70";
  auto changed = ApplyKpiFormAt(doc, "4.2", f, {}, false, "");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString(false);
  json want = doc;
  want["kpis"][3]["sub_kpis"][1]["name"]["en"] = "Digital readiness";
  want["kpis"][3]["sub_kpis"][1]["weight"] = 70;
  EXPECT_EQ(changed->document, want) << json::diff(want, changed->document).dump();
  f["weight"] = "-5";
  auto bad = ApplyKpiFormAt(doc, "4.2", f, {}, false, "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().where().json_path, "weight");
}

TEST(KpiFormTest, ASubKpiIsAddedWithItsSiblingsSharesAndMakesItsParentComposite) {
  const json doc = Example("mof-ops-2564");
  FormFields f = SubKpiShareFields(doc["kpis"][3], "");
  EXPECT_EQ(f.at("shares.4.1"), "25");
  f["shares.4.2"] = "55";
  f.insert({{"name.th", "ตัวชี้วัดย่อยใหม่"},
            {"weight", "20"},
            {"round.6", "1"},
            {"round.12", "1"},
            {"criteria.form", "conditions"},
            {"criteria.conditions.0", "1"},
            {"criteria.conditions.1", "1"},
            {"criteria.conditions.2", "1"}});
  auto added = ApplyKpiFormAt(doc, "4.3", f, {}, true, "4");
  ASSERT_TRUE(added.ok()) << added.status().ToString(false);
  EXPECT_EQ(added->kpi_path, "/kpis/3/sub_kpis/2");
  const json& subs = added->document["kpis"][3]["sub_kpis"];
  EXPECT_EQ(subs[0], doc["kpis"][3]["sub_kpis"][0]);  // 25, untouched
  EXPECT_EQ(subs[1]["weight"], 55);
  EXPECT_EQ(subs[2], json::parse(R"({"id": "4.3", "weight": 20, "name": "ตัวชี้วัดย่อยใหม่",
      "criteria": {"form": "conditions", "levels": ["1", "1", "1"]}})"));
  EXPECT_TRUE(ParseFramework(added->document.dump(), "f.json").ok());
  // KPI 1 (levels) gets its first sub-KPI: its own criteria go.
  FormFields first = f;
  first.erase("shares.4.1");
  first.erase("shares.4.2");
  first["weight"] = "100";
  auto made = ApplyKpiFormAt(doc, "1.1", first, {}, true, "1");
  ASSERT_TRUE(made.ok()) << made.status().ToString(false);
  EXPECT_FALSE(made->document["kpis"][0].contains("criteria"));
  EXPECT_EQ(made->document["kpis"][0]["sub_kpis"][0]["weight"], 100);
  EXPECT_TRUE(ParseFramework(made->document.dump(), "f.json").ok());
  // Refused: an id that exists (anywhere), an unknown parent, a share that is not a number.
  EXPECT_EQ(ApplyKpiFormAt(doc, "4.1", f, {}, true, "4").status().code(), StatusCode::kConflict);
  EXPECT_EQ(ApplyKpiFormAt(doc, "9.1", f, {}, true, "9").status().code(), StatusCode::kNotFound);
  FormFields g = f;
  g["shares.4.1"] = "x";
  EXPECT_EQ(ApplyKpiFormAt(doc, "4.3", g, {}, true, "4").status().where().json_path, "shares.4.1");
}

TEST(KpiFormTest, SubKpisNestFourDeepAndNoDeeper) {
  json doc = Example("mof-ops-2564");
  const json leaf = doc["kpis"][3]["sub_kpis"][1];
  // 4 > 4.2 > 4.2.1 > 4.2.1.1 > 4.2.1.1.1: four below the top.
  json d = doc;
  json l4 = leaf;
  l4["id"] = "4.2.1.1.1";
  l4["weight"] = 100;
  l4.erase("key");
  json l3 = {{"id", "4.2.1.1"}, {"name", "c"}, {"weight", 100}, {"sub_kpis", json::array({l4})}};
  json l2 = {{"id", "4.2.1"}, {"name", "b"}, {"weight", 100}, {"sub_kpis", json::array({l3})}};
  json l1 = d["kpis"][3]["sub_kpis"][1];
  l1.erase("criteria");
  l1["sub_kpis"] = json::array({l2});
  d["kpis"][3]["sub_kpis"][1] = l1;
  ASSERT_TRUE(ParseFramework(d.dump(), "f.json").ok());
  EXPECT_EQ(KpiPath(d, "4.2.1.1.1"), "/kpis/3/sub_kpis/1/sub_kpis/0/sub_kpis/0/sub_kpis/0");
  const json& deepest = d[json::json_pointer(KpiPath(d, "4.2.1.1.1"))];
  FormFields f = KpiFormFields(deepest);
  f["criteria.targets.0.value"] = "61";
  auto changed = ApplyKpiFormAt(d, "4.2.1.1.1", f, {}, false, "");
  ASSERT_TRUE(changed.ok()) << changed.status().ToString(false);
  json want = d;
  want[json::json_pointer(KpiPath(d, "4.2.1.1.1") + "/criteria/targets/0")] = 61;
  EXPECT_EQ(changed->document, want) << json::diff(want, changed->document).dump();
  auto deeper = ApplyKpiFormAt(d, "4.2.1.1.1.1", f, {}, true, "4.2.1.1.1");
  ASSERT_FALSE(deeper.ok());
  EXPECT_EQ(deeper.status().where().json_path, "id");
}

// A KPI whose groups (by the score s) hold groups (by the count n) of levels.
json NestedGroupsKpi() {
  return json::parse(R"({"id": "7", "name": "กลุ่มซ้อน", "component": "performance",
    "variables": [{"id": "x", "type": "number"}, {"id": "s", "type": "number"},
                  {"id": "n", "type": "count"}],
    "result": "x",
    "criteria": {"form": "groups", "by": "s", "groups": [
      {"id": "1", "name": "ต่ำ", "range": {"below": 50}, "criteria": {"form": "groups", "by": "n",
        "integer": true, "groups": [
          {"id": "1a", "range": {"at_most": 2}, "criteria": {"form": "levels", "targets": [1, 2, 3]}},
          {"id": "1b", "range": {"at_least": 3}, "criteria": {"form": "levels", "targets": [2, 3, 4]}}]}},
      {"id": "2", "range": {"at_least": 50}, "criteria": {"form": "levels", "targets": [5, 6, 7]}}]}})");
}

TEST(KpiFormTest, GroupsInsideGroupsAreEditedAsAForm) {
  const json kpi = NestedGroupsKpi();
  FormFields f = KpiFormFields(kpi);
  EXPECT_EQ(f.at("criteria.groups.0.criteria.form"), "groups");
  EXPECT_EQ(f.at("criteria.groups.0.criteria.by"), "n");
  EXPECT_EQ(f.at("criteria.groups.0.criteria.groups.1.criteria.targets.2.value"), "4");
  auto same = ApplyKpiForm(kpi, AsSent(f), {}, true);
  ASSERT_TRUE(same.ok()) << same.status().ToString(false);
  EXPECT_EQ(*same, kpi);
  f["criteria.groups.0.criteria.groups.1.criteria.targets.2.value"] = "4.5";
  f["criteria.groups.0.criteria.groups.0.high"] = "1";
  f["criteria.groups.0.criteria.groups.1.low"] = "2";
  auto back = ApplyKpiForm(kpi, f, {}, true);
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  json want = kpi;
  json& inner = want["criteria"]["groups"][0]["criteria"]["groups"];
  inner[1]["criteria"]["targets"][2] = 4.5;
  inner[0]["range"] = json{{"at_most", 1}};
  inner[1]["range"] = json{{"at_least", 2}};
  EXPECT_EQ(*back, want) << json::diff(want, *back).dump();
  // A third level of groups has a form too; a fourth is refused, also from a forged form.
  FormFields deeper = f;
  const std::string g = "criteria.groups.1.criteria.";
  deeper[g + "form"] = "groups";
  deeper[g + "by"] = "n";
  deeper[g + "groups.0.id"] = "2a";
  deeper[g + "groups.0.low_kind"] = "at_least";
  deeper[g + "groups.0.low"] = "0";
  deeper[g + "groups.0.criteria.form"] = "groups";
  deeper[g + "groups.0.criteria.by"] = "x";
  deeper[g + "groups.0.criteria.groups.0.id"] = "2a1";
  deeper[g + "groups.0.criteria.groups.0.criteria.form"] = "levels";
  for (int i = 0; i < 3; ++i) {
    deeper[g + "groups.0.criteria.groups.0.criteria.targets." + std::to_string(i) + ".value"] =
        std::to_string(i + 1);
  }
  auto three = ApplyKpiForm(kpi, deeper, {}, true);
  ASSERT_TRUE(three.ok()) << three.status().ToString(false);
  EXPECT_EQ((*three)["criteria"]["groups"][1]["criteria"]["groups"][0]["criteria"]["groups"][0]
                    ["criteria"]["targets"],
            json::parse("[1, 2, 3]"));
  const std::string fourth = g + "groups.0.criteria.groups.0.criteria.";
  deeper[fourth + "form"] = "groups";
  deeper[fourth + "by"] = "x";
  deeper[fourth + "groups.0.id"] = "z";
  auto refused = ApplyKpiForm(kpi, deeper, {}, true);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().where().json_path, fourth + "form");
  EXPECT_NE(refused.status().message_en().find("at most 3 deep"), std::string::npos);
}

TEST(KpiFormTest, FindingsInSubKpisAndNestedGroupsNameTheirField) {
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/sub_kpis"), "sub_kpis");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/sub_kpis/1/weight"), "sub_kpis.1.weight");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3", "/kpis/3/sub_kpis/1/criteria/targets/0"), "sub_kpis.1");
  EXPECT_EQ(KpiFieldOfPath("/kpis/3/sub_kpis/1", "/kpis/3/sub_kpis/1/criteria/targets/0"),
            "criteria.targets.0.value");
  EXPECT_EQ(
      KpiFieldOfPath("/kpis/0", "/kpis/0/criteria/groups/0/criteria/groups/1/criteria/targets/2"),
      "criteria.groups.0.criteria.groups.1.criteria.targets.2.value");
  domain::Finding shares;
  shares.code = "sub-kpi-weights";
  shares.where.json_path = "/kpis/3/sub_kpis";
  EXPECT_EQ(KpiFieldOfFinding("/kpis/3/sub_kpis/1", "", shares), "weight");
  EXPECT_EQ(KpiFieldOfFinding("/kpis/3", "", shares), "sub_kpis");
  // esar check's own rule on shares that do not sum to 100, at the parent's sub_kpis.
  json doc = Example("mof-ops-2564");
  doc["kpis"][3]["sub_kpis"][1]["weight"] = 70;
  auto fw = ParseFramework(doc.dump(), "f.json");
  ASSERT_TRUE(fw.ok());
  domain::CheckInput input;
  input.framework = &*fw;
  bool found = false;
  for (const domain::Finding& finding : domain::Check(input)) {
    if (finding.code != "sub-kpi-weights") continue;
    found = true;
    EXPECT_EQ(KpiFieldOfFinding("/kpis/3/sub_kpis/1", "", finding), "weight");
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace esar::formats
