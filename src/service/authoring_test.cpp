// Framework authoring through the service, on SQLite and on PostgreSQL: a new year from last
// year's framework, saves of a draft and of a frozen framework (a new version), bad documents,
// two editors at once, and every change in the audit log.
#include "service/authoring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "domain/check.h"
#include "domain/engine.h"
#include "domain/framework_diff.h"
#include "formats/framework_form.h"
#include "formats/inputs.h"
#include "service/audit.h"
#include "service/directory.h"
#include "storage/pool.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kExample = fs::path(ESAR_SOURCE_DIR) / "examples" / "ocs-2567";
constexpr int64_t kJan2024 = 1704067200000;
constexpr int64_t kDay = 24LL * 3600 * 1000;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class AuthoringTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    db_ = esar::testing::FreshDatabase(GetParam(), &url_);
    ASSERT_NE(db_, nullptr);
    Directory directory(*db_, clock_, nullptr);
    auto agencies = formats::LoadAgencies((kExample / "agencies.csv").string());
    ASSERT_TRUE(agencies.ok());
    ASSERT_TRUE(directory.UpsertAgencies(Actor::System(), *agencies).ok());
    auto imported = Cycle(*db_, clock_).ImportFramework(admin_, ReadText(kExample / "framework.json"));
    ASSERT_TRUE(imported.ok()) << imported.status().ToString(false);
    framework_ = *imported;
  }

  // The audit entries with `action`, oldest first: (entity, after_json).
  std::vector<std::pair<std::string, std::string>> Audited(const std::string& action) {
    std::vector<std::pair<std::string, std::string>> out;
    auto rows = db_->Query("SELECT entity, after_json FROM audit_log WHERE action = ? ORDER BY seq",
                           {action});
    EXPECT_TRUE(rows.ok());
    if (rows.ok()) {
      for (const auto& r : *rows) out.emplace_back(r.Text(0), r.Text(1));
    }
    return out;
  }

  // The framework's document with the advanced target of KPI `index` (a levels KPI) set.
  static std::string WithAdvanced(const std::string& document, size_t index, double target) {
    json doc = json::parse(document);
    doc["kpis"][index]["criteria"]["targets"][2] = target;
    return doc.dump();
  }

  FakeClock clock_{kJan2024};
  std::string url_;
  std::unique_ptr<storage::Database> db_;
  // The command line's admin: no user row, so none to create (the users table wants a hasher).
  Actor admin_ = Actor::System();
  StoredFramework framework_;
};

TEST_P(AuthoringTest, NextYearCopiesKeysAndPointsBaselinesAtLastYear) {
  Authoring authoring(*db_, clock_);
  auto next = authoring.StartNextYear(admin_, framework_.id);
  ASSERT_TRUE(next.ok()) << next.status().ToString(false);
  EXPECT_EQ(next->fiscal_year, 2568);
  EXPECT_EQ(next->version, 1);
  EXPECT_FALSE(next->frozen);
  ASSERT_EQ(next->framework.kpis.size(), framework_.framework.kpis.size());
  for (size_t i = 0; i < next->framework.kpis.size(); ++i) {
    EXPECT_EQ(next->framework.kpis[i].key, framework_.framework.kpis[i].key);
    EXPECT_EQ(next->framework.kpis[i].id, framework_.framework.kpis[i].id);
  }
  const domain::Kpi* pmqa = domain::FindKpiByKey(next->framework.kpis, "pmqa");
  ASSERT_NE(pmqa, nullptr);
  ASSERT_FALSE(pmqa->references.empty());
  EXPECT_EQ(pmqa->references[0].fiscal_year, 2567);
  ASSERT_TRUE(pmqa->references[0].from_result.has_value());
  EXPECT_EQ(pmqa->references[0].from_result->key, "pmqa");
  // The case rule's dates move into FY2568, so esar check finds none outside the year.
  const json doc = json::parse(next->document);
  EXPECT_EQ(doc["kpis"][0]["cases"]["cutoffs"]["6"], "2025-03-31");
  EXPECT_EQ(doc["kpis"][0]["cases"]["cutoffs"]["12"], "2025-09-30");
  EXPECT_EQ(doc["kpis"][0]["cases"]["classes"][0]["windows"][0]["from"], "2024-07-01");
  domain::CheckInput check;
  check.framework = &next->framework;
  for (const domain::Finding& f : domain::Check(check)) {
    EXPECT_NE(f.code, "cases-cutoff-year") << f.message_en;
  }
  // Last year's is untouched.
  auto old = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->document, framework_.document);
  const auto audited = Audited("framework.next_year");
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(audited[0].first, "framework/" + std::to_string(next->id));
  EXPECT_EQ(json::parse(audited[0].second)["from"], framework_.id);
  auto verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
}

TEST_P(AuthoringTest, NextYearTwiceIsRefusedAndNothingIsAdded) {
  Authoring authoring(*db_, clock_);
  ASSERT_TRUE(authoring.StartNextYear(admin_, framework_.id).ok());
  auto again = authoring.StartNextYear(admin_, framework_.id);
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  EXPECT_NE(again.status().message_th().find("2568"), std::string::npos);
  auto count = db_->Query("SELECT COUNT(*) FROM frameworks WHERE fiscal_year = 2568", {});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ((*count)[0].Int(0), 1);
  EXPECT_EQ(authoring.StartNextYear(admin_, 999999).status().code(), StatusCode::kNotFound);
  const Actor reporter{7, Role::kReporter, "OCS", "reporter"};
  EXPECT_EQ(authoring.StartNextYear(reporter, framework_.id).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_P(AuthoringTest, NextYearStartedByTwoAdminsAtOnceMakesOne) {
  storage::DatabasePool pool(url_, 4);
  auto start = [&]() {
    auto lease = pool.Acquire();
    if (!lease.ok()) return StatusCode::kInternal;
    return Authoring(**lease, clock_).StartNextYear(admin_, framework_.id).status().code();
  };
  auto a = std::async(std::launch::async, start);
  auto b = std::async(std::launch::async, start);
  std::vector<StatusCode> codes = {a.get(), b.get()};
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(std::count(codes.begin(), codes.end(), StatusCode::kOk), 1);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), StatusCode::kConflict), 1);
  auto count = db_->Query("SELECT COUNT(*) FROM frameworks WHERE fiscal_year = 2568", {});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ((*count)[0].Int(0), 1);
}

TEST_P(AuthoringTest, SaveReplacesADraftAndAuditsThePatch) {
  Authoring authoring(*db_, clock_);
  const std::string changed = WithAdvanced(framework_.document, 2, 97);
  auto saved = authoring.Save(admin_, framework_.id, Authoring::Token(framework_.document), changed);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  EXPECT_EQ(saved->id, framework_.id);
  EXPECT_EQ(saved->version, 1);
  const auto audited = Audited("framework.edit");
  ASSERT_EQ(audited.size(), 1u);
  const json patch = json::parse(audited[0].second);
  ASSERT_EQ(patch.size(), 1u);
  EXPECT_EQ(patch[0]["path"], "/kpis/2/criteria/targets/2");
  EXPECT_EQ(patch[0]["value"], 97);
  // Sending the same save again changes nothing and records nothing.
  auto twice = authoring.Save(admin_, framework_.id, Authoring::Token(saved->document), changed);
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(Audited("framework.edit").size(), 1u);
}

TEST_P(AuthoringTest, SecondEditorFromTheSameVersionIsRefused) {
  Authoring authoring(*db_, clock_);
  const std::string token = Authoring::Token(framework_.document);
  ASSERT_TRUE(authoring.Save(admin_, framework_.id, token, WithAdvanced(framework_.document, 2, 97)).ok());
  auto second = authoring.Save(admin_, framework_.id, token, WithAdvanced(framework_.document, 3, 99));
  EXPECT_EQ(second.status().code(), StatusCode::kConflict);
  auto stored = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(stored.ok());
  const json doc = json::parse(stored->document);
  EXPECT_EQ(doc["kpis"][2]["criteria"]["targets"][2], 97);   // the first editor's change stays
  EXPECT_EQ(doc["kpis"][3]["criteria"]["targets"][2], 100);  // the second's is not applied
}

TEST_P(AuthoringTest, TwoEditorsSavingAtOnceOneWins) {
  storage::DatabasePool pool(url_, 4);
  const std::string token = Authoring::Token(framework_.document);
  auto save = [&](size_t index) {
    auto lease = pool.Acquire();
    if (!lease.ok()) return StatusCode::kInternal;
    return Authoring(**lease, clock_)
        .Save(admin_, framework_.id, token, WithAdvanced(framework_.document, index, 98))
        .status()
        .code();
  };
  auto a = std::async(std::launch::async, save, 2);
  auto b = std::async(std::launch::async, save, 3);
  std::vector<StatusCode> codes = {a.get(), b.get()};
  EXPECT_EQ(std::count(codes.begin(), codes.end(), StatusCode::kOk), 1);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), StatusCode::kConflict), 1);
  EXPECT_EQ(Audited("framework.edit").size(), 1u);
}

TEST_P(AuthoringTest, FrozenFrameworkMakesANewVersionShownInWords) {
  Cycle cycle(*db_, clock_);
  ASSERT_TRUE(cycle.OpenRound(admin_, framework_.id, 12, kJan2024 + 30 * kDay).ok());
  auto frozen = cycle.Framework(framework_.id);
  ASSERT_TRUE(frozen.ok() && frozen->frozen);
  Authoring authoring(*db_, clock_);
  auto saved = authoring.Save(admin_, framework_.id, Authoring::Token(frozen->document),
                              WithAdvanced(frozen->document, 2, 97));
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  EXPECT_NE(saved->id, framework_.id);
  EXPECT_EQ(saved->version, 2);
  EXPECT_FALSE(saved->frozen);
  // The frozen version is unchanged; the new one's difference from it, in words.
  auto kept = cycle.Framework(framework_.id);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->document, frozen->document);
  auto previous = authoring.PreviousVersion(*saved);
  ASSERT_TRUE(previous.ok() && previous->has_value());
  EXPECT_EQ((*previous)->id, framework_.id);
  const auto changes = domain::DiffFrameworks((*previous)->framework, saved->framework);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].text.th, "ตัวชี้วัด 3: เป้าหมายขั้นสูง 100 → 97");
  ASSERT_EQ(Audited("framework.version").size(), 1u);
  // Saving the frozen version again, now that version 2 exists, is refused.
  auto stale = authoring.Save(admin_, framework_.id, Authoring::Token(frozen->document),
                              WithAdvanced(frozen->document, 2, 96));
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  auto versions = db_->Query("SELECT COUNT(*) FROM frameworks WHERE fiscal_year = 2567", {});
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ((*versions)[0].Int(0), 2);
  auto verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
}

TEST_P(AuthoringTest, BadDocumentsAreRefusedInThaiAndEnglishAndNothingChanges) {
  Authoring authoring(*db_, clock_);
  const std::string token = Authoring::Token(framework_.document);
  json weights = json::parse(framework_.document);
  weights["assignments"][1]["kpis"][0]["weight"] = 90;  // OCS's weights no longer add up
  json year = json::parse(framework_.document);
  year["fiscal_year"] = 2570;
  const std::vector<std::string> bad = {"", "{", "[1, 2]", std::string(300, '['), weights.dump(),
                                        year.dump(), "{\"kpis\": 5}"};
  for (const std::string& document : bad) {
    auto saved = authoring.Save(admin_, framework_.id, token, document);
    EXPECT_EQ(saved.status().code(), StatusCode::kInvalidInput) << document.substr(0, 40);
    EXPECT_FALSE(saved.status().message_th().empty());
    EXPECT_FALSE(saved.status().message_en().empty());
  }
  const Actor evaluator{9, Role::kEvaluator, "", "evaluator"};
  EXPECT_EQ(authoring.Save(evaluator, framework_.id, token, framework_.document).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(authoring.Save(admin_, 424242, token, framework_.document).status().code(),
            StatusCode::kNotFound);
  auto stored = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->document, framework_.document);
  EXPECT_TRUE(Audited("framework.edit").empty());
}

// ---- the forms (formats::ApplyKpiForm / ApplyComponentsForm through the service) ----

TEST_P(AuthoringTest, KpiFormUntouchedChangesNothingAndAnEditIsSavedAndAudited) {
  Authoring authoring(*db_, clock_);
  const json doc = json::parse(framework_.document);
  formats::FormFields fields = formats::KpiFormFields(doc["kpis"][2]);
  const std::string token = Authoring::Token(framework_.document);
  auto same = authoring.SaveKpiForm(admin_, framework_.id, token, "3", fields);
  ASSERT_TRUE(same.ok()) << same.status().ToString(false);
  EXPECT_EQ(same->document, framework_.document);
  EXPECT_TRUE(Audited("framework.edit").empty());
  fields["unit.en"] = "per cent";
  fields["doc.scope.th"] = "ขอบเขตใหม่";
  fields["doc.scope.en"] = "";
  auto saved = authoring.SaveKpiForm(admin_, framework_.id, token, "3", fields);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  EXPECT_EQ(saved->id, framework_.id);
  const json after = json::parse(saved->document);
  EXPECT_EQ(after["kpis"][2]["unit"]["en"], "per cent");
  EXPECT_EQ(after["kpis"][2]["documentation"]["scope"], "ขอบเขตใหม่");
  EXPECT_EQ(after["kpis"][2]["criteria"], doc["kpis"][2]["criteria"]);
  const auto audited = Audited("framework.edit");
  ASSERT_EQ(audited.size(), 1u);
  EXPECT_EQ(json::parse(audited[0].second).size(), 2u);  // two changes in the patch
}

TEST_P(AuthoringTest, KpiFormErrorsNameTheField) {
  Authoring authoring(*db_, clock_);
  const json doc = json::parse(framework_.document);
  const std::string token = Authoring::Token(framework_.document);
  formats::FormFields fields = formats::KpiFormFields(doc["kpis"][0]);
  fields["key"] = "Bad Key";
  auto bad = authoring.SaveKpiForm(admin_, framework_.id, token, "1", fields);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(bad.status().where().json_path, "key");
  EXPECT_NE(bad.status().message_th().find("รหัสประจำตัวชี้วัด"), std::string::npos);
  // A key KPI 8 has already: `esar check`'s error, named by the field it concerns.
  fields["key"] = "pmqa";
  auto duplicate = authoring.SaveKpiForm(admin_, framework_.id, token, "1", fields);
  EXPECT_EQ(duplicate.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(duplicate.status().where().json_path, "key") << duplicate.status().ToString(false);
  fields = formats::KpiFormFields(doc["kpis"][0]);
  fields["variables.0.type"] = "text";
  auto type = authoring.SaveKpiForm(admin_, framework_.id, token, "1", fields);
  EXPECT_EQ(type.status().where().json_path, "variables.0.type");
  EXPECT_FALSE(type.status().message_en().empty());
  // A result formula naming a variable the KPI does not have.
  fields = formats::KpiFormFields(doc["kpis"][2]);
  fields["result"] = "nothing_like_this * 2";
  auto result = authoring.SaveKpiForm(admin_, framework_.id, token, "3", fields);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidInput);
  // The engine finds it when it compiles the KPI: the message names the KPI and the name.
  EXPECT_NE(result.status().message_en().find("nothing_like_this"), std::string::npos)
      << result.status().ToString(false);
  EXPECT_NE(result.status().message_th().find("nothing_like_this"), std::string::npos);
  EXPECT_EQ(authoring.SaveKpiForm(admin_, framework_.id, token, "99", fields).status().code(),
            StatusCode::kNotFound);
  const Actor evaluator{9, Role::kEvaluator, "", "evaluator"};
  EXPECT_EQ(authoring.SaveKpiForm(evaluator, framework_.id, token, "3", fields).status().code(),
            StatusCode::kPermissionDenied);
  auto stored = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->document, framework_.document);
  EXPECT_TRUE(Audited("framework.edit").empty());
}

TEST_P(AuthoringTest, KpiFormFromAStaleVersionIsRefused) {
  Authoring authoring(*db_, clock_);
  const json doc = json::parse(framework_.document);
  const std::string token = Authoring::Token(framework_.document);
  formats::FormFields first = formats::KpiFormFields(doc["kpis"][3]);
  formats::FormFields second = first;
  first["unit.th"] = "ร้อยละ (ก)";
  second["unit.th"] = "ร้อยละ (ข)";
  ASSERT_TRUE(authoring.SaveKpiForm(admin_, framework_.id, token, "4", first).ok());
  auto stale = authoring.SaveKpiForm(admin_, framework_.id, token, "4", second);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_NE(stale.status().message_th().find("มีผู้อื่นบันทึก"), std::string::npos);
  auto stored = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(json::parse(stored->document)["kpis"][3]["unit"]["th"], "ร้อยละ (ก)");
}

TEST_P(AuthoringTest, KpiFormOnAFrozenFrameworkMakesAVersionShownInWords) {
  Cycle cycle(*db_, clock_);
  ASSERT_TRUE(cycle.OpenRound(admin_, framework_.id, 12, kJan2024 + 30 * kDay).ok());
  auto frozen = cycle.Framework(framework_.id);
  ASSERT_TRUE(frozen.ok() && frozen->frozen);
  Authoring authoring(*db_, clock_);
  formats::FormFields fields = formats::KpiFormFields(json::parse(frozen->document)["kpis"][2]);
  fields["unit.th"] = "ร้อยละของร่างกฎหมาย";
  auto saved = authoring.SaveKpiForm(admin_, framework_.id, Authoring::Token(frozen->document), "3", fields);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  EXPECT_NE(saved->id, framework_.id);
  EXPECT_EQ(saved->version, 2);
  auto kept = cycle.Framework(framework_.id);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->document, frozen->document);
  const auto changes = domain::DiffFrameworks(frozen->framework, saved->framework);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].text.th, "ตัวชี้วัด 3: หน่วย “ร้อยละ” → “ร้อยละของร่างกฎหมาย”");
  EXPECT_EQ(Audited("framework.version").size(), 1u);
}

TEST_P(AuthoringTest, CriteriaFormErrorsNameTheFieldAndAFrozenChangeIsShownInWords) {
  Authoring authoring(*db_, clock_);
  const json doc = json::parse(framework_.document);
  const std::string token = Authoring::Token(framework_.document);
  formats::FormFields fields = formats::KpiFormFields(doc["kpis"][2]);
  // A formula naming nothing the KPI has: `esar check`'s error, beside the target it concerns.
  fields["criteria.targets.1.value"] = "no_such_name * 2";
  auto bad = authoring.SaveKpiForm(admin_, framework_.id, token, "3", fields);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(bad.status().where().json_path, "criteria.targets.1.value")
      << bad.status().ToString(false);
  EXPECT_NE(bad.status().message_th().find("no_such_name"), std::string::npos);
  fields = formats::KpiFormFields(doc["kpis"][2]);
  fields["criteria.targets.2.value"] = "";
  fields["criteria.targets.2.strict"] = "1";
  EXPECT_EQ(authoring.SaveKpiForm(admin_, framework_.id, token, "3", fields).status().where().json_path,
            "criteria.targets.2.value");
  auto unchanged = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->document, framework_.document);

  Cycle cycle(*db_, clock_);
  ASSERT_TRUE(cycle.OpenRound(admin_, framework_.id, 12, kJan2024 + 30 * kDay).ok());
  auto frozen = cycle.Framework(framework_.id);
  ASSERT_TRUE(frozen.ok() && frozen->frozen);
  fields = formats::KpiFormFields(json::parse(frozen->document)["kpis"][2]);
  fields["criteria.targets.2.value"] = "97";
  auto saved = authoring.SaveKpiForm(admin_, framework_.id, Authoring::Token(frozen->document),
                                     "3", fields);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  EXPECT_EQ(saved->version, 2);
  EXPECT_EQ(json::parse(saved->document)["kpis"][2]["criteria"]["targets"][2], 97);
  const auto changes = domain::DiffFrameworks(frozen->framework, saved->framework);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].text.th.find("ตัวชี้วัด 3"), std::string::npos) << changes[0].text.th;
  EXPECT_NE(changes[0].text.th.find("100 → 97"), std::string::npos) << changes[0].text.th;
  // The same form again, from the old version: refused, nothing more saved.
  auto stale = authoring.SaveKpiForm(admin_, framework_.id, Authoring::Token(frozen->document),
                                     "3", fields);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_EQ(Audited("framework.version").size(), 1u);
}

TEST_P(AuthoringTest, GroupsFormErrorsNameTheFieldAndAFrozenChangeIsShownInWords) {
  Authoring authoring(*db_, clock_);
  const json doc = json::parse(framework_.document);
  const std::string token = Authoring::Token(framework_.document);
  // KPI 8: PMQA groups chosen by the FY2566 score s, each group's targets formulas of s.
  const formats::FormFields shown = formats::KpiFormFields(doc["kpis"][7]);
  ASSERT_EQ(shown.at("criteria.form"), "groups");
  formats::FormFields fields = shown;
  // A group's target naming nothing the KPI has: the engine's error, beside that target.
  fields["criteria.groups.2.criteria.targets.1.value"] = "no_such_name * 2";
  auto bad = authoring.SaveKpiForm(admin_, framework_.id, token, "8", fields);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(bad.status().where().json_path, "criteria.groups.2.criteria.targets.1.value")
      << bad.status().ToString(false);
  EXPECT_NE(bad.status().message_th().find("no_such_name"), std::string::npos);
  // A bound that is not a number, named by its field in words.
  fields = shown;
  fields["criteria.groups.1.low"] = "สามร้อยห้าสิบ";
  bad = authoring.SaveKpiForm(admin_, framework_.id, token, "8", fields);
  EXPECT_EQ(bad.status().where().json_path, "criteria.groups.1.low");
  EXPECT_NE(bad.status().message_th().find("ขอบล่างของกลุ่ม 2"), std::string::npos)
      << bad.status().message_th();
  EXPECT_NE(bad.status().message_en().find("lower bound of group 2"), std::string::npos);
  // Two groups overlapping: `esar check`'s error, at the group it concerns.
  fields = shown;
  fields["criteria.groups.1.high_kind"] = "at_most";
  fields["criteria.groups.1.high"] = "420";
  bad = authoring.SaveKpiForm(admin_, framework_.id, token, "8", fields);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(bad.status().where().json_path.rfind("criteria.groups.", 0), 0u)
      << bad.status().ToString(false);
  auto unchanged = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->document, framework_.document);

  Cycle cycle(*db_, clock_);
  ASSERT_TRUE(cycle.OpenRound(admin_, framework_.id, 12, kJan2024 + 30 * kDay).ok());
  auto frozen = cycle.Framework(framework_.id);
  ASSERT_TRUE(frozen.ok() && frozen->frozen);
  fields = formats::KpiFormFields(json::parse(frozen->document)["kpis"][7]);
  fields["criteria.groups.2.criteria.targets.2.value"] = "s * 1.03";
  auto saved = authoring.SaveKpiForm(admin_, framework_.id, Authoring::Token(frozen->document),
                                     "8", fields);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  EXPECT_EQ(saved->version, 2);
  json want = json::parse(frozen->document)["kpis"][7];
  want["criteria"]["groups"][2]["criteria"]["targets"][2] = "s * 1.03";
  EXPECT_EQ(json::parse(saved->document)["kpis"][7], want);
  const auto changes = domain::DiffFrameworks(frozen->framework, saved->framework);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].text.th.find("ตัวชี้วัด 8"), std::string::npos) << changes[0].text.th;
  EXPECT_NE(changes[0].text.th.find("กลุ่ม 3"), std::string::npos) << changes[0].text.th;
  EXPECT_NE(changes[0].text.th.find("s * 1.03"), std::string::npos) << changes[0].text.th;
  auto stale = authoring.SaveKpiForm(admin_, framework_.id, Authoring::Token(frozen->document),
                                     "8", fields);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_EQ(Audited("framework.version").size(), 1u);
}

TEST_P(AuthoringTest, PointsFormChosenForAKpiIsSavedAndItsErrorsNameTheField) {
  Authoring authoring(*db_, clock_);
  const json doc = json::parse(framework_.document);
  const std::string token = Authoring::Token(framework_.document);
  // KPI 4's levels replaced by points items on its own variables.
  formats::FormFields fields = formats::KpiFormFields(doc["kpis"][3]);
  ASSERT_FALSE(fields.at("variables.0.id").empty());
  const std::string variable = fields.at("variables.0.id");
  fields["criteria.form"] = "points";
  fields["criteria.items.0.id"] = "half";
  fields["criteria.items.0.points"] = "60";
  fields["criteria.items.0.when"] = variable + " >= 50";
  fields["criteria.items.1.id"] = "all";
  fields["criteria.items.1.points"] = "40";
  fields["criteria.items.1.when"] = variable + " >= 100";
  fields["criteria.items.1.requires"] = "later";
  auto bad = authoring.SaveKpiForm(admin_, framework_.id, token, "4", fields);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(bad.status().where().json_path, "criteria.items.1.requires");
  EXPECT_NE(bad.status().message_th().find("later"), std::string::npos);
  fields["criteria.items.1.requires"] = "half";
  fields["criteria.items.1.when"] = "nobody_reports_this >= 100";
  bad = authoring.SaveKpiForm(admin_, framework_.id, token, "4", fields);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(bad.status().where().json_path, "criteria.items.1.when") << bad.status().ToString(false);
  fields["criteria.items.1.when"] = variable + " >= 100";
  auto saved = authoring.SaveKpiForm(admin_, framework_.id, token, "4", fields);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  const json criteria = json::parse(saved->document)["kpis"][3]["criteria"];
  EXPECT_EQ(criteria["form"], "points");
  EXPECT_EQ(criteria["items"][1]["requires"], json::array({"half"}));
  EXPECT_EQ(criteria["items"][0]["points"], 60);
  EXPECT_EQ(Audited("framework.edit").size(), 1u);
}

TEST_P(AuthoringTest, ANewKpiIsAddedFromTheFormWithoutJson) {
  Authoring authoring(*db_, clock_);
  const std::string token = Authoring::Token(framework_.document);
  formats::FormFields fields = {{"name.th", "ร้อยละของเรื่องร้องเรียนที่แก้ไขเสร็จ"},
                                {"component", "performance"},
                                {"round.12", "1"},
                                {"variables.0.id", "solved_percent"},
                                {"variables.0.type", "percent"},
                                {"variables.0.name.th", "ร้อยละที่แก้ไขเสร็จ"},
                                {"criteria.form", "levels"},
                                {"criteria.direction", "higher"},
                                {"criteria.scoring", "interpolate"},
                                {"criteria.targets.0.value", "70"},
                                {"criteria.targets.1.value", "80"},
                                {"criteria.targets.2.value", "no_such_name + 1"},
                                {"doc.description.th", "เรื่องร้องเรียนที่แก้ไขเสร็จในปี"}};
  // esar check's error on the new KPI, beside its field; nothing saved.
  auto bad = authoring.AddKpiForm(admin_, framework_.id, token, "9", fields);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(bad.status().where().json_path, "criteria.targets.2.value") << bad.status().ToString(false);
  fields["criteria.targets.2.value"] = "90";
  fields["name.th"] = "";
  EXPECT_EQ(authoring.AddKpiForm(admin_, framework_.id, token, "9", fields).status().where().json_path,
            "name.th");
  fields["name.th"] = "ร้อยละของเรื่องร้องเรียนที่แก้ไขเสร็จ";
  EXPECT_EQ(authoring.AddKpiForm(admin_, framework_.id, token, "9 9", fields).status().where().json_path,
            "id");
  EXPECT_EQ(authoring.AddKpiForm(admin_, framework_.id, token, "3", fields).status().code(),
            StatusCode::kConflict);  // KPI 3 exists
  auto unchanged = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->document, framework_.document);
  const Actor evaluator{9, Role::kEvaluator, "", "evaluator"};
  EXPECT_EQ(authoring.AddKpiForm(evaluator, framework_.id, token, "9", fields).status().code(),
            StatusCode::kPermissionDenied);

  auto saved = authoring.AddKpiForm(admin_, framework_.id, token, "9", fields);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  const json kpis = json::parse(saved->document)["kpis"];
  ASSERT_EQ(kpis.size(), json::parse(framework_.document)["kpis"].size() + 1);
  EXPECT_EQ(kpis.back(), json::parse(R"({"id": "9", "name": "ร้อยละของเรื่องร้องเรียนที่แก้ไขเสร็จ",
      "component": "performance", "rounds": [12],
      "variables": [{"id": "solved_percent", "type": "percent", "name": "ร้อยละที่แก้ไขเสร็จ"}],
      "criteria": {"form": "levels", "targets": [70, 80, 90]},
      "documentation": {"description": "เรื่องร้องเรียนที่แก้ไขเสร็จในปี"}})"));
  ASSERT_NE(domain::FindKpi(saved->framework.kpis, "9"), nullptr);
  EXPECT_EQ(Audited("framework.edit").size(), 1u);
  // The same form again from the old version: refused (stale), nothing more added.
  EXPECT_EQ(authoring.AddKpiForm(admin_, framework_.id, token, "10", fields).status().code(),
            StatusCode::kConflict);
  // Once frozen, a new KPI makes the next version, its difference in words.
  Cycle cycle(*db_, clock_);
  ASSERT_TRUE(cycle.OpenRound(admin_, framework_.id, 12, kJan2024 + 30 * kDay).ok());
  auto frozen = cycle.Framework(framework_.id);
  ASSERT_TRUE(frozen.ok() && frozen->frozen);
  fields["name.th"] = "ตัวชี้วัดที่เพิ่มหลังเปิดรอบ";
  auto next = authoring.AddKpiForm(admin_, framework_.id, Authoring::Token(frozen->document), "10", fields);
  ASSERT_TRUE(next.ok()) << next.status().ToString(false);
  EXPECT_EQ(next->version, 2);
  const auto changes = domain::DiffFrameworks(frozen->framework, next->framework);
  ASSERT_FALSE(changes.empty());
  EXPECT_NE(changes[0].text.th.find("10"), std::string::npos) << changes[0].text.th;
}

TEST_P(AuthoringTest, ComponentsFormSavesNamesAndRefusesSharesTheWeightsDoNotMatch) {
  Authoring authoring(*db_, clock_);
  // Components for the OCS framework: performance 70 (KPIs 1-4) and potential 30 (KPIs 5-8)
  // match OCS's weights, but not the other agencies' (KPIs 5-8 only, 100 in all).
  const std::string token = Authoring::Token(framework_.document);
  formats::FormFields fields = {{"components.0.id", "performance"},
                                {"components.0.name.th", "ประสิทธิผล"},
                                {"components.0.share", "70"},
                                {"components.1.id", "potential"},
                                {"components.1.name.th", "ศักยภาพ"},
                                {"components.1.share", "30"}};
  auto refused = authoring.SaveComponentsForm(admin_, framework_.id, token, fields);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidInput);
  EXPECT_FALSE(refused.status().message_th().empty());
  fields["components.1.share"] = "thirty";
  auto typed = authoring.SaveComponentsForm(admin_, framework_.id, token, fields);
  EXPECT_EQ(typed.status().where().json_path, "components.1.share");
  auto stored = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->document, framework_.document);
  // The MOF framework has its components: a name changes, nothing else does.
  auto mof = Cycle(*db_, clock_)
                 .ImportFramework(admin_, ReadText(fs::path(ESAR_SOURCE_DIR) / "examples" /
                                                   "mof-ops-2564" / "framework.json"));
  ASSERT_TRUE(mof.ok()) << mof.status().ToString(false);
  formats::FormFields names = formats::ComponentsFormFields(json::parse(mof->document));
  names["components.1.name.en"] = "Potential";
  auto saved = authoring.SaveComponentsForm(admin_, mof->id, Authoring::Token(mof->document), names);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  const auto changes = domain::DiffFrameworks(mof->framework, saved->framework);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_NE(changes[0].text.en.find("Potential"), std::string::npos) << changes[0].text.en;
  auto stale = authoring.SaveComponentsForm(admin_, mof->id, Authoring::Token(mof->document), names);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
}

// What `framework` assigns each agency of `codes`: KPI ids with weights (Engine's resolution).
std::map<std::string, std::vector<std::pair<std::string, double>>> Resolved(
    const domain::Framework& framework, const std::vector<std::string>& codes) {
  auto engine = domain::Engine::Compile(framework, 12);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString(false);
  std::map<std::string, std::vector<std::pair<std::string, double>>> out;
  if (!engine.ok()) return out;
  for (const std::string& code : codes) out[code] = engine->AssignedKpis(code);
  return out;
}

TEST_P(AuthoringTest, AssignmentFormSavesWhatIsEnteredForOneAgencyAndNothingElse) {
  Authoring authoring(*db_, clock_);
  const std::vector<std::string> others = {"OCS", "BOI", "OGGP", "DCLS", "DLIS"};
  const auto before = Resolved(framework_.framework, others);
  // DSD is named by a rule with five others (KPIs 5-8) and by its own (KPI 6's own targets,
  // KPI 7 exempt). It now gets KPIs 1, 2, 5 and 6, KPIs 7 and 8 taken away.
  formats::FormFields form = {{"assigned.1", "1"}, {"weight.1", "30"},  {"assigned.2", "1"},
                              {"weight.2", "20"},  {"assigned.5", "1"}, {"weight.5", "25"},
                              {"assigned.6", "1"}, {"weight.6", "25"}};
  auto saved = authoring.SaveAssignmentForm(admin_, framework_.id,
                                            Authoring::Token(framework_.document), {"DSD"}, form);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  EXPECT_EQ(saved->id, framework_.id);  // a draft: changed in place
  const auto after = Resolved(saved->framework, {"DSD"});
  const std::vector<std::pair<std::string, double>> expected = {
      {"1", 30}, {"2", 20}, {"5", 25}, {"6", 25}};
  EXPECT_EQ(after.at("DSD"), expected);
  EXPECT_EQ(Resolved(saved->framework, others), before);
  // The form shows again exactly what was entered, and DSD keeps its own targets for KPI 6.
  EXPECT_EQ(formats::AssignmentFormFields(json::parse(saved->document), "DSD"), form);
  auto engine = domain::Engine::Compile(saved->framework, 12);
  ASSERT_TRUE(engine.ok());
  bool own_targets = false;
  for (const auto& rule : saved->framework.assignments) {
    for (const auto& a : rule.kpis) {
      if (a.kpi == "6" && a.criteria && rule.agencies == std::vector<std::string>{"DSD"})
        own_targets = true;
    }
  }
  EXPECT_TRUE(own_targets);
  ASSERT_EQ(Audited("framework.edit").size(), 1u);
  // The same form again changes nothing and records nothing.
  auto again = authoring.SaveAssignmentForm(admin_, framework_.id,
                                            Authoring::Token(saved->document), {"DSD"}, form);
  ASSERT_TRUE(again.ok()) << again.status().ToString(false);
  EXPECT_EQ(again->document, saved->document);
  EXPECT_EQ(Audited("framework.edit").size(), 1u);
  // A new agency without any rule is given its KPIs by one new rule.
  ASSERT_TRUE(
      Directory(*db_, clock_, nullptr)
          .SaveAgency(admin_, AgencyForm{"DOE", "กรมการจัดหางาน", "", "department", "MOL", ""}, true)
          .ok());
  formats::FormFields doe = {
      {"assigned.3", "1"}, {"weight.3", "60"}, {"assigned.4", "1"}, {"weight.4", "40"}};
  auto added = authoring.SaveAssignmentForm(admin_, framework_.id,
                                            Authoring::Token(saved->document), {"DOE"}, doe);
  ASSERT_TRUE(added.ok()) << added.status().ToString(false);
  EXPECT_EQ(Resolved(added->framework, {"DOE"}).at("DOE"),
            (std::vector<std::pair<std::string, double>>{{"3", 60}, {"4", 40}}));
  EXPECT_EQ(added->framework.assignments.size(), saved->framework.assignments.size() + 1);
  auto verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
}

TEST_P(AuthoringTest, AssignmentFormRefusalsNameTheFieldAndChangeNothing) {
  Authoring authoring(*db_, clock_);
  const std::string token = Authoring::Token(framework_.document);
  auto refused = [&](const formats::FormFields& form, const std::string& field) {
    auto r = authoring.SaveAssignmentForm(admin_, framework_.id, token, {"DSD"}, form);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput) << field;
    EXPECT_EQ(r.status().where().json_path, field);
    EXPECT_FALSE(r.status().message_th().empty());
    EXPECT_FALSE(r.status().message_en().empty());
  };
  // 90 in all: `esar check`'s message, at the total.
  refused({{"assigned.5", "1"}, {"weight.5", "40"}, {"assigned.6", "1"}, {"weight.6", "50"}},
          "total");
  refused({{"assigned.5", "1"}, {"weight.5", "forty"}}, "weight.5");
  refused({{"assigned.5", "1"}, {"weight.5", "140"}}, "weight.5");
  refused({{"weight.5", "100"}}, "weight.5");  // a weight for a KPI not ticked
  refused({{"assigned.5", "1"}, {"assigned.6", "1"}, {"weight.6", "100"}}, "weight.5");
  auto stored = Cycle(*db_, clock_).Framework(framework_.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->document, framework_.document);
  const formats::FormFields good = {{"assigned.5", "1"}, {"weight.5", "100"}};
  // Only admins, never a read-only token; an unknown agency; a stale form.
  Actor reporter{7, Role::kReporter, "DSD", "reporter"};
  EXPECT_EQ(
      authoring.SaveAssignmentForm(reporter, framework_.id, token, {"DSD"}, good).status().code(),
      StatusCode::kPermissionDenied);
  Actor read_only = admin_;
  read_only.read_only = true;
  EXPECT_EQ(
      authoring.SaveAssignmentForm(read_only, framework_.id, token, {"DSD"}, good).status().code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(
      authoring.SaveAssignmentForm(admin_, framework_.id, token, {"NOPE"}, good).status().code(),
      StatusCode::kNotFound);
  ASSERT_TRUE(authoring.SaveAssignmentForm(admin_, framework_.id, token, {"DSD"}, good).ok());
  EXPECT_EQ(
      authoring.SaveAssignmentForm(admin_, framework_.id, token, {"DSD"}, good).status().code(),
      StatusCode::kConflict);
}

TEST_P(AuthoringTest, AssignmentFormChecksComponentsAndAFrozenFrameworkMakesAVersion) {
  ASSERT_TRUE(Directory(*db_, clock_, nullptr)
                  .UpsertAgencies(Actor::System(),
                                  *formats::LoadAgencies((fs::path(ESAR_SOURCE_DIR) / "examples" /
                                                          "mof-ops-2564" / "agencies.csv")
                                                             .string()))
                  .ok());
  Cycle cycle(*db_, clock_);
  auto mof = cycle.ImportFramework(
      admin_, ReadText(fs::path(ESAR_SOURCE_DIR) / "examples" / "mof-ops-2564" / "framework.json"));
  ASSERT_TRUE(mof.ok()) << mof.status().ToString(false);
  Authoring authoring(*db_, clock_);
  // Performance is 70, potential 30: 60 + 40 adds up to 100 but not per component.
  formats::FormFields form = {
      {"assigned.1", "1"}, {"weight.1", "60"}, {"assigned.4", "1"}, {"weight.4", "40"}};
  auto refused =
      authoring.SaveAssignmentForm(admin_, mof->id, Authoring::Token(mof->document), {"FPO"}, form);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(refused.status().where().json_path, "component.performance");
  ASSERT_TRUE(cycle.OpenRound(admin_, mof->id, 12, kJan2024 + 30 * kDay).ok());
  auto frozen = cycle.Framework(mof->id);
  ASSERT_TRUE(frozen.ok() && frozen->frozen);
  form["weight.1"] = "70";
  form["weight.4"] = "30";
  auto saved = authoring.SaveAssignmentForm(admin_, mof->id, Authoring::Token(frozen->document),
                                            {"FPO"}, form);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  EXPECT_EQ(saved->version, 2);
  EXPECT_EQ(Resolved(saved->framework, {"FPO"}).at("FPO"),
            (std::vector<std::pair<std::string, double>>{{"1", 70}, {"4", 30}}));
  // CGD and EXCISE, named with FPO by one rule, keep theirs.
  EXPECT_EQ(Resolved(saved->framework, {"CGD", "EXCISE", "MOF-OPS"}),
            Resolved(frozen->framework, {"CGD", "EXCISE", "MOF-OPS"}));
  const auto changes = domain::DiffFrameworks(frozen->framework, saved->framework);
  EXPECT_FALSE(changes.empty());
  bool names_fpo = false;
  for (const auto& c : changes) names_fpo |= c.text.th.find("FPO") != std::string::npos;
  EXPECT_TRUE(names_fpo);
  ASSERT_EQ(Audited("framework.version").size(), 1u);
}

TEST_P(AuthoringTest, AgencyFormSavesOwnTargetsAndExemptionsWithTheirReasons) {
  Authoring authoring(*db_, clock_);
  const json document = json::parse(framework_.document);
  // BOI has its own targets for KPI 6 (2 / 3 / 4) and is exempt from KPI 7 with a reason.
  formats::FormFields form = formats::AssignmentFormFields(document, "BOI");
  const formats::FormFields own = formats::AgencyOwnFormFields(document, "BOI");
  form.insert(own.begin(), own.end());
  EXPECT_EQ(form["own.6.targets.0.value"], "2");
  EXPECT_EQ(form["exempt.7"], "1");
  EXPECT_EQ(form["exempt.7.th"], "ไม่ต้องประเมินตัวชี้วัดนี้ เนื่องจากไม่มีผลคะแนนปี 66");
  // Untouched, the form changes nothing.
  auto same = authoring.SaveAssignmentForm(admin_, framework_.id,
                                           Authoring::Token(framework_.document), {"BOI"}, form);
  ASSERT_TRUE(same.ok()) << same.status().ToString(false);
  EXPECT_TRUE(domain::DiffFrameworks(framework_.framework, same->framework).empty());
  // A lower basic target for KPI 6, an exemption from KPI 8 without a reason (refused at its
  // field), then with one.
  form["own.6.targets.0.value"] = "1";
  form["exempt.8"] = "1";
  auto refused = authoring.SaveAssignmentForm(admin_, framework_.id,
                                              Authoring::Token(same->document), {"BOI"}, form);
  EXPECT_EQ(refused.status().where().json_path, "exempt.8.th");
  form["exempt.8.th"] = "อยู่ระหว่างปรับโครงสร้าง";
  form["exempt.8.en"] = "being reorganised";
  auto saved = authoring.SaveAssignmentForm(admin_, framework_.id, Authoring::Token(same->document),
                                            {"BOI"}, form);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString(false);
  const json after = json::parse(saved->document);
  formats::FormFields shown = formats::AssignmentFormFields(after, "BOI");
  const formats::FormFields shown_own = formats::AgencyOwnFormFields(after, "BOI");
  shown.insert(shown_own.begin(), shown_own.end());
  EXPECT_EQ(shown, form);
  const auto changes = domain::DiffFrameworks(framework_.framework, saved->framework);
  std::string words;
  for (const auto& c : changes) words += c.text.th + "\n";
  EXPECT_NE(words.find("BOI"), std::string::npos) << words;
  EXPECT_NE(words.find("อยู่ระหว่างปรับโครงสร้าง"), std::string::npos) << words;
  // The other agencies keep theirs (DSD's own targets for KPI 6 too).
  for (const char* code : {"DSD", "OCS", "OGGP"}) {
    EXPECT_EQ(formats::AgencyOwnFormFields(after, code),
              formats::AgencyOwnFormFields(document, code))
        << code;
  }
  // OCS's KPI 1 (levels 80 / 90 / 100): a basic target of 70 is its own; 80 again, the KPI's,
  // leaves it no own criteria.
  auto own_of_ocs = [](const domain::Framework& f) {
    bool has_own = false;
    for (const auto& rule : f.assignments) {
      if (std::find(rule.agencies.begin(), rule.agencies.end(), "OCS") == rule.agencies.end())
        continue;
      for (const auto& a : rule.kpis) has_own |= a.kpi == "1" && a.criteria != nullptr;
    }
    return has_own;
  };
  formats::FormFields ocs = formats::AssignmentFormFields(after, "OCS");
  const formats::FormFields ocs_own = formats::AgencyOwnFormFields(after, "OCS");
  ocs.insert(ocs_own.begin(), ocs_own.end());
  EXPECT_EQ(ocs["own.1.targets.0.value"], "80");
  ocs["own.1.targets.0.value"] = "70";
  auto lower = authoring.SaveAssignmentForm(admin_, framework_.id,
                                            Authoring::Token(saved->document), {"OCS"}, ocs);
  ASSERT_TRUE(lower.ok()) << lower.status().ToString(false);
  EXPECT_TRUE(own_of_ocs(lower->framework));
  ocs["own.1.targets.0.value"] = "80";
  auto plain = authoring.SaveAssignmentForm(admin_, framework_.id,
                                            Authoring::Token(lower->document), {"OCS"}, ocs);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString(false);
  EXPECT_FALSE(own_of_ocs(plain->framework));
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthoringTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
