#include "domain/criteria_view.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/framework_builder.h"

namespace esar::domain {
namespace {

using esar::testing::Obs;
using esar::testing::ScoreKpi;
using esar::testing::SingleKpiFramework;

constexpr double kEps = 1e-9;

// The preview must say what scoring will do: for every PMQA group of seed 002, the group the
// engine chooses and the targets its trace substitutes are the ones resolved before any report.
TEST(CriteriaViewTest, ResolvesTheGroupAndTargetsTheEngineUses) {
  const Framework framework = SingleKpiFramework(esar::testing::kPmqaGroupsKpi);
  const Kpi& kpi = framework.kpis.at(0);
  for (double s : {300.0, 349.99, 350.0, 380.0, 420.5, 450.0, 460.0}) {
    const AgencyCriteria resolved = ResolveForAgency(*kpi.criteria, {{"s", s}});
    ASSERT_EQ(resolved.choices.size(), 1u) << s;
    ASSERT_NE(resolved.choices[0].group, nullptr) << s;
    EXPECT_EQ(resolved.choices[0].value, s);
    ASSERT_NE(resolved.criteria, nullptr);
    const KpiScore scored =
        ScoreKpi(esar::testing::kPmqaGroupsKpi, {Obs("pmqa", s, 2566), Obs("pmqa", s)});
    EXPECT_EQ(resolved.choices[0].group->id, scored.group) << s;
    std::vector<double> traced;
    for (const TraceStep& step : scored.trace) {
      if (step.kind == TraceKind::kTarget) traced.push_back(step.value);
    }
    ASSERT_EQ(resolved.targets.size(), 3u) << s;
    ASSERT_EQ(traced.size(), 3u) << s;
    for (size_t i = 0; i < 3; ++i)
      EXPECT_NEAR(resolved.targets[i], traced[i], kEps) << s << " level " << i;
  }
  // Seed 002's group 3 for 420.50: 400 / 420.50 / 428.91.
  const AgencyCriteria g3 = ResolveForAgency(*kpi.criteria, {{"s", 420.5}});
  EXPECT_EQ(g3.choices[0].group->id, "3");
  EXPECT_NEAR(g3.targets[0], 400, kEps);
  EXPECT_NEAR(g3.targets[1], 420.5, kEps);
  EXPECT_NEAR(g3.targets[2], 428.91, kEps);
}

TEST(CriteriaViewTest, AnUnknownBaselineChoosesNoGroupAndGivesNoTargets) {
  const Framework framework = SingleKpiFramework(esar::testing::kPmqaGroupsKpi);
  const AgencyCriteria resolved = ResolveForAgency(*framework.kpis.at(0).criteria, {});
  ASSERT_EQ(resolved.choices.size(), 1u);
  EXPECT_TRUE(std::isnan(resolved.choices[0].value));
  EXPECT_EQ(resolved.choices[0].group, nullptr);
  EXPECT_EQ(resolved.criteria, nullptr);
  EXPECT_TRUE(resolved.targets.empty());
}

TEST(CriteriaViewTest, LevelsTargetsAreNumbersWhereTheirNamesAreKnown) {
  const Framework framework = SingleKpiFramework(
      R"J({"id": "k", "component": "c", "name": "n", "variables": [{"id": "r", "type": "number"}],
          "references": [{"name": "b", "variable": "r", "fiscal_year": 2566}],
          "criteria": {"form": "levels", "targets": [80, "b * 1.1", "-"]}})J");
  const AgencyCriteria known = ResolveForAgency(*framework.kpis.at(0).criteria, {{"b", 90}});
  EXPECT_TRUE(known.choices.empty());
  ASSERT_EQ(known.targets.size(), 3u);
  EXPECT_NEAR(known.targets[0], 80, kEps);
  EXPECT_NEAR(known.targets[1], 99, kEps);
  EXPECT_TRUE(std::isnan(known.targets[2]));  // a missing level
  const AgencyCriteria unknown = ResolveForAgency(*framework.kpis.at(0).criteria, {});
  EXPECT_NEAR(unknown.targets[0], 80, kEps);
  EXPECT_TRUE(std::isnan(unknown.targets[1]));
}

TEST(CriteriaViewTest, KnownReferencesReadTheReferencedYearAndAgencyOnly) {
  const Framework framework = SingleKpiFramework(esar::testing::kPmqaGroupsKpi);
  const Kpi& kpi = framework.kpis.at(0);
  std::vector<Observation> observations = {Obs("pmqa", 999, 2567), Obs("pmqa", 420.5, 2566)};
  Observation other = Obs("pmqa", 111, 2566);
  other.agency = "OTHER";
  observations.insert(observations.begin(), other);
  const auto known = KnownReferences(kpi, observations[1].agency, 2567, observations);
  ASSERT_EQ(known.count("s"), 1u);
  EXPECT_EQ(known.at("s"), 420.5);
  EXPECT_TRUE(KnownReferences(kpi, "NOBODY", 2567, observations).empty());
}

}  // namespace
}  // namespace esar::domain
