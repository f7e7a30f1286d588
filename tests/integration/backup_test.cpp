// esar backup and esar restore, across backends: a backup of SQLite restores into PostgreSQL and
// one of PostgreSQL into SQLite, with every row, the audit chain, passwords and evidence files.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "storage/database.h"
#include "tests/support/http_client.h"
#include "tests/support/run_esar.h"
#include "tests/support/test_database.h"

namespace esar {
namespace {

using esar::testing::HttpClient;
using esar::testing::RunEsar;
using esar::testing::ServerProcess;
using nlohmann::json;

const std::string kExample = std::string(ESAR_SOURCE_DIR) + "/examples/ocs-2567/";
const std::string kPdf =
    "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

int64_t Count(const std::string& url, const std::string& table) {
  auto db = storage::Open(url);
  if (!db) return -1;
  auto rows = (*db)->Query("SELECT COUNT(*) FROM " + table);
  return rows ? (*rows)[0].Int(0) : -1;
}

class BackupTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BackupTest, ABackupRestoresIntoTheOtherBackendWhole) {
  const std::string from = GetParam();
  const std::string to = from == "sqlite" ? "postgres" : "sqlite";
  ESAR_SKIP_WITHOUT("postgres");
  const std::string source = esar::testing::FreshDatabaseUrl(from);
  const std::string target = esar::testing::FreshDatabaseUrl(to);
  for (const std::string& what :
       {"agencies '" + kExample + "agencies.csv'", "framework '" + kExample + "framework.json'",
        "data '" + kExample + "data.csv'"}) {
    ASSERT_EQ(RunEsar("import " + what + " --db '" + source + "'").exit_code, 0);
  }
  for (const auto& [user, role, agency] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"admin", "admin", ""}, {"rep.ocs", "reporter", "OCS"}}) {
    auto r = RunEsar("admin create-user --db '" + source + "' --username " + user + " --role " +
                         role + (agency.empty() ? "" : " --agency " + agency),
                     "ESAR_PASSWORD=password-of-" + user);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string source_files = esar::testing::MakeTempDir();
  std::string sha;
  int64_t submission = 0;
  {
    ServerProcess server(source, "", source_files);
    ASSERT_GT(server.port(), 0);
    HttpClient admin(server.port()), reporter(server.port());
    ASSERT_TRUE(admin.Login("admin", "password-of-admin"));
    ASSERT_TRUE(reporter.Login("rep.ocs", "password-of-rep.ocs"));
    ASSERT_EQ(admin
                  .Request("POST", "/api/v1/frameworks/1/rounds",
                           json{{"round", 12}, {"deadline", int64_t{4102444800000}}}.dump())
                  .status,
              201);
    auto draft = reporter.Request(
        "PUT", "/api/v1/rounds/1/agencies/OCS/kpis/3",
        json{{"values", {{"completed", 36}, {"total", 36}}}, {"explanation", "ครบ"}}.dump());
    if (draft.status !=
        200) {  // the example's KPI 3 variables are named otherwise: take them from the framework
      auto framework = json::parse(admin.Request("GET", "/api/v1/frameworks/1").body);
      json values = json::object();
      for (const json& v : framework["document"]["kpis"][2]["variables"])
        values[v["id"].get<std::string>()] = 1;
      draft = reporter.Request("PUT", "/api/v1/rounds/1/agencies/OCS/kpis/3",
                               json{{"values", values}}.dump());
    }
    ASSERT_EQ(draft.status, 200) << draft.body;
    submission = json::parse(draft.body)["id"];
    auto upload = reporter.Upload("/api/v1/submissions/" + std::to_string(submission) + "/evidence",
                                  "หลักฐาน.pdf", kPdf);
    ASSERT_EQ(upload.status, 201) << upload.body;
    sha = json::parse(upload.body)["sha256"];
  }

  const std::string file = esar::testing::MakeTempDir() + "/backup.jsonl";
  // ServerProcess keeps the files in DIR/files.
  auto backed = RunEsar("--lang en backup '" + file + "' --db '" + source + "' --data-dir '" +
                        source_files + "/files'");
  ASSERT_EQ(backed.exit_code, 0) << backed.err;
  const std::string target_files = esar::testing::MakeTempDir();
  auto restored = RunEsar("--lang en restore '" + file + "' --db '" + target + "' --data-dir '" +
                          target_files + "/files'");
  ASSERT_EQ(restored.exit_code, 0) << restored.err;

  for (const char* table : {"agencies", "users", "frameworks", "rounds", "observations",
                            "submissions", "submission_revisions", "evidence", "audit_log"}) {
    EXPECT_EQ(Count(target, table), Count(source, table)) << table;
  }
  auto audit = RunEsar("--lang en audit verify --db '" + target + "'");
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  // Restoring again into a database that is no longer empty is refused.
  EXPECT_EQ(RunEsar("restore '" + file + "' --db '" + target + "' --data-dir '" + target_files +
                    "/files'")
                .exit_code,
            2);

  ServerProcess server(target, "", target_files);
  ASSERT_GT(server.port(), 0);
  HttpClient reporter(server.port()), admin(server.port());
  ASSERT_TRUE(reporter.Login("rep.ocs", "password-of-rep.ocs"));  // the password hash came along
  auto got = reporter.Request("GET", "/api/v1/submissions/" + std::to_string(submission));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(json::parse(got.body)["evidence"][0]["sha256"], sha);
  EXPECT_TRUE(std::filesystem::exists(target_files + "/files/" + sha.substr(0, 2) + "/" + sha));
  // New rows get new ids after the restored ones.
  ASSERT_TRUE(admin.Login("admin", "password-of-admin"));
  auto created = admin.Request(
      "POST", "/api/v1/users",
      json{{"username", "new.one"}, {"password", "password-new-one"}, {"role", "evaluator"}}
          .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_GT(json::parse(created.body)["id"].get<int64_t>(), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, BackupTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar
