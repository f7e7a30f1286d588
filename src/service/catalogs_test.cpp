// Data catalogs in the server (issue 11 §3) through the services, on SQLite and on PostgreSQL:
// the upload checked, each dataset's faults kept and its counts saved as the KPI's draft; the
// counts no longer typed once uploaded; a malformed catalog refused with nothing stored; a new
// upload replacing the last (both kept); the datasets' rows audited.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "formats/inputs.h"
#include "service/audit.h"
#include "service/catalogs.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/reporting.h"
#include "storage/file_store.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kExample = fs::path(ESAR_SOURCE_DIR) / "examples" / "opdc-2565";
constexpr int64_t kJan2022 = 1641013200000;
constexpr int64_t kDay = 24LL * 3600 * 1000;

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CatalogsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    db_ = esar::testing::FreshDatabase(GetParam(), &url_);
    ASSERT_NE(db_, nullptr);
    dir_ = fs::temp_directory_path() /
           ("esar-catalogs-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto store = storage::OpenDiskFileStore((dir_ / "files").string());
    ASSERT_TRUE(store.ok());
    files_ = std::move(*store);
    Directory directory(*db_, clock_, &hasher_);
    auto agencies = formats::LoadAgencies((kExample / "agencies.csv").string());
    ASSERT_TRUE(agencies.ok());
    ASSERT_TRUE(directory.UpsertAgencies(Actor::System(), *agencies).ok());
    auto user = [&](const std::string& name, Role role, const std::string& agency) {
      auto id = directory.CreateUser(Actor::System(), {name, name, "password-" + name, role, agency});
      EXPECT_TRUE(id.ok()) << id.status().ToString(false);
      return Actor{id.ok() ? *id : 0, role, agency, name};
    };
    admin_ = user("admin.opdc", Role::kAdmin, "");
    evaluator_ = user("evaluator.one", Role::kEvaluator, "");
    reporter_ = user("reporter.opdc", Role::kReporter, "OPDC");
    other_ = user("reporter.d01", Role::kReporter, "D01");
    Cycle cycle(*db_, clock_);
    auto framework = cycle.ImportFramework(admin_, ReadText(kExample / "framework.json"));
    ASSERT_TRUE(framework.ok()) << framework.status().ToString(false);
    auto round = cycle.OpenRound(admin_, framework->id, 12, kJan2022 + 300 * kDay);
    ASSERT_TRUE(round.ok());
    round_ = round->id;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // A file written to the store's temporary area, as an upload leaves it.
  std::vector<PendingFile> Pending(const std::string& name, const std::string& bytes) {
    auto writer = files_->Create();
    EXPECT_TRUE(writer.ok());
    EXPECT_TRUE((*writer)->Write(bytes).ok());
    auto shared = std::shared_ptr<storage::FileWriter>(std::move(*writer));
    writers_.push_back(shared);
    return {{"catalog", name, shared->TemporaryPath(), [shared]() { return shared->Commit(); }}};
  }
  int64_t Count(const std::string& sql) {
    auto rows = db_->Query(sql);
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }
  json DraftValues() {
    auto current = Reporting(*db_, clock_).CurrentReport(round_, "OPDC", "7");
    EXPECT_TRUE(current.ok() && *current);
    return current.ok() && *current ? json::parse((*current)->report.values_json) : json();
  }

  FakeClock clock_{kJan2022};
  security::PasswordHasher hasher_{security::HashStrength::kMinimum, {4, 64, 60'000}};
  std::string url_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::FileStore> files_;
  std::vector<std::shared_ptr<storage::FileWriter>> writers_;
  fs::path dir_;
  Actor admin_, evaluator_, reporter_, other_;
  int64_t round_ = 0;
  static inline int counter_ = 0;
};

TEST_P(CatalogsTest, AnUploadKeepsEveryDatasetAndSavesTheCountsAsTheDraft) {
  Catalogs catalogs(*db_, clock_);
  auto out = catalogs.Upload(reporter_, round_, "OPDC", "7",
                             Pending("draft.csv", ReadText(kExample / "catalog-draft.csv")));
  ASSERT_TRUE(out.ok()) << out.status().ToString(false);
  EXPECT_FALSE(out->unchanged);
  const json summary = json::parse(out->upload.summary_json);
  EXPECT_EQ(summary["datasets"], 4);
  EXPECT_EQ(summary["complete"], 2);
  EXPECT_DOUBLE_EQ(summary["complete_percent"].get<double>(), 50.0);
  ASSERT_EQ(out->upload.files.size(), 1u);
  EXPECT_TRUE(files_->Exists(out->upload.files[0].sha256));
  const json values = DraftValues();
  EXPECT_EQ(values["datasets_listed"], 4) << values.dump();
  EXPECT_EQ(values["datasets_complete_metadata"], 2) << values.dump();

  // Each dataset as kept, its faults rebuilt with the schema's labels; filtered and paged.
  auto incomplete = catalogs.Datasets(evaluator_, out->upload.id, {"incomplete", "", 500, 0});
  ASSERT_TRUE(incomplete.ok()) << incomplete.status().ToString(false);
  EXPECT_EQ(incomplete->total, 2);
  ASSERT_EQ(incomplete->items.size(), 2u);
  EXPECT_EQ(incomplete->items[0].name, "opdc-complaints");
  EXPECT_EQ(incomplete->items[0].line, 3);
  bool email = false;
  for (const formats::CatalogFault& f : incomplete->items[0].faults) {
    if (f.field->name == "maintainer_email") {
      email = true;
      EXPECT_EQ(f.kind, formats::CatalogFaultKind::kBadEmail);
      EXPECT_EQ(f.value, "data(at)opdc.go.th");
      EXPECT_NE(f.Text(Lang::kThai).find("อีเมลผู้ติดต่อ"), std::string::npos);
    }
  }
  EXPECT_TRUE(email);
  auto second = catalogs.Datasets(reporter_, out->upload.id, {"complete", "", 1, 1});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->total, 2);
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].name, "opdc-awards");
  EXPECT_TRUE(second->items[0].complete());
  // In Thai dictionary order of the titles (the leading vowel เ of "เรื่อง…" sorts after its
  // consonant ร, so it comes after "รางวัล…" and before "ศูนย์…"; code point order puts it last).
  auto by_title = catalogs.Datasets(reporter_, out->upload.id, {"", "title", 50, 0});
  ASSERT_TRUE(by_title.ok()) << by_title.status().ToString(false);
  std::vector<std::string> names;
  for (const formats::CatalogDataset& d : by_title->items) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"opdc-kpi-results", "opdc-awards", "opdc-complaints",
                                             "opdc-gecc-centres"}));
  auto incomplete_by_title =
      catalogs.Datasets(reporter_, out->upload.id, {"incomplete", "title", 1, 1});
  ASSERT_TRUE(incomplete_by_title.ok());
  ASSERT_EQ(incomplete_by_title->items.size(), 1u);
  EXPECT_EQ(incomplete_by_title->items[0].name, "opdc-gecc-centres");
  EXPECT_EQ(catalogs.Datasets(evaluator_, out->upload.id, {"", "name", 10, 0}).status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(catalogs.Datasets(evaluator_, out->upload.id, {"nope", "", 10, 0}).status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(catalogs.Datasets(other_, out->upload.id, {"", "", 10, 0}).status().code(),
            StatusCode::kPermissionDenied);
  int64_t seen = 0;
  ASSERT_TRUE(catalogs
                  .EachDataset(evaluator_, out->upload.id, "",
                               [&](const formats::CatalogDataset& d) {
                                 EXPECT_EQ(d.index, seen++);
                                 return Status::Ok();
                               })
                  .ok());
  EXPECT_EQ(seen, 4);

  // Audited: the datasets' rows are part of the upload's recorded state.
  auto verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString(false);
  EXPECT_TRUE(verified->problems.empty()) << verified->problems[0].en;
  ASSERT_TRUE(db_->Execute("UPDATE catalog_datasets SET complete = 1, faults_json = '[]'").ok());
  auto tampered = AuditLog(*db_).Verify();
  ASSERT_TRUE(tampered.ok());
  EXPECT_FALSE(tampered->problems.empty());
}

// Before the first upload the counts are typed (the example's data.csv types them); afterwards a
// draft giving another value is refused in Thai and English and a draft without them keeps them.
TEST_P(CatalogsTest, TheCountsAreTypedOnlyUntilACatalogIsUploaded) {
  Reporting reporting(*db_, clock_);
  ASSERT_TRUE(reporting
                  .SaveDraft(reporter_, round_, "OPDC",
                             {"7", R"({"datasets_listed": 3, "datasets_complete_metadata": 3})",
                              "", "", ""})
                  .ok());
  auto out = Catalogs(*db_, clock_).Upload(reporter_, round_, "OPDC", "7",
                                           Pending("catalog.json", ReadText(kExample / "catalog.json")));
  ASSERT_TRUE(out.ok()) << out.status().ToString(false);
  EXPECT_EQ(DraftValues()["datasets_listed"], 10);
  auto refused = reporting.SaveDraft(reporter_, round_, "OPDC",
                                     {"7", R"({"datasets_listed": 11})", "", "", ""});
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(refused.status().message_th().find("บัญชีข้อมูล"), std::string::npos);
  EXPECT_NE(refused.status().message_en().find("data catalog"), std::string::npos);
  ASSERT_TRUE(reporting.SaveDraft(reporter_, round_, "OPDC", {"7", R"({"datasets_used": 2})", "", "", ""})
                  .ok());
  const json values = DraftValues();
  EXPECT_EQ(values["datasets_listed"], 10) << values.dump();
  EXPECT_EQ(values["datasets_complete_metadata"], 10) << values.dump();
  EXPECT_EQ(values["datasets_used"], 2) << values.dump();
}

// A malformed catalog is refused naming its line; nothing is stored, no file kept. A catalog
// without a dataset, a second file, a KPI without a catalog rule and another agency's reporter
// are refused too.
TEST_P(CatalogsTest, ARefusedCatalogStoresNothing) {
  Catalogs catalogs(*db_, clock_);
  const std::string cut = ReadText(kExample / "catalog.json").substr(0, 3000);
  auto bad = catalogs.Upload(reporter_, round_, "OPDC", "7", Pending("cut.json", cut));
  ASSERT_EQ(bad.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(bad.status().message_en().find("line"), std::string::npos) << bad.status().message_en();
  EXPECT_NE(bad.status().message_th().find("บรรทัด"), std::string::npos);
  const std::string deep = "{\"result\": {\"results\": [{\"title\": " + std::string(100, '[') +
                           std::string(100, ']') + "}]}}";
  EXPECT_EQ(catalogs.Upload(reporter_, round_, "OPDC", "7", Pending("deep.json", deep)).status().code(),
            StatusCode::kInvalidInput);
  const std::string header = ReadText(kExample / "catalog-draft.csv").substr(0, 200);
  EXPECT_EQ(catalogs
                .Upload(reporter_, round_, "OPDC", "7",
                        Pending("empty.csv", header.substr(0, header.find('\n') + 1)))
                .status()
                .code(),
            StatusCode::kInvalidInput);
  auto two = Pending("a.json", ReadText(kExample / "catalog.json"));
  two.push_back(Pending("b.json", ReadText(kExample / "catalog.json"))[0]);
  EXPECT_EQ(catalogs.Upload(reporter_, round_, "OPDC", "7", two).status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(catalogs
                .Upload(reporter_, round_, "OPDC", "1",
                        Pending("catalog.json", ReadText(kExample / "catalog.json")))
                .status()
                .code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(catalogs
                .Upload(other_, round_, "OPDC", "7",
                        Pending("catalog.json", ReadText(kExample / "catalog.json")))
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM data_uploads"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM catalog_datasets"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM submissions"), 0);
}

// A new upload replaces the last, both kept with their datasets; the same file again while its
// draft stands stores nothing.
TEST_P(CatalogsTest, ANewUploadReplacesTheLastBothKept) {
  Catalogs catalogs(*db_, clock_);
  auto first = catalogs.Upload(reporter_, round_, "OPDC", "7",
                               Pending("draft.csv", ReadText(kExample / "catalog-draft.csv")));
  ASSERT_TRUE(first.ok()) << first.status().ToString(false);
  auto again = catalogs.Upload(reporter_, round_, "OPDC", "7",
                               Pending("draft.csv", ReadText(kExample / "catalog-draft.csv")));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->unchanged);
  EXPECT_EQ(again->upload.id, first->upload.id);
  auto second = catalogs.Upload(reporter_, round_, "OPDC", "7",
                                Pending("catalog.json", ReadText(kExample / "catalog.json")));
  ASSERT_TRUE(second.ok()) << second.status().ToString(false);
  EXPECT_NE(second->upload.id, first->upload.id);
  auto old = catalogs.Get(evaluator_, first->upload.id);
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(old->replaced_by.has_value());
  EXPECT_EQ(*old->replaced_by, second->upload.id);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM catalog_datasets"), 14);
  EXPECT_EQ(DraftValues()["datasets_complete_metadata"], 10);
  auto history = DataFiles(*db_, clock_).History(evaluator_, round_, "OPDC", "7", kCatalogKind);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogsTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
