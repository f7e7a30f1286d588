#include "domain/check.h"

#include <gtest/gtest.h>

#include "domain/engine.h"
#include "tests/support/framework_builder.h"

namespace esar::domain {
namespace {

using esar::testing::FrameworkFromJson;
using esar::testing::Obs;

std::vector<Finding> RunCheck(const Framework& fw, const std::vector<Agency>* agencies = nullptr,
                              const std::vector<Observation>* data = nullptr) {
  CheckInput in;
  in.framework = &fw;
  in.framework_file = "framework.json";
  in.agencies = agencies;
  in.observations = data;
  return Check(in);
}

const Finding* FindCode(const std::vector<Finding>& findings, const std::string& code) {
  for (const Finding& f : findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

std::string Framework2(const std::string& weights, const std::string& extra_kpi = "") {
  return R"({"fiscal_year": 2567, "components": [{"id": "p", "name": {"th": "ผลงาน", "en": "performance"}, "share": 70},
      {"id": "q", "name": {"th": "ศักยภาพ", "en": "potential"}, "share": 30}],
    "kpis": [
      {"id": "1", "component": "p", "name": "one", "variables": [{"id": "r", "type": "percent", "max": 100}],
       "criteria": {"form": "levels", "targets": [80, 90, 100]}},
      {"id": "2", "component": "q", "name": "two", "variables": [{"id": "r", "type": "number"}],
       "criteria": {"form": "levels", "targets": [80, 90, 100]}})" +
         extra_kpi + R"(],
    "assignments": [{"agencies": ["*"], "kpis": )" +
         weights + "}]}";
}

TEST(CheckTest, AWellFormedFrameworkHasNoFindings) {
  const auto fw =
      FrameworkFromJson(Framework2(R"([{"kpi": "1", "weight": 70}, {"kpi": "2", "weight": 30}])"));
  EXPECT_TRUE(RunCheck(fw).empty());
}

TEST(CheckTest, WeightsMustAddUpTo100AndToEachComponentsShare) {
  const auto fw =
      FrameworkFromJson(Framework2(R"([{"kpi": "1", "weight": 60}, {"kpi": "2", "weight": 30}])"));
  const auto findings = RunCheck(fw);
  EXPECT_TRUE(HasErrors(findings));
  const Finding* sum = FindCode(findings, "weights-sum");
  ASSERT_NE(sum, nullptr);
  EXPECT_NE(sum->message_en.find("add up to 90"), std::string::npos);
  EXPECT_NE(sum->message_th.find("รวมกันได้ 90"), std::string::npos);
  EXPECT_EQ(sum->where.file, "framework.json");
  EXPECT_EQ(sum->where.json_path, "/assignments");
  EXPECT_NE(FindCode(findings, "component-weights"), nullptr);
}

// A KPI's key names it across fiscal years, so a malformed key or one two KPIs share is an
// error at the key's JSON path, naming both KPIs.
TEST(CheckTest, KpiKeysMustBeValidAndUniqueInTheFramework) {
  const std::string two = R"({"fiscal_year": 2567, "kpis": [
      {"id": "1", "key": "pmqa", "component": "p", "name": "one", "variables": [{"id": "r", "type": "number"}],
       "criteria": {"form": "levels", "targets": [80, 90, 100]}},
      {"id": "2", "key": "KEY2", "component": "p", "name": "two", "variables": [{"id": "r", "type": "number"}],
       "criteria": {"form": "levels", "targets": [80, 90, 100]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 50}, {"kpi": "2", "weight": 50}]}]})";
  const auto bad = RunCheck(FrameworkFromJson(two));
  const Finding* invalid = FindCode(bad, "kpi-key");
  ASSERT_NE(invalid, nullptr);
  EXPECT_EQ(invalid->severity, Severity::kError);
  EXPECT_EQ(invalid->where.json_path, "/kpis/1/key");
  EXPECT_NE(invalid->message_en.find("\"KEY2\""), std::string::npos);
  EXPECT_NE(invalid->message_th.find("ใช้ไม่ได้"), std::string::npos);

  std::string twice = two;
  twice.replace(twice.find("KEY2"), 4, "pmqa");
  const auto dup = RunCheck(FrameworkFromJson(twice));
  EXPECT_EQ(FindCode(dup, "kpi-key"), nullptr);
  const Finding* repeated = FindCode(dup, "kpi-key-duplicate");
  ASSERT_NE(repeated, nullptr);
  EXPECT_EQ(repeated->where.json_path, "/kpis/1/key");
  EXPECT_NE(repeated->message_en.find("KPI 2 has the key \"pmqa\" of KPI 1"), std::string::npos);

  std::string distinct = two;
  distinct.replace(distinct.find("KEY2"), 4, "digital-readiness");
  const Framework ok = FrameworkFromJson(distinct);
  EXPECT_TRUE(RunCheck(ok).empty());
  EXPECT_EQ(ok.kpis[1].key, "digital-readiness");
  EXPECT_EQ(FindKpiByKey(ok.kpis, "digital-readiness"), &ok.kpis[1]);
  EXPECT_EQ(FindKpiByKey(ok.kpis, ""), nullptr);
}

TEST(CheckTest, WarnsAboutThePmqaGroupOneQuirk) {
  const auto fw = esar::testing::SingleKpiFramework(esar::testing::kPmqaGroupsKpi);
  const auto findings = RunCheck(fw);
  EXPECT_FALSE(HasErrors(findings));
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].code, "targets-disordered");
  EXPECT_EQ(findings[0].severity, Severity::kWarning);
  EXPECT_EQ(findings[0].where.json_path, "/kpis/0/criteria/groups/0/criteria/targets/1");
  EXPECT_NE(findings[0].message_en.find("s = 274.99"), std::string::npos) << findings[0].message_en;
  EXPECT_NE(findings[0].message_en.find("group 1"), std::string::npos);
}

std::string GroupsKpi(const std::string& ranges, bool integer) {
  std::string groups;
  int i = 0;
  for (size_t start = 0; start < ranges.size();) {
    size_t end = ranges.find('|', start);
    if (end == std::string::npos) end = ranges.size();
    const std::string separator = i ? "," : "";
    ++i;
    groups += separator + R"({"id": ")" + std::to_string(i) + R"(", "range": )" +
              ranges.substr(start, end - start) +
              R"(, "criteria": {"form": "levels", "targets": [1, 2, 3]}})";
    start = end + 1;
  }
  return R"({"fiscal_year": 2567, "kpis": [{"id": "k", "component": "c", "name": "k",
      "variables": [{"id": "n", "type": "count"}, {"id": "r", "type": "number"}], "result": "r",
      "criteria": {"form": "groups", "by": "n", "integer": )" +
         std::string(integer ? "true" : "false") + R"(, "groups": [)" + groups +
         R"(]}}], "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "k", "weight": 100}]}]})";
}

TEST(CheckTest, GroupsThatOverlapOrLeaveAGapAreErrors) {
  EXPECT_TRUE(
      RunCheck(FrameworkFromJson(GroupsKpi(R"({"below": 350}|{"at_least": 350})", false))).empty());
  auto overlap =
      RunCheck(FrameworkFromJson(GroupsKpi(R"({"at_most": 350}|{"at_least": 350})", false)));
  ASSERT_NE(FindCode(overlap, "groups-overlap"), nullptr);
  auto gap = RunCheck(FrameworkFromJson(GroupsKpi(R"({"below": 350}|{"above": 350})", false)));
  ASSERT_NE(FindCode(gap, "groups-gap"), nullptr);
  // On whole numbers, 0–2 and 3–6 leave no gap; 0–2 and 4–6 do.
  EXPECT_TRUE(RunCheck(FrameworkFromJson(GroupsKpi(
                           R"({"at_least": 0, "at_most": 2}|{"at_least": 3, "at_most": 6})", true)))
                  .empty());
  EXPECT_NE(FindCode(RunCheck(FrameworkFromJson(GroupsKpi(
                         R"({"at_least": 0, "at_most": 2}|{"at_least": 4, "at_most": 6})", true))),
                     "groups-gap"),
            nullptr);
  EXPECT_NE(
      FindCode(RunCheck(FrameworkFromJson(GroupsKpi(R"({"at_least": 5, "below": 5})", false))),
               "group-empty"),
      nullptr);
}

TEST(CheckTest, WarnsAboutVariablesNoFormulaUses) {
  const auto fw = FrameworkFromJson(Framework2(
      R"([{"kpi": "1", "weight": 70}, {"kpi": "2", "weight": 30}])",
      R"(, {"id": "3", "component": "q", "name": "three", "flags": ["monitoring_only"], "variables": [{"id": "r", "type": "number"}],
         "criteria": {"form": "levels", "targets": [1, 2, 3]}},
         {"id": "4", "component": "q", "name": "four", "variables": [{"id": "a", "type": "number"}, {"id": "spare", "type": "number"}],
          "result": "a", "criteria": {"form": "levels", "targets": [1, 2, 3]}})"));
  const auto findings = RunCheck(fw);
  const Finding* unused = FindCode(findings, "variable-unused");
  ASSERT_NE(unused, nullptr);
  EXPECT_EQ(unused->where.json_path, "/kpis/3/variables/1");
}

TEST(CheckTest, UnknownVariablesInFormulasAreErrorsNamingTheKpi) {
  const auto fw = FrameworkFromJson(Framework2(
      R"([{"kpi": "1", "weight": 70}, {"kpi": "2", "weight": 30}])",
      R"(, {"id": "3", "component": "q", "name": "three", "variables": [{"id": "a", "type": "number"}],
         "result": "a + b", "criteria": {"form": "levels", "targets": [1, 2, 3]}})"));
  const auto findings = RunCheck(fw);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].code, "framework-invalid");
  EXPECT_EQ(findings[0].where.json_path, "/kpis/2");
  EXPECT_NE(findings[0].message_en.find("KPI 3"), std::string::npos);
  EXPECT_NE(findings[0].message_en.find("unknown name \"b\""), std::string::npos);
}

TEST(CheckTest, AnAgencyThatNeedsABaselineAndHasNoneIsAnError) {
  const auto fw = FrameworkFromJson(
      R"({"fiscal_year": 2567, "kpis": [{"id": "8", "component": "c", "name": "PMQA",
      "variables": [{"id": "pmqa", "type": "number"}],
      "references": [{"name": "s", "variable": "pmqa", "fiscal_year": 2566}],
      "criteria": {"form": "levels", "targets": [275, "s", 350]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "8", "weight": 100}]},
                    {"agencies": ["BOI"], "kpis": [{"kpi": "8", "exempt": true}]}]})");
  std::vector<Agency> agencies = {{"A", {"ก", "A"}, "", "", {"agencies.csv", "", 2}},
                                  {"B", {"ข", "B"}, "", "", {"agencies.csv", "", 3}},
                                  {"BOI", {"สกท.", "BOI"}, "", "", {"agencies.csv", "", 4}}};
  std::vector<Observation> data = {Obs("pmqa", 300, 2566, "8", "A"),
                                   Obs("pmqa", 320, 2567, "8", "A"),
                                   Obs("pmqa", 320, 2567, "8", "B")};
  const auto findings = RunCheck(fw, &agencies, &data);
  std::vector<const Finding*> missing;
  for (const Finding& f : findings) {
    if (f.code == "baseline-missing") missing.push_back(&f);
  }
  ASSERT_EQ(missing.size(), 1u);  // B; A has its baseline and BOI is exempt
  EXPECT_EQ(missing[0]->where.line, 3);
  EXPECT_NE(missing[0]->message_en.find("agency B"), std::string::npos);
}

TEST(CheckTest, AnAgencyWhoseOwnTargetsReadNoBaselineNeedsNone) {
  // Seed 002: BOI and DSD have their own pillar targets and no FY2566 pillar levels.
  const auto fw = FrameworkFromJson(
      R"J({"fiscal_year": 2567, "kpis": [{"id": "6", "component": "c", "name": "pillars",
      "variables": [{"id": "pillars", "type": "number_list", "length": 7}],
      "references": [{"name": "before", "variable": "pillars", "fiscal_year": 2566}],
      "result": "count_ge(3, pillars)",
      "criteria": {"form": "levels", "targets": ["count_ge(3, before)", "count_ge(3, before) + 1", "count_ge(3, before) + 2"]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "6", "weight": 100}]},
                    {"agencies": ["BOI"], "kpis": [{"kpi": "6", "criteria": {"form": "levels", "targets": [2, 3, 4], "scoring": "step"}}]}]})J");
  std::vector<Agency> agencies = {{"BOI", {"สกท.", "BOI"}, "", "", {}},
                                  {"A", {"ก", "A"}, "", "", {}}};
  std::vector<Observation> data = {
      esar::testing::ObsList("pillars", {3, 3, 3, 1, 1, 1, 1}, 2567, "6", "BOI"),
      esar::testing::ObsList("pillars", {3, 3, 3, 1, 1, 1, 1}, 2567, "6", "A")};
  const auto findings = RunCheck(fw, &agencies, &data);
  std::vector<std::string> who;
  for (const Finding& f : findings) {
    if (f.code == "baseline-missing") who.push_back(f.message_en.substr(0, 10));
  }
  EXPECT_EQ(who, std::vector<std::string>{"agency A n"});
  auto scores = esar::testing::ScoreAll(fw, data, {"BOI", "A"});
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_EQ(scores[0].kpis[0].status, KpiStatus::kScored);  // BOI: 3 pillars, own targets: standard
  EXPECT_DOUBLE_EQ(scores[0].kpis[0].score, 75);
  EXPECT_EQ(scores[1].kpis[0].status, KpiStatus::kMissing);  // A needs its FY2566 levels
}

TEST(CheckTest, DataProblemsNameTheirLine) {
  const auto fw =
      FrameworkFromJson(Framework2(R"([{"kpi": "1", "weight": 70}, {"kpi": "2", "weight": 30}])"));
  std::vector<Agency> agencies = {{"A", {"ก", "A"}, "", "", {}}};
  std::vector<Observation> data = {Obs("r", 120, 2567, "1", "A"), Obs("r", 50, 2567, "2", "A"),
                                   Obs("r", 60, 2567, "2", "A"),  Obs("q", 1, 2567, "2", "A"),
                                   Obs("r", 1, 2567, "9", "A"),   Obs("r", 1, 2567, "1", "Z")};
  for (size_t i = 0; i < data.size(); ++i)
    data[i].where = {"data.csv", "", static_cast<int>(i) + 2};
  const auto findings = RunCheck(fw, &agencies, &data);
  const Finding* range = FindCode(findings, "data-range");
  ASSERT_NE(range, nullptr);
  EXPECT_EQ(range->where.line, 2);
  const Finding* dup = FindCode(findings, "data-duplicate");
  ASSERT_NE(dup, nullptr);
  EXPECT_EQ(dup->where.line, 4);
  EXPECT_NE(dup->message_en.find("data.csv:3"), std::string::npos);
  EXPECT_NE(FindCode(findings, "data-variable"), nullptr);
  EXPECT_NE(FindCode(findings, "data-kpi"), nullptr);
  EXPECT_NE(FindCode(findings, "data-agency"), nullptr);
}

TEST(CheckTest, AgencyHierarchiesMustNotLoop) {
  const auto fw =
      FrameworkFromJson(Framework2(R"([{"kpi": "1", "weight": 70}, {"kpi": "2", "weight": 30}])"));
  std::vector<Agency> agencies = {{"A", {}, "", "B", {}},
                                  {"B", {}, "", "C", {}},
                                  {"C", {}, "", "A", {}},
                                  {"D", {}, "", "nowhere", {}},
                                  {"D", {}, "", "", {}}};
  const auto findings = RunCheck(fw, &agencies);
  EXPECT_NE(FindCode(findings, "agency-cycle"), nullptr);
  EXPECT_NE(FindCode(findings, "agency-parent"), nullptr);
  EXPECT_NE(FindCode(findings, "agency-duplicate"), nullptr);
}

}  // namespace
}  // namespace esar::domain

namespace esar::domain {
namespace {

// A KPI computed from cases: every round it is scored in needs a cut-off and one window per
// class; its counts fill declared count variables; its cut-offs lie in the fiscal year.
TEST(CheckTest, CaseRulesNeedCutoffsWindowsAndCountVariables) {
  auto kpi = [](const std::string& cases) {
    return esar::testing::SingleKpiFramework(
        R"({"id": "k", "component": "c", "name": "n", "variables": [{"id": "ok", "type": "count"},
          {"id": "n", "type": "count"}, {"id": "x", "type": "pass_fail"}], "result": "ok * 100 / n",
          "criteria": {"form": "levels", "targets": [80, 90, 100]}, "cases": )" + cases + "}");
  };
  const std::string good_class =
      R"({"id": "o", "standard": {"days": 53}, "windows": [{"rounds": [6], "from": "2023-08-01", "to": "2024-01-31"},
          {"rounds": [12], "from": "2023-08-01", "to": "2024-07-31"}]})";
  auto fw = kpi(R"({"kinds": ["opinion"], "cutoffs": {"6": "2024-03-31", "12": "2024-09-30"},
                   "classes": [)" + good_class + R"(], "variables": {"on_time": "ok", "counted": "n"}})");
  auto findings = RunCheck(fw);
  for (const Finding& f : findings) EXPECT_NE(f.code.substr(0, 5), "cases") << f.message_en;

  // No 6-month cut-off, a class with no 12-month window (and one with two 6-month windows), a
  // cut-off in another fiscal year, a variable that is pass/fail.
  fw = kpi(R"({"kinds": [], "cutoffs": {"12": "2025-01-31"},
     "classes": [{"id": "a", "standard": {"days": 53}, "windows": [{"rounds": [6], "from": "2023-08-01", "to": "2024-01-31"},
       {"rounds": [6], "from": "2023-08-01", "to": "2024-01-31"}]}],
     "variables": {"on_time": "x", "counted": "n"}})");
  findings = RunCheck(fw);
  const Finding* f = FindCode(findings, "cases-cutoff");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_EQ(f->where.json_path, "/kpis/0/cases/cutoffs");
  EXPECT_NE(f->message_en.find("6-month"), std::string::npos);
  int windows = 0;
  for (const Finding& w : findings) windows += w.code == "cases-window" ? 1 : 0;
  EXPECT_EQ(windows, 2);  // two 6-month windows, no 12-month one
  f = FindCode(findings, "cases-cutoff-year");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_NE(f->message_en.find("2025-01-31"), std::string::npos);
  f = FindCode(findings, "cases-variable");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message_en.find("\"x\""), std::string::npos);
  ASSERT_NE(FindCode(findings, "cases-kinds"), nullptr);
}

}  // namespace
}  // namespace esar::domain

namespace esar::domain {
namespace {

// A KPI whose variables the data-catalog check fills: counts for the counts, a percent for the
// share, each declared by the KPI; naming none is an error too.
TEST(CheckTest, CatalogRulesFillDeclaredVariablesOfTheRightType) {
  auto kpi = [](const std::string& catalog) {
    return esar::testing::SingleKpiFramework(
        R"({"id": "k", "component": "c", "name": "n", "variables": [{"id": "n", "type": "count"},
          {"id": "ok", "type": "count"}, {"id": "pct", "type": "percent"}, {"id": "x", "type": "pass_fail"}],
          "result": "ok * 100 / n", "criteria": {"form": "levels", "targets": [80, 90, 100]},
          "catalog": )" + catalog + "}");
  };
  auto findings =
      RunCheck(kpi(R"({"variables": {"datasets": "n", "complete": "ok", "complete_percent": "pct"}})"));
  EXPECT_EQ(FindCode(findings, "catalog-variable"), nullptr);

  findings = RunCheck(kpi(R"({"variables": {"datasets": "x", "complete_percent": "ok"}})"));
  int bad = 0;
  for (const Finding& f : findings) {
    if (f.code != "catalog-variable") continue;
    ++bad;
    EXPECT_EQ(f.severity, Severity::kError);
  }
  EXPECT_EQ(bad, 2);  // x is pass/fail; ok is a count, not a percent
  const Finding* f = FindCode(findings, "catalog-variable");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->where.json_path, "/kpis/0/catalog/variables/datasets");
  EXPECT_NE(f->message_th.find("\"x\""), std::string::npos);

  findings = RunCheck(kpi(R"({"variables": {"datasets": "missing"}})"));
  f = FindCode(findings, "catalog-variable");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message_en.find("\"missing\""), std::string::npos);

  findings = RunCheck(kpi(R"({"variables": {}})"));
  f = FindCode(findings, "catalog-variable");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message_en.find("names no variable"), std::string::npos);
}

// A dated milestone (domain.md §4.3) in FY2567: plan approved by `due`, its day in plan_on.
std::string DatedMilestoneFramework(const std::string& due) {
  return R"({"fiscal_year": 2567, "components": [{"id": "p", "name": "p", "share": 100}],
    "kpis": [{"id": "1", "component": "p", "name": "plan",
      "variables": [{"id": "plan", "type": "pass_fail"}, {"id": "plan_on", "type": "date"}],
      "criteria": {"form": "milestones", "cumulative": false, "levels": [
        [{"variable": "plan", "due": ")" + due + R"(", "reached": "plan_on"}], [], []]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 100}]}]})";
}

TEST(CheckTest, ADueDateOutsideTheFiscalYearIsAWarning) {
  // FY2567 runs from 1 Oct 2023 to 30 Sep 2024: both ends are inside, a day beyond is not.
  for (const char* inside : {"2023-10-01", "2023-12-31", "2024-09-30"})
    EXPECT_EQ(FindCode(RunCheck(FrameworkFromJson(DatedMilestoneFramework(inside))),
                       "milestone-due-outside-year"),
              nullptr)
        << inside;
  for (const char* outside : {"2023-09-30", "2024-10-01", "2020-12-31"}) {
    const auto findings = RunCheck(FrameworkFromJson(DatedMilestoneFramework(outside)));
    const Finding* f = FindCode(findings, "milestone-due-outside-year");
    ASSERT_NE(f, nullptr) << outside;
    EXPECT_EQ(f->severity, Severity::kWarning);
    EXPECT_EQ(f->where.json_path, "/kpis/0/criteria/levels/0/0/due");
    EXPECT_NE(f->message_en.find(std::string("due on ") + outside), std::string::npos);
    EXPECT_NE(f->message_th.find("นอกปีงบประมาณ พ.ศ. 2567"), std::string::npos);
  }
}

TEST(CheckTest, DataForADatedMilestone) {
  const auto fw = FrameworkFromJson(DatedMilestoneFramework("2023-12-31"));
  auto obs = [](const std::string& agency, const std::string& variable, double v, int line) {
    Observation o = Obs(variable, v, 2567, "1", agency);
    o.where = Location{"data.csv", "", line};
    return o;
  };
  // A: reached with its date; B: reached, no date; C: a date that is no day; D: not reached.
  const std::vector<Observation> data = {
      obs("A", "plan", 1, 2), obs("A", "plan_on", DayFromCivil(2024, 1, 15), 3),
      obs("B", "plan", 1, 4), obs("C", "plan", 1, 5), obs("C", "plan_on", 12.5, 6),
      obs("D", "plan", 0, 7)};
  const auto findings = RunCheck(fw, nullptr, &data);
  std::vector<const Finding*> missing, bad;
  for (const Finding& f : findings) {
    if (f.code == "milestone-date-missing") missing.push_back(&f);
    if (f.code == "data-range") bad.push_back(&f);
  }
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0]->where.line, 4);
  EXPECT_EQ(missing[0]->severity, Severity::kWarning);
  EXPECT_NE(missing[0]->message_en.find("gives no date it was reached (\"plan_on\")"), std::string::npos);
  EXPECT_NE(missing[0]->message_th.find("ไม่ได้ให้วันที่บรรลุ"), std::string::npos);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0]->where.line, 6);
  EXPECT_EQ(bad[0]->severity, Severity::kError);
  EXPECT_NE(bad[0]->message_en.find("is not a date"), std::string::npos);
  EXPECT_NE(bad[0]->message_th.find("ไม่ใช่วันที่"), std::string::npos);
  // The date variable is used (by the milestone), so it is not reported unused.
  EXPECT_EQ(FindCode(findings, "variable-unused"), nullptr);
}

}  // namespace
}  // namespace esar::domain
