// The central office's setup work through the services, on SQLite and on PostgreSQL: rounds with
// a start date, their extensions changed and removed; each refused with a message in Thai and
// English when wrong, harmless when done twice, consistent when two admins do it at once, and
// audited so that `esar audit verify` finds the data what the log recorded.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/thai.h"
#include "formats/inputs.h"
#include "service/audit.h"
#include "service/audit_trail.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/reporting.h"
#include "storage/pool.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kExample = fs::path(ESAR_SOURCE_DIR) / "examples" / "ocs-2567";
constexpr int64_t kJan2024 = 1704067200000;  // 1 Jan 2024 00:00 UTC, inside FY2567
constexpr int64_t kDay = 24LL * 3600 * 1000;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class AdminTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    db_ = esar::testing::FreshDatabase(GetParam(), &url_);
    ASSERT_NE(db_, nullptr);
    pool_ = std::make_unique<storage::DatabasePool>(url_, 4);
    directory_ = std::make_unique<Directory>(*db_, clock_, &hasher_);
    cycle_ = std::make_unique<Cycle>(*db_, clock_);
    auto agencies = formats::LoadAgencies((kExample / "agencies.csv").string());
    ASSERT_TRUE(agencies.ok());
    ASSERT_TRUE(directory_->UpsertAgencies(Actor::System(), *agencies).ok());
    admin_ = MakeUser("admin.opdc", Role::kAdmin, "");
    other_admin_ = MakeUser("admin.two", Role::kAdmin, "");
    reporter_ = MakeUser("reporter.ocs", Role::kReporter, "OCS");
    evaluator_ = MakeUser("evaluator.one", Role::kEvaluator, "");
    auto framework = cycle_->ImportFramework(admin_, ReadText(kExample / "framework.json"));
    ASSERT_TRUE(framework.ok()) << framework.status().ToString(false);
    framework_ = *framework;
  }

  Actor MakeUser(const std::string& name, Role role, const std::string& agency) {
    auto id =
        directory_->CreateUser(Actor::System(), {name, name, "password-" + name, role, agency});
    EXPECT_TRUE(id.ok()) << id.status().ToString(false);
    return Actor{id.ok() ? *id : 0, role, agency, name};
  }

  // The audit entries of `action`, oldest first, as (before, after) JSON texts.
  std::vector<std::pair<std::string, std::string>> Audited(const std::string& action) {
    std::vector<std::pair<std::string, std::string>> out;
    auto rows = db_->Query(
        "SELECT before_json, after_json FROM audit_log WHERE action = ? ORDER BY seq", {action});
    EXPECT_TRUE(rows.ok());
    if (rows.ok()) {
      for (const auto& r : *rows) out.emplace_back(r.Text(0), r.Text(1));
    }
    return out;
  }

  // The audit log whole and every entity as it recorded.
  void ExpectAuditWhole() {
    auto verified = AuditLog(*db_).Verify();
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(verified->whole()) << verified->problem_en;
  }

  FakeClock clock_{kJan2024};
  std::string url_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::DatabasePool> pool_;
  security::PasswordHasher hasher_{security::HashStrength::kMinimum, {4, 64, 60'000}};
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<Cycle> cycle_;
  Actor admin_, other_admin_, reporter_, evaluator_;
  StoredFramework framework_;
};

TEST_P(AdminTest, ARoundTakesNoReportsBeforeItsStartDate) {
  const int64_t start = kJan2024 + 10 * kDay, deadline = kJan2024 + 40 * kDay;
  // The start lies before the deadline.
  auto late = cycle_->OpenRound(admin_, framework_.id, 12, deadline, deadline);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(late.status().message_th().find("ต้องก่อนกำหนดส่ง"), std::string::npos);
  EXPECT_NE(late.status().message_en().find("before the deadline"), std::string::npos);
  EXPECT_EQ(cycle_->OpenRound(reporter_, framework_.id, 12, deadline, start).status().code(),
            StatusCode::kPermissionDenied);

  auto round = cycle_->OpenRound(admin_, framework_.id, 12, deadline, start);
  ASSERT_TRUE(round.ok()) << round.status().ToString(false);
  EXPECT_EQ(round->starts_at, start);
  auto status = cycle_->StatusOf(round->id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, RoundState::kScheduled);
  EXPECT_STREQ(RoundStateName(status->state), "scheduled");
  // No report before the start, and the refusal says when reporting starts.
  Status refused = cycle_->CheckReportingOpen(round->id, "OCS");
  EXPECT_EQ(refused.code(), StatusCode::kConflict);
  EXPECT_NE(refused.message_th().find("ยังไม่เปิดรับรายงาน"), std::string::npos) << refused.message_th();
  EXPECT_NE(refused.message_th().find("2567"), std::string::npos) << refused.message_th();
  EXPECT_NE(refused.message_en().find("reporting starts on"), std::string::npos);
  Reporting reporting(*db_, clock_);
  auto draft = reporting.SaveDraft(reporter_, round->id, "OCS", {"1", "{}", "", "", ""});
  EXPECT_EQ(draft.status().code(), StatusCode::kConflict);
  // Nothing to close or reopen yet.
  EXPECT_EQ(cycle_->CloseReporting(admin_, round->id, "").status().code(), StatusCode::kConflict);
  EXPECT_EQ(cycle_->Reopen(admin_, round->id, "เหตุผล", deadline).status().code(),
            StatusCode::kConflict);

  // The start moves while it is ahead; the same dates again change nothing and are not audited
  // twice.
  ASSERT_TRUE(cycle_->OpenRound(admin_, framework_.id, 12, deadline, start + kDay).ok());
  ASSERT_TRUE(cycle_->OpenRound(admin_, framework_.id, 12, deadline, start + kDay).ok());
  auto changes = Audited("round.deadline");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(json::parse(changes[0].first)["starts_at"], start);
  EXPECT_EQ(json::parse(changes[0].second)["starts_at"], start + kDay);
  auto opened = Audited("round.open");
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(json::parse(opened[0].second)["starts_at"], start);

  // From the start the round is open.
  clock_.Set(start + kDay);
  EXPECT_EQ(cycle_->StatusOf(round->id)->state, RoundState::kOpen);
  EXPECT_TRUE(cycle_->CheckReportingOpen(round->id, "OCS").ok());
  // Agencies reporting are not shut out again: the start no longer moves later...
  auto shut = cycle_->OpenRound(admin_, framework_.id, 12, deadline, start + 5 * kDay);
  EXPECT_EQ(shut.status().code(), StatusCode::kConflict);
  EXPECT_NE(shut.status().message_en().find("cannot move later"), std::string::npos);
  EXPECT_EQ(cycle_->Round(round->id)->starts_at, start + kDay);
  // ...but the deadline still does, keeping the start.
  ASSERT_TRUE(cycle_->OpenRound(admin_, framework_.id, 12, deadline + kDay, start + kDay).ok());
  EXPECT_EQ(cycle_->Round(round->id)->deadline, deadline + kDay);
  EXPECT_EQ(cycle_->Round(round->id)->starts_at, start + kDay);
  ExpectAuditWhole();
}

TEST_P(AdminTest, ARoundWithoutAStartTakesReportsAtOnce) {
  auto round = cycle_->OpenRound(admin_, framework_.id, 12, kJan2024 + 30 * kDay);
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->starts_at, 0);
  EXPECT_EQ(cycle_->StatusOf(round->id)->state, RoundState::kOpen);
  EXPECT_TRUE(cycle_->CheckReportingOpen(round->id, "OCS").ok());
  auto rounds = cycle_->Rounds();
  ASSERT_TRUE(rounds.ok());
  ASSERT_EQ(rounds->size(), 1u);
  EXPECT_EQ((*rounds)[0].round.starts_at, 0);
}

TEST_P(AdminTest, ExtensionsAreChangedAndRemovedOnceEachAndAudited) {
  const int64_t start = kJan2024 + 5 * kDay, deadline = kJan2024 + 30 * kDay;
  auto round = cycle_->OpenRound(admin_, framework_.id, 12, deadline, start);
  ASSERT_TRUE(round.ok());
  // Extensions can be granted before the round starts.
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round->id, "OCS", deadline + 10 * kDay).ok());
  // The same date twice (a form sent again): one entry.
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round->id, "OCS", deadline + 10 * kDay).ok());
  EXPECT_EQ(Audited("round.extend").size(), 1u);
  EXPECT_TRUE(Audited("round.extend.change").empty());
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round->id, "OCS", deadline + 12 * kDay).ok());
  auto changed = Audited("round.extend.change");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(json::parse(changed[0].first)["deadline"], deadline + 10 * kDay);
  EXPECT_EQ(json::parse(changed[0].second)["deadline"], deadline + 12 * kDay);
  EXPECT_EQ(cycle_->ExtendDeadline(evaluator_, round->id, "OCS", deadline + 13 * kDay).code(),
            StatusCode::kPermissionDenied);
  // An unknown agency is refused and leaves nothing behind.
  EXPECT_EQ(cycle_->ExtendDeadline(admin_, round->id, "NOPE", deadline + 13 * kDay).code(),
            StatusCode::kInvalidInput);
  // Removed once; the second time says there is none.
  ASSERT_TRUE(cycle_->RemoveExtension(admin_, round->id, "OCS").ok());
  Status again = cycle_->RemoveExtension(admin_, round->id, "OCS");
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_NE(again.message_th().find("OCS"), std::string::npos);
  EXPECT_EQ(Audited("round.extend.remove").size(), 1u);
  EXPECT_TRUE(cycle_->Extensions(round->id)->empty());
  ExpectAuditWhole();
}

TEST_P(AdminTest, TwoAdminsChangingOneExtensionAtOnceLeaveOneStoryInTheLog) {
  const int64_t deadline = kJan2024 + 30 * kDay;
  auto round = cycle_->OpenRound(admin_, framework_.id, 12, deadline);
  ASSERT_TRUE(round.ok());
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round->id, "OCS", deadline + kDay).ok());
  // Each admin on its own connection: one moves the extension, the other removes it, many times.
  std::vector<Status> first, second;
  auto work = [&](const Actor& who, bool remove, std::vector<Status>* out) {
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok());
    Cycle cycle(**lease, clock_);
    for (int i = 0; i < 8; ++i) {
      out->push_back(remove ? cycle.RemoveExtension(who, round->id, "OCS")
                            : cycle.ExtendDeadline(who, round->id, "OCS",
                                                   deadline + (2 + i) * kDay));
    }
  };
  std::thread a(work, std::cref(admin_), false, &first);
  std::thread b(work, std::cref(other_admin_), true, &second);
  a.join();
  b.join();
  for (const Status& s : first) EXPECT_TRUE(s.ok() || s.code() == StatusCode::kConflict ||
                                            s.code() == StatusCode::kUnavailable)
      << s.message_en();
  for (const Status& s : second) EXPECT_TRUE(s.ok() || s.code() == StatusCode::kNotFound ||
                                             s.code() == StatusCode::kConflict ||
                                             s.code() == StatusCode::kUnavailable)
      << s.message_en();
  // Whatever the order, what is stored is what the last entry of the log says.
  auto rows = db_->Query(
      "SELECT action, after_json FROM audit_log WHERE action LIKE 'round.extend%' ORDER BY seq "
      "DESC LIMIT 1");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  auto granted = cycle_->Extensions(round->id);
  ASSERT_TRUE(granted.ok());
  if ((*rows)[0].Text(0) == "round.extend.remove") {
    EXPECT_TRUE(granted->empty());
  } else {
    ASSERT_EQ(granted->size(), 1u);
    EXPECT_EQ(json::parse((*rows)[0].Text(1))["deadline"], (*granted)[0].deadline);
  }
  ExpectAuditWhole();
}

// The audit trail as the admin's page reads it (issue 12 §6): filtered by agency, user, kind and
// time, newest first, paged by sequence, each entry in words in Thai and English.
TEST_P(AdminTest, TheAuditTrailIsFilteredPagedAndToldInWords) {
  const int64_t deadline = kJan2024 + 30 * kDay;
  auto round = cycle_->OpenRound(admin_, framework_.id, 12, deadline);
  ASSERT_TRUE(round.ok());
  clock_.Advance(kDay);
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round->id, "OCS", deadline + 10 * kDay).ok());
  ASSERT_TRUE(cycle_->ExtendDeadline(other_admin_, round->id, "OCS", deadline + 12 * kDay).ok());
  ASSERT_TRUE(cycle_->ExtendDeadline(admin_, round->id, "DCLS", deadline + 5 * kDay).ok());
  clock_.Advance(kDay);
  const int64_t third_day = clock_.NowMs();
  Reporting reporting(*db_, clock_);
  auto draft = reporting.SaveDraft(
      reporter_, round->id, "OCS",
      {"1", R"({"completed_within_standard": 207, "received": 208})", "", "", ""});
  ASSERT_TRUE(draft.ok()) << draft.status().ToString(false);
  ASSERT_TRUE(cycle_->RemoveExtension(admin_, round->id, "OCS").ok());

  auto read = [&](AuditQuery q) {
    auto page = ReadAuditTrail(*db_, admin_, q);
    EXPECT_TRUE(page.ok()) << page.status().ToString(false);
    std::vector<std::string> actions;
    if (page.ok()) {
      for (const AuditEntry& e : page->items) actions.push_back(e.action);
    }
    return actions;
  };
  using Actions = std::vector<std::string>;
  // By agency: OCS's extensions and its report, newest first; not DCLS's extension; the
  // directory import that named OCS (its codes) too, and OCS's reporter's creation.
  AuditQuery ocs;
  ocs.agency = "OCS";
  ocs.kind = "round";
  EXPECT_EQ(read(ocs), (Actions{"round.extend.remove", "round.extend.change", "round.extend"}));
  ocs.kind = "report";
  EXPECT_EQ(read(ocs), (Actions{"submission.save"}));
  ocs.kind = "";
  const Actions everything_ocs = read(ocs);
  EXPECT_EQ(std::count(everything_ocs.begin(), everything_ocs.end(), "agencies.upsert"), 1);
  EXPECT_EQ(std::count(everything_ocs.begin(), everything_ocs.end(), "user.create"), 1);
  AuditQuery dcls;
  dcls.agency = "DCLS";
  dcls.kind = "round";
  EXPECT_EQ(read(dcls), (Actions{"round.extend"}));
  // A code matches exactly: not by case, not by a LIKE wildcard.
  dcls.agency = "dcls";
  EXPECT_TRUE(read(dcls).empty());
  dcls.agency = "DCL_";
  EXPECT_TRUE(read(dcls).empty());
  dcls.agency = "%";
  EXPECT_TRUE(read(dcls).empty());
  // By user: the second admin changed one extension; the system imported the agencies.
  AuditQuery two;
  two.username = "admin.two";
  EXPECT_EQ(read(two), (Actions{"round.extend.change"}));
  AuditQuery system;
  system.username = "system";
  system.kind = "agency";
  EXPECT_EQ(read(system), (Actions{"agencies.upsert"}));
  // By time: from the third day on, the draft and the removal.
  AuditQuery late;
  late.from_ms = third_day;
  EXPECT_EQ(read(late), (Actions{"round.extend.remove", "submission.save"}));
  late.from_ms = 0;
  late.to_ms = third_day;
  late.kind = "round";
  EXPECT_EQ(read(late), (Actions{"round.extend", "round.extend.change", "round.extend",
                                 "round.open"}));

  // Paged by sequence: two a page, the pages together are the whole list, none twice.
  AuditQuery all;
  const Actions whole = read(all);
  ASSERT_GE(whole.size(), 8u);
  AuditQuery paged;
  paged.limit = 2;
  Actions joined;
  int pages = 0;
  while (true) {
    auto page = ReadAuditTrail(*db_, admin_, paged);
    ASSERT_TRUE(page.ok());
    ASSERT_LE(page->items.size(), 2u);
    for (const AuditEntry& e : page->items) joined.push_back(e.action);
    ++pages;
    if (!page->next_before) break;
    EXPECT_EQ(page->next_before, page->items.back().seq);
    paged.before_seq = page->next_before;
  }
  EXPECT_EQ(joined, whole);
  EXPECT_EQ(pages, static_cast<int>((whole.size() + 1) / 2));

  // In words: who, what, and the extension's date before → after as Buddhist Era dates.
  AuditQuery change;
  change.username = "admin.two";
  auto page = ReadAuditTrail(*db_, admin_, change);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  const AuditEntry& e = page->items[0];
  EXPECT_EQ(e.username, "admin.two");
  EXPECT_EQ(e.what.th, "เปลี่ยนวันที่ขยายกำหนดส่ง: รอบ 12 เดือน ปีงบประมาณ พ.ศ. 2567 (กรม)");
  EXPECT_EQ(e.what.en, "changed an extension: 12-month round, fiscal year 2024 (B.E. 2567) (department)");
  ASSERT_EQ(e.changes.size(), 1u);  // the agency stayed; only the date moved
  EXPECT_EQ(e.changes[0].field.th, "กำหนดส่ง");
  EXPECT_EQ(e.changes[0].before.th, FormatDateTime(deadline + 10 * kDay, Lang::kThai));
  EXPECT_EQ(e.changes[0].after.th, FormatDateTime(deadline + 12 * kDay, Lang::kThai));
  EXPECT_NE(e.changes[0].after.th.find("2567"), std::string::npos);
  EXPECT_EQ(e.changes[0].after.en, FormatDateTime(deadline + 12 * kDay, Lang::kEnglish));
  // The report's entry names the KPI and the agency, and its values in words.
  AuditQuery report;
  report.kind = "report";
  page = ReadAuditTrail(*db_, admin_, report);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].what.th,
            "บันทึกรายงานตัวชี้วัด: ตัวชี้วัด 1 ของสำนักงานคณะกรรมการกฤษฎีกา (OCS), รอบ 12 เดือน "
            "ปีงบประมาณ พ.ศ. 2567");
  bool values_told = false;
  for (const AuditChange& c : page->items[0].changes) {
    if (c.field.en == "values reported") {
      values_told = true;
      EXPECT_TRUE(c.before.empty());
      EXPECT_EQ(c.after.th, "completed_within_standard = 207, received = 208");
    }
    if (c.field.en == "status") {
      EXPECT_EQ(c.after.th, "ร่าง");
    }
  }
  EXPECT_TRUE(values_told);
  // The removal: the date removed reads "ไม่มี" after it.
  AuditQuery removal;
  removal.agency = "OCS";
  removal.kind = "round";
  removal.limit = 1;
  page = ReadAuditTrail(*db_, admin_, removal);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  ASSERT_EQ(page->items[0].changes.size(), 1u);
  EXPECT_EQ(page->items[0].changes[0].after.th, "ไม่มี");
  EXPECT_EQ(page->items[0].changes[0].after.en, "none");
  EXPECT_EQ(page->items[0].changes[0].before.th, FormatDateTime(deadline + 12 * kDay, Lang::kThai));

  // Refusals in Thai and English; only admins read the trail.
  AuditQuery bad_kind;
  bad_kind.kind = "nope";
  auto refused = ReadAuditTrail(*db_, admin_, bad_kind);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(refused.status().message_th().find("nope"), std::string::npos);
  EXPECT_NE(refused.status().message_en().find("kind of change"), std::string::npos);
  AuditQuery backwards;
  backwards.from_ms = third_day;
  backwards.to_ms = third_day - kDay;
  EXPECT_EQ(ReadAuditTrail(*db_, admin_, backwards).status().code(), StatusCode::kInvalidInput);
  AuditQuery long_code;
  long_code.agency = std::string(65, 'A');
  EXPECT_EQ(ReadAuditTrail(*db_, admin_, long_code).status().code(), StatusCode::kInvalidInput);
  AuditQuery control;
  control.username = std::string("a\nb");
  EXPECT_EQ(ReadAuditTrail(*db_, admin_, control).status().code(), StatusCode::kInvalidInput);
  AuditQuery huge;
  huge.limit = 201;
  EXPECT_EQ(ReadAuditTrail(*db_, admin_, huge).status().code(), StatusCode::kInvalidInput);
  for (const Actor& who : {reporter_, evaluator_, Actor::Public()}) {
    auto denied = ReadAuditTrail(*db_, who, AuditQuery{});
    EXPECT_FALSE(denied.ok()) << who.username;
  }
}

// Values recorded in shapes esar does not write are told as text, never lost or thrown on.
TEST(AuditWords, OddRecordsAreToldAsTheyAre) {
  auto odd = AuditChanges("not json", "{\"a\":1}");
  ASSERT_EQ(odd.size(), 1u);
  EXPECT_EQ(odd[0].before.th, "not json");
  EXPECT_EQ(odd[0].after.en, "{\"a\":1}");
  // A long text is cut on a character boundary (Thai is three bytes a character).
  std::string thai;
  for (int i = 0; i < 200; ++i) thai += "ก";
  auto cut = AuditChanges("{}", json{{"reason", thai}}.dump());
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut[0].field.th, "เหตุผล");
  EXPECT_LT(cut[0].after.th.size(), thai.size());
  EXPECT_EQ(cut[0].after.th.substr(cut[0].after.th.size() - 3), "…");
  EXPECT_EQ((cut[0].after.th.size() - 3) % 3, 0u);
  // Unchanged values are left out; an unknown field keeps its name.
  auto same = AuditChanges(R"({"state":"open","x":1})", R"({"state":"open","x":2})");
  ASSERT_EQ(same.size(), 1u);
  EXPECT_EQ(same[0].field.en, "x");
  EXPECT_EQ(AuditActionWords("round.open").th, "เปิดรอบการรายงาน");
  EXPECT_EQ(AuditActionWords("something.new").en, "something.new");
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
