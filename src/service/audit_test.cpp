// The audit key and the chain head (AuditSeal), and how the audit log uses them, on both
// backends: the head only moves forward and is itself sealed; a sealed log refuses unsealed
// entries; an unsealed log is sealed once, with a baseline of every entity's state.
#include "service/audit.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "service/audit_state.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

namespace fs = std::filesystem;

std::string TempDir() {
  char pattern[] = "/tmp/esar-audit-XXXXXX";
  const char* dir = mkdtemp(pattern);
  return dir ? dir : "";
}

std::shared_ptr<const AuditSeal> NewSeal(const std::string& dir) {
  EXPECT_TRUE(AuditSeal::GenerateKeyFile(dir + "/audit.key").ok());
  auto seal = AuditSeal::Load(dir + "/audit.key", dir + "/audit.head");
  EXPECT_TRUE(seal.ok()) << seal.status().ToString(false);
  return seal.ok() ? *seal : nullptr;
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

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
