// An admin's work on users and agencies (issue 12 §2), on SQLite and on PostgreSQL: one agency
// added and edited by a form (refusals naming the field, stale forms refused, loops refused,
// audited in words with its code); a user's name, role,
// agency and address edited (refusals naming the form field, stale forms refused, admins
// only), an account disabled and enabled (a disabled user cannot log in, keep a session, use an
// API token or a reset link), and a reset link sent by the admin to the user's address; each
// change audited, told in words by the audit trail, and `esar audit verify` whole after.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "service/audit.h"
#include "service/audit_trail.h"
#include "formats/inputs.h"
#include "service/directory.h"
#include "service/login.h"
#include "service/notify.h"
#include "service/password_reset.h"
#include "storage/pool.h"
#include "tests/support/service_fixture.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using nlohmann::json;

class UsersTest : public esar::testing::ServiceFixture {
 protected:
  UsersTest() : ServiceFixture(/*with_addresses=*/true) {}

  void SetUp() override {
    ServiceFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    pool_ = std::make_unique<storage::DatabasePool>(url_, 4);
  }

  UserDetail Detail(int64_t id) {
    auto got = directory_->User(admin_, id);
    EXPECT_TRUE(got.ok()) << got.status().ToString(false);
    return got.ok() ? *got : UserDetail{};
  }

  // The edit form as the page makes it from the stored user.
  UserEdit FormOf(int64_t id) {
    const UserDetail d = Detail(id);
    return {d.info.display_name, d.info.role, d.info.agency, d.email, d.version};
  }

  Result<Session> LoginAs(const std::string& name) {
    return Logins(*pool_, clock_, hasher_).Login(name, "password-" + name, "10.9.9.9");
  }

  int64_t Count(const std::string& sql, const std::vector<storage::Value>& params) {
    auto rows = db_->Query(sql, params);
    EXPECT_TRUE(rows.ok());
    return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
  }

  void ExpectAuditWhole() {
    auto verified = AuditLog(*db_).Verify();
    ASSERT_TRUE(verified.ok());
    EXPECT_TRUE(verified->whole()) << verified->problem_en;
  }

  std::unique_ptr<storage::DatabasePool> pool_;
};

TEST_P(UsersTest, AnAdminEditsNameRoleAgencyAndAddressAuditedInWords) {
  UserEdit edit = FormOf(boi_reporter_.user_id);
  EXPECT_EQ(edit.email, "");
  edit.display_name = "สมชาย ใจดี";
  edit.role = Role::kApprover;
  edit.agency = "OCS";
  edit.email = "somchai@ocs.go.th";
  ASSERT_TRUE(directory_->EditUser(admin_, boi_reporter_.user_id, edit).ok());
  const UserDetail after = Detail(boi_reporter_.user_id);
  EXPECT_EQ(after.info.display_name, "สมชาย ใจดี");
  EXPECT_EQ(after.info.role, Role::kApprover);
  EXPECT_EQ(after.info.agency, "OCS");
  EXPECT_EQ(after.email, "somchai@ocs.go.th");
  EXPECT_EQ(after.info.username, "reporter.boi");  // the login name stays
  EXPECT_NE(after.version, edit.version);
  // The user's next request acts as they are now: an approver of OCS.
  auto session = LoginAs("reporter.boi");
  ASSERT_TRUE(session.ok()) << session.status().ToString(false);
  EXPECT_EQ(session->actor.role, Role::kApprover);
  EXPECT_EQ(session->actor.agency, "OCS");

  // The audit trail tells it before -> after in words, the role as the pages name it.
  AuditQuery query;
  query.kind = "user";
  auto trail = ReadAuditTrail(*db_, admin_, query);
  ASSERT_TRUE(trail.ok()) << trail.status().ToString(false);
  bool edit_told = false, address_told = false;
  for (const AuditEntry& e : trail->items) {
    std::string changes;
    for (const AuditChange& c : e.changes) {
      changes += c.field.th + ": " + c.before.th + " → " + c.after.th + "; ";
    }
    if (e.what.th.find("แก้ไขข้อมูลผู้ใช้") != std::string::npos) {
      edit_told = true;
      EXPECT_NE(changes.find("บทบาท: ผู้รายงาน → ผู้อนุมัติ"), std::string::npos) << changes;
      EXPECT_NE(changes.find("หน่วยงาน: BOI → OCS"), std::string::npos) << changes;
      EXPECT_NE(changes.find("ชื่อที่แสดง: reporter.boi → สมชาย ใจดี"), std::string::npos) << changes;
    }
    if (e.what.th.find("เปลี่ยนอีเมล") != std::string::npos &&
        changes.find("somchai@ocs.go.th") != std::string::npos) {
      address_told = true;
    }
  }
  EXPECT_TRUE(edit_told);
  EXPECT_TRUE(address_told);
  ExpectAuditWhole();

  // The same form again changes nothing and writes nothing.
  const int64_t entries = Count("SELECT COUNT(*) FROM audit_log", {});
  UserEdit again = FormOf(boi_reporter_.user_id);
  ASSERT_TRUE(directory_->EditUser(admin_, boi_reporter_.user_id, again).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log", {}), entries);

  // An evaluator has no agency: one sent is dropped.
  UserEdit to_evaluator = FormOf(boi_reporter_.user_id);
  to_evaluator.role = Role::kEvaluator;
  ASSERT_TRUE(directory_->EditUser(admin_, boi_reporter_.user_id, to_evaluator).ok());
  EXPECT_EQ(Detail(boi_reporter_.user_id).info.agency, "");
  ExpectAuditWhole();
}

TEST_P(UsersTest, BadValuesAreRefusedNamingTheirFieldAndNothingChanges) {
  const UserDetail before = Detail(reporter_.user_id);
  struct Case {
    const char* what;
    std::function<void(UserEdit&)> spoil;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"a reporter without an agency", [](UserEdit& e) { e.agency = ""; }, "agency"},
      {"an approver without an agency",
       [](UserEdit& e) {
         e.role = Role::kApprover;
         e.agency = "";
       },
       "agency"},
      {"an agency that does not exist", [](UserEdit& e) { e.agency = "NOPE"; }, "agency"},
      {"an address without a domain", [](UserEdit& e) { e.email = "somchai@"; }, "email"},
      {"an address with a line break",
       [](UserEdit& e) { e.email = "a@b.go.th\r\nBcc: x@evil.example"; }, "email"},
      {"a name too long", [](UserEdit& e) { e.display_name = std::string(201, 'a'); },
       "display_name"},
      {"a name with a control character", [](UserEdit& e) { e.display_name = "a\x01" "b"; },
       "display_name"},
  };
  for (const Case& c : cases) {
    UserEdit edit = FormOf(reporter_.user_id);
    c.spoil(edit);
    Status s = directory_->EditUser(admin_, reporter_.user_id, edit);
    EXPECT_EQ(s.code(), StatusCode::kInvalidInput) << c.what;
    EXPECT_EQ(s.where().json_path, c.field) << c.what;
    EXPECT_FALSE(s.message_th().empty()) << c.what;
    EXPECT_FALSE(s.message_en().empty()) << c.what;
  }
  // An admin cannot change their own role (they would lock themselves out).
  UserEdit own = FormOf(admin_.user_id);
  own.role = Role::kEvaluator;
  Status s = directory_->EditUser(admin_, admin_.user_id, own);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.where().json_path, "role");
  const UserDetail after = Detail(reporter_.user_id);
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(Detail(admin_.user_id).info.role, Role::kAdmin);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action IN ('user.edit', "
                  "'contact.address') AND actor = ?",
                  {admin_.user_id}),
            0);
}

TEST_P(UsersTest, AStaleFormIsRefusedAndOnlyAdminsEdit) {
  UserEdit first = FormOf(reporter_.user_id);
  UserEdit second = first;  // two admins opened the page at once
  first.display_name = "ชื่อใหม่";
  ASSERT_TRUE(directory_->EditUser(admin_, reporter_.user_id, first).ok());
  second.email = "other@ocs.go.th";
  Status stale = directory_->EditUser(admin_, reporter_.user_id, second);
  EXPECT_EQ(stale.code(), StatusCode::kConflict);
  EXPECT_EQ(Detail(reporter_.user_id).email, "reporter@ocs.go.th");
  EXPECT_EQ(Detail(reporter_.user_id).info.display_name, "ชื่อใหม่");
  // The disable form carries the version too.
  EXPECT_EQ(directory_->SetUserActive(admin_, reporter_.user_id, false, second.version).code(),
            StatusCode::kConflict);
  EXPECT_TRUE(Detail(reporter_.user_id).info.active);

  for (const Actor& who : {evaluator_, reporter_, approver_, Actor{}}) {
    UserEdit edit = FormOf(boi_reporter_.user_id);
    edit.display_name = "x";
    EXPECT_EQ(directory_->EditUser(who, boi_reporter_.user_id, edit).code(),
              who.user_id == 0 ? StatusCode::kUnauthenticated : StatusCode::kPermissionDenied);
    EXPECT_FALSE(directory_->SetUserActive(who, boi_reporter_.user_id, false, edit.version).ok());
    EXPECT_FALSE(PasswordResets::SendLinkFor(*db_, clock_, who, reporter_.user_id).ok());
    EXPECT_FALSE(directory_->User(who, boi_reporter_.user_id).ok());
  }
  // Not through a read-only token either.
  Actor read_only = admin_;
  read_only.by_token = true;
  read_only.read_only = true;
  UserEdit edit = FormOf(boi_reporter_.user_id);
  edit.display_name = "x";
  EXPECT_EQ(directory_->EditUser(read_only, boi_reporter_.user_id, edit).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Detail(boi_reporter_.user_id).info.display_name, "reporter.boi");
  EXPECT_EQ(directory_->User(admin_, 999999).status().code(), StatusCode::kNotFound);
  edit.version = "";
  EXPECT_EQ(directory_->EditUser(admin_, 999999, edit).code(), StatusCode::kNotFound);
}

TEST_P(UsersTest, ADisabledUserIsOutEverywhereUntilEnabledAgain) {
  auto session = LoginAs("reporter.ocs");
  ASSERT_TRUE(session.ok());
  auto token = directory_->CreateApiToken(session->actor, {"sync", TokenScope::kFull, 0});
  ASSERT_TRUE(token.ok()) << token.status().ToString(false);
  ASSERT_TRUE(directory_->FindApiToken(token->token).ok());
  // A reset link asked before the account is disabled.
  PasswordResets resets(*pool_, clock_, hasher_);
  ASSERT_TRUE(resets.Request("reporter.ocs", "10.0.0.1").ok());

  const std::string version = Detail(reporter_.user_id).version;
  EXPECT_EQ(directory_->SetUserActive(admin_, admin_.user_id, false,
                                      Detail(admin_.user_id).version)
                .code(),
            StatusCode::kConflict);  // never oneself
  ASSERT_TRUE(directory_->SetUserActive(admin_, reporter_.user_id, false, version).ok());
  EXPECT_FALSE(Detail(reporter_.user_id).info.active);
  // Their session is gone, the session lookup and their token are refused, they cannot log in.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sessions WHERE user_id = ?", {reporter_.user_id}), 0);
  EXPECT_EQ(directory_->FindSession(session->token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(directory_->FindApiToken(token->token).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_FALSE(LoginAs("reporter.ocs").ok());
  // A reset asked for them now sends nothing; the admin's button is refused and says why.
  const int64_t queued = Count("SELECT COUNT(*) FROM outbox WHERE kind = 'password.reset'", {});
  ASSERT_TRUE(resets.Request("reporter.ocs", "10.0.0.2").ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox WHERE kind = 'password.reset'", {}), queued);
  Status refused = PasswordResets::SendLinkFor(*db_, clock_, admin_, reporter_.user_id);
  EXPECT_EQ(refused.code(), StatusCode::kConflict);
  EXPECT_NE(refused.message_th().find("ปิดใช้"), std::string::npos);
  // Disabling again changes nothing and is not audited twice.
  const std::string disabled_version = Detail(reporter_.user_id).version;
  ASSERT_TRUE(directory_->SetUserActive(admin_, reporter_.user_id, false, version).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.disable'", {}), 1);
  ExpectAuditWhole();

  // Enabled again: they log in with their password and their token works again.
  ASSERT_TRUE(
      directory_->SetUserActive(admin_, reporter_.user_id, true, disabled_version).ok());
  EXPECT_TRUE(LoginAs("reporter.ocs").ok());
  EXPECT_TRUE(directory_->FindApiToken(token->token).ok());
  AuditQuery query;
  query.kind = "user";
  auto trail = ReadAuditTrail(*db_, admin_, query);
  ASSERT_TRUE(trail.ok());
  std::vector<std::string> told;
  for (const AuditEntry& e : trail->items) {
    if (e.what.en.find("abled a user") == std::string::npos) continue;
    std::string line = e.what.en;
    for (const AuditChange& c : e.changes) line += " | " + c.field.th + ": " + c.before.th + " → " + c.after.th;
    told.push_back(line);
  }
  ASSERT_EQ(told.size(), 2u);
  EXPECT_NE(told[0].find("enabled a user again"), std::string::npos) << told[0];  // newest first
  EXPECT_NE(told[1].find("ใช้งานได้: ใช่ → ไม่"), std::string::npos) << told[1];
  ExpectAuditWhole();
}

TEST_P(UsersTest, TheAdminSendsTheResetE_mailToTheUsersAddress) {
  const int64_t before = Count("SELECT COUNT(*) FROM outbox WHERE kind = 'password.reset'", {});
  ASSERT_TRUE(PasswordResets::SendLinkFor(*db_, clock_, admin_, approver_.user_id).ok());
  auto mail = db_->Query(
      "SELECT address, language, link FROM outbox WHERE kind = 'password.reset' AND user_id = ?",
      {approver_.user_id});
  ASSERT_TRUE(mail.ok());
  ASSERT_EQ(mail->size(), 1u);
  EXPECT_EQ((*mail)[0].Text(0), "approver@ocs.go.th");
  EXPECT_EQ((*mail)[0].Text(1), "en");
  EXPECT_EQ((*mail)[0].Text(2), "/password/reset");  // no token at rest: the worker makes it
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox WHERE kind = 'password.reset'", {}), before + 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.password_reset_request' "
                  "AND actor = ? AND entity = ?",
                  {admin_.user_id, "user/" + std::to_string(approver_.user_id)}),
            1);
  // A user without an address: refused, naming the address field, nothing queued.
  Status none = PasswordResets::SendLinkFor(*db_, clock_, admin_, boi_reporter_.user_id);
  EXPECT_EQ(none.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(none.where().json_path, "email");
  EXPECT_EQ(PasswordResets::SendLinkFor(*db_, clock_, admin_, 999999).code(),
            StatusCode::kNotFound);
  // Counted with the requests for that user: a mailbox is not flooded from either route.
  for (int i = 1; i < PasswordResets::kMaxPerAccount; ++i) {
    ASSERT_TRUE(PasswordResets::SendLinkFor(*db_, clock_, admin_, approver_.user_id).ok());
  }
  EXPECT_EQ(PasswordResets::SendLinkFor(*db_, clock_, admin_, approver_.user_id).code(),
            StatusCode::kTooManyRequests);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM outbox WHERE kind = 'password.reset'", {}),
            before + PasswordResets::kMaxPerAccount);
  ExpectAuditWhole();
}

TEST_P(UsersTest, AnAgencyIsAddedAndEditedByAFormAuditedInWords) {
  AgencyForm form{"DLA", "กรมส่งเสริมการปกครองท้องถิ่น", "Department of Local Administration",
                  "department", "", ""};
  ASSERT_TRUE(directory_->SaveAgency(admin_, form, /*adding=*/true).ok());
  auto added = directory_->FindAgency("DLA");
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->name.th, "กรมส่งเสริมการปกครองท้องถิ่น");
  EXPECT_EQ(added->kind, "department");
  // Found by its Thai name in the admin's list (sorted in Thai order by its new sort key).
  Directory::AgencyQuery query;
  query.q = "ส่งเสริมการปกครอง";
  auto listed = directory_->ListAgencies(admin_, query);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].code, "DLA");
  auto parents = directory_->Agencies();
  ASSERT_TRUE(parents.ok());
  std::string ministry;
  for (const auto& a : *parents) {
    if (a.kind == "ministry") ministry = a.code;
  }
  ASSERT_FALSE(ministry.empty());

  // Edited: it now belongs to the ministry, its English name changed.
  AgencyForm edit{"DLA", form.name_th, "Local Administration Department", "department", ministry,
                  Directory::AgencyVersion(*added)};
  ASSERT_TRUE(directory_->SaveAgency(admin_, edit, /*adding=*/false).ok());
  auto edited = directory_->FindAgency("DLA");
  ASSERT_TRUE(edited.ok());
  EXPECT_EQ(edited->parent, ministry);
  EXPECT_EQ(edited->name.en, "Local Administration Department");
  // The same form again is stale; the form of what is stored now, unchanged, writes nothing.
  EXPECT_EQ(directory_->SaveAgency(admin_, edit, false).code(), StatusCode::kConflict);
  const int64_t entries = Count("SELECT COUNT(*) FROM audit_log", {});
  edit.version = Directory::AgencyVersion(*edited);
  ASSERT_TRUE(directory_->SaveAgency(admin_, edit, false).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log", {}), entries);

  // The audit trail, filtered by the agency and by the kind "agencies", names it and tells the
  // change in words.
  AuditQuery by_agency;
  by_agency.agency = "DLA";
  by_agency.kind = "agency";
  auto trail = ReadAuditTrail(*db_, admin_, by_agency);
  ASSERT_TRUE(trail.ok()) << trail.status().ToString(false);
  ASSERT_EQ(trail->items.size(), 2u);
  EXPECT_EQ(trail->items[0].what.th, "แก้ไขหน่วยงาน: หน่วยงาน DLA");
  EXPECT_EQ(trail->items[1].what.en, "added an agency: agency DLA");
  std::string changes;
  for (const AuditChange& c : trail->items[0].changes) {
    changes += c.field.th + ": " + c.before.th + " → " + c.after.th + "; ";
  }
  EXPECT_EQ(changes, "ชื่อภาษาอังกฤษ: Department of Local Administration → Local Administration "
                     "Department; สังกัด: ไม่มี → " + ministry + "; ")
      << changes;
  ExpectAuditWhole();
}

TEST_P(UsersTest, AnAgencysEmailIsSetByItsFormAndByTheAgencyFilesAndChecked) {
  auto ocs = directory_->FindAgency("OCS");
  ASSERT_TRUE(ocs.ok());
  EXPECT_EQ(ocs->email.value_or("?"), "");
  AgencyForm form{"OCS", ocs->name.th, ocs->name.en, ocs->kind, ocs->parent,
                  Directory::AgencyVersion(*ocs), "saraban@ocs.go.th"};
  for (const char* bad : {"saraban", "a b@ocs.go.th", "x@y", "<a@b.go.th>", "a@b.go.th\r\nBcc: c@d"}) {
    AgencyForm wrong = form;
    wrong.email = bad;
    Status s = directory_->SaveAgency(admin_, wrong, false);
    EXPECT_EQ(s.code(), StatusCode::kInvalidInput) << bad;
    EXPECT_EQ(s.where().json_path, "email") << bad;
  }
  ASSERT_TRUE(directory_->SaveAgency(admin_, form, false).ok());
  auto saved = directory_->FindAgency("OCS");
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->email.value_or(""), "saraban@ocs.go.th");
  // Audited before -> after.
  AuditQuery by_agency;
  by_agency.agency = "OCS";
  by_agency.kind = "agency";
  auto trail = ReadAuditTrail(*db_, admin_, by_agency);
  ASSERT_TRUE(trail.ok() && !trail->items.empty());
  std::string changes;
  for (const AuditChange& c : trail->items[0].changes) changes += c.before.en + " → " + c.after.en + ";";
  EXPECT_NE(changes.find("saraban@ocs.go.th"), std::string::npos) << changes;
  // A CSV without the column keeps it; one with the column sets it, "" removes it; a bad one
  // is refused naming its line, and nothing is imported.
  auto keep = formats::ParseAgencies("code,name_th\nOCS,สำนักงานคณะกรรมการกฤษฎีกา\n", "a.csv");
  ASSERT_TRUE(keep.ok());
  ASSERT_TRUE(directory_->UpsertAgencies(admin_, *keep).ok());
  EXPECT_EQ(directory_->FindAgency("OCS")->email.value_or(""), "saraban@ocs.go.th");
  auto set = formats::ParseAgencies(
      "code,name_th,email\nOCS,สำนักงานคณะกรรมการกฤษฎีกา,info@ocs.go.th\n", "a.csv");
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(directory_->UpsertAgencies(admin_, *set).ok());
  EXPECT_EQ(directory_->FindAgency("OCS")->email.value_or(""), "info@ocs.go.th");
  auto bad = formats::ParseAgencies(
      "code,name_th,email\nNEW9,ใหม่,\nOCS,สำนักงานคณะกรรมการกฤษฎีกา,not-an-address\n", "a.csv");
  ASSERT_TRUE(bad.ok());
  Status refused = directory_->UpsertAgencies(admin_, *bad);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(refused.where().line, 3);
  EXPECT_EQ(directory_->FindAgency("NEW9").status().code(), StatusCode::kNotFound);
  auto json_set = formats::ParseAgencies(
      R"({"agencies": [{"code": "OCS", "name": "สำนักงานคณะกรรมการกฤษฎีกา", "email": ""}]})",
      "a.json");
  ASSERT_TRUE(json_set.ok());
  ASSERT_TRUE(directory_->UpsertAgencies(admin_, *json_set).ok());
  EXPECT_EQ(directory_->FindAgency("OCS")->email.value_or("?"), "");
  EXPECT_EQ(formats::ParseAgencies(R"({"agencies": [{"code": "OCS", "email": 5}]})", "a.json")
                .status().where().json_path,
            "/agencies/0/email");
  ExpectAuditWhole();
}

TEST_P(UsersTest, AgencyFormRefusalsNameTheirFieldAndChangeNothing) {
  auto ocs = directory_->FindAgency("OCS");
  ASSERT_TRUE(ocs.ok());
  const std::string version = Directory::AgencyVersion(*ocs);
  struct Case {
    const char* what;
    AgencyForm form;
    bool adding;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"a code with a space", {"A B", "ก", "", "department", "", ""}, true, "code"},
      {"an empty code", {"", "ก", "", "department", "", ""}, true, "code"},
      {"a code too long", {std::string(65, 'A'), "ก", "", "department", "", ""}, true, "code"},
      {"a code taken", {"OCS", "ก", "", "department", "", ""}, true, "code"},
      {"no Thai name", {"NEW1", "", "x", "department", "", ""}, true, "name_th"},
      {"a Thai name with a line break", {"NEW1", "ก\nข", "", "department", "", ""}, true,
       "name_th"},
      {"an English name too long", {"NEW1", "ก", std::string(301, 'x'), "department", "", ""},
       true, "name_en"},
      {"no kind", {"NEW1", "ก", "", "", "", ""}, true, "kind"},
      {"a kind with markup", {"NEW1", "ก", "", "<b>", "", ""}, true, "kind"},
      {"a parent that does not exist", {"NEW1", "ก", "", "department", "NOPE", ""}, true,
       "parent"},
      {"itself as its parent", {"OCS", ocs->name.th, "", "department", "OCS", version}, false,
       "parent"},
  };
  const int64_t agencies = Count("SELECT COUNT(*) FROM agencies", {});
  for (const Case& c : cases) {
    Status s = directory_->SaveAgency(admin_, c.form, c.adding);
    EXPECT_EQ(s.code(), StatusCode::kInvalidInput) << c.what;
    EXPECT_EQ(s.where().json_path, c.field) << c.what;
    EXPECT_FALSE(s.message_th().empty() || s.message_en().empty()) << c.what;
  }
  // A loop: a ministry cannot belong to one of its own departments.
  auto all = directory_->Agencies();
  ASSERT_TRUE(all.ok());
  std::string child, parent;
  for (const auto& a : *all) {
    if (!a.parent.empty()) {
      child = a.code;
      parent = a.parent;
      break;
    }
  }
  ASSERT_FALSE(child.empty());
  auto top = directory_->FindAgency(parent);
  ASSERT_TRUE(top.ok());
  AgencyForm loop{parent, top->name.th, top->name.en, top->kind, child,
                  Directory::AgencyVersion(*top)};
  Status s = directory_->SaveAgency(admin_, loop, false);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.where().json_path, "parent");
  // Unknown code when editing; only admins, not a read-only token.
  EXPECT_EQ(directory_->SaveAgency(admin_, {"NOPE", "ก", "", "department", "", ""}, false).code(),
            StatusCode::kNotFound);
  Actor read_only = admin_;
  read_only.by_token = read_only.read_only = true;
  for (const Actor& who : {reporter_, evaluator_, read_only}) {
    EXPECT_EQ(directory_->SaveAgency(who, {"NEW2", "ก", "", "department", "", ""}, true).code(),
              StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM agencies", {}), agencies);
  auto still = directory_->FindAgency("OCS");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(Directory::AgencyVersion(*still), version);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'agency.%'", {}), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, UsersTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
