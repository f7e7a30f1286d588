#include "web/case_log_api.h"

#include <charconv>
#include <deque>
#include <functional>
#include <memory>

#include "common/text.h"
#include "formats/sheet_writer.h"
#include "web/auth.h"
#include "web/downloads.h"
#include "web/data_upload_api.h"
#include "web/request_params.h"

namespace esar::web {
namespace {

using nlohmann::json;

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
  const std::string base = "/api/v1/case-logs/" + std::to_string(u.id);
  json out = DataUploadJson(u, unchanged);
  out["cases_href"] = base + "/cases";
  out["export_href"] = base + "/cases/export";
  return out;
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
  DataUploadSpec spec;
  spec.roles = {"cases", "pauses"};
  spec.optional = {"pauses"};
  spec.what_th = "อัปโหลดบันทึกเรื่องของหน่วยงาน ";
  spec.what_en = "upload case logs for agency ";
  spec.finish = [&clock, limits](storage::Database& db, const service::Actor& actor,
                                 int64_t round_id, const std::string& agency,
                                 const std::string& kpi,
                                 const std::vector<service::PendingFile>& pending) {
    service::CaseLogOptions options;
    options.max_cases = limits.max_case_log_cases;
    options.max_file_bytes = limits.max_file_bytes;
    auto out = service::CaseLogs(db, clock, options).Upload(actor, round_id, agency, kpi, pending);
    if (!out) return ErrorResponse(out.status());
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
  };
  return MakeDataUpload(pool, files, clock, limits, std::move(spec));
}

void RegisterCaseLogRoutes(Router& router, storage::DatabasePool& pool, const Clock& clock) {
  router.Add("GET", "/api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log",
             WithPathId(pool, clock,
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
             WithPathId(pool, clock,
                    [&clock](storage::Database& db, const service::Actor& actor, HttpRequest&,
                             int64_t id) -> HttpResponse {
                      auto upload = CaseLogUpload(db, clock, actor, id);
                      if (!upload) return ErrorResponse(upload.status());
                      return JsonResponse(200, CaseLogUploadJson(*upload).dump());
                    }));
  router.Add("GET", "/api/v1/case-logs/{id}/cases",
             WithPathId(pool, clock,
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
      WithPathId(pool, clock,
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
