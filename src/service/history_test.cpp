// History across fiscal years through the services, on SQLite and on PostgreSQL: earlier results
// loaded by `esar import results` (replaced whole, audited, covered by the audit's state
// digests), and the FY2567 PMQA baseline of examples/ocs-2567 taken from esar's own published
// FY2566 results, with an imported value overriding it.
#include "service/history.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "formats/inputs.h"
#include "formats/past_results.h"
#include "security/password_hasher.h"
#include "service/audit.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/results.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kExample = fs::path(ESAR_SOURCE_DIR) / "examples" / "ocs-2567";
constexpr int64_t kJan2024 = 1704067200000;  // 1 Jan 2024, inside FY2567
constexpr int64_t kDay = 24LL * 3600 * 1000;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// FY2566's framework as far as this test needs it: PMQA 4.0 (KPI 5 that year, key "pmqa"),
// given to every agency. Its results are what FY2567's KPI 8 reads as s.
const char* const kFy2566 = R"({"fiscal_year": 2566, "title": "ปีงบประมาณ พ.ศ. 2566",
  "kpis": [{"id": "5", "key": "pmqa", "component": "potential", "name": "PMQA 4.0",
    "variables": [{"id": "pmqa", "type": "number"}],
    "criteria": {"form": "levels", "targets": [300, 400, 450]}}],
  "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "5", "weight": 100}]}]})";

class HistoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    db_ = esar::testing::FreshDatabase(GetParam());
    ASSERT_NE(db_, nullptr);
    auto agencies = formats::LoadAgencies((kExample / "agencies.csv").string());
    ASSERT_TRUE(agencies.ok());
    Directory directory(*db_, clock_, &hasher_);
    ASSERT_TRUE(directory.UpsertAgencies(Actor::System(), *agencies).ok());
    auto id = directory.CreateUser(Actor::System(),
                                   {"admin", "admin", "password-admin-1", Role::kAdmin, ""});
    ASSERT_TRUE(id.ok());
    admin_ = Actor{*id, Role::kAdmin, "", "admin"};
  }

  // Scores, finalizes and publishes the round at once (its deadline passed, no appeal window).
  int64_t Publish(int64_t round_id) {
    Results results(*db_, clock_);
    auto preliminary = results.ComputePreliminary(admin_, round_id, 0);
    EXPECT_TRUE(preliminary.ok()) << preliminary.status().ToString(false);
    EXPECT_TRUE(results.Finalize(admin_, round_id).ok());
    auto published = results.Publish(admin_, round_id);
    EXPECT_TRUE(published.ok()) << published.status().ToString(false);
    return published.ok() ? published->id : 0;
  }

  // Each agency's KPI 8 (score and explanation lines in Thai) in the round's newest result.
  std::map<std::string, json> Kpi8(int64_t round_id) {
    std::map<std::string, json> out;
    auto latest = Results(*db_, clock_).Latest(admin_, round_id, ResultStage::kPreliminary);
    EXPECT_TRUE(latest.ok());
    if (!latest.ok()) return out;
    const json document = json::parse(latest->document);
    for (const json& a : document["agencies"]) {
      for (const json& k : a["kpis"]) {
        if (k["id"] == "8") out[a["code"].get<std::string>()] = k;
      }
    }
    return out;
  }

  FakeClock clock_{kJan2024};
  security::PasswordHasher hasher_{security::HashStrength::kMinimum, {4, 64, 60'000}};
  std::unique_ptr<storage::Database> db_;
  Actor admin_;
};

std::string Lines(const json& explanation) {
  std::string out;
  for (const json& l : explanation) out += l.get<std::string>() + "\n";
  return out;
}

TEST_P(HistoryTest, ThePmqaBaselineComesFromThePublishedFy2566Result) {
  Cycle cycle(*db_, clock_);
  // FY2566, evaluated in esar and published: each agency's PMQA result is the s of data.csv.
  auto fy66 = cycle.ImportFramework(admin_, kFy2566);
  ASSERT_TRUE(fy66.ok()) << fy66.status().ToString(false);
  auto round66 = cycle.OpenRound(admin_, fy66->id, 12, kJan2024 + kDay);
  ASSERT_TRUE(round66.ok());
  auto data = formats::LoadObservations((kExample / "data.csv").string());
  ASSERT_TRUE(data.ok());
  std::vector<domain::Observation> fy66_values, fy67_values;
  std::map<std::string, double> s;
  for (domain::Observation o : *data) {
    if (o.kpi == "8" && o.fiscal_year == 2566) {
      s[o.agency] = o.values[0];
      o.kpi = "5";  // FY2566's id of the same KPI
      fy66_values.push_back(o);
    } else {
      fy67_values.push_back(o);  // FY2567's values and its other baselines, without PMQA's s
    }
  }
  ASSERT_EQ(s.size(), 6u);
  ASSERT_TRUE(cycle.ImportObservations(admin_, fy66_values).ok());
  clock_.Set(kJan2024 + 2 * kDay);
  ASSERT_GT(Publish(round66->id), 0);

  // FY2567: the example's framework, whose KPI 8 takes s from the FY2566 result of "pmqa".
  auto fy67 = cycle.ImportFramework(admin_, ReadText(kExample / "framework.json"));
  ASSERT_TRUE(fy67.ok()) << fy67.status().ToString(false);
  auto round67 = cycle.OpenRound(admin_, fy67->id, 12, kJan2024 + 3 * kDay);
  ASSERT_TRUE(round67.ok());
  ASSERT_TRUE(cycle.ImportObservations(admin_, fy67_values).ok());
  clock_.Set(kJan2024 + 4 * kDay);
  ASSERT_TRUE(Results(*db_, clock_).ComputePreliminary(admin_, round67->id, kDay).ok());

  // Every agency's KPI 8 scores as expected.json says (where s came from data.csv).
  const json expected = json::parse(ReadText(kExample / "expected.json"));
  const auto kpi8 = Kpi8(round67->id);
  int compared = 0;
  for (const json& a : expected["agencies"]) {
    for (const json& k : a["kpis"]) {
      if (k["id"] != "8") continue;
      const std::string code = a["code"];
      ASSERT_TRUE(kpi8.count(code)) << code;
      EXPECT_NEAR(kpi8.at(code)["score"].get<double>(), k["score"].get<double>(), 1e-9) << code;
      EXPECT_EQ(kpi8.at(code)["group"], k["group"]) << code;
      const std::string why = Lines(kpi8.at(code)["explanation"]);
      char value[32];
      std::snprintf(value, sizeof value, "%.2f", s[code]);
      EXPECT_NE(
          why.find(
              std::string(
                  "ข้อมูลพื้นฐาน คะแนนผลการประเมินสถานะการเป็นระบบราชการ 4.0 (PMQA 4.0) ปี 2566 (s) = ") +
              value + " จากผลการประเมินปี 2566 ที่เผยแพร่แล้ว"),
          std::string::npos)
          << code << "\n"
          << why;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 6);

  // An imported value overrides it: DCLS's s 360 instead of 310 puts it in group 2.
  domain::Observation own;
  own.agency = "DCLS";
  own.kpi = "8";
  own.variable = "pmqa";
  own.fiscal_year = 2566;
  own.values = {360};
  ASSERT_TRUE(cycle.ImportObservations(admin_, {own}).ok());
  ASSERT_TRUE(Results(*db_, clock_).ComputePreliminary(admin_, round67->id, kDay).ok());
  const auto overridden = Kpi8(round67->id);
  EXPECT_EQ(overridden.at("DCLS")["group"], "2");
  EXPECT_NE(Lines(overridden.at("DCLS")["explanation"])
                .find("ข้อมูลพื้นฐาน คะแนนผลการประเมินสถานะการเป็นระบบราชการ 4.0 (PMQA 4.0) ปี 2566 (s) = "
                      "360.00 นำเข้าแทนผลการประเมินปี 2566 ที่เผยแพร่แล้ว"),
            std::string::npos);
  EXPECT_EQ(overridden.at("BOI")["score"], kpi8.at("BOI")["score"]);
  // The import that overrode it is in the audit log, and so is the override, with the result.
  auto imports = db_->Query("SELECT COUNT(*) FROM audit_log WHERE action = 'data.import'");
  ASSERT_TRUE(imports.ok());
  EXPECT_EQ((*imports)[0].Int(0), 3);
  auto computed = db_->Query(
      "SELECT after_json FROM audit_log WHERE action = 'results.preliminary' ORDER BY seq");
  ASSERT_TRUE(computed.ok());
  ASSERT_EQ(computed->size(), 3u);  // FY2566's, then FY2567's twice
  EXPECT_FALSE(json::parse((*computed)[0].Text(0)).contains("baselines"));
  EXPECT_EQ(json::parse((*computed)[1].Text(0))["baselines"],
            json({{"from_earlier_results", 6}, {"imported_in_place", 0}}));
  EXPECT_EQ(json::parse((*computed)[2].Text(0))["baselines"],
            json({{"from_earlier_results", 5}, {"imported_in_place", 1}}));
}

TEST_P(HistoryTest, ImportedResultsReplaceTheirYearAreAuditedAndFeedTheBaselines) {
  History history(*db_, clock_);
  const std::string header = "fiscal_year,round,agency,kpi_key,result,score,total\n";
  auto first = formats::ParsePastResults(header +
                                             "2565,12,OCS,pmqa,401.5,80,90.5\n"
                                             "2565,12,BOI,pmqa,350,75,\n"
                                             "2566,12,OCS,pmqa,420.5,88.37,94.25\n",
                                         "past.csv");
  ASSERT_TRUE(first.ok()) << first.status().ToString(false);
  ASSERT_TRUE(history.ImportResults(admin_, *first).ok());
  ASSERT_TRUE(history.ImportResults(admin_, *first).ok());  // again: nothing changes
  auto all = history.PastResults();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 5u);  // three KPI rows, two totals
  // A corrected FY2566 leaves FY2565 alone and FY2566 as it says.
  auto corrected = formats::ParsePastResults(header + "2566,12,OCS,pmqa,421,,\n", "fix.csv");
  ASSERT_TRUE(corrected.ok());
  ASSERT_TRUE(history.ImportResults(admin_, *corrected).ok());
  auto after = history.PastResults(2567);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 4u);
  const auto ocs = domain::HistoryOf(*after, "OCS", "pmqa");
  ASSERT_EQ(ocs.size(), 2u);
  EXPECT_EQ(ocs[1].fiscal_year, 2566);
  EXPECT_EQ(ocs[1].result, 421);
  EXPECT_FALSE(ocs[1].score.has_value());
  EXPECT_EQ(ocs[0].result, 401.5);
  EXPECT_EQ(domain::HistoryOf(*after, "OCS", "").size(), 1u);  // FY2566's total went with it
  auto before_2566 = history.PastResults(2566);
  ASSERT_TRUE(before_2566.ok());
  EXPECT_EQ(before_2566->size(), 3u);
  // One year and round, one agency: what a page reads.
  auto fy2565 = history.PastResults(History::PastFilter{0, 2565, 12, "", {}});
  ASSERT_TRUE(fy2565.ok());
  EXPECT_EQ(fy2565->size(), 3u);
  for (const auto& p : *fy2565) EXPECT_EQ(p.fiscal_year, 2565);
  EXPECT_TRUE(history.PastResults(History::PastFilter{0, 2565, 6, "", {}})->empty());
  auto boi = history.PastResults(History::PastFilter{0, 2565, 12, "BOI", {}});
  ASSERT_TRUE(boi.ok());
  ASSERT_EQ(boi->size(), 1u);
  EXPECT_EQ((*boi)[0].agency, "BOI");
  // A page's agencies: theirs only, an agency with no result among them changing nothing.
  auto page = history.PastResults(History::PastFilter{0, 0, 12, "", {"BOI", "OCS", "NOPE"}});
  ASSERT_TRUE(page.ok());
  std::set<std::string> page_agencies;
  for (const auto& p : *page) page_agencies.insert(p.agency);
  EXPECT_EQ(page_agencies, (std::set<std::string>{"BOI", "OCS"}));
  auto none = history.PastResults(History::PastFilter{0, 0, 0, "", {"NOPE"}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  // An agency esar does not know: refused with its line, and nothing changes.
  auto unknown =
      formats::ParsePastResults(header + "2566,12,OCS,pmqa,1,,\n2566,12,XYZ,pmqa,2,,\n", "bad.csv");
  ASSERT_TRUE(unknown.ok());
  const Status refused = history.ImportResults(admin_, *unknown);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(refused.where().line, 3);
  EXPECT_NE(refused.message_en().find("no agency \"XYZ\""), std::string::npos);
  EXPECT_NE(refused.message_th().find("ไม่มีหน่วยงาน \"XYZ\""), std::string::npos);
  EXPECT_EQ(history.PastResults()->size(), 4u);
  // Only admins load results.
  EXPECT_EQ(history.ImportResults(Actor{0, Role::kEvaluator, "", "e"}, *first).code(),
            StatusCode::kPermissionDenied);

  // Each import is audited with the rows before and after, and the log verifies...
  auto entries = db_->Query(
      "SELECT before_json, after_json FROM audit_log WHERE action = 'results.import' ORDER BY seq");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ(json::parse((*entries)[2].Text(0))["years"][0]["rows"], 2);
  EXPECT_EQ(json::parse((*entries)[2].Text(1))["years"][0]["rows"], 1);
  AuditLog audit(*db_);
  auto whole = audit.Verify();
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->whole()) << whole->problem_en;
  // ...until a result is changed behind esar's back.
  ASSERT_TRUE(db_->Execute("UPDATE past_results SET result = '500' WHERE fiscal_year = 2566").ok());
  auto edited = audit.Verify();
  ASSERT_TRUE(edited.ok());
  EXPECT_FALSE(edited->whole());
  EXPECT_NE(edited->problem_en.find("past_results"), std::string::npos) << edited->problem_en;

  // An imported FY2566 result is a baseline like a published one: FY2567's KPI 8 reads it.
  Cycle cycle(*db_, clock_);
  auto fy67 = cycle.ImportFramework(admin_, ReadText(kExample / "framework.json"));
  ASSERT_TRUE(fy67.ok());
  std::vector<domain::Observation> observations;
  auto agencies = Directory(*db_, clock_).Agencies();
  ASSERT_TRUE(agencies.ok());
  auto filled = history.FillBaselines(fy67->framework, *agencies, observations);
  ASSERT_TRUE(filled.ok());
  EXPECT_EQ(*filled, 1u);
  ASSERT_EQ(observations.size(), 1u);
  EXPECT_EQ(observations[0].agency, "OCS");
  EXPECT_EQ(observations[0].kpi, "8");
  EXPECT_EQ(observations[0].values, std::vector<double>{500});
  EXPECT_EQ(observations[0].source, domain::kFilledFromImported);
}

INSTANTIATE_TEST_SUITE_P(Backends, HistoryTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
