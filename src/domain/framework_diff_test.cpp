#include "domain/framework_diff.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/framework_builder.h"

namespace esar::domain {
namespace {

using esar::testing::FrameworkFromJson;
using nlohmann::json;

// A framework of three KPIs in two components: 1 levels, 2 milestones, 3 levels (95 advanced),
// 4 groups by a baseline, 5 points; every agency gets them.
json Base() {
  return json::parse(R"({
    "fiscal_year": 2567, "agency_kind": "department", "title": {"th": "กรอบ 2567", "en": "FY2567"},
    "levels": [{"name": {"th": "เป้าหมายขั้นต้น", "en": "basic"}, "points": 50},
               {"name": {"th": "เป้าหมายมาตรฐาน", "en": "standard"}, "points": 75},
               {"name": {"th": "เป้าหมายขั้นสูง", "en": "advanced"}, "points": 100}],
    "components": [{"id": "p", "name": {"th": "ผลงาน", "en": "performance"}, "share": 70},
                   {"id": "q", "name": {"th": "ศักยภาพ", "en": "potential"}, "share": 30}],
    "kpis": [
      {"id": "1", "component": "p", "name": {"th": "ความสำเร็จ", "en": "success"},
       "variables": [{"id": "r", "type": "percent"}],
       "criteria": {"form": "levels", "targets": [80, 90, 100]}},
      {"id": "2", "component": "p", "name": "milestones",
       "variables": [{"id": "m1", "type": "pass_fail"}, {"id": "m2", "type": "pass_fail"}, {"id": "m3", "type": "pass_fail"}],
       "criteria": {"form": "milestones", "levels": [
         [{"variable": "m1", "text": {"th": "อนุมัติแผน", "en": "plan approved"}}],
         [{"variable": "m2", "text": {"th": "รายงาน 6 เดือน", "en": "6-month report"}}],
         [{"variable": "m3", "text": {"th": "ตรวจ 900 หน่วย", "en": "900 units inspected"}}]]}},
      {"id": "3", "component": "p", "name": "three", "variables": [{"id": "r", "type": "percent"}],
       "criteria": {"form": "levels", "targets": [85, 90, 95]}},
      {"id": "4", "component": "q", "name": "PMQA", "variables": [{"id": "pmqa", "type": "number"}],
       "references": [{"name": "s", "variable": "pmqa", "fiscal_year": 2566}],
       "criteria": {"form": "groups", "by": "s", "groups": [
         {"id": "1", "range": {"below": 350}, "criteria": {"form": "levels", "targets": [275, "s", 350]}},
         {"id": "2", "range": {"at_least": 350}, "criteria": {"form": "levels", "targets": [350, "s", "s * 1.10"]}}]}},
      {"id": "5", "component": "q", "name": "catalog",
       "variables": [{"id": "list", "type": "pass_fail"}, {"id": "url", "type": "pass_fail"}],
       "criteria": {"form": "points", "items": [
         {"id": "list", "text": {"th": "บัญชีข้อมูล", "en": "dataset list"}, "points": 50, "when": "list"},
         {"id": "url", "text": {"th": "URL ของหน่วยงาน", "en": "agency URL"}, "points": 10, "when": "url", "requires": ["list"]}]}}],
    "assignments": [{"agencies": ["*"], "kpis": [
      {"kpi": "1", "weight": 20}, {"kpi": "2", "weight": 20}, {"kpi": "3", "weight": 30},
      {"kpi": "4", "weight": 15}, {"kpi": "5", "weight": 15}]}]})");
}

std::vector<FrameworkChange> Diff(const json& a, const json& b) {
  return DiffFrameworks(FrameworkFromJson(a.dump()), FrameworkFromJson(b.dump()));
}

std::vector<std::string> Thai(const std::vector<FrameworkChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.text.th);
  return out;
}

TEST(FrameworkDiffTest, SameMeaningGivesNoChangeWhateverTheFormatting) {
  const json a = Base();
  // The same framework written another way: keys reordered by dump's order, spaced differently.
  const auto changes = DiffFrameworks(FrameworkFromJson(a.dump(2)), FrameworkFromJson(a.dump()));
  EXPECT_TRUE(changes.empty()) << (changes.empty() ? "" : changes[0].text.en);
}

TEST(FrameworkDiffTest, AdvancedTargetInWords) {
  json b = Base();
  b["kpis"][2]["criteria"]["targets"][2] = 97;
  const auto changes = Diff(Base(), b);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kpi, "3");
  EXPECT_EQ(changes[0].text.th, "ตัวชี้วัด 3: เป้าหมายขั้นสูง 95 → 97");
  EXPECT_EQ(changes[0].text.en, "KPI 3: advanced 95 → 97");
}

TEST(FrameworkDiffTest, MissingLevelStrictTargetDirectionAndStep) {
  json b = Base();
  b["kpis"][0]["criteria"] = {{"form", "levels"},
                              {"direction", "lower"},
                              {"scoring", "step"},
                              {"targets", {80, nullptr, {{"above", 100}}}}};
  const auto th = Thai(Diff(Base(), b));
  EXPECT_NE(std::find(th.begin(), th.end(), "ตัวชี้วัด 1: ค่ายิ่งน้อยยิ่งดี"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(),
                      "ตัวชี้วัด 1: ให้คะแนนตามระดับที่ถึง (ไม่เทียบสัดส่วน)"),
            th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "ตัวชี้วัด 1: เป้าหมายมาตรฐาน 90 → -"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "ตัวชี้วัด 1: เป้าหมายขั้นสูง 100 → มากกว่า 100"),
            th.end());
}

TEST(FrameworkDiffTest, GroupTargetsMilestonesAndPoints) {
  json b = Base();
  b["kpis"][3]["criteria"]["groups"][1]["criteria"]["targets"][2] = "s * 1.05";
  b["kpis"][1]["criteria"]["levels"][2][0]["text"] = {{"th", "ตรวจ 950 หน่วย"}, {"en", "950 units inspected"}};
  b["kpis"][4]["criteria"]["items"][1]["points"] = 15;
  b["kpis"][4]["criteria"]["items"][1]["requires"] = json::array();
  const auto th = Thai(Diff(Base(), b));
  EXPECT_NE(std::find(th.begin(), th.end(),
                      "ตัวชี้วัด 4: กลุ่ม 2: เป้าหมายขั้นสูง s * 1.10 → s * 1.05"),
            th.end());
  EXPECT_NE(std::find(th.begin(), th.end(),
                      "ตัวชี้วัด 2: เป้าหมายขั้นสูง ขั้นความสำเร็จ ข้อ 1 “ตรวจ 900 หน่วย” → "
                      "“ตรวจ 950 หน่วย”"),
            th.end());
  EXPECT_NE(std::find(th.begin(), th.end(),
                      "ตัวชี้วัด 5: องค์ประกอบคะแนน “URL ของหน่วยงาน” คะแนน 10 → 15"),
            th.end());
  EXPECT_NE(std::find(th.begin(), th.end(),
                      "ตัวชี้วัด 5: องค์ประกอบคะแนน “URL ของหน่วยงาน” ต้องผ่านก่อน list → -"),
            th.end());
  EXPECT_EQ(th.size(), 4u);
}

TEST(FrameworkDiffTest, KpisAddedRemovedRenamedAndWeights) {
  json b = Base();
  b["kpis"][0]["name"] = {{"th", "ความสำเร็จของงาน"}, {"en", "success of the work"}};
  json added = b["kpis"][2];
  added["id"] = "6";
  b["kpis"].erase(2);                        // KPI 3 removed
  b["kpis"].push_back(added);                // KPI 6 added
  b["assignments"][0]["kpis"][2]["kpi"] = "6";  // its weight moves to KPI 6
  b["assignments"][0]["kpis"][0]["weight"] = 25;
  b["assignments"][0]["kpis"][1]["weight"] = 15;
  const auto changes = Diff(Base(), b);
  const auto th = Thai(changes);
  EXPECT_NE(std::find(th.begin(), th.end(),
                      "ตัวชี้วัด 1: ชื่อ “ความสำเร็จ” → “ความสำเร็จของงาน”"),
            th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "ตัวชี้วัด 6: เพิ่ม “three”"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "ตัวชี้วัด 3: ลบ “three”"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "ทุกหน่วยงาน ตัวชี้วัด 1: น้ำหนัก 20 → 25"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "ทุกหน่วยงาน ตัวชี้วัด 2: น้ำหนัก 20 → 15"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "ทุกหน่วยงาน ตัวชี้วัด 3: เลิกมอบหมาย"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "ทุกหน่วยงาน ตัวชี้วัด 6: มอบหมาย น้ำหนัก 30"),
            th.end());
  // Kept KPIs come in the new order, removed ones after them.
  size_t kpi6 = 0, kpi3 = 0;
  for (size_t i = 0; i < th.size(); ++i) {
    if (th[i] == "ตัวชี้วัด 6: เพิ่ม “three”") kpi6 = i;
    if (th[i] == "ตัวชี้วัด 3: ลบ “three”") kpi3 = i;
  }
  EXPECT_LT(kpi6, kpi3);
}

TEST(FrameworkDiffTest, ComponentsLevelsAndDocumentation) {
  json b = Base();
  b["components"][0]["share"] = 60;
  b["components"][1]["share"] = 40;
  b["levels"][1]["points"] = 70;
  b["kpis"][0]["documentation"] = {{"scope", {{"th", "ทุกหน่วยงานในสังกัด"}, {"en", "every unit"}}}};
  b["kpis"][3]["references"][0]["fiscal_year"] = 2565;
  const auto th = Thai(Diff(Base(), b));
  EXPECT_NE(std::find(th.begin(), th.end(), "องค์ประกอบ “ผลงาน”: สัดส่วน 70 → 60"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "องค์ประกอบ “ศักยภาพ”: สัดส่วน 30 → 40"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "คะแนนของเป้าหมายมาตรฐาน 75 → 70"), th.end());
  EXPECT_NE(std::find(th.begin(), th.end(),
                      "ตัวชี้วัด 1: ขอบเขตการประเมิน - → “ทุกหน่วยงานในสังกัด”"),
            th.end());
  EXPECT_NE(std::find(th.begin(), th.end(),
                      "ตัวชี้วัด 4: ข้อมูลพื้นฐาน s pmqa ปี 2566 รอบ 12 → pmqa ปี 2565 รอบ 12"),
            th.end());
}

TEST(FrameworkDiffTest, AgencysOwnTargetsAndExemption) {
  json b = Base();
  b["assignments"].push_back({{"agencies", {"BOI"}},
                              {"kpis", {{{"kpi", "4"},
                                         {"exempt", {{"th", "ไม่มีคะแนนปี 2566"}, {"en", "no FY2566 score"}}}},
                                        {{"kpi", "1"}, {"criteria", {{"form", "levels"}, {"targets", {70, 80, 90}}}}}}}});
  json c = b;
  c["assignments"][1]["kpis"][1]["criteria"]["targets"][0] = 75;
  const auto th = Thai(Diff(Base(), b));
  EXPECT_NE(std::find(th.begin(), th.end(),
                      "หน่วยงาน BOI ตัวชี้วัด 4: ยกเว้นการประเมิน “ไม่มีคะแนนปี 2566”"),
            th.end());
  EXPECT_NE(std::find(th.begin(), th.end(), "หน่วยงาน BOI ตัวชี้วัด 1: มีค่าเป้าหมายเฉพาะหน่วยงาน"),
            th.end());
  const auto th2 = Thai(Diff(b, c));
  ASSERT_EQ(th2.size(), 1u);
  EXPECT_EQ(th2[0], "หน่วยงาน BOI ตัวชี้วัด 1: ค่าเป้าหมายเฉพาะ: เป้าหมายขั้นต้น 70 → 75");
}

}  // namespace
}  // namespace esar::domain
