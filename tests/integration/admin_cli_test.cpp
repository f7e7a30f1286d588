// The database commands of the esar binary, on SQLite and PostgreSQL: imports, users, the
// audit chain (and that tampering with it is found).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "storage/database.h"
#include "tests/support/run_esar.h"
#include "tests/support/test_database.h"

namespace esar {
namespace {

using esar::testing::RunEsar;

class AdminCliTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    url_ = esar::testing::FreshDatabaseUrl(GetParam());
  }
  esar::testing::RunResult Esar(const std::string& args, const std::string& env = "") {
    return RunEsar(args + " --db '" + url_ + "'", env);
  }
  std::string url_;
};

TEST_P(AdminCliTest, ImportsCreateUsersAndVerifiesTheAuditChain) {
  const std::string ex = std::string(ESAR_SOURCE_DIR) + "/examples/ocs-2567/";
  auto agencies = Esar("import agencies '" + ex + "agencies.csv'");
  ASSERT_EQ(agencies.exit_code, 0) << agencies.err;
  EXPECT_NE(agencies.out.find("8"), std::string::npos);
  ASSERT_EQ(Esar("import framework '" + ex + "framework.json'").exit_code, 0);
  ASSERT_EQ(Esar("import data '" + ex + "data.csv'").exit_code, 0);
  auto user = RunEsar("admin create-user --db '" + url_ +
                      "' --username rep.ocs --role reporter --agency OCS < /dev/null");
  EXPECT_EQ(user.exit_code, 2);  // no password anywhere
  auto created = Esar("admin create-user --username rep.ocs --role reporter --agency OCS",
                      "ESAR_PASSWORD=long-enough-password");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto again = Esar("--lang en admin create-user --username rep.ocs --role reporter --agency OCS",
                    "ESAR_PASSWORD=long-enough-password");
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("taken"), std::string::npos) << again.err;
  auto bad = Esar("import framework '" + ex + "data.csv'");
  EXPECT_EQ(bad.exit_code, 2);

  auto whole = Esar("--lang en audit verify");
  ASSERT_EQ(whole.exit_code, 0) << whole.out << whole.err;
  EXPECT_NE(whole.out.find("whole: 4 entries"), std::string::npos) << whole.out;
  auto db = storage::Open(url_);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Execute("UPDATE audit_log SET action = 'forged' WHERE seq = 2").ok());
  auto broken = Esar("--lang en audit verify");
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.out.find("entry 2"), std::string::npos) << broken.out;
}

// Earlier years' results: `esar import results` (idempotent, refusing an unknown agency with its
// line), and the baselines they give, offline from a CSV (`--past-results`) and from the
// database (`esar check --db`): the example's FY2567 PMQA s comes from the FY2566 results.
TEST_P(AdminCliTest, ImportsEarlierResultsAndChecksTheBaselinesTheyGive) {
  const std::string ex = std::string(ESAR_SOURCE_DIR) + "/examples/ocs-2567/";
  const std::string dir = esar::testing::MakeTempDir();
  // The example's data without FY2566 PMQA (KPI 8's s), which the earlier results give instead.
  std::string data;
  {
    const std::string all = esar::testing::ReadWholeFile(ex + "data.csv");
    size_t start = 0;
    while (start < all.size()) {
      const size_t end = all.find('\n', start);
      const std::string line = all.substr(start, end == std::string::npos ? end : end - start + 1);
      if (line.find(",8,pmqa,2566,") == std::string::npos) data += line;
      start = end == std::string::npos ? all.size() : end + 1;
    }
  }
  esar::testing::WriteFile(dir + "/data.csv", data);
  std::string past = esar::testing::ReadWholeFile(ex + "past-results.csv");
  std::string without_dsd;
  for (size_t start = 0; start < past.size();) {
    const size_t end = past.find('\n', start);
    const std::string line = past.substr(start, end - start + 1);
    if (line.find("2566,12,DSD,pmqa") == std::string::npos) without_dsd += line;
    start = end + 1;
  }
  esar::testing::WriteFile(dir + "/past-no-dsd.csv", without_dsd);
  const std::string files = "'" + ex + "framework.json' --agencies '" + ex +
                            "agencies.csv' --data '" + dir + "/data.csv'";

  // Offline: without earlier results every agency lacks s; with them, only DSD (left out).
  auto none = RunEsar("--lang en check " + files);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.out.find("agency OGGP has no published FY2566 12-month result of KPI pmqa"),
            std::string::npos)
      << none.out;
  auto dsd = RunEsar("--lang en check " + files + " --past-results '" + dir + "/past-no-dsd.csv'");
  EXPECT_EQ(dsd.exit_code, 1);
  EXPECT_NE(dsd.out.find("agency DSD has no published FY2566 12-month result of KPI pmqa"),
            std::string::npos)
      << dsd.out;
  EXPECT_EQ(dsd.out.find("agency OGGP has no"), std::string::npos) << dsd.out;
  auto th = RunEsar("check " + files + " --past-results '" + dir + "/past-no-dsd.csv'");
  EXPECT_NE(th.out.find("หน่วยงาน DSD ไม่มีผลการประเมินปีงบประมาณ พ.ศ. 2566 รอบ 12 เดือนที่เผยแพร่แล้ว"),
            std::string::npos)
      << th.out;
  auto all = RunEsar("--lang en check " + files + " --past-results '" + ex + "past-results.csv'");
  EXPECT_EQ(all.exit_code, 0) << all.out;
  // ...and the scores are the example's expected ones, s read from the earlier results.
  auto scored = RunEsar("score --framework " + files + " --past-results '" + ex +
                        "past-results.csv' --format json");
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  EXPECT_EQ(nlohmann::json::parse(scored.out),
            nlohmann::json::parse(esar::testing::ReadWholeFile(ex + "expected.json")));
  auto explained = RunEsar("explain --framework " + files + " --past-results '" + ex +
                           "past-results.csv' --agency DCLS --kpi 8");
  EXPECT_NE(explained.out.find("ข้อมูลพื้นฐาน คะแนนผลการประเมินสถานะการเป็นระบบราชการ 4.0 (PMQA 4.0) ปี 2566 (s) = 310.00 จากผลการประเมินปี 2566 ที่เผยแพร่แล้ว"),
            std::string::npos)
      << explained.out;

  // Into the database: again changes nothing; an unknown agency is refused with its line.
  ASSERT_EQ(Esar("import agencies '" + ex + "agencies.csv'").exit_code, 0);
  auto loaded = Esar("--lang en import results '" + dir + "/past-no-dsd.csv'");
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_NE(loaded.out.find("of FY 2565, 2566"), std::string::npos) << loaded.out;
  ASSERT_EQ(Esar("import results '" + dir + "/past-no-dsd.csv'").exit_code, 0);
  esar::testing::WriteFile(dir + "/unknown.csv",
                           "fiscal_year,round,agency,kpi_key,result,score,total\n"
                           "2566,12,OCS,pmqa,1,,\n2566,12,NOPE,pmqa,1,,\n");
  auto unknown = Esar("--lang en import results '" + dir + "/unknown.csv'");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown.csv:3"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("no agency \"NOPE\""), std::string::npos) << unknown.err;
  auto db = storage::Open(url_);
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Query("SELECT COUNT(*) FROM past_results");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 31 + 12);  // 31 KPI rows and 12 totals: the file, once
  auto imports = (*db)->Query("SELECT COUNT(*) FROM audit_log WHERE action = 'results.import'");
  ASSERT_TRUE(imports.ok());
  EXPECT_EQ((*imports)[0].Int(0), 2);
  // The database's earlier results answer the check as the CSV did.
  auto from_db = RunEsar("--lang en check " + files + " --db '" + url_ + "'");
  EXPECT_EQ(from_db.exit_code, 1);
  EXPECT_NE(from_db.out.find("agency DSD has no published FY2566"), std::string::npos)
      << from_db.out;
  EXPECT_EQ(from_db.out.find("agency OCS has no"), std::string::npos) << from_db.out;
  // With only the database: its agencies and values, another year's framework's values (the
  // FY2565 example) left out rather than reported as unknown.
  const std::string opdc = std::string(ESAR_SOURCE_DIR) + "/examples/opdc-2565/";
  ASSERT_EQ(Esar("import agencies '" + opdc + "agencies.csv'").exit_code, 0);
  ASSERT_EQ(Esar("import data '" + opdc + "data.csv'").exit_code, 0);
  ASSERT_EQ(Esar("import data '" + dir + "/data.csv'").exit_code, 0);
  auto db_only = RunEsar("--lang en check '" + ex + "framework.json' --db '" + url_ + "'");
  EXPECT_EQ(db_only.exit_code, 1);
  EXPECT_NE(db_only.out.find("agency DSD has no published FY2566"), std::string::npos)
      << db_only.out;
  EXPECT_EQ(db_only.out.find("[data-"), std::string::npos) << db_only.out;
  EXPECT_EQ(db_only.out.find("agency DCLS has no"), std::string::npos) << db_only.out;
  auto verified = Esar("--lang en audit verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminCliTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar
