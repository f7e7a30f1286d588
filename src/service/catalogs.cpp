#include "service/catalogs.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "common/thai.h"
#include "security/crypto.h"

namespace esar::service {

using nlohmann::json;
using storage::Value;

namespace {

Status TooLarge(const std::string& name, int64_t max_bytes) {
  return Status::InvalidInput(
      "ไฟล์ " + name + " ใหญ่เกิน " + std::to_string(max_bytes / (1 << 20)) + " MB",
      "the file " + name + " is larger than " + std::to_string(max_bytes / (1 << 20)) + " MB");
}

// The catalog file as read once through: its SHA-256 and whether it is JSON (its first byte
// after a UTF-8 byte order mark and white space is '{', as CheckCatalog decides).
struct Fingerprint {
  std::string sha256;
  bool json = false;
};

Result<Fingerprint> Fingerprinted(formats::ByteSource& source, const std::string& name,
                                  int64_t max_bytes) {
  security::Sha256 hash;
  Fingerprint out;
  bool decided = false;
  int64_t total = 0;
  char buf[1 << 16];
  for (;;) {
    auto n = source.Read(buf, sizeof buf);
    if (!n) return n.status();
    if (*n == 0) break;
    total += static_cast<int64_t>(*n);
    if (total > max_bytes) return TooLarge(name, max_bytes);
    std::string_view chunk(buf, *n);
    hash.Update(chunk);
    for (size_t i = 0; i < chunk.size() && !decided; ++i) {
      const auto c = static_cast<unsigned char>(chunk[i]);
      // The byte order mark's bytes and white space come before the first that decides.
      if (c == 0xEF || c == 0xBB || c == 0xBF || c == ' ' || c == '\t' || c == '\r' || c == '\n')
        continue;
      out.json = c == '{';
      decided = true;
    }
  }
  out.sha256 = hash.FinishHex();
  return out;
}

// The faults of a dataset as kept: [{"field", "kind", "value"}] (labels are derived on reading).
std::string FaultsJson(const formats::CatalogDataset& d) {
  json faults = json::array();
  for (const formats::CatalogFault& f : d.faults) {
    faults.push_back(
        {{"field", f.field->name}, {"kind", formats::CatalogFaultCode(f.kind)}, {"value", f.value}});
  }
  return faults.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A dataset row read back: seq, line, name, title, faults_json.
Result<formats::CatalogDataset> DatasetOf(const storage::Row& r) {
  formats::CatalogDataset d;
  d.index = r.Int(0) - 1;
  d.line = r.Int(1);
  d.name = r.Text(2);
  d.title = r.Text(3);
  const json faults = json::parse(r.Text(4), nullptr, false);
  if (!faults.is_array()) return Status::Internal("a kept dataset's faults are not a JSON array");
  for (const json& f : faults) {
    const formats::CatalogField* field =
        formats::FindCatalogField(f.value("field", std::string()));
    const auto kind = formats::CatalogFaultKindOf(f.value("kind", std::string()));
    if (!field || !kind) return Status::Internal("a kept dataset's fault names no known item");
    d.faults.push_back({field, *kind, f.value("value", std::string())});
  }
  return d;
}

// The SQL condition of a status filter; kInvalidInput for an unknown one.
Result<std::string> StatusSql(const std::string& status) {
  if (status.empty()) return std::string();
  if (status == "complete") return std::string(" AND complete = 1");
  if (status == "incomplete") return std::string(" AND complete = 0");
  return Status::InvalidInput(
      "ไม่รู้จักสถานะ \"" + status + "\" (ใช้ได้: complete ครบถ้วน, incomplete ไม่ครบถ้วน)",
      "unknown status \"" + status + "\" (known: complete, incomplete)");
}

// The SQL order of a list's `sort`; kInvalidInput for an unknown one.
Result<std::string> OrderSql(const std::string& sort) {
  if (sort.empty()) return std::string(" ORDER BY seq");
  if (sort == "title") return std::string(" ORDER BY title_key, seq");
  return Status::InvalidInput(
      "ไม่รู้จักการเรียง \"" + sort + "\" (ใช้ได้: title ตามชื่อชุดข้อมูล หรือเว้นว่างตามลำดับในไฟล์)",
      "unknown sort \"" + sort + "\" (known: title, or none for the file's order)");
}

constexpr const char* kDatasetColumns =
    "SELECT seq, line, name, title, faults_json FROM catalog_datasets WHERE upload_id = ?";

}  // namespace

Result<DataUpload> Catalogs::Get(const Actor& actor, int64_t id) {
  auto upload = DataFiles(db_, clock_).Get(actor, id);
  if (!upload) return upload.status();
  if (upload->kind != kCatalogKind)
    return Status::NotFound("ไม่มีบัญชีข้อมูลนี้", "no such data catalog");
  return upload;
}

Result<CatalogUploadOutcome> Catalogs::Upload(const Actor& actor, int64_t round_id,
                                              const std::string& agency, const std::string& kpi_id,
                                              const std::vector<PendingFile>& files) {
  DataFiles store(db_, clock_);
  auto target = store.UploadTarget(actor, round_id, agency, kpi_id,
                                   "อัปโหลดบัญชีข้อมูลของหน่วยงาน " + agency,
                                   "upload data catalogs for agency " + agency);
  if (!target) return target.status();
  const RoundInfo& round = target->first;
  const domain::Framework& fw = target->second.framework;
  const domain::Kpi* kpi = domain::FindKpi(fw.kpis, kpi_id);
  if (!kpi || !kpi->catalog) {
    return Status::InvalidInput("ตัวชี้วัด " + kpi_id + " ไม่ได้คำนวณจากบัญชีข้อมูล (Data Catalog)",
                                "KPI " + kpi_id + " is not computed from a data catalog");
  }
  const domain::CatalogRule& rule = *kpi->catalog;
  if (rule.datasets_variable.empty() && rule.complete_variable.empty() &&
      rule.complete_percent_variable.empty()) {
    return Status::InvalidInput(
        "ตัวชี้วัด " + kpi_id + " ไม่ได้ระบุตัวแปรที่ผลตรวจบัญชีข้อมูลเติมให้ (catalog.variables)",
        "KPI " + kpi_id + " names no variables for the catalog's counts (catalog.variables)");
  }
  if (files.size() != 1 || files.front().role != "catalog") {
    return Status::InvalidInput("ต้องส่งไฟล์บัญชีข้อมูล (catalog) หนึ่งไฟล์",
                                "exactly one catalog file is required");
  }
  const PendingFile& file = files.front();
  struct stat st {};
  if (::stat(file.path.c_str(), &st) != 0) {
    return Status::IoError("อ่านไฟล์ " + file.name + " ไม่ได้", "cannot read the file " + file.name);
  }
  if (st.st_size > options_.max_file_bytes) return TooLarge(file.name, options_.max_file_bytes);
  auto source = formats::OpenFileSource(file.path);
  if (!source) {
    return Status::IoError("อ่านไฟล์ " + file.name + " ไม่ได้", "cannot read the file " + file.name);
  }
  auto print = Fingerprinted(**source, file.name, options_.max_file_bytes);
  if (!print) return print.status();

  // The first reading, outside any transaction: a malformed catalog is refused without a lock.
  Status rewound = (*source)->Rewind();
  if (!rewound.ok()) return rewound;
  auto summary = formats::CheckCatalog(**source, file.name, nullptr, options_.limits);
  if (!summary) return summary.status();
  if (summary->datasets == 0) {
    return Status::InvalidInput("ไฟล์ " + file.name + " ไม่มีชุดข้อมูลใดเลย",
                                "the file " + file.name + " holds no dataset");
  }

  CatalogUploadOutcome out;
  auto same = store.Unchanged(actor, round_id, agency, kpi_id, kCatalogKind,
                              {{"catalog", print->sha256}});
  if (!same) return same.status();
  if (*same) {
    out.unchanged = true;
    out.upload = std::move(**same);
    return out;
  }

  const double percent = summary->CompletePercent();
  json values = json::object();
  if (!rule.datasets_variable.empty()) values[rule.datasets_variable] = summary->datasets;
  if (!rule.complete_variable.empty()) values[rule.complete_variable] = summary->complete;
  if (!rule.complete_percent_variable.empty())
    values[rule.complete_percent_variable] = percent;
  const json recorded = {
      {"round", round.round},
      {"datasets", summary->datasets},
      {"complete", summary->complete},
      {"incomplete", summary->datasets - summary->complete},
      {"complete_percent", percent},
      {"format", print->json ? "json" : "csv"},
      {"variables",
       {{"datasets", rule.datasets_variable.empty() ? json(nullptr) : json(rule.datasets_variable)},
        {"complete", rule.complete_variable.empty() ? json(nullptr) : json(rule.complete_variable)},
        {"complete_percent", rule.complete_percent_variable.empty()
                                 ? json(nullptr)
                                 : json(rule.complete_percent_variable)}}}};

  ComputedUpload upload;
  upload.round_id = round_id;
  upload.round = round.round;
  upload.agency = agency;
  upload.kpi = kpi_id;
  upload.kind = kCatalogKind;
  upload.values_json = values.dump();
  upload.summary_json = recorded.dump();
  upload.files.push_back({&file, print->json ? "application/json" : "text/csv"});
  // Every dataset with its faults, from a second reading (the first kept nothing: a catalog may
  // be long), written in batches as they come.
  auto datasets = [&](int64_t upload_id) -> Status {
    const std::vector<std::string> columns = {"upload_id", "seq",      "line",        "name",
                                              "title",     "complete", "faults_json", "title_key"};
    std::vector<std::vector<Value>> batch;
    Status failed;
    int64_t seq = 0;
    auto flush = [&]() {
      if (batch.empty() || !failed.ok()) return;
      failed = db_.BulkInsert("catalog_datasets", columns, batch);
      batch.clear();
    };
    auto visit = [&](const formats::CatalogDataset& d) {
      if (!failed.ok()) return;
      batch.push_back({upload_id, ++seq, d.line, d.name, d.title, int64_t{d.complete() ? 1 : 0},
                       FaultsJson(d), storage::Blob{ThaiSortKey(d.title)}});
      if (batch.size() >= 1000) flush();
    };
    Status again = (*source)->Rewind();
    if (!again.ok()) return again;
    auto second = formats::CheckCatalog(**source, file.name, visit, options_.limits);
    if (!second) return second.status();
    flush();
    if (!failed.ok()) return failed;
    if (second->datasets != summary->datasets || second->complete != summary->complete ||
        seq != summary->datasets) {
      return Status::Internal("the catalog read differently the second time");
    }
    return Status::Ok();
  };
  auto stored = store.SaveComputed(actor, fw, upload, datasets);
  if (!stored) return stored.status();
  out.upload = std::move(*stored);
  return out;
}

Result<CatalogDatasetPage> Catalogs::Datasets(const Actor& actor, int64_t upload_id,
                                              const CatalogDatasetFilter& filter) {
  if (filter.limit < 1 || filter.limit > 500 || filter.offset < 0) {
    return Status::InvalidInput("ขนาดหน้าต้องอยู่ระหว่าง 1 ถึง 500", "limit must be 1 - 500, offset >= 0");
  }
  auto upload = Get(actor, upload_id);
  if (!upload) return upload.status();
  auto where = StatusSql(filter.status);
  if (!where) return where.status();
  auto order = OrderSql(filter.sort);
  if (!order) return order.status();
  CatalogDatasetPage page;
  auto count =
      db_.Query("SELECT COUNT(*) FROM catalog_datasets WHERE upload_id = ?" + *where, {upload_id});
  if (!count) return count.status();
  page.total = (*count)[0].Int(0);
  auto rows = db_.Query(std::string(kDatasetColumns) + *where + *order + " LIMIT ? OFFSET ?",
                        {upload_id, filter.limit, filter.offset});
  if (!rows) return rows.status();
  for (const storage::Row& r : *rows) {
    auto d = DatasetOf(r);
    if (!d) return d.status();
    page.items.push_back(std::move(*d));
  }
  return page;
}

Status Catalogs::EachDataset(const Actor& actor, int64_t upload_id, const std::string& status,
                             const std::function<Status(const formats::CatalogDataset&)>& each) {
  auto upload = Get(actor, upload_id);
  if (!upload) return upload.status();
  auto where = StatusSql(status);
  if (!where) return where.status();
  return db_.QueryEach(std::string(kDatasetColumns) + *where + " ORDER BY seq", {upload_id},
                       [&](const storage::Row& r) -> Status {
                         auto d = DatasetOf(r);
                         if (!d) return d.status();
                         return each(*d);
                       });
}

}  // namespace esar::service
