// The evaluation cycle through the services, on SQLite and on PostgreSQL: import, report, approve,
// submit, return, resubmit, accept, compute, appeal, decide, finalize, publish — with the scores
// checked against the engine's hand-checked expectations, the authorization rules, deadlines,
// logins, and the audit chain.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "formats/inputs.h"
#include "service/audit.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/reporting.h"
#include "service/results.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kExample = fs::path(ESAR_SOURCE_DIR) / "examples" / "ocs-2567";
constexpr int64_t kJan2024 = 1704067200000;  // 1 Jan 2024 00:00 UTC, inside FY2567
constexpr int64_t kDay = 24LL * 3600 * 1000;

// The agency with `code` in a scores document.
const json& ByCode(const json& document, const std::string& code) {
  for (const json& a : document["agencies"]) {
    if (a["code"] == code) return a;
  }
  static const json kNone = json::object();
  ADD_FAILURE() << "no agency " << code;
  return kNone;
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class ServiceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    db_ = esar::testing::FreshDatabase(GetParam());
    ASSERT_NE(db_, nullptr);
    directory_ = std::make_unique<Directory>(*db_, clock_, security::HashStrength::kMinimum);
    cycle_ = std::make_unique<Cycle>(*db_, clock_);
    reporting_ = std::make_unique<Reporting>(*db_, clock_);
    results_ = std::make_unique<Results>(*db_, clock_);

    auto agencies = formats::LoadAgencies((kExample / "agencies.csv").string());
    ASSERT_TRUE(agencies.ok());
    ASSERT_TRUE(directory_->UpsertAgencies(Actor::System(), *agencies).ok());
    admin_ = MakeUser("admin.opdc", Role::kAdmin, "");
    evaluator_ = MakeUser("evaluator.one", Role::kEvaluator, "");
    reporter_ = MakeUser("reporter.ocs", Role::kReporter, "OCS");
    approver_ = MakeUser("approver.ocs", Role::kApprover, "OCS");
    boi_reporter_ = MakeUser("reporter.boi", Role::kReporter, "BOI");

    auto framework = cycle_->ImportFramework(admin_, ReadText(kExample / "framework.json"));
    ASSERT_TRUE(framework.ok()) << framework.status().ToString(false);
    framework_ = *framework;
    auto round = cycle_->OpenRound(admin_, framework_.id, 12, kJan2024 + 30 * kDay);
    ASSERT_TRUE(round.ok()) << round.status().ToString(false);
    round_ = *round;

    // The baselines and every agency's values but OCS's are imported; OCS reports through the
    // workflow. Its values, grouped by KPI, become the reports.
    auto data = formats::LoadObservations((kExample / "data.csv").string());
    ASSERT_TRUE(data.ok());
    std::vector<domain::Observation> imported;
    for (const domain::Observation& o : *data) {
      if (o.agency == "OCS" && o.fiscal_year == 2567) {
        json& values = ocs_values_[o.kpi];
        values[o.variable] = o.values.size() == 1 ? json(o.values[0]) : json(o.values);
      } else {
        imported.push_back(o);
      }
    }
    ASSERT_TRUE(cycle_->ImportObservations(admin_, imported).ok());
  }

  Actor MakeUser(const std::string& name, Role role, const std::string& agency) {
    auto id =
        directory_->CreateUser(Actor::System(), {name, name, "password-" + name, role, agency});
    EXPECT_TRUE(id.ok()) << id.status().ToString(false);
    return Actor{id.ok() ? *id : 0, role, agency, name};
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

  FakeClock clock_{kJan2024};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<Cycle> cycle_;
  std::unique_ptr<Reporting> reporting_;
  std::unique_ptr<Results> results_;
  Actor admin_, evaluator_, reporter_, approver_, boi_reporter_;
  StoredFramework framework_;
  RoundInfo round_;
  std::map<std::string, json> ocs_values_;
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

  // Preliminary results equal the hand-checked expectations of the example.
  auto preliminary = results_->ComputePreliminary(admin_, round_.id);
  ASSERT_TRUE(preliminary.ok()) << preliminary.status().ToString(false);
  const json expected = json::parse(ReadText(kExample / "expected.json"));
  const json got = json::parse(preliminary->document);
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

  auto final_result = results_->Finalize(admin_, round_.id);
  ASSERT_TRUE(final_result.ok()) << final_result.status().ToString(false);
  const json fin = json::parse(final_result->document);
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

TEST_P(ServiceTest, LoginsAreThrottledAndSessionsExpire) {
  auto session = directory_->Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1");
  ASSERT_TRUE(session.ok()) << session.status().ToString(false);
  EXPECT_EQ(session->actor.agency, "OCS");
  auto found = directory_->FindSession(session->token);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->csrf_token, session->csrf_token);
  for (int i = 0; i < Directory::kMaxFailuresPerAccount; ++i) {
    EXPECT_EQ(directory_->Login("reporter.ocs", "wrong", "10.0.0.1").status().code(),
              StatusCode::kUnauthenticated);
  }
  // Now even the right password waits.
  EXPECT_EQ(directory_->Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1").status().code(),
            StatusCode::kTooManyRequests);
  clock_.Advance(Directory::kThrottleWindowMs + 1);
  EXPECT_TRUE(directory_->Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1").ok());
  EXPECT_EQ(directory_->Login("nobody", "x", "127.0.0.1").status().code(),
            StatusCode::kUnauthenticated);
  clock_.Advance(Directory::kSessionLifetimeMs);
  EXPECT_EQ(directory_->FindSession(session->token).status().code(), StatusCode::kUnauthenticated);
  auto token = directory_->CreateApiToken(admin_, "ci");
  ASSERT_TRUE(token.ok());
  auto machine = directory_->FindApiToken(*token);
  ASSERT_TRUE(machine.ok());
  EXPECT_EQ(machine->role, Role::kAdmin);
}

TEST_P(ServiceTest, LoginsAreThrottledPerAddressToo) {
  // Many names tried from one address: the address waits, whatever the name; others do not.
  for (int i = 0; i < Directory::kMaxFailuresPerAddress; ++i) {
    EXPECT_EQ(directory_->Login("guess" + std::to_string(i), "wrong", "10.9.9.9").status().code(),
              StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(directory_->Login("reporter.ocs", "password-reporter.ocs", "10.9.9.9").status().code(),
            StatusCode::kTooManyRequests);
  EXPECT_TRUE(directory_->Login("reporter.ocs", "password-reporter.ocs", "127.0.0.1").ok());
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

INSTANTIATE_TEST_SUITE_P(Backends, ServiceTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
