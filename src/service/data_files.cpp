#include "service/data_files.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "service/audit.h"
#include "service/reporting.h"

namespace esar::service {

using nlohmann::json;
using storage::Value;

namespace {

constexpr const char* kUploadColumns =
    "SELECT id, round_id, agency_code, kpi, kind, uploaded_by, uploaded_at, replaced_by, "
    "summary_json, submission_id, revision FROM data_uploads ";

}  // namespace

Status DataFiles::MaySee(const Actor& actor, const std::string& agency) {
  if (actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator) || actor.OfAgency(agency))
    return Status::Ok();
  return Denied(actor, "ดูไฟล์ข้อมูลของหน่วยงาน " + agency, "see the data files of agency " + agency);
}

Result<std::vector<DataUpload>> DataFiles::Load(const std::string& where,
                                                const std::vector<Value>& params) {
  auto rows = db_.Query(std::string(kUploadColumns) + where, params);
  if (!rows) return rows.status();
  std::vector<DataUpload> out;
  std::map<int64_t, size_t> index;
  std::string ids;
  for (const storage::Row& r : *rows) {
    DataUpload u;
    u.id = r.Int(0);
    u.round_id = r.Int(1);
    u.agency = r.Text(2);
    u.kpi = r.Text(3);
    u.kind = r.Text(4);
    u.uploaded_by = r.Int(5);
    u.uploaded_at = r.Int(6);
    if (!r.IsNull(7)) u.replaced_by = r.Int(7);
    u.summary_json = r.Text(8);
    if (!r.IsNull(9)) u.submission_id = r.Int(9);
    u.revision = static_cast<int>(r.Int(10));
    index[u.id] = out.size();
    ids += (ids.empty() ? "" : ", ") + std::to_string(u.id);
    out.push_back(std::move(u));
  }
  if (out.empty()) return out;
  // The ids are numbers read from the database, so they can be written into the statement.
  auto files = db_.Query(
      "SELECT upload_id, role, name, media_type, size, sha256 FROM data_upload_files WHERE "
      "upload_id IN (" +
      ids + ") ORDER BY upload_id, role");
  if (!files) return files.status();
  for (const storage::Row& r : *files) {
    out[index[r.Int(0)]].files.push_back({r.Text(1), r.Text(2), r.Text(3), r.Int(4), r.Text(5)});
  }
  return out;
}

Result<DataUpload> DataFiles::RecordLocked(const Actor& actor, DataUpload upload,
                                           const std::vector<DataFile>& files, int64_t now,
                                           const std::function<Status(int64_t id)>& rows) {
  auto previous = db_.Query(
      "SELECT id FROM data_uploads WHERE round_id = ? AND agency_code = ? AND kpi = ? AND kind = ? "
      "AND replaced_by IS NULL",
      {upload.round_id, upload.agency, upload.kpi, upload.kind});
  if (!previous) return previous.status();
  auto inserted = db_.Query(
      "INSERT INTO data_uploads (round_id, agency_code, kpi, kind, uploaded_by, uploaded_at, "
      "summary_json, submission_id, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {upload.round_id, upload.agency, upload.kpi, upload.kind, UserRef(actor), now,
       upload.summary_json,
       upload.submission_id ? Value{*upload.submission_id} : Value{},
       upload.revision ? Value{int64_t{upload.revision}} : Value{}});
  if (!inserted) return inserted.status();
  const int64_t id = (*inserted)[0].Int(0);
  std::vector<std::string> also;
  for (const storage::Row& r : *previous) {
    Status s = db_.Execute("UPDATE data_uploads SET replaced_by = ? WHERE id = ?", {id, r.Int(0)});
    if (!s.ok()) return s;
    also.push_back("data_upload/" + r.Text(0));
  }
  for (const DataFile& f : files) {
    Status s = db_.Execute(
        "INSERT INTO data_upload_files (upload_id, role, name, media_type, size, sha256) VALUES "
        "(?, ?, ?, ?, ?, ?)",
        {id, f.role, f.name, f.media_type, f.size, f.sha256});
    if (!s.ok()) return s;
  }
  if (rows) {
    Status s = rows(id);
    if (!s.ok()) return s;
  }
  json file_list = json::array();
  for (const DataFile& f : files)
    file_list.push_back({{"role", f.role}, {"name", f.name}, {"sha256", f.sha256}});
  const json after = {{"round_id", upload.round_id}, {"agency", upload.agency},
                      {"kpi", upload.kpi},           {"kind", upload.kind},
                      {"files", file_list},          {"summary", json::parse(upload.summary_json)},
                      {"replaces", previous->empty() ? json(nullptr) : json((*previous)[0].Int(0))}};
  Status audited = AuditLog(db_).Append(actor, now, "data_upload.add",
                                        "data_upload/" + std::to_string(id), "{}", after.dump(),
                                        also);
  if (!audited.ok()) return audited;
  auto stored = Load("WHERE id = ?", {id});
  if (!stored) return stored.status();
  if (stored->empty()) return Status::Internal("the data upload just recorded is missing");
  return std::move(stored->front());
}

Result<std::optional<DataUpload>> DataFiles::Current(const Actor& actor, int64_t round_id,
                                                     const std::string& agency,
                                                     const std::string& kpi,
                                                     const std::string& kind) {
  Status may = MaySee(actor, agency);
  if (!may.ok()) return may;
  auto found = Load(
      "WHERE round_id = ? AND agency_code = ? AND kpi = ? AND kind = ? AND replaced_by IS NULL "
      "ORDER BY id DESC",
      {round_id, agency, kpi, kind});
  if (!found) return found.status();
  if (found->empty()) return std::optional<DataUpload>();
  return std::optional<DataUpload>(std::move(found->front()));
}

Result<std::vector<DataUpload>> DataFiles::History(const Actor& actor, int64_t round_id,
                                                   const std::string& agency,
                                                   const std::string& kpi,
                                                   const std::string& kind) {
  Status may = MaySee(actor, agency);
  if (!may.ok()) return may;
  return Load(
      "WHERE round_id = ? AND agency_code = ? AND kpi = ? AND kind = ? ORDER BY id DESC LIMIT 200",
      {round_id, agency, kpi, kind});
}

Result<DataUpload> DataFiles::Get(const Actor& actor, int64_t id) {
  auto found = Load("WHERE id = ?", {id});
  if (!found) return found.status();
  if (found->empty()) return Status::NotFound("ไม่มีไฟล์ข้อมูลที่อัปโหลดนี้", "no such data upload");
  Status may = MaySee(actor, found->front().agency);
  if (!may.ok()) return may;
  return std::move(found->front());
}

Result<DataFile> DataFiles::File(const Actor& actor, int64_t id, const std::string& role) {
  auto upload = Get(actor, id);
  if (!upload) return upload.status();
  for (const DataFile& f : upload->files)
    if (f.role == role) return f;
  return Status::NotFound("การอัปโหลดนี้ไม่มีไฟล์ " + role, "this upload has no " + role + " file");
}

bool UploadedSources::Fills(domain::VariableSource source) const {
  switch (source) {
    case domain::VariableSource::kTyped:
      return false;
    case domain::VariableSource::kFromAgencies:
      return true;
    case domain::VariableSource::kCaseLog:
      return case_log;
    case domain::VariableSource::kCatalog:
      return catalog;
  }
  return false;
}

Result<UploadedSources> DataFiles::Uploaded(const Actor& actor, int64_t round_id,
                                            const std::string& agency, const domain::Kpi& kpi) {
  UploadedSources out;
  for (auto [used, kind, flag] : {std::tuple{kpi.cases.has_value(), kCaseLogKind, &out.case_log},
                                  std::tuple{kpi.catalog.has_value(), kCatalogKind, &out.catalog}}) {
    if (!used) continue;
    auto current = Current(actor, round_id, agency, kpi.id, kind);
    if (!current) return current.status();
    *flag = current->has_value();
  }
  return out;
}

Result<std::pair<RoundInfo, StoredFramework>> DataFiles::UploadTarget(
    const Actor& actor, int64_t round_id, const std::string& agency, const std::string& kpi,
    const std::string& what_th, const std::string& what_en) {
  if (!(actor.Is(Role::kReporter) && actor.OfAgency(agency))) return Denied(actor, what_th, what_en);
  Cycle cycle(db_, clock_);
  auto round = cycle.Round(round_id);
  if (!round) return round.status();
  auto framework = cycle.Framework(round->framework_id);
  if (!framework) return framework.status();
  Status reportable =
      CheckReport(framework->framework, agency, Report{kpi, "{}", "", "", ""}, round->round);
  if (!reportable.ok()) return reportable;
  return std::pair{std::move(*round), std::move(*framework)};
}

Result<std::optional<DataUpload>> DataFiles::Unchanged(
    const Actor& actor, int64_t round_id, const std::string& agency, const std::string& kpi,
    const std::string& kind, std::vector<std::pair<std::string, std::string>> files) {
  auto current = Current(actor, round_id, agency, kpi, kind);
  if (!current) return current.status();
  if (!*current) return std::optional<DataUpload>();
  auto report = Reporting(db_, clock_).CurrentReport(round_id, agency, kpi);
  if (!report) return report.status();
  if (!*report || (*current)->submission_id != (*report)->submission_id ||
      (*current)->revision != (*report)->revision ||
      !((*report)->status == SubmissionStatus::kDraft ||
        (*report)->status == SubmissionStatus::kApproved)) {
    return std::optional<DataUpload>();
  }
  std::vector<std::pair<std::string, std::string>> then;
  for (const DataFile& f : (*current)->files) then.emplace_back(f.role, f.sha256);
  std::sort(files.begin(), files.end());
  std::sort(then.begin(), then.end());
  if (files != then) return std::optional<DataUpload>();
  return std::move(*current);
}

Result<DataUpload> DataFiles::SaveComputed(const Actor& actor, const domain::Framework& framework,
                                           const ComputedUpload& upload,
                                           const std::function<Status(int64_t id)>& rows) {
  const json computed = json::parse(upload.values_json, nullptr, false);
  if (!computed.is_object()) return Status::Internal("computed values are not a JSON object");
  Cycle cycle(db_, clock_);
  Reporting reporting(db_, clock_);
  const int64_t now = clock_.NowMs();
  std::optional<DataUpload> recorded;
  Status done = db_.Transaction([&]() -> Status {
    Status locked = cycle.LockRound(upload.round_id, false);
    if (!locked.ok()) return locked;
    Status open = cycle.CheckReportingOpen(upload.round_id, upload.agency);
    if (!open.ok()) return open;
    // The report as it stands, the computed variables set; its other values and texts kept.
    auto current = reporting.CurrentReport(upload.round_id, upload.agency, upload.kpi);
    if (!current) return current.status();
    Report report{upload.kpi, "{}", "", "", ""};
    if (*current) report = (*current)->report;
    json values = json::parse(report.values_json, nullptr, false);
    if (!values.is_object()) values = json::object();
    for (const auto& [name, value] : computed.items()) values[name] = value;
    report.values_json = values.dump();
    Status valid = CheckReport(framework, upload.agency, report, upload.round);
    if (!valid.ok()) return valid;
    auto saved = reporting.SaveDraftLockedForCaller(actor, upload.round_id, upload.agency, report);
    if (!saved) return saved.status();
    std::vector<DataFile> kept;
    for (const KeptFile& f : upload.files) {
      auto stored = f.pending->keep();
      if (!stored) return stored.status();
      kept.push_back({f.pending->role, f.pending->name, f.media_type, stored->size, stored->sha256});
    }
    DataUpload record;
    record.round_id = upload.round_id;
    record.agency = upload.agency;
    record.kpi = upload.kpi;
    record.kind = upload.kind;
    record.summary_json = upload.summary_json;
    record.submission_id = saved->first;
    record.revision = saved->second;
    auto stored = RecordLocked(actor, std::move(record), kept, now, rows);
    if (!stored) return stored.status();
    recorded = std::move(*stored);
    return Status::Ok();
  });
  if (!done.ok()) return done;
  return std::move(*recorded);
}

}  // namespace esar::service
