// The data-catalog checker (issue 11 §3): each of the 14 mandatory items, choices, "other",
// e-mail addresses, CKAN's JSON and CSV forms, the counts the framework uses, and what a
// malformed or hostile file gets (line and path named in both languages, bounded depth and size).
#include "formats/catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

namespace esar::formats {
namespace {

// One dataset with every mandatory item filled correctly, as CKAN's package_search gives it
// (tags as objects, the organization beside owner_org).
std::string GoodDataset(const std::string& name) {
  return R"({"name": ")" + name + R"(", "title": "สถิติเรื่องร้องเรียน",
    "data_type": "ข้อมูลสถิติ", "maintainer": "สมชาย ใจดี",
    "maintainer_email": "somchai@opdc.go.th", "tags": [{"name": "ร้องเรียน"}, {"name": "บริการ"}],
    "notes": "จำนวนเรื่องร้องเรียนรายเดือน", "objective": ["พันธกิจหน่วยงาน"],
    "update_frequency_unit": "เดือน", "geo_coverage": "ประเทศ", "data_source": "ระบบรับเรื่อง",
    "data_format": ["CSV", "XLS"], "data_category": "ข้อมูลสาธารณะ",
    "license_id": "Open Data Common", "owner_org": "0f3c2a9e-opdc",
    "organization": {"name": "opdc", "title": "สำนักงาน ก.พ.ร."}})";
}

std::string Export(const std::vector<std::string>& datasets) {
  std::string s = "{\"help\": \"package_search\", \"success\": true,\n \"result\": {\"count\": " +
                  std::to_string(datasets.size()) + ", \"results\": [\n";
  for (size_t i = 0; i < datasets.size(); ++i) s += (i ? ",\n" : "") + datasets[i];
  return s + "\n]}}\n";
}

// `good` with `field`'s value replaced by `value` (JSON text), or removed when value is "".
std::string With(const std::string& field, const std::string& value,
                 const std::string& name = "ds") {
  nlohmann::json j = nlohmann::json::parse(GoodDataset(name));
  if (value.empty()) j.erase(field);
  else j[field] = nlohmann::json::parse(value);
  return j.dump();
}

struct Checked {
  Result<CatalogSummary> summary = CatalogSummary{};
  std::vector<CatalogDataset> datasets;
};

Checked Check(const std::string& text, const CatalogLimits& limits = {}) {
  Checked out;
  auto src = MemorySource(text);
  out.summary = CheckCatalog(*src, "catalog.json",
                             [&](const CatalogDataset& d) { out.datasets.push_back(d); }, limits);
  return out;
}

// The faults of the only dataset of `text`, as Thai texts.
std::vector<std::string> FaultsOf(const std::string& dataset) {
  Checked c = Check(Export({dataset}));
  EXPECT_TRUE(c.summary.ok()) << c.summary.status().ToString(false);
  std::vector<std::string> out;
  if (c.datasets.size() != 1) return {"(no dataset)"};
  for (const CatalogFault& f : c.datasets[0].faults) out.push_back(f.Text(Lang::kThai));
  return out;
}

TEST(CatalogTest, TheFourteenItemsAreTheSchemasRequiredFieldsAndOwnerOrg) {
  std::vector<std::string> names;
  for (const CatalogField& f : CatalogFields()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "data_type", "title", "maintainer", "maintainer_email", "tag_string",
                       "notes", "objective", "update_frequency_unit", "geo_coverage", "data_source",
                       "data_format", "data_category", "license_id", "owner_org"}));
}

TEST(CatalogTest, ACompleteDatasetHasNoFault) {
  Checked c = Check(Export({GoodDataset("a")}));
  ASSERT_TRUE(c.summary.ok()) << c.summary.status().ToString(false);
  ASSERT_EQ(c.datasets.size(), 1u);
  EXPECT_TRUE(c.datasets[0].complete());
  EXPECT_EQ(c.datasets[0].name, "a");
  EXPECT_EQ(c.datasets[0].title, "สถิติเรื่องร้องเรียน");
  EXPECT_EQ(c.datasets[0].line, 3);  // the export's third line opens the dataset
  EXPECT_EQ(c.summary->datasets, 1);
  EXPECT_EQ(c.summary->complete, 1);
  EXPECT_DOUBLE_EQ(c.summary->CompletePercent(), 100.0);
}

TEST(CatalogTest, EachMissingItemIsNamedWithItsThaiLabel) {
  for (const CatalogField& f : CatalogFields()) {
    std::string key = f.name == "tag_string" ? "tags" : f.name;
    nlohmann::json j = nlohmann::json::parse(GoodDataset("x"));
    j.erase(key);
    if (f.name == "owner_org") j.erase("organization");
    auto faults = FaultsOf(j.dump());
    ASSERT_EQ(faults.size(), 1u) << f.name;
    EXPECT_EQ(faults[0], f.label_th + " (" + f.name + "): ไม่ได้กรอก");
  }
}

TEST(CatalogTest, EmptyOrBlankValuesAreMissing) {
  EXPECT_EQ(FaultsOf(With("maintainer", "\"   \"")),
            std::vector<std::string>{"ชื่อผู้ติดต่อ (maintainer): ไม่ได้กรอก"});
  EXPECT_EQ(FaultsOf(With("title", "null")),
            std::vector<std::string>{"ชื่อชุดข้อมูล (title): ไม่ได้กรอก"});
  EXPECT_EQ(FaultsOf(With("data_format", "[]")),
            std::vector<std::string>{"รูปแบบการเก็บข้อมูล (data_format): ไม่ได้กรอก"});
  EXPECT_EQ(FaultsOf(With("tags", "[]")),
            std::vector<std::string>{"คำสำคัญ (tag_string): ไม่ได้กรอก"});
}

TEST(CatalogTest, OwnerOrgMayComeFromTheOrganizationObject) {
  nlohmann::json j = nlohmann::json::parse(GoodDataset("x"));
  j["owner_org"] = "";
  EXPECT_TRUE(FaultsOf(j.dump()).empty());  // organization.name is "opdc"
  j["organization"] = nlohmann::json::object({{"name", ""}});
  EXPECT_EQ(FaultsOf(j.dump()),
            std::vector<std::string>{"หน่วยงานเจ้าของข้อมูล (owner_org): ไม่ได้กรอก"});
}

TEST(CatalogTest, ValuesOutsideTheChoicesAreNamed) {
  EXPECT_EQ(FaultsOf(With("data_category", "\"สาธารณะ\"")),
            std::vector<std::string>{
                "หมวดหมู่ข้อมูลตามธรรมาภิบาลข้อมูลภาครัฐ (data_category): \"สาธารณะ\" "
                "ไม่อยู่ในตัวเลือกที่กำหนด"});
  // One bad value among several of a multiple-choice item.
  EXPECT_EQ(FaultsOf(With("data_format", R"(["CSV", "Excel"])")),
            std::vector<std::string>{
                "รูปแบบการเก็บข้อมูล (data_format): \"Excel\" ไม่อยู่ในตัวเลือกที่กำหนด"});
  // A list where one value is allowed.
  EXPECT_EQ(FaultsOf(With("geo_coverage", R"(["ประเทศ", "ภาค"])")).size(), 1u);
  // CKAN's stored forms of a multiple choice: a JSON array as text, or {a,b}.
  EXPECT_TRUE(FaultsOf(With("objective", R"("[\"ยุทธศาสตร์ชาติ\", \"มติคณะรัฐมนตรี\"]")")).empty());
  EXPECT_TRUE(FaultsOf(With("data_format", R"("{CSV,\"PDF\"}")")).empty());
  EXPECT_EQ(FaultsOf(With("data_format", R"("{CSV,DOCX}")")).size(), 1u);
}

TEST(CatalogTest, OtherNeedsItsOtherField) {
  EXPECT_EQ(FaultsOf(With("license_id", "\"อื่นๆ\"")),
            std::vector<std::string>{
                "สัญญาอนุญาต (license_id): เลือก \"อื่นๆ\" แต่ไม่ได้ระบุรายละเอียดใน license_id_other"});
  nlohmann::json j = nlohmann::json::parse(With("license_id", "\"อื่นๆ\""));
  j["license_id_other"] = "Thai Open Government Licence";
  EXPECT_TRUE(FaultsOf(j.dump()).empty());
  // data_type's "other" is its own value.
  j = nlohmann::json::parse(With("data_type", "\"ข้อมูลประเภทอื่นๆ\""));
  EXPECT_EQ(FaultsOf(j.dump()).size(), 1u);
  j["data_type_other"] = "ข้อมูลภาพถ่าย";
  EXPECT_TRUE(FaultsOf(j.dump()).empty());
  // In a multiple choice, "other" among other values still needs the text.
  j = nlohmann::json::parse(With("objective", R"(["พันธกิจหน่วยงาน", "อื่นๆ"])"));
  j["objective_other"] = "   ";
  EXPECT_EQ(FaultsOf(j.dump()).size(), 1u);
}

TEST(CatalogTest, EmailAddressesMustBeWellFormed) {
  EXPECT_EQ(FaultsOf(With("maintainer_email", "\"somchai at opdc.go.th\"")),
            std::vector<std::string>{
                "อีเมลผู้ติดต่อ (maintainer_email): \"somchai at opdc.go.th\" "
                "ไม่ใช่ที่อยู่อีเมลที่ถูกต้อง"});
  for (const char* good : {"a@b.co", "somchai.j+data@opdc.go.th", "x_y@mail-1.example.org"})
    EXPECT_TRUE(IsWellFormedEmail(good)) << good;
  for (const char* bad : {"", "a", "@opdc.go.th", "a@", "a@b", "a@b.c", "a@@b.co", "a b@c.co",
                          "a@b..co", "a@-b.co", "a@b-.co", "a@b.c0", ".a@b.co", "a..b@c.co",
                          "สมชาย@opdc.go.th", "a@opdc.go.th "})
    EXPECT_FALSE(IsWellFormedEmail(bad)) << bad;
}

TEST(CatalogTest, ObjectsWhereTextIsExpectedAreFaults) {
  EXPECT_EQ(FaultsOf(With("notes", R"({"th": "x"})")),
            std::vector<std::string>{"รายละเอียด (notes): ต้องเป็นข้อความ"});
}

TEST(CatalogTest, FaultsAreGivenInEnglishToo) {
  Checked c = Check(Export({With("maintainer_email", "\"x@\"")}));
  ASSERT_EQ(c.datasets.size(), 1u);
  ASSERT_EQ(c.datasets[0].faults.size(), 1u);
  EXPECT_EQ(c.datasets[0].faults[0].Text(Lang::kEnglish),
            "Contact Email (maintainer_email): \"x@\" is not a well-formed e-mail address");
}

TEST(CatalogTest, CountsGiveTheFrameworksVariables) {
  // Three datasets, one missing its contact: 2 of 3 complete.
  Checked c = Check(Export({GoodDataset("a"), With("maintainer", "", "b"), GoodDataset("c")}));
  ASSERT_TRUE(c.summary.ok());
  EXPECT_EQ(c.summary->datasets, 3);
  EXPECT_EQ(c.summary->complete, 2);
  EXPECT_NEAR(c.summary->CompletePercent(), 200.0 / 3.0, 1e-12);
  ASSERT_EQ(c.datasets.size(), 3u);
  EXPECT_EQ(c.datasets[1].index, 1);
  EXPECT_EQ(c.datasets[1].name, "b");
  EXPECT_FALSE(c.datasets[1].complete());
  // An empty catalog: nothing complete, share 0.
  Checked empty = Check(Export({}));
  ASSERT_TRUE(empty.summary.ok());
  EXPECT_EQ(empty.summary->datasets, 0);
  EXPECT_EQ(empty.summary->CompletePercent(), 0.0);
}

TEST(CatalogTest, CsvWithCkanFieldNames) {
  const std::string csv =
      "\xEF\xBB\xBFname,title,data_type,maintainer,maintainer_email,tag_string,notes,objective,"
      "objective_other,update_frequency_unit,geo_coverage,data_source,data_format,data_category,"
      "license_id,owner_org\r\n"
      "a,สถิติ,ข้อมูลสถิติ,สมชาย,somchai@opdc.go.th,\"ร้องเรียน,บริการ\",\"บรรทัดแรก\r\nบรรทัดสอง\","
      "\"[\"\"พันธกิจหน่วยงาน\"\",\"\"อื่นๆ\"\"]\",งานวิจัย,เดือน,ประเทศ,ระบบ,CSV,ข้อมูลสาธารณะ,"
      "Open Data Common,opdc\r\n"
      "\r\n"
      "b,ทะเบียน,ข้อมูลระเบียน,สมหญิง,bad-address,,ข้อมูล,พันธกิจหน่วยงาน,,ปี,จังหวัด,ระบบ,"
      "\"{CSV,PDF}\",ข้อมูลสาธารณะ,อื่นๆ,opdc\r\n";
  auto src = MemorySource(csv);
  std::vector<CatalogDataset> seen;
  auto r = CheckCatalog(*src, "catalog.csv", [&](const CatalogDataset& d) { seen.push_back(d); });
  ASSERT_TRUE(r.ok()) << r.status().ToString(false);
  EXPECT_EQ(r->datasets, 2);
  EXPECT_EQ(r->complete, 1);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].complete());
  EXPECT_EQ(seen[0].line, 2);
  EXPECT_EQ(seen[1].line, 5);  // the quoted line break and the blank line counted
  std::vector<std::string> faults;
  for (const CatalogFault& f : seen[1].faults) faults.push_back(f.field->name);
  EXPECT_EQ(faults,
            (std::vector<std::string>{"maintainer_email", "tag_string", "license_id"}));
}

TEST(CatalogTest, CsvMissingColumnsAreMissingItems) {
  auto src = MemorySource("title,maintainer\nสถิติ,สมชาย\n");
  std::vector<CatalogDataset> seen;
  auto r = CheckCatalog(*src, "c.csv", [&](const CatalogDataset& d) { seen.push_back(d); });
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].faults.size(), 12u);  // all but title and maintainer
}

Status Refusal(const std::string& text, const std::string& file = "catalog.json",
               const CatalogLimits& limits = {}) {
  auto src = MemorySource(text);
  auto r = CheckCatalog(*src, file, nullptr, limits);
  return r.status();
}

TEST(CatalogTest, BrokenJsonIsRefusedNamingTheLine) {
  Status s = Refusal("{\"result\": {\"results\": [\n" + GoodDataset("a") + ",\n{\"title\": }\n]}}");
  ASSERT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message_th().find("บรรทัด 10"), std::string::npos) << s.message_th();
  EXPECT_NE(s.message_en().find("line 10"), std::string::npos) << s.message_en();
  EXPECT_EQ(s.message_en().find("json.exception"), std::string::npos);
}

TEST(CatalogTest, ExportsWithoutResultsAreRefused) {
  Status s = Refusal(R"({"success": true, "result": {"count": 0}})");
  ASSERT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message_en().find("result.results"), std::string::npos);
  EXPECT_NE(s.message_th().find("result.results"), std::string::npos);
  s = Refusal(R"({"result": {"results": {"a": 1}}})");
  EXPECT_NE(s.message_en().find("must be an array"), std::string::npos) << s.message_en();
}

TEST(CatalogTest, ADatasetThatIsNotAnObjectIsRefusedNamingItsPath) {
  Status s = Refusal(Export({GoodDataset("a"), "\"just text\""}));
  ASSERT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message_en(), "line 11 (result.results[1]): a dataset must be a JSON object");
  EXPECT_EQ(s.message_th(), "บรรทัด 11 (result.results[1]): ชุดข้อมูลต้องเป็นออบเจกต์ JSON");
  EXPECT_EQ(s.where().file, "catalog.json");
}

TEST(CatalogTest, DeepNestingIsRefused) {
  std::string deep = "{\"result\": {\"results\": [{\"notes\": ";
  for (int i = 0; i < 100000; ++i) deep += "[";
  Status s = Refusal(deep);
  ASSERT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message_en().find("nested deeper than 32"), std::string::npos) << s.message_en();
  EXPECT_NE(s.message_th().find("ซ้อนกันลึกเกิน 32"), std::string::npos);
}

TEST(CatalogTest, OversizedDatasetsAndRowsAreRefused) {
  CatalogLimits small;
  small.max_dataset_bytes = 2000;
  Status s = Refusal(Export({With("notes", "\"" + std::string(3000, 'x') + "\"")}), "c.json", small);
  ASSERT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message_en().find("a dataset longer than 2000 bytes"), std::string::npos)
      << s.message_en();
  s = Refusal("title,notes\na,\"" + std::string(3000, 'x') + "\"\n", "c.csv", small);
  ASSERT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message_en().find("line 2: a row longer than 2000 bytes"), std::string::npos)
      << s.message_en();
}

TEST(CatalogTest, MalformedCsvIsRefusedNamingTheLine) {
  Status s = Refusal("title,notes\na,b\nc,\"open\n", "c.csv");
  EXPECT_NE(s.message_en().find("line 3: a quote left open"), std::string::npos)
      << s.message_en();
  EXPECT_NE(s.message_th().find("บรรทัด 3"), std::string::npos);
  s = Refusal("title,notes\na,b,c\n", "c.csv");
  EXPECT_NE(s.message_en().find("line 2: 3 fields, more than the header's 2"), std::string::npos)
      << s.message_en();
  s = Refusal("title,notes\na,\xff\xfe\n", "c.csv");
  EXPECT_NE(s.message_en().find("line 2: not UTF-8"), std::string::npos) << s.message_en();
  s = Refusal("a,b,c\n1,2,3\n", "c.csv");
  EXPECT_NE(s.message_en().find("no header row of CKAN field names"), std::string::npos);
  s = Refusal("", "c.csv");
  EXPECT_NE(s.message_en().find("is empty"), std::string::npos);
  s = Refusal("{\"result\": {\"results\": [{\"title\": \"\xff\"}]}}");
  EXPECT_NE(s.message_en().find("not valid JSON"), std::string::npos) << s.message_en();
}

// A catalog produced on the fly, never held whole: `n` datasets, every third missing its e-mail.
class GeneratedCatalog : public ByteSource {
 public:
  explicit GeneratedCatalog(int64_t n) : n_(n) {}
  Result<size_t> Read(char* buf, size_t want) override {
    while (pending_.size() - pos_ < want && !done_) Produce();
    const size_t k = std::min(want, pending_.size() - pos_);
    std::memcpy(buf, pending_.data() + pos_, k);
    pos_ += k;
    if (pos_ > (1u << 20)) {
      pending_.erase(0, pos_);
      pos_ = 0;
    }
    produced_max_ = std::max(produced_max_, pending_.size());
    return k;
  }
  Status Rewind() override {
    i_ = -1;
    done_ = false;
    pending_.clear();
    pos_ = 0;
    return Status::Ok();
  }
  size_t produced_max() const { return produced_max_; }

 private:
  void Produce() {
    if (i_ < 0) {
      pending_ += "{\"result\": {\"results\": [";
    } else if (i_ < n_) {
      std::string d = i_ % 3 == 2 ? With("maintainer_email", "", "d" + std::to_string(i_))
                                  : With("name", "\"d" + std::to_string(i_) + "\"");
      pending_ += (i_ ? "," : "") + d + "\n";
    } else {
      pending_ += "]}}";
      done_ = true;
    }
    ++i_;
  }
  int64_t n_;
  int64_t i_ = -1;
  bool done_ = false;
  std::string pending_;
  size_t pos_ = 0;
  size_t produced_max_ = 0;
};

TEST(CatalogTest, LongCatalogsAreStreamed) {
  GeneratedCatalog src(30000);
  int64_t seen = 0, last_line = 0;
  auto r = CheckCatalog(src, "big.json", [&](const CatalogDataset& d) {
    ++seen;
    last_line = d.line;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString(false);
  EXPECT_EQ(r->datasets, 30000);
  EXPECT_EQ(r->complete, 20000);
  EXPECT_EQ(seen, 30000);
  EXPECT_EQ(last_line, 30000);
  // The source never had to hold more than a few blocks: the checker reads as it goes.
  EXPECT_LT(src.produced_max(), 4u << 20);
}

}  // namespace
}  // namespace esar::formats
