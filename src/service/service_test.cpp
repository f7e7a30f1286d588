// The evaluation cycle through the services, on SQLite and on PostgreSQL: import, report, approve,
// submit, return, resubmit, accept, compute, appeal, decide, finalize, publish — with the scores
// checked against the engine's hand-checked expectations, the authorization rules, deadlines,
// logins, and the audit chain.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "domain/engine.h"
#include "domain/from_agencies.h"
#include "formats/framework_json.h"
#include "formats/inputs.h"
#include "formats/report.h"
#include "service/audit.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/login.h"
#include "service/reporting.h"
#include "service/result_list.h"
#include "service/results.h"
#include "tests/support/service_fixture.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using esar::testing::kDay;
using esar::testing::kJan2024;
using esar::testing::ReadText;
const fs::path kExample = esar::testing::OcsExample();

// The agency with `code` in a scores document.
const json& ByCode(const json& document, const std::string& code) {
  for (const json& a : document["agencies"]) {
    if (a["code"] == code) return a;
  }
  static const json kNone = json::object();
  ADD_FAILURE() << "no agency " << code;
  return kNone;
}

// The shared ground (tests/support/service_fixture.h) with the example's framework, a 12-month
// round, every agency's values but OCS's imported, a pool and logins.
class ServiceTest : public esar::testing::ServiceFixture {
 protected:
  void SetUp() override {
    ServiceFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    pool_ = std::make_unique<storage::DatabasePool>(url_, 8);
    logins_ = std::make_unique<Logins>(*pool_, clock_, hasher_);

    // The baselines and every agency's values but OCS's are imported; OCS reports through the
    // workflow. Its values, grouped by KPI, become the reports.
    OpenOcsRound(kJan2024 + 30 * kDay);
  }

  // OCS reports, approves and submits one KPI; returns the submission id.
  int64_t ReportAndSubmit(const std::string& kpi, const std::string& values) {
    auto draft =
        reporting_->SaveDraft(reporter_, round_.id, "OCS", {kpi, values, "คำชี้แจง", "ไม่มี", ""});
    EXPECT_TRUE(draft.ok()) << draft.status().ToString(false);
    if (!draft.ok()) return 0;
    EXPECT_TRUE(reporting_->Approve(approver_, draft->id).ok());
    auto submitted = reporting_->Submit(approver_, draft->id);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString(false);
    return draft->id;
  }

  // The status of a login, and the Retry-After it gave (0 for none).
  std::pair<StatusCode, int64_t> TryLogin(const std::string& name, const std::string& password,
                                          const std::string& address) {
    int64_t retry = 0;
    auto session = logins_->Login(name, password, address, &retry);
    return {session.status().code(), retry};
  }

  // OCS reports, submits and gets accepted every KPI, as reported.
  void AcceptAll() {
    std::map<std::string, int64_t> ids;
    for (const auto& [kpi, values] : ocs_values_) ids[kpi] = ReportAndSubmit(kpi, values.dump());
    for (const auto& [kpi, id] : ids) {
      auto accepted = reporting_->Accept(evaluator_, id, {});
      ASSERT_TRUE(accepted.ok()) << kpi << ": " << accepted.status().ToString(false);
    }
  }

  std::unique_ptr<storage::DatabasePool> pool_;
  std::unique_ptr<Logins> logins_;
};

TEST_P(ServiceTest, TheWholeCycleGivesTheEnginesScores) {
  ASSERT_FALSE(ocs_values_.empty());
  std::vector<int64_t> submissions;
  for (const auto& [kpi, values] : ocs_values_)
    submissions.push_back(ReportAndSubmit(kpi, values.dump()));

  // The evaluator returns the first with a comment; OCS fixes, approves and submits again.
  const int64_t first = submissions[0];
  auto returned = reporting_->Return(evaluator_, first, {"", "แนบหลักฐานทะเบียนเรื่องรับเข้า", {}});
  ASSERT_TRUE(returned.ok()) << returned.status().ToString(false);
  EXPECT_EQ(returned->status, SubmissionStatus::kReturned);
  auto fixed = reporting_->SaveDraft(
      reporter_, round_.id, "OCS",
      {returned->report.kpi, returned->report.values_json, "แก้ไขแล้ว", "", ""});
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString(false);
  auto evidence = reporting_->AddEvidence(
      reporter_, first, {0, "ทะเบียน.pdf", "application/pdf", 1234, std::string(64, 'a')});
  ASSERT_TRUE(evidence.ok()) << evidence.status().ToString(false);
  ASSERT_TRUE(reporting_->Approve(approver_, first).ok());
  ASSERT_TRUE(reporting_->Submit(reporter_, first).ok());
  for (int64_t id : submissions) {
    ReviewInput review{"", "ถูกต้อง", {}};
    if (id == first) review.evidence_notes[evidence->id] = "ตรงกับระบบโปรแกรม";
    auto accepted = reporting_->Accept(evaluator_, id, review);
    ASSERT_TRUE(accepted.ok()) << accepted.status().ToString(false);
    EXPECT_EQ(accepted->status, SubmissionStatus::kAccepted);
  }
  auto history = reporting_->Get(evaluator_, first);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->revision,
            8);  // draft, approved, submitted, returned, draft, approved, submitted, accepted
  ASSERT_EQ(history->reviews.size(), 2u);
  EXPECT_EQ(history->reviews[1].evidence_notes.at(evidence->id), "ตรงกับระบบโปรแกรม");
  // A page of submissions read at once (the API's queue) is what reading each gives, in the
  // order asked, with their files, reviews and notes; and only for those who may see them all.
  auto whole = [](const SubmissionView& v) {
    std::string out = std::to_string(v.id) + "|" + std::to_string(v.round_id) + "|" + v.agency +
                      "|" + SubmissionStatusName(v.status) + "|" + std::to_string(v.revision) +
                      "|" + v.report.kpi + "|" + v.report.values_json + "|" +
                      v.report.explanation + "|" + v.report.problems + "|" + v.report.remarks +
                      "|" + std::to_string(v.updated_at) + "|" + (v.sent_back ? "sent" : "");
    for (const auto& e : v.evidence)
      out += "|e" + std::to_string(e.id) + e.name + e.media_type + e.sha256;
    for (const auto& r : v.reviews) {
      out += "|r" + std::to_string(r.id) + r.decision + r.verified_json + r.comment;
      for (const auto& [file, note] : r.evidence_notes) out += std::to_string(file) + note;
    }
    for (const auto& b : v.send_backs) out += "|b" + std::to_string(b.revision) + b.comment;
    return out;
  };
  std::vector<int64_t> backwards(submissions.rbegin(), submissions.rend());
  auto many = reporting_->GetMany(evaluator_, backwards);
  ASSERT_TRUE(many.ok()) << many.status().ToString(false);
  ASSERT_EQ(many->size(), backwards.size());
  for (size_t i = 0; i < backwards.size(); ++i) {
    auto one = reporting_->Get(evaluator_, backwards[i]);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(whole((*many)[i]), whole(*one));
  }
  EXPECT_EQ(reporting_->GetMany(boi_reporter_, submissions).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reporting_->GetMany(evaluator_, {first, 999999}).status().code(),
            StatusCode::kNotFound);

  // Reporting closes at the deadline; then preliminary results equal the hand-checked
  // expectations of the example.
  EXPECT_EQ(results_->ComputePreliminary(admin_, round_.id).status().code(),
            StatusCode::kConflict);  // reporting is still open
  clock_.Set(round_.deadline + 1);
  auto preliminary = results_->ComputePreliminary(admin_, round_.id);
  ASSERT_TRUE(preliminary.ok()) << preliminary.status().ToString(false);
  const json expected = json::parse(ReadText(kExample / "expected.json"));
  EXPECT_TRUE(preliminary->document.empty());  // the scores are rows, read on request
  auto read = results_->Latest(admin_, round_.id, ResultStage::kPreliminary);
  ASSERT_TRUE(read.ok()) << read.status().ToString(false);
  EXPECT_EQ(read->id, preliminary->id);
  const json got = json::parse(read->document);
  ASSERT_EQ(got["agencies"].size(), expected["agencies"].size());
  for (const json& want : expected["agencies"]) {
    const json& have = ByCode(got, want["code"]);
    ASSERT_TRUE(have.contains("total")) << want["code"];
    EXPECT_NEAR(have["total"].get<double>(), want["total"].get<double>(), 1e-9) << want["code"];
    for (size_t k = 0; k < want["kpis"].size(); ++k) {
      EXPECT_NEAR(have["kpis"][k]["score"].get<double>(), want["kpis"][k]["score"].get<double>(),
                  1e-9);
    }
  }

  // Before publication the public sees nothing and an agency sees only itself.
  EXPECT_EQ(results_->Latest(Actor::Public(), round_.id, ResultStage::kPreliminary).status().code(),
            StatusCode::kNotFound);
  auto own = results_->Latest(boi_reporter_, round_.id, ResultStage::kPreliminary);
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(json::parse(own->document)["agencies"].size(), 1u);
  EXPECT_EQ(json::parse(own->document)["agencies"][0]["code"], "BOI");

  // OCS appeals KPI 1; the evaluator upholds it with corrected counts: 208 of 208 within time.
  auto appeal =
      results_->FileAppeal(reporter_, preliminary->id, "1", "มีเรื่องที่เสร็จในเวลาแต่บันทึกผิด 1 เรื่อง");
  ASSERT_TRUE(appeal.ok()) << appeal.status().ToString(false);
  EXPECT_EQ(results_->Finalize(admin_, round_.id).status().code(),
            StatusCode::kConflict);  // an appeal is open
  json corrected = ocs_values_.at("1");
  for (auto& [name, value] : corrected.items()) {
    if (value.is_number()) value = 208;  // both counts: 208 / 208 = 100 %
  }
  auto decided = results_->DecideAppeal(evaluator_, appeal->id, true, "ตรวจสอบแล้วถูกต้องตามหลักฐาน",
                                        corrected.dump());
  ASSERT_TRUE(decided.ok()) << decided.status().ToString(false);
  EXPECT_EQ(decided->status, "upheld");

  EXPECT_EQ(results_->Finalize(admin_, round_.id).status().code(),
            StatusCode::kConflict);  // the appeal window is still open
  clock_.Advance(Results::kDefaultAppealWindowMs);
  auto final_result = results_->Finalize(admin_, round_.id);
  ASSERT_TRUE(final_result.ok()) << final_result.status().ToString(false);
  auto final_read = results_->Latest(admin_, round_.id, ResultStage::kFinal);
  ASSERT_TRUE(final_read.ok()) << final_read.status().ToString(false);
  EXPECT_EQ(final_read->id, final_result->id);
  const json fin = json::parse(final_read->document);
  const json& ocs = ByCode(fin, "OCS");
  EXPECT_NEAR(ocs["kpis"][0]["score"].get<double>(), 100, 1e-9);
  EXPECT_GT(ocs["total"].get<double>(), ByCode(expected, "OCS")["total"].get<double>());

  auto published = results_->Publish(admin_, round_.id);
  ASSERT_TRUE(published.ok()) << published.status().ToString(false);
  auto seen = results_->Latest(Actor::Public(), round_.id, ResultStage::kPublished);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(json::parse(seen->document)["agencies"].size(), expected["agencies"].size());

  // Every step is in the audit log, and the chain is whole.
  AuditLog audit(*db_);
  auto verified = audit.Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->first_broken, 0) << verified->problem_en;
  EXPECT_GT(verified->entries, 40);
}

TEST_P(ServiceTest, EachRoleDoesOnlyWhatItMay) {
  const std::string values = ocs_values_.begin()->second.dump();
  const std::string kpi = ocs_values_.begin()->first;
  const Report report{kpi, values, "", "", ""};
  // Only the agency's own reporter saves drafts.
  for (const Actor& who : {boi_reporter_, approver_, evaluator_, admin_, Actor::Public()}) {
    auto denied = reporting_->SaveDraft(who, round_.id, "OCS", report);
    EXPECT_FALSE(denied.ok()) << who.username;
    EXPECT_TRUE(denied.status().code() == StatusCode::kPermissionDenied ||
                denied.status().code() == StatusCode::kUnauthenticated);
  }
  auto draft = reporting_->SaveDraft(reporter_, round_.id, "OCS", report);
  ASSERT_TRUE(draft.ok()) << draft.status().ToString(false);
  // Only the agency's approver approves; nobody else sees the draft but evaluators and admins.
  EXPECT_EQ(reporting_->Approve(reporter_, draft->id).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reporting_->Approve(evaluator_, draft->id).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reporting_->Get(boi_reporter_, draft->id).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(reporting_->Get(evaluator_, draft->id).ok());
  auto listed = reporting_->List(boi_reporter_, round_.id);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  // Submitting needs approval first; evaluators review only what is submitted.
  EXPECT_EQ(reporting_->Submit(reporter_, draft->id).status().code(), StatusCode::kConflict);
  EXPECT_EQ(reporting_->Accept(evaluator_, draft->id, {}).status().code(), StatusCode::kConflict);
  ASSERT_TRUE(reporting_->Approve(approver_, draft->id).ok());
  ASSERT_TRUE(reporting_->Submit(reporter_, draft->id).ok());
  // Nobody edits a submitted value in place.
  EXPECT_EQ(reporting_->SaveDraft(reporter_, round_.id, "OCS", report).status().code(),
            StatusCode::kConflict);
  EXPECT_EQ(reporting_->Accept(reporter_, draft->id, {}).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reporting_->Return(evaluator_, draft->id, {"", "", {}}).status().code(),
            StatusCode::kInvalidInput);  // needs a comment
  // Admin-only use cases.
  EXPECT_EQ(results_->ComputePreliminary(evaluator_, round_.id).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(cycle_->OpenRound(reporter_, framework_.id, 6, kJan2024).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(directory_->CreateUser(evaluator_, {"x.y.z", "x", "0123456789", Role::kAdmin, ""})
                .status()
                .code(),
            StatusCode::kPermissionDenied);
}

TEST_P(ServiceTest, ReportsAreCheckedAgainstTheKpi) {
  auto unknown = reporting_->SaveDraft(reporter_, round_.id, "OCS", {"99", "{}", "", "", ""});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidInput);
  const std::string kpi = ocs_values_.begin()->first;
  for (const char* bad :
       {R"({"no_such_variable": 1})", R"({"x": })", R"([1, 2])", R"({"a": {"b": 1}})"}) {
    auto refused = reporting_->SaveDraft(reporter_, round_.id, "OCS", {kpi, bad, "", "", ""});
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidInput) << bad;
    EXPECT_FALSE(refused.status().message_th().empty());
  }
  auto broken = reporting_->SaveDraft(reporter_, round_.id, "OCS",
                                      {kpi, "{}", std::string("\xE0\xB8"), "", ""});
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidInput);
}

TEST_P(ServiceTest, SubmittingAfterTheDeadlineNeedsAnExtension) {
  const std::string kpi = ocs_values_.begin()->first;
  auto draft = reporting_->SaveDraft(reporter_, round_.id, "OCS",
                                     {kpi, ocs_values_.begin()->second.dump(), "", "", ""});
  ASSERT_TRUE(draft.ok());
  ASSERT_TRUE(reporting_->Approve(approver_, draft->id).ok());
  clock_.Set(kJan2024 + 31 * kDay);
  auto late = reporting_->Submit(reporter_, draft->id);
  EXPECT_EQ(late.status().code(), StatusCode::kConflict);
  EXPECT_NE(late.status().message_en().find("deadline"), std::string::npos);
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round_.id, "OCS", kJan2024 + 40 * kDay).ok());
  EXPECT_TRUE(reporting_->Submit(reporter_, draft->id).ok());
}

TEST_P(ServiceTest, AFrozenFrameworkChangesOnlyAsANewVersion) {
  EXPECT_TRUE(framework_.frozen = true);
  json changed = json::parse(ReadText(kExample / "framework.json"));
  changed["title"]["en"] = "changed after the round opened";
  auto v2 = cycle_->ImportFramework(admin_, changed.dump());
  ASSERT_TRUE(v2.ok()) << v2.status().ToString(false);
  EXPECT_EQ(v2->version, 2);
  EXPECT_NE(v2->id, framework_.id);
  EXPECT_NE(v2->diff.find("/title/en"), std::string::npos) << v2->diff;
  auto v1 = cycle_->Framework(framework_.id);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->document, ReadText(kExample / "framework.json"));  // kept as it was
  // A framework with errors is refused with the check's message.
  changed["assignments"][0]["kpis"][0]["weight"] = 99;
  auto refused = cycle_->ImportFramework(admin_, changed.dump());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidInput);
}

TEST_P(ServiceTest, SessionsExpire) {
  auto session = logins_->Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1");
  ASSERT_TRUE(session.ok()) << session.status().ToString(false);
  EXPECT_EQ(session->actor.agency, "OCS");
  auto found = directory_->FindSession(session->token);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->csrf_token, session->csrf_token);
  EXPECT_EQ(TryLogin("nobody", "x", "127.0.0.1").first, StatusCode::kUnauthenticated);
  clock_.Advance(Directory::kSessionLifetimeMs);
  EXPECT_EQ(directory_->FindSession(session->token).status().code(), StatusCode::kUnauthenticated);
  auto token = directory_->CreateApiToken(admin_, {"ci"});
  ASSERT_TRUE(token.ok());
  auto machine = directory_->FindApiToken(token->token);
  ASSERT_TRUE(machine.ok());
  EXPECT_EQ(machine->role, Role::kAdmin);
}

TEST_P(ServiceTest, TokensExpireAreListedRevokedAndManageNothing) {
  auto full = directory_->CreateApiToken(reporter_, {"ci"});
  auto reader = directory_->CreateApiToken(reporter_, {"dashboard", TokenScope::kRead, 7 * kDay});
  auto brief = directory_->CreateApiToken(reporter_, {"brief", TokenScope::kFull, kDay});
  ASSERT_TRUE(full.ok() && reader.ok() && brief.ok()) << full.status().ToString(false);
  EXPECT_EQ(full->info.expires_at, clock_.NowMs() + Directory::kDefaultTokenLifetimeMs);
  EXPECT_EQ(directory_->CreateApiToken(reporter_, {"forever", TokenScope::kFull, 400 * kDay})
                .status()
                .code(),
            StatusCode::kInvalidInput);
  // A token acts as its user, marked as a token; a read token is read-only.
  auto as_full = directory_->FindApiToken(full->token);
  auto as_reader = directory_->FindApiToken(reader->token);
  ASSERT_TRUE(as_full.ok() && as_reader.ok());
  EXPECT_EQ(as_full->user_id, reporter_.user_id);
  EXPECT_TRUE(as_full->by_token && !as_full->read_only);
  EXPECT_TRUE(as_reader->by_token && as_reader->read_only);
  // Through a token: no tokens made, listed or revoked, no password changed.
  for (const Actor& robot : {*as_full, *as_reader}) {
    EXPECT_EQ(directory_->CreateApiToken(robot, {"more"}).status().code(),
              StatusCode::kPermissionDenied);
    EXPECT_EQ(directory_->ApiTokens(robot).status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(directory_->RevokeApiToken(robot, full->info.id).status().code(),
              StatusCode::kPermissionDenied);
    EXPECT_EQ(directory_->ChangePassword(robot, "password-reporter.ocs", "a-new-password-1")
                  .code(),
              StatusCode::kPermissionDenied);
  }
  // The owner lists them, newest first, with their last use.
  auto listed = directory_->ApiTokens(reporter_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].name, "brief");
  EXPECT_EQ((*listed)[2].name, "ci");
  EXPECT_EQ((*listed)[2].last_used_at, clock_.NowMs());
  EXPECT_EQ((*listed)[0].last_used_at, 0);
  EXPECT_TRUE(directory_->ApiTokens(approver_)->empty());
  // Expiry.
  clock_.Advance(kDay);
  EXPECT_EQ(directory_->FindApiToken(brief->token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(directory_->FindApiToken(reader->token).ok());
  // Revoking: only one's own.
  EXPECT_EQ(directory_->RevokeApiToken(approver_, reader->info.id).status().code(),
            StatusCode::kNotFound);
  auto revoked = directory_->RevokeApiToken(reporter_, reader->info.id);
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->revoked_at, clock_.NowMs());
  EXPECT_EQ(directory_->FindApiToken(reader->token).status().code(),
            StatusCode::kUnauthenticated);
  // A new password revokes every token made with the old one.
  ASSERT_TRUE(directory_->FindApiToken(full->token).ok());
  ASSERT_TRUE(
      directory_->ChangePassword(reporter_, "password-reporter.ocs", "a-new-password-1").ok());
  EXPECT_EQ(directory_->FindApiToken(full->token).status().code(),
            StatusCode::kUnauthenticated);
  auto after = directory_->ApiTokens(reporter_);
  ASSERT_TRUE(after.ok());
  for (const ApiTokenInfo& t : *after) EXPECT_NE(t.revoked_at, 0) << t.name;
}

TEST_P(ServiceTest, AGuesserWaitsLongerAndLongerButTheOwnerIsNotLockedOut) {
  const std::string guesser = "10.0.0.1";
  for (int i = 0; i < Logins::kFreeFailuresPerPair; ++i)
    EXPECT_EQ(TryLogin("reporter.ocs", "wrong", guesser).first, StatusCode::kUnauthenticated);
  // The pair waits now, even with the right password...
  EXPECT_EQ(TryLogin("reporter.ocs", "password-reporter.ocs", guesser),
            std::make_pair(StatusCode::kTooManyRequests, int64_t{1}));
  // ...but the owner, from anywhere else, is not locked out.
  EXPECT_TRUE(logins_->Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1").ok());
  EXPECT_TRUE(logins_->Login("reporter.ocs", "password-reporter.ocs", "192.0.2.7").ok());
  // Each further failure doubles the wait: 1 s, 2 s, 4 s, ...
  for (int64_t wait = 1; wait <= 8; wait *= 2) {
    clock_.Advance(wait * 1000);
    EXPECT_EQ(TryLogin("reporter.ocs", "wrong", guesser).first, StatusCode::kUnauthenticated);
    EXPECT_EQ(TryLogin("reporter.ocs", "wrong", guesser),
              std::make_pair(StatusCode::kTooManyRequests, wait * 2));
  }
  // Capped: however many failures, never more than kMaxPairDelayMs (reached at the 15th).
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(Logins::kMaxPairDelayMs);
    EXPECT_EQ(TryLogin("reporter.ocs", "wrong", guesser).first, StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(TryLogin("reporter.ocs", "wrong", guesser),
            std::make_pair(StatusCode::kTooManyRequests, Logins::kMaxPairDelayMs / 1000));
  // After the wait the right password works, and clears the pair: failures come without
  // waiting again.
  clock_.Advance(Logins::kMaxPairDelayMs);
  EXPECT_TRUE(logins_->Login("reporter.ocs", "password-reporter.ocs", guesser).ok());
  EXPECT_EQ(TryLogin("reporter.ocs", "wrong", guesser).first, StatusCode::kUnauthenticated);
  EXPECT_EQ(TryLogin("reporter.ocs", "wrong", guesser).first, StatusCode::kUnauthenticated);
}

TEST_P(ServiceTest, OneAddressIsThrottledWhateverTheNames) {
  const int64_t hashes = hasher_.runs();
  // Names that cannot exist are refused without a hash, and count against the address.
  for (int i = 0; i < Logins::kFreeFailuresPerAddress; ++i)
    EXPECT_EQ(TryLogin("x", "wrong", "10.8.8.8").first, StatusCode::kUnauthenticated);
  EXPECT_EQ(hasher_.runs(), hashes);
  EXPECT_EQ(TryLogin("x", "wrong", "10.8.8.8").first, StatusCode::kTooManyRequests);
  EXPECT_EQ(TryLogin("reporter.ocs", "password-reporter.ocs", "10.8.8.8").first,
            StatusCode::kTooManyRequests);
  EXPECT_EQ(hasher_.runs(), hashes);
  // Many plausible names from one address: the address waits, whatever the name.
  for (int i = 0; i < Logins::kFreeFailuresPerAddress; ++i) {
    EXPECT_EQ(TryLogin("guess" + std::to_string(i), "wrong", "10.9.9.9").first,
              StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(TryLogin("reporter.ocs", "password-reporter.ocs", "10.9.9.9").first,
            StatusCode::kTooManyRequests);
  EXPECT_TRUE(logins_->Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1").ok());
  // Successes do not count against an address.
  for (int i = 0; i < Logins::kFreeFailuresPerAddress + 5; ++i)
    EXPECT_TRUE(logins_->Login("approver.ocs", "password-approver.ocs", "10.7.7.7").ok());
  // Failures are forgotten after a quiet hour.
  clock_.Advance(Logins::kAddressMemoryMs + 1);
  EXPECT_TRUE(logins_->Login("reporter.ocs", "password-reporter.ocs", "10.9.9.9").ok());
}

TEST_P(ServiceTest, ParallelGuessesGetNoMoreChecksThanTheAllowance) {
  const int64_t hashes = hasher_.runs();
  std::vector<std::future<StatusCode>> guesses;
  for (int i = 0; i < 40; ++i) {
    guesses.push_back(std::async(std::launch::async, [this, i] {
      return TryLogin("evaluator.one", "wrong-" + std::to_string(i), "10.1.1.1").first;
    }));
  }
  std::map<StatusCode, int> outcomes;
  for (auto& g : guesses) outcomes[g.get()]++;
  EXPECT_EQ(outcomes[StatusCode::kUnauthenticated], Logins::kFreeFailuresPerPair);
  EXPECT_EQ(outcomes[StatusCode::kTooManyRequests], 40 - Logins::kFreeFailuresPerPair);
  EXPECT_EQ(hasher_.runs() - hashes, Logins::kFreeFailuresPerPair);
}

// A hasher that reports what else is going on while a check runs.
class WatchingHasher : public security::PasswordHasher {
 public:
  WatchingHasher(storage::DatabasePool& pool, security::HasherLimits limits)
      : PasswordHasher(security::HashStrength::kMinimum, limits), pool_(pool) {}
  std::vector<size_t> connections_in_use;  // one per check, taken while it ran
  std::promise<void> entered;               // set when a check starts
  std::shared_future<void> go_on;           // a check waits for it, when set

 protected:
  bool RunVerify(std::string_view hash, std::string_view password) override {
    connections_in_use.push_back(pool_.InUse());
    if (go_on.valid()) {
      entered.set_value();
      go_on.wait();
    }
    return PasswordHasher::RunVerify(hash, password);
  }

 private:
  storage::DatabasePool& pool_;
};

TEST_P(ServiceTest, NoConnectionIsHeldWhilePasswordsAreChecked) {
  WatchingHasher watching(*pool_, {1, 0, 0});
  Logins logins(*pool_, clock_, watching);
  EXPECT_TRUE(logins.Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1").ok());
  EXPECT_FALSE(logins.Login("reporter.ocs", "wrong", "127.0.0.1").ok());
  EXPECT_FALSE(logins.Login("nobody.here", "wrong", "127.0.0.1").ok());
  EXPECT_EQ(watching.connections_in_use, (std::vector<size_t>{0, 0, 0}));
}

TEST_P(ServiceTest, TooManyChecksAtOnceAreRefusedAtOnceAndNotCounted) {
  WatchingHasher busy(*pool_, {1, 0, 0});  // one check at a time, nobody waits
  Logins logins(*pool_, clock_, busy);
  std::promise<void> release;
  busy.go_on = release.get_future().share();
  auto first = std::async(std::launch::async, [&] {
    return logins.Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1").ok();
  });
  // Until the first check holds the only turn (a login that failed before it would never).
  auto entered = busy.entered.get_future();
  while (entered.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) {
    if (first.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      release.set_value();
      FAIL() << "the first login ended before its password was checked";
    }
  }
  for (int i = 0; i < 2 * Logins::kFreeFailuresPerPair; ++i) {
    int64_t retry = 0;
    auto refused = logins.Login("approver.ocs", "wrong", "10.2.2.2", &retry);
    EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(retry, security::PasswordHasher::kRetryAfterSeconds);
  }
  release.set_value();
  EXPECT_TRUE(first.get());
  busy.go_on = {};
  // The refused attempts were never checked: the pair still has its whole allowance.
  for (int i = 0; i < Logins::kFreeFailuresPerPair; ++i) {
    EXPECT_EQ(logins.Login("approver.ocs", "wrong", "10.2.2.2").status().code(),
              StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(logins.Login("approver.ocs", "wrong", "10.2.2.2").status().code(),
            StatusCode::kTooManyRequests);
}

TEST_P(ServiceTest, PurgeRemovesWhatHasRunItsCourse) {
  auto AddIdempotencyKey = [&](const std::string& key) {
    const std::vector<storage::Value> row = {reporter_.user_id, key, clock_.NowMs()};
    Status added = db_->Execute(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, response, created_at) VALUES "
        "(?, ?, 'h', '', ?)",
        row);
    ASSERT_TRUE(added.ok()) << added.ToString(false);
  };
  auto old_session = logins_->Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1");
  ASSERT_TRUE(old_session.ok());
  EXPECT_FALSE(logins_->Login("reporter.ocs", "wrong", "10.3.3.3").ok());
  AddIdempotencyKey("old");
  auto count = [&](const std::string& table) {
    auto rows = db_->Query("SELECT COUNT(*) FROM " + table);
    return rows ? (*rows)[0].Int(0) : -1;
  };
  // Nothing is due yet.
  auto none = directory_->Purge();
  ASSERT_TRUE(none.ok()) << none.status().ToString(false);
  EXPECT_EQ(none->sessions + none->throttle_entries + none->idempotency_keys, 0);
  clock_.Advance(Directory::kThrottleRetentionMs + 1);
  auto fresh = logins_->Login("approver.ocs", "password-approver.ocs", "127.0.0.1");
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(logins_->Login("approver.ocs", "wrong", "10.4.4.4").ok());
  AddIdempotencyKey("new");
  const int64_t throttle_before = count("login_throttle");
  auto purged = directory_->Purge();
  ASSERT_TRUE(purged.ok()) << purged.status().ToString(false);
  EXPECT_EQ(purged->sessions, 1);
  EXPECT_EQ(purged->idempotency_keys, 1);
  EXPECT_GE(purged->throttle_entries, 2);  // the old pair and its address
  EXPECT_EQ(count("login_throttle"), throttle_before - purged->throttle_entries);
  EXPECT_EQ(count("sessions"), 1);
  EXPECT_EQ(count("idempotency_keys"), 1);
  EXPECT_TRUE(directory_->FindSession(fresh->token).ok());
  auto kept = db_->Query("SELECT subject FROM login_throttle ORDER BY subject");
  ASSERT_TRUE(kept.ok());
  for (const storage::Row& r : *kept)
    EXPECT_EQ(r.Text(0).find("10.3.3.3"), std::string::npos) << r.Text(0);
  auto key = db_->Query("SELECT key FROM idempotency_keys");
  ASSERT_TRUE(key.ok());
  ASSERT_EQ(key->size(), 1u);
  EXPECT_EQ((*key)[0].Text(0), "new");
}

TEST_P(ServiceTest, TamperingWithTheAuditLogIsFound) {
  AuditLog audit(*db_);
  auto before = audit.Verify();
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->first_broken, 0) << before->problem_en;
  ASSERT_GE(before->entries, 5);
  ASSERT_TRUE(
      db_->Execute("UPDATE audit_log SET after_json = '{\"forged\": true}' WHERE seq = 3").ok());
  auto after = audit.Verify();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->first_broken, 3);
  ASSERT_TRUE(db_->Execute("DELETE FROM audit_log WHERE seq = 3").ok());
  auto gap = audit.Verify();
  ASSERT_TRUE(gap.ok());
  EXPECT_EQ(gap->first_broken, 3);
  EXPECT_NE(gap->problem_en.find("missing"), std::string::npos);
}

// ---- the cycle's rules (issue 8: 14, 15, 16, 17, 18, 19) ----

TEST_P(ServiceTest, AClosedOrPublishedRoundTakesNoMoreReportsOrRecomputation) {
  ASSERT_NO_FATAL_FAILURE(AcceptAll());
  // Results only once reporting is closed: the deadline closes it.
  auto early = results_->ComputePreliminary(admin_, round_.id);
  EXPECT_EQ(early.status().code(), StatusCode::kConflict);
  EXPECT_NE(early.status().message_en().find("reporting is open"), std::string::npos);
  clock_.Set(round_.deadline + 1);
  ASSERT_TRUE(results_->ComputePreliminary(admin_, round_.id).ok());
  // Preliminary results: no more drafts, and evaluators no longer change values.
  auto draft = reporting_->SaveDraft(boi_reporter_, round_.id, "BOI",
                                     {"5", ocs_values_.at("5").dump(), "", "", ""});
  EXPECT_EQ(draft.status().code(), StatusCode::kConflict);
  // Finalize waits for the appeal window.
  auto waiting = results_->Finalize(admin_, round_.id);
  EXPECT_EQ(waiting.status().code(), StatusCode::kConflict);
  EXPECT_NE(waiting.status().message_en().find("appeal window"), std::string::npos);
  clock_.Advance(Results::kDefaultAppealWindowMs);
  ASSERT_TRUE(results_->Finalize(admin_, round_.id).ok());
  auto published = results_->Publish(admin_, round_.id);
  ASSERT_TRUE(published.ok());
  // Published: computing again does not put it back to preliminary, and nothing is reported.
  auto again = results_->ComputePreliminary(admin_, round_.id);
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  auto latest = results_->Latest(admin_, round_.id, ResultStage::kPreliminary);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->stage, ResultStage::kPublished);
  EXPECT_EQ(latest->id, published->id);
  EXPECT_EQ(reporting_
                ->SaveDraft(boi_reporter_, round_.id, "BOI",
                            {"5", ocs_values_.at("5").dump(), "", "", ""})
                .status()
                .code(),
            StatusCode::kConflict);
  EXPECT_EQ(results_->Finalize(admin_, round_.id).status().code(), StatusCode::kConflict);
  EXPECT_EQ(cycle_->ExtendDeadline(admin_, round_.id, "OCS", clock_.NowMs() + 10 * kDay).code(),
            StatusCode::kConflict);
}

TEST_P(ServiceTest, AReopeningIsExplicitAuditedAndStartsTheResultsAfresh) {
  ASSERT_NO_FATAL_FAILURE(AcceptAll());
  // Closed early, on purpose: the round is closed, not open, before its deadline.
  auto closed = cycle_->CloseReporting(admin_, round_.id, "ครบทุกหน่วยงานแล้ว");
  ASSERT_TRUE(closed.ok()) << closed.status().ToString(false);
  EXPECT_EQ(closed->state, RoundState::kClosed);
  EXPECT_EQ(closed->closed_early_at, clock_.NowMs());
  EXPECT_EQ(reporting_
                ->SaveDraft(boi_reporter_, round_.id, "BOI",
                            {"5", ocs_values_.at("5").dump(), "", "", ""})
                .status()
                .code(),
            StatusCode::kConflict);
  EXPECT_EQ(cycle_->CloseReporting(admin_, round_.id, "").status().code(), StatusCode::kConflict);
  EXPECT_EQ(cycle_->CloseReporting(evaluator_, round_.id, "").status().code(),
            StatusCode::kPermissionDenied);
  // Changing the deadline does not reopen it.
  EXPECT_EQ(
      cycle_->OpenRound(admin_, framework_.id, 12, clock_.NowMs() + 60 * kDay).status().code(),
      StatusCode::kConflict);
  auto preliminary = results_->ComputePreliminary(admin_, round_.id, 0);
  ASSERT_TRUE(preliminary.ok()) << preliminary.status().ToString(false);
  ASSERT_TRUE(results_->Finalize(admin_, round_.id).ok());
  auto published = results_->Publish(admin_, round_.id);
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(cycle_->StatusOf(round_.id)->state, RoundState::kPublished);

  // Reopening needs a reason and a deadline to come.
  EXPECT_EQ(cycle_->Reopen(admin_, round_.id, " ", clock_.NowMs() + 10 * kDay).status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(cycle_->Reopen(admin_, round_.id, "แก้ข้อมูลผิด", clock_.NowMs() - kDay).status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(
      cycle_->Reopen(reporter_, round_.id, "แก้ข้อมูลผิด", clock_.NowMs() + 10 * kDay).status().code(),
      StatusCode::kPermissionDenied);
  auto reopened =
      cycle_->Reopen(admin_, round_.id, "พบข้อมูลผิดพลาดของ BOI", clock_.NowMs() + 10 * kDay);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString(false);
  EXPECT_EQ(reopened->state, RoundState::kOpen);
  EXPECT_EQ(reopened->result_id, 0);
  ASSERT_EQ(reopened->reopenings.size(), 1u);
  EXPECT_EQ(reopened->reopenings[0].reason, "พบข้อมูลผิดพลาดของ BOI");
  EXPECT_EQ(cycle_->Reopen(admin_, round_.id, "อีกครั้ง", clock_.NowMs() + 10 * kDay).status().code(),
            StatusCode::kConflict);  // it is open
  // The published results stay public until new ones are published.
  auto still = results_->Latest(Actor::Public(), round_.id, ResultStage::kPublished);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->id, published->id);
  // Reporting is open again.
  auto draft = reporting_->SaveDraft(boi_reporter_, round_.id, "BOI",
                                     {"5", ocs_values_.at("5").dump(), "", "", ""});
  EXPECT_TRUE(draft.ok()) << draft.status().ToString(false);

  // Every change of state is in the audit log.
  auto rows = db_->Query(
      "SELECT action, after_json FROM audit_log WHERE action IN ('round.close', 'round.reopen') "
      "ORDER BY seq");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Text(0), "round.close");
  EXPECT_EQ((*rows)[1].Text(0), "round.reopen");
  EXPECT_NE((*rows)[1].Text(1).find("พบข้อมูลผิดพลาดของ BOI"), std::string::npos);
}

TEST_P(ServiceTest, ComputingAgainWaitsForOpenAppealsWhichStayVisible) {
  ASSERT_NO_FATAL_FAILURE(AcceptAll());
  clock_.Set(round_.deadline + 1);
  auto first = results_->ComputePreliminary(admin_, round_.id);
  ASSERT_TRUE(first.ok());
  auto appeal = results_->FileAppeal(reporter_, first->id, "1", "ค่าที่ใช้ผิด");
  ASSERT_TRUE(appeal.ok()) << appeal.status().ToString(false);
  // Computing again would hide the open appeal from the pages while finalize counts it.
  auto again = results_->ComputePreliminary(admin_, round_.id);
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  auto latest = results_->Latest(admin_, round_.id, ResultStage::kPreliminary);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->id, first->id);
  ASSERT_TRUE(results_->DecideAppeal(evaluator_, appeal->id, false, "ค่าถูกต้องแล้ว").ok());
  auto second = results_->ComputePreliminary(admin_, round_.id);
  ASSERT_TRUE(second.ok()) << second.status().ToString(false);
  // The decided appeal is still listed with the round; the replaced results take no appeals.
  auto listed = results_->AppealsOfRound(reporter_, round_.id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].status, "rejected");
  EXPECT_EQ(results_->FileAppeal(reporter_, first->id, "2", "อีกเรื่อง").status().code(),
            StatusCode::kConflict);
  auto on_new = results_->FileAppeal(reporter_, second->id, "2", "อีกเรื่อง");
  ASSERT_TRUE(on_new.ok()) << on_new.status().ToString(false);
  EXPECT_EQ(results_->AppealsOfRound(evaluator_, round_.id)->size(), 2u);
  EXPECT_TRUE(results_->AppealsOfRound(boi_reporter_, round_.id)->empty());
  // An early close of the window is explicit and audited; then no more appeals.
  EXPECT_EQ(results_->CloseAppeals(evaluator_, round_.id, "").status().code(),
            StatusCode::kPermissionDenied);
  auto closed = results_->CloseAppeals(admin_, round_.id, "ครบทุกหน่วยงานยืนยันแล้ว");
  ASSERT_TRUE(closed.ok()) << closed.status().ToString(false);
  EXPECT_EQ(closed->appeal_deadline, clock_.NowMs());
  EXPECT_EQ(results_->FileAppeal(reporter_, second->id, "3", "ช้าไป").status().code(),
            StatusCode::kConflict);
  EXPECT_EQ(results_->Finalize(admin_, round_.id).status().code(),
            StatusCode::kConflict);  // one appeal is still open
  ASSERT_TRUE(results_->DecideAppeal(evaluator_, on_new->id, false, "ค่าถูกต้องแล้ว").ok());
  EXPECT_TRUE(results_->Finalize(admin_, round_.id).ok());
  auto audited =
      db_->Query("SELECT COUNT(*) FROM audit_log WHERE action = 'results.close_appeals'");
  ASSERT_TRUE(audited.ok());
  EXPECT_EQ((*audited)[0].Int(0), 1);
}

TEST_P(ServiceTest, ExtensionsLieAfterTheDeadlineInTheFutureAndCanBeUndone) {
  const int64_t deadline = round_.deadline;
  constexpr int64_t k2020 = 1577836800000;  // 1 Jan 2020
  EXPECT_EQ(cycle_->ExtendDeadline(admin_, round_.id, "OCS", k2020).code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(cycle_->ExtendDeadline(admin_, round_.id, "OCS", deadline - kDay).code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(cycle_->DeadlineFor(round_.id, "OCS").value(), deadline);
  clock_.Set(deadline + 5 * kDay);
  EXPECT_EQ(cycle_->ExtendDeadline(admin_, round_.id, "OCS", deadline + 2 * kDay).code(),
            StatusCode::kInvalidInput);  // after the round's deadline, but already past
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round_.id, "OCS", deadline + 10 * kDay).ok());
  EXPECT_EQ(cycle_->DeadlineFor(round_.id, "OCS").value(), deadline + 10 * kDay);
  // Changed, then taken away: each audited with what it was.
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round_.id, "OCS", deadline + 20 * kDay).ok());
  EXPECT_EQ(cycle_->DeadlineFor(round_.id, "OCS").value(), deadline + 20 * kDay);
  EXPECT_EQ(cycle_->RemoveExtension(evaluator_, round_.id, "OCS").code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(cycle_->RemoveExtension(admin_, round_.id, "OCS").ok());
  EXPECT_EQ(cycle_->DeadlineFor(round_.id, "OCS").value(), deadline);
  EXPECT_TRUE(cycle_->Extensions(round_.id)->empty());
  EXPECT_EQ(cycle_->RemoveExtension(admin_, round_.id, "OCS").code(), StatusCode::kNotFound);
  auto audit = db_->Query(
      "SELECT action, before_json FROM audit_log WHERE action LIKE 'round.extend%' ORDER BY seq");
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ((*audit)[1].Text(0), "round.extend.change");
  EXPECT_NE((*audit)[1].Text(1).find(std::to_string(deadline + 10 * kDay)), std::string::npos);
  EXPECT_EQ((*audit)[2].Text(0), "round.extend.remove");
  // A round's own deadline lies in the future too.
  EXPECT_EQ(cycle_->OpenRound(admin_, framework_.id, 6, clock_.NowMs() - kDay).status().code(),
            StatusCode::kInvalidInput);
}

TEST_P(ServiceTest, ExemptKpisAndKpisOfAnotherRoundAreNotReportable) {
  // BOI is exempt from KPI 7, for the framework's reason.
  const std::vector<KpiDuty> boi = KpiDuties(framework_.framework, 12, "BOI");
  const auto seven =
      std::find_if(boi.begin(), boi.end(), [](const KpiDuty& d) { return d.kpi == "7"; });
  ASSERT_NE(seven, boi.end());
  EXPECT_TRUE(seven->exempt);
  EXPECT_FALSE(seven->Reportable());
  EXPECT_NE(seven->exempt_reason.en.find("FY2566"), std::string::npos);
  // The duties resolve assignments as the engine does: the same KPIs with the same weights.
  auto engine = domain::Engine::Compile(framework_.framework, 12);
  ASSERT_TRUE(engine.ok());
  const KpiDutyResolver resolver(framework_.framework, 12);
  for (const char* code : {"OCS", "BOI", "DSD", "OGGP", "DCLS", "DLIS", "PMO"}) {
    std::vector<std::pair<std::string, double>> duties;
    for (const KpiDuty& d : resolver.For(code)) duties.emplace_back(d.top_kpi, d.weight);
    EXPECT_EQ(duties, engine->AssignedKpis(code)) << code;
  }
  auto exempt = reporting_->SaveDraft(boi_reporter_, round_.id, "BOI",
                                      {"7", ocs_values_.at("7").dump(), "", "", ""});
  EXPECT_EQ(exempt.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(exempt.status().message_en().find("FY2566"), std::string::npos)
      << exempt.status().message_en();
  // KPIs 5 to 8 count only in the 12-month round.
  auto six = cycle_->OpenRound(admin_, framework_.id, 6, kJan2024 + 20 * kDay);
  ASSERT_TRUE(six.ok());
  for (const KpiDuty& d : KpiDuties(framework_.framework, 6, "OCS")) {
    EXPECT_EQ(d.Reportable(), d.kpi < "5") << d.kpi;
  }
  auto other_round = reporting_->SaveDraft(reporter_, six->id, "OCS",
                                           {"5", ocs_values_.at("5").dump(), "", "", ""});
  EXPECT_EQ(other_round.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(other_round.status().message_en().find("12-month"), std::string::npos)
      << other_round.status().message_en();
  EXPECT_TRUE(
      reporting_
          ->SaveDraft(reporter_, six->id, "OCS", {"1", ocs_values_.at("1").dump(), "", "", ""})
          .ok());
  // What is missing leaves them out.
  auto readiness = results_->ReadinessOf(admin_, six->id);
  ASSERT_TRUE(readiness.ok()) << readiness.status().ToString(false);
  EXPECT_EQ(readiness->kpis_due, 4);  // OCS's KPIs 1 to 4; the other agencies have none
  EXPECT_EQ(readiness->agencies, 1);
  EXPECT_EQ(readiness->kpis_missing, 4);
}

TEST_P(ServiceTest, ReadinessSaysWhatIsMissing) {
  auto none = results_->ReadinessOf(admin_, round_.id);
  ASSERT_TRUE(none.ok()) << none.status().ToString(false);
  const int64_t due = none->kpis_due;
  EXPECT_GT(none->agencies, 1);
  EXPECT_EQ(none->kpis_missing, due);
  EXPECT_EQ(none->agencies_missing, none->agencies);
  // The counts are every agency's own duties (the examples' agencies are under different
  // assignment rules, some exempt from KPIs), agency by agency as the KPI pages list them.
  auto listed = directory_->Agencies();
  ASSERT_TRUE(listed.ok());
  int64_t agencies_due = 0, kpis_due = 0;
  for (const domain::Agency& a : *listed) {
    if (!framework_.framework.agency_kind.empty() && a.kind != framework_.framework.agency_kind)
      continue;
    int64_t own = 0;
    for (const KpiDuty& d : KpiDuties(framework_.framework, 12, a.code)) own += d.Reportable();
    kpis_due += own;
    agencies_due += own > 0;
  }
  EXPECT_EQ(none->kpis_due, kpis_due);
  EXPECT_EQ(none->agencies, agencies_due);
  const int64_t submitted = ReportAndSubmit("1", ocs_values_.at("1").dump());
  const int64_t accepted = ReportAndSubmit("2", ocs_values_.at("2").dump());
  ASSERT_TRUE(reporting_->Accept(evaluator_, accepted, {}).ok());
  ASSERT_TRUE(
      reporting_
          ->SaveDraft(reporter_, round_.id, "OCS", {"3", ocs_values_.at("3").dump(), "", "", ""})
          .ok());
  auto some = results_->ReadinessOf(evaluator_, round_.id);
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->kpis_missing, due - 2);  // the draft is still missing
  EXPECT_EQ(some->awaiting_review, 1);
  EXPECT_EQ(some->accepted, 1);
  EXPECT_EQ(some->status.state, RoundState::kOpen);
  EXPECT_EQ(results_->ReadinessOf(reporter_, round_.id).status().code(),
            StatusCode::kPermissionDenied);
  (void)submitted;
}

TEST_P(ServiceTest, TheApproverSendsADraftBackWithAComment) {
  auto draft = reporting_->SaveDraft(reporter_, round_.id, "OCS",
                                     {"1", ocs_values_.at("1").dump(), "", "", ""});
  ASSERT_TRUE(draft.ok());
  EXPECT_EQ(reporting_->SendBack(reporter_, draft->id, "แก้").status().code(),
            StatusCode::kPermissionDenied);
  Actor boi_approver = MakeUser("approver.boi", Role::kApprover, "BOI");
  EXPECT_EQ(reporting_->SendBack(boi_approver, draft->id, "แก้").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reporting_->SendBack(approver_, draft->id, "  ").status().code(),
            StatusCode::kInvalidInput);
  auto back = reporting_->SendBack(approver_, draft->id, "ตัวเลขไม่ตรงกับหนังสือรับรอง");
  ASSERT_TRUE(back.ok()) << back.status().ToString(false);
  EXPECT_EQ(back->status, SubmissionStatus::kDraft);
  EXPECT_TRUE(back->sent_back);
  ASSERT_EQ(back->send_backs.size(), 1u);
  EXPECT_EQ(back->send_backs[0].comment, "ตัวเลขไม่ตรงกับหนังสือรับรอง");
  EXPECT_EQ(back->send_backs[0].by, approver_.user_id);
  EXPECT_EQ(back->report.values_json, draft->report.values_json);
  // The reporter sees it in the list, reworks it; an approved one goes back too.
  service::QueueFilter filter;
  filter.round_id = round_.id;
  auto listed = reporting_->Queue(reporter_, filter);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_TRUE(listed->items[0].sent_back);
  auto reworked = reporting_->SaveDraft(reporter_, round_.id, "OCS",
                                        {"1", ocs_values_.at("1").dump(), "แก้แล้ว", "", ""});
  ASSERT_TRUE(reworked.ok());
  EXPECT_FALSE(reworked->sent_back);
  ASSERT_TRUE(reporting_->Approve(approver_, draft->id).ok());
  auto again = reporting_->SendBack(approver_, draft->id, "ยังไม่ครบ");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, SubmissionStatus::kDraft);
  EXPECT_EQ(again->send_backs.size(), 2u);
  ASSERT_TRUE(reporting_->Approve(approver_, draft->id).ok());
  ASSERT_TRUE(reporting_->Submit(approver_, draft->id).ok());
  EXPECT_EQ(reporting_->SendBack(approver_, draft->id, "ช้าไป").status().code(),
            StatusCode::kConflict);
}

TEST_P(ServiceTest, KpiPagesScoreWithTheVerifiedValuesOnceAccepted) {
  json reported = ocs_values_.at("1");
  const int64_t id = ReportAndSubmit("1", reported.dump());
  json verified = reported;
  for (auto& [name, value] : verified.items()) {
    if (value.is_number()) value = value.get<double>() - 1;
  }
  ASSERT_TRUE(reporting_->Accept(evaluator_, id, {verified.dump(), "แก้ตามหลักฐาน", {}}).ok());
  ASSERT_TRUE(
      reporting_
          ->SaveDraft(reporter_, round_.id, "OCS", {"2", ocs_values_.at("2").dump(), "", "", ""})
          .ok());
  auto current = reporting_->CurrentValuesOf(round_.id, "OCS");
  ASSERT_TRUE(current.ok()) << current.status().ToString(false);
  EXPECT_EQ(current->source.at("1"), "verified");
  EXPECT_EQ(current->source.at("2"), "reported");
  int seen = 0;
  for (const domain::Observation& o : current->observations) {
    if (o.kpi != "1" || o.fiscal_year != framework_.fiscal_year || o.round != 12) continue;
    ++seen;
    ASSERT_EQ(o.values.size(), 1u);
    EXPECT_EQ(o.values[0], verified[o.variable].get<double>()) << o.variable;
  }
  EXPECT_EQ(seen, static_cast<int>(verified.size()));
}

// The queue at any size: sorted by the agencies' Thai names (their sort keys, kept with every
// rename) or their parents', searched by code or name with LIKE's wildcards taken literally,
// filtered by parent and kind, and paged without overlap — all in the database.
TEST_P(ServiceTest, TheQueueIsSortedSearchedFilteredAndPagedInTheDatabase) {
  // Renamed so that Thai order differs from the codes' and the names' byte order.
  std::vector<domain::Agency> renamed = {
      {"OCS", {"เกาะสมุย", "Ko Samui"}, "department", "PMO", {}},
      {"BOI", {"ขอนแก่น", "Khon Kaen"}, "department", "PMO", {}},
      {"DSD", {"ฉะเชิงเทรา", "Chachoengsao"}, "department", "MOL", {}},
      {"OGGP", {"โคราช", "Korat"}, "department", "PMO", {}}};
  ASSERT_TRUE(directory_->UpsertAgencies(admin_, renamed).ok());
  std::map<std::string, Actor> reporters = {{"OCS", reporter_}, {"BOI", boi_reporter_}};
  reporters["DSD"] = MakeUser("reporter.dsd", Role::kReporter, "DSD");
  reporters["OGGP"] = MakeUser("reporter.oggp", Role::kReporter, "OGGP");
  for (const auto& [code, reporter] : reporters) {
    auto draft = reporting_->SaveDraft(reporter, round_.id, code,
                                       {"5", ocs_values_.at("5").dump(), "", "", ""});
    ASSERT_TRUE(draft.ok()) << code << ": " << draft.status().ToString(false);
  }
  auto codes = [&](QueueFilter filter) {
    filter.round_id = round_.id;
    auto page = reporting_->Queue(evaluator_, filter);
    EXPECT_TRUE(page.ok()) << page.status().ToString(false);
    std::string out;
    if (!page.ok()) return out;
    for (const auto& item : page->items) out += (out.empty() ? "" : " ") + item.agency;
    return out + " (" + std::to_string(page->total) + ")";
  };
  QueueFilter by_name;
  by_name.sort = QueueSort::kName;
  EXPECT_EQ(codes(by_name), "OCS BOI OGGP DSD (4)");
  by_name.limit = 2;
  EXPECT_EQ(codes(by_name), "OCS BOI (4)");
  by_name.offset = 2;
  EXPECT_EQ(codes(by_name), "OGGP DSD (4)");
  QueueFilter reversed;
  reversed.sort = QueueSort::kName;
  reversed.descending = true;
  EXPECT_EQ(codes(reversed), "DSD OGGP BOI OCS (4)");
  // กระทรวงแรงงาน (MOL) before สำนักนายกรัฐมนตรี (PMO), then by name.
  QueueFilter by_parent;
  by_parent.sort = QueueSort::kMinistry;
  EXPECT_EQ(codes(by_parent), "DSD OCS BOI OGGP (4)");
  QueueFilter search;
  search.sort = QueueSort::kName;
  search.q = "ขอน";
  EXPECT_EQ(codes(search), "BOI (1)");
  search.q = "dsd";  // the code, in another case
  EXPECT_EQ(codes(search), "DSD (1)");
  search.q = "KORAT";
  EXPECT_EQ(codes(search), "OGGP (1)");
  search.q = "%";  // a literal percent sign, which no name has
  EXPECT_EQ(codes(search), " (0)");
  search.q = "_";
  EXPECT_EQ(codes(search), " (0)");
  QueueFilter filtered;
  filtered.sort = QueueSort::kName;
  filtered.ministry = "PMO";
  EXPECT_EQ(codes(filtered), "OCS BOI OGGP (3)");
  filtered.ministry = "";
  filtered.kind = "ministry";
  EXPECT_EQ(codes(filtered), " (0)");
  // An agency's own users still see only their own agency, whatever they search.
  QueueFilter own;
  own.round_id = round_.id;
  own.sort = QueueSort::kName;
  auto mine = reporting_->Queue(boi_reporter_, own);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->items.size(), 1u);
  EXPECT_EQ(mine->items[0].agency, "BOI");
  EXPECT_EQ(mine->items[0].ministry_name_th, "สำนักนายกรัฐมนตรี");
}

// Issue 12 §4: evidence attached before the first save makes the KPI's draft (nothing made when
// the file is refused), and a file attached by mistake leaves the draft: its record and the
// audit log keep it (with its name), it no longer counts in the queue nor downloads, it still
// counts against the quota, and once approved nothing more is removed.
TEST_P(ServiceTest, EvidenceBeforeTheFirstSaveAndAMistakenFileRemovedFromTheDraft) {
  const std::string kpi = ocs_values_.begin()->first;
  auto count = [&](const std::string& sql) {
    auto rows = db_->Query(sql, {});
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  };
  const EvidenceInfo pdf{0, "ผิดไฟล์.pdf", "application/pdf", 100, std::string(64, 'a')};
  // Refused files make nothing: another agency's reporter, an approver, an unknown KPI, a quota
  // of no files.
  EXPECT_EQ(reporting_->AddEvidenceToKpi(boi_reporter_, round_.id, "OCS", kpi, pdf).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reporting_->AddEvidenceToKpi(approver_, round_.id, "OCS", kpi, pdf).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(reporting_->AddEvidenceToKpi(reporter_, round_.id, "OCS", "99", pdf).status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(
      reporting_->AddEvidenceToKpi(reporter_, round_.id, "OCS", kpi, pdf, {1 << 20, 0})
          .status()
          .code(),
      StatusCode::kConflict);
  EXPECT_EQ(count("SELECT COUNT(*) FROM submissions"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM evidence"), 0);

  // The first file makes an empty draft; the second goes into the same one.
  auto first = reporting_->AddEvidenceToKpi(reporter_, round_.id, "OCS", kpi, pdf);
  ASSERT_TRUE(first.ok()) << first.status().ToString(false);
  EvidenceInfo right = pdf;
  right.name = "ถูกไฟล์.pdf";
  right.sha256 = std::string(64, 'b');
  auto second = reporting_->AddEvidenceToKpi(reporter_, round_.id, "OCS", kpi, right);
  ASSERT_TRUE(second.ok()) << second.status().ToString(false);
  EXPECT_EQ(second->first, first->first);
  auto draft = reporting_->Get(reporter_, first->first);
  ASSERT_TRUE(draft.ok());
  EXPECT_EQ(draft->status, SubmissionStatus::kDraft);
  EXPECT_EQ(draft->report.kpi, kpi);
  EXPECT_EQ(json::parse(draft->report.values_json), json::object());
  ASSERT_EQ(draft->evidence.size(), 2u);
  // The values saved later keep the files.
  auto saved = reporting_->SaveDraft(reporter_, round_.id, "OCS",
                                     {kpi, ocs_values_.at(kpi).dump(), "", "", ""});
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  EXPECT_EQ(saved->id, first->first);
  EXPECT_EQ(saved->evidence.size(), 2u);

  // Only the agency's reporter removes, once.
  const int64_t wrong = first->second.id;
  for (const Actor& who : {approver_, boi_reporter_, evaluator_, admin_}) {
    EXPECT_FALSE(reporting_->RemoveEvidence(who, wrong).ok()) << who.username;
  }
  auto removed = reporting_->RemoveEvidence(reporter_, wrong);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString(false);
  EXPECT_EQ(removed->name, "ผิดไฟล์.pdf");
  EXPECT_EQ(reporting_->RemoveEvidence(reporter_, wrong).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reporting_->Evidence(reporter_, wrong).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reporting_->SubmissionOfEvidence(reporter_, wrong).status().code(),
            StatusCode::kNotFound);
  auto left = reporting_->Get(evaluator_, first->first);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->evidence.size(), 1u);
  EXPECT_EQ(left->evidence[0].name, "ถูกไฟล์.pdf");
  QueueFilter filter;
  filter.round_id = round_.id;
  filter.status = "";
  auto queue = reporting_->Queue(evaluator_, filter);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->items.size(), 1u);
  EXPECT_EQ(queue->items[0].evidence_files, 1);
  // Its record stays, and the log names it; the chain and every entity's state still match.
  EXPECT_EQ(count("SELECT COUNT(*) FROM evidence WHERE id = " + std::to_string(wrong)), 1);
  auto entry = db_->Query(
      "SELECT entity, before_json FROM audit_log WHERE action = 'evidence.remove'", {});
  ASSERT_TRUE(entry.ok());
  ASSERT_EQ(entry->size(), 1u);
  EXPECT_EQ((*entry)[0].Text(0), "submission/" + std::to_string(first->first));
  EXPECT_EQ(json::parse((*entry)[0].Text(1))["name"].get<std::string>(), "ผิดไฟล์.pdf");
  auto verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
  // A removed file still counts against the quota (its bytes are kept): two files allowed, one
  // shown, the third refused.
  EvidenceInfo third = pdf;
  third.sha256 = std::string(64, 'c');
  EXPECT_EQ(reporting_->AddEvidence(reporter_, first->first, third, std::nullopt, {1 << 20, 2})
                .status()
                .code(),
            StatusCode::kConflict);
  // Once approved, the files stay.
  ASSERT_TRUE(reporting_->Approve(approver_, first->first).ok());
  auto kept = reporting_->RemoveEvidence(reporter_, left->evidence[0].id);
  EXPECT_EQ(kept.status().code(), StatusCode::kConflict);
  EXPECT_NE(kept.status().message_th().find("ร่าง"), std::string::npos);
  EXPECT_EQ(reporting_->Get(reporter_, first->first)->evidence.size(), 1u);
}

// Issue 12 §5 (part): the queue counts each submission's evidence files and sorts by status,
// deadline (extensions counted) and evidence, both ways, ties by agency code.
TEST_P(ServiceTest, TheQueueCountsEvidenceAndSortsByStatusDeadlineAndEvidence) {
  const Actor dsd = MakeUser("reporter.dsd", Role::kReporter, "DSD");
  std::map<std::string, int64_t> ids;
  for (const auto& [code, who] : std::vector<std::pair<std::string, Actor>>{
           {"OCS", reporter_}, {"BOI", boi_reporter_}, {"DSD", dsd}}) {
    auto draft = reporting_->SaveDraft(who, round_.id, code,
                                       {"5", ocs_values_.at("5").dump(), "", "", ""});
    ASSERT_TRUE(draft.ok()) << code << ": " << draft.status().ToString(false);
    ids[code] = draft->id;
  }
  // OCS: two files; DSD: one; BOI: none.
  for (const auto& [code, who, files] : std::vector<std::tuple<std::string, Actor, int>>{
           {"OCS", reporter_, 2}, {"DSD", dsd, 1}}) {
    for (int i = 0; i < files; ++i) {
      auto added = reporting_->AddEvidence(
          who, ids[code], {0, "f" + std::to_string(i) + ".pdf", "application/pdf", 100,
                           std::string(64, static_cast<char>('a' + i))});
      ASSERT_TRUE(added.ok()) << added.status().ToString(false);
    }
  }
  // BOI's deadline extended past the round's; OCS's report approved (a later status).
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round_.id, "BOI", round_.deadline + 5 * kDay).ok());
  ASSERT_TRUE(reporting_->Approve(approver_, ids["OCS"]).ok());

  auto listed = [&](QueueSort sort, bool descending) {
    QueueFilter filter;
    filter.round_id = round_.id;
    filter.status = "";
    filter.sort = sort;
    filter.descending = descending;
    auto page = reporting_->Queue(evaluator_, filter);
    EXPECT_TRUE(page.ok()) << page.status().ToString(false);
    std::string out;
    if (!page.ok()) return out;
    for (const auto& item : page->items) {
      out += (out.empty() ? "" : " ") + item.agency + ":" + std::to_string(item.evidence_files);
    }
    return out;
  };
  EXPECT_EQ(listed(QueueSort::kEvidence, false), "BOI:0 DSD:1 OCS:2");
  EXPECT_EQ(listed(QueueSort::kEvidence, true), "OCS:2 DSD:1 BOI:0");
  // Ties (DSD and OCS share the round's deadline) by code: DSD before OCS.
  EXPECT_EQ(listed(QueueSort::kDeadline, false), "DSD:1 OCS:2 BOI:0");
  EXPECT_EQ(listed(QueueSort::kDeadline, true), "BOI:0 OCS:2 DSD:1");
  // Drafts (BOI, DSD) before the approved one.
  EXPECT_EQ(listed(QueueSort::kStatus, false), "BOI:0 DSD:1 OCS:2");
  EXPECT_EQ(listed(QueueSort::kStatus, true), "OCS:2 DSD:1 BOI:0");
  // Each item's deadline is its agency's, however the queue is sorted: read through the join
  // where the order needs every row's, looked up for the page's rows otherwise.
  for (const QueueSort sort : {QueueSort::kDeadline, QueueSort::kStatus}) {
    QueueFilter filter;
    filter.round_id = round_.id;
    filter.status = "";
    filter.sort = sort;
    auto page = reporting_->Queue(evaluator_, filter);
    ASSERT_TRUE(page.ok()) << page.status().ToString(false);
    ASSERT_EQ(page->items.size(), 3u);
    for (const auto& item : page->items) {
      EXPECT_EQ(item.deadline, item.agency == "BOI" ? round_.deadline + 5 * kDay : round_.deadline)
          << item.agency << " sorted by " << static_cast<int>(sort);
    }
  }
}

// Issue 12 §5: the queue sorts by KPI number, both ways, in SQL (ties by agency code).
TEST_P(ServiceTest, TheQueueSortsByKpiNumber) {
  for (const char* kpi : {"7", "1", "5"}) {
    auto draft = reporting_->SaveDraft(reporter_, round_.id, "OCS",
                                       {kpi, ocs_values_.at(kpi).dump(), "", "", ""});
    ASSERT_TRUE(draft.ok()) << kpi << ": " << draft.status().ToString(false);
  }
  auto boi = reporting_->SaveDraft(boi_reporter_, round_.id, "BOI",
                                   {"5", ocs_values_.at("5").dump(), "", "", ""});
  ASSERT_TRUE(boi.ok()) << boi.status().ToString(false);
  auto listed = [&](bool descending) {
    QueueFilter filter;
    filter.round_id = round_.id;
    filter.status = "";
    filter.sort = QueueSort::kKpi;
    filter.descending = descending;
    auto page = reporting_->Queue(evaluator_, filter);
    EXPECT_TRUE(page.ok()) << page.status().ToString(false);
    std::string out;
    if (!page.ok()) return out;
    for (const auto& item : page->items) out += (out.empty() ? "" : " ") + item.agency + ":" + item.kpi;
    return out;
  };
  EXPECT_EQ(listed(false), "OCS:1 BOI:5 OCS:5 OCS:7");
  EXPECT_EQ(listed(true), "OCS:7 OCS:5 BOI:5 OCS:1");
}

// Results are rows: one total per agency with the values it was scored from, one row per agency
// x KPI and sub-KPI; no document of a whole round is stored, nothing in two languages; a
// publication shares its final result's rows.
TEST_P(ServiceTest, ScoresAreStoredAsRowsAndAPublicationSharesThem) {
  AcceptAll();
  // A name with what JSON escapes: the values kept with the result must read back as it is.
  const std::string name_th = "สำนักงาน \"บีโอไอ\" \\ ก\tข\r\nค";
  const std::string name_en = "\"BOI\"\\\x01";
  ASSERT_TRUE(db_->Execute("UPDATE agencies SET name_th = ?, name_en = ? WHERE code = 'BOI'",
                           {name_th, name_en})
                  .ok());
  clock_.Set(round_.deadline + 1);
  auto preliminary = results_->ComputePreliminary(admin_, round_.id, 0);
  ASSERT_TRUE(preliminary.ok()) << preliminary.status().ToString(false);
  auto final_result = results_->Finalize(admin_, round_.id);
  ASSERT_TRUE(final_result.ok()) << final_result.status().ToString(false);
  auto published = results_->Publish(admin_, round_.id);
  ASSERT_TRUE(published.ok()) << published.status().ToString(false);
  EXPECT_EQ(published->rows_from, final_result->id);
  EXPECT_EQ(final_result->rows_from, final_result->id);

  auto documents = db_->Query("SELECT COUNT(*) FROM results WHERE document <> ''");
  ASSERT_TRUE(documents.ok()) << documents.status().ToString(false);
  EXPECT_EQ((*documents)[0].Int(0), 0);
  const json expected = json::parse(ReadText(kExample / "expected.json"));
  for (const int64_t id : {preliminary->id, final_result->id}) {
    auto totals = db_->Query(
        "SELECT agency_code, total, inputs, explanation FROM result_totals WHERE result_id = ? "
        "ORDER BY agency_code",
        {id});
    ASSERT_TRUE(totals.ok()) << totals.status().ToString(false);
    ASSERT_EQ(totals->size(), expected["agencies"].size());
    for (const storage::Row& r : *totals) {
      EXPECT_TRUE(r.IsNull(3));  // derived on request, not stored
      const json inputs = json::parse(r.Text(2));
      EXPECT_FALSE(inputs["values"].empty()) << r.Text(0);
      if (r.Text(0) == "BOI") {
        EXPECT_EQ(inputs["name"]["th"], name_th);
        EXPECT_EQ(inputs["name"]["en"], name_en);
      }
      if (r.Text(0) != "OCS") {
        EXPECT_NEAR(r.Real(1), ByCode(expected, r.Text(0))["total"].get<double>(), 1e-9);
      }
    }
    size_t kpi_rows = 0;
    std::function<void(const json&)> count = [&](const json& kpis) {
      for (const json& k : kpis) {
        ++kpi_rows;
        if (k.contains("sub_kpis")) count(k["sub_kpis"]);
      }
    };
    for (const json& a : expected["agencies"]) count(a["kpis"]);
    auto kpis = db_->Query("SELECT COUNT(*) FROM result_kpis WHERE result_id = ?", {id});
    ASSERT_TRUE(kpis.ok());
    EXPECT_EQ((*kpis)[0].Int(0), static_cast<int64_t>(kpi_rows));
    // A KPI's stable key is kept with its rows (PMQA is "pmqa" in the example).
    auto keyed = db_->Query(
        "SELECT COUNT(*) FROM result_kpis WHERE result_id = ? AND kpi_key = 'pmqa'", {id});
    ASSERT_TRUE(keyed.ok());
    EXPECT_EQ((*keyed)[0].Int(0), static_cast<int64_t>(expected["agencies"].size()));
  }
  auto own = db_->Query("SELECT COUNT(*) FROM result_totals WHERE result_id = ?", {published->id});
  ASSERT_TRUE(own.ok());
  EXPECT_EQ((*own)[0].Int(0), 0);  // shared, not copied
  // The public reads the published scores from the final result's rows.
  auto seen = results_->LatestForAgency(Actor::Public(), round_.id, ResultStage::kPublished, "BOI");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString(false);
  EXPECT_EQ(seen->id, published->id);
  EXPECT_NEAR(json::parse(seen->document)["agency"]["total"].get<double>(),
              ByCode(expected, "BOI")["total"].get<double>(), 1e-9);
  // A page asks for one language's part: it is that part of the whole document, derived with
  // the framework the page holds, and never with another version or one not frozen.
  const json both = json::parse(seen->document);
  auto version = cycle_->Framework(published->framework_id);
  ASSERT_TRUE(version.ok()) << version.status().ToString(false);
  ASSERT_TRUE(version->frozen);
  const auto held = std::make_shared<const StoredFramework>(*version);
  StoredFramework emptied = *version;
  emptied.framework.kpis.clear();  // scored with it, BOI would have no KPIs
  StoredFramework other_version = emptied;
  other_version.id = version->id + 1;
  StoredFramework not_frozen = emptied;
  not_frozen.frozen = false;
  for (const Lang lang : {Lang::kThai, Lang::kEnglish}) {
    const json& whole = both[lang == Lang::kThai ? "agency" : "agency_en"];
    ASSERT_TRUE(whole.is_object());
    ASSERT_FALSE(whole["kpis"].empty());
    for (const std::shared_ptr<const StoredFramework>& given :
         {std::shared_ptr<const StoredFramework>(), held,
          std::make_shared<const StoredFramework>(other_version),
          std::make_shared<const StoredFramework>(not_frozen)}) {
      auto part = results_->LatestAgencyPart(Actor::Public(), round_.id, ResultStage::kPublished,
                                             "BOI", lang, given);
      ASSERT_TRUE(part.ok()) << part.status().ToString(false);
      EXPECT_EQ(part->result.id, published->id);
      EXPECT_EQ(part->agency, whole);
    }
  }
  EXPECT_EQ(results_
                ->LatestAgencyPart(Actor::Public(), round_.id, ResultStage::kPublished, "NOPE",
                                   Lang::kThai, held)
                .status()
                .code(),
            StatusCode::kNotFound);
  auto summary = results_->Summary(Actor::Public(), round_.id, ResultStage::kPublished);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString(false);
  EXPECT_EQ(json::parse(summary->document)["agencies"].size(), expected["agencies"].size());
  auto ready = results_->ReadinessOf(admin_, round_.id);
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->agencies_scored, static_cast<int64_t>(expected["agencies"].size()));
}

// The public list of a result at any size: sorted by Thai name (the agencies' sort keys), by
// parent then name, or by score; searched by code or name, the agency's or its parent's;
// filtered by kind and parent; paged — in SQL over the result's rows.
TEST_P(ServiceTest, AResultsAgenciesAreListedSortedSearchedAndPagedInTheDatabase) {
  // Renamed so that Thai order differs from the codes' and the names' byte order.
  ASSERT_TRUE(directory_
                  ->UpsertAgencies(
                      admin_, {{"OCS", {"เกาะสมุย", "Ko Samui"}, "department", "PMO", {}},
                               {"BOI", {"ขอนแก่น", "Khon Kaen"}, "department", "PMO", {}},
                               {"OGGP", {"โคราช", "Korat"}, "department", "PMO", {}},
                               {"DLIS", {"งาว", "Ngao"}, "department", "MOL", {}},
                               {"DCLS", {"จันทบุรี", "Chanthaburi"}, "department", "MOL", {}},
                               {"DSD", {"ฉะเชิงเทรา", "Chachoengsao"}, "department", "MOL", {}}})
                  .ok());
  ASSERT_TRUE(cycle_->CloseReporting(admin_, round_.id, "ปิดรับรายงาน").ok());
  auto computed = results_->ComputePreliminary(admin_, round_.id);
  ASSERT_TRUE(computed.ok()) << computed.status().ToString(false);
  auto meta = results_->LatestMeta(admin_, round_.id, ResultStage::kPreliminary);
  ASSERT_TRUE(meta.ok());
  // Each page is asked twice: in SQL, and from the list index the pages keep (built from the
  // rows and the directory once); both must give the same agencies, rows and count.
  auto index = ResultListIndex::Build(*db_, meta->rows_from);
  ASSERT_TRUE(index.ok()) << index.status().ToString(false);
  auto list = [&](ListQuery query) {
    auto page = ListResultAgencies(*db_, meta->rows_from, query);
    EXPECT_TRUE(page.ok()) << page.status().ToString(false);
    auto kept = ListResultAgencies(*db_, meta->rows_from, query, **index);
    EXPECT_TRUE(kept.ok()) << kept.status().ToString(false);
    std::string out, from_index;
    if (!page.ok() || !kept.ok()) return out;
    auto line = [](const ListedAgency& a) {
      return a.code + "," + a.name_th + "," + a.name_en + "," + a.kind + "," + a.parent + "," +
             a.parent_name_th + "," + a.parent_name_en + "," +
             (a.total ? std::to_string(*a.total) : "-") + "," + std::to_string(a.grade);
    };
    for (const auto& a : page->items) {
      out += (out.empty() ? "" : " ") + a.code;
      from_index += line(a) + ";";
    }
    std::string index_lines;
    for (const auto& a : kept->items) index_lines += line(a) + ";";
    EXPECT_EQ(index_lines, from_index) << "the list index differs from SQL";
    EXPECT_EQ(kept->total, page->total) << "the list index counts differently from SQL";
    return out + " (" + std::to_string(page->total) + ")";
  };
  ListQuery by_name;
  by_name.sort = ListSort::kName;
  EXPECT_EQ(list(by_name), "OCS BOI OGGP DLIS DCLS DSD (6)");
  by_name.descending = true;
  EXPECT_EQ(list(by_name), "DSD DCLS DLIS OGGP BOI OCS (6)");
  by_name.descending = false;
  by_name.limit = 4;
  by_name.offset = 4;
  EXPECT_EQ(list(by_name), "DCLS DSD (6)");
  ListQuery by_parent;  // กระทรวงแรงงาน before สำนักนายกรัฐมนตรี; names ascending within
  EXPECT_EQ(list(by_parent), "DLIS DCLS DSD OCS BOI OGGP (6)");
  by_parent.descending = true;
  EXPECT_EQ(list(by_parent), "OCS BOI OGGP DLIS DCLS DSD (6)");
  // By score: the totals as stored, best first (ties by code), the unscored last.
  auto totals = db_->Query("SELECT agency_code, total FROM result_totals WHERE result_id = ?",
                           {meta->rows_from});
  ASSERT_TRUE(totals.ok());
  ASSERT_EQ(totals->size(), 6u);
  std::vector<std::pair<double, std::string>> ranked;
  for (const storage::Row& r : *totals)
    ranked.push_back({r.IsNull(1) ? -1e300 : r.Real(1), r.Text(0)});
  std::sort(ranked.begin(), ranked.end(), std::greater<>());
  std::string expected;
  for (const auto& [total, code] : ranked) expected += (expected.empty() ? "" : " ") + code;
  ListQuery by_score;
  by_score.sort = ListSort::kScore;
  by_score.descending = true;
  EXPECT_EQ(list(by_score), expected + " (6)");
  std::string reversed;  // worst first: the same order read backwards
  for (auto it = ranked.rbegin(); it != ranked.rend(); ++it)
    reversed += (reversed.empty() ? "" : " ") + it->second;
  by_score.descending = false;
  EXPECT_EQ(list(by_score), reversed + " (6)");
  ListQuery search;
  search.sort = ListSort::kName;
  search.q = "ขอน";
  EXPECT_EQ(list(search), "BOI (1)");
  search.q = "แรงงาน";  // the parent's name: กระทรวงแรงงาน
  EXPECT_EQ(list(search), "DLIS DCLS DSD (3)");
  search.offset = 10;  // past the end: no agency, still the count
  EXPECT_EQ(list(search), " (3)");
  search.offset = 0;
  search.q = "pmo";  // the parent's code, in another case
  EXPECT_EQ(list(search), "OCS BOI OGGP (3)");
  search.q = "korat";
  EXPECT_EQ(list(search), "OGGP (1)");
  search.q = "%";
  EXPECT_EQ(list(search), " (0)");
  ListQuery filtered;
  filtered.sort = ListSort::kName;
  filtered.parent = "MOL";
  EXPECT_EQ(list(filtered), "DLIS DCLS DSD (3)");
  filtered.parent = "";
  filtered.kind = "ministry";
  EXPECT_EQ(list(filtered), " (0)");
  auto kinds = KindsInResult(*db_, meta->rows_from);
  ASSERT_TRUE(kinds.ok());
  EXPECT_EQ(*kinds, std::vector<std::string>{"department"});
  EXPECT_EQ((*index)->kinds(), *kinds);

  // A rename moves the directory's version, so that a kept index is built again, in the new
  // order; nothing else (a user made) moves it.
  auto version = DirectoryVersion(*db_);
  ASSERT_TRUE(version.ok());
  ASSERT_TRUE(directory_->CreateUser(admin_, {"x.user", "x", "password-x.user", Role::kEvaluator, ""})
                  .ok());
  EXPECT_EQ(*DirectoryVersion(*db_), *version);
  ASSERT_TRUE(directory_
                  ->UpsertAgencies(admin_, {{"DSD", {"กรุงเทพ", "Bangkok"}, "department", "MOL", {}}})
                  .ok());
  auto renamed = DirectoryVersion(*db_);
  ASSERT_TRUE(renamed.ok());
  EXPECT_GT(*renamed, *version);
  index = ResultListIndex::Build(*db_, meta->rows_from);
  ASSERT_TRUE(index.ok());
  ListQuery after_rename;
  after_rename.sort = ListSort::kName;
  EXPECT_EQ(list(after_rename), "DSD OCS BOI OGGP DLIS DCLS (6)");
}

// The admin's directory a page at a time, searched, filtered and sorted in SQL.
TEST_P(ServiceTest, TheDirectoryIsListedAPageAtATime) {
  ASSERT_TRUE(directory_
                  ->UpsertAgencies(
                      admin_, {{"OCS", {"เกาะสมุย", "Ko Samui"}, "department", "PMO", {}},
                               {"BOI", {"ขอนแก่น", "Khon Kaen"}, "department", "PMO", {}},
                               {"DLIS", {"งาว", "Ngao"}, "department", "MOL", {}}})
                  .ok());
  auto all = directory_->Agencies();
  ASSERT_TRUE(all.ok());
  // Each page asked in SQL and from the directory's list index (what the admin's page keeps):
  // the same agencies, names and count.
  auto index = ResultListIndex::BuildDirectory(*db_);
  ASSERT_TRUE(index.ok()) << index.status().ToString(false);
  auto list = [&](const Directory::AgencyQuery& query) {
    auto page = directory_->ListAgencies(admin_, query);
    EXPECT_TRUE(page.ok()) << page.status().ToString(false);
    auto kept = directory_->ListAgencies(admin_, query, **index);
    EXPECT_TRUE(kept.ok()) << kept.status().ToString(false);
    std::string out;
    if (!page.ok() || !kept.ok()) return out;
    EXPECT_EQ(page->items.size(), page->parent_names.size());
    auto lines = [](const Directory::AgencyPage& p) {
      std::string text;
      for (size_t i = 0; i < p.items.size(); ++i) {
        text += p.items[i].code + "," + p.items[i].name.th + "," + p.items[i].kind + "," +
                p.items[i].parent + "," + p.parent_names[i].th + ";";
      }
      return text + std::to_string(p.total);
    };
    EXPECT_EQ(lines(*kept), lines(*page)) << "the directory's list index differs from SQL";
    for (const auto& a : page->items) out += (out.empty() ? "" : " ") + a.code;
    return out + " (" + std::to_string(page->total) + ")";
  };
  Directory::AgencyQuery by_name;
  by_name.by_name = true;
  by_name.parent = "PMO";
  // เกาะสมุย, ขอนแก่น, สำนักงาน ก.พ.ร. in Thai order (not the codes' or the bytes' order)
  EXPECT_EQ(list(by_name), "OCS BOI OGGP (3)");
  by_name.descending = true;
  EXPECT_EQ(list(by_name), "OGGP BOI OCS (3)");
  Directory::AgencyQuery paged;
  paged.limit = 2;
  auto first = directory_->ListAgencies(admin_, paged);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->total, static_cast<int64_t>(all->size()));
  paged.offset = static_cast<int64_t>(all->size());  // past the end: none, still the count
  EXPECT_EQ(list(paged), " (" + std::to_string(all->size()) + ")");
  Directory::AgencyQuery search;
  search.q = "ขอน";
  EXPECT_EQ(list(search), "BOI (1)");
  search.q = "khon KAEN";  // Latin letters in any case
  EXPECT_EQ(list(search), "BOI (1)");
  search.q = "mol";  // the parent's code: its agencies (and the parent itself, by its code)
  search.kind = "department";
  EXPECT_FALSE(list(search).empty());  // the index agrees with SQL here too
  auto of_mol = directory_->ListAgencies(admin_, search);
  ASSERT_TRUE(of_mol.ok());
  std::set<std::string> expected, got;
  for (const auto& a : *all) {
    if (a.parent == "MOL" && a.kind == "department") expected.insert(a.code);
  }
  for (const auto& a : of_mol->items) got.insert(a.code);
  EXPECT_TRUE(expected.count("DLIS"));
  EXPECT_EQ(got, expected);
  EXPECT_EQ(of_mol->total, static_cast<int64_t>(expected.size()));
  search.q = "%";
  search.kind = "";
  EXPECT_EQ(list(search), " (0)");
  EXPECT_EQ(directory_->ListAgencies(reporter_, {}).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(directory_->ListAgencies(reporter_, {}, **index).status().code(),
            StatusCode::kPermissionDenied);
}

// An import of more values than one statement writes: every value lands, one given twice
// keeps the later (as does one already stored), and an unknown agency fails the whole import
// with the place of its line, writing nothing.
TEST_P(ServiceTest, AnImportKeepsTheLaterOfAValueGivenTwiceAndNamesAnUnknownAgency) {
  auto value = [](const std::string& agency, const std::string& variable, double v) {
    domain::Observation o;
    o.agency = agency;
    o.kpi = "import-test";
    o.variable = variable;
    o.fiscal_year = 2567;
    o.values = {v};
    return o;
  };
  ASSERT_TRUE(cycle_->ImportObservations(admin_, {value("OCS", "x", 1)}).ok());
  std::vector<domain::Observation> many = {value("OCS", "x", 2)};
  for (int i = 0; i < 1199; ++i) many.push_back(value("OCS", "v" + std::to_string(i), i));
  many.push_back(value("OCS", "x", 3));
  many.insert(many.begin() + 10, value("OCS", "v3", 33));  // twice within one statement's rows
  ASSERT_TRUE(cycle_->ImportObservations(admin_, many).ok());
  auto stored = cycle_->ObservationsOf("OCS");
  ASSERT_TRUE(stored.ok());
  std::map<std::string, double> by_variable;
  for (const domain::Observation& o : *stored) {
    if (o.kpi == "import-test") by_variable[o.variable] = o.values.at(0);
  }
  EXPECT_EQ(by_variable.size(), 1200u);
  EXPECT_EQ(by_variable["x"], 3);
  EXPECT_EQ(by_variable["v3"], 33);
  EXPECT_EQ(by_variable["v1198"], 1198);

  std::vector<domain::Observation> unknown = {value("OCS", "y", 5), value("NOPE", "z", 1)};
  unknown[1].where = {"data.csv", "", 7};
  Status refused = cycle_->ImportObservations(admin_, unknown);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidInput);
  EXPECT_NE(refused.message_en().find("no agency \"NOPE\""), std::string::npos);
  EXPECT_EQ(refused.where().line, 7);
  stored = cycle_->ObservationsOf("OCS");
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(std::none_of(stored->begin(), stored->end(),
                           [](const domain::Observation& o) { return o.variable == "y"; }));
}

// A stored value is read back as written, by the reader of a page's agencies (Query) and by the
// computation's (ScanText) alike: a list, a whole number, an exponent; text esar does not write
// itself (a '+', spaces, a hexadecimal number, one too large for a double) as strtod reads it;
// and text that is no number is refused with the agency named, by both readers.
TEST_P(ServiceTest, StoredValuesAreReadAsWrittenAndUnreadableOnesSaySo) {
  const std::vector<std::pair<std::string, std::vector<double>>> stored = {
      {"1.5;-2e-05;1e+16", {1.5, -2e-05, 1e16}},
      {"42", {42}},
      {" +5; -0x10", {5, -16}},
      {"1e400", {HUGE_VAL}},
  };
  for (size_t i = 0; i < stored.size(); ++i) {
    ASSERT_TRUE(db_->Execute("INSERT INTO observations (agency_code, kpi, variable, fiscal_year, "
                             "round, value) VALUES ('OCS', 'text-test', ?, 2567, 12, ?)",
                             {"v" + std::to_string(i), stored[i].first})
                    .ok());
  }
  auto check = [&](const std::vector<domain::Observation>& read, const std::string& reader) {
    std::map<std::string, std::vector<double>> by_variable;
    for (const domain::Observation& o : read) {
      if (o.kpi == "text-test") by_variable[o.variable] = o.values;
    }
    ASSERT_EQ(by_variable.size(), stored.size()) << reader;
    for (size_t i = 0; i < stored.size(); ++i)
      EXPECT_EQ(by_variable["v" + std::to_string(i)], stored[i].second) << reader << " " << i;
  };
  auto of_one = cycle_->ObservationsOf("OCS");
  ASSERT_TRUE(of_one.ok()) << of_one.status().ToString(false);
  check(*of_one, "ObservationsOf");
  std::vector<domain::Observation> appended;
  ASSERT_TRUE(cycle_->AppendObservationsOf({"OCS"}, appended).ok());
  check(appended, "AppendObservationsOf");

  ASSERT_TRUE(db_->Execute("INSERT INTO observations (agency_code, kpi, variable, fiscal_year, "
                           "round, value) VALUES ('OCS', 'text-test', 'bad', 2567, 12, '7;x')")
                  .ok());
  auto refused = cycle_->ObservationsOf("OCS");
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(refused.status().message_en().find("agency OCS cannot be read: 7;x"), std::string::npos)
      << refused.status().ToString(false);
  appended.clear();
  Status also_refused = cycle_->AppendObservationsOf({"OCS"}, appended);
  EXPECT_EQ(also_refused.code(), StatusCode::kDataLoss);
  EXPECT_NE(also_refused.message_en().find("agency OCS cannot be read: 7;x"), std::string::npos);
  EXPECT_EQ(cycle_->Observations().status().code(), StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServiceTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

// A round of more agencies than ScoreAndStore scores at once (500): scored slice by slice, a
// helper thread scoring one while the other's rows are inserted, it stores what the engine gives
// scoring every agency together, and the digest made from memory is the rows' own (the audit
// log's check of the live state finds nothing).
class SlicedResultsTest : public esar::testing::ServiceFixture {};

// A connection that passes everything to `inner`, counting the reads made with ScanText (the
// values of a slice of agencies).
class ReadsCounted final : public storage::Database {
 public:
  explicit ReadsCounted(storage::Database& inner) : inner_(inner) {}
  Result<storage::Rows> Query(std::string_view sql,
                              const std::vector<storage::Value>& params) override {
    return inner_.Query(sql, params);
  }
  Status ScanText(std::string_view sql, const std::vector<storage::Value>& params,
                  const std::function<Status(const storage::TextRow&)>& each) override {
    ++scans;
    return inner_.ScanText(sql, params, each);
  }
  Status ExecuteScript(std::string_view sql) override { return inner_.ExecuteScript(sql); }
  storage::Dialect dialect() const override { return inner_.dialect(); }
  int scans = 0;

 protected:
  Status Begin() override { return Status::Internal("ReadsCounted only reads"); }
  Status BulkInsertRows(std::string_view, const std::vector<std::string>&,
                        const std::function<bool(std::vector<storage::Value>&)>&) override {
    return Status::Internal("ReadsCounted only reads");
  }

 private:
  storage::Database& inner_;
};

TEST_P(SlicedResultsTest, ARoundOfManyAgenciesIsStoredAsTheEngineScoresItWhole) {
  // The example's framework, its shared KPIs assigned to 1,150 more agencies besides its own six
  // (three slices in all). Each new agency has the values of one of the example's five other
  // than OCS, in turn, so that their totals differ.
  json framework = json::parse(ReadText(esar::testing::OcsExample() / "framework.json"));
  json& shared_rule = framework["assignments"][0];
  ASSERT_TRUE(shared_rule["agencies"].size() == 6u);
  auto listed = directory_->Agencies();
  ASSERT_TRUE(listed.ok());
  std::map<std::string, domain::Agency> sources;
  for (const domain::Agency& a : *listed) {
    const json& own = shared_rule["agencies"];
    if (a.code != "OCS" && std::find(own.begin(), own.end(), a.code) != own.end())
      sources.emplace(a.code, a);
  }
  ASSERT_EQ(sources.size(), 5u);
  std::vector<std::string> source_of;  // by new agency
  std::vector<domain::Agency> added;
  for (size_t i = 0; i < 1150; ++i) {
    auto like = std::next(sources.begin(), static_cast<std::ptrdiff_t>(i % sources.size()));
    domain::Agency a = like->second;
    a.code = fmt::format("X{:04}", i);
    a.name = {"หน่วยงานทดสอบ " + std::to_string(i), "Test agency " + std::to_string(i)};
    a.email.reset();
    added.push_back(a);
    source_of.push_back(like->first);
    shared_rule["agencies"].push_back(a.code);
  }
  ASSERT_TRUE(directory_->UpsertAgencies(admin_, added).ok());
  auto imported_framework = cycle_->ImportFramework(admin_, framework.dump());
  ASSERT_TRUE(imported_framework.ok()) << imported_framework.status().ToString(false);
  auto round = cycle_->OpenRound(admin_, imported_framework->id, 12, kJan2024 + 30 * kDay);
  ASSERT_TRUE(round.ok()) << round.status().ToString(false);
  auto data = formats::LoadObservations((esar::testing::OcsExample() / "data.csv").string());
  ASSERT_TRUE(data.ok());
  std::vector<domain::Observation> values;
  std::map<std::string, json> ocs_reports;  // OCS's FY2567 values, reported through the workflow
  for (const domain::Observation& o : *data) {
    if (o.agency == "OCS" && o.fiscal_year == 2567) {
      ocs_reports[o.kpi][o.variable] = o.values.size() == 1 ? json(o.values[0]) : json(o.values);
      continue;
    }
    values.push_back(o);
    for (size_t i = 0; i < added.size(); ++i) {
      if (source_of[i] != o.agency) continue;
      values.push_back(o);
      values.back().agency = added[i].code;
    }
  }
  ASSERT_TRUE(cycle_->ImportObservations(admin_, values).ok());
  for (const auto& [kpi, reported] : ocs_reports) {
    auto draft =
        reporting_->SaveDraft(reporter_, round->id, "OCS", {kpi, reported.dump(), "", "", ""});
    ASSERT_TRUE(draft.ok()) << draft.status().ToString(false);
    ASSERT_TRUE(reporting_->Approve(approver_, draft->id).ok());
    ASSERT_TRUE(reporting_->Submit(approver_, draft->id).ok());
    auto accepted = reporting_->Accept(evaluator_, draft->id, {});
    ASSERT_TRUE(accepted.ok()) << accepted.status().ToString(false);
  }

  // The engine's scores of every agency at once, from the same values.
  auto agencies = directory_->Agencies();
  ASSERT_TRUE(agencies.ok());
  auto all_values = cycle_->Observations();
  ASSERT_TRUE(all_values.ok());
  auto accepted = reporting_->AcceptedValues(round->id);
  ASSERT_TRUE(accepted.ok());
  ASSERT_FALSE(accepted->empty());
  all_values->insert(all_values->end(), accepted->begin(), accepted->end());
  auto engine = domain::Engine::Compile(imported_framework->framework, 12);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString(false);
  const std::vector<domain::AgencyScore> whole = engine->Score(*agencies, *all_values, false);
  ASSERT_EQ(whole.size(), 1156u);

  clock_.Set(round->deadline + 1);
  auto computed = results_->ComputePreliminary(admin_, round->id, 0);
  ASSERT_TRUE(computed.ok()) << computed.status().ToString(false);
  auto totals = db_->Query("SELECT agency_code, total FROM result_totals WHERE result_id = ?",
                           {computed->rows_from});
  ASSERT_TRUE(totals.ok());
  auto kpis = db_->Query("SELECT agency_code, kpi, score FROM result_kpis WHERE result_id = ?",
                         {computed->rows_from});
  ASSERT_TRUE(kpis.ok());
  std::map<std::string, double> want_totals;
  std::map<std::pair<std::string, std::string>, double> want_kpis;
  std::function<void(const std::string&, const domain::KpiScore&)> add_kpi =
      [&](const std::string& agency, const domain::KpiScore& k) {
        want_kpis[{agency, k.kpi}] = k.score;
        for (const domain::KpiScore& sub : k.sub_kpis) add_kpi(agency, sub);
      };
  for (const domain::AgencyScore& a : whole) {
    want_totals[a.agency] = a.total;
    for (const domain::KpiScore& k : a.kpis) add_kpi(a.agency, k);
  }
  // A value NaN when the engine scored none, the stored NULL then.
  auto same = [](const storage::Row& r, size_t column, double want) {
    return std::isnan(want) ? r.IsNull(column) : !r.IsNull(column) && r.Real(column) == want;
  };
  ASSERT_EQ(totals->size(), want_totals.size());
  std::set<double> distinct;
  for (const storage::Row& r : *totals) {
    ASSERT_TRUE(want_totals.count(r.Text(0))) << r.Text(0);
    EXPECT_TRUE(same(r, 1, want_totals.at(r.Text(0)))) << r.Text(0);
    if (!r.IsNull(1)) distinct.insert(r.Real(1));
  }
  EXPECT_GE(distinct.size(), 3u);
  ASSERT_EQ(kpis->size(), want_kpis.size());
  for (const storage::Row& r : *kpis) {
    ASSERT_TRUE(want_kpis.count({r.Text(0), r.Text(1)})) << r.Text(0) << " " << r.Text(1);
    EXPECT_TRUE(same(r, 2, want_kpis.at({r.Text(0), r.Text(1)}))) << r.Text(0) << " " << r.Text(1);
  }
  auto verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
  EXPECT_GT(verified->entities, 0);

  // Computed again with a reader connection (ReadValuesThrough): the second and third slices'
  // values are read through it, while this connection stores. The rows are the same, and so is
  // the audit's view of them.
  auto opened = storage::Open(url_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString(false);
  ReadsCounted reader(**opened);
  results_->ReadValuesThrough(&reader);
  auto again = results_->ComputePreliminary(admin_, round->id, 0);
  results_->ReadValuesThrough(nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString(false);
  ASSERT_NE(again->rows_from, computed->rows_from);
  EXPECT_EQ(reader.scans, 2);
  const std::string kpi_rows =
      "SELECT agency_code, kpi, parent_kpi, kpi_key, status, result, score, level, group_id, "
      "weight, weighted FROM result_kpis WHERE result_id = ? ORDER BY agency_code, kpi";
  const std::string total_rows =
      "SELECT agency_code, kind, parent, total, grade, scored_weight, status, inputs FROM "
      "result_totals WHERE result_id = ? ORDER BY agency_code";
  for (const std::string& sql : {kpi_rows, total_rows}) {
    auto first = db_->Query(sql, {computed->rows_from});
    auto second = db_->Query(sql, {again->rows_from});
    ASSERT_TRUE(first.ok() && second.ok());
    ASSERT_EQ(first->size(), second->size());
    for (size_t i = 0; i < first->size(); ++i) {
      for (size_t c = 0; c < (*first)[i].size(); ++c)
        ASSERT_TRUE((*first)[i][c] == (*second)[i][c]) << sql << " row " << i << " column " << c;
    }
  }
  verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->whole()) << verified->problem_en;

  // A reader of another database is not read through: on SQLite, an in-memory database is its
  // connection's own.
  if (db_->dialect() == storage::Dialect::kSqlite) {
    auto elsewhere = storage::Open(":memory:");
    ASSERT_TRUE(elsewhere.ok()) << elsewhere.status().ToString(false);
    ReadsCounted stranger(**elsewhere);
    results_->ReadValuesThrough(&stranger);
    auto third = results_->ComputePreliminary(admin_, round->id, 0);
    results_->ReadValuesThrough(nullptr);
    ASSERT_TRUE(third.ok()) << third.status().ToString(false);
    EXPECT_EQ(stranger.scans, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, SlicedResultsTest,
                         ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

// Explanations derived on request (the frozen framework version and the values kept, scored
// again) equal the text formats::ScoresJson gives at compute time, in Thai and in English, for
// every example: one agency's and the whole round's.
class DerivedExplanationTest
    : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(DerivedExplanationTest, EqualWhatScoresJsonGivesAtComputeTime) {
  const auto& [backend, example] = GetParam();
  ESAR_SKIP_WITHOUT(backend);
  auto db = esar::testing::FreshDatabase(backend);
  ASSERT_NE(db, nullptr);
  FakeClock clock(kJan2024);
  security::PasswordHasher hasher{security::HashStrength::kMinimum, {4, 64, 60'000}};
  Directory directory(*db, clock, &hasher);
  Cycle cycle(*db, clock);
  Results results(*db, clock);
  const fs::path dir = fs::path(ESAR_SOURCE_DIR) / "examples" / example;
  auto agencies = formats::LoadAgencies((dir / "agencies.csv").string());
  ASSERT_TRUE(agencies.ok());
  ASSERT_TRUE(directory.UpsertAgencies(Actor::System(), *agencies).ok());
  auto admin_id = directory.CreateUser(
      Actor::System(), {"admin.x", "admin.x", "password-admin.x", Role::kAdmin, ""});
  ASSERT_TRUE(admin_id.ok()) << admin_id.status().ToString(false);
  const Actor admin{*admin_id, Role::kAdmin, "", "admin.x"};
  const std::string text = ReadText(dir / "framework.json");
  auto stored = cycle.ImportFramework(admin, text);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString(false);
  const json expected = json::parse(ReadText(dir / "expected.json"));
  const int round_months = expected["round"].get<int>();
  auto round = cycle.OpenRound(admin, stored->id, round_months, kJan2024 + kDay);
  ASSERT_TRUE(round.ok()) << round.status().ToString(false);
  auto data = formats::LoadObservations((dir / "data.csv").string());
  ASSERT_TRUE(data.ok());
  ASSERT_TRUE(cycle.ImportObservations(admin, *data).ok());
  clock.Advance(2 * kDay);
  auto computed = results.ComputePreliminary(admin, round->id);
  ASSERT_TRUE(computed.ok()) << computed.status().ToString(false);

  // Today's text: the engine with explanations over the same values, written at once.
  auto framework = formats::ParseFramework(text, "framework.json");
  ASSERT_TRUE(framework.ok());
  auto engine = domain::Engine::Compile(*framework, round_months);
  ASSERT_TRUE(engine.ok());
  auto in_order = directory.Agencies();
  ASSERT_TRUE(in_order.ok());
  // KPIs computed from other agencies' results are filled in first, as computing does.
  ASSERT_TRUE(domain::FillFromAgencies(*engine, round_months, *in_order, {}, *data).ok());
  const auto scores = engine->Score(*in_order, *data, true);
  const formats::ScoreReport report{&*framework, &*in_order, &scores, round_months};
  const json th = formats::ScoresJson(report, true, Lang::kThai);
  const json en = formats::ScoresJson(report, true, Lang::kEnglish);
  ASSERT_EQ(th["agencies"].size(), expected["agencies"].size());
  for (size_t i = 0; i < th["agencies"].size(); ++i) {
    const std::string code = th["agencies"][i]["code"];
    auto one = results.LatestForAgency(admin, round->id, ResultStage::kPreliminary, code);
    ASSERT_TRUE(one.ok()) << code << ": " << one.status().ToString(false);
    const json part = json::parse(one->document);
    EXPECT_EQ(part["agency"], th["agencies"][i]) << code;
    EXPECT_EQ(part["agency_en"], en["agencies"][i]) << code;
    EXPECT_EQ(part["fiscal_year"], th["fiscal_year"]);
    EXPECT_EQ(part["round"], round_months);
    EXPECT_FALSE(part["agency"]["kpis"][0]["explanation"].empty());
  }
  // Again in reverse order: the engine kept for the frozen framework scores each agency the
  // same, whatever it scored before.
  for (size_t i = th["agencies"].size(); i-- > 0;) {
    const std::string code = th["agencies"][i]["code"];
    auto one = results.LatestForAgency(admin, round->id, ResultStage::kPreliminary, code);
    ASSERT_TRUE(one.ok()) << code << ": " << one.status().ToString(false);
    const json part = json::parse(one->document);
    EXPECT_EQ(part["agency"], th["agencies"][i]) << code;
    EXPECT_EQ(part["agency_en"], en["agencies"][i]) << code;
  }
  json whole = th;
  whole["explanation_en"] = en["agencies"];
  auto latest = results.Latest(admin, round->id, ResultStage::kPreliminary);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString(false);
  EXPECT_EQ(json::parse(latest->document), whole);
}

INSTANTIATE_TEST_SUITE_P(
    BackendsAndExamples, DerivedExplanationTest,
    ::testing::Combine(::testing::ValuesIn(esar::testing::Backends()),
                       ::testing::Values("ocs-2567", "opdc-2565", "mof-ops-2564")),
    [](const auto& param_info) {
      std::string name = std::get<0>(param_info.param) + "_" + std::get<1>(param_info.param);
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

// The review queue scores a page's agencies from the values of its listed KPIs and of those
// they read only (domain::KpisReadToScore). For every KPI and sub-KPI of every example, each
// agency's score of it from those values alone is its score from all of them.
TEST(KpisReadToScoreTest, ScoringWithTheirValuesOnlyGivesEachKpiItsWholeScore) {
  size_t compared = 0;
  size_t narrower = 0;
  for (const char* example : {"ocs-2567", "opdc-2565", "mof-ops-2564"}) {
    SCOPED_TRACE(example);
    const fs::path dir = fs::path(ESAR_SOURCE_DIR) / "examples" / example;
    auto framework = formats::ParseFramework(ReadText(dir / "framework.json"), "framework.json");
    ASSERT_TRUE(framework.ok()) << framework.status().ToString(false);
    auto agencies = formats::LoadAgencies((dir / "agencies.csv").string());
    ASSERT_TRUE(agencies.ok());
    auto data = formats::LoadObservations((dir / "data.csv").string());
    ASSERT_TRUE(data.ok());
    const int round = json::parse(ReadText(dir / "expected.json"))["round"].get<int>();
    auto engine = domain::Engine::Compile(*framework, round);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString(false);
    ASSERT_TRUE(domain::FillFromAgencies(*engine, round, *agencies, {}, *data).ok());
    const std::vector<domain::AgencyScore> whole = engine->Score(*agencies, *data, true);
    std::vector<std::string> ids;
    std::function<void(const std::vector<domain::Kpi>&)> collect =
        [&](const std::vector<domain::Kpi>& kpis) {
          for (const domain::Kpi& k : kpis) {
            ids.push_back(k.id);
            collect(k.sub_kpis);
          }
        };
    collect(framework->kpis);
    for (const std::string& id : ids) {
      const std::set<std::string> read = domain::KpisReadToScore(framework->kpis, {id});
      ASSERT_TRUE(read.count(id)) << id;
      if (read.size() < ids.size()) ++narrower;
      std::vector<domain::Observation> theirs;
      for (const domain::Observation& o : *data) {
        if (read.count(o.kpi)) theirs.push_back(o);
      }
      const std::vector<domain::AgencyScore> alone = engine->Score(*agencies, theirs, true);
      ASSERT_EQ(alone.size(), whole.size());
      for (size_t a = 0; a < whole.size(); ++a) {
        const domain::KpiScore* expected = domain::FindKpiScore(whole[a].kpis, id);
        const domain::KpiScore* got = domain::FindKpiScore(alone[a].kpis, id);
        ASSERT_EQ(expected == nullptr, got == nullptr) << whole[a].agency << " " << id;
        if (!expected) continue;
        SCOPED_TRACE(whole[a].agency + " KPI " + id);
        EXPECT_EQ(got->status, expected->status);
        EXPECT_EQ(std::isnan(got->result), std::isnan(expected->result));
        if (!std::isnan(expected->result)) {
          EXPECT_DOUBLE_EQ(got->result, expected->result);
        }
        EXPECT_DOUBLE_EQ(got->score, expected->score);
        EXPECT_EQ(got->level, expected->level);
        EXPECT_EQ(got->group, expected->group);
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 100u);
  EXPECT_GT(narrower, 10u);  // most KPIs read fewer KPIs' values than the framework has
}

// What a KPI's score reads: its whole top-level KPI (a parent and its sub-KPIs) and, in turn,
// what the KPIs it refers to read; references in a circle end.
TEST(KpisReadToScoreTest, ReadsTheTopLevelKpiAndWhatItRefersTo) {
  auto framework = formats::ParseFramework(
      ReadText(fs::path(ESAR_SOURCE_DIR) / "examples" / "ocs-2567" / "framework.json"),
      "framework.json");
  ASSERT_TRUE(framework.ok());
  using Ids = std::set<std::string>;
  EXPECT_EQ(domain::KpisReadToScore(framework->kpis, {"7"}), (Ids{"6", "7"}));  // p66 of KPI 6
  EXPECT_EQ(domain::KpisReadToScore(framework->kpis, {"6"}), (Ids{"6"}));
  EXPECT_EQ(domain::KpisReadToScore(framework->kpis, {"7", "1", "nope"}), (Ids{"1", "6", "7"}));
  EXPECT_EQ(domain::KpisReadToScore(framework->kpis, {"nope"}), Ids{});
  auto mof = formats::ParseFramework(
      ReadText(fs::path(ESAR_SOURCE_DIR) / "examples" / "mof-ops-2564" / "framework.json"),
      "framework.json");
  ASSERT_TRUE(mof.ok());
  EXPECT_EQ(domain::KpisReadToScore(mof->kpis, {"4.2"}), (Ids{"4", "4.1", "4.2"}));
  std::vector<domain::Kpi> circle = {mof->kpis[0], mof->kpis[1]};
  circle[0].references.push_back({"x", circle[1].id, circle[1].variables[0].id});
  circle[1].references.push_back({"y", circle[0].id, circle[0].variables[0].id});
  EXPECT_EQ(domain::KpisReadToScore(circle, {circle[0].id}), (Ids{circle[0].id, circle[1].id}));
}

}  // namespace
}  // namespace esar::service
