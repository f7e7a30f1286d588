// The storage interface on both backends: values round-trip, transactions commit and roll back,
// errors come back as values, migrations apply once.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "storage/database.h"
#include "storage/migrations.h"
#include "tests/support/test_database.h"

namespace esar::storage {
namespace {

class StorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    db_ = esar::testing::FreshDatabase(GetParam(), &url_);
    ASSERT_NE(db_, nullptr);
  }
  std::unique_ptr<Database> db_;
  std::string url_;
};

TEST_P(StorageTest, EveryKindOfValueRoundTrips) {
  ASSERT_TRUE(db_->Execute("CREATE TABLE t (i BIGINT, r DOUBLE PRECISION, s TEXT, b " +
                           std::string(db_->dialect() == Dialect::kPostgres ? "BYTEA" : "BLOB") +
                           ", n TEXT)")
                  .ok());
  const std::string bytes("\x00\x01\xff\x7f binary", 11);
  ASSERT_TRUE(
      db_->Execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                   {int64_t{-9007199254740993}, 94.36,
                    std::string("สำนักงานคณะกรรมการกฤษฎีกา 'quoted'"), Blob{bytes}, std::monostate{}})
          .ok());
  auto rows = db_->Query("SELECT i, r, s, b, n FROM t");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString(false);
  ASSERT_EQ(rows->size(), 1u);
  const Row& row = (*rows)[0];
  EXPECT_EQ(row.Int(0), -9007199254740993);
  EXPECT_DOUBLE_EQ(row.Real(1), 94.36);
  EXPECT_EQ(row.Text(2), "สำนักงานคณะกรรมการกฤษฎีกา 'quoted'");
  EXPECT_EQ(std::get<Blob>(row[3]).bytes, bytes);
  EXPECT_TRUE(row.IsNull(4));
}

TEST_P(StorageTest, MigrationsApplyOnceAndRecordTheirVersion) {
  auto version = SchemaVersion(*db_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, AllMigrations().back().version);
  ASSERT_TRUE(Migrate(*db_).ok());  // again: nothing to do
  auto count = db_->Query("SELECT COUNT(*) FROM schema_migrations");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ((*count)[0].Int(0), static_cast<int64_t>(AllMigrations().size()));
}

// Agencies there before migration 9 get their Thai sort keys from it: ORDER BY sort_key is Thai
// dictionary order (leading vowels skipped), which neither the codes nor the bytes of the names
// give (เ and โ come after every consonant in UTF-8).
TEST_P(StorageTest, MigrationNineGivesExistingAgenciesThaiSortKeys) {
  auto opened = Open(esar::testing::FreshDatabaseUrl(GetParam()));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString(false);
  Database& db = **opened;
  ASSERT_TRUE(MigrateTo(db, 7).ok());
  for (const auto& [code, name] : std::vector<std::pair<std::string, std::string>>{
           {"A", "เกาะสมุย"}, {"B", "ขอนแก่น"}, {"C", "ฉะเชิงเทรา"}, {"D", "โคราช"}}) {
    ASSERT_TRUE(
        db.Execute("INSERT INTO agencies (code, name_th) VALUES (?, ?)", {code, name}).ok());
  }
  ASSERT_TRUE(Migrate(db).ok());
  auto rows = db.Query("SELECT code FROM agencies ORDER BY sort_key, code");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString(false);
  std::string order;
  for (const Row& r : *rows) order += r.Text(0);
  EXPECT_EQ(order, "ABDC");  // ก(เกาะ) ข ค(โคราช) ฉ
  auto missing = db.Query("SELECT COUNT(*) FROM agencies WHERE sort_key IS NULL");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ((*missing)[0].Int(0), 0);
}

TEST_P(StorageTest, RefusesToRunOnANewerSchema) {
  ASSERT_TRUE(
      db_->Execute(
             "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
          .ok());
  Status s = Migrate(*db_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message_en().find("newer"), std::string::npos);
}

TEST_P(StorageTest, ReturningGivesTheNewId) {
  auto a = db_->Query("INSERT INTO agencies (code, name_th) VALUES (?, ?) RETURNING code",
                      {std::string("OCS"), std::string("สคก.")});
  ASSERT_TRUE(a.ok()) << a.status().ToString(false);
  auto u = db_->Query(
      "INSERT INTO users (username, display_name, password_hash, role, agency_code, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
      {std::string("somchai"), std::string("สมชาย"), std::string("x"), std::string("reporter"),
       std::string("OCS"), int64_t{1}});
  ASSERT_TRUE(u.ok()) << u.status().ToString(false);
  EXPECT_GT((*u)[0].Int(0), 0);
}

TEST_P(StorageTest, ConstraintViolationsComeBackAsValues) {
  // A user of an agency that does not exist: the foreign key refuses it (SQLite too).
  Status s = db_->Execute(
      "INSERT INTO users (username, display_name, password_hash, role, agency_code, created_at) "
      "VALUES ('a', 'a', 'x', 'reporter', 'NOWHERE', 1)");
  EXPECT_FALSE(s.ok());
  Status role = db_->Execute(
      "INSERT INTO users (username, display_name, password_hash, role, created_at) VALUES ('b', "
      "'b', 'x', 'king', 1)");
  EXPECT_FALSE(role.ok());
  EXPECT_FALSE(db_->Query("SELEC nonsense").ok());
}

TEST_P(StorageTest, ATransactionCommitsOrRollsBackWhole) {
  ASSERT_TRUE(db_->Transaction([&] {
                   return db_->Execute("INSERT INTO agencies (code, name_th) VALUES ('A', 'ก')");
                 })
                  .ok());
  Status failed = db_->Transaction([&]() -> Status {
    Status first = db_->Execute("INSERT INTO agencies (code, name_th) VALUES ('B', 'ข')");
    if (!first.ok()) return first;
    return db_->Execute(
        "INSERT INTO agencies (code, name_th) VALUES ('A', 'ซ้ำ')");  // duplicate key
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_THROW(db_->Transaction([&]() -> Status {
    (void)db_->Execute("INSERT INTO agencies (code, name_th) VALUES ('C', 'ค')");
    throw std::runtime_error("bug");
  }),
               std::runtime_error);
  auto rows = db_->Query("SELECT code FROM agencies ORDER BY code");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);  // B and C rolled back
  EXPECT_EQ((*rows)[0].Text(0), "A");
}

TEST_P(StorageTest, WorkAfterACommitRunsOnlyOnceItHasCommitted) {
  std::vector<std::string> ran;
  ASSERT_TRUE(db_->Transaction([&] {
                   db_->AfterCommit([&] { ran.push_back("committed"); });
                   EXPECT_TRUE(ran.empty());  // not before the commit
                   return db_->Execute("INSERT INTO agencies (code, name_th) VALUES ('A', 'ก')");
                 })
                  .ok());
  EXPECT_FALSE(db_->Transaction([&]() -> Status {
                    db_->AfterCommit([&] { ran.push_back("rolled back"); });
                    return Status::Conflict("ไม่", "no");
                  })
                   .ok());
  db_->AfterCommit([&] { ran.push_back("no transaction"); });
  EXPECT_EQ(ran, (std::vector<std::string>{"committed", "no transaction"}));
}

TEST_P(StorageTest, ConcurrentWritersFromTwoConnectionsAllLand) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto db = Open(url_);
      ASSERT_TRUE(db.ok()) << db.status().ToString(false);
      for (int i = 0; i < 25; ++i) {
        const std::string code = "T" + std::to_string(t) + "_" + std::to_string(i);
        Status s = (*db)->Transaction([&] {
          return (*db)->Execute("INSERT INTO agencies (code, name_th) VALUES (?, ?)", {code, code});
        });
        ASSERT_TRUE(s.ok()) << s.ToString(false);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto rows = db_->Query("SELECT COUNT(*) FROM agencies");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 100);
}

// The deadline surge: more writers than the busy timeout can absorb one after another, each
// holding the write lock a while (a slow transaction), with plain autocommit writes mixed in.
// SQLite's busy handler alone let some of them fail with "database is locked" (6 s of work
// queued behind a 5 s busy timeout); every write must land, on both backends.
TEST_P(StorageTest, ASurgeOfSlowWritersAllLandWithoutDatabaseIsLocked) {
  constexpr int kWriters = 24;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kWriters);
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      auto db = Open(url_);
      if (!db.ok()) {
        failures[t] = db.status().ToString(false);
        return;
      }
      const std::string code = "S" + std::to_string(t);
      Status s = (*db)->Transaction([&] {
        Status inserted =
            (*db)->Execute("INSERT INTO agencies (code, name_th) VALUES (?, ?)", {code, code});
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        return inserted;
      });
      if (s.ok()) {
        s = (*db)->Execute("INSERT INTO agencies (code, name_th) VALUES (?, ?)",
                           {code + "_auto", code});
      }
      if (!s.ok()) failures[t] = s.ToString(false);
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kWriters; ++t) EXPECT_EQ(failures[t], "") << "writer " << t;
  auto rows = db_->Query("SELECT COUNT(*) FROM agencies");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 2 * kWriters);
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

TEST(PlaceholdersTest, NumbersQuestionMarksOutsideQuotes) {
  EXPECT_EQ(NumberPlaceholders("SELECT ? , '?', \"?\", ?"), "SELECT $1 , '?', \"?\", $2");
}

}  // namespace
}  // namespace esar::storage
