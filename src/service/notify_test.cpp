// Telling people, through the services on SQLite and on PostgreSQL: users' addresses and
// languages, the notification list, the outbox written in the event's transaction, its leases
// (several servers never send one e-mail twice), retries and resends; and which event tells whom
// what (returned, accepted, corrected, preliminary results, appeals, publication), the reminder
// schedule and the evaluators' digest against a test clock, and password resets.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "service/audit.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/announcements.h"
#include "service/mail_texts.h"
#include "service/notices.h"
#include "service/notify.h"
#include "service/questions.h"
#include "service/reporting.h"
#include "service/results.h"
#include "service/schedule.h"
#include "tests/support/service_fixture.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using esar::testing::kDay;
using esar::testing::kHour;
using esar::testing::kJan2024;

// One e-mail of the outbox as the tests look at it.
struct Mail {
  int64_t id;
  int64_t user_id;
  std::string address, language, kind, subject, body, link, status;
};

// The shared ground (tests/support/service_fixture.h), its users with addresses in Thai and
// English (BOI's reporter without).
class NotifyTest : public esar::testing::ServiceFixture {
 protected:
  NotifyTest() : ServiceFixture(/*with_addresses=*/true) {}

  void TearDown() override {
    Questions::SetAnswerListener(nullptr);
    Announcements::SetPostListener(nullptr);
  }

  std::vector<Mail> Outbox(const std::string& where = "1 = 1") {
    auto rows = db_->Query(
        "SELECT id, user_id, address, language, kind, subject, body, link, status FROM outbox "
        "WHERE " +
        where + " ORDER BY id");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString(false);
    std::vector<Mail> out;
    if (!rows.ok()) return out;
    for (const auto& r : *rows) {
      out.push_back({r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6),
                     r.Text(7), r.Text(8)});
    }
    return out;
  }

  // (user id, kind) of every e-mail in the outbox.
  std::multiset<std::pair<int64_t, std::string>> Deliveries() {
    std::multiset<std::pair<int64_t, std::string>> out;
    for (const Mail& m : Outbox()) out.insert({m.user_id, m.kind});
    return out;
  }

  void ExpectAuditWhole() {
    auto verified = AuditLog(*db_).Verify();
    ASSERT_TRUE(verified.ok()) << verified.status().ToString(false);
    EXPECT_TRUE(verified->whole()) << verified->problem_en;
  }

};

TEST(EmailAddress, OnlyPlainAddressesPass) {
  EXPECT_TRUE(IsValidEmail("somchai.j@opdc.go.th"));
  EXPECT_TRUE(IsValidEmail("a+b@x.co"));
  EXPECT_FALSE(IsValidEmail(""));
  EXPECT_FALSE(IsValidEmail("no-at.example.org"));
  EXPECT_FALSE(IsValidEmail("a@b"));
  EXPECT_FALSE(IsValidEmail("two@@x.org"));
  EXPECT_FALSE(IsValidEmail("a b@x.org"));
  EXPECT_FALSE(IsValidEmail("a@x.org\r\nRCPT TO:<evil@x.org>"));
  EXPECT_FALSE(IsValidEmail("<a@x.org>"));
  EXPECT_FALSE(IsValidEmail("สมชาย@x.org"));
}

TEST(RetryPolicy, WaitsGrowUpToTheLongest) {
  RetryPolicy policy{1000, 5000, 10};
  EXPECT_EQ(policy.NextAttempt(1, 0), 1000);
  EXPECT_EQ(policy.NextAttempt(2, 0), 2000);
  EXPECT_EQ(policy.NextAttempt(3, 0), 4000);
  EXPECT_EQ(policy.NextAttempt(4, 0), 5000);
  EXPECT_EQ(policy.NextAttempt(40, 0), 5000);
}

TEST_P(NotifyTest, ANewUserWithAnAddressIsToldInTheirLanguage) {
  const auto mails = Outbox("kind = 'account.created'");
  // Four of the five users have an address; the BOI reporter has none.
  ASSERT_EQ(mails.size(), 4u);
  std::map<int64_t, Mail> by_user;
  for (const Mail& m : mails) by_user[m.user_id] = m;
  EXPECT_EQ(by_user.at(evaluator_.user_id).language, "en");
  EXPECT_EQ(by_user.at(evaluator_.user_id).subject, "Your e-SAR account is ready");
  EXPECT_EQ(by_user.at(evaluator_.user_id).address, "eval@opdc.go.th");
  EXPECT_EQ(by_user.at(reporter_.user_id).language, "th");
  EXPECT_EQ(by_user.at(reporter_.user_id).subject, "บัญชีผู้ใช้ e-SAR ของท่านพร้อมใช้งาน");
  EXPECT_NE(by_user.at(reporter_.user_id).body.find("reporter.ocs"), std::string::npos);
  EXPECT_EQ(by_user.at(reporter_.user_id).link, "/login");
  EXPECT_EQ(by_user.at(reporter_.user_id).status, "waiting");
  // A bad address makes no user at all.
  NewUser bad{"bad.address", "x", "password-bad-1", Role::kEvaluator, "", "not an address"};
  auto refused = directory_->CreateUser(Actor::System(), bad);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidInput);
  ExpectAuditWhole();
}

TEST_P(NotifyTest, OnlyAdminsSetAddressesAndEachChangeIsAudited) {
  Contacts contacts(*db_, clock_);
  EXPECT_EQ(contacts.SetAddress(reporter_, boi_reporter_.user_id, "x@boi.go.th", Lang::kThai)
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(contacts.SetAddress(admin_, boi_reporter_.user_id, "x@boi", Lang::kThai).code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(contacts.SetAddress(admin_, 99999, "x@boi.go.th", Lang::kThai).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(contacts.SetAddress(admin_, boi_reporter_.user_id, "x@boi.go.th", Lang::kEnglish)
                  .ok());
  auto got = contacts.Get(boi_reporter_, boi_reporter_.user_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->email, "x@boi.go.th");
  EXPECT_EQ(got->language, Lang::kEnglish);
  EXPECT_EQ(contacts.Get(reporter_, boi_reporter_.user_id).status().code(),
            StatusCode::kPermissionDenied);
  // The user turns reminders off and switches to Thai.
  ASSERT_TRUE(contacts.SetPreferences(boi_reporter_, Lang::kThai, false, true).ok());
  got = contacts.Get(admin_, boi_reporter_.user_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->language, Lang::kThai);
  EXPECT_FALSE(got->MailOn(kTopicReminders));
  EXPECT_TRUE(got->MailOn(kTopicDigest));
  ExpectAuditWhole();
  // An address changed behind esar's back (to receive someone's reset links) is found.
  ASSERT_TRUE(db_->Execute("UPDATE user_contacts SET email = 'thief@evil.example' WHERE user_id = ?",
                           {boi_reporter_.user_id})
                  .ok());
  auto verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_FALSE(verified->whole());
}

TEST_P(NotifyTest, AMessageLandsWithItsTransactionOrNotAtAll) {
  Notifier notifier(*db_, clock_);
  Message m;
  m.kind = "test.event";
  m.subject = {"เรื่องทดสอบ", "Test subject"};
  m.body = {"เนื้อความ", "Body"};
  m.link = "/agency";
  const size_t before = Outbox().size();
  // Rolled back with the caller's transaction: nothing in the list or the outbox.
  Status rolled = db_->Transaction([&]() -> Status {
    auto d = notifier.Notify(approver_.user_id, m);
    EXPECT_TRUE(d.ok() && d->listed && d->queued);
    return Status::Conflict("ยกเลิก", "rolled back on purpose");
  });
  EXPECT_EQ(rolled.code(), StatusCode::kConflict);
  EXPECT_EQ(Outbox().size(), before);
  Inbox inbox(*db_, clock_);
  EXPECT_EQ(*inbox.Unread(approver_), 1);  // account.created only
  // Committed: one notification in both languages, one e-mail in the user's (English).
  ASSERT_TRUE(db_->Transaction([&]() -> Status { return notifier.Notify(approver_.user_id, m).status(); })
                  .ok());
  const auto mails = Outbox("kind = 'test.event'");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].subject, "Test subject");
  EXPECT_EQ(mails[0].body, "Body");
  EXPECT_EQ(mails[0].link, "/agency");
  auto page = inbox.List(approver_, 50, 0);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  EXPECT_EQ(page->unread, 2);
  EXPECT_EQ(page->items[0].subject.th, "เรื่องทดสอบ");
  EXPECT_EQ(page->items[0].subject.en, "Test subject");
  // A link that is not esar's own path is a bug of the caller.
  Message outside = m;
  outside.link = "https://evil.example/";
  EXPECT_FALSE(notifier.Notify(approver_.user_id, outside).ok());
}

TEST_P(NotifyTest, ADedupKeyTellsEachUserOnceAndTopicsTurnOffOnlyTheMail) {
  Notifier notifier(*db_, clock_);
  Message m;
  m.kind = "test.reminder";
  m.subject = {"เตือน", "Reminder"};
  m.topic = kTopicReminders;
  m.dedup_key = "test:1";
  ASSERT_TRUE(Contacts(*db_, clock_).SetPreferences(approver_, Lang::kEnglish, false, true).ok());
  for (int run = 0; run < 3; ++run) {
    auto told = notifier.NotifyAgency("OCS", {Role::kReporter, Role::kApprover}, m);
    ASSERT_TRUE(told.ok()) << told.status().ToString(false);
    EXPECT_EQ(*told, run == 0 ? 2 : 0);
  }
  // The reporter gets the e-mail; the approver, who turned reminders off, only the notification.
  const auto mails = Outbox("kind = 'test.reminder'");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].user_id, reporter_.user_id);
  auto listed = db_->Query("SELECT user_id FROM notifications WHERE kind = 'test.reminder'");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
}

// NotifyEach writes what Notify writes for each recipient in turn (the oracle): over 600 users
// (more than one batch of their contacts), some inactive, some without an address, some in
// English, some who turned reminders off, an unknown id, a message with a dedup key given twice.
// A bad message among them fails the whole call and writes nothing.
TEST_P(NotifyTest, NotifyEachWritesWhatNotifyWritesOneByOne) {
  constexpr int64_t kUsers = 600;
  std::vector<int64_t> ids = {reporter_.user_id, approver_.user_id, boi_reporter_.user_id,
                              987'654};
  ASSERT_TRUE(db_->Transaction([&]() -> Status {
                   for (int64_t i = 0; i < kUsers; ++i) {
                     auto made = db_->Query(
                         "INSERT INTO users (username, display_name, password_hash, role, "
                         "agency_code, active, created_at) VALUES (?, ?, 'x', 'reporter', 'OCS', "
                         "?, 0) RETURNING id",
                         {"many-" + std::to_string(i), "ผู้รายงาน " + std::to_string(i),
                          int64_t{i % 10 != 3}});
                     if (!made) return made.status();
                     const int64_t id = (*made)[0].Int(0);
                     ids.push_back(id);
                     if (i % 4 != 0) {
                       Status c = db_->Execute(
                           "INSERT INTO user_contacts (user_id, email, language, updated_at) "
                           "VALUES (?, ?, ?, 0)",
                           {id, i % 4 == 1 ? std::string() : "m" + std::to_string(i) + "@x.go.th",
                            std::string(i % 3 ? "th" : "en")});
                       if (!c.ok()) return c;
                     }
                     if (i % 5 == 2) {
                       Status o = db_->Execute(
                           "INSERT INTO mail_optouts (user_id, topic) VALUES (?, ?)",
                           {id, std::string(kTopicReminders)});
                       if (!o.ok()) return o;
                     }
                   }
                   return Status::Ok();
                 }).ok());
  Message plain;
  plain.kind = "test.each";
  plain.subject = {"ผลการประเมิน\nเบื้องต้น", "Preliminary\tresults"};
  plain.body = {"เนื้อความ\\N", "Body\twith tab"};
  plain.link = "/agency/results?round=3";
  Message reminder = plain;
  reminder.kind = "test.each.reminder";
  reminder.topic = kTopicReminders;
  Message listed_only = plain;
  listed_only.kind = "test.each.list";
  listed_only.by_mail = false;
  Message deduped = plain;
  deduped.kind = "test.each.dedup";
  deduped.dedup_key = "test-each";
  std::vector<std::pair<int64_t, Message>> recipients;
  for (size_t i = 0; i < ids.size(); ++i) {
    recipients.emplace_back(ids[i], i % 3 == 0 ? reminder : i % 7 == 0 ? listed_only : plain);
  }
  recipients.emplace_back(reporter_.user_id, deduped);
  recipients.emplace_back(reporter_.user_id, deduped);
  recipients.emplace_back(ids[10], plain);  // twice: told twice, as Notify would
  // Messages with a dedup key to many users (more than one statement's worth): listed and
  // mailed, one with a topic some turned off, one by mail only; a user told before gets nothing.
  Message deduped_many = deduped;
  deduped_many.kind = "test.each.dedup-many";
  deduped_many.dedup_key = "test-each-many";
  Message deduped_reminder = deduped_many;
  deduped_reminder.kind = "test.each.dedup-reminder";
  deduped_reminder.dedup_key = "test-each-reminder";
  deduped_reminder.topic = kTopicReminders;
  Message deduped_mail = deduped_many;
  deduped_mail.kind = "test.each.dedup-mail";
  deduped_mail.dedup_key = "test-each-mail";
  deduped_mail.in_list = false;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i % 2 == 0) recipients.emplace_back(ids[i], deduped_many);
    if (i % 3 == 1) recipients.emplace_back(ids[i], deduped_reminder);
    if (i % 5 == 4) recipients.emplace_back(ids[i], deduped_mail);
  }
  ASSERT_TRUE(db_->Execute("INSERT INTO notifications (user_id, kind, subject_th, subject_en, "
                           "body_th, body_en, link, dedup_key, created_at) VALUES (?, "
                           "'prior.test', 'ก่อน', 'before', '', '', '', ?, 0)",
                           {ids[22], "test-each-many:u" + std::to_string(ids[22])})
                  .ok());

  using Written = std::multiset<std::vector<std::string>>;
  auto written = [&]() {
    Written out;
    auto listed = db_->Query(
        "SELECT user_id, kind, subject_th, subject_en, body_th, body_en, link, dedup_key, "
        "created_at, read_at FROM notifications WHERE kind LIKE 'test.each%'");
    auto mailed = db_->Query(
        "SELECT user_id, address, language, kind, subject, body, link, dedup_key, created_at, "
        "status, attempts, next_attempt_at FROM outbox WHERE kind LIKE 'test.each%'");
    EXPECT_TRUE(listed.ok() && mailed.ok());
    if (!listed.ok() || !mailed.ok()) return out;
    for (const auto* rows : {&*listed, &*mailed}) {
      for (const storage::Row& r : *rows) {
        std::vector<std::string> row = {rows == &*listed ? "list" : "mail"};
        for (size_t c = 0; c < r.size(); ++c) row.push_back(r.IsNull(c) ? "NULL" : r.Text(c));
        out.insert(row);
      }
    }
    return out;
  };
  auto clear = [&]() {
    ASSERT_TRUE(db_->Execute("DELETE FROM notifications WHERE kind LIKE 'test.each%'").ok());
    ASSERT_TRUE(db_->Execute("DELETE FROM outbox WHERE kind LIKE 'test.each%'").ok());
  };

  Notifier notifier(*db_, clock_);
  int told_one_by_one = 0;
  ASSERT_TRUE(db_->Transaction([&]() -> Status {
                   for (const auto& [id, m] : recipients) {
                     auto d = notifier.Notify(id, m);
                     if (!d) return d.status();
                     if (d->listed || d->queued) ++told_one_by_one;
                   }
                   return Status::Ok();
                 }).ok());
  const Written expected = written();
  clear();
  int told_each = 0;
  Status each = db_->Transaction([&]() -> Status {
    auto told = notifier.NotifyEach(recipients);
    if (!told) return told.status();
    told_each = *told;
    return Status::Ok();
  });
  ASSERT_TRUE(each.ok()) << each.ToString(false);
  EXPECT_EQ(told_each, told_one_by_one);
  const Written got = written();
  EXPECT_TRUE(got == expected) << got.size() << " rows written, " << expected.size()
                               << " by Notify one by one";
  // What the oracle wrote is not trivial: lists, e-mails in both languages, the topic respected.
  std::map<std::string, int> by;
  for (const auto& row : expected) {
    ++by[row[0]];
    if (row[0] == "mail") ++by["mail-" + row[3]];
  }
  EXPECT_GT(by["list"], 500);
  for (const char* kind : {"test.each.dedup-many", "test.each.dedup-reminder"}) {
    EXPECT_GT(std::count_if(expected.begin(), expected.end(),
                            [&](const auto& row) { return row[0] == "list" && row[2] == kind; }),
              150)
        << kind;
  }
  EXPECT_GT(std::count_if(expected.begin(), expected.end(),
                          [](const auto& row) { return row[4] == "test.each.dedup-mail"; }),
            30);
  EXPECT_EQ(std::count_if(expected.begin(), expected.end(),
                          [&](const auto& row) {
                            return row[1] == std::to_string(ids[22]) &&
                                   row[2] == "test.each.dedup-many";
                          }),
            0);
  EXPECT_GT(by["mail-th"], 50);
  EXPECT_GT(by["mail-en"], 20);
  EXPECT_LT(by["mail"], by["list"]);

  // A message without a kind among them: a bug of the caller, nothing written.
  clear();
  auto bad = recipients;
  bad[bad.size() / 2].second.kind.clear();
  EXPECT_FALSE(notifier.NotifyEach(bad).ok());
  EXPECT_TRUE(written().empty());
}

TEST_P(NotifyTest, TheListIsEachUsersOwn) {
  Inbox inbox(*db_, clock_);
  auto mine = inbox.List(reporter_, 50, 0);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->items.size(), 1u);
  EXPECT_EQ(inbox.MarkRead(approver_, mine->items[0].id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*inbox.Unread(reporter_), 1);
  EXPECT_EQ(*inbox.MarkRead(reporter_, mine->items[0].id), 1);
  EXPECT_EQ(*inbox.MarkRead(reporter_, mine->items[0].id), 0);
  EXPECT_EQ(*inbox.Unread(reporter_), 0);
  EXPECT_EQ(*inbox.Unread(approver_), 1);
  EXPECT_EQ(*inbox.MarkRead(approver_, 0), 1);
  EXPECT_EQ(*inbox.Unread(approver_), 0);
  EXPECT_EQ(inbox.List(Actor::Public(), 50, 0).status().code(), StatusCode::kUnauthenticated);
}

TEST_P(NotifyTest, TwoServersNeverClaimOneMailAndALostLeaseIsTakenOver) {
  auto second = storage::Open(url_);
  ASSERT_TRUE(second.ok());
  service::Outbox one(*db_, clock_);
  service::Outbox two(**second, clock_);
  const size_t waiting = Outbox("status = 'waiting'").size();
  ASSERT_EQ(waiting, 4u);
  auto a = one.Claim("server-a", 60'000, 3);
  auto b = two.Claim("server-b", 60'000, 10);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 3u);
  EXPECT_EQ(b->size(), 1u);
  std::set<int64_t> ids;
  for (const auto& m : *a) ids.insert(m.id);
  for (const auto& m : *b) EXPECT_FALSE(ids.count(m.id)) << "claimed twice: " << m.id;
  // Nothing left to claim while the leases last.
  EXPECT_TRUE(two.Claim("server-b", 60'000, 10)->empty());
  EXPECT_TRUE(*two.MarkSent((*b)[0].id, "server-b"));
  // Server A sends its first; B cannot settle A's.
  EXPECT_TRUE(*one.MarkSent((*a)[0].id, "server-a"));
  EXPECT_FALSE(*two.MarkSent((*a)[1].id, "server-b"));
  // Server A dies; once its leases end, B takes its other two, never the sent one.
  clock_.Advance(61'000);
  auto taken = two.Claim("server-b", 60'000, 10);
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->size(), 2u);
  for (const auto& m : *taken) EXPECT_NE(m.id, (*a)[0].id);
  // A, back, cannot settle what B holds now.
  EXPECT_FALSE(*one.MarkSent((*taken)[0].id, "server-a"));
  EXPECT_TRUE(*two.MarkSent((*taken)[0].id, "server-b"));
  EXPECT_EQ(Outbox("status = 'sent'").size(), 3u);
}

TEST_P(NotifyTest, FailuresAreRetriedLaterThenGivenUpAndAnAdminResends) {
  service::Outbox outbox(*db_, clock_);
  const RetryPolicy policy{1000, 4000, 3};
  auto claimed = outbox.Claim("w", 60'000, 1);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  const int64_t id = (*claimed)[0].id;
  ASSERT_TRUE(*outbox.MarkFailed(id, "w", "Connection refused", false, policy));
  // Not due again before its wait: the others are claimed, not this one.
  auto next = outbox.Claim("w", 60'000, 10);
  ASSERT_TRUE(next.ok());
  for (const auto& m : *next) EXPECT_NE(m.id, id);
  for (const auto& m : *next) ASSERT_TRUE(*outbox.MarkSent(m.id, "w"));
  clock_.Advance(1000);
  claimed = outbox.Claim("w", 60'000, 10);
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_TRUE(*outbox.MarkFailed(id, "w", "Connection refused", false, policy));
  clock_.Advance(1999);
  EXPECT_TRUE(outbox.Claim("w", 60'000, 10)->empty()) << "the second wait is twice the first";
  clock_.Advance(1);
  claimed = outbox.Claim("w", 60'000, 10);
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_TRUE(*outbox.MarkFailed(id, "w", "451 4.3.0 try later", false, policy));
  // Three tries: given up, with the relay's answer kept.
  auto page = outbox.List(admin_, "failed", 50, 0);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].last_error, "451 4.3.0 try later");
  EXPECT_EQ(page->items[0].attempts, 3);
  EXPECT_EQ(page->failed, 1);
  EXPECT_EQ(page->sent, 3);
  EXPECT_EQ(outbox.List(evaluator_, "", 50, 0).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(outbox.Resend(evaluator_, id).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(outbox.Resend(admin_, id).ok());
  EXPECT_EQ(outbox.Resend(admin_, id).code(), StatusCode::kConflict);
  claimed = outbox.Claim("w", 60'000, 10);
  ASSERT_EQ(claimed->size(), 1u);
  // A permanent refusal gives up at once.
  ASSERT_TRUE(*outbox.MarkFailed(id, "w", "550 5.1.1 no such user", true, policy));
  EXPECT_EQ(Outbox("status = 'failed'").size(), 1u);
  ExpectAuditWhole();
}

// The cycle's events, with the framework of examples/ocs-2567 and OCS reporting.
class NotifyCycleTest : public NotifyTest {
 protected:
  void SetUp() override {
    NotifyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    OpenOcsRound(kJan2024 + 10 * kDay);
    // What account creation wrote is not what these tests look at.
    ASSERT_TRUE(db_->Execute("DELETE FROM outbox").ok());
    ASSERT_TRUE(db_->Execute("DELETE FROM notifications").ok());
  }

  int64_t ReportAndSubmit(const std::string& kpi) {
    auto draft = reporting_->SaveDraft(reporter_, round_.id, "OCS",
                                       {kpi, ocs_values_.at(kpi).dump(), "คำชี้แจง", "", ""});
    EXPECT_TRUE(draft.ok()) << draft.status().ToString(false);
    if (!draft.ok()) return 0;
    EXPECT_TRUE(reporting_->Approve(approver_, draft->id).ok());
    EXPECT_TRUE(reporting_->Submit(approver_, draft->id).ok());
    return draft->id;
  }

  // (user id, kind) of every notification.
  std::multiset<std::pair<int64_t, std::string>> Listed(const std::string& kind) {
    auto rows = db_->Query("SELECT user_id, kind FROM notifications WHERE kind = ?", {kind});
    EXPECT_TRUE(rows.ok());
    std::multiset<std::pair<int64_t, std::string>> out;
    if (rows.ok()) {
      for (const auto& r : *rows) out.insert({r.Int(0), r.Text(1)});
    }
    return out;
  }
};

TEST_P(NotifyCycleTest, EachEventTellsTheRightPeopleInTheirLanguage) {
  ASSERT_GE(ocs_values_.size(), 2u);
  const std::string kpi1 = ocs_values_.begin()->first;
  const std::string kpi2 = std::next(ocs_values_.begin())->first;
  const int64_t first = ReportAndSubmit(kpi1);
  ASSERT_TRUE(reporting_->Return(evaluator_, first, {"", "โปรดแนบหนังสือรับรอง", {}}).ok());
  // Returned: the reporter only, in Thai, with the comment and the KPI's page.
  auto mails = Outbox("kind = 'report.returned'");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].user_id, reporter_.user_id);
  EXPECT_EQ(mails[0].language, "th");
  EXPECT_NE(mails[0].body.find("โปรดแนบหนังสือรับรอง"), std::string::npos);
  EXPECT_EQ(mails[0].link,
            "/agency/rounds/" + std::to_string(round_.id) + "/kpis/" + kpi1);
  // Accepted as reported: reporter (Thai) and approver (English).
  ASSERT_TRUE(reporting_->SaveDraft(reporter_, round_.id, "OCS",
                                    {kpi1, ocs_values_.at(kpi1).dump(), "แก้แล้ว", "", ""})
                  .ok());
  ASSERT_TRUE(reporting_->Approve(approver_, first).ok());
  ASSERT_TRUE(reporting_->Submit(reporter_, first).ok());
  ASSERT_TRUE(reporting_->Accept(evaluator_, first, {}).ok());
  mails = Outbox("kind = 'report.accepted'");
  ASSERT_EQ(mails.size(), 2u);
  std::map<int64_t, Mail> by_user;
  for (const Mail& m : mails) by_user[m.user_id] = m;
  EXPECT_EQ(by_user.at(approver_.user_id).language, "en");
  EXPECT_EQ(by_user.at(approver_.user_id).subject, "The report of KPI " + kpi1 + " was accepted");
  EXPECT_EQ(by_user.at(reporter_.user_id).language, "th");
  // Accepted with other values: "corrected".
  const int64_t second = ReportAndSubmit(kpi2);
  json changed = ocs_values_.at(kpi2);
  for (auto& [name, value] : changed.items()) {
    if (value.is_number()) {
      value = value.get<double>() + 1;
      break;
    }
  }
  ASSERT_TRUE(reporting_->Accept(evaluator_, second, {changed.dump(), "ปรับตามหลักฐาน", {}}).ok());
  EXPECT_EQ(Outbox("kind = 'report.corrected'").size(), 2u);
  EXPECT_EQ(Outbox("kind = 'report.accepted'").size(), 2u);
  // Nobody else heard of OCS's reports.
  for (const Mail& m : Outbox("kind LIKE 'report.%'")) {
    EXPECT_TRUE(m.user_id == reporter_.user_id || m.user_id == approver_.user_id) << m.kind;
  }
  // Preliminary results: every agency's reporters and approvers (BOI's reporter has no address:
  // the list only).
  clock_.Set(kJan2024 + 11 * kDay);
  auto preliminary = results_->ComputePreliminary(admin_, round_.id);
  ASSERT_TRUE(preliminary.ok()) << preliminary.status().ToString(false);
  EXPECT_EQ(Outbox("kind = 'results.preliminary'").size(), 2u);
  EXPECT_EQ(Listed("results.preliminary").size(), 3u);
  EXPECT_EQ(Listed("results.preliminary").count({boi_reporter_.user_id, "results.preliminary"}), 1u);
  // An appeal decided: OCS's users.
  auto appeal = results_->FileAppeal(reporter_, preliminary->id, kpi1, "ค่าไม่ตรง");
  ASSERT_TRUE(appeal.ok()) << appeal.status().ToString(false);
  ASSERT_TRUE(results_->DecideAppeal(evaluator_, appeal->id, false, "ค่าถูกต้องแล้ว").ok());
  mails = Outbox("kind = 'appeal.decided'");
  ASSERT_EQ(mails.size(), 2u);
  for (const Mail& m : mails) {
    EXPECT_NE(m.body.find("ค่าถูกต้องแล้ว"), std::string::npos) << "the decision's reason";
  }
  // Final: nobody; published: every agency's users, each linked to its own report.
  ASSERT_TRUE(results_->CloseAppeals(admin_, round_.id, "").ok());
  const size_t before_final = Outbox().size();
  ASSERT_TRUE(results_->Finalize(admin_, round_.id).ok());
  EXPECT_EQ(Outbox().size(), before_final);
  ASSERT_TRUE(results_->Publish(admin_, round_.id).ok());
  EXPECT_EQ(Listed("results.published").size(), 3u);
  for (const Mail& m : Outbox("kind = 'results.published'")) {
    EXPECT_EQ(m.link, "/results/" + std::to_string(round_.id) + "/agencies/OCS");
  }
  ExpectAuditWhole();
}

TEST_P(NotifyCycleTest, RemindersComeBeforeTheDeadlineForWhatIsNotSubmitted) {
  MailSchedule schedule(*db_, clock_);
  const int64_t deadline = round_.deadline;  // 10 days after the clock's start
  auto reminded = [&]() { return Listed("deadline.reminder"); };
  ASSERT_TRUE(schedule.RunOnce().ok());
  EXPECT_TRUE(reminded().empty()) << "10 days before: no reminder yet";
  // 7 days before: OCS's reporter and approver, and BOI's reporter; once however often it runs.
  clock_.Set(deadline - 7 * kDay + kHour);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(schedule.RunOnce().ok());
  EXPECT_EQ(reminded().size(), 3u);
  auto mails = Outbox("kind = 'deadline.reminder'");
  ASSERT_EQ(mails.size(), 2u) << "BOI's reporter has no address";
  const size_t kpis = ocs_values_.size();
  for (const Mail& m : mails) {
    EXPECT_NE(m.body.find(std::to_string(kpis)), std::string::npos) << m.body;
  }
  // The approver turns reminders off: the list still gets them, the e-mail not.
  ASSERT_TRUE(Contacts(*db_, clock_).SetPreferences(approver_, Lang::kEnglish, false, true).ok());
  // Every OCS KPI but one submitted; 3 days before: one KPI missing.
  const std::string last = ocs_values_.begin()->first;  // left for later
  for (const auto& [kpi, values] : ocs_values_) {
    if (kpi != last) ReportAndSubmit(kpi);
  }
  clock_.Set(deadline - 3 * kDay + kHour);
  ASSERT_TRUE(schedule.RunOnce().ok());
  EXPECT_EQ(reminded().size(), 6u);
  mails = Outbox("kind = 'deadline.reminder' AND user_id = " + std::to_string(reporter_.user_id));
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_NE(mails[1].body.find("1 ตัวชี้วัด"), std::string::npos) << mails[1].body;
  EXPECT_EQ(mails[1].subject.find("อีก 3 วัน"), 0u) << mails[1].subject;
  EXPECT_EQ(Outbox("kind = 'deadline.reminder' AND user_id = " +
                   std::to_string(approver_.user_id))
                .size(),
            1u);
  // OCS gets an extension of 5 days; its reminders start again from the new deadline (7 days
  // before it is now), BOI keeps the round's. Then everything of OCS is submitted: no more.
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round_.id, "OCS", deadline + 5 * kDay).ok());
  clock_.Set(deadline - 1 * kDay + kHour);
  ASSERT_TRUE(schedule.RunOnce().ok());
  auto ocs = db_->Query(
      "SELECT COUNT(*) FROM notifications WHERE kind = 'deadline.reminder' AND user_id = ?",
      {reporter_.user_id});
  ASSERT_TRUE(ocs.ok());
  EXPECT_EQ((*ocs)[0].Int(0), 3) << "the 7-day reminder of the extended deadline";
  auto boi = db_->Query(
      "SELECT COUNT(*) FROM notifications WHERE kind = 'deadline.reminder' AND user_id = ?",
      {boi_reporter_.user_id});
  ASSERT_TRUE(boi.ok());
  EXPECT_EQ((*boi)[0].Int(0), 3) << "7, 3 and 1 day before the round's deadline";
  ReportAndSubmit(last);
  clock_.Set(deadline + 5 * kDay - 1 * kDay + kHour);
  ASSERT_TRUE(schedule.RunOnce().ok());
  ocs = db_->Query(
      "SELECT COUNT(*) FROM notifications WHERE kind = 'deadline.reminder' AND user_id = ?",
      {reporter_.user_id});
  EXPECT_EQ((*ocs)[0].Int(0), 3) << "everything submitted: no reminder";
  // Past every deadline: nothing.
  clock_.Set(deadline + 6 * kDay);
  auto run = schedule.RunOnce();
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->reminders, 0);
}

TEST_P(NotifyCycleTest, EvaluatorsGetOneDigestADayWhenSomethingWaits) {
  MailSchedule schedule(*db_, clock_);
  // 1 Jan 2024 07:00 in Bangkok: before the digest's hour, and nothing waits anyway.
  ASSERT_TRUE(schedule.RunOnce().ok());
  ReportAndSubmit(ocs_values_.begin()->first);
  ASSERT_TRUE(schedule.RunOnce().ok());
  EXPECT_TRUE(Outbox("kind = 'review.digest'").empty()) << "before 08:00 Bangkok";
  clock_.Set(kJan2024 + 2 * kHour);  // 09:00 Bangkok
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(schedule.RunOnce().ok());
  auto mails = Outbox("kind = 'review.digest'");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].user_id, evaluator_.user_id);
  EXPECT_EQ(mails[0].subject, "Waiting for you: 1 reports, 0 appeals");
  EXPECT_TRUE(Listed("review.digest").empty()) << "e-mail only";
  clock_.Set(kJan2024 + kDay + 2 * kHour);  // the next day
  ASSERT_TRUE(schedule.RunOnce().ok());
  EXPECT_EQ(Outbox("kind = 'review.digest'").size(), 2u);
  // Turned off: no more.
  ASSERT_TRUE(Contacts(*db_, clock_).SetPreferences(evaluator_, Lang::kEnglish, true, false).ok());
  clock_.Set(kJan2024 + 2 * kDay + 2 * kHour);
  ASSERT_TRUE(schedule.RunOnce().ok());
  EXPECT_EQ(Outbox("kind = 'review.digest'").size(), 2u);
}

// Issue 13 §4: the asker (only) hears of the answer, in the list and by e-mail in their
// language, with the link to the question; a changed answer is told again; an unchanged one is
// not. Without ConnectNotices (what `esar serve` calls at start) nobody hears anything.
TEST_P(NotifyTest, TheAskerIsToldOfTheAnswer) {
  Questions questions(*db_, clock_);
  auto unheard = questions.Ask(reporter_, 2567, "", "ต้องส่งรายงานรอบ 6 เดือนหรือไม่");
  ASSERT_TRUE(unheard.ok()) << unheard.status().ToString(false);
  ASSERT_TRUE(questions.Answer(admin_, unheard->id, "ไม่ต้อง", false).ok());
  EXPECT_TRUE(Outbox("kind = 'question.answered'").empty());

  ConnectNotices(clock_);
  auto asked = questions.Ask(reporter_, 2567, "", "กำหนดส่งรายงานรอบ 12 เดือนคือวันใด");
  ASSERT_TRUE(asked.ok()) << asked.status().ToString(false);
  auto answered = questions.Answer(admin_, asked->id, "ภายใน 30 กันยายน", true);
  ASSERT_TRUE(answered.ok()) << answered.status().ToString(false);
  auto mails = Outbox("kind = 'question.answered'");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].user_id, reporter_.user_id);  // not the approver of the same agency
  EXPECT_EQ(mails[0].address, "reporter@ocs.go.th");
  EXPECT_EQ(mails[0].language, "th");
  EXPECT_EQ(mails[0].link, "/agency/questions#q" + std::to_string(asked->id));
  EXPECT_NE(mails[0].body.find("ภายใน 30 กันยายน"), std::string::npos);
  EXPECT_NE(mails[0].body.find("กำหนดส่งรายงานรอบ 12 เดือนคือวันใด"), std::string::npos);
  EXPECT_NE(mails[0].body.find("ข้อที่ " + std::to_string(answered->number)), std::string::npos);
  auto list = Inbox(*db_, clock_).List(reporter_, 50, 0);
  ASSERT_TRUE(list.ok());
  ASSERT_FALSE(list->items.empty());
  EXPECT_EQ(list->items[0].kind, "question.answered");
  auto approver_list = Inbox(*db_, clock_).List(approver_, 50, 0);
  ASSERT_TRUE(approver_list.ok());
  for (const auto& n : approver_list->items) EXPECT_NE(n.kind, "question.answered");

  // Published again with the same text: nothing new to tell; a changed answer is told.
  ASSERT_TRUE(questions.Answer(admin_, asked->id, "ภายใน 30 กันยายน", false).ok());
  EXPECT_EQ(Outbox("kind = 'question.answered'").size(), 1u);
  ASSERT_TRUE(questions.Answer(admin_, asked->id, "ภายใน 30 กันยายน 2567", true).ok());
  EXPECT_EQ(Outbox("kind = 'question.answered'").size(), 2u);
  ExpectAuditWhole();
}

// An English-speaking asker gets the English text; a failure to tell rolls the answer back.
TEST_P(NotifyTest, AnAnswerAndItsNoticeLandTogether) {
  ConnectNotices(clock_);
  Questions questions(*db_, clock_);
  auto asked = questions.Ask(approver_, 2567, "", "Is the 6-month report required?");
  ASSERT_TRUE(asked.ok()) << asked.status().ToString(false);
  ASSERT_TRUE(questions.Answer(admin_, asked->id, "No.", false).ok());
  auto mails = Outbox("kind = 'question.answered'");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].language, "en");
  EXPECT_NE(mails[0].subject.find("answered"), std::string::npos);
  // The outbox refuses the next write: the answer does not change either.
  ASSERT_TRUE(db_->Execute("DROP TABLE notifications").ok());
  auto refused = questions.Answer(admin_, asked->id, "Yes, after all.", false);
  EXPECT_FALSE(refused.ok());
  auto kept = questions.Get(admin_, asked->id);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->answer, "No.");
}

// Issue 13 §3: an announcement reaches the reporters and approvers of the agencies of its kind,
// in their lists and by e-mail unless they turned the "announcements" topic off; not the
// office, not agencies of another kind.
TEST_P(NotifyTest, AnAnnouncementReachesTheAgenciesOfItsKindUnlessTurnedOff) {
  ConnectNotices(clock_);
  const Actor mol = MakeUser("reporter.mol", Role::kReporter, "MOL", "mol@mol.go.th", Lang::kThai);
  Contacts contacts(*db_, clock_);
  ASSERT_TRUE(contacts.SetPreferences(approver_, Lang::kEnglish, true, true, false).ok());
  auto contact = contacts.Load(approver_.user_id);
  ASSERT_TRUE(contact.ok());
  EXPECT_FALSE(contact->MailOn(kTopicAnnouncements));
  EXPECT_TRUE(contact->MailOn(kTopicReminders));
  // Leaving the topic out keeps it as it was.
  ASSERT_TRUE(contacts.SetPreferences(approver_, Lang::kEnglish, true, true).ok());
  contact = contacts.Load(approver_.user_id);
  ASSERT_TRUE(contact.ok());
  EXPECT_FALSE(contact->MailOn(kTopicAnnouncements));

  Announcements announcements(*db_, clock_);
  auto posted = announcements.Post(admin_, 2567, "department", "เลื่อนกำหนดส่งรายงาน",
                                   "ขยายกำหนดส่งรายงานรอบ 12 เดือนถึง 15 ตุลาคม");
  ASSERT_TRUE(posted.ok()) << posted.status().ToString(false);
  auto mails = Outbox("kind = 'announcement.posted'");
  ASSERT_EQ(mails.size(), 1u);  // the approver turned it off; BOI's reporter has no address
  EXPECT_EQ(mails[0].user_id, reporter_.user_id);
  EXPECT_EQ(mails[0].link, "/agency#a" + std::to_string(posted->id));
  EXPECT_NE(mails[0].subject.find("เลื่อนกำหนดส่งรายงาน"), std::string::npos);
  EXPECT_NE(mails[0].body.find("15 ตุลาคม"), std::string::npos);
  auto listed = db_->Query(
      "SELECT user_id FROM notifications WHERE kind = 'announcement.posted' ORDER BY user_id");
  ASSERT_TRUE(listed.ok());
  std::set<int64_t> told;
  for (const auto& r : *listed) told.insert(r.Int(0));
  EXPECT_EQ(told, (std::set<int64_t>{reporter_.user_id, approver_.user_id,
                                     boi_reporter_.user_id}));  // not MOL, not the office

  // To ministries: MOL's reporter only.
  ASSERT_TRUE(announcements.Post(admin_, 2567, "ministry", "ประกาศกระทรวง", "ข้อความ").ok());
  mails = Outbox("kind = 'announcement.posted'");
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_EQ(mails[1].user_id, mol.user_id);
  ExpectAuditWhole();
}

INSTANTIATE_TEST_SUITE_P(Backends, NotifyCycleTest,
                         ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

INSTANTIATE_TEST_SUITE_P(Backends, NotifyTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
