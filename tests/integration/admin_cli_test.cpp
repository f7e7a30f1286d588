// The database commands of the esar binary, on SQLite and PostgreSQL: imports, users, the
// audit chain (and that tampering with it is found).
#include <gtest/gtest.h>

#include <filesystem>

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

INSTANTIATE_TEST_SUITE_P(Backends, AdminCliTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar
