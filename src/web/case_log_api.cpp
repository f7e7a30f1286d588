#include "web/case_log_api.h"

#include <charconv>
#include <deque>
#include <functional>
#include <memory>

#include "common/text.h"
#include "formats/sheet_writer.h"
#include "web/auth.h"
#include "web/downloads.h"
#include "web/multipart.h"
#include "web/request_params.h"

namespace esar::web {
namespace {

using nlohmann::json;

HttpResponse Refuse(const Status& status, int http_status = 0) {
  HttpResponse r = ErrorResponse(status);
  if (http_status) r.status = http_status;
  return r;
}

Status TooLarge(int64_t max_bytes) {
  return Status::InvalidInput(
      "ไฟล์ใหญ่เกิน " + std::to_string(max_bytes / (1 << 20)) + " MB",
      "the file is larger than " + std::to_string(max_bytes / (1 << 20)) + " MB");
}

// Streams the "cases" and "pauses" parts of a case-log upload into the file store's temporary
// area, each bounded, then hands them to service::CaseLogs, which keeps them only when the log
// is accepted (a FileWriter not committed is removed with it).
class CaseLogSink final : public UploadSink, public MultipartParser::Handler {
 public:
  CaseLogSink(storage::DatabasePool& pool, storage::FileStore& files, const Clock& clock,
              service::Actor actor, int64_t round_id, std::string agency,
              std::string kpi, int64_t max_bytes, int64_t max_cases, std::string boundary)
      : pool_(pool),
        files_(files),
        clock_(clock),
        actor_(std::move(actor)),
        round_id_(round_id),
        agency_(std::move(agency)),
        kpi_(std::move(kpi)),
        max_bytes_(max_bytes),
        max_cases_(max_cases),
        parser_(std::move(boundary), *this) {}

  Status Write(std::string_view bytes) override { return parser_.Feed(bytes); }

  HttpResponse Finish(const Status& transfer) override {
    if (too_large_) return Refuse(TooLarge(max_bytes_), 413);
    if (!transfer.ok())
      return Refuse(transfer, transfer.message_en().find("larger") != std::string::npos ? 413 : 0);
    Status parsed = parser_.Finish();
    if (!parsed.ok()) return Refuse(parsed);
    std::vector<service::PendingFile> pending;
    for (Part& p : parts_) {
      if (p.size == 0) {
        // An empty file input (the optional pauses left out in a form) is no file.
        if (p.role == "pauses") continue;
        return Refuse(
            Status::InvalidInput("ไฟล์ " + p.role + " ว่างเปล่า", "the " + p.role + " file is empty"));
      }
      storage::FileWriter* writer = p.writer.get();
      pending.push_back({p.role, CleanFileName(p.name.empty() ? p.role : p.name),
                         writer->TemporaryPath(), [writer]() { return writer->Commit(); }});
    }
    auto lease = pool_.Acquire();
    if (!lease) return Refuse(lease.status());
    service::CaseLogOptions options;
    options.max_cases = max_cases_;
    options.max_file_bytes = max_bytes_;
    auto out = service::CaseLogs(**lease, clock_, options)
                   .Upload(actor_, round_id_, agency_, kpi_, pending);
    if (!out) return Refuse(out.status());
    if (!out->upload) {
      const std::string n = std::to_string(out->problem_count);
      return ErrorResponse(
          Status::InvalidInput(
              "บันทึกเรื่องมีปัญหา " + n + " รายการ จึงไม่รับทั้งชุด (ไม่ได้บันทึกสิ่งใด)",
              "the case log has " + n + " problems, so it is refused whole (nothing was stored)"),
          CaseLogProblemsJson(*out).dump());
    }
    return JsonResponse(out->unchanged ? 200 : 201,
                        CaseLogUploadJson(*out->upload, out->unchanged).dump());
  }

  // ---- MultipartParser::Handler ----
  Status OnPartBegin(const PartHeaders& headers) override {
    current_ = nullptr;
    if (!IsValidUtf8(headers.name) || !IsValidUtf8(headers.filename)) {
      return Status::InvalidInput("ชื่อช่องหรือชื่อไฟล์ไม่ใช่ UTF-8 ที่ถูกต้อง",
                                  "a field or file name is not valid UTF-8");
    }
    if (headers.name != "cases" && headers.name != "pauses") {
      return Status::InvalidInput("ไม่รู้จักช่อง \"" + headers.name + "\" (ใช้ได้: cases, pauses)",
                                  "unknown field \"" + headers.name + "\" (known: cases, pauses)");
    }
    if (!headers.has_filename) {
      return Status::InvalidInput("ส่วน \"" + headers.name + "\" ต้องเป็นไฟล์",
                                  "the \"" + headers.name + "\" part must be a file");
    }
    for (const Part& p : parts_) {
      if (p.role == headers.name) {
        return Status::InvalidInput("ส่งไฟล์ " + headers.name + " ได้ไฟล์เดียว",
                                    "one " + headers.name + " file only");
      }
    }
    auto writer = files_.Create();
    if (!writer) return writer.status();
    parts_.push_back({headers.name, headers.filename, std::move(*writer), 0});
    current_ = &parts_.back();
    return Status::Ok();
  }

  Status OnPartData(std::string_view bytes) override {
    if (!current_) return Status::Ok();
    current_->size += static_cast<int64_t>(bytes.size());
    if (current_->size > max_bytes_) {
      too_large_ = true;
      return TooLarge(max_bytes_);
    }
    return current_->writer->Write(bytes);
  }

  Status OnPartEnd() override {
    current_ = nullptr;
    return Status::Ok();
  }

 private:
  struct Part {
    std::string role;
    std::string name;
    std::unique_ptr<storage::FileWriter> writer;
    int64_t size = 0;
  };

  storage::DatabasePool& pool_;
  storage::FileStore& files_;
  const Clock& clock_;
  service::Actor actor_;
  int64_t round_id_;
  std::string agency_, kpi_;
  int64_t max_bytes_, max_cases_;
  MultipartParser parser_;
  std::deque<Part> parts_;  // a deque: current_ stays valid as parts are added
  Part* current_ = nullptr;
  bool too_large_ = false;
};

json VerdictJson(const service::CaseVerdictRow& v) {
  auto text_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"seq", v.seq},
          {"case_id", v.case_id},
          {"kind", v.kind},
          {"received", v.received},
          {"completed", text_or_null(v.completed)},
          {"verdict", v.verdict},
          {"counted", v.verdict == "on_time" || v.verdict == "late"},
          {"class", text_or_null(v.class_id)},
          {"standard", text_or_null(v.standard)},
          {"due", text_or_null(v.due)},
          {"paused_days", v.paused_days},
          {"late_days", v.late_days}};
}

// Runs `work` with a connection, the caller authenticated and the path's {id} read (GET routes:
// no CSRF to check). Who asks is checked before the id, as on every other route: a stranger
// gets 401/403 whatever id is asked for.
using IdWork = std::function<HttpResponse(storage::Database&, const service::Actor&,
                                          HttpRequest&, int64_t id)>;
Handler WithId(storage::DatabasePool& pool, const Clock& clock, IdWork work) {
  return [&pool, &clock, work = std::move(work)](HttpRequest& request) -> HttpResponse {
    auto lease = pool.Acquire();
    if (!lease) return ErrorResponse(lease.status());
    auto actor = Authenticate(request, **lease, clock);
    if (!actor) return ErrorResponse(actor.status());
    auto id = PathId(request, "id");
    if (!id) return ErrorResponse(id.status());
    return work(**lease, *actor, request, *id);
  };
}

// Upload `id` when the caller may read it and it is a case log (the data_uploads table also
// holds other kinds of data file); kNotFound otherwise.
Result<service::DataUpload> CaseLogUpload(storage::Database& db, const Clock& clock,
                                          const service::Actor& actor, int64_t id) {
  auto upload = service::DataFiles(db, clock).Get(actor, id);
  if (!upload) return upload.status();
  if (upload->kind != service::kCaseLogKind)
    return Status::NotFound("ไม่มีบันทึกเรื่องนี้", "no such case log");
  return upload;
}

}  // namespace

json CaseLogUploadJson(const service::DataUpload& u, bool unchanged) {
  json files = json::array();
  for (const service::DataFile& f : u.files) {
    files.push_back({{"role", f.role},
                     {"name", f.name},
                     {"media_type", f.media_type},
                     {"size", f.size},
                     {"sha256", f.sha256}});
  }
  const std::string base = "/api/v1/case-logs/" + std::to_string(u.id);
  return {{"id", u.id},
          {"round_id", u.round_id},
          {"agency", u.agency},
          {"kpi", u.kpi},
          {"uploaded_by", u.uploaded_by ? json(u.uploaded_by) : json(nullptr)},
          {"uploaded_at", u.uploaded_at},
          {"replaced_by", u.replaced_by ? json(*u.replaced_by) : json(nullptr)},
          {"current", !u.replaced_by},
          {"unchanged", unchanged},
          {"summary", json::parse(u.summary_json)},
          {"submission_id", u.submission_id ? json(*u.submission_id) : json(nullptr)},
          {"revision", u.revision ? json(u.revision) : json(nullptr)},
          {"files", files},
          {"cases_href", base + "/cases"},
          {"export_href", base + "/cases/export"}};
}

json CaseLogProblemsJson(const service::CaseLogUploadOutcome& outcome) {
  json problems = json::array();
  for (const formats::CaseLogProblem& p : outcome.problems) {
    problems.push_back({{"file", p.file},
                        {"line", p.line},
                        {"column", p.column.empty() ? json(nullptr) : json(p.column)},
                        {"message_th", p.th},
                        {"message_en", p.en}});
  }
  return {{"problem_count", outcome.problem_count}, {"problems", problems}};
}

UploadStarter MakeCaseLogUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                const Clock& clock, const UploadLimits& limits) {
  return [&pool, &files, &clock,
          limits](HttpRequest& request) -> std::variant<HttpResponse, std::unique_ptr<UploadSink>> {
    // Two files at most, each bounded: a body declaring more is refused before it is read.
    const std::string& length = request.Header("content-length");
    if (!length.empty()) {
      int64_t declared = 0;
      std::from_chars(length.data(), length.data() + length.size(), declared);
      if (declared > 2 * limits.max_file_bytes + 64 * 1024)
        return Refuse(TooLarge(limits.max_file_bytes), 413);
    }
    // The address, then who asks, then the body's type: a malformed round id answers 404 and a
    // stranger 401/403 whatever they send, as on every other route.
    auto round_id = PathId(request, "id");
    if (!round_id) return Refuse(round_id.status());
    const std::string agency = request.params.at("agency");
    const std::string kpi = request.params.at("kpi");
    service::Actor actor;
    {
      auto lease = pool.Acquire();
      if (!lease) return Refuse(lease.status());
      auto who = Authenticate(request, **lease, clock);
      if (!who) return Refuse(who.status());
      actor = *who;
    }
    // Refused before a byte of the body is read; the service checks it again with the rest.
    if (!(actor.Is(service::Role::kReporter) && actor.OfAgency(agency))) {
      return Refuse(service::Denied(actor, "อัปโหลดบันทึกเรื่องของหน่วยงาน " + agency,
                                    "upload case logs for agency " + agency));
    }
    auto boundary = BoundaryFromContentType(request.Header("content-type"));
    if (!boundary) return Refuse(boundary.status(), 415);
    return std::unique_ptr<UploadSink>(
        new CaseLogSink(pool, files, clock, actor, *round_id, agency, kpi,
                        limits.max_file_bytes, limits.max_case_log_cases, *boundary));
  };
}

void RegisterCaseLogRoutes(Router& router, storage::DatabasePool& pool, const Clock& clock) {
  router.Add("GET", "/api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log",
             WithId(pool, clock,
                    [&clock](storage::Database& db, const service::Actor& actor,
                             HttpRequest& request, int64_t round_id) -> HttpResponse {
                      auto history = service::DataFiles(db, clock).History(
                          actor, round_id, request.params.at("agency"), request.params.at("kpi"),
                          service::kCaseLogKind);
                      if (!history) return ErrorResponse(history.status());
                      json items = json::array();
                      json current = nullptr;
                      for (const service::DataUpload& u : *history) {
                        items.push_back(CaseLogUploadJson(u));
                        if (!u.replaced_by && current.is_null()) current = items.back();
                      }
                      return JsonResponse(200,
                                          json{{"current", current}, {"uploads", items}}.dump());
                    }));
  router.Add("GET", "/api/v1/case-logs/{id}",
             WithId(pool, clock,
                    [&clock](storage::Database& db, const service::Actor& actor, HttpRequest&,
                             int64_t id) -> HttpResponse {
                      auto upload = CaseLogUpload(db, clock, actor, id);
                      if (!upload) return ErrorResponse(upload.status());
                      return JsonResponse(200, CaseLogUploadJson(*upload).dump());
                    }));
  router.Add("GET", "/api/v1/case-logs/{id}/cases",
             WithId(pool, clock,
                    [&clock](storage::Database& db, const service::Actor& actor,
                             HttpRequest& request, int64_t id) -> HttpResponse {
                      auto upload = CaseLogUpload(db, clock, actor, id);
                      if (!upload) return ErrorResponse(upload.status());
                      auto limit = QueryNumber(request, "limit", 50, 1, 500);
                      if (!limit) return ErrorResponse(limit.status());
                      auto offset = QueryNumber(request, "offset", 0, 0, int64_t{1} << 40);
                      if (!offset) return ErrorResponse(offset.status());
                      auto page = service::CaseLogs(db, clock).Verdicts(
                          actor, id, {QueryText(request, "verdict"), *limit, *offset});
                      if (!page) return ErrorResponse(page.status());
                      json items = json::array();
                      for (const auto& v : page->items) items.push_back(VerdictJson(v));
                      return JsonResponse(200, json{{"items", items},
                                                    {"total", page->total},
                                                    {"limit", *limit},
                                                    {"offset", *offset}}
                                                   .dump());
                    }));
  router.Add(
      "GET", "/api/v1/case-logs/{id}/cases/export",
      WithId(pool, clock,
             [&clock](storage::Database& db, const service::Actor& actor, HttpRequest& request,
                      int64_t id) -> HttpResponse {
               auto format = FormatParam(request, formats::SheetFormat::kXlsx);
               if (!format) return ErrorResponse(format.status());
               auto upload = CaseLogUpload(db, clock, actor, id);
               if (!upload) return ErrorResponse(upload.status());
               const std::string verdict = QueryText(request, "verdict");
               const std::string name = "case-log-" + std::to_string(id) + "-" +
                                        SafeFileName(upload->agency) + "-kpi-" +
                                        SafeFileName(upload->kpi) +
                                        (verdict.empty() ? "" : "-" + SafeFileName(verdict)) + "." +
                                        formats::SheetExtension(*format);
               return TableDownload(*format, name, [&](formats::TableWriter& out) {
                 Status begun = out.BeginSheet("cases", {{"ลำดับ / Seq", 8},
                                                         {"เลขเรื่อง / Case", 16},
                                                         {"ประเภท / Kind", 16},
                                                         {"รับเรื่อง / Received", 12},
                                                         {"แล้วเสร็จ / Completed", 12},
                                                         {"ผล / Verdict", 16},
                                                         {"กลุ่ม / Class", 12},
                                                         {"มาตรฐาน / Standard", 12},
                                                         {"ครบกำหนด / Due", 12},
                                                         {"วันหยุดนับ / Paused days", 10},
                                                         {"ช้า (วัน) / Late days", 10}});
                 if (!begun.ok()) return begun;
                 return service::CaseLogs(db, clock).EachVerdict(
                     actor, id, verdict, [&](const service::CaseVerdictRow& v) {
                       using formats::Cell;
                       return out.AddRow(
                           {Cell::Number(static_cast<double>(v.seq)), Cell::Text(v.case_id),
                            Cell::Text(v.kind), Cell::Text(v.received), Cell::Text(v.completed),
                            Cell::Text(v.verdict), Cell::Text(v.class_id), Cell::Text(v.standard),
                            Cell::Text(v.due), Cell::Number(v.paused_days),
                            Cell::Number(v.late_days)});
                     });
               });
             }));
}

}  // namespace esar::web
