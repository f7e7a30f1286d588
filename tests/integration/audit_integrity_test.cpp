// esar audit verify against someone who can write the database (and the evidence folder) but
// does not hold the audit key: the last entries deleted, an entry changed and the chain
// recomputed after it, a submitted value, a review or a published total changed in place, an
// evidence file's bytes replaced. Each is found, on SQLite and on PostgreSQL; the server refuses
// to hand out an evidence file whose bytes no longer match their SHA-256.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "security/crypto.h"
#include "storage/database.h"
#include "tests/support/cycle_scenario.h"
#include "tests/support/http_client.h"
#include "tests/support/run_esar.h"
#include "tests/support/test_database.h"

namespace esar {
namespace {

using esar::testing::CycleScenario;
using esar::testing::EsarOn;
using esar::testing::HttpClient;
using esar::testing::ServerProcess;
using nlohmann::json;
namespace fs = std::filesystem;

class AuditIntegrityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    ASSERT_NO_FATAL_FAILURE(esar::testing::RunWholeCycle(GetParam(), &s_));
    auto db = storage::Open(s_.db_url);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto whole = Verify();
    ASSERT_EQ(whole.exit_code, 0) << whole.out << whole.err;
  }

  esar::testing::RunResult Verify() { return EsarOn(s_, "audit verify"); }

  void Sql(const std::string& sql, const std::vector<storage::Value>& params = {}) {
    Status s = db_->Execute(sql, params);
    ASSERT_TRUE(s.ok()) << sql << ": " << s.ToString(false);
  }

  // Checks that `esar audit verify` now fails (exit 1) and says `expected` somewhere.
  void ExpectBroken(const std::string& expected) {
    auto r = Verify();
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find(expected), std::string::npos) << r.out << r.err;
  }

  CycleScenario s_;
  std::unique_ptr<storage::Database> db_;
};

TEST_P(AuditIntegrityTest, TheLastEntriesDeletedAreFound) {
  Sql("DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) FROM audit_log) - 3");
  ExpectBroken("missing");
}

// The hash of an entry as anyone can compute it (the chain's format is public: this file
// follows src/service/audit.cpp): what someone rewriting history would do.
std::string PublicEntryHash(const storage::Row& r, bool with_states) {
  std::string canonical;
  std::vector<std::string> fields = {r.Text(7), r.Text(0), r.Text(1), r.Text(2),
                                     r.Text(3), r.Text(4), r.Text(5), r.Text(6)};
  if (with_states && !r.IsNull(9)) fields.push_back(r.Text(9));
  for (const std::string& field : fields)
    canonical += std::to_string(field.size()) + ":" + field + ";";
  return security::Sha256Hex(canonical);
}

TEST_P(AuditIntegrityTest, AnEntryChangedAndTheChainRecomputedIsFound) {
  auto columns = db_->Query("SELECT * FROM audit_log WHERE seq = 1");
  ASSERT_TRUE(columns.ok());
  const bool with_states = (*columns)[0].size() > 9;
  const std::string select =
      std::string(
          "SELECT seq, at, actor, action, entity, before_json, after_json, prev_hash, "
          "hash") +
      (with_states ? ", states" : "") + " FROM audit_log ORDER BY seq";
  // The acceptance of the evidence's submission, rewritten as a return; every later entry made
  // to follow it again, in both ways a forger might try: keeping the seals, and dropping them
  // all as if the log had never been sealed.
  for (bool drop_seals : {false, true}) {
    SCOPED_TRACE(drop_seals ? "seals dropped" : "seals kept");
    auto rows = db_->Query(select);
    ASSERT_TRUE(rows.ok());
    int64_t target = 0;
    for (const storage::Row& r : *rows) {
      if (r.Text(3) == "submission.accept") target = r.Int(0);
    }
    ASSERT_GT(target, 0);
    Sql("UPDATE audit_log SET action = 'submission.return' WHERE seq = ?", {target});
    if (drop_seals && with_states) Sql("UPDATE audit_log SET key_id = NULL, mac = NULL");
    rows = db_->Query(select);
    ASSERT_TRUE(rows.ok());
    std::string prev = (*rows)[static_cast<size_t>(target - 2)].Text(8);
    for (const storage::Row& r : *rows) {
      if (r.Int(0) < target) continue;
      std::vector<storage::Value> v;
      for (size_t i = 0; i < r.size(); ++i) v.push_back(r[i]);
      v[7] = prev;
      const std::string hash = PublicEntryHash(storage::Row(v), with_states);
      Sql("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", {prev, hash, r.Int(0)});
      prev = hash;
    }
    ExpectBroken("entry");
  }
}

TEST_P(AuditIntegrityTest, AChangedSubmittedValueIsFound) {
  Sql("UPDATE submission_revisions SET values_json = '{\"forged\": 1}' WHERE submission_id = ? "
      "AND revision = (SELECT MAX(revision) FROM submission_revisions WHERE submission_id = ?)",
      {s_.evidence_submission, s_.evidence_submission});
  ExpectBroken("submission/" + std::to_string(s_.evidence_submission));
}

TEST_P(AuditIntegrityTest, AChangedReviewIsFound) {
  auto last = db_->Query("SELECT id, submission_id FROM reviews ORDER BY id DESC LIMIT 1");
  ASSERT_TRUE(last.ok());
  ASSERT_FALSE(last->empty());
  Sql("UPDATE reviews SET verified_json = '{\"forged\": 1}', comment = 'ok' WHERE id = ?",
      {(*last)[0].Int(0)});
  ExpectBroken("submission/" + (*last)[0].Text(1));
}

// The round's own facts: when its reporting closed and why it was reopened.
TEST_P(AuditIntegrityTest, AChangedRoundClosingOrReopeningIsFound) {
  Sql("UPDATE rounds SET closed_at = COALESCE(closed_at, 0) + 1 WHERE id = ?", {s_.round});
  ExpectBroken("round/" + std::to_string(s_.round));
}

TEST_P(AuditIntegrityTest, AChangedSendBackCommentIsFound) {
  auto last = db_->Query(
      "SELECT submission_id FROM submission_revisions ORDER BY at DESC, revision DESC LIMIT 1");
  ASSERT_TRUE(last.ok());
  ASSERT_FALSE(last->empty());
  Sql("UPDATE submission_revisions SET comment = 'forged' WHERE submission_id = ?",
      {(*last)[0].Int(0)});
  ExpectBroken("submission/" + (*last)[0].Text(0));
}

TEST_P(AuditIntegrityTest, AChangedPublishedTotalIsFound) {
  // What the public page reads: the agency's total in the rows the publication shows (its
  // final result's).
  auto rows_from =
      db_->Query("SELECT rows_from FROM results WHERE id = ?", {s_.published_result});
  ASSERT_TRUE(rows_from.ok()) << rows_from.status().ToString(false);
  ASSERT_EQ(rows_from->size(), 1u);
  const int64_t final_result = (*rows_from)[0].Int(0);
  ASSERT_NE(final_result, s_.published_result);  // shared, not copied
  Sql("UPDATE result_totals SET total = 99.9 WHERE result_id = ? AND agency_code = 'OCS'",
      {final_result});
  {
    ServerProcess server(s_.db_url, "", s_.server_dir);
    ASSERT_GT(server.port(), 0);
    HttpClient anonymous(server.port());
    auto page = anonymous.Request("GET", "/");
    ASSERT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("99.900"), std::string::npos);  // the change shows
  }
  ExpectBroken("result/" + std::to_string(final_result));
}

TEST_P(AuditIntegrityTest, AChangedEvidenceFileIsFoundAndNotServed) {
  const std::string path =
      s_.files_dir + "/" + s_.evidence_sha256.substr(0, 2) + "/" + s_.evidence_sha256;
  ASSERT_TRUE(fs::exists(path));
  std::string forged = s_.evidence_bytes;
  forged.replace(forged.find("Catalog"), 7, "Catalo9");
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  esar::testing::WriteFile(path, forged);
  ExpectBroken(s_.evidence_sha256);

  const std::string content = "/api/v1/evidence/" + std::to_string(s_.evidence_id) + "/content";
  {
    ServerProcess server(s_.db_url, "", s_.server_dir);
    ASSERT_GT(server.port(), 0);
    HttpClient reporter(server.port());
    ASSERT_TRUE(reporter.Login("rep.ocs", "password-of-rep.ocs"));
    auto refused = reporter.Request("GET", content);
    EXPECT_EQ(refused.status, 500);
    EXPECT_EQ(refused.body.find("Catalo9"), std::string::npos);
    json error;
    ASSERT_NO_THROW(error = json::parse(refused.body)) << refused.body;
    EXPECT_EQ(error["error"]["code"], "data_corrupt") << refused.body;
    // Put back, it is served again.
    esar::testing::WriteFile(path, s_.evidence_bytes);
    auto served = reporter.Request("GET", content);
    EXPECT_EQ(served.status, 200);
    EXPECT_EQ(served.body, s_.evidence_bytes);
  }
  auto whole = Verify();
  EXPECT_EQ(whole.exit_code, 0) << whole.out << whole.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditIntegrityTest,
                         ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar
