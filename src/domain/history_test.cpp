// Baselines taken from an earlier year's published result (Reference::from_result), the CSV of
// earlier results `esar import results` reads, and `esar check` on what is still missing.
#include "domain/history.h"

#include <gtest/gtest.h>

#include "domain/check.h"
#include "formats/framework_json.h"
#include "formats/past_results.h"
#include "formats/report.h"
#include "tests/support/framework_builder.h"

namespace esar::domain {
namespace {

using esar::testing::FrameworkFromJson;
using esar::testing::Obs;

constexpr double kEps = 1e-9;

// FY2567 PMQA (seed 002, group 1 and 2 only): s = the agency's FY2566 12-month result of the KPI
// keyed "pmqa", unless a value is imported for (k, pmqa, 2566, 12).
Framework PmqaFromResult(const std::string& read = "result") {
  return FrameworkFromJson(R"({"fiscal_year": 2567, "kpis": [
      {"id": "k", "key": "pmqa", "component": "c", "name": "PMQA",
       "variables": [{"id": "pmqa", "type": "number", "name": {"th": "คะแนน PMQA", "en": "PMQA score"}}],
       "references": [{"name": "s", "variable": "pmqa", "fiscal_year": 2566,
                       "from_result": {"key": "pmqa", "read": ")" +
                           read + R"("}}],
       "criteria": {"form": "groups", "by": "s", "groups": [
         {"id": "1", "range": {"below": 350}, "criteria": {"form": "levels", "targets": [275, "s", 350]}},
         {"id": "2", "range": {"at_least": 350}, "criteria": {"form": "levels", "targets": [350, "s", "s * 1.10"]}}]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "k", "weight": 100}]}]})");
}

PastResult Past(const std::string& agency, const std::string& key, std::optional<double> result,
                std::optional<double> score, PastSource source = PastSource::kPublished,
                int year = 2566) {
  PastResult p;
  p.fiscal_year = year;
  p.agency = agency;
  p.kpi_key = key;
  p.result = result;
  p.score = score;
  p.source = source;
  return p;
}

std::vector<Agency> Agencies(std::initializer_list<const char*> codes) {
  std::vector<Agency> out;
  for (const char* c : codes) out.push_back(Agency{c, {c, c}, "", "", {}});
  return out;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

TEST(BaselineFromResultTest, TheEarlierResultIsFilledInAndScoredWithItsSource) {
  const Framework fw = PmqaFromResult();
  const auto agencies = Agencies({"A", "B"});
  // A's FY2566 result 310 (group 1: 275 / 310 / 350); B's 372.50 (group 2: 350 / 372.5 / 409.75).
  const std::vector<PastResult> past = {Past("A", "pmqa", 310, 67), Past("B", "pmqa", 372.5, 80),
                                        Past("A", "digital-readiness", 70, 75)};
  std::vector<Observation> data = {Obs("pmqa", 300, 2567, "k", "A"),
                                   Obs("pmqa", 390.1, 2567, "k", "B")};
  EXPECT_EQ(FillBaselines(fw, agencies, past, data), 2u);
  auto engine = Engine::Compile(fw, 12);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString(false);
  auto scores = engine->Score(agencies, data, true);
  ASSERT_EQ(scores.size(), 2u);
  // DCLS and BOI of examples/ocs-2567: 67.857142... and 86.812080...
  EXPECT_NEAR(scores[0].kpis[0].score, 50 + 25.0 / 35 * 25, kEps);
  EXPECT_EQ(scores[0].kpis[0].group, "1");
  EXPECT_NEAR(scores[1].kpis[0].score, 75 + 17.6 / 37.25 * 25, 1e-6);
  EXPECT_EQ(scores[1].kpis[0].group, "2");
  const TraceStep& first = scores[0].kpis[0].trace.front();
  EXPECT_EQ(first.kind, TraceKind::kBaseline);
  EXPECT_EQ(first.id, "s");
  EXPECT_EQ(first.value, 310);
  EXPECT_EQ(first.level, 2566);
  EXPECT_EQ(first.text, kFilledFromPublished);
  const std::string th = Joined(formats::ExplainKpi(fw, scores[0].kpis[0], Lang::kThai));
  const std::string en = Joined(formats::ExplainKpi(fw, scores[0].kpis[0], Lang::kEnglish));
  // The group's choice names the baseline by its words too, never by its letter alone.
  EXPECT_NE(th.find("อยู่ในกลุ่ม 1 เพราะ คะแนน PMQA ปี 2566 (s) = 310"), std::string::npos) << th;
  EXPECT_NE(th.find("ข้อมูลพื้นฐาน คะแนน PMQA ปี 2566 (s) = 310.00 จากผลการประเมินปี 2566 ที่เผยแพร่แล้ว"), std::string::npos)
      << th;
  EXPECT_NE(en.find("baseline PMQA score in FY2566 (s) = 310.00 from the published FY2566 results (KPI pmqa, result"),
            std::string::npos)
      << en;
}

TEST(BaselineFromResultTest, AnImportedValueOverridesTheEarlierResultAndSaysSo) {
  const Framework fw = PmqaFromResult();
  const auto agencies = Agencies({"A"});
  std::vector<Observation> data = {Obs("pmqa", 300, 2567, "k", "A"),
                                   Obs("pmqa", 260, 2566, "k", "A")};
  size_t kept = 0;
  EXPECT_EQ(FillBaselines(fw, agencies, {Past("A", "pmqa", 310, 67)}, data, &kept), 0u);
  EXPECT_EQ(kept, 1u);
  auto engine = Engine::Compile(fw, 12);
  ASSERT_TRUE(engine.ok());
  auto scores = engine->Score(agencies, data, true);
  // s = 260 (imported), not 310: 275 / 275 (raised) / 350 → 75 + 25/75 × 25.
  EXPECT_NEAR(scores[0].kpis[0].score, 75 + 25.0 / 75 * 25, kEps);
  const std::string th = Joined(formats::ExplainKpi(fw, scores[0].kpis[0], Lang::kThai));
  EXPECT_NE(th.find("ข้อมูลพื้นฐาน คะแนน PMQA ปี 2566 (s) = 260.00 นำเข้าแทนผลการประเมินปี 2566 ที่เผยแพร่แล้ว"), std::string::npos)
      << th;
}

TEST(BaselineFromResultTest, ReadsTheScoreWhenAskedAndPrefersEsarsOwnPublication) {
  const Framework fw = PmqaFromResult("score");
  const auto agencies = Agencies({"A"});
  std::vector<Observation> data;
  const std::vector<PastResult> past = {Past("A", "pmqa", 999, 360, PastSource::kImported),
                                        Past("A", "pmqa", 998, 380, PastSource::kPublished),
                                        Past("A", "pmqa", 1, 1, PastSource::kPublished, 2565)};
  EXPECT_EQ(FillBaselines(fw, agencies, past, data), 1u);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].kpi, "k");
  EXPECT_EQ(data[0].variable, "pmqa");
  EXPECT_EQ(data[0].fiscal_year, 2566);
  EXPECT_EQ(data[0].values, std::vector<double>{380});
  EXPECT_EQ(data[0].source, kFilledFromPublished);
  // Only an imported result: it is used, and marked as such.
  std::vector<Observation> only_imported;
  EXPECT_EQ(FillBaselines(fw, agencies, {past[0]}, only_imported), 1u);
  EXPECT_EQ(only_imported[0].values, std::vector<double>{360});
  EXPECT_EQ(only_imported[0].source, kFilledFromImported);
  // A result without the value asked for fills nothing.
  std::vector<Observation> none;
  EXPECT_EQ(FillBaselines(fw, agencies, {Past("A", "pmqa", 300, std::nullopt)}, none), 0u);
}

TEST(BaselineFromResultTest, ACheckSaysWhichAgenciesLackTheEarlierResult) {
  const Framework fw = PmqaFromResult();
  const auto agencies = Agencies({"A", "B"});
  std::vector<Observation> data = {Obs("pmqa", 300, 2567, "k", "A"),
                                   Obs("pmqa", 300, 2567, "k", "B")};
  FillBaselines(fw, agencies, {Past("A", "pmqa", 310, 67)}, data);
  CheckInput in;
  in.framework = &fw;
  in.framework_file = "framework.json";
  in.agencies = &agencies;
  in.observations = &data;
  const auto findings = Check(in);
  std::vector<const Finding*> missing;
  for (const Finding& f : findings) {
    if (f.code == "baseline-missing") missing.push_back(&f);
  }
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0]->message_en.find("agency B has no published FY2566 12-month result of KPI "
                                        "pmqa"),
            std::string::npos)
      << missing[0]->message_en;
  EXPECT_NE(missing[0]->message_th.find("หน่วยงาน B ไม่มีผลการประเมินปีงบประมาณ พ.ศ. 2566"),
            std::string::npos)
      << missing[0]->message_th;
}

TEST(BaselineFromResultTest, AFrameworkMayOnlyReadOneNumberOfAnEarlierYear) {
  const Framework this_year = FrameworkFromJson(R"({"fiscal_year": 2567, "kpis": [
      {"id": "k", "component": "c", "name": "PMQA", "variables": [{"id": "pmqa", "type": "number"}],
       "references": [{"name": "s", "variable": "pmqa", "fiscal_year": 2567,
                       "from_result": {"key": "pmqa"}}],
       "criteria": {"form": "levels", "targets": [275, "s", 350]}}]})");
  auto engine = Engine::Compile(this_year, 12);
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message_en().find("a fiscal year before 2567"), std::string::npos);
  auto bad_key = formats::ParseFramework(
      R"({"fiscal_year": 2567, "kpis": [{"id": "k", "component": "c", "name": "x",
          "variables": [{"id": "r", "type": "number"}],
          "references": [{"name": "s", "variable": "r", "fiscal_year": 2566, "from_result": {"key": "PMQA"}}],
          "criteria": {"form": "levels", "targets": [1, 2, 3]}}]})",
      "f.json");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.status().where().json_path, "/kpis/0/references/0/from_result/key");
}

TEST(PastResultsCsvTest, ReadsResultsScoresAndTotals) {
  auto rows = formats::ParsePastResults(
      "fiscal_year,round,agency,kpi_key,result,score,total\n"
      "2566,12,OCS,pmqa,420.50,88.5,91.25\n"
      "2566,12,OCS,digital-readiness,78.40,,91.25\n"
      "2566,,BOI,,,,70.1\n",
      "past.csv");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString(false);
  ASSERT_EQ(rows->size(), 4u);  // two KPIs of OCS, OCS's total (once), BOI's total
  EXPECT_EQ((*rows)[0].kpi_key, "pmqa");
  EXPECT_EQ((*rows)[0].result, 420.5);
  EXPECT_EQ((*rows)[0].score, 88.5);
  EXPECT_EQ((*rows)[1].kpi_key, "");
  EXPECT_EQ((*rows)[1].score, 91.25);
  EXPECT_EQ((*rows)[2].kpi_key, "digital-readiness");
  EXPECT_FALSE((*rows)[2].score.has_value());
  EXPECT_EQ((*rows)[3].agency, "BOI");
  EXPECT_EQ((*rows)[3].round, 12);
  EXPECT_EQ((*rows)[3].score, 70.1);
  EXPECT_EQ((*rows)[3].where.line, 4);
}

TEST(PastResultsCsvTest, EachBadRowIsRefusedNamingItsLine) {
  const std::string header = "fiscal_year,round,agency,kpi_key,result,score,total\n";
  const std::string good = "2566,12,OCS,pmqa,420.5,,\n";
  struct Case {
    std::string row;
    std::string en;
  };
  const std::vector<Case> cases = {
      {"2023,12,OCS,pmqa,1,,\n", "must be a Buddhist Era year"},
      {"2566,9,OCS,pmqa,1,,\n", "must be 6 or 12"},
      {"2566,12,,pmqa,1,,\n", "\"agency\" field is empty"},
      {"2566,12,OCS,PMQA,1,,\n", "the KPI key \"PMQA\" is not valid"},
      {"2566,12,OCS,pmqa2,1.5%,,\n", "column \"result\""},
      {"2566,12,OCS,pmqa2,,,\n", "needs a result or a score"},
      {"2566,12,OCS,,1,,\n", "a row without a kpi_key is the agency's total"},
      {good, "is given again (first on line 2)"},
      {"2566,12,OCS,x,1,,5\n2566,12,OCS,y,1,,6\n", "differs from line"},
  };
  for (const Case& c : cases) {
    auto rows = formats::ParsePastResults(header + good + c.row, "past.csv");
    ASSERT_FALSE(rows.ok()) << c.row;
    EXPECT_NE(rows.status().message_en().find(c.en), std::string::npos)
        << c.row << rows.status().message_en();
    EXPECT_FALSE(rows.status().message_th().empty());
    EXPECT_GE(rows.status().where().line, 3) << c.row;
    EXPECT_EQ(rows.status().where().file, "past.csv");
  }
}

TEST(PastResultsCsvTest, HistoryOfAnAgencyIsByYearWithEsarsOwnResultFirst) {
  const std::vector<PastResult> past = {Past("A", "pmqa", 3, 3, PastSource::kImported, 2566),
                                        Past("A", "pmqa", 2, 2, PastSource::kImported, 2565),
                                        Past("A", "pmqa", 4, 4, PastSource::kPublished, 2566),
                                        Past("B", "pmqa", 9, 9, PastSource::kPublished, 2566)};
  const auto history = HistoryOf(past, "A", "pmqa");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].fiscal_year, 2565);
  EXPECT_EQ(history[1].fiscal_year, 2566);
  EXPECT_EQ(history[1].result, 4);
}

}  // namespace
}  // namespace esar::domain
