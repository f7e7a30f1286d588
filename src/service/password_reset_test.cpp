// Forgotten passwords through the services, on SQLite and on PostgreSQL: the link arrives for a
// known name or address and the answer is the same for anyone else; the token is stored only
// hashed, works once, for an hour, and not when tampered with; of two uses at once one wins;
// using it ends the old sessions and tokens; requests are limited per account and per client,
// for names that exist or not alike; all of it audited.
#include "service/password_reset.h"

#include <gtest/gtest.h>

#include <future>
#include <regex>

#include "security/crypto.h"
#include "service/audit.h"
#include "service/login.h"
#include "service/notify.h"
#include "storage/pool.h"
#include "tests/support/service_fixture.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using esar::testing::kHour;

class PasswordResetTest : public esar::testing::ServiceFixture {
 protected:
  PasswordResetTest() : ServiceFixture(/*with_addresses=*/true) {}

  void SetUp() override {
    ServiceFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    pool_ = std::make_unique<storage::DatabasePool>(url_, 8);
    resets_ = std::make_unique<PasswordResets>(*pool_, clock_, hasher_);
  }

  // The tokens of the reset e-mails sent so far, oldest first, with their recipients. Sends
  // what waits in the outbox as the mail worker does (claim, IssueLink, mark sent): the token
  // exists only in the message.
  std::vector<std::pair<int64_t, std::string>> Links() {
    Outbox outbox(*db_, clock_);
    auto claimed = outbox.Claim("test-worker", 60'000, 1000);
    EXPECT_TRUE(claimed.ok());
    if (!claimed.ok()) return sent_;
    static const std::regex kLink("^/password/reset\\?token=([0-9a-f]{64})$");
    for (const OutboxItem& mail : *claimed) {
      if (mail.kind == kPasswordResetKind) {
        EXPECT_EQ(mail.link, "/password/reset");
        auto link = PasswordResets::IssueLink(*db_, clock_, mail, "test-worker");
        EXPECT_TRUE(link.ok()) << link.status().ToString(false);
        std::smatch m;
        const std::string text = link.ok() ? *link : "";
        EXPECT_TRUE(std::regex_match(text, m, kLink)) << text;
        sent_.push_back({mail.user_id, m.size() > 1 ? m[1].str() : ""});
      }
      EXPECT_TRUE(outbox.MarkSent(mail.id, "test-worker").ok());
    }
    return sent_;
  }

  // A link for OCS's reporter, asked for from `client`.
  std::string TokenFor(const std::string& who = "reporter@ocs.go.th",
                       const std::string& client = "10.0.0.1") {
    Status s = resets_->Request(who, client);
    EXPECT_TRUE(s.ok()) << s.ToString(false);
    auto links = Links();
    return links.empty() ? "" : links.back().second;
  }

  StatusCode LoginAs(const std::string& name, const std::string& password) {
    return Logins(*pool_, clock_, hasher_).Login(name, password, "10.9.9.9").status().code();
  }

  int64_t AuditCount(const std::string& action) {
    auto rows = db_->Query("SELECT COUNT(*) FROM audit_log WHERE action = ?", {action});
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  std::unique_ptr<storage::DatabasePool> pool_;
  std::unique_ptr<PasswordResets> resets_;
  std::vector<std::pair<int64_t, std::string>> sent_;  // Links(): every reset link sent so far
};

TEST_P(PasswordResetTest, TheLinkGoesToAKnownUserAndTheAnswerIsTheSameForAnyoneElse) {
  // By address (any case) and by username: a link each time, to that user, in their language.
  ASSERT_TRUE(resets_->Request("Reporter@OCS.go.th", "10.0.0.1").ok());
  ASSERT_TRUE(resets_->Request("approver.ocs", "10.0.0.1").ok());
  auto links = Links();
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].first, reporter_.user_id);
  EXPECT_EQ(links[1].first, approver_.user_id);
  auto mail = db_->Query("SELECT address, language, subject FROM outbox WHERE user_id = ? AND "
                         "kind = 'password.reset'",
                         {approver_.user_id});
  ASSERT_TRUE(mail.ok());
  ASSERT_EQ(mail->size(), 1u);
  EXPECT_EQ((*mail)[0].Text(0), "approver@ocs.go.th");
  EXPECT_EQ((*mail)[0].Text(1), "en");
  // Only the token's hash is stored; the notification list does not show the link.
  auto stored = db_->Query("SELECT token_hash, user_id, expires_at - created_at FROM password_resets ORDER BY created_at, user_id");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 2u);
  std::set<std::string> hashes = {(*stored)[0].Text(0), (*stored)[1].Text(0)};
  EXPECT_EQ(hashes, (std::set<std::string>{security::Sha256Hex(links[0].second),
                                            security::Sha256Hex(links[1].second)}));
  EXPECT_EQ(hashes.count(links[0].second), 0u);
  EXPECT_EQ((*stored)[0].Int(2), PasswordResets::kTokenLifetimeMs);
  auto listed = db_->Query("SELECT COUNT(*) FROM notifications WHERE kind = 'password.reset'");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)[0].Int(0), 0);
  EXPECT_EQ(AuditCount("user.password_reset_request"), 2);

  // Unknown address, unknown name, a user without an address, an inactive one: the same Ok,
  // nothing written.
  ASSERT_TRUE(db_->Execute("UPDATE users SET active = 0 WHERE id = ?", {evaluator_.user_id}).ok());
  for (const std::string who : {"nobody@ocs.go.th", "no.such.user", "reporter.boi",
                                 "eval@opdc.go.th", "x' OR '1'='1"}) {
    Status s = resets_->Request(who, "10.0.0.2");
    EXPECT_TRUE(s.ok()) << who << ": " << s.ToString(false);
  }
  EXPECT_EQ(Links().size(), 2u);
  EXPECT_EQ(AuditCount("user.password_reset_request"), 2);
  // Blank or oversized: refused in Thai and English.
  Status blank = resets_->Request("   ", "10.0.0.2");
  EXPECT_EQ(blank.code(), StatusCode::kInvalidInput);
  EXPECT_FALSE(blank.message_th().empty());
  EXPECT_FALSE(blank.message_en().empty());
  EXPECT_EQ(resets_->Request(std::string(300, 'a') + "@x.org", "10.0.0.2").code(),
            StatusCode::kInvalidInput);
}

TEST_P(PasswordResetTest, TheTokenWorksOnceAndShutsWhatTheOldPasswordOpened) {
  auto session = directory_->OpenSession(reporter_.user_id);
  ASSERT_TRUE(session.ok());
  Actor logged_in = session->actor;
  auto api = directory_->CreateApiToken(logged_in, {"script", TokenScope::kFull, 0});
  ASSERT_TRUE(api.ok()) << api.status().ToString(false);
  const std::string token = TokenFor();
  const std::string other = TokenFor();  // a second link, asked for again
  ASSERT_EQ(token.size(), 64u);
  ASSERT_NE(token, other);
  EXPECT_TRUE(resets_->Check(token).ok());

  ASSERT_TRUE(resets_->Reset(token, "a-new-password-1").ok());
  EXPECT_EQ(directory_->FindSession(session->token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(directory_->FindApiToken(api->token).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(LoginAs("reporter.ocs", "password-reporter.ocs"), StatusCode::kUnauthenticated);
  EXPECT_EQ(LoginAs("reporter.ocs", "a-new-password-1"), StatusCode::kOk);

  // Used twice: refused, the password stays; the other link was spent with it.
  Status again = resets_->Reset(token, "a-third-password");
  EXPECT_EQ(again.code(), StatusCode::kInvalidInput);
  EXPECT_NE(again.message_en().find("already used"), std::string::npos) << again.message_en();
  EXPECT_EQ(resets_->Check(token).code(), StatusCode::kInvalidInput);
  EXPECT_EQ(resets_->Reset(other, "a-third-password").code(), StatusCode::kInvalidInput);
  EXPECT_EQ(LoginAs("reporter.ocs", "a-new-password-1"), StatusCode::kOk);
  EXPECT_EQ(AuditCount("user.password_reset"), 1);
  auto verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString(false);
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
}

TEST_P(PasswordResetTest, ExpiredTamperedAndMalformedTokensAreRefused) {
  const std::string token = TokenFor();
  ASSERT_EQ(token.size(), 64u);
  // A short password is refused without spending the link.
  EXPECT_EQ(resets_->Reset(token, "short").code(), StatusCode::kInvalidInput);
  EXPECT_TRUE(resets_->Check(token).ok());
  // Tampered: one character changed, cut short, upper case, not hex.
  std::string tampered = token;
  tampered[10] = tampered[10] == 'a' ? 'b' : 'a';
  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& bad :
       {tampered, token.substr(0, 63), upper, std::string(64, 'z'), std::string(), token + "0"}) {
    Status s = resets_->Reset(bad, "a-new-password-1");
    EXPECT_EQ(s.code(), StatusCode::kInvalidInput) << bad;
    EXPECT_NE(s.message_en().find("not valid"), std::string::npos) << s.message_en();
  }
  // Expired: an hour later it no longer works, and the password stays.
  clock_.Advance(kHour);
  Status expired = resets_->Reset(token, "a-new-password-1");
  EXPECT_EQ(expired.code(), StatusCode::kInvalidInput);
  EXPECT_NE(expired.message_en().find("expired"), std::string::npos) << expired.message_en();
  EXPECT_EQ(resets_->Check(token).code(), StatusCode::kInvalidInput);
  EXPECT_EQ(LoginAs("reporter.ocs", "password-reporter.ocs"), StatusCode::kOk);
  EXPECT_EQ(AuditCount("user.password_reset"), 0);
}

TEST_P(PasswordResetTest, OfTwoUsesAtOnceExactlyOneWins) {
  for (int round = 0; round < 3; ++round) {
    const std::string token = TokenFor("reporter.ocs", "10.0.0." + std::to_string(round));
    ASSERT_EQ(token.size(), 64u);
    const std::string first = "first-password-" + std::to_string(round);
    const std::string second = "second-password-" + std::to_string(round);
    auto a = std::async(std::launch::async, [&] { return resets_->Reset(token, first); });
    auto b = std::async(std::launch::async, [&] { return resets_->Reset(token, second); });
    const Status sa = a.get();
    const Status sb = b.get();
    ASSERT_NE(sa.ok(), sb.ok()) << sa.ToString(false) << " / " << sb.ToString(false);
    const Status& lost = sa.ok() ? sb : sa;
    EXPECT_EQ(lost.code(), StatusCode::kInvalidInput) << lost.ToString(false);
    EXPECT_EQ(LoginAs("reporter.ocs", sa.ok() ? first : second), StatusCode::kOk);
    EXPECT_EQ(LoginAs("reporter.ocs", sa.ok() ? second : first), StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(AuditCount("user.password_reset"), 3);
}

TEST_P(PasswordResetTest, RequestsAreLimitedPerAccountAndPerClientForAnyName) {
  // Per account: a known address and an unknown one meet the same limit at the same count.
  for (const std::string who : {"reporter@ocs.go.th", "nobody@ocs.go.th"}) {
    for (int i = 0; i < PasswordResets::kMaxPerAccount; ++i) {
      Status s = resets_->Request(who, "10.1.0." + std::to_string(i));
      EXPECT_TRUE(s.ok()) << who << " #" << i << ": " << s.ToString(false);
    }
    int64_t retry = 0;
    Status refused = resets_->Request(who, "10.1.1.1", &retry);
    EXPECT_EQ(refused.code(), StatusCode::kTooManyRequests) << who;
    EXPECT_GT(retry, 0);
    EXPECT_LE(retry, PasswordResets::kWindowMs / 1000);
    EXPECT_FALSE(refused.message_th().empty());
  }
  EXPECT_EQ(Links().size(), static_cast<size_t>(PasswordResets::kMaxPerAccount));
  // Per client: many names from one address.
  for (int i = 0; i < PasswordResets::kMaxPerClient; ++i) {
    EXPECT_TRUE(resets_->Request("someone" + std::to_string(i), "10.2.0.1").ok()) << i;
  }
  EXPECT_EQ(resets_->Request("someone-else", "10.2.0.1").code(), StatusCode::kTooManyRequests);
  EXPECT_TRUE(resets_->Request("someone-else", "10.2.0.2").ok());
  // A window later, both may ask again.
  clock_.Advance(PasswordResets::kWindowMs);
  EXPECT_TRUE(resets_->Request("reporter@ocs.go.th", "10.2.0.1").ok());
  EXPECT_EQ(Links().size(), static_cast<size_t>(PasswordResets::kMaxPerAccount) + 1);
}

// What anyone who reads the database finds: every run of 64 hex digits in the tables a reset
// touches (the outbox with every column, the notification list, the links' table, the audit log)
// is tried as a token; none may open the reset form.
std::vector<std::string> UsableTokensAtRest(storage::Database& db, PasswordResets& resets) {
  std::vector<std::string> usable;
  static const std::regex kHex("[0-9a-fA-F]{64}");
  for (const char* table : {"outbox", "notifications", "password_resets", "audit_log"}) {
    auto rows = db.Query(std::string("SELECT * FROM ") + table);
    EXPECT_TRUE(rows.ok()) << table;
    if (!rows.ok()) continue;
    for (const storage::Row& row : *rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        const std::string text = row.Text(i);
        for (auto it = std::sregex_iterator(text.begin(), text.end(), kHex);
             it != std::sregex_iterator(); ++it) {
          if (resets.Check(it->str()).ok()) usable.push_back(std::string(table) + ": " + it->str());
        }
      }
    }
  }
  return usable;
}

TEST_P(PasswordResetTest, NoUsableTokenIsEverAtRestInTheDatabase) {
  // Asked for: the e-mail waits in the outbox (the relay may be down for hours).
  ASSERT_TRUE(resets_->Request("reporter@ocs.go.th", "10.0.0.1").ok());
  ASSERT_TRUE(resets_->Request("approver.ocs", "10.0.0.1").ok());
  EXPECT_EQ(UsableTokensAtRest(*db_, *resets_), std::vector<std::string>{});
  auto waiting = db_->Query("SELECT link FROM outbox WHERE kind = 'password.reset'");
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->size(), 2u);
  for (const auto& r : *waiting) EXPECT_EQ(r.Text(0).find("token"), std::string::npos) << r.Text(0);
  // Sent: the e-mailed links work, and still nothing usable is stored.
  auto links = Links();
  ASSERT_EQ(links.size(), 2u);
  EXPECT_TRUE(resets_->Check(links[0].second).ok());
  EXPECT_TRUE(resets_->Check(links[1].second).ok());
  EXPECT_EQ(UsableTokensAtRest(*db_, *resets_), std::vector<std::string>{});
  ASSERT_TRUE(resets_->Reset(links[0].second, "a-new-password-1").ok());
  EXPECT_EQ(LoginAs("reporter.ocs", "a-new-password-1"), StatusCode::kOk);
  EXPECT_EQ(UsableTokensAtRest(*db_, *resets_), std::vector<std::string>{});
}

TEST_P(PasswordResetTest, OnlyTheWorkerHoldingTheLeaseMintsAToken) {
  ASSERT_TRUE(Links().empty());  // sends the users' account e-mails: only the reset waits now
  ASSERT_TRUE(resets_->Request("reporter.ocs", "10.0.0.1").ok());
  Outbox outbox(*db_, clock_);
  auto a = outbox.Claim("server-a", 60'000, 10);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 1u);
  // Server A stalls past its lease; server B takes the e-mail.
  clock_.Advance(61'000);
  auto b = outbox.Claim("server-b", 60'000, 10);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 1u);
  auto late = PasswordResets::IssueLink(*db_, clock_, (*a)[0], "server-a");
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(*late, "") << "a worker that lost the lease minted a token";
  auto rows = db_->Query("SELECT COUNT(*) FROM password_resets");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 0);
  auto link = PasswordResets::IssueLink(*db_, clock_, (*b)[0], "server-b");
  ASSERT_TRUE(link.ok());
  ASSERT_EQ(link->size(), std::string("/password/reset?token=").size() + 64);
  auto marked = outbox.MarkSent((*b)[0].id, "server-b");
  ASSERT_TRUE(marked.ok() && *marked);
  // Sent: nobody mints again for it, whoever asks.
  for (const char* owner : {"server-a", "server-b", ""}) {
    auto again = PasswordResets::IssueLink(*db_, clock_, (*b)[0], owner);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, "") << owner;
  }
  rows = db_->Query("SELECT COUNT(*) FROM password_resets");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 1);
  EXPECT_TRUE(resets_->Check(link->substr(link->find('=') + 1)).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, PasswordResetTest,
                         ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
