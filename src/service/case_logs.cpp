#include "service/case_logs.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/thai.h"
#include "domain/engine.h"
#include "formats/xlsx_reader.h"
#include "security/crypto.h"
#include "service/cycle.h"
#include "service/reporting.h"

namespace esar::service {

using nlohmann::json;
using storage::Value;

namespace {

constexpr const char* kXlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

// One file of the log, opened for reading: from disk (CSV) or from the CSV text of its sheet.
struct OpenedFile {
  std::string shown;       // the name problems give ("cases.xlsx [cases]")
  std::string media_type;  // "text/csv" or kXlsxType
  std::string sha256;
  std::string csv;  // an XLSX file's sheet as CSV (the source reads it)
  std::unique_ptr<formats::ByteSource> source;
};

Status TooLarge(const std::string& name, int64_t max_bytes) {
  return Status::InvalidInput(
      "ไฟล์ " + name + " ใหญ่เกิน " + std::to_string(max_bytes / (1 << 20)) + " MB",
      "the file " + name + " is larger than " + std::to_string(max_bytes / (1 << 20)) + " MB");
}

// Reads the file at `path` whole, at most `max_bytes` (the upload bounded it already; this
// guards callers that did not).
Result<std::string> ReadBounded(const PendingFile& f, int64_t max_bytes) {
  std::ifstream in(f.path, std::ios::binary);
  if (!in) return Status::IoError("อ่านไฟล์ " + f.name + " ไม่ได้", "cannot read the file " + f.name);
  std::string bytes;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    bytes.append(buf, static_cast<size_t>(in.gcount()));
    if (static_cast<int64_t>(bytes.size()) > max_bytes) return TooLarge(f.name, max_bytes);
  }
  return bytes;
}

// Opens `f` as the `table` ("cases" or "pauses") of a case log.
Result<OpenedFile> Open(const PendingFile& f, const std::string& table,
                        const CaseLogOptions& options) {
  auto bytes = ReadBounded(f, options.max_file_bytes);
  if (!bytes) return bytes.status();
  OpenedFile out;
  security::Sha256 hash;
  hash.Update(*bytes);
  out.sha256 = hash.FinishHex();
  if (formats::LooksLikeXlsx(*bytes)) {
    formats::XlsxLimits limits;
    limits.max_rows = 2 * options.max_cases + 2;
    limits.max_cells = 12 * (options.max_cases + 1);
    auto book = formats::ReadXlsx(*bytes, limits);
    if (!book) {
      const Status& s = book.status();
      return Status::InvalidInput(f.name + ": " + s.message_th(), f.name + ": " + s.message_en());
    }
    std::string sheet;
    auto csv = formats::CaseLogSheetCsv(*book, table, &sheet);
    if (!csv) return csv.status();
    out.csv = std::move(*csv);
    out.shown = f.name + " [" + sheet + "]";
    out.media_type = kXlsxType;
    out.source = formats::MemorySource(out.csv);
    return out;
  }
  out.shown = f.name;
  out.media_type = "text/csv";
  auto source = formats::OpenFileSource(f.path);
  if (!source) return source.status();
  out.source = std::move(*source);
  return out;
}

// The verdict column's value for a case.
std::string VerdictCode(const domain::CaseVerdict& v, int round) {
  if (v.counted) return v.on_time ? "on_time" : "late";
  return domain::CaseReasonCode(v.reason, round);
}

bool IsReasonCode(const std::string& v) {
  static const std::vector<std::string> kCodes = {
      "kind",    "special_category", "unclassified",   "outside_window", "after_cutoff",
      "pending", "backlog_round6",   "backlog_round12", "backlog"};
  return std::find(kCodes.begin(), kCodes.end(), v) != kCodes.end();
}

// The SQL condition and parameters of a verdict filter; kInvalidInput for an unknown one.
Status FilterSql(const std::string& verdict, std::string& where, std::vector<Value>& params) {
  if (verdict.empty()) return Status::Ok();
  if (verdict == "counted") {
    where += " AND verdict IN ('on_time', 'late')";
  } else if (verdict == "not_counted") {
    where += " AND verdict NOT IN ('on_time', 'late')";
  } else if (verdict == "on_time" || verdict == "late" || IsReasonCode(verdict)) {
    where += " AND verdict = ?";
    params.push_back(verdict);
  } else {
    return Status::InvalidInput("ไม่รู้จักผลการพิจารณา \"" + verdict + "\"",
                                "unknown verdict \"" + verdict + "\"");
  }
  return Status::Ok();
}

CaseVerdictRow RowOf(const storage::Row& r) {
  CaseVerdictRow v;
  v.seq = r.Int(0);
  v.case_id = r.Text(1);
  v.kind = r.Text(2);
  v.received = r.Text(3);
  v.completed = r.Text(4);
  v.verdict = r.Text(5);
  v.class_id = r.Text(6);
  v.standard = r.Text(7);
  v.due = r.Text(8);
  v.paused_days = static_cast<int>(r.Int(9));
  v.late_days = static_cast<int>(r.Int(10));
  return v;
}

constexpr const char* kVerdictColumns =
    "SELECT seq, case_id, kind, received, completed, verdict, class_id, standard, due, "
    "paused_days, late_days FROM case_verdicts WHERE upload_id = ?";

}  // namespace

const std::vector<std::string>& CaseVerdictFilters() {
  static const std::vector<std::string> kFilters = {
      "counted", "on_time",        "late",          "not_counted",    "kind",
      "special_category", "unclassified", "outside_window", "after_cutoff", "pending",
      "backlog_round6",   "backlog_round12", "backlog"};
  return kFilters;
}

Result<CaseLogUploadOutcome> CaseLogs::Upload(const Actor& actor, int64_t round_id,
                                              const std::string& agency, const std::string& kpi_id,
                                              const std::vector<PendingFile>& files) {
  DataFiles store(db_, clock_);
  auto target = store.UploadTarget(actor, round_id, agency, kpi_id,
                                   "อัปโหลดบันทึกเรื่องของหน่วยงาน " + agency,
                                   "upload case logs for agency " + agency);
  if (!target) return target.status();
  const RoundInfo& round = target->first;
  const domain::Framework& fw = target->second.framework;
  const domain::Kpi* kpi = domain::FindKpi(fw.kpis, kpi_id);
  if (!kpi || !kpi->cases) {
    return Status::InvalidInput("ตัวชี้วัด " + kpi_id + " ไม่ได้คำนวณจากบันทึกเรื่อง",
                                "KPI " + kpi_id + " is not computed from case records");
  }
  const domain::CaseRule& rule = *kpi->cases;
  if (rule.on_time_variable.empty() || rule.counted_variable.empty()) {
    return Status::InvalidInput(
        "ตัวชี้วัด " + kpi_id + " ไม่ได้ระบุตัวแปรที่ผลนับเรื่องเติมให้ (cases.variables)",
        "KPI " + kpi_id + " names no variables for the case counts (cases.variables)");
  }

  const PendingFile* cases_file = nullptr;
  const PendingFile* pauses_file = nullptr;
  for (const PendingFile& f : files) {
    const PendingFile** slot =
        f.role == "cases" ? &cases_file : f.role == "pauses" ? &pauses_file : nullptr;
    if (!slot) {
      return Status::InvalidInput("ไม่รู้จักไฟล์ \"" + f.role + "\" (ใช้ได้: cases, pauses)",
                                  "unknown file \"" + f.role + "\" (known: cases, pauses)");
    }
    if (*slot) {
      return Status::InvalidInput("ส่งไฟล์ " + f.role + " ได้ไฟล์เดียว", "one " + f.role + " file only");
    }
    *slot = &f;
  }
  if (!cases_file) {
    return Status::InvalidInput("ต้องมีไฟล์รายการเรื่อง (cases)", "the cases file is required");
  }
  auto cases = Open(*cases_file, "cases", options_);
  if (!cases) return cases.status();
  std::optional<OpenedFile> pauses;
  if (pauses_file) {
    auto opened = Open(*pauses_file, "pauses", options_);
    if (!opened) return opened.status();
    pauses = std::move(*opened);
  }
  formats::CaseLogInput input{cases->shown, cases->source.get(),
                              pauses ? pauses->shown : std::string(),
                              pauses ? pauses->source.get() : nullptr};
  auto evaluator = domain::CaseEvaluator::Create(rule, round.round);
  if (!evaluator) return evaluator.status();

  // The first reading, outside any transaction: a bad log is refused without taking a lock.
  auto first = formats::JudgeCaseLog(input, *evaluator);
  if (!first) return first.status();
  CaseLogUploadOutcome out;
  if (!first->ok()) {
    out.problems = std::move(first->problems);
    out.problem_count = first->problem_count;
    return out;
  }
  const domain::CaseTally tally = first->tally;
  if (tally.cases == 0) {
    return Status::InvalidInput("ไฟล์ " + cases->shown + " ไม่มีเรื่องใดเลย",
                                "the file " + cases->shown + " holds no case");
  }
  if (tally.cases > options_.max_cases) {
    return Status::InvalidInput(
        "บันทึกเรื่องมี " + std::to_string(tally.cases) + " เรื่อง เกินที่รับได้ " +
            std::to_string(options_.max_cases) + " เรื่องต่อการอัปโหลด",
        "the case log holds " + std::to_string(tally.cases) + " cases, more than the " +
            std::to_string(options_.max_cases) + " an upload may hold");
  }

  // The counts as the KPI's variables, and what the upload records of them.
  const std::optional<double> result = tally.Result();
  json by_reason = json::object();
  for (int r = 1; r < 9; ++r) {
    if (tally.by_reason[r] == 0) continue;
    by_reason[domain::CaseReasonCode(static_cast<domain::CaseReason>(r), round.round)] =
        tally.by_reason[r];
  }
  json summary = {{"round", round.round},
                  {"result", result ? json(*result) : json(nullptr)},
                  {"cases", tally.cases},
                  {"counted", tally.counted},
                  {"on_time", tally.on_time},
                  {"late", tally.counted - tally.on_time},
                  {"not_counted", by_reason},
                  {"variables",
                   {{"on_time", rule.on_time_variable}, {"counted", rule.counted_variable}}}};
  if (!result) summary["reason"] = "no_counted_cases";

  // The same files again while their draft stands: nothing to do.
  std::vector<std::pair<std::string, std::string>> hashes = {{"cases", cases->sha256}};
  if (pauses) hashes.emplace_back("pauses", pauses->sha256);
  auto same = store.Unchanged(actor, round_id, agency, kpi_id, kCaseLogKind, hashes);
  if (!same) return same.status();
  if (*same) {
    out.unchanged = true;
    out.upload = std::move(*same);
    return out;
  }

  ComputedUpload upload;
  upload.round_id = round_id;
  upload.round = round.round;
  upload.agency = agency;
  upload.kpi = kpi_id;
  upload.kind = kCaseLogKind;
  upload.values_json =
      json{{rule.on_time_variable, tally.on_time}, {rule.counted_variable, tally.counted}}.dump();
  upload.summary_json = summary.dump();
  upload.files.push_back({cases_file, cases->media_type});
  if (pauses_file) upload.files.push_back({pauses_file, pauses->media_type});

  // Every verdict, from a second judging of the log (the first is not kept: a log may be
  // long), written in batches as they come.
  auto verdicts = [&](int64_t upload_id) -> Status {
    const std::vector<std::string> columns = {
        "upload_id", "seq",        "case_id", "kind", "received",    "completed", "verdict",
        "class_id",  "standard",   "due",     "paused_days", "late_days"};
    std::vector<std::vector<Value>> batch;
    Status failed;
    int64_t seq = 0;
    auto flush = [&]() {
      if (batch.empty() || !failed.ok()) return;
      failed = db_.BulkInsert("case_verdicts", columns, batch);
      batch.clear();
    };
    auto visit = [&](const domain::CaseRecord& c, const domain::CaseVerdict& v) {
      if (!failed.ok()) return;
      const domain::CaseClass* k =
          v.class_index >= 0 ? &rule.classes[static_cast<size_t>(v.class_index)] : nullptr;
      batch.push_back(
          {upload_id, ++seq, std::string(c.case_id), std::string(c.kind),
           domain::IsoDate(c.received),
           c.completed == domain::kNoDay ? Value{} : Value{domain::IsoDate(c.completed)},
           VerdictCode(v, round.round), k ? Value{k->id} : Value{},
           k ? Value{k->standard.ToString(Lang::kEnglish)} : Value{},
           k && v.due != domain::kNoDay ? Value{domain::IsoDate(v.due)} : Value{},
           int64_t{v.paused_days}, int64_t{v.late_days}});
      if (batch.size() >= 2000) flush();
    };
    auto second = formats::JudgeCaseLog(input, *evaluator, visit);
    if (!second) return second.status();
    flush();
    if (!failed.ok()) return failed;
    if (!second->ok() || second->tally.counted != tally.counted ||
        second->tally.on_time != tally.on_time || seq != tally.cases) {
      return Status::Internal("the case log read differently the second time");
    }
    return Status::Ok();
  };
  auto stored = store.SaveComputed(actor, fw, upload, verdicts);
  if (!stored) return stored.status();
  out.upload = std::move(*stored);
  return out;
}

Result<CaseVerdictPage> CaseLogs::Verdicts(const Actor& actor, int64_t upload_id,
                                           const CaseVerdictFilter& filter) {
  if (filter.limit < 1 || filter.limit > 500 || filter.offset < 0) {
    return Status::InvalidInput("ขนาดหน้าต้องอยู่ระหว่าง 1 ถึง 500", "limit must be 1 - 500, offset >= 0");
  }
  auto upload = DataFiles(db_, clock_).Get(actor, upload_id);
  if (!upload) return upload.status();
  std::string where;
  std::vector<Value> params = {upload_id};
  Status valid = FilterSql(filter.verdict, where, params);
  if (!valid.ok()) return valid;
  CaseVerdictPage page;
  auto count = db_.Query("SELECT COUNT(*) FROM case_verdicts WHERE upload_id = ?" + where, params);
  if (!count) return count.status();
  page.total = (*count)[0].Int(0);
  params.push_back(filter.limit);
  params.push_back(filter.offset);
  auto rows = db_.Query(std::string(kVerdictColumns) + where + " ORDER BY seq LIMIT ? OFFSET ?",
                        params);
  if (!rows) return rows.status();
  for (const storage::Row& r : *rows) page.items.push_back(RowOf(r));
  return page;
}

Status CaseLogs::EachVerdict(const Actor& actor, int64_t upload_id, const std::string& verdict,
                             const std::function<Status(const CaseVerdictRow&)>& each) {
  auto upload = DataFiles(db_, clock_).Get(actor, upload_id);
  if (!upload) return upload.status();
  std::string where;
  std::vector<Value> params = {upload_id};
  Status valid = FilterSql(verdict, where, params);
  if (!valid.ok()) return valid;
  return db_.QueryEach(std::string(kVerdictColumns) + where + " ORDER BY seq", params,
                       [&](const storage::Row& r) { return each(RowOf(r)); });
}

}  // namespace esar::service
