#include "formats/framework_edit.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "domain/framework_diff.h"
#include "formats/framework_json.h"

namespace esar::formats {
namespace {

using nlohmann::json;

// FY2567 with: PMQA keyed "pmqa" whose baseline s reads its own FY2566 result; a readiness
// KPI keyed "dg" whose baseline reads KPI 6's FY2566 list (not a result: no from_result);
// a KPI without a key; an agency's own targets naming FY2566 in a level text.
const char* kFy2567 = R"({
  "format": "esar-framework/1", "fiscal_year": 2567, "agency_kind": "department",
  "title": {"th": "กรอบการประเมิน พ.ศ. 2567", "en": "Framework FY2567"},
  "kpis": [
    {"id": "1", "component": "c", "name": "no key", "variables": [{"id": "r", "type": "number"}],
     "references": [{"name": "b", "variable": "r", "fiscal_year": 2566}],
     "criteria": {"form": "levels", "targets": ["b", 90, 100]}},
    {"id": "6", "key": "pillars", "component": "c", "name": "pillars",
     "variables": [{"id": "pillars", "type": "number_list", "length": 7}, {"id": "n", "type": "count"}],
     "result": "n", "criteria": {"form": "levels", "targets": [1, 2, 3]}},
    {"id": "7", "key": "dg", "component": "c", "name": "readiness",
     "variables": [{"id": "score", "type": "number"}],
     "references": [{"name": "s", "variable": "score", "fiscal_year": 2566},
                    {"name": "p", "kpi": "6", "variable": "pillars", "fiscal_year": 2566}],
     "criteria": {"form": "levels", "targets": ["s - 10", "s", "s + 5"]}},
    {"id": "8", "key": "pmqa", "component": "c", "name": "PMQA",
     "variables": [{"id": "pmqa", "type": "number"}],
     "references": [{"name": "s", "variable": "pmqa", "fiscal_year": 2566,
                     "from_result": {"key": "pmqa", "read": "score"}}],
     "criteria": {"form": "groups", "by": "s", "groups": [
       {"id": "1", "name": {"th": "คะแนนปี 2566 ต่ำกว่า 350", "en": "FY2566 score below 350"},
        "range": {"below": 350}, "criteria": {"form": "levels", "targets": [275, "s", 350],
        "texts": [{"th": "275 คะแนน", "en": "275 points"}, {"th": "เท่ากับคะแนนปี 2566", "en": "the FY2566 score"}, "350"]}},
       {"id": "2", "range": {"at_least": 350}, "criteria": {"form": "levels", "targets": [350, "s", "s * 1.10"]}}]}}],
  "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 25}, {"kpi": "6", "weight": 25},
                                              {"kpi": "7", "weight": 25}, {"kpi": "8", "weight": 25}]},
                  {"agencies": ["BOI"], "kpis": [{"kpi": "7", "criteria": {"form": "levels", "targets": [1, 2, 3],
                    "texts": ["ปี 2566 บวก 1", "2", "125667"]}}]}]})";

TEST(NextYearDocumentTest, MovesYearsAndPointsBaselinesAtLastYearsResults) {
  auto next = NextYearDocument(kFy2567);
  ASSERT_TRUE(next.ok()) << next.status().ToString(false);
  const json doc = json::parse(*next);
  EXPECT_EQ(doc["fiscal_year"], 2568);
  EXPECT_EQ(doc["title"]["th"], "กรอบการประเมิน พ.ศ. 2568");
  EXPECT_EQ(doc["title"]["en"], "Framework FY2568");
  // Keys and ids kept.
  EXPECT_EQ(doc["kpis"][1]["key"], "pillars");
  EXPECT_EQ(doc["kpis"][2]["key"], "dg");
  EXPECT_EQ(doc["kpis"][3]["id"], "8");
  // A KPI without a key: its baseline moves a year, nothing to read it from.
  EXPECT_EQ(doc["kpis"][0]["references"][0]["fiscal_year"], 2567);
  EXPECT_FALSE(doc["kpis"][0]["references"][0].contains("from_result"));
  // s reads KPI 7's own single reported value: from last year's published result of "dg".
  const json& s = doc["kpis"][2]["references"][0];
  EXPECT_EQ(s["fiscal_year"], 2567);
  EXPECT_EQ(s["from_result"], json({{"key", "dg"}, {"read", "result"}}));
  // p reads KPI 6's list, which is not its result (n is): moved, no from_result.
  const json& p = doc["kpis"][2]["references"][1];
  EXPECT_EQ(p["fiscal_year"], 2567);
  EXPECT_FALSE(p.contains("from_result"));
  // A from_result given is kept as it was (the score, here).
  EXPECT_EQ(doc["kpis"][3]["references"][0]["from_result"], json({{"key", "pmqa"}, {"read", "score"}}));
  EXPECT_EQ(doc["kpis"][3]["references"][0]["fiscal_year"], 2567);
  const json& g1 = doc["kpis"][3]["criteria"]["groups"][0];
  EXPECT_EQ(g1["name"]["th"], "คะแนนปี 2567 ต่ำกว่า 350");
  EXPECT_EQ(g1["name"]["en"], "FY2567 score below 350");
  EXPECT_EQ(g1["criteria"]["texts"][1]["th"], "เท่ากับคะแนนปี 2567");
  EXPECT_EQ(g1["criteria"]["texts"][2], "350");  // not a year
  const json& own = doc["assignments"][1]["kpis"][0]["criteria"]["texts"];
  EXPECT_EQ(own[0], "ปี 2567 บวก 1");
  EXPECT_EQ(own[2], "125667");  // six digits: not a year
  // The copy reads back, and differs from last year's by the year and the baselines only.
  auto before = ParseFramework(kFy2567, "a.json");
  auto after = ParseFramework(*next, "b.json");
  ASSERT_TRUE(before.ok() && after.ok());
  const auto changes = domain::DiffFrameworks(*before, *after);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].text.th, "ปีงบประมาณ 2567 → 2568");
  for (const auto& c : changes) EXPECT_EQ(c.text.th.find("น้ำหนัก"), std::string::npos) << c.text.th;
}

TEST(NextYearDocumentTest, CopyOfTheCopyMovesAgain) {
  auto once = NextYearDocument(kFy2567);
  ASSERT_TRUE(once.ok());
  auto twice = NextYearDocument(*once);
  ASSERT_TRUE(twice.ok());
  const json doc = json::parse(*twice);
  EXPECT_EQ(doc["fiscal_year"], 2569);
  EXPECT_EQ(doc["kpis"][2]["references"][0]["fiscal_year"], 2568);
  EXPECT_EQ(doc["title"]["en"], "Framework FY2569");
}

TEST(NextYearDocumentTest, RefusesWhatDoesNotParse) {
  EXPECT_EQ(NextYearDocument("{").status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(NextYearDocument(R"({"fiscal_year": 2567, "kpis": [{"id": 1}]})").status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(NextYearDocument(std::string(200, '[')).status().code(), StatusCode::kInvalidInput);
}

}  // namespace
}  // namespace esar::formats
