// KPIs computed from other agencies' results in the server (issue 11 §2), on SQLite and on
// PostgreSQL: the departments' framework counts its own departments' e-Service results and the
// provinces' stored results (another framework of the same fiscal year), computed again while
// the results are preliminary, and explained with the agencies counted and left out.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/reporting.h"
#include "service/results.h"
#include "tests/support/run_esar.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using nlohmann::json;

constexpr int64_t kOct2022 = 1664582400000;  // 1 Oct 2022 00:00 UTC: FY2566 starts
constexpr int64_t kDay = 24LL * 3600 * 1000;

// The provinces' framework: HPP, levels by the number of planned outputs delivered.
const char* const kProvinces = R"({"fiscal_year": 2565, "agency_kind": "province",
  "title": "provinces", "kpis": [
  {"id": "1", "key": "hpp", "component": "c", "name": "HPP",
   "variables": [{"id": "outputs", "type": "count"}],
   "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
  "assignments": [{"agencies": ["P1", "P2", "P3"], "kpis": [{"kpi": "1", "weight": 100}]}]})";

// The departments' framework: e-Service for D1–D3; for OPDC the share of departments whose
// e-Service reached the standard level (2) and the number of provinces whose HPP did.
const char* const kDepartments = R"({"fiscal_year": 2565, "agency_kind": "department",
  "title": "departments", "kpis": [
  {"id": "1", "key": "e-service", "component": "c", "name": "e-Service",
   "variables": [{"id": "r", "type": "percent"}],
   "criteria": {"form": "levels", "targets": [80, 90, 100]}},
  {"id": "2", "component": "c", "name": "share",
   "variables": [{"id": "share", "type": "percent"}],
   "from_agencies": {"variable": "share", "key": "e-service", "measure": "share", "level": 2},
   "criteria": {"form": "levels", "targets": [50, 60, 70]}},
  {"id": "6", "component": "c", "name": "HPP provinces",
   "variables": [{"id": "provinces", "type": "count"}],
   "from_agencies": {"variable": "provinces", "key": "hpp", "measure": "count", "level": 2,
                     "agencies": {"kinds": ["province"]}},
   "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
  "assignments": [
    {"agencies": ["D1", "D2", "D3"], "kpis": [{"kpi": "1", "weight": 100}]},
    {"agencies": ["OPDC"], "kpis": [{"kpi": "2", "weight": 50}, {"kpi": "6", "weight": 50}]}]})";

domain::Observation Value(const std::string& agency, const std::string& kpi,
                          const std::string& variable, double v) {
  domain::Observation o;
  o.agency = agency;
  o.kpi = kpi;
  o.variable = variable;
  o.fiscal_year = 2565;
  o.round = 12;
  o.values = {v};
  return o;
}

class PeerResultsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    db_ = esar::testing::FreshDatabase(GetParam(), &url_);
    ASSERT_NE(db_, nullptr);
    directory_ = std::make_unique<Directory>(*db_, clock_, &hasher_);
    cycle_ = std::make_unique<Cycle>(*db_, clock_);
    results_ = std::make_unique<Results>(*db_, clock_);
    std::vector<domain::Agency> agencies;
    for (const char* code : {"D1", "D2", "D3", "OPDC"})
      agencies.push_back({code, {code, code}, "department", "", {}});
    for (const char* code : {"P1", "P2", "P3", "P4"})
      agencies.push_back({code, {code, code}, "province", "", {}});
    ASSERT_TRUE(directory_->UpsertAgencies(Actor::System(), agencies).ok());
    auto id = directory_->CreateUser(Actor::System(),
                                     {"admin.x", "admin.x", "password-admin.x", Role::kAdmin, ""});
    ASSERT_TRUE(id.ok()) << id.status().ToString(false);
    admin_ = Actor{*id, Role::kAdmin, "", "admin.x"};
    for (const char* text : {kProvinces, kDepartments}) {
      auto fw = cycle_->ImportFramework(admin_, text);
      ASSERT_TRUE(fw.ok()) << fw.status().ToString(false);
      auto round = cycle_->OpenRound(admin_, fw->id, 12, kOct2022 + kDay);
      ASSERT_TRUE(round.ok()) << round.status().ToString(false);
      rounds_.push_back(round->id);
    }
    // D1 and D2 reach the standard level (90), D3 only the basic one; P1 and P2 deliver 2 and
    // 3 outputs (level 2 and 3), P3 one (level 1), P4 is not assigned HPP.
    ASSERT_TRUE(cycle_
                    ->ImportObservations(admin_, {Value("D1", "1", "r", 95), Value("D2", "1", "r", 90),
                                                  Value("D3", "1", "r", 85),
                                                  Value("P1", "1", "outputs", 2),
                                                  Value("P2", "1", "outputs", 3),
                                                  Value("P3", "1", "outputs", 1)})
                    .ok());
    clock_.Advance(2 * kDay);  // past the deadlines: reporting closed
  }

  // OPDC's KPI `kpi` in the newest preliminary result of the departments' round.
  json OpdcKpi(const std::string& kpi, bool english = false) {
    auto one = results_->LatestForAgency(admin_, rounds_[1], ResultStage::kPreliminary, "OPDC");
    EXPECT_TRUE(one.ok()) << one.status().ToString(false);
    if (!one.ok()) return json::object();
    const json doc = json::parse(one->document);
    for (const json& k : doc[english ? "agency_en" : "agency"]["kpis"]) {
      if (k["id"] == kpi) return k;
    }
    ADD_FAILURE() << "no KPI " << kpi;
    return json::object();
  }

  static std::string Lines(const json& kpi) {
    std::string out;
    for (const json& l : kpi["explanation"]) out += l.get<std::string>() + "\n";
    return out;
  }

  FakeClock clock_{kOct2022};
  security::PasswordHasher hasher_{security::HashStrength::kMinimum, {4, 64, 60'000}};
  std::string url_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<Cycle> cycle_;
  std::unique_ptr<Results> results_;
  Actor admin_;
  std::vector<int64_t> rounds_;  // provinces', departments'
};

TEST_P(PeerResultsTest, OwnAndOtherFrameworksResultsAreCountedAndExplained) {
  // Before the provinces are computed, OPDC's KPI 6 has nobody to count: 0 provinces.
  ASSERT_TRUE(results_->ComputePreliminary(admin_, rounds_[1]).ok());
  EXPECT_EQ(OpdcKpi("6")["result"], 0.0);
  const std::string before = Lines(OpdcKpi("6", true));
  EXPECT_NE(before.find("0 of 0 agencies"), std::string::npos) << before;
  EXPECT_NE(before.find("P1 (no result of this KPI in this round)"), std::string::npos) << before;

  ASSERT_TRUE(results_->ComputePreliminary(admin_, rounds_[0]).ok());
  auto computed = results_->ComputePreliminary(admin_, rounds_[1]);  // again, still preliminary
  ASSERT_TRUE(computed.ok()) << computed.status().ToString(false);
  // Hand-checked: D1 (95, level 2), D2 (90, level 2) reached, D3 (85, level 1) did not:
  // 2 ÷ 3 × 100 = 66.67 → between the standard (60) and advanced (70) targets:
  // 75 + (66.67 − 60) ÷ 10 × 25 = 91.67.
  const json share = OpdcKpi("2");
  EXPECT_NEAR(share["result"].get<double>(), 200.0 / 3.0, 1e-9);
  EXPECT_NEAR(share["score"].get<double>(), 75.0 + (200.0 / 3.0 - 60.0) / 10.0 * 25.0, 1e-9);
  const std::string share_en = Lines(OpdcKpi("2", true));
  EXPECT_NE(share_en.find("2 of 3 agencies"), std::string::npos) << share_en;
  EXPECT_NE(share_en.find("D3 (result 85.00, level 1, not reached)"), std::string::npos)
      << share_en;
  // Provinces from the other framework's stored results: P1 (level 2) and P2 (level 3) reached,
  // P3 (level 1) did not, P4 has no HPP result → 2 provinces → the standard target: 75.
  const json hpp = OpdcKpi("6");
  EXPECT_EQ(hpp["result"], 2.0);
  EXPECT_EQ(hpp["score"], 75.0);
  const std::string hpp_th = Lines(OpdcKpi("6"));
  EXPECT_NE(hpp_th.find("2 จาก 3 หน่วยงาน"), std::string::npos) << hpp_th;
  EXPECT_NE(hpp_th.find("P4 (ไม่มีผลของตัวชี้วัดนี้ในรอบนี้)"), std::string::npos) << hpp_th;

  // A province's value changes while the provinces' results are preliminary: computing both
  // again carries the change into OPDC's result.
  ASSERT_TRUE(cycle_->ImportObservations(admin_, {Value("P3", "1", "outputs", 3)}).ok());
  ASSERT_TRUE(results_->ComputePreliminary(admin_, rounds_[0]).ok());
  ASSERT_TRUE(results_->ComputePreliminary(admin_, rounds_[1]).ok());
  EXPECT_EQ(OpdcKpi("6")["result"], 3.0);
  EXPECT_EQ(OpdcKpi("6")["score"], 100.0);
}

// The command line reads the other frameworks' stored results as the server does (issue 11 §2):
// `esar score --db` gives OPDC's KPI 6 the provinces counted from the provinces' stored
// result; without --db it has none of them to count.
TEST_P(PeerResultsTest, TheCommandLineReadsOtherFrameworksStoredResults) {
  ASSERT_TRUE(results_->ComputePreliminary(admin_, rounds_[0]).ok());  // the provinces
  const std::string dir = esar::testing::MakeTempDir();
  esar::testing::WriteFile(dir + "/departments.json", kDepartments);
  esar::testing::WriteFile(dir + "/agencies.csv",
                           "code,name_th,name_en,kind,parent\n"
                           "D1,D1,D1,department,\nD2,D2,D2,department,\nD3,D3,D3,department,\n"
                           "OPDC,OPDC,OPDC,department,\n");
  esar::testing::WriteFile(dir + "/data.csv",
                           "agency,kpi,variable,fiscal_year,round,value\n"
                           "D1,1,r,2565,12,95\nD2,1,r,2565,12,90\nD3,1,r,2565,12,85\n");
  auto kpi6 = [&](const std::string& extra) {
    auto run = esar::testing::RunEsar("score --framework '" + dir + "/departments.json' --agencies '" +
                                      dir + "/agencies.csv' --data '" + dir +
                                      "/data.csv' --format json" + extra);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    const json doc = json::parse(run.out, nullptr, false);
    if (doc.is_discarded()) return json(nullptr);
    for (const json& a : doc["agencies"]) {
      if (a["code"] != "OPDC") continue;
      for (const json& k : a["kpis"]) {
        if (k["id"] == "6") return k["result"];
      }
    }
    ADD_FAILURE() << run.out;
    return json(nullptr);
  };
  // P1 (level 2) and P2 (level 3) reached the standard level: 2 provinces.
  EXPECT_EQ(kpi6(" --db '" + url_ + "'"), 2.0);
  EXPECT_EQ(kpi6(""), 0.0);
  // explain says which provinces were counted.
  auto explained = esar::testing::RunEsar(
      "--lang en explain --framework '" + dir + "/departments.json' --agencies '" + dir +
      "/agencies.csv' --data '" + dir + "/data.csv' --agency OPDC --kpi 6 --db '" + url_ + "'");
  EXPECT_EQ(explained.exit_code, 0) << explained.err;
  EXPECT_NE(explained.out.find("2 of 3 agencies"), std::string::npos) << explained.out;
}

// KPIs of two frameworks of one fiscal year that wait for each other's results (issue 11 §2):
// the server refuses to import the framework that closes the cycle, and `esar check` names it,
// from the database (--db) or from the other framework's file (--other-framework).
TEST_P(PeerResultsTest, ACycleAcrossTheYearsFrameworksIsRefusedAndCheckedByName) {
  const std::string departments = R"({"fiscal_year": 2566, "agency_kind": "department",
    "title": "departments", "kpis": [
    {"id": "6", "key": "hpp-provinces", "component": "c", "name": "HPP provinces",
     "variables": [{"id": "provinces", "type": "count"}],
     "from_agencies": {"variable": "provinces", "key": "hpp", "measure": "count", "level": 2},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["OPDC"], "kpis": [{"kpi": "6", "weight": 100}]}]})";
  const std::string provinces = R"({"fiscal_year": 2566, "agency_kind": "province",
    "title": "provinces", "kpis": [
    {"id": "1", "key": "hpp", "component": "c", "name": "HPP",
     "variables": [{"id": "n", "type": "number"}],
     "from_agencies": {"variable": "n", "key": "hpp-provinces", "measure": "average"},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["P1"], "kpis": [{"kpi": "1", "weight": 100}]}]})";
  ASSERT_TRUE(cycle_->ImportFramework(admin_, departments).ok());
  auto refused = cycle_->ImportFramework(admin_, provinces);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(refused.status().message_en().find("1 (province) → 6 (department) → 1 (province)"),
            std::string::npos)
      << refused.status().message_en();
  auto stored = cycle_->LatestFramework(2566, "province");
  EXPECT_FALSE(stored.ok());  // nothing was imported

  const std::string dir = esar::testing::MakeTempDir();
  esar::testing::WriteFile(dir + "/provinces.json", provinces);
  esar::testing::WriteFile(dir + "/departments.json", departments);
  auto alone = esar::testing::RunEsar("--lang en check '" + dir + "/provinces.json'");
  EXPECT_EQ(alone.exit_code, 0) << alone.out << alone.err;
  for (const std::string& other :
       {" --db '" + url_ + "'", " --other-framework '" + dir + "/departments.json'"}) {
    auto run = esar::testing::RunEsar("--lang en check '" + dir + "/provinces.json'" + other);
    EXPECT_EQ(run.exit_code, 1) << other << "\n" << run.out << run.err;
    EXPECT_NE(run.out.find("1 (province) → 6 (department) → 1 (province)"), std::string::npos)
        << other << "\n" << run.out;
  }
}

// A value computed from other agencies' results is not typed (issue 11 §2 leftovers): the
// agency's reporter saving one is refused, saying where it comes from; its other values save.
TEST_P(PeerResultsTest, AValueFromOtherAgenciesIsNotTyped) {
  const std::string departments = R"({"fiscal_year": 2566, "agency_kind": "department",
    "title": "departments", "kpis": [
    {"id": "6", "component": "c", "name": "HPP provinces",
     "variables": [{"id": "provinces", "type": "count"}, {"id": "note", "type": "number"}],
     "result": "provinces + note",
     "from_agencies": {"variable": "provinces", "key": "hpp", "measure": "count", "level": 2},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["OPDC"], "kpis": [{"kpi": "6", "weight": 100}]}]})";
  auto fw = cycle_->ImportFramework(admin_, departments);
  ASSERT_TRUE(fw.ok()) << fw.status().ToString(false);
  auto round = cycle_->OpenRound(admin_, fw->id, 12, clock_.NowMs() + kDay);
  ASSERT_TRUE(round.ok()) << round.status().ToString(false);
  auto id = directory_->CreateUser(
      Actor::System(), {"rep.opdc", "rep.opdc", "password-rep.opdc", Role::kReporter, "OPDC"});
  ASSERT_TRUE(id.ok()) << id.status().ToString(false);
  const Actor reporter{*id, Role::kReporter, "OPDC", "rep.opdc"};
  Reporting reporting(*db_, clock_);
  auto typed = reporting.SaveDraft(reporter, round->id, "OPDC",
                                   Report{"6", R"({"provinces": 3})", "", "", ""});
  ASSERT_FALSE(typed.ok());
  EXPECT_EQ(typed.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(typed.status().message_en().find("computed from other agencies' results"),
            std::string::npos)
      << typed.status().message_en();
  EXPECT_NE(typed.status().message_th().find("ผลของหน่วยงานอื่น"), std::string::npos);
  auto other = reporting.SaveDraft(reporter, round->id, "OPDC",
                                   Report{"6", R"({"note": 1})", "", "", ""});
  EXPECT_TRUE(other.ok()) << other.status().ToString(false);
}

INSTANTIATE_TEST_SUITE_P(Backends, PeerResultsTest,
                         ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
