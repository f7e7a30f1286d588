// The audit key and the chain head (AuditSeal), and how the audit log uses them, on both
// backends: the head only moves forward and is itself sealed; a sealed log refuses unsealed
// entries; an unsealed log is sealed once, with a baseline of every entity's state.
#include "service/audit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "security/crypto.h"
#include "service/audit_state.h"
#include "storage/migrations.h"
#include "storage/result_rows.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

namespace fs = std::filesystem;

std::string TempDir() {
  char pattern[] = "/tmp/esar-audit-XXXXXX";
  const char* dir = mkdtemp(pattern);
  if (!dir) return "";
  esar::testing::RemoveAtExit(dir);
  return dir;
}

std::shared_ptr<const AuditSeal> NewSeal(const std::string& dir) {
  EXPECT_TRUE(AuditSeal::GenerateKeyFile(dir + "/audit.key").ok());
  auto seal = AuditSeal::Load(dir + "/audit.key", dir + "/audit.head");
  EXPECT_TRUE(seal.ok()) << seal.status().ToString(false);
  return seal.ok() ? *seal : nullptr;
}

// A result's state digest does not depend on the order its rows come in: grouped by agency with
// the groups in order (as a computation writes them, which StateOfParts sorts group by group),
// the groups out of order, an agency's rows in two places, reversed or shuffled. Codes of two
// lengths, so that the rows' encodings sort otherwise than the codes ("B2" after "B10"), and KPI
// ids that sort as text ("10" before "9").
TEST(StateDigestTest, APartsRowsGiveOneDigestInWhateverOrderTheyCome) {
  std::vector<std::vector<storage::Value>> rows;
  for (const char* agency : {"A01", "A02", "B10", "B2", "B20"}) {
    for (const char* kpi : {"1", "10", "12.1", "2", "9"}) {
      rows.push_back({std::string(agency), std::string(kpi), std::string(""), std::string("scored"),
                      static_cast<double>(rows.size()) * 1.5, storage::Value{},
                      int64_t{static_cast<int64_t>(rows.size() % 4)}});
    }
  }
  auto digest_of = [&](const std::vector<size_t>& order) {
    std::vector<EncodedRows> parts(3);
    const std::vector<storage::Value> result = {int64_t{1}, std::string("final")};
    parts[0].Add(result.data(), result.size());
    for (size_t i : order) parts[2].Add(rows[i].data(), rows[i].size());
    return StateOfParts("result/1", parts).digest;
  };
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const std::string as_written = digest_of(order);
  std::vector<std::vector<size_t>> others;
  others.emplace_back(order.rbegin(), order.rend());
  std::vector<size_t> groups_swapped(order.begin() + 5, order.begin() + 10);  // A02 first
  groups_swapped.insert(groups_swapped.end(), order.begin(), order.begin() + 5);
  groups_swapped.insert(groups_swapped.end(), order.begin() + 10, order.end());
  others.push_back(groups_swapped);
  std::vector<size_t> split(order.begin() + 1, order.end());  // A01's first row last
  split.push_back(0);
  others.push_back(split);
  std::vector<size_t> shuffled = order;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(20261203));
  others.push_back(shuffled);
  std::vector<size_t> within_reversed;  // groups in order, each one's rows reversed
  for (size_t g = 0; g < rows.size(); g += 5)
    for (size_t i = g + 5; i > g; --i) within_reversed.push_back(i - 1);
  others.push_back(within_reversed);
  for (const std::vector<size_t>& other : others) EXPECT_EQ(digest_of(other), as_written);
  // The digest still covers every value.
  rows[7][4] = 0.25;
  EXPECT_NE(digest_of(order), as_written);
}

TEST(AuditSealTest, TheKeyFileIsMadeOnceAndReadBack) {
  const std::string dir = TempDir();
  auto seal = NewSeal(dir);
  ASSERT_NE(seal, nullptr);
  EXPECT_EQ(seal->key_id().size(), 16u);
  EXPECT_EQ(fs::status(dir + "/audit.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  // Never overwritten: the old key would be lost.
  EXPECT_FALSE(AuditSeal::GenerateKeyFile(dir + "/audit.key").ok());
  auto again = AuditSeal::Load(dir + "/audit.key", dir + "/audit.head");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->key_id(), seal->key_id());
  EXPECT_EQ((*again)->SealEntry("abc"), seal->SealEntry("abc"));
  EXPECT_EQ(AuditSeal::Load(dir + "/none", dir + "/audit.head").status().code(),
            StatusCode::kNotFound);
  std::ofstream(dir + "/bad.key") << "not a key\n";
  EXPECT_EQ(AuditSeal::Load(dir + "/bad.key", dir + "/audit.head").status().code(),
            StatusCode::kInvalidInput);
  auto other = NewSeal(TempDir());
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other->key_id(), seal->key_id());
  EXPECT_NE(other->SealEntry("abc"), seal->SealEntry("abc"));
}

// Two servers sharing a data folder start at once: one makes the key while the other looks
// for it. The looker must see "no key yet" or the key, never "cannot read" (CI saw that once,
// when the key appeared between a failed open and a second look).
TEST(AuditSealTest, AKeyAppearingWhileLoadedIsMissingOrWholeNeverUnreadable) {
  for (int attempt = 0; attempt < 300; ++attempt) {
    const std::string dir = TempDir();
    const std::string key_file = dir + "/audit.key";
    std::atomic<bool> made{false};
    std::thread maker([&] {
      EXPECT_TRUE(AuditSeal::GenerateKeyFile(key_file).ok());
      made = true;
    });
    std::string fault;
    for (;;) {
      const bool was_made = made.load();
      auto seal = AuditSeal::Load(key_file, dir + "/audit.head");
      if (seal.ok()) break;
      if (seal.status().code() != StatusCode::kNotFound) {
        fault = seal.status().ToString(false);
        break;
      }
      if (was_made) {
        fault = "the key was made but Load still finds none";
        break;
      }
    }
    maker.join();
    ASSERT_EQ(fault, "") << "attempt " << attempt;
    fs::remove_all(dir);
  }
}

TEST(AuditSealTest, TheHeadOnlyMovesForwardAndIsSealed) {
  const std::string dir = TempDir();
  auto seal = NewSeal(dir);
  ASSERT_NE(seal, nullptr);
  auto none = seal->ReadHead();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  const std::string h5(64, '5'), h3(64, '3');
  ASSERT_TRUE(seal->AdvanceHead({5, h5}).ok());
  ASSERT_TRUE(seal->AdvanceHead({3, h3}).ok());  // a slower process: the head stays
  auto head = seal->ReadHead();
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->seq, 5);
  EXPECT_EQ((*head)->hash, h5);
  ASSERT_TRUE(seal->ResetHead({3, h3}).ok());
  EXPECT_EQ((*seal->ReadHead())->seq, 3);
  // Moved back by hand, without the key: found.
  std::stringstream text;
  text << std::ifstream(dir + "/audit.head").rdbuf();
  std::string forged = text.str();
  forged.replace(forged.find("\"seq\":3"), 7, "\"seq\":2");
  std::ofstream(dir + "/audit.head", std::ios::trunc) << forged;
  EXPECT_EQ(seal->ReadHead().status().code(), StatusCode::kDataLoss);
  // Another installation's head: found.
  ASSERT_TRUE(seal->ResetHead({3, h3}).ok());
  const std::string elsewhere = TempDir();
  ASSERT_TRUE(AuditSeal::GenerateKeyFile(elsewhere + "/audit.key").ok());
  auto other = AuditSeal::Load(elsewhere + "/audit.key", dir + "/audit.head");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->ReadHead().status().code(), StatusCode::kDataLoss);
}

class AuditLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    db_ = esar::testing::FreshDatabase(GetParam());
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override { AuditLog::UseSeal(nullptr); }

  Status AddAgency(const std::string& code) {
    return db_->Transaction([&]() -> Status {
      Status s = db_->Execute("INSERT INTO agencies (code, name_th) VALUES (?, ?)",
                              {code, std::string("หน่วยงาน ") + code});
      if (!s.ok()) return s;
      return AuditLog(*db_).Append(Actor::System(), 1000, "agencies.upsert", "agencies", "{}",
                                   "{}");
    });
  }

  std::unique_ptr<storage::Database> db_;
};

TEST_P(AuditLogTest, ALogIsSealedOnceAndThenRefusesUnsealedEntries) {
  AuditLog log(*db_);
  // Before the installation has a key (the command line before the first start): unsealed.
  ASSERT_TRUE(AddAgency("A").ok());
  ASSERT_TRUE(log.Prepare(2000).ok());  // nothing to do without a key
  EXPECT_FALSE(*log.IsSealed());

  const std::string dir = TempDir();
  auto seal = NewSeal(dir);
  ASSERT_NE(seal, nullptr);
  AuditLog::UseSeal(seal);
  ASSERT_TRUE(log.Prepare(3000).ok());
  EXPECT_TRUE(*log.IsSealed());
  auto entries = db_->Query("SELECT seq, action, states FROM audit_log ORDER BY seq");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].Text(1), "audit.seal");
  EXPECT_NE((*entries)[1].Text(2).find("\"agencies\""), std::string::npos);  // the baseline
  ASSERT_TRUE(log.Prepare(4000).ok());                                       // sealed once only
  ASSERT_TRUE(AddAgency("B").ok());
  auto head = seal->ReadHead();
  ASSERT_TRUE(head.ok() && head->has_value());
  EXPECT_EQ((*head)->seq, 3);  // moved once the entry committed

  AuditLog::VerifyOptions options;
  options.seal = seal.get();
  auto whole = log.Verify(options);
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->whole()) << whole->problem_en;
  EXPECT_EQ(whole->sealed, 2);
  EXPECT_EQ(whole->entities, 1);  // the agencies

  // Without the key: nothing more is written, and the seals cannot be vouched for.
  AuditLog::UseSeal(nullptr);
  EXPECT_EQ(AddAgency("C").code(), StatusCode::kConflict);
  EXPECT_EQ(log.Prepare(5000).code(), StatusCode::kConflict);
  auto unchecked = log.Verify();
  ASSERT_TRUE(unchecked.ok());
  EXPECT_FALSE(unchecked->whole());
  // With another key: refused too.
  auto other = NewSeal(TempDir());
  AuditLog::UseSeal(other);
  EXPECT_EQ(log.Prepare(5000).code(), StatusCode::kConflict);
  // With the key but without its head: refused (a new head would hide a truncation).
  AuditLog::UseSeal(seal);
  fs::remove(dir + "/audit.head");
  EXPECT_EQ(log.Prepare(5000).code(), StatusCode::kConflict);
}

TEST_P(AuditLogTest, AnAgencyChangedOutsideEsarIsFound) {
  ASSERT_TRUE(AddAgency("A").ok());
  AuditLog log(*db_);
  auto before = log.Verify();
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->whole()) << before->problem_en;
  ASSERT_TRUE(db_->Execute("UPDATE agencies SET name_th = 'อื่น' WHERE code = 'A'").ok());
  auto after = log.Verify();
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->whole());
  EXPECT_NE(after->problem_en.find("agencies differs"), std::string::npos) << after->problem_en;
  EXPECT_EQ(after->first_broken, 0);  // the chain itself is whole
}

// The digest of `entity` read by `parts` (each taking `params`), as audit_state.cpp makes it:
// what an older esar recorded for a state its schema then had.
std::string DigestOfParts(storage::Database& db, const std::string& entity,
                          const std::vector<std::string>& parts,
                          const std::vector<storage::Value>& params) {
  security::Sha256 digest;
  digest.Update("esar-state/1\n" + entity + "\n");
  for (size_t p = 0; p < parts.size(); ++p) {
    auto rows = db.Query(parts[p], params);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString(false);
    std::vector<std::string> encoded;
    for (const storage::Row& r : *rows) {
      std::vector<storage::Value> values;
      for (size_t i = 0; i < r.size(); ++i) values.push_back(r[i]);
      encoded.push_back(EncodeValues(values));
    }
    std::sort(encoded.begin(), encoded.end());
    digest.Update("part " + std::to_string(p) + " " + std::to_string(encoded.size()) + "\n");
    for (const std::string& e : encoded) {
      digest.Update(std::to_string(e.size()) + ":");
      digest.Update(e);
      digest.Update("\n");
    }
  }
  return digest.FinishHex();
}

// The digest of result/<id> as esar wrote it before schema 8 (its results row, its per-agency
// documents and its summary), computed the way StateOf did then: what the audit log of a
// database made before the upgrade holds.
std::string DigestBeforeSchema8(storage::Database& db, int64_t id) {
  return DigestOfParts(
      db, "result/" + std::to_string(id),
      {"SELECT id, framework_id, round, stage, document, computed_by, computed_at, "
       "appeal_deadline FROM results WHERE id = ?",
       "SELECT agency_code, framework_id, round, stage, computed_at, appeal_deadline, document "
       "FROM result_agencies WHERE result_id = ?",
       "SELECT summary FROM result_summaries WHERE result_id = ?"},
      {id});
}

// The directory's digest before migration 24 gave agencies their e-mail address.
std::string AgenciesBeforeSchema24(storage::Database& db) {
  return DigestOfParts(db, "agencies", {"SELECT code, name_th, name_en, kind, parent FROM agencies"},
                       {});
}

// A database made at schema 7 with an audited, sealed result (its documents and the digest the
// log recorded then), upgraded: migration 8 rewrites the result into rows, and the first start
// after (Prepare) records one re-baseline entry naming the migration, so verify is clean; a row
// changed after that is still found. Before, verify reported result/1 as changed.
TEST_P(AuditLogTest, AResultAuditedBeforeTheUpgradeToRowsStillVerifies) {
  const std::string url = esar::testing::FreshDatabaseUrl(GetParam());
  auto opened = storage::Open(url);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString(false);
  storage::Database& db = **opened;
  ASSERT_TRUE(storage::MigrateTo(db, 7).ok());
  ASSERT_TRUE(
      db.ExecuteScript("INSERT INTO agencies (code, name_th, kind) VALUES ('MIN', 'กระทรวง', "
                       "'ministry');"
                       "INSERT INTO agencies (code, name_th, kind, parent) VALUES ('OCS', 'สคก.', "
                       "'department', 'MIN');"
                       "INSERT INTO frameworks (fiscal_year, agency_kind, version, document, "
                       "imported_at) VALUES (2567, 'department', 1, '{\"kpis\": [{\"id\": \"1\"}], "
                       "\"grades\": [{\"min\": 0, \"name\": {\"th\": \"ผ่าน\", \"en\": "
                       "\"pass\"}}]}', 1);"
                       "INSERT INTO results (framework_id, round, stage, document, computed_at) "
                       "VALUES (1, 12, 'final', '{\"agencies\": []}', 5);"
                       "INSERT INTO result_agencies (result_id, agency_code, framework_id, round, "
                       "stage, computed_at, document) VALUES (1, 'OCS', 1, 12, 'final', 5, "
                       "'{\"agency\": {\"code\": \"OCS\", \"total\": 80, \"grade\": \"ผ่าน\", "
                       "\"scored_weight\": 100, \"kpis\": [{\"id\": \"1\", \"status\": "
                       "\"scored\", \"result\": 80, \"score\": 80, \"level\": 2, \"weight\": "
                       "100, \"weighted\": 80}]}}');"
                       "INSERT INTO result_summaries (result_id, summary) VALUES (1, '{}')")
          .ok());
  const std::string dir = TempDir();
  auto seal = NewSeal(dir);
  ASSERT_NE(seal, nullptr);
  AuditLog::UseSeal(seal);
  AuditLog log(db);
  ASSERT_TRUE(db.Transaction([&]() -> Status {
                  return log.Append(Actor::System(), 1000, "results.compute", "result/1", "{}",
                                    "{}", {"agencies", "framework/1"},
                                    {{"result/1", DigestBeforeSchema8(db, 1)},
                                     {"agencies", AgenciesBeforeSchema24(db)}});
                }).ok());

  ASSERT_TRUE(storage::Migrate(db).ok());  // what the new esar does when it opens the database
  ASSERT_TRUE(log.Prepare(2000).ok());     // and then at its start
  AuditLog::VerifyOptions options;
  options.seal = seal.get();
  auto verified = log.Verify(options);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString(false);
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
  auto entry =
      db.Query("SELECT action, entity, after_json FROM audit_log ORDER BY seq DESC LIMIT 1");
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ((*entry)[0].Text(0), "audit.rebaseline");
  const nlohmann::json after = nlohmann::json::parse((*entry)[0].Text(2));
  // Migration 24 gave the agencies a column their audited state reads: re-baselined too.
  EXPECT_EQ(after["migrations"], nlohmann::json::array({8, 24}));
  EXPECT_EQ(after["entities"], nlohmann::json::array({"agencies", "result/1"}));
  auto pending = db.Query("SELECT COUNT(*) FROM audit_rebaselines");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ((*pending)[0].Int(0), 0);
  // Once only: a second start records nothing more.
  auto entries = db.Query("SELECT COUNT(*) FROM audit_log");
  ASSERT_TRUE(log.Prepare(3000).ok());
  EXPECT_EQ((*db.Query("SELECT COUNT(*) FROM audit_log"))[0].Int(0), (*entries)[0].Int(0));

  // The re-baseline vouches for the rows as migrated, not for whatever comes after.
  ASSERT_TRUE(db.Execute("UPDATE result_totals SET total = 99 WHERE result_id = 1").ok());
  auto tampered = log.Verify(options);
  ASSERT_TRUE(tampered.ok());
  EXPECT_FALSE(tampered->whole());
  EXPECT_NE(tampered->problem_en.find("result/1"), std::string::npos) << tampered->problem_en;
}

// A writer of many rows (a result's) gives their encodings from memory instead of reading them
// back: the digest must be the one `esar audit verify` computes from the rows as the engine
// stores and returns them, for awkward values too (Thai, escapes, NULLs, numbers whose text has
// an exponent or many digits), in whatever order the rows were written.
TEST_P(AuditLogTest, ADigestOfRowsGivenEqualsTheDigestOfTheRowsRead) {
  using storage::Value;
  ASSERT_TRUE(db_->Execute("INSERT INTO frameworks (fiscal_year, agency_kind, version, document, "
                           "imported_at) VALUES (2567, 'department', 1, '{}', 1)")
                  .ok());
  auto result = db_->Query(
      "INSERT INTO results (framework_id, round, stage, document, computed_at, rows_from) SELECT "
      "id, 12, 'preliminary', '', 2, NULL FROM frameworks RETURNING id");
  ASSERT_TRUE(result.ok()) << result.status().ToString(false);
  const int64_t id = (*result)[0].Int(0);
  const std::vector<std::string> codes = {"Z9", "กรม ที่ นั้น", "a\tb\n\\N", "10", "9"};
  const std::vector<double> numbers = {0.1 + 0.2, -1e-300, 1e300, 94.13499999999999, 0, -0.5};
  std::vector<std::vector<Value>> totals, kpis;
  EncodedRows totals_given, kpis_given;
  for (size_t i = 0; i < codes.size(); ++i) {
    const double n = numbers[i % numbers.size()];
    totals.push_back(
        {id, codes[i], std::string("sao"), std::string("จังหวัด \"ก\""), i % 2 ? Value{} : Value{n},
         i % 3 ? Value{int64_t{2}} : Value{}, n * 3, std::string(i % 2 ? "unscored" : "scored"),
         std::string("{\"values\":[[\"1\",\"x\",2567,12,[") + std::to_string(i) + "]]}"});
    totals_given.Add(totals.back().data() + 1, totals.back().size() - 1, 1);
    for (const std::string& kpi : std::vector<std::string>{"1", "4.1", "12"}) {
      kpis.push_back({id, codes[i], kpi, std::string(kpi == "4.1" ? "4" : ""),
                      std::string(kpi == "1" ? "pmqa" : ""), std::string("scored"),
                      i % 2 ? Value{} : Value{n / 7}, Value{n * 11}, int64_t{-1} + int64_t(i),
                      std::string(), 12.5, n / 3});
      kpis_given.Add(kpis.back().data() + 1, kpis.back().size() - 1);
    }
  }
  ASSERT_TRUE(storage::PrepareResultRows(*db_, "result_totals", id).ok());
  ASSERT_TRUE(storage::PrepareResultRows(*db_, "result_kpis", id).ok());
  ASSERT_TRUE(db_->BulkInsert("result_totals",
                              {"result_id", "agency_code", "kind", "parent", "total", "grade",
                               "scored_weight", "status", "inputs"},
                              totals)
                  .ok());
  ASSERT_TRUE(db_->BulkInsert("result_kpis",
                              {"result_id", "agency_code", "kpi", "parent_kpi", "kpi_key", "status",
                               "result", "score", "level", "group_id", "weight", "weighted"},
                              kpis)
                  .ok());
  const std::string entity = "result/" + std::to_string(id);
  auto read = StateOf(*db_, entity);
  ASSERT_TRUE(read.ok()) << read.status().ToString(false);
  auto parts = ReadParts(*db_, entity, {1, 2});
  ASSERT_TRUE(parts.ok()) << parts.status().ToString(false);
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].size(), 1u);  // the result's own row, read
  EXPECT_TRUE((*parts)[1].empty() && (*parts)[2].empty());
  (*parts)[1] = totals_given;
  (*parts)[2] = kpis_given;
  const EntityState from_memory = StateOfParts(entity, *parts);
  EXPECT_TRUE(read->exists);
  EXPECT_TRUE(from_memory.exists);
  EXPECT_EQ(from_memory.digest, read->digest);
  // And the digest covers those rows: one value different, another digest.
  ASSERT_TRUE(db_->Execute("UPDATE result_kpis SET weighted = 0.25 WHERE result_id = ? AND "
                           "agency_code = '9' AND kpi = '12'",
                           {id})
                  .ok());
  auto changed = StateOf(*db_, entity);
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(changed->digest, read->digest);
}

// One connection whose statements pass through to `inner`, which runs `after` once, right after
// the first statement containing `marker`: what another server does between two statements of
// this one, at a moment chosen by the test.
class Interleaved final : public storage::Database {
 public:
  Interleaved(storage::Database& inner, std::string marker, std::function<void()> after)
      : inner_(inner), marker_(std::move(marker)), after_(std::move(after)) {}
  Result<storage::Rows> Query(std::string_view sql,
                              const std::vector<storage::Value>& params) override {
    auto rows = inner_.Query(sql, params);
    if (after_ && sql.find(marker_) != std::string_view::npos) {
      auto after = std::move(after_);
      after_ = nullptr;
      after();
    }
    return rows;
  }
  Status ExecuteScript(std::string_view sql) override { return inner_.ExecuteScript(sql); }
  storage::Dialect dialect() const override { return inner_.dialect(); }

 protected:
  Status Begin() override {
    return Execute(dialect() == storage::Dialect::kPostgres ? "BEGIN" : "BEGIN IMMEDIATE");
  }
  // One INSERT a row, through Query (the inner connection's own bulk path is not reachable).
  Status BulkInsertRows(
      std::string_view table, const std::vector<std::string>& columns,
      const std::function<bool(std::vector<storage::Value>& row)>& next) override {
    std::string names, marks;
    for (const std::string& c : columns) {
      names += (names.empty() ? "" : ", ") + c;
      marks += marks.empty() ? "?" : ", ?";
    }
    const std::string sql =
        "INSERT INTO " + std::string(table) + " (" + names + ") VALUES (" + marks + ")";
    std::vector<storage::Value> row;
    while (true) {
      row.clear();
      if (!next(row)) return Status::Ok();
      Status inserted = Execute(sql, row);
      if (!inserted.ok()) return inserted;
    }
  }

 private:
  storage::Database& inner_;
  const std::string marker_;
  std::function<void()> after_;
};

// Two servers on one database, each with its own connection, sealing with the same key and
// sharing the head file in `dir` (their data folder).
class TwoServersTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    std::string url;
    first_ = esar::testing::FreshDatabase(GetParam(), &url);
    ASSERT_NE(first_, nullptr);
    auto second = storage::Open(url);
    ASSERT_TRUE(second.ok()) << second.status().ToString(false);
    second_ = std::move(*second);
    dir_ = TempDir();
    seal_ = NewSeal(dir_);
    ASSERT_NE(seal_, nullptr);
    AuditLog::UseSeal(seal_);
  }
  void TearDown() override { AuditLog::UseSeal(nullptr); }

  static Status AddAgency(storage::Database& db, const std::string& code) {
    return db.Transaction([&]() -> Status {
      Status s = db.Execute(
          "INSERT INTO agencies (code, name_th) VALUES (?, ?) ON CONFLICT (code) DO UPDATE SET "
          "name_th = excluded.name_th",
          {code, "หน่วยงาน " + code + " " + std::to_string(std::rand())});
      if (!s.ok()) return s;
      return AuditLog(db).Append(Actor::System(), 1000, "agencies.upsert", "agencies", "{}", "{}");
    });
  }
  int64_t Count(const std::string& sql) {
    auto rows = first_->Query(sql);
    EXPECT_TRUE(rows.ok());
    return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
  }
  Result<AuditLog::Verification> Verify(storage::Database& db) {
    AuditLog::VerifyOptions options;
    options.seal = seal_.get();
    return AuditLog(db).Verify(options);
  }

  std::unique_ptr<storage::Database> first_, second_;
  std::string dir_;
  std::shared_ptr<const AuditSeal> seal_;
};

TEST_P(TwoServersTest, VerifyWhileTheOtherServerWritesFindsNoProblem) {
  ASSERT_TRUE(AuditLog(*first_).Prepare(1000).ok());
  ASSERT_TRUE(AddAgency(*first_, "A").ok());
  // Verify reads the chain on the first connection; the other server then changes the agencies
  // and appends its entry (its head moves) before verify reads the rest.
  Interleaved verifier(*first_, "FROM audit_log ORDER BY seq",
                       [&] { ASSERT_TRUE(AddAgency(*second_, "A").ok()); });
  const int64_t before = Count("SELECT count(*) FROM audit_log");
  auto during = Verify(verifier);
  ASSERT_TRUE(during.ok()) << during.status().ToString(false);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log"), before + 1);  // the write did happen
  EXPECT_TRUE(during->whole()) << during->problem_en;
  EXPECT_EQ(during->entries, before);  // as of the moment verify began
  auto after = Verify(*first_);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->whole()) << after->problem_en;
  EXPECT_EQ(after->entries, before + 1);
}

TEST_P(TwoServersTest, AServerStartingAsTheOtherSealsFindsTheHead) {
  AuditLog::UseSeal(nullptr);  // entries from before the key (the command line, first)
  ASSERT_TRUE(AddAgency(*first_, "A").ok());
  AuditLog::UseSeal(seal_);
  // The second server starts right after the first one's seal commits.
  Status second_start = Status::Conflict("ยังไม่เริ่ม", "not started");
  Interleaved first(*first_, "COMMIT", [&] { second_start = AuditLog(*second_).Prepare(2000); });
  ASSERT_TRUE(AuditLog(first).Prepare(1000).ok());
  EXPECT_TRUE(second_start.ok()) << second_start.ToString(false);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'audit.seal'"), 1);
  auto verified = Verify(*first_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
}

TEST_P(TwoServersTest, TwoServersSealingAtOnceRecordOneBaseline) {
  // Two servers share PostgreSQL only. (On SQLite every transaction takes the write lock at its
  // start, so sealings are one after the other anyway; and the pause below, taken inside one,
  // would hold the other server's connection waiting on the file's lock.)
  if (GetParam() != "postgres") GTEST_SKIP() << "two servers share PostgreSQL only";
  // Each server pauses after checking, inside its sealing transaction, that the log is not
  // sealed yet, until the other has checked too (or 3 s, when the other cannot get that far).
  std::mutex mutex;
  std::condition_variable arrived;
  int waiting = 0;
  auto meet = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    ++waiting;
    arrived.notify_all();
    arrived.wait_for(lock, std::chrono::seconds(3), [&] { return waiting >= 2; });
  };
  const std::string marker = "SELECT 1 FROM audit_log WHERE mac IS NOT NULL";
  Interleaved one(*first_, marker, meet), two(*second_, marker, meet);
  Status started_one, started_two;
  std::thread other([&] { started_two = AuditLog(two).Prepare(1000); });
  started_one = AuditLog(one).Prepare(1000);
  other.join();
  EXPECT_TRUE(started_one.ok()) << started_one.ToString(false);
  EXPECT_TRUE(started_two.ok()) << started_two.ToString(false);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'audit.seal'"), 1);
  auto verified = Verify(*first_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
}

INSTANTIATE_TEST_SUITE_P(Backends, TwoServersTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
