// One test per criteria form of domain.md §4, with expectations computed by hand in the comments,
// then totals, statuses and properties.
#include "domain/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "formats/report.h"
#include "tests/support/framework_builder.h"

namespace esar::domain {
namespace {

using esar::testing::LevelsKpi;
using esar::testing::Obs;
using esar::testing::ObsList;
using esar::testing::ScoreAll;
using esar::testing::ScoreKpi;
using esar::testing::SingleKpiFramework;

constexpr double kEps = 1e-9;

double LevelsScore(const std::string& targets, double result, const std::string& more = "",
                   const std::string& extra = "") {
  KpiScore k = ScoreKpi(LevelsKpi(targets, more), {Obs("r", result)}, extra);
  EXPECT_EQ(k.status, KpiStatus::kScored);
  return k.score;
}

// §4.1 numeric thresholds (seed 003 KPI 1): 80 -> 50, 90 -> 75, 100 -> 100.
TEST(LevelsTest, InterpolatesBetweenTheTwoSurroundingTargets) {
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 85), 62.5, kEps);     // 50 + 5/10 × 25
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 91.6), 79.0, kEps);   // 75 + 1.6/10 × 25
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 99.52), 98.8, kEps);  // 75 + 9.52/10 × 25
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 80), 50, kEps);
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 90), 75, kEps);
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 100), 100, kEps);
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 130), 100, kEps);  // above advanced: 100
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 79.99), 0, kEps);  // below basic: 0
}

TEST(LevelsTest, ReportsTheTwoPointsInterpolatedInTheTrace) {
  KpiScore k = ScoreKpi(LevelsKpi("[80, 90, 100]"), {Obs("r", 85)});
  bool found = false;
  for (const TraceStep& s : k.trace) {
    if (s.kind != TraceKind::kInterpolated) continue;
    found = true;
    EXPECT_EQ(s.level, 0);
    EXPECT_EQ(s.level2, 1);
    EXPECT_DOUBLE_EQ(s.value2, 80);
    EXPECT_DOUBLE_EQ(s.value3, 50);
    EXPECT_DOUBLE_EQ(s.value4, 90);
    EXPECT_DOUBLE_EQ(s.value5, 75);
    EXPECT_DOUBLE_EQ(s.value6, 62.5);
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(k.level, 0);
}

// One agency's published FY2567 table reads 50 / 70 / 100: the points are a framework setting.
TEST(LevelsTest, LevelPointsAreAFrameworkSetting) {
  const std::string points =
      R"("levels": [{"name": "basic", "points": 50}, {"name": "standard", "points": 70},
                                            {"name": "advanced", "points": 100}],)";
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 85, "", points), 60, kEps);  // 50 + 5/10 × 20
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 95, "", points), 85, kEps);  // 70 + 5/10 × 30
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 90, "", points), 70, kEps);
}

TEST(LevelsTest, StepScoringGivesTheHighestLevelFullyReached) {
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 89.9, R"(, "scoring": "step")"), 50, kEps);
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 90, R"(, "scoring": "step")"), 75, kEps);
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 79, R"(, "scoring": "step")"), 0, kEps);
}

// Lower is better (e.g. days to finish): 30 days -> 50, 20 -> 75, 10 -> 100.
TEST(LevelsTest, LowerIsBetterMirrorsEverything) {
  const std::string lower = R"(, "direction": "lower")";
  EXPECT_NEAR(LevelsScore("[30, 20, 10]", 25, lower), 62.5, kEps);
  EXPECT_NEAR(LevelsScore("[30, 20, 10]", 12, lower), 95, kEps);  // 75 + 8/10 × 25
  EXPECT_NEAR(LevelsScore("[30, 20, 10]", 5, lower), 100, kEps);
  EXPECT_NEAR(LevelsScore("[30, 20, 10]", 31, lower), 0, kEps);
}

// §4.2 a missing level (seed 003 KPI 5, PMQA): 240 -> 50, standard "-", 350 -> 100.
TEST(LevelsTest, SkipsAMissingLevel) {
  EXPECT_NEAR(LevelsScore("[240, null, 350]", 300), 50 + 60.0 / 110.0 * 50, kEps);  // 77.2727...
  EXPECT_NEAR(LevelsScore(R"([240, "-", 350])", 271.5), 50 + 31.5 / 110.0 * 50, kEps);
  EXPECT_NEAR(LevelsScore("[240, null, 350]", 240), 50, kEps);
  EXPECT_NEAR(LevelsScore("[240, null, 350]", 350), 100, kEps);
}

TEST(LevelsTest, BelowBasicCanInterpolateFromZero) {
  const std::string from_zero = R"("below_basic": {"interpolate_from": 0},)";
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 40, "", from_zero), 25, kEps);  // 50 × 40/80
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 0, "", from_zero), 0, kEps);
  // A KPI's own rule overrides the framework's.
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 40, R"(, "below_basic": "zero")", from_zero), 0, kEps);
  EXPECT_NEAR(LevelsScore("[80, 90, 100]", 60, R"(, "below_basic": {"interpolate_from": 40})"), 25,
              kEps);
}

TEST(LevelsTest, EqualTargetsEarnTheHigherLevel) {
  EXPECT_NEAR(LevelsScore("[80, 80, 100]", 80), 75, kEps);
  EXPECT_NEAR(LevelsScore("[80, 80, 100]", 90), 87.5, kEps);
}

// Readiness score group 3 (seed 002): s - 10 / s / strictly above s.
TEST(LevelsTest, AStrictTargetIsReachedOnlyAboveIt) {
  const std::string kpi = R"({"id": "k", "component": "c", "name": "k",
      "variables": [{"id": "r", "type": "number"}],
      "references": [{"name": "s", "variable": "r", "fiscal_year": 2566}],
      "criteria": {"form": "levels", "targets": ["s - 10", "s", {"above": "s"}]}})";
  auto score = [&](double r) { return ScoreKpi(kpi, {Obs("r", 70, 2566), Obs("r", r)}).score; };
  EXPECT_NEAR(score(70), 75, kEps);  // reaches s, not "above s"
  EXPECT_NEAR(score(70.01), 100, kEps);
  EXPECT_NEAR(score(65), 62.5, kEps);  // between s-10 and s
  EXPECT_NEAR(score(60), 50, kEps);
  EXPECT_NEAR(score(59.9), 0, kEps);
}

TEST(LevelsTest, TheSegmentBelowAStrictTargetIsAStep) {
  // basic 80, standard 90, advanced above 100: 95 earns the standard level's 75, not 87.5.
  EXPECT_NEAR(LevelsScore(R"([80, 90, {"above": 100}])", 95), 75, kEps);
  EXPECT_NEAR(LevelsScore(R"([80, 90, {"above": 100}])", 100), 75, kEps);
  EXPECT_NEAR(LevelsScore(R"([80, 90, {"above": 100}])", 100.5), 100, kEps);
}

// The PMQA group 1 quirk (seed 002): s = 260 gives 275 / 260 / 350.
const char* kPmqaGroup1 = R"({"id": "k", "component": "c", "name": "PMQA",
    "variables": [{"id": "pmqa", "type": "number"}],
    "references": [{"name": "s", "variable": "pmqa", "fiscal_year": 2566}],
    "criteria": {"form": "levels", "targets": [275, "s", 350]}})";

TEST(LevelsTest, ATargetBelowThePreviousOneIsRaisedToIt) {
  auto score = [](double r) {
    return ScoreKpi(kPmqaGroup1, {Obs("pmqa", 260, 2566), Obs("pmqa", r)}).score;
  };
  EXPECT_NEAR(score(275), 75, kEps);      // 275 / 275 / 350: reaching 275 earns standard
  EXPECT_NEAR(score(312.5), 87.5, kEps);  // 75 + 37.5/75 × 25
  EXPECT_NEAR(score(270), 0, kEps);       // reached "s" (260) but not basic: below basic
  KpiScore k = ScoreKpi(kPmqaGroup1, {Obs("pmqa", 260, 2566), Obs("pmqa", 300)});
  bool raised = false;
  for (const TraceStep& s : k.trace)
    raised = raised || (s.kind == TraceKind::kTargetRaised && s.value == 260 && s.value2 == 275);
  EXPECT_TRUE(raised);
}

TEST(LevelsTest, ATargetBelowThePreviousOneCanBeSkippedInstead) {
  const std::string skip = R"("disordered_targets": "skip",)";
  auto score = [&](double r) {
    return ScoreKpi(kPmqaGroup1, {Obs("pmqa", 260, 2566), Obs("pmqa", r)}, skip).score;
  };
  EXPECT_NEAR(score(275), 50, kEps);    // 275 / - / 350
  EXPECT_NEAR(score(312.5), 75, kEps);  // 50 + 37.5/75 × 50
}

// §4.3 milestones (seed 003 KPI 3).
const char* kMilestonesKpi = R"({"id": "k", "component": "c", "name": "inspection",
    "variables": [{"id": "plan", "type": "pass_fail"}, {"id": "six", "type": "pass_fail"},
                  {"id": "central", "type": "count"}, {"id": "regional", "type": "count"},
                  {"id": "all_units", "type": "derived", "formula": "central >= 46 && regional >= 854"}],
    "criteria": {"form": "milestones", "levels": [[{"variable": "plan"}], [{"variable": "six"}],
                                                  [{"variable": "all_units"}]]}})";

TEST(MilestonesTest, ScoresTheHighestLevelWhoseMilestonesAndAllBelowPass) {
  auto score = [](double plan, double six, double central, double regional) {
    return ScoreKpi(kMilestonesKpi, {Obs("plan", plan), Obs("six", six), Obs("central", central),
                                     Obs("regional", regional)})
        .score;
  };
  EXPECT_NEAR(score(1, 1, 46, 854), 100, kEps);
  EXPECT_NEAR(score(1, 1, 46, 853), 75, kEps);  // one regional unit short
  EXPECT_NEAR(score(1, 0, 46, 854), 50, kEps);  // cumulative: level 3 needs level 2
  EXPECT_NEAR(score(0, 1, 46, 854), 0, kEps);
}

TEST(MilestonesTest, NonCumulativeMilestonesScoreTheHighestLevelPassed) {
  std::string kpi = kMilestonesKpi;
  kpi.replace(kpi.find(R"("form": "milestones")"), 20,
              R"("form": "milestones", "cumulative": false)");
  KpiScore k =
      ScoreKpi(kpi, {Obs("plan", 1), Obs("six", 0), Obs("central", 46), Obs("regional", 900)});
  EXPECT_NEAR(k.score, 100, kEps);
}

// §4.3 milestones with due dates (seed 003 KPI 2: "plan approved by December 2563"), here in
// FY2567: level 2's plan must be approved by 31 Dec 2023; the agency reports the day it was.
const char* kDatedMilestonesKpi = R"({"id": "k", "component": "c", "name": "plan",
    "variables": [{"id": "team", "type": "pass_fail"}, {"id": "plan", "type": "pass_fail"},
                  {"id": "plan_on", "type": "date"}, {"id": "done", "type": "pass_fail"}],
    "criteria": {"form": "milestones", "levels": [
      [{"variable": "team", "text": {"th": "ตั้งคณะทำงาน", "en": "team set up"}}],
      [{"variable": "plan", "text": {"th": "อนุมัติแผน", "en": "plan approved"},
        "due": "2023-12-31", "reached": "plan_on"}],
      [{"variable": "done", "text": "done"}]]}})";

// The KPI scored with team and done passed, `plan` as given and `plan_on` (when not NaN).
KpiScore DatedMilestone(double plan, double plan_on) {
  std::vector<Observation> data = {Obs("team", 1), Obs("plan", plan), Obs("done", 0)};
  if (!std::isnan(plan_on)) data.push_back(Obs("plan_on", plan_on));
  return ScoreKpi(kDatedMilestonesKpi, data);
}

// The trace step of the dated milestone.
const TraceStep* PlanStep(const KpiScore& k) {
  for (const TraceStep& s : k.trace) {
    if (s.kind == TraceKind::kMilestone && s.id == "plan") return &s;
  }
  return nullptr;
}

TEST(DatedMilestonesTest, ReachedOnTimeCounts) {
  KpiScore k = DatedMilestone(1, DayFromCivil(2023, 12, 15));
  EXPECT_EQ(k.status, KpiStatus::kScored);
  EXPECT_NEAR(k.score, 75, kEps);  // level 2 reached, level 3 (done) not
  const TraceStep* s = PlanStep(k);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->flag);
  EXPECT_TRUE(s->flag2);
  EXPECT_EQ(s->detail, "on_time");
  EXPECT_DOUBLE_EQ(s->value, DayFromCivil(2023, 12, 31));
  EXPECT_DOUBLE_EQ(s->value2, DayFromCivil(2023, 12, 15));
}

TEST(DatedMilestonesTest, ReachedOnTheDueDayItselfCounts) {
  KpiScore k = DatedMilestone(1, DayFromCivil(2023, 12, 31));
  EXPECT_NEAR(k.score, 75, kEps);
  ASSERT_NE(PlanStep(k), nullptr);
  EXPECT_EQ(PlanStep(k)->detail, "on_time");
}

TEST(DatedMilestonesTest, ReachedAfterTheDueDateDoesNotCount) {
  // One day late is late; cumulative, so level 3 cannot be reached past it either.
  for (Day day : {DayFromCivil(2024, 1, 1), DayFromCivil(2024, 1, 15)}) {
    KpiScore k = DatedMilestone(1, day);
    EXPECT_EQ(k.status, KpiStatus::kScored);
    EXPECT_NEAR(k.score, 50, kEps);
    EXPECT_EQ(k.level, 0);
    const TraceStep* s = PlanStep(k);
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(s->flag);
    EXPECT_EQ(s->detail, "late");
    EXPECT_DOUBLE_EQ(s->value2, day);
  }
}

TEST(DatedMilestonesTest, NotReachedDoesNotCountWhateverTheDate) {
  for (double day : {std::nan(""), static_cast<double>(DayFromCivil(2023, 12, 1))}) {
    KpiScore k = DatedMilestone(0, day);
    EXPECT_NEAR(k.score, 50, kEps);
    ASSERT_NE(PlanStep(k), nullptr);
    EXPECT_FALSE(PlanStep(k)->flag);
    EXPECT_EQ(PlanStep(k)->detail, "not_reached");
  }
}

TEST(DatedMilestonesTest, ReachedWithoutItsDateDoesNotCountAndTheKpiIsStillScored) {
  KpiScore k = DatedMilestone(1, std::nan(""));
  EXPECT_EQ(k.status, KpiStatus::kScored);
  EXPECT_NEAR(k.score, 50, kEps);
  ASSERT_NE(PlanStep(k), nullptr);
  EXPECT_FALSE(PlanStep(k)->flag);
  EXPECT_EQ(PlanStep(k)->detail, "no_date");
}

TEST(DatedMilestonesTest, WithLaterLevelsNonCumulativeOnlyTheLateLevelIsLost) {
  std::string kpi = kDatedMilestonesKpi;
  kpi.replace(kpi.find(R"("form": "milestones")"), 20,
              R"("form": "milestones", "cumulative": false)");
  KpiScore k = ScoreKpi(kpi, {Obs("team", 1), Obs("plan", 1), Obs("done", 1),
                              Obs("plan_on", DayFromCivil(2024, 2, 1))});
  EXPECT_NEAR(k.score, 100, kEps);  // level 3 passes on its own
}

// The explanation says in Thai and English when the milestone was reached against its due date.
TEST(DatedMilestonesTest, TheExplanationSaysLateOnTimeOrNoDate) {
  const Framework fw = SingleKpiFramework(kDatedMilestonesKpi);
  auto line = [&](double plan, double plan_on, Lang lang) {
    for (const std::string& l : formats::ExplainKpi(fw, DatedMilestone(plan, plan_on), lang)) {
      if (l.find(lang == Lang::kThai ? "อนุมัติแผน" : "plan approved") != std::string::npos) return l;
    }
    return std::string("(none)");
  };
  const double late = DayFromCivil(2024, 1, 15);
  EXPECT_EQ(line(1, late, Lang::kThai),
            "✗ ขั้นที่ 2 อนุมัติแผน: บรรลุ 15 ม.ค. 2567 หลังกำหนด 31 ธ.ค. 2566 จึงไม่นับ");
  EXPECT_EQ(line(1, late, Lang::kEnglish),
            "✗ step 2 plan approved: reached on 15 Jan 2024, after its due date 31 Dec 2023, so it "
            "does not count");
  EXPECT_EQ(line(1, DayFromCivil(2023, 12, 31), Lang::kThai),
            "✓ ขั้นที่ 2 อนุมัติแผน: บรรลุ 31 ธ.ค. 2566 ภายในกำหนด 31 ธ.ค. 2566 — ผ่าน");
  EXPECT_NE(line(1, std::nan(""), Lang::kThai).find("ไม่ได้ระบุวันที่บรรลุ"), std::string::npos);
  EXPECT_NE(line(1, std::nan(""), Lang::kEnglish).find("without the date it was reached"),
            std::string::npos);
  EXPECT_NE(line(0, std::nan(""), Lang::kThai).find("ยังไม่บรรลุ (กำหนด 31 ธ.ค. 2566)"),
            std::string::npos);
}

TEST(DatedMilestonesTest, TheMilestoneMustNameADateVariable) {
  std::string kpi = kDatedMilestonesKpi;
  kpi.replace(kpi.find(R"("reached": "plan_on")"), 20, R"("reached": "team")");
  auto engine = Engine::Compile(SingleKpiFramework(kpi), 12);
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message_en().find("not a date variable"), std::string::npos);
  EXPECT_NE(engine.status().message_th().find("ไม่ใช่ตัวแปรชนิดวันที่"), std::string::npos);
}

// §4.4 points for components with a prerequisite (seed 000, Data Catalog FY2565).
const char* kDataCatalogPoints = R"({"id": "k", "component": "c", "name": "Data Catalog",
    "variables": [{"id": "listed", "type": "count"}, {"id": "complete", "type": "count"},
                  {"id": "url", "type": "pass_fail"}, {"id": "open_pct", "type": "percent"},
                  {"id": "used", "type": "count"}],
    "criteria": {"form": "points", "items": [
      {"id": "list", "points": 50, "when": "listed >= 1"},
      {"id": "metadata", "points": 15, "when": "complete == listed", "requires": ["list"]},
      {"id": "url", "points": 10, "when": "url", "requires": ["list"]},
      {"id": "open", "points": 20, "when": "open_pct >= 100", "requires": ["list"]},
      {"id": "use", "points": 5, "when": "used >= 1", "requires": ["list"]}]}})";

TEST(PointsTest, AddsThePointsOfEveryItemMet) {
  auto score = [](double listed, double complete, double url, double open, double used) {
    return ScoreKpi(kDataCatalogPoints, {Obs("listed", listed), Obs("complete", complete),
                                         Obs("url", url), Obs("open_pct", open), Obs("used", used)})
        .score;
  };
  EXPECT_NEAR(score(10, 10, 1, 100, 1), 100, kEps);
  EXPECT_NEAR(score(10, 9, 1, 100, 1), 85, kEps);  // one dataset short of 14 items: +15 lost
  EXPECT_NEAR(score(10, 10, 0, 99, 0), 65, kEps);
  EXPECT_NEAR(score(0, 0, 1, 100, 1), 0, kEps);  // no list: nothing else counts
}

TEST(PointsTest, TheTraceSaysWhenAPrerequisiteIsMissing) {
  KpiScore k = ScoreKpi(kDataCatalogPoints, {Obs("listed", 0), Obs("complete", 0), Obs("url", 1),
                                             Obs("open_pct", 100), Obs("used", 1)});
  int blocked = 0;
  for (const TraceStep& s : k.trace) blocked += s.kind == TraceKind::kPointsItem && s.flag2;
  EXPECT_EQ(blocked, 4);
}

// §3 sub-KPIs (seed 003 KPI 4): 4.1 is worth 25 points of KPI 4 (12.5 / 18.75 / 25).
TEST(CompositeTest, WeighsSubKpisInsideTheParent) {
  const std::string kpi = R"({"id": "k", "component": "c", "name": "KPI 4", "sub_kpis": [
      {"id": "k.1", "weight": 25, "name": "Data Catalog", "variables": [{"id": "a", "type": "number"}],
       "criteria": {"form": "levels", "targets": [1, 2, 3], "scoring": "step"}},
      {"id": "k.2", "weight": 75, "name": "rest", "variables": [{"id": "b", "type": "number"}],
       "criteria": {"form": "levels", "targets": [80, 90, 100]}}]})";
  auto score = [&](double a, double b) {
    return ScoreKpi(kpi, {Obs("a", a, 2567, "k.1"), Obs("b", b, 2567, "k.2")});
  };
  EXPECT_NEAR(score(1, 100).score, 12.5 + 75, kEps);
  EXPECT_NEAR(score(2, 100).score, 18.75 + 75, kEps);
  EXPECT_NEAR(score(3, 95).score, 25 + 87.5 * 0.75, kEps);  // 90.625
  KpiScore k = score(3, 95);
  ASSERT_EQ(k.sub_kpis.size(), 2u);
  EXPECT_NEAR(k.sub_kpis[0].weighted, 25, kEps);
  EXPECT_NEAR(k.sub_kpis[1].weighted, 65.625, kEps);
}

// §4.5 groups chosen by a baseline, targets relative to it: all four PMQA groups of seed 002.
const char* const kPmqaGroups = esar::testing::kPmqaGroupsKpi;

TEST(GroupsTest, ChoosesThePmqaGroupByLastYearsScoreAndSubstitutesIt) {
  auto score = [](double s, double r) {
    return ScoreKpi(kPmqaGroups, {Obs("pmqa", s, 2566), Obs("pmqa", r)});
  };
  KpiScore g1 = score(300, 320);  // 275 / 300 / 350: 75 + 20/50 × 25
  EXPECT_EQ(g1.group, "1");
  EXPECT_NEAR(g1.score, 85, kEps);
  KpiScore g2 = score(380, 399);  // 350 / 380 / 418: 75 + 19/38 × 25
  EXPECT_EQ(g2.group, "2");
  EXPECT_NEAR(g2.score, 87.5, kEps);
  KpiScore g3 = score(420, 428.4);  // 400 / 420 / 428.4
  EXPECT_EQ(g3.group, "3");
  EXPECT_NEAR(g3.score, 100, kEps);
  KpiScore g3_edge = score(450, 400);  // 450 is still group 3
  EXPECT_EQ(g3_edge.group, "3");
  EXPECT_NEAR(g3_edge.score, 50, kEps);
  KpiScore g4 = score(460, 450);  // 445 / 452.5 / 460: 50 + 5/7.5 × 25
  EXPECT_EQ(g4.group, "4");
  EXPECT_NEAR(g4.score, 50 + 5.0 / 7.5 * 25, kEps);
}

TEST(GroupsTest, TheTraceNamesTheGroupAndTheTargetsAfterSubstitution) {
  KpiScore k = ScoreKpi(kPmqaGroups, {Obs("pmqa", 380, 2566), Obs("pmqa", 399)});
  bool group = false;
  std::vector<double> targets;
  for (const TraceStep& s : k.trace) {
    if (s.kind == TraceKind::kGroupChosen) group = s.id == "2" && s.value == 380;
    if (s.kind == TraceKind::kTarget) targets.push_back(s.value);
  }
  EXPECT_TRUE(group);
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_NEAR(targets[2], 418, kEps);
}

// Seed 002: pillar groups by the FY2566 count of pillars at level >= 3, with conditions over a
// list.
const char* kPillars = R"J({"id": "k", "component": "c", "name": "DG pillars", "rounds": [12],
    "variables": [{"id": "pillars", "type": "number_list", "length": 7, "min": 1, "max": 5}],
    "references": [{"name": "before", "variable": "pillars", "fiscal_year": 2566}],
    "result": "count_ge(3, pillars)",
    "criteria": {"form": "groups", "by": "count_ge(3, before)", "integer": true, "groups": [
      {"id": "1", "range": {"at_least": 0, "at_most": 2}, "criteria": {"form": "levels", "targets": [1, 2, 3], "scoring": "step"}},
      {"id": "2", "range": {"at_least": 3, "at_most": 6}, "criteria": {"form": "levels",
        "targets": ["count_ge(3, before) - 1", "count_ge(3, before)", "count_ge(3, before) + 1"], "scoring": "step"}},
      {"id": "3", "range": {"at_least": 7, "at_most": 7}, "criteria": {"form": "conditions", "levels": [
        "count_ge(3, pillars) >= 6", "count_ge(3, pillars) >= 7", "count_ge(4, pillars) >= 3 && min(pillars) >= 3"]}}]}})J";

TEST(GroupsTest, PillarGroupsUseConditionsOverAList) {
  auto score = [](std::vector<double> before, std::vector<double> now) {
    return ScoreKpi(kPillars, {ObsList("pillars", std::move(before), 2566),
                               ObsList("pillars", std::move(now))});
  };
  KpiScore g1 = score({1, 2, 3, 2, 2, 1, 1}, {3, 3, 2, 2, 2, 1, 1});  // p=1; now 2 -> standard
  EXPECT_EQ(g1.group, "1");
  EXPECT_NEAR(g1.score, 75, kEps);
  KpiScore g2 = score({3, 3, 3, 3, 2, 2, 2}, {3, 3, 3, 3, 3, 2, 2});  // p=4: 3 / 4 / 5; now 5
  EXPECT_EQ(g2.group, "2");
  EXPECT_NEAR(g2.score, 100, kEps);
  KpiScore g3a =
      score({3, 3, 3, 3, 3, 3, 3}, {4, 4, 4, 3, 3, 3, 3});  // >= 3 at level 4, none below 3
  EXPECT_EQ(g3a.group, "3");
  EXPECT_NEAR(g3a.score, 100, kEps);
  KpiScore g3b = score({3, 3, 3, 3, 3, 3, 3}, {4, 4, 3, 3, 3, 3, 3});  // only two at level 4
  EXPECT_NEAR(g3b.score, 75, kEps);
  KpiScore g3c = score({3, 3, 3, 3, 3, 3, 3}, {5, 5, 5, 5, 3, 3, 2});  // one below 3
  EXPECT_NEAR(g3c.score, 50, kEps);
}

// Seed 002: the readiness score, in groups by the FY2566 count of pillars at level >= 3:
// groups 1–2 (0–6 pillars): s − 10 / s / s + 5; group 3 (all 7): s − 10 / s / strictly above s.
TEST(GroupsTest, ReadinessScoreGroupsByThePillarCount) {
  const std::string kpi =
      R"J({"id": "k", "component": "c", "name": "DG readiness score", "rounds": [12],
      "variables": [{"id": "score", "type": "number"}],
      "references": [{"name": "s", "variable": "score", "fiscal_year": 2566},
                     {"name": "p", "kpi": "pillars", "variable": "levels", "fiscal_year": 2566}],
      "criteria": {"form": "groups", "by": "count_ge(3, p)", "integer": true, "groups": [
        {"id": "1-2", "range": {"at_least": 0, "at_most": 6}, "criteria": {"form": "levels", "targets": ["s - 10", "s", "s + 5"]}},
        {"id": "3", "range": {"at_least": 7, "at_most": 7}, "criteria": {"form": "levels", "targets": ["s - 10", "s", {"above": "s"}]}}]}},
    {"id": "pillars", "component": "c", "name": "DG pillars", "variables": [{"id": "levels", "type": "number_list", "length": 7}],
     "result": "count_ge(3, levels)", "criteria": {"form": "levels", "targets": [1, 2, 3]}})J";
  auto score = [&](std::vector<double> pillars, double s, double now) {
    return ScoreKpi(kpi, {ObsList("levels", std::move(pillars), 2566, "pillars"),
                          Obs("score", s, 2566), Obs("score", now)});
  };
  KpiScore a =
      score({3, 3, 3, 2, 2, 2, 2}, 60, 62.5);  // group 1-2: 50 / 60 / 65 -> 75 + 2.5/5 × 25
  EXPECT_EQ(a.group, "1-2");
  EXPECT_NEAR(a.score, 87.5, kEps);
  KpiScore b = score({3, 3, 3, 3, 3, 3, 3}, 80, 80);  // group 3: 70 / 80 / above 80
  EXPECT_EQ(b.group, "3");
  EXPECT_NEAR(b.score, 75, kEps);
  EXPECT_NEAR(score({3, 3, 3, 3, 3, 3, 3}, 80, 80.5).score, 100, kEps);
  EXPECT_NEAR(score({3, 3, 3, 3, 3, 3, 3}, 80, 75).score, 62.5, kEps);
}

// Seed 002: Data Catalog quality — each level needs two measures at once.
TEST(ConditionsTest, ALevelCanNeedTwoMeasuresAtOnce) {
  const std::string kpi = R"({"id": "k", "component": "c", "name": "Data Catalog quality",
      "variables": [{"id": "datasets", "type": "count"}, {"id": "quality", "type": "percent"}, {"id": "registered", "type": "percent"}],
      "criteria": {"form": "groups", "by": "datasets", "integer": true, "groups": [
        {"id": "1", "range": {"at_least": 1, "at_most": 25}, "criteria": {"form": "conditions", "levels": [
          "quality >= 90", "quality >= 100 && registered >= 90", "quality >= 100 && registered >= 100"]}},
        {"id": "2", "range": {"at_least": 26, "at_most": 100}, "criteria": {"form": "conditions", "levels": [
          "quality >= 80", "quality >= 90 && registered >= 80", "quality >= 90 && registered >= 90"]}},
        {"id": "3", "range": {"at_least": 101}, "criteria": {"form": "conditions", "levels": [
          "quality >= 70", "quality >= 80 && registered >= 70", "quality >= 80 && registered >= 80"]}}]}})";
  auto score = [&](double n, double q, double r) {
    return ScoreKpi(kpi, {Obs("datasets", n), Obs("quality", q), Obs("registered", r)});
  };
  EXPECT_NEAR(score(20, 100, 95).score, 75, kEps);
  EXPECT_NEAR(score(20, 95, 100).score, 50, kEps);  // registered high, quality short
  EXPECT_NEAR(score(60, 90, 90).score, 100, kEps);
  EXPECT_EQ(score(150, 80, 75).group, "3");
  EXPECT_NEAR(score(150, 80, 75).score, 75, kEps);
  EXPECT_NEAR(score(150, 60, 100).score, 0, kEps);
  // No group for 0 datasets: the KPI cannot be scored.
  EXPECT_EQ(score(0, 100, 100).status, KpiStatus::kMissing);
}

// §4.7 result formulas.
TEST(ResultFormulaTest, ComputesTheResultAndRefusesDivisionByZero) {
  const std::string kpi = R"({"id": "k", "component": "c", "name": "timeliness",
      "variables": [{"id": "done", "type": "count"}, {"id": "received", "type": "count"}],
      "result": "done * 100 / received", "criteria": {"form": "levels", "targets": [80, 90, 100]}})";
  KpiScore k = ScoreKpi(kpi, {Obs("done", 207), Obs("received", 208)});
  EXPECT_NEAR(k.result, 20700.0 / 208.0, kEps);  // 99.519..., published as 99.52
  EXPECT_NEAR(k.score, 75 + (20700.0 / 208.0 - 90) / 10 * 25, kEps);
  KpiScore zero = ScoreKpi(kpi, {Obs("done", 0), Obs("received", 0)});
  EXPECT_EQ(zero.status, KpiStatus::kMissing);
  EXPECT_EQ(zero.score, 0);
}

TEST(StatusTest, AMissingValueScoresZeroAndCountsInTheTotal) {
  KpiScore k = ScoreKpi(LevelsKpi("[80, 90, 100]"), {});
  EXPECT_EQ(k.status, KpiStatus::kMissing);
  EXPECT_EQ(k.score, 0);
  EXPECT_TRUE(std::isnan(k.result));
}

TEST(StatusTest, AnOptionalVariableCountsAsZero) {
  const std::string kpi = R"({"id": "k", "component": "c", "name": "k",
      "variables": [{"id": "a", "type": "number"}, {"id": "bonus", "type": "number", "optional": true}],
      "result": "a + bonus", "criteria": {"form": "levels", "targets": [80, 90, 100]}})";
  EXPECT_NEAR(ScoreKpi(kpi, {Obs("a", 85)}).score, 62.5, kEps);
  EXPECT_NEAR(ScoreKpi(kpi, {Obs("a", 85), Obs("bonus", 5)}).score, 75, kEps);
}

TEST(StatusTest, AMissingBaselineMakesTheKpiMissing) {
  KpiScore k = ScoreKpi(kPmqaGroups, {Obs("pmqa", 400)});
  EXPECT_EQ(k.status, KpiStatus::kMissing);
  ASSERT_FALSE(k.trace.empty());
  EXPECT_EQ(k.trace[0].kind, TraceKind::kMissing);
  EXPECT_EQ(k.trace[0].text, "baseline");
}

const char* kTwoKpis = R"({"fiscal_year": 2567,
  "components": [{"id": "p", "share": 60}, {"id": "q", "share": 40}],
  "kpis": [
    {"id": "1", "component": "p", "name": "one", "variables": [{"id": "r", "type": "number"}],
     "criteria": {"form": "levels", "targets": [80, 90, 100]}},
    {"id": "2", "component": "q", "name": "two", "rounds": [12], "variables": [{"id": "r", "type": "number"}],
     "criteria": {"form": "levels", "targets": [80, 90, 100]}},
    {"id": "3", "component": "q", "name": "watch", "flags": ["monitoring_only"], "variables": [{"id": "r", "type": "number"}],
     "criteria": {"form": "levels", "targets": [80, 90, 100]}}],
  "grades": [{"min": 90, "name": "A"}, {"min": 70, "name": "B"}, {"min": 0, "name": "C"}],
  "assignments": [
    {"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 60}, {"kpi": "2", "weight": 40}, {"kpi": "3"}]},
    {"agencies": ["X"], "kpis": [{"kpi": "2", "exempt": {"th": "ไม่มีผลคะแนนปี 66", "en": "no FY2566 score"}}]},
    {"agencies": ["Y"], "kpis": [{"kpi": "1", "criteria": {"form": "levels", "targets": [50, 60, 70]}}]}]})";

TEST(TotalTest, SumsScoreTimesWeightOverTheScoredKpis) {
  const auto fw = esar::testing::FrameworkFromJson(kTwoKpis);
  auto scores =
      ScoreAll(fw, {Obs("r", 85, 2567, "1"), Obs("r", 95, 2567, "2"), Obs("r", 10, 2567, "3")});
  ASSERT_EQ(scores.size(), 1u);
  const AgencyScore& a = scores[0];
  EXPECT_NEAR(a.total, 62.5 * 0.6 + 87.5 * 0.4, kEps);  // 72.5
  EXPECT_EQ(a.grade, 1);
  ASSERT_EQ(a.kpis.size(), 3u);
  EXPECT_EQ(a.kpis[2].status, KpiStatus::kMonitoring);
  EXPECT_EQ(a.kpis[2].weight, 0);
  EXPECT_NEAR(a.kpis[2].result, 10, kEps);
  ASSERT_EQ(a.components.size(), 2u);
  EXPECT_NEAR(a.components[0].weighted, 37.5, kEps);
  EXPECT_NEAR(a.components[1].weighted, 35, kEps);
}

TEST(TotalTest, AnExemptionRescalesTheTotalOverTheWeightsLeft) {
  const auto fw = esar::testing::FrameworkFromJson(kTwoKpis);
  auto scores = ScoreAll(fw, {Obs("r", 85, 2567, "1", "X")}, {"X"});
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].kpis[1].status, KpiStatus::kExempt);
  EXPECT_NEAR(scores[0].scored_weight, 60, kEps);
  EXPECT_NEAR(scores[0].total, 62.5, kEps);  // 37.5 × 100 / 60
}

TEST(TotalTest, AnAgencyCanHaveItsOwnTargets) {
  const auto fw = esar::testing::FrameworkFromJson(kTwoKpis);
  auto scores = ScoreAll(fw,
                         {Obs("r", 65, 2567, "1", "Y"), Obs("r", 65, 2567, "1", "Z"),
                          Obs("r", 100, 2567, "2", "Y"), Obs("r", 100, 2567, "2", "Z")},
                         {"Y", "Z"});
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_NEAR(scores[0].kpis[0].score, 87.5, kEps);  // own targets 50 / 60 / 70
  EXPECT_NEAR(scores[1].kpis[0].score, 0, kEps);     // framework targets 80 / 90 / 100
}

// Agencies named one by one in the same rules share one profile; one named in another rule as
// well (an exemption, its own targets) keeps its own, whatever order they are scored in.
TEST(TotalTest, AgenciesNamedAlikeScoreAlikeAndOthersKeepTheirOwnRules) {
  const auto fw = esar::testing::FrameworkFromJson(R"({"fiscal_year": 2567,
  "components": [{"id": "p", "share": 100}],
  "kpis": [
    {"id": "1", "component": "p", "name": "one", "variables": [{"id": "r", "type": "number"}],
     "criteria": {"form": "levels", "targets": [80, 90, 100]}},
    {"id": "2", "component": "p", "name": "two", "variables": [{"id": "r", "type": "number"}],
     "criteria": {"form": "levels", "targets": [80, 90, 100]}}],
  "assignments": [
    {"agencies": ["A", "B", "X", "Y"], "kpis": [{"kpi": "1", "weight": 60}, {"kpi": "2", "weight": 40}]},
    {"agencies": ["X"], "kpis": [{"kpi": "2", "exempt": true}]},
    {"agencies": ["Y"], "kpis": [{"kpi": "1", "criteria": {"form": "levels", "targets": [50, 60, 70]}}]}]})");
  std::vector<Observation> values;
  for (const char* agency : {"A", "X", "B", "Y"}) {
    values.push_back(Obs("r", 65, 2567, "1", agency));
    values.push_back(Obs("r", 100, 2567, "2", agency));
  }
  auto scores = ScoreAll(fw, values, {"A", "X", "B", "Y"});
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_NEAR(scores[0].total, 40, kEps);  // A: 0 × 0.6 + 100 × 0.4
  EXPECT_EQ(scores[1].kpis[1].status, KpiStatus::kExempt);
  EXPECT_NEAR(scores[1].total, 0, kEps);   // X: KPI 2 exempt, KPI 1 below basic
  EXPECT_NEAR(scores[2].total, 40, kEps);  // B as A
  EXPECT_EQ(scores[2].kpis[1].status, KpiStatus::kScored);
  EXPECT_NEAR(scores[3].kpis[0].score, 87.5, kEps);  // Y: its own targets 50 / 60 / 70
  EXPECT_NEAR(scores[3].total, 87.5 * 0.6 + 100 * 0.4, kEps);
}

TEST(TotalTest, AKpiOutsideTheRoundIsLeftOutAndTheTotalRescaled) {
  const auto fw = esar::testing::FrameworkFromJson(kTwoKpis);
  auto scores = ScoreAll(fw, {Obs("r", 90, 2567, "1", "A", 6)}, {"A"}, 6);
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].kpis[1].status, KpiStatus::kExempt);
  EXPECT_NEAR(scores[0].total, 75, kEps);
}

TEST(TotalTest, TheGradeAgreesWithTheTotalAsShown) {
  // Targets 50 / 75 / 100 make the score equal the result between 50 and 100.
  // 79.996 shows as 80.00 with two decimals, so it earns the 80 band; 80.35 shows as 80 with none.
  auto grade = [](double result, int decimals, double band) {
    const auto fw = SingleKpiFramework(LevelsKpi("[50, 75, 100]"),
                                       R"("decimals": {"total": )" + std::to_string(decimals) +
                                           R"(}, "grades": [{"min": )" + ShortestDecimal(band) +
                                           R"(, "name": "A"}, {"min": 0, "name": "B"}],)");
    auto scores = ScoreAll(fw, {Obs("r", result)});
    return scores.empty() ? -2 : scores[0].grade;
  };
  EXPECT_EQ(grade(79.996, 2, 80), 0);   // score 79.996 -> "80.00"
  EXPECT_EQ(grade(79.994, 2, 80), 1);   // "79.99"
  EXPECT_EQ(grade(80.35, 0, 80.3), 1);  // "80" is below 80.3
  EXPECT_EQ(grade(80.35, 3, 80.3), 0);
}

TEST(CompileTest, RefusesDerivedVariablesInACycle) {
  const auto fw = SingleKpiFramework(R"({"id": "k", "component": "c", "name": "k",
      "variables": [{"id": "a", "type": "derived", "formula": "b + 1"}, {"id": "b", "type": "derived", "formula": "a + 1"},
                    {"id": "r", "type": "number"}],
      "result": "r + a", "criteria": {"form": "levels", "targets": [1, 2, 3]}})");
  auto engine = Engine::Compile(fw, 12);
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message_en().find("cycle"), std::string::npos);
  EXPECT_NE(engine.status().message_th().find("วง"), std::string::npos);
}

TEST(CompileTest, RefusesUnknownNamesAndKpis) {
  auto a = Engine::Compile(SingleKpiFramework(LevelsKpi(R"([80, "x", 100])")), 12);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message_en().find("unknown name \"x\""), std::string::npos);
  auto fw = SingleKpiFramework(LevelsKpi("[80, 90, 100]"));
  fw.assignments[0].kpis[0].kpi = "nope";
  EXPECT_FALSE(Engine::Compile(fw, 12).ok());
}

// Properties: with targets in order, a higher-is-better score stays within 0..100 and never
// falls as the result rises; an agency's total never exceeds 100.
TEST(PropertyTest, ScoresStayInRangeAndRiseWithTheResult) {
  std::mt19937 random(20240930);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int round = 0; round < 200; ++round) {
    const double t1 = 1000 * unit(random);
    const double t2 = t1 + 100 * unit(random);
    const double t3 = t2 + 100 * unit(random);
    const std::string form = unit(random) < 0.5 ? "" : R"(, "scoring": "step")";
    const std::string targets = "[" + ShortestDecimal(t1) + ", " +
                                (unit(random) < 0.2 ? "null" : ShortestDecimal(t2)) + ", " +
                                ShortestDecimal(t3) + "]";
    const auto fw =
        SingleKpiFramework(LevelsKpi(targets, form),
                           unit(random) < 0.5 ? R"("below_basic": {"interpolate_from": 0},)" : "");
    auto engine = Engine::Compile(fw, 12);
    ASSERT_TRUE(engine.ok());
    std::vector<double> results;
    for (int i = 0; i < 50; ++i) results.push_back(1300 * unit(random) - 100);
    std::sort(results.begin(), results.end());
    double previous = -1;
    for (double r : results) {
      auto s = engine->Score({{"A", {}, "", "", {}}}, {Obs("r", r)});
      ASSERT_EQ(s.size(), 1u);
      const double score = s[0].kpis[0].score;
      ASSERT_GE(score, 0) << targets << " r=" << r;
      ASSERT_LE(score, 100) << targets << " r=" << r;
      ASSERT_GE(score, previous - 1e-12) << targets << " r=" << r;
      ASSERT_LE(s[0].total, 100 + 1e-9);
      previous = score;
    }
  }
}

TEST(PropertyTest, ATotalStaysWithin0And100WhateverTheWeightsAndExemptions) {
  std::mt19937 random(25670930);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int round = 0; round < 100; ++round) {
    std::string kpis, assigned, data_kpis;
    std::vector<Observation> data;
    double left = 100;
    for (int k = 1; k <= 5; ++k) {
      const double weight = k == 5 ? left : std::floor(left * unit(random) * 100) / 100;
      left -= weight;
      kpis += std::string(k > 1 ? "," : "") + R"({"id": ")" + std::to_string(k) +
              R"(", "component": "c", "name": "x", "variables": [{"id": "r", "type": "number"}],
                 "criteria": {"form": "levels", "targets": [80, 90, 100]}})";
      assigned += std::string(k > 1 ? "," : "") + R"({"kpi": ")" + std::to_string(k) +
                  R"(", "weight": )" + ShortestDecimal(weight) +
                  (unit(random) < 0.2 ? R"(, "exempt": true)" : "") + "}";
      if (unit(random) < 0.9) data.push_back(Obs("r", 200 * unit(random), 2567, std::to_string(k)));
    }
    const auto fw = esar::testing::FrameworkFromJson(
        R"({"fiscal_year": 2567, "kpis": [)" + kpis +
        R"(], "assignments": [{"agencies": ["A"], "kpis": [)" + assigned + "]}]}");
    auto scores = ScoreAll(fw, data);
    ASSERT_EQ(scores.size(), 1u);
    if (std::isnan(scores[0].total)) continue;  // everything exempt: no total
    EXPECT_GE(scores[0].total, 0);
    EXPECT_LE(scores[0].total, 100 + 1e-9);
  }
}

}  // namespace
}  // namespace esar::domain
