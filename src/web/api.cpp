#include "web/api.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "common/thai.h"
#include "formats/inputs.h"
#include "formats/json_input.h"
#include "formats/qa_json.h"
#include "formats/sheet_writer.h"
#include "formats/xlsx_reader.h"
#include "security/crypto.h"
#include "service/announcements.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/notify.h"
#include "service/login.h"
#include "service/questions.h"
#include "service/reporting.h"
#include "service/results.h"
#include "service/spreadsheets.h"
#include "web/auth.h"
#include "web/case_log_api.h"
#include "web/catalog_api.h"
#include "web/downloads.h"
#include "web/evidence_upload.h"
#include "web/request_params.h"

namespace esar::web {

// The policy an evidence file is served with: sandboxed (an origin of its own, no script, no
// form, no pop-up), nothing loaded from anywhere but the file itself, framed only by this site.
// The sandbox is the policy's, not only the frame's: Chromium refuses to show a PDF in a frame
// with a sandbox attribute, but shows one whose own policy sandboxes it (seen in Debian's
// chromium 2026-12-01), so PDFs are framed without the attribute and stay sandboxed.
constexpr const char* kEvidenceCsp =
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'";

// docs/openapi.json, embedded at build time (openapi.cpp.in).
extern const char* const kOpenApiJson;

namespace {

// Who may read /metrics (request counts, latencies, workload: nothing for the public). With a
// token, whoever sends it as a bearer token; without one, only this machine: a loopback peer
// that no proxy forwarded (a proxy on this host would make every visitor look local).
Status MayReadMetrics(const HttpRequest& request, const std::string& token) {
  if (!token.empty()) {
    const std::string& authorization = request.Header("authorization");
    if (authorization.rfind("Bearer ", 0) == 0 &&
        security::ConstantTimeEquals(authorization.substr(7), token))
      return Status::Ok();
    return Status::Unauthenticated("/metrics ต้องใช้โทเคนของ --metrics-token (Authorization: Bearer)",
                                   "/metrics needs the --metrics-token (Authorization: Bearer)");
  }
  const bool forwarded = !request.Header("forwarded").empty() ||
                         !request.Header("x-forwarded-for").empty() ||
                         !request.Header("x-real-ip").empty();
  if (IsLoopbackAddress(request.remote_address) && !forwarded) return Status::Ok();
  return Status::PermissionDenied(
      "/metrics เปิดให้อ่านจากเครื่องนี้เท่านั้น (ตั้ง --metrics-token เพื่ออ่านจากที่อื่น)",
      "/metrics is served to this machine only (set --metrics-token to read it from elsewhere)");
}

using nlohmann::json;
using service::Actor;
using service::Role;

// The context of one authenticated request.
struct Call {
  storage::Database& db;
  Actor actor;
  HttpRequest& request;
  const json& body;
};

HttpResponse Ok(const json& body, int status = 200) { return JsonResponse(status, body.dump()); }

// The error answer, with Retry-After when the refusal is a moment's (too many password checks).
HttpResponse BusyOrError(const Status& status) {
  HttpResponse r = ErrorResponse(status);
  if (status.code() == StatusCode::kUnavailable) {
    r.headers.emplace_back("Retry-After",
                           std::to_string(security::PasswordHasher::kRetryAfterSeconds));
  }
  return r;
}

Status BadRequest(const std::string& th, const std::string& en) {
  return Status::InvalidInput(th, en);
}

// A request's JSON body: {} when empty, else a JSON object parsed with the one depth limit every
// JSON input has (formats::ParseJsonBody); anything else is a 400 in the documented shape.
Result<json> ParseBody(const std::string& text) {
  if (text.empty()) return json::object();
  auto parsed = formats::ParseJsonBody(text);
  if (!parsed) {
    return BadRequest("JSON ที่ส่งมาไม่ถูกต้อง: " + parsed.status().message_th(),
                      "the request body is not valid JSON: " + parsed.status().message_en());
  }
  if (!parsed->is_object())
    return BadRequest("ต้องส่ง JSON ออบเจ็กต์", "the body must be a JSON object");
  return std::move(*parsed);
}

// Reads field `name` of `body` as a string; a missing or wrong-typed field is an error naming it.
Result<std::string> Text(const json& body, const char* name, bool required = true) {
  if (!body.contains(name) || body[name].is_null()) {
    if (!required) return std::string();
    return BadRequest(std::string("ต้องระบุ \"") + name + "\"",
                      std::string("\"") + name + "\" is required");
  }
  if (!body[name].is_string()) {
    return BadRequest(std::string("\"") + name + "\" ต้องเป็นข้อความ",
                      std::string("\"") + name + "\" must be a string");
  }
  std::string value = body[name].get<std::string>();
  if (value.size() > 64 * 1024) {
    return BadRequest(std::string("\"") + name + "\" ยาวเกิน 64 KB",
                      std::string("\"") + name + "\" is longer than 64 KB");
  }
  return value;
}

Result<int64_t> Integer(const json& body, const char* name) {
  if (!body.contains(name) || !body[name].is_number_integer()) {
    return BadRequest(std::string("\"") + name + "\" ต้องเป็นจำนวนเต็ม",
                      std::string("\"") + name + "\" must be a whole number");
  }
  return body[name].get<int64_t>();
}

json ActorJson(const Actor& a) {
  return {{"id", a.user_id},
          {"username", a.username},
          {"role", service::RoleName(a.role)},
          {"agency", a.agency.empty() ? json(nullptr) : json(a.agency)}};
}

json ContactJson(const service::Contact& c) {
  return {{"user_id", c.user_id},
          {"email", c.email},
          {"language", service::LangCode(c.language)},
          {"reminders", c.MailOn(service::kTopicReminders)},
          {"digest", c.MailOn(service::kTopicDigest)},
          {"announcements", c.MailOn(service::kTopicAnnouncements)}};
}

json NotificationJson(const service::NotificationItem& n) {
  return {{"id", n.id},
          {"kind", n.kind},
          {"subject_th", n.subject.th},
          {"subject_en", n.subject.en},
          {"body_th", n.body.th},
          {"body_en", n.body.en},
          {"link", n.link},
          {"created_at", n.created_at},
          {"read_at", n.read_at ? json(n.read_at) : json(nullptr)}};
}

json OutboxJson(const service::OutboxItem& m) {
  auto time_or_null = [](int64_t ms) { return ms ? json(ms) : json(nullptr); };
  return {{"id", m.id},
          {"user_id", m.user_id ? json(m.user_id) : json(nullptr)},
          {"username", m.username},
          {"address", m.address},
          {"language", service::LangCode(m.language)},
          {"kind", m.kind},
          {"subject", m.subject},
          // A reset link is the user's key to the account: not shown to anyone else, admins
          // included.
          {"link", m.kind == "password.reset" ? std::string() : m.link},
          {"created_at", m.created_at},
          {"status", service::OutboxStatusName(m.status)},
          {"attempts", m.attempts},
          {"next_attempt_at", m.status == service::OutboxStatus::kWaiting
                                  ? json(m.next_attempt_at)
                                  : json(nullptr)},
          {"sent_at", time_or_null(m.sent_at)},
          {"last_error", m.last_error}};
}

json TokenJson(const service::ApiTokenInfo& t) {
  auto time_or_null = [](int64_t ms) { return ms ? json(ms) : json(nullptr); };
  return {{"id", t.id},
          {"name", t.name},
          {"scope", service::TokenScopeName(t.scope)},
          {"created_at", t.created_at},
          {"expires_at", t.expires_at},
          {"last_used_at", time_or_null(t.last_used_at)},
          {"revoked_at", time_or_null(t.revoked_at)}};
}

json EvidenceJson(const service::EvidenceInfo& e) {
  return {{"id", e.id},
          {"name", e.name},
          {"media_type", e.media_type},
          {"size", e.size},
          {"sha256", e.sha256},
          {"uploaded_by", e.uploaded_by},
          {"uploaded_at", e.uploaded_at},
          {"replaced_by", e.replaced_by ? json(*e.replaced_by) : json(nullptr)}};
}

json SubmissionJson(const service::SubmissionView& s) {
  json evidence = json::array();
  for (const auto& e : s.evidence) evidence.push_back(EvidenceJson(e));
  json reviews = json::array();
  for (const auto& r : s.reviews) {
    json notes = json::object();
    for (const auto& [id, note] : r.evidence_notes) notes[std::to_string(id)] = note;
    reviews.push_back({{"id", r.id},
                       {"revision", r.revision},
                       {"evaluator", r.evaluator},
                       {"decision", r.decision},
                       {"verified_values", json::parse(r.verified_json)},
                       {"comment", r.comment},
                       {"at", r.at},
                       {"evidence_notes", notes}});
  }
  json send_backs = json::array();
  for (const auto& b : s.send_backs) {
    send_backs.push_back(
        {{"revision", b.revision}, {"by", b.by}, {"comment", b.comment}, {"at", b.at}});
  }
  return {{"id", s.id},
          {"round_id", s.round_id},
          {"agency", s.agency},
          {"kpi", s.report.kpi},
          {"status", service::SubmissionStatusName(s.status)},
          {"revision", s.revision},
          {"values", json::parse(s.report.values_json)},
          {"explanation", s.report.explanation},
          {"problems", s.report.problems},
          {"remarks", s.report.remarks},
          {"updated_at", s.updated_at},
          {"evidence", evidence},
          {"reviews", reviews},
          {"sent_back", s.sent_back},
          {"send_backs", send_backs}};
}

// A question as the API gives it (docs/openapi.json: Question); without `with_asker`, the
// agency and the user who asked are left out (null), as the public reads a published answer.
json QuestionJson(const service::QuestionInfo& q, bool with_asker) {
  auto or_null = [](bool has, const json& value) { return has ? value : json(nullptr); };
  return {{"id", q.id},
          {"fiscal_year", q.fiscal_year},
          {"through_year", q.through_year},
          {"agency_kind", q.agency_kind},
          {"kpi", or_null(!q.kpi.empty(), q.kpi)},
          {"agency", or_null(with_asker && !q.agency.empty(), q.agency)},
          {"asked_by", or_null(with_asker && q.asked_by != 0, q.asked_by)},
          {"asked_at", q.asked_at},
          {"question", q.question},
          {"answered", q.answered},
          {"answer", or_null(q.answered, q.answer)},
          {"answered_at", or_null(q.answered, q.answered_at)},
          {"published", q.published},
          {"number", or_null(q.number != 0, q.number)}};
}

// An announcement as the API gives it (docs/openapi.json: Announcement).
json AnnouncementJson(const service::AnnouncementInfo& a) {
  json files = json::array();
  for (const auto& f : a.files) files.push_back(AnnouncementFileJson(f));
  return {{"id", a.id},
          {"fiscal_year", a.fiscal_year},
          {"agency_kind", a.agency_kind},
          {"title", a.title},
          {"body", a.body},
          {"posted_at", a.posted_at},
          {"files", files}};
}

json RoundJson(const service::RoundStatus& r) {
  json reopenings = json::array();
  for (const auto& o : r.reopenings) {
    reopenings.push_back({{"at", o.at}, {"reason", o.reason}, {"deadline", o.deadline}});
  }
  return {{"id", r.round.id},
          {"framework_id", r.round.framework_id},
          {"round", r.round.round},
          {"deadline", r.round.deadline},
          {"starts_at", r.round.starts_at ? json(r.round.starts_at) : json(nullptr)},
          {"state", service::RoundStateName(r.state)},
          {"closes_at", r.closes_at},
          {"closed_early_at", r.closed_early_at ? json(r.closed_early_at) : json(nullptr)},
          {"appeal_deadline", r.appeal_deadline ? json(r.appeal_deadline) : json(nullptr)},
          {"reopenings", reopenings}};
}

json ReadinessJson(const service::Readiness& r) {
  return {{"round_id", r.status.round.id},
          {"state", service::RoundStateName(r.status.state)},
          {"closes_at", r.status.closes_at},
          {"appeal_deadline",
           r.status.appeal_deadline ? json(r.status.appeal_deadline) : json(nullptr)},
          {"agencies", r.agencies},
          {"kpis_due", r.kpis_due},
          {"agencies_missing", r.agencies_missing},
          {"kpis_missing", r.kpis_missing},
          {"awaiting_review", r.awaiting_review},
          {"accepted", r.accepted},
          {"open_appeals", r.open_appeals},
          {"decided_appeals", r.decided_appeals},
          {"agencies_scored", r.agencies_scored},
          {"agencies_without_total", r.agencies_without_total}};
}

// A result's metadata as the API gives it (docs/openapi.json: Result without its scores), with
// `extra`'s fields added.
json ResultMeta(const service::StoredResult& r, const json& extra) {
  json meta = {{"id", r.id},
               {"framework_id", r.framework_id},
               {"round", r.round},
               {"stage", service::ResultStageName(r.stage)},
               {"computed_at", r.computed_at},
               {"appeal_deadline", r.appeal_deadline ? json(r.appeal_deadline) : json(nullptr)}};
  meta.update(extra);
  return meta;
}

// A stored result as the API gives it: the metadata, and the stored document under `field` as it
// was stored: spliced in as text, never parsed and serialized again (it can be megabytes).
HttpResponse ResultResponse(const Result<service::StoredResult>& result, int status,
                            const char* field, const json& extra = json::object()) {
  if (!result) return ErrorResponse(result.status());
  const service::StoredResult& r = *result;
  json meta = ResultMeta(*result, extra);
  std::string body = meta.dump();
  body.pop_back();  // the closing brace
  body += std::string(",\"") + field + "\":" + r.document + "}";
  return JsonResponse(status, body);
}

// A result with its scores as Latest gives them to `actor` (docs/openapi.json: Result), streamed:
// the metadata (with `extra`), then the scores a batch of agencies at a time, each agency's part
// derived from its rows with a connection borrowed from `pool` for that piece. The whole round is
// never in memory, in the database or here. Refusals (no such result, not allowed) come before
// anything is sent.
HttpResponse StreamedResult(storage::DatabasePool& pool, service::Results& results,
                            const Actor& actor, const Result<service::StoredResult>& result,
                            int status, const json& extra = json::object()) {
  if (!result) return ErrorResponse(result.status());
  auto cursor = results.OpenScores(actor, *result);
  if (!cursor) return ErrorResponse(cursor.status());
  json meta = ResultMeta(*result, extra);
  auto head = std::make_shared<std::string>(meta.dump());
  head->pop_back();  // the closing brace
  *head += ",\"scores\":";
  auto state = std::make_shared<service::ScoresCursor>(std::move(*cursor));
  HttpResponse response;
  response.status = status;
  response.stream = [&pool, head, state](std::string& out) -> StreamStep {
    if (!head->empty()) {
      out.swap(*head);
      return StreamStep::kMore;
    }
    auto lease = pool.Acquire();
    if (!lease) return StreamStep::kFailed;
    auto done = state->Next(**lease, out);
    if (!done) {
      std::fprintf(stderr, "esar: streaming results failed: %s\n",
                   done.status().message_en().c_str());
      return StreamStep::kFailed;
    }
    if (!*done) return StreamStep::kMore;
    out += '}';
    return StreamStep::kDone;
  };
  return response;
}

// {"readiness": {...}} of the round after an action, for the answer: what was missing when it
// was done (the API's confirmation is this report, see docs/openapi.json). Empty when it cannot
// be read (never for an admin, who may act).
json ReadinessField(service::Results& results, const Actor& actor, int64_t round_id) {
  auto ready = results.ReadinessOf(actor, round_id);
  if (!ready) return json::object();
  return {{"readiness", ReadinessJson(*ready)}};
}

json AppealJson(const service::AppealInfo& a) {
  return {{"id", a.id},
          {"result_id", a.result_id},
          {"agency", a.agency},
          {"kpi", a.kpi},
          {"reason", a.reason},
          {"status", a.status},
          {"decision_reason", a.decision_reason}};
}

// The ?stage= of a results request: published (the default), final or preliminary.
Result<service::ResultStage> StageParam(const HttpRequest& request) {
  const auto it = request.query.find("stage");
  if (it == request.query.end() || it->second == "published")
    return service::ResultStage::kPublished;
  if (it->second == "final") return service::ResultStage::kFinal;
  if (it->second == "preliminary") return service::ResultStage::kPreliminary;
  return BadRequest("stage ต้องเป็น preliminary, final หรือ published",
                    "stage must be preliminary, final or published");
}

// A page of `items` from ?page= (1-based) and ?per_page= (1..200, default 50).
// The page and per_page of a list request: 1 and 50 by default, per_page at most 200; a 400
// for anything else.
Result<std::pair<int64_t, int64_t>> PageParams(const HttpRequest& request) {
  auto number = [&](const char* name, int64_t fallback, int64_t max) -> Result<int64_t> {
    auto it = request.query.find(name);
    if (it == request.query.end()) return fallback;
    int64_t v = 0;
    const auto [ptr, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size() || v < 1 || v > max) {
      return BadRequest(
          std::string(name) + " ต้องเป็นจำนวนเต็ม 1–" + std::to_string(max),
          std::string(name) + " must be a whole number from 1 to " + std::to_string(max));
    }
    return v;
  };
  auto page = number("page", 1, 1'000'000);
  if (!page) return page.status();
  auto per_page = number("per_page", 50, 200);
  if (!per_page) return per_page.status();
  return std::pair<int64_t, int64_t>{*page, *per_page};
}

// True when the request's body is an XLSX file (by its Content-Type): the imports and the
// template upload read it as a spreadsheet, not as JSON.
bool IsXlsxBody(const HttpRequest& request) {
  const std::string& type = request.Header("content-type");
  return type.rfind(formats::SheetMediaType(formats::SheetFormat::kXlsx), 0) == 0;
}

// An XLSX import is the admins' (as the JSON one): refused before the file is opened, so that
// nobody else makes the server read a spreadsheet.
Status MayImportXlsx(const Actor& actor) {
  if (actor.Is(Role::kAdmin)) return Status::Ok();
  return service::Denied(actor, "นำเข้าไฟล์ XLSX", "import an XLSX file");
}

// A round's download name ("results-2567-12.xlsx"); kNotFound for an unknown round.
Result<std::string> RoundDownloadName(storage::Database& db, int64_t round_id,
                                      const std::string& what, formats::SheetFormat format) {
  auto rows = db.Query(
      "SELECT f.fiscal_year, r.round FROM rounds r JOIN frameworks f ON f.id = r.framework_id "
      "WHERE r.id = ?",
      {round_id});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return Status::NotFound("ไม่พบรอบการรายงาน " + std::to_string(round_id),
                            "no reporting round " + std::to_string(round_id));
  }
  return service::DownloadName(what, static_cast<int>((*rows)[0].Int(0)),
                               static_cast<int>((*rows)[0].Int(1)), format);
}

// The queue's filter from the parameters /review uses: round, status ("" = any), ministry,
// kind, q, overdue=1, sort (updated, name, ministry, kpi, status, deadline, evidence) and dir=desc; a 400 for a bad value.
Result<service::QueueFilter> QueueFilterParams(const HttpRequest& request) {
  service::QueueFilter filter;
  const std::string round = QueryText(request, "round");
  if (!round.empty()) {
    const auto [ptr, ec] = std::from_chars(round.data(), round.data() + round.size(), filter.round_id);
    if (ec != std::errc() || ptr != round.data() + round.size() || filter.round_id <= 0)
      return BadRequest("round ต้องเป็นรหัสรอบ", "round must be a round id");
  }
  filter.status = QueryText(request, "status");
  if (!filter.status.empty() && filter.status != "draft" && filter.status != "approved" &&
      filter.status != "submitted" && filter.status != "returned" && filter.status != "accepted") {
    return BadRequest("status ต้องเป็น draft, approved, submitted, returned หรือ accepted",
                      "status must be draft, approved, submitted, returned or accepted");
  }
  filter.ministry = QueryText(request, "ministry");
  filter.kind = QueryText(request, "kind");
  filter.q = QueryText(request, "q");
  const std::string overdue = QueryText(request, "overdue");
  if (!overdue.empty() && overdue != "1" && overdue != "0")
    return BadRequest("overdue ต้องเป็น 1 หรือ 0", "overdue must be 1 or 0");
  filter.overdue = overdue == "1";
  const std::string sort = QueryText(request, "sort");
  if (sort == "name") {
    filter.sort = service::QueueSort::kName;
  } else if (sort == "ministry") {
    filter.sort = service::QueueSort::kMinistry;
  } else if (sort == "status") {
    filter.sort = service::QueueSort::kStatus;
  } else if (sort == "deadline") {
    filter.sort = service::QueueSort::kDeadline;
  } else if (sort == "evidence") {
    filter.sort = service::QueueSort::kEvidence;
  } else if (sort == "kpi") {
    filter.sort = service::QueueSort::kKpi;
  } else if (sort.empty() || sort == "updated") {
    filter.sort = service::QueueSort::kUpdated;
  } else {
    return BadRequest("sort ต้องเป็น updated, name, ministry, kpi, status, deadline หรือ evidence",
                      "sort must be updated, name, ministry, kpi, status, deadline or evidence");
  }
  filter.descending = QueryText(request, "dir") == "desc";
  return filter;
}

// The ?from= and ?to= of the audit download (Bangkok dates, "2024-09-30" or "30/9/2567" as the
// admin's page sends them; `to` included) as
// [from, to + 1 day) in ms; both required.
Result<std::pair<int64_t, int64_t>> PeriodParams(const HttpRequest& request) {
  const std::string from = QueryText(request, "from"), to = QueryText(request, "to");
  if (from.empty() || to.empty())
    return BadRequest("ต้องระบุ from และ to (วันที่ เช่น 2024-09-30)",
                      "from and to are required (dates such as 2024-09-30)");
  auto start = ParseDateField(from, "00:00");
  if (!start) return start.status();
  auto end = ParseDateField(to, "00:00");
  if (!end) return end.status();
  if (*end < *start)
    return BadRequest("to ต้องไม่ก่อน from", "to must not be before from");
  return std::pair<int64_t, int64_t>{*start, *end + 24LL * 3600 * 1000};
}

Result<json> Page(const HttpRequest& request, const json& items) {
  auto paging = PageParams(request);
  if (!paging) return paging.status();
  const auto [page, per_page] = *paging;
  json slice = json::array();
  const auto total = static_cast<int64_t>(items.size());
  for (int64_t i = (page - 1) * per_page; i < std::min(total, page * per_page); ++i)
    slice.push_back(items[static_cast<size_t>(i)]);
  return json{{"items", slice}, {"page", page}, {"per_page", per_page}, {"total", total}};
}

}  // namespace

void Metrics::OnResponse(const HttpRequest& request, int status, double milliseconds) {
  by_class_[std::clamp(status / 100, 0, 5)]++;
  size_t b = 0;
  while (b < kBucketsMs.size() && milliseconds > kBucketsMs[b]) ++b;
  buckets_[b]++;
  count_++;
  sum_micros_ += static_cast<int64_t>(milliseconds * 1000);
  if (!log_) return;
  const json line = {{"ts", SystemClock().NowMs()},
                     {"level", status >= 500 ? "error" : "info"},
                     {"request_id", request.request_id},
                     {"method", request.method},
                     {"path", request.path},
                     {"status", status},
                     {"ms", std::round(milliseconds * 1000) / 1000},
                     {"remote", proxy_.ClientAddress(request)}};
  std::lock_guard<std::mutex> lock(log_mutex_);
  std::fprintf(stderr, "%s\n", line.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
}

void Metrics::LogError(const HttpRequest& request, const std::string& message) {
  const json line = {
      {"ts", SystemClock().NowMs()}, {"level", "error"},     {"request_id", request.request_id},
      {"method", request.method},    {"path", request.path}, {"message", message}};
  std::lock_guard<std::mutex> lock(log_mutex_);
  std::fprintf(stderr, "%s\n", line.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
}

std::string Metrics::Text() const {
  std::string out;
  out +=
      "# HELP esar_http_requests_total HTTP requests answered, by status class.\n# TYPE "
      "esar_http_requests_total counter\n";
  for (int c = 1; c <= 5; ++c) {
    out += "esar_http_requests_total{code=\"" + std::to_string(c) + "xx\"} " +
           std::to_string(by_class_[c].load()) + "\n";
  }
  out +=
      "# HELP esar_http_errors_total HTTP responses with a 5xx status.\n# TYPE "
      "esar_http_errors_total counter\n";
  out += "esar_http_errors_total " + std::to_string(by_class_[5].load()) + "\n";
  out +=
      "# HELP esar_http_request_duration_seconds Time to answer a request.\n# TYPE "
      "esar_http_request_duration_seconds histogram\n";
  int64_t cumulative = 0;
  for (size_t b = 0; b < kBucketsMs.size(); ++b) {
    cumulative += buckets_[b].load();
    out += "esar_http_request_duration_seconds_bucket{le=\"" +
           ShortestDecimal(kBucketsMs[b] / 1000) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += "esar_http_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(count_.load()) +
         "\n";
  out += "esar_http_request_duration_seconds_sum " +
         ShortestDecimal(static_cast<double>(sum_micros_.load()) / 1e6) + "\n";
  out += "esar_http_request_duration_seconds_count " + std::to_string(count_.load()) + "\n";
  out +=
      "# HELP esar_submissions_total Submissions sent to the central office.\n# TYPE "
      "esar_submissions_total counter\n";
  out += "esar_submissions_total " + std::to_string(submissions_.load()) + "\n";
  out += "# HELP esar_uploads_total Evidence files stored.\n# TYPE esar_uploads_total counter\n";
  out += "esar_uploads_total " + std::to_string(uploads_.load()) + "\n";
  return out;
}

void Api::Register(Router& router) {
  // Runs `work` with a database connection, the caller authenticated and the JSON body parsed.
  // Cookie sessions must send their CSRF token on unsafe methods. With `idempotent` and an
  // Idempotency-Key header, a repeated request gets the first answer instead of acting twice.
  auto with = [this](bool idempotent, auto work) {
    return [this, idempotent, work](HttpRequest& request) -> HttpResponse {
      auto lease = pool_.Acquire();
      if (!lease) return ErrorResponse(lease.status());
      storage::Database& db = **lease;
      auto authenticated = Authenticate(request, db, clock_);
      if (!authenticated) return ErrorResponse(authenticated.status());
      const Actor actor = *authenticated;
      // No route changes anything for the public: an anonymous caller's body is never read.
      const bool unsafe = request.method != "GET" && request.method != "HEAD";
      if (unsafe && actor.user_id == 0) {
        return ErrorResponse(
            Status::Unauthenticated("ต้องเข้าสู่ระบบก่อน", "log in first: this needs an account"));
      }
      // A spreadsheet body is the route's to read (IsXlsxBody); anything else must be JSON.
      auto parsed = IsXlsxBody(request) ? Result<json>(json::object()) : ParseBody(request.body);
      if (!parsed) return ErrorResponse(parsed.status());
      const json body = std::move(*parsed);
      const std::string& key = request.Header("idempotency-key");
      if (!idempotent || key.empty() || actor.user_id == 0) {
        Call call{db, actor, request, body};
        return work(call);
      }
      if (key.size() > 200)
        return ErrorResponse(
            BadRequest("Idempotency-Key ยาวเกินไป", "the Idempotency-Key is too long"));
      // Reserve the key first: a retry while the first is still running, or after it was cut
      // short, is refused instead of acting twice.
      const std::string fingerprint =
          security::Sha256Hex(request.method + " " + request.path + "\n" + request.body);
      auto reserved = db.Query(
          "INSERT INTO idempotency_keys (user_id, key, request_hash, response, created_at) VALUES "
          "(?, ?, ?, '', ?) "
          "ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id",
          {actor.user_id, key, fingerprint, clock_.NowMs()});
      if (!reserved) return ErrorResponse(reserved.status());
      if (reserved->empty()) {
        auto earlier = db.Query(
            "SELECT request_hash, response FROM idempotency_keys WHERE user_id = ? AND key = ?",
            {actor.user_id, key});
        if (!earlier) return ErrorResponse(earlier.status());
        if (earlier->empty()) {  // the first attempt failed and let the key go meanwhile
          return ErrorResponse(
              Status::Conflict("คำขอเดียวกันเพิ่งล้มเหลว โปรดตรวจสอบสถานะก่อนส่งใหม่",
                               "the same request just failed: check the state before retrying"));
        }
        if ((*earlier)[0].Text(0) != fingerprint) {
          return ErrorResponse(
              Status::Conflict("ใช้ Idempotency-Key นี้กับคำขออื่นไปแล้ว",
                               "this Idempotency-Key was used for another request"));
        }
        if ((*earlier)[0].Text(1).empty()) {
          return ErrorResponse(
              Status::Conflict("คำขอเดียวกันยังทำงานอยู่หรือถูกขัดจังหวะ โปรดตรวจสอบสถานะก่อนส่งใหม่",
                               "the same request is still running or was interrupted: check the "
                               "state before retrying"));
        }
        const json stored = json::parse((*earlier)[0].Text(1));
        HttpResponse replay =
            JsonResponse(stored["status"].get<int>(), stored["body"].get<std::string>());
        replay.headers.emplace_back("Idempotent-Replayed", "true");
        return replay;
      }
      Call call{db, actor, request, body};
      HttpResponse response = work(call);
      // A 5xx may come after the change was committed, so the key stays reserved without an
      // answer: a retry is told to check the state, and nothing is done twice.
      if (response.status < 500) {
        Status stored =
            db.Execute("UPDATE idempotency_keys SET response = ? WHERE user_id = ? AND key = ?",
                       {json{{"status", response.status}, {"body", response.body}}.dump(),
                        actor.user_id, key});
        if (!stored.ok()) {
          std::fprintf(stderr, "esar: request %s: the idempotent answer was not stored: %s\n",
                       request.request_id.c_str(), stored.message_en().c_str());
        }
      }
      return response;
    };
  };
  auto reply = [](const auto& result, auto to_json, int status = 200) -> HttpResponse {
    if (!result) return ErrorResponse(result.status());
    return Ok(to_json(*result), status);
  };

  router.Add("GET", "/api/v1/openapi.json",
             [](HttpRequest&) { return JsonResponse(200, kOpenApiJson); });
  router.Add("GET", "/healthz", [this](HttpRequest&) {
    auto lease = pool_.Acquire();
    if (!lease || !(*lease)->Ping()) {
      return JsonResponse(503, json{{"status", "unavailable"}, {"database", "down"}}.dump());
    }
    return Ok({{"status", "ok"}, {"database", "up"}});
  });
  router.Add("GET", "/metrics", [this](HttpRequest& request) {
    Status allowed = MayReadMetrics(request, options_.metrics_token);
    if (!allowed.ok()) {
      HttpResponse refused = ErrorResponse(allowed);
      if (refused.status == 401)
        refused.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"metrics\"");
      return refused;
    }
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.Text();
    return r;
  });

  // ---- sessions and users ----
  router.Add("POST", "/api/v1/session", [this](HttpRequest& request) -> HttpResponse {
    // A browser's cross-site post names its origin; scripts send none and pass.
    Status same_site = CheckSameSite(request, options_.proxy);
    if (!same_site.ok()) return ErrorResponse(same_site);
    if (request.body.empty())
      return ErrorResponse(BadRequest("ต้องส่ง JSON ออบเจ็กต์", "the body must be a JSON object"));
    auto parsed = ParseBody(request.body);
    if (!parsed) return ErrorResponse(parsed.status());
    const json body = std::move(*parsed);
    auto username = Text(body, "username");
    if (!username) return ErrorResponse(username.status());
    auto password = Text(body, "password");
    if (!password) return ErrorResponse(password.status());
    // No connection is held here: Login takes one for its bookkeeping, never while it hashes.
    int64_t retry_after_s = 0;
    auto session =
        service::Logins(pool_, clock_, *options_.hasher)
            .Login(*username, *password, options_.proxy.ClientAddress(request), &retry_after_s);
    if (!session) {
      HttpResponse refused = ErrorResponse(session.status());
      if (retry_after_s > 0)
        refused.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
      return refused;
    }
    HttpResponse r = Ok({{"user", ActorJson(session->actor)},
                         {"csrf_token", session->csrf_token},
                         {"expires_at", session->expires_at}});
    r.headers.emplace_back(
        "Set-Cookie", SessionCookie(session->token, service::Directory::kSessionLifetimeMs / 1000,
                                    options_.secure_cookies || request.tls));
    return r;
  });
  router.Add("DELETE", "/api/v1/session", with(false, [this](Call& c) -> HttpResponse {
               if (c.actor.user_id == 0)
                 return ErrorResponse(service::Denied(c.actor, "ออกจากระบบ", "log out"));
               Status s = service::Directory(c.db, clock_).Logout(c.request.Cookie(kSessionCookie));
               if (!s.ok()) return ErrorResponse(s);
               HttpResponse r = JsonResponse(200, json{{"logged_out", true}}.dump());
               r.headers.emplace_back("Set-Cookie", SessionCookie("", 0, options_.secure_cookies));
               return r;
             }));
  router.Add("GET", "/api/v1/me", with(false, [](Call& c) -> HttpResponse {
               if (c.actor.user_id == 0)
                 return ErrorResponse(service::Denied(c.actor, "ดูข้อมูลบัญชี", "see the account"));
               return Ok(ActorJson(c.actor));
             }));
  router.Add("POST", "/api/v1/me/password", with(false, [this](Call& c) -> HttpResponse {
               auto old_password = Text(c.body, "old_password");
               if (!old_password) return ErrorResponse(old_password.status());
               auto new_password = Text(c.body, "new_password");
               if (!new_password) return ErrorResponse(new_password.status());
               Status s = service::Directory(c.db, clock_, options_.hasher)
                              .ChangePassword(c.actor, *old_password, *new_password);
               if (!s.ok()) return BusyOrError(s);
               return Ok({{"changed", true}});
             }));
  router.Add("POST", "/api/v1/users", with(false, [this](Call& c) -> HttpResponse {
               service::NewUser user;
               for (auto [field, into] : {std::pair{"username", &user.username},
                                          std::pair{"password", &user.password}}) {
                 auto v = Text(c.body, field);
                 if (!v) return ErrorResponse(v.status());
                 *into = *v;
               }
               auto display = Text(c.body, "display_name", false);
               auto role = Text(c.body, "role");
               auto agency = Text(c.body, "agency", false);
               if (!display || !role || !agency)
                 return ErrorResponse(!display ? display.status()
                                      : !role  ? role.status()
                                               : agency.status());
               auto parsed = service::ParseRole(*role);
               if (!parsed) return ErrorResponse(parsed.status());
               user.display_name = display->empty() ? user.username : *display;
               user.role = *parsed;
               user.agency = *agency;
               auto email = Text(c.body, "email", false);
               if (!email) return ErrorResponse(email.status());
               user.email = *email;
               auto language = Text(c.body, "language", false);
               if (!language) return ErrorResponse(language.status());
               if (!language->empty()) {
                 auto lang = service::ParseLangCode(*language);
                 if (!lang) return ErrorResponse(lang.status());
                 user.language = *lang;
               }
               auto id =
                   service::Directory(c.db, clock_, options_.hasher).CreateUser(c.actor, user);
               if (!id) return BusyOrError(id.status());
               return Ok({{"id", *id}, {"username", user.username}, {"role", *role}}, 201);
             }));
  // ---- e-mail addresses, preferences, notifications, the outbox ----
  router.Add("GET", "/api/v1/users/{id}/contact", with(false, [this, reply](Call& c) {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               return reply(service::Contacts(c.db, clock_).Get(c.actor, *id), ContactJson);
             }));
  router.Add("PUT", "/api/v1/users/{id}/contact", with(false, [this, reply](Call& c) {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto email = Text(c.body, "email");
               if (!email) return ErrorResponse(email.status());
               auto language = Text(c.body, "language");
               if (!language) return ErrorResponse(language.status());
               auto lang = service::ParseLangCode(*language);
               if (!lang) return ErrorResponse(lang.status());
               service::Contacts contacts(c.db, clock_);
               Status s = contacts.SetAddress(c.actor, *id, *email, *lang);
               if (!s.ok()) return ErrorResponse(s);
               return reply(contacts.Get(c.actor, *id), ContactJson);
             }));
  router.Add("PUT", "/api/v1/me/preferences", with(false, [this, reply](Call& c) {
               auto language = Text(c.body, "language");
               if (!language) return ErrorResponse(language.status());
               auto lang = service::ParseLangCode(*language);
               if (!lang) return ErrorResponse(lang.status());
               bool on[2] = {true, true};
               const char* names[2] = {"reminders", "digest"};
               for (int i = 0; i < 2; ++i) {
                 if (!c.body.contains(names[i]) || !c.body[names[i]].is_boolean()) {
                   return ErrorResponse(
                       BadRequest(std::string("\"") + names[i] + "\" ต้องเป็น true หรือ false",
                                  std::string("\"") + names[i] + "\" must be true or false"));
                 }
                 on[i] = c.body[names[i]].get<bool>();
               }
               // Optional, so that clients written before the topic existed keep working.
               std::optional<bool> announcements;
               if (c.body.contains("announcements")) {
                 if (!c.body["announcements"].is_boolean()) {
                   return ErrorResponse(BadRequest("\"announcements\" ต้องเป็น true หรือ false",
                                                   "\"announcements\" must be true or false"));
                 }
                 announcements = c.body["announcements"].get<bool>();
               }
               service::Contacts contacts(c.db, clock_);
               Status s = contacts.SetPreferences(c.actor, *lang, on[0], on[1], announcements);
               if (!s.ok()) return ErrorResponse(s);
               return reply(contacts.Get(c.actor, c.actor.user_id), ContactJson);
             }));
  router.Add("GET", "/api/v1/me/notifications", with(false, [this](Call& c) -> HttpResponse {
               auto paging = PageParams(c.request);
               if (!paging) return ErrorResponse(paging.status());
               const auto [page, per_page] = *paging;
               auto list = service::Inbox(c.db, clock_).List(c.actor, per_page,
                                                             (page - 1) * per_page);
               if (!list) return ErrorResponse(list.status());
               json items = json::array();
               for (const auto& n : list->items) items.push_back(NotificationJson(n));
               return Ok({{"items", items},
                          {"page", page},
                          {"per_page", per_page},
                          {"total", list->total},
                          {"unread", list->unread}});
             }));
  router.Add("POST", "/api/v1/me/notifications/read",
             with(false, [this](Call& c) -> HttpResponse {
               int64_t id = 0;
               if (c.body.contains("id") && !c.body["id"].is_null()) {
                 auto given = Integer(c.body, "id");
                 if (!given || *given < 1)
                   return ErrorResponse(BadRequest("\"id\" ต้องเป็นจำนวนเต็มบวก",
                                                   "\"id\" must be a positive whole number"));
                 id = *given;
               }
               service::Inbox inbox(c.db, clock_);
               auto marked = inbox.MarkRead(c.actor, id);
               if (!marked) return ErrorResponse(marked.status());
               auto unread = inbox.Unread(c.actor);
               if (!unread) return ErrorResponse(unread.status());
               return Ok({{"marked", *marked}, {"unread", *unread}});
             }));
  router.Add("GET", "/api/v1/outbox", with(false, [this](Call& c) -> HttpResponse {
               auto paging = PageParams(c.request);
               if (!paging) return ErrorResponse(paging.status());
               const auto [page, per_page] = *paging;
               const auto status = c.request.query.find("status");
               auto list = service::Outbox(c.db, clock_)
                               .List(c.actor, status == c.request.query.end() ? "" : status->second,
                                     per_page, (page - 1) * per_page);
               if (!list) return ErrorResponse(list.status());
               json items = json::array();
               for (const auto& m : list->items) items.push_back(OutboxJson(m));
               return Ok({{"items", items},
                          {"page", page},
                          {"per_page", per_page},
                          {"total", list->total},
                          {"counts",
                           {{"waiting", list->waiting}, {"sent", list->sent}, {"failed", list->failed}}},
                          {"sending", options_.mail_sending}});
             }));
  router.Add("POST", "/api/v1/outbox/{id}/resend", with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               Status s = service::Outbox(c.db, clock_).Resend(c.actor, *id);
               if (!s.ok()) return ErrorResponse(s);
               return Ok({{"id", *id}, {"status", "waiting"}});
             }));

  router.Add("POST", "/api/v1/tokens", with(false, [this](Call& c) -> HttpResponse {
               service::NewApiToken wanted;
               auto name = Text(c.body, "name");
               if (!name) return ErrorResponse(name.status());
               wanted.name = *name;
               auto scope = Text(c.body, "scope", false);
               if (!scope) return ErrorResponse(scope.status());
               if (*scope == "read") {
                 wanted.scope = service::TokenScope::kRead;
               } else if (!scope->empty() && *scope != "full") {
                 return ErrorResponse(BadRequest("\"scope\" ต้องเป็น \"read\" หรือ \"full\"",
                                                 "\"scope\" must be \"read\" or \"full\""));
               }
               if (c.body.contains("expires_in_days") && !c.body["expires_in_days"].is_null()) {
                 auto days = Integer(c.body, "expires_in_days");
                 if (!days || *days < 1 || *days > 365) {
                   return ErrorResponse(
                       BadRequest("expires_in_days ต้องเป็น 1–365", "expires_in_days must be 1–365"));
                 }
                 wanted.lifetime_ms = *days * 24 * 3600 * 1000;
               }
               auto created = service::Directory(c.db, clock_).CreateApiToken(c.actor, wanted);
               if (!created) return ErrorResponse(created.status());
               json answer = TokenJson(created->info);
               answer["token"] = created->token;
               return Ok(answer, 201);
             }));
  router.Add("GET", "/api/v1/tokens", with(false, [this](Call& c) -> HttpResponse {
               auto list = service::Directory(c.db, clock_).ApiTokens(c.actor);
               if (!list) return ErrorResponse(list.status());
               json items = json::array();
               for (const auto& t : *list) items.push_back(TokenJson(t));
               auto page = Page(c.request, items);
               if (!page) return ErrorResponse(page.status());
               return Ok(*page);
             }));
  router.Add("DELETE", "/api/v1/tokens/{id}", with(false, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               return reply(service::Directory(c.db, clock_).RevokeApiToken(c.actor, *id),
                            TokenJson);
             }));

  // ---- agencies, frameworks, rounds, data ----
  router.Add("GET", "/api/v1/agencies", with(false, [this, reply](Call& c) {
               // The contact addresses are the central office's: admins only.
               const bool admin = c.actor.Is(service::Role::kAdmin);
               return reply(service::Directory(c.db, clock_).Agencies(),
                            [admin](const std::vector<domain::Agency>& list) {
                              json out = json::array();
                              for (const auto& a : list) {
                                json agency = {
                                    {"code", a.code},
                                    {"name", {{"th", a.name.th}, {"en", a.name.en}}},
                                    {"kind", a.kind},
                                    {"parent", a.parent.empty() ? json(nullptr) : json(a.parent)}};
                                if (admin) agency["email"] = a.email.value_or("");
                                out.push_back(std::move(agency));
                              }
                              return out;
                            });
             }));
  // The agencies as the import takes them (CSV by default: the bulk format of §4).
  router.Add("GET", "/api/v1/agencies/export", with(false, [this](Call& c) -> HttpResponse {
               auto format = FormatParam(c.request, formats::SheetFormat::kCsv);
               if (!format) return ErrorResponse(format.status());
               return TableDownload(*format,
                                    std::string("agencies.") + formats::SheetExtension(*format),
                                    [&](formats::TableWriter& out) {
                                      return service::Spreadsheets(c.db, clock_)
                                          .AgenciesTable(c.actor, out);
                                    });
             }));
  router.Add("PUT", "/api/v1/agencies", with(false, [this](Call& c) -> HttpResponse {
               const bool xlsx = IsXlsxBody(c.request);
               if (Status may = MayImportXlsx(c.actor); xlsx && !may.ok()) return ErrorResponse(may);
               auto agencies = xlsx ? formats::ParseAgenciesXlsx(c.request.body, "body.xlsx")
                                    : formats::ParseAgencies(c.request.body, "body.json");
               if (!agencies) return ErrorResponse(agencies.status());
               Status s = service::Directory(c.db, clock_).UpsertAgencies(c.actor, *agencies);
               if (!s.ok()) return ErrorResponse(s);
               return Ok({{"agencies", agencies->size()}});
             }));
  auto framework_json = [](const service::StoredFramework& f) {
    return json{{"id", f.id},
                {"fiscal_year", f.fiscal_year},
                {"agency_kind", f.agency_kind},
                {"version", f.version},
                {"frozen", f.frozen},
                {"diff", f.diff.empty() ? json(nullptr) : json::parse(f.diff)},
                {"document", json::parse(f.document)}};
  };
  router.Add("POST", "/api/v1/frameworks", with(false, [this, reply, framework_json](Call& c) {
               return reply(service::Cycle(c.db, clock_).ImportFramework(c.actor, c.request.body),
                            framework_json, 201);
             }));
  router.Add("GET", "/api/v1/frameworks/{id}",
             with(false, [this, reply, framework_json](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto framework = service::Cycle(c.db, clock_).Framework(*id);
               // A framework not yet frozen by a round is a draft, per-agency targets and all:
               // the central office's alone. Anyone else gets the answer of a missing one.
               if (framework && !framework->frozen && !c.actor.Is(service::Role::kAdmin)) {
                 return ErrorResponse(Status::NotFound("ไม่มีกรอบการประเมินรหัส " + std::to_string(*id),
                                                       "no framework " + std::to_string(*id)));
               }
               return reply(framework, framework_json);
             }));
  // A round as the API gives it: with its state, read again after any change.
  auto round_reply = [this](storage::Database& db, const Result<service::RoundInfo>& round,
                            int status) -> HttpResponse {
    if (!round) return ErrorResponse(round.status());
    auto current = service::Cycle(db, clock_).StatusOf(round->id);
    if (!current) return ErrorResponse(current.status());
    return Ok(RoundJson(*current), status);
  };
  router.Add("POST", "/api/v1/frameworks/{id}/rounds",
             with(false, [this, round_reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto round = Integer(c.body, "round");
               auto deadline = Integer(c.body, "deadline");
               if (!round || !deadline)
                 return ErrorResponse(!round ? round.status() : deadline.status());
               Result<int64_t> starts_at = int64_t{0};  // optional: at once
               if (c.body.contains("starts_at")) starts_at = Integer(c.body, "starts_at");
               if (!starts_at) return ErrorResponse(starts_at.status());
               return round_reply(c.db,
                                  service::Cycle(c.db, clock_)
                                      .OpenRound(c.actor, *id, static_cast<int>(*round), *deadline,
                                                 *starts_at),
                                  201);
             }));
  router.Add("GET", "/api/v1/rounds/{id}", with(false, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               return reply(service::Cycle(c.db, clock_).StatusOf(*id), RoundJson);
             }));
  // Closing reporting early and reopening a closed round: the only ways a round's state moves
  // by hand. The answer carries the round's readiness, so a client sees what was missing.
  router.Add("POST", "/api/v1/rounds/{id}/close", with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto reason = Text(c.body, "reason", false);
               if (!reason) return ErrorResponse(reason.status());
               auto closed = service::Cycle(c.db, clock_).CloseReporting(c.actor, *id, *reason);
               if (!closed) return ErrorResponse(closed.status());
               json body = RoundJson(*closed);
               if (auto ready = service::Results(c.db, clock_).ReadinessOf(c.actor, *id))
                 body["readiness"] = ReadinessJson(*ready);
               return Ok(body);
             }));
  router.Add("POST", "/api/v1/rounds/{id}/reopen",
             with(false, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto reason = Text(c.body, "reason");
               if (!reason) return ErrorResponse(reason.status());
               auto deadline = Integer(c.body, "deadline");
               if (!deadline) return ErrorResponse(deadline.status());
               return reply(service::Cycle(c.db, clock_).Reopen(c.actor, *id, *reason, *deadline),
                            RoundJson);
             }));
  router.Add(
      "GET", "/api/v1/rounds/{id}/readiness", with(false, [this, reply](Call& c) -> HttpResponse {
        auto id = PathId(c.request, "id");
        if (!id) return ErrorResponse(id.status());
        return reply(service::Results(c.db, clock_).ReadinessOf(c.actor, *id), ReadinessJson);
      }));
  router.Add("POST", "/api/v1/rounds/{id}/extensions", with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto agency = Text(c.body, "agency");
               auto deadline = Integer(c.body, "deadline");
               if (!agency || !deadline)
                 return ErrorResponse(!agency ? agency.status() : deadline.status());
               Status s =
                   service::Cycle(c.db, clock_).ExtendDeadline(c.actor, *id, *agency, *deadline);
               if (!s.ok()) return ErrorResponse(s);
               return Ok({{"round_id", *id}, {"agency", *agency}, {"deadline", *deadline}}, 201);
             }));
  router.Add("DELETE", "/api/v1/rounds/{id}/extensions/{agency}",
             with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               const std::string& agency = c.request.params.at("agency");
               Status s = service::Cycle(c.db, clock_).RemoveExtension(c.actor, *id, agency);
               if (!s.ok()) return ErrorResponse(s);
               return Ok({{"round_id", *id}, {"agency", agency}, {"removed", true}});
             }));
  router.Add("POST", "/api/v1/data", with(false, [this](Call& c) -> HttpResponse {
               const bool xlsx = IsXlsxBody(c.request);
               if (Status may = MayImportXlsx(c.actor); xlsx && !may.ok()) return ErrorResponse(may);
               auto data = xlsx ? formats::ParseObservationsXlsx(c.request.body, "body.xlsx")
                                : formats::ParseObservations(c.request.body, "body.json");
               if (!data) return ErrorResponse(data.status());
               Status s = service::Cycle(c.db, clock_).ImportObservations(c.actor, *data);
               if (!s.ok()) return ErrorResponse(s);
               return Ok({{"imported", data->size()}});
             }));

  // ---- reporting ----
  // The round's submissions, filtered, ordered and paged in SQL: only the page's submissions
  // are read whole, however many the round has.
  router.Add("GET", "/api/v1/rounds/{id}/submissions", with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto paging = PageParams(c.request);
               if (!paging) return ErrorResponse(paging.status());
               auto param = [&](const char* name) {
                 const auto it = c.request.query.find(name);
                 return it == c.request.query.end() ? std::string() : it->second;
               };
               service::QueueFilter filter;
               filter.round_id = *id;
               filter.status = param("status");
               if (!filter.status.empty() && filter.status != "draft" &&
                   filter.status != "approved" && filter.status != "submitted" &&
                   filter.status != "returned" && filter.status != "accepted") {
                 return ErrorResponse(
                     BadRequest("status ต้องเป็น draft, approved, submitted, returned หรือ accepted",
                                "status must be draft, approved, submitted, returned or accepted"));
               }
               filter.kind = param("kind");
               filter.ministry = param("parent");
               filter.q = param("q");
               const std::string overdue = param("overdue");
               if (!overdue.empty() && overdue != "true" && overdue != "false") {
                 return ErrorResponse(
                     BadRequest("overdue ต้องเป็น true หรือ false", "overdue must be true or false"));
               }
               filter.overdue = overdue == "true";
               filter.now = clock_.NowMs();
               filter.sort = service::QueueSort::kAgency;
               filter.limit = paging->second;
               filter.offset = (paging->first - 1) * paging->second;
               service::Reporting reporting(c.db, clock_);
               auto queue = reporting.Queue(c.actor, filter);
               if (!queue) return ErrorResponse(queue.status());
               // The page's submissions read whole in a few queries, not a few each.
               std::vector<int64_t> ids;
               for (const auto& s : queue->items) ids.push_back(s.id);
               auto views = reporting.GetMany(c.actor, ids);
               if (!views) return ErrorResponse(views.status());
               json items = json::array();
               for (const auto& view : *views) items.push_back(SubmissionJson(view));
               return Ok({{"items", items},
                          {"page", paging->first},
                          {"per_page", paging->second},
                          {"total", queue->total}});
             }));
  router.Add("PUT", "/api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}",
             with(true, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               if (!c.body.contains("values") || !c.body["values"].is_object()) {
                 return ErrorResponse(BadRequest("ต้องมี \"values\" เป็นออบเจ็กต์ {ตัวแปร: ค่า}",
                                                 "\"values\" must be an object {variable: value}"));
               }
               service::Report report;
               report.kpi = c.request.params.at("kpi");
               report.values_json = c.body["values"].dump();
               for (auto [field, into] : {std::pair{"explanation", &report.explanation},
                                          std::pair{"problems", &report.problems},
                                          std::pair{"remarks", &report.remarks}}) {
                 auto v = Text(c.body, field, false);
                 if (!v) return ErrorResponse(v.status());
                 *into = *v;
               }
               return reply(service::Reporting(c.db, clock_)
                                .SaveDraft(c.actor, *id, c.request.params.at("agency"), report),
                            SubmissionJson);
             }));
  router.Add("GET", "/api/v1/submissions/{id}", with(false, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               return reply(service::Reporting(c.db, clock_).Get(c.actor, *id), SubmissionJson);
             }));
  router.Add("POST", "/api/v1/submissions/{id}/approve",
             with(true, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               return reply(service::Reporting(c.db, clock_).Approve(c.actor, *id), SubmissionJson);
             }));
  router.Add("POST", "/api/v1/submissions/{id}/send-back",
             with(true, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto comment = Text(c.body, "comment");
               if (!comment) return ErrorResponse(comment.status());
               return reply(service::Reporting(c.db, clock_).SendBack(c.actor, *id, *comment),
                            SubmissionJson);
             }));
  router.Add("POST", "/api/v1/submissions/{id}/submit",
             with(true, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto submitted = service::Reporting(c.db, clock_).Submit(c.actor, *id);
               if (submitted) metrics_.CountSubmission();
               return reply(submitted, SubmissionJson);
             }));
  auto review_input = [](const json& body) -> Result<service::ReviewInput> {
    service::ReviewInput review;
    auto comment = Text(body, "comment", false);
    if (!comment) return comment.status();
    review.comment = *comment;
    if (body.contains("verified_values") && !body["verified_values"].is_null()) {
      if (!body["verified_values"].is_object()) {
        return BadRequest("\"verified_values\" ต้องเป็นออบเจ็กต์",
                          "\"verified_values\" must be an object");
      }
      review.verified_json = body["verified_values"].dump();
    }
    if (body.contains("evidence_notes") && !body["evidence_notes"].is_null()) {
      if (!body["evidence_notes"].is_object())
        return BadRequest("\"evidence_notes\" ต้องเป็นออบเจ็กต์",
                          "\"evidence_notes\" must be an object");
      for (const auto& [id, note] : body["evidence_notes"].items()) {
        int64_t evidence = 0;
        const auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), evidence);
        if (ec != std::errc() || ptr != id.data() + id.size() || !note.is_string()) {
          return BadRequest("\"evidence_notes\" ต้องเป็น {รหัสหลักฐาน: ข้อความ}",
                            "\"evidence_notes\" must map evidence ids to text");
        }
        review.evidence_notes[evidence] = note.get<std::string>();
      }
    }
    return review;
  };
  router.Add("POST", "/api/v1/submissions/{id}/return",
             with(true, [this, reply, review_input](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto review = review_input(c.body);
               if (!review) return ErrorResponse(review.status());
               return reply(service::Reporting(c.db, clock_).Return(c.actor, *id, *review),
                            SubmissionJson);
             }));
  router.Add("POST", "/api/v1/submissions/{id}/accept",
             with(true, [this, reply, review_input](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto review = review_input(c.body);
               if (!review) return ErrorResponse(review.status());
               return reply(service::Reporting(c.db, clock_).Accept(c.actor, *id, *review),
                            SubmissionJson);
             }));

  // An evidence file's bytes, as uploaded; the name comes back in an RFC 6266/5987 header.
  router.Add(
      "GET", "/api/v1/evidence/{id}/content", with(false, [this](Call& c) -> HttpResponse {
        auto id = PathId(c.request, "id");
        if (!id) return ErrorResponse(id.status());
        auto found = service::Reporting(c.db, clock_).Evidence(c.actor, *id);
        if (!found) return ErrorResponse(found.status());
        auto bytes = files_.Read(found->first.sha256);
        if (!bytes) {
          // Damaged or altered on disk: refused, and said where an operator looks.
          if (bytes.status().code() == StatusCode::kDataLoss) {
            metrics_.LogError(
                c.request, "evidence " + std::to_string(*id) + ": " + bytes.status().message_en());
          }
          return ErrorResponse(bytes.status());
        }
        HttpResponse r;
        r.content_type = found->first.media_type;
        r.body = std::move(*bytes);
        // ?inline=1 shows a PDF or an image inside the review page's sandboxed frame; any other
        // type is still a download. Either way the file runs no script, loads nothing and may
        // be framed only by this site's pages (nosniff is on every answer).
        const bool viewable = r.content_type == "application/pdf" || r.content_type == "image/png" ||
                              r.content_type == "image/jpeg";
        std::string disposition = AttachmentDisposition(found->first.name);
        if (viewable && QueryText(c.request, "inline") == "1")
          disposition.replace(0, std::string_view("attachment").size(), "inline");
        r.headers.emplace_back("Content-Disposition", disposition);
        r.headers.emplace_back("Content-Security-Policy", kEvidenceCsp);
        r.headers.emplace_back("Cache-Control", "private, no-store");
        return r;
      }));
  router.AddUpload("POST", "/api/v1/submissions/{id}/evidence",
                   MakeEvidenceUpload(pool_, files_, clock_, metrics_, options_.uploads));
  // A file attached by mistake, taken out of a draft (its record and bytes kept, audited).
  router.Add("DELETE", "/api/v1/evidence/{id}", with(false, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               return reply(service::Reporting(c.db, clock_).RemoveEvidence(c.actor, *id),
                            EvidenceJson);
             }));

  // ---- results and appeals ----
  router.Add("POST", "/api/v1/rounds/{id}/results",
             with(false, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               int64_t window = service::Results::kDefaultAppealWindowMs;
               if (c.body.contains("appeal_days")) {
                 auto days = Integer(c.body, "appeal_days");
                 if (!days || *days < 0 || *days > 365)
                   return ErrorResponse(
                       BadRequest("appeal_days ต้องเป็น 0–365", "appeal_days must be 0–365"));
                 window = *days * 24 * 3600 * 1000;
               }
               // A second connection, when the pool has one free, reads the values the
               // agencies are scored from while this one stores (Results::ReadValuesThrough);
               // given back before the answer streams.
               auto reader = pool_.TryAcquire();
               service::Results results(c.db, clock_);
               if (reader) results.ReadValuesThrough(&**reader);
               auto computed = results.ComputePreliminary(c.actor, *id, window);
               results.ReadValuesThrough(nullptr);
               reader.reset();
               return StreamedResult(pool_, results, c.actor, computed, 201,
                                     ReadinessField(results, c.actor, *id));
             }));
  // Finalizing and publishing differ only in the step taken: the round's result moved to its
  // next stage, answered as the stored result (201) with the readiness of the round.
  auto next_stage = [this, &with](Result<service::StoredResult> (service::Results::*step)(
                                      const service::Actor&, int64_t)) {
    return with(false, [this, step](Call& c) -> HttpResponse {
      auto id = PathId(c.request, "id");
      if (!id) return ErrorResponse(id.status());
      // Finalizing scores the round again: a reader as for computing preliminary results, above.
      // Publishing shares the final result's rows and reads no values.
      auto reader = step == &service::Results::Finalize ? pool_.TryAcquire() : std::nullopt;
      service::Results results(c.db, clock_);
      if (reader) results.ReadValuesThrough(&**reader);
      auto moved = (results.*step)(c.actor, *id);
      results.ReadValuesThrough(nullptr);
      reader.reset();
      return StreamedResult(pool_, results, c.actor, moved, 201,
                            ReadinessField(results, c.actor, *id));
    });
  };
  router.Add("POST", "/api/v1/rounds/{id}/results/final", next_stage(&service::Results::Finalize));
  router.Add("POST", "/api/v1/rounds/{id}/results/publish", next_stage(&service::Results::Publish));
  router.Add("POST", "/api/v1/rounds/{id}/results/close-appeals",
             with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto reason = Text(c.body, "reason", false);
               if (!reason) return ErrorResponse(reason.status());
               service::Results results(c.db, clock_);
               auto closed = results.CloseAppeals(c.actor, *id, *reason);
               return StreamedResult(pool_, results, c.actor, closed, 200,
                                     ReadinessField(results, c.actor, *id));
             }));
  router.Add("GET", "/api/v1/rounds/{id}/results", with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto stage = StageParam(c.request);
               if (!stage) return ErrorResponse(stage.status());
               service::Results results(c.db, clock_);
               return StreamedResult(pool_, results, c.actor,
                                     results.LatestMeta(c.actor, *id, *stage), 200);
             }));
  // One agency's published (or, for those who may see it, earlier) result: what the public page
  // of an agency shows, read from its own row, and answered from memory while fresh.
  Handler agency_result = with(false, [this](Call& c) -> HttpResponse {
    auto id = PathId(c.request, "id");
    if (!id) return ErrorResponse(id.status());
    auto stage = StageParam(c.request);
    if (!stage) return ErrorResponse(stage.status());
    const std::string& code = c.request.params.at("code");
    auto result = service::Results(c.db, clock_).LatestForAgency(c.actor, *id, *stage, code);
    HttpResponse response = ResultResponse(result, 200, "result");
    if (result && result->stage == service::ResultStage::kPublished) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      published_[std::to_string(*id) + "/" + code] = {clock_.NowMs() + 1000, response.body};
    }
    return response;
  });
  router.Add("GET", "/api/v1/rounds/{id}/results/agencies/{code}",
             [this, agency_result](HttpRequest& request) -> HttpResponse {
               auto stage = request.query.find("stage");
               if (stage == request.query.end() || stage->second == "published") {
                 std::lock_guard<std::mutex> lock(cache_mutex_);
                 auto hit =
                     published_.find(request.params.at("id") + "/" + request.params.at("code"));
                 if (hit != published_.end() && hit->second.expires_at > clock_.NowMs()) {
                   return JsonResponse(200, hit->second.body);
                 }
               }
               return agency_result(request);
             });
  router.Add("POST", "/api/v1/results/{id}/appeals",
             with(true, [this, reply](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto kpi = Text(c.body, "kpi");
               auto reason = Text(c.body, "reason");
               if (!kpi || !reason) return ErrorResponse(!kpi ? kpi.status() : reason.status());
               return reply(service::Results(c.db, clock_).FileAppeal(c.actor, *id, *kpi, *reason),
                            AppealJson, 201);
             }));
  router.Add("GET", "/api/v1/results/{id}/appeals", with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto list = service::Results(c.db, clock_).Appeals(c.actor, *id);
               if (!list) return ErrorResponse(list.status());
               json items = json::array();
               for (const auto& a : *list) items.push_back(AppealJson(a));
               auto page = Page(c.request, items);
               if (!page) return ErrorResponse(page.status());
               return Ok(*page);
             }));
  router.Add(
      "POST", "/api/v1/appeals/{id}/decision", with(false, [this, reply](Call& c) -> HttpResponse {
        auto id = PathId(c.request, "id");
        if (!id) return ErrorResponse(id.status());
        if (!c.body.contains("upheld") || !c.body["upheld"].is_boolean()) {
          return ErrorResponse(BadRequest("ต้องระบุ \"upheld\" เป็น true หรือ false",
                                          "\"upheld\" must be true or false"));
        }
        auto reason = Text(c.body, "reason");
        if (!reason) return ErrorResponse(reason.status());
        std::string corrected;
        if (c.body.contains("corrected_values") && !c.body["corrected_values"].is_null()) {
          if (!c.body["corrected_values"].is_object()) {
            return ErrorResponse(BadRequest("\"corrected_values\" ต้องเป็นออบเจ็กต์",
                                            "\"corrected_values\" must be an object"));
          }
          corrected = c.body["corrected_values"].dump();
        }
        return reply(
            service::Results(c.db, clock_)
                .DecideAppeal(c.actor, *id, c.body["upheld"].get<bool>(), *reason, corrected),
            AppealJson);
      }));

  // ---- questions and answers, announcements (issue 13 §3-4) ----
  router.Add("GET", "/api/v1/qa", with(false, [this](Call& c) -> HttpResponse {
               auto cycles = service::Questions(c.db, clock_).PublishedCycles();
               if (!cycles) return ErrorResponse(cycles.status());
               json items = json::array();
               for (const service::QaCycle& q : *cycles) {
                 items.push_back({{"fiscal_year", q.fiscal_year},
                                  {"through_year", q.through_year},
                                  {"agency_kind", q.agency_kind},
                                  {"published", q.published}});
               }
               return Ok({{"items", items}});
             }));
  router.Add("GET", "/api/v1/qa/{year}/{kind}", with(false, [this](Call& c) -> HttpResponse {
               auto year = PathId(c.request, "year");
               const std::string& kind = c.request.params.at("kind");
               if (!year || *year < 2400 || *year > 2800 || !formats::IsValidAgencyKind(kind)) {
                 return ErrorResponse(Status::NotFound("ไม่มีรอบการประเมินนี้", "no such cycle"));
               }
               const auto q = c.request.query.find("q");
               auto found = service::Questions(c.db, clock_)
                                .Published(static_cast<int>(*year), kind,
                                           q == c.request.query.end() ? "" : q->second);
               if (!found) return ErrorResponse(found.status());
               json items = json::array();
               for (const auto& item : *found) items.push_back(QuestionJson(item, false));
               return Ok({{"fiscal_year", *year}, {"agency_kind", kind}, {"items", items}});
             }));
  router.Add("POST", "/api/v1/questions", with(true, [this](Call& c) -> HttpResponse {
               auto year = Integer(c.body, "fiscal_year");
               if (!year) return ErrorResponse(year.status());
               auto kpi = Text(c.body, "kpi", false);
               if (!kpi) return ErrorResponse(kpi.status());
               auto question = Text(c.body, "question");
               if (!question) return ErrorResponse(question.status());
               if (*year < 2400 || *year > 2800) {
                 return ErrorResponse(BadRequest("fiscal_year ต้องเป็นปี พ.ศ. (2400 - 2800)",
                                                 "fiscal_year must be a Buddhist Era year"));
               }
               auto asked = service::Questions(c.db, clock_)
                                .Ask(c.actor, static_cast<int>(*year), *kpi, *question);
               if (!asked) return ErrorResponse(asked.status());
               return Ok(QuestionJson(*asked, true), 201);
             }));
  router.Add("GET", "/api/v1/questions", with(false, [this](Call& c) -> HttpResponse {
               auto paging = PageParams(c.request);
               if (!paging) return ErrorResponse(paging.status());
               service::QuestionFilter filter;
               if (const auto it = c.request.query.find("state"); it != c.request.query.end())
                 filter.state = it->second;
               if (const auto it = c.request.query.find("agency_kind");
                   it != c.request.query.end())
                 filter.agency_kind = it->second;
               if (const auto it = c.request.query.find("fiscal_year");
                   it != c.request.query.end()) {
                 int64_t year = 0;
                 const auto [ptr, ec] = std::from_chars(
                     it->second.data(), it->second.data() + it->second.size(), year);
                 if (ec != std::errc() || ptr != it->second.data() + it->second.size() ||
                     year < 2400 || year > 2800) {
                   return ErrorResponse(BadRequest("fiscal_year ต้องเป็นปี พ.ศ. (2400 - 2800)",
                                                   "fiscal_year must be a Buddhist Era year"));
                 }
                 filter.fiscal_year = static_cast<int>(year);
               }
               filter.limit = paging->second;
               filter.offset = (paging->first - 1) * paging->second;
               auto found = service::Questions(c.db, clock_).List(c.actor, filter);
               if (!found) return ErrorResponse(found.status());
               json items = json::array();
               for (const auto& q : found->items) items.push_back(QuestionJson(q, true));
               return Ok({{"items", items},
                          {"page", paging->first},
                          {"per_page", paging->second},
                          {"total", found->total}});
             }));
  router.Add("GET", "/api/v1/questions/{id}", with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto q = service::Questions(c.db, clock_).Get(c.actor, *id);
               if (!q) return ErrorResponse(q.status());
               // The public reads a published answer without who asked it.
               const bool with_asker = c.actor.Is(Role::kAdmin) || c.actor.Is(Role::kEvaluator) ||
                                       (!q->agency.empty() && c.actor.OfAgency(q->agency));
               return Ok(QuestionJson(*q, with_asker));
             }));
  router.Add("POST", "/api/v1/questions/{id}/answer",
             with(true, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto answer = Text(c.body, "answer");
               if (!answer) return ErrorResponse(answer.status());
               if (!c.body.contains("publish") || !c.body["publish"].is_boolean()) {
                 return ErrorResponse(BadRequest("ต้องระบุ \"publish\" เป็น true หรือ false",
                                                 "\"publish\" must be true or false"));
               }
               auto answered = service::Questions(c.db, clock_)
                                   .Answer(c.actor, *id, *answer, c.body["publish"].get<bool>());
               if (!answered) return ErrorResponse(answered.status());
               return Ok(QuestionJson(*answered, true));
             }));
  router.Add("GET", "/api/v1/announcements", with(false, [this](Call& c) -> HttpResponse {
               int64_t year = 0;
               if (const auto it = c.request.query.find("fiscal_year");
                   it != c.request.query.end()) {
                 const auto [ptr, ec] = std::from_chars(
                     it->second.data(), it->second.data() + it->second.size(), year);
                 if (ec != std::errc() || ptr != it->second.data() + it->second.size() ||
                     year < 2400 || year > 2800) {
                   return ErrorResponse(BadRequest("fiscal_year ต้องเป็นปี พ.ศ. (2400 - 2800)",
                                                   "fiscal_year must be a Buddhist Era year"));
                 }
               }
               const auto kind = c.request.query.find("agency_kind");
               auto found = service::Announcements(c.db, clock_)
                                .List(c.actor, static_cast<int>(year),
                                      kind == c.request.query.end() ? "" : kind->second, 200);
               if (!found) return ErrorResponse(found.status());
               json items = json::array();
               for (const auto& a : *found) items.push_back(AnnouncementJson(a));
               return Ok({{"items", items}});
             }));
  router.Add("POST", "/api/v1/announcements", with(true, [this](Call& c) -> HttpResponse {
               auto year = Integer(c.body, "fiscal_year");
               if (!year) return ErrorResponse(year.status());
               std::string fields[3];
               const char* names[3] = {"agency_kind", "title", "body"};
               for (int i = 0; i < 3; ++i) {
                 auto v = Text(c.body, names[i]);
                 if (!v) return ErrorResponse(v.status());
                 fields[i] = *v;
               }
               if (*year < 2400 || *year > 2800) {
                 return ErrorResponse(BadRequest("fiscal_year ต้องเป็นปี พ.ศ. (2400 - 2800)",
                                                 "fiscal_year must be a Buddhist Era year"));
               }
               auto posted = service::Announcements(c.db, clock_)
                                 .Post(c.actor, static_cast<int>(*year), fields[0], fields[1],
                                       fields[2]);
               if (!posted) return ErrorResponse(posted.status());
               return Ok(AnnouncementJson(*posted), 201);
             }));
  router.Add("GET", "/api/v1/announcements/{id}", with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto found = service::Announcements(c.db, clock_).Get(c.actor, *id);
               if (!found) return ErrorResponse(found.status());
               return Ok(AnnouncementJson(*found));
             }));
  // Case logs (issue 11 §1): the upload and the lists, in case_log_api.cpp.
  router.AddUpload("POST", "/api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log",
                   MakeCaseLogUpload(pool_, files_, clock_, options_.uploads));
  RegisterCaseLogRoutes(router, pool_, clock_);
  // Data catalogs (issue 11 §3): the upload and the lists, in catalog_api.cpp.
  router.AddUpload("POST", "/api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/catalog",
                   MakeCatalogUpload(pool_, files_, clock_, options_.uploads));
  RegisterCatalogRoutes(router, pool_, clock_);
  router.AddUpload("POST", "/api/v1/announcements/{id}/files",
                   MakeAnnouncementUpload(pool_, files_, clock_, metrics_, options_.uploads));
  router.Add(
      "GET", "/api/v1/announcement-files/{id}/content", with(false, [this](Call& c) -> HttpResponse {
        auto id = PathId(c.request, "id");
        if (!id) return ErrorResponse(id.status());
        auto found = service::Announcements(c.db, clock_).File(c.actor, *id);
        if (!found) return ErrorResponse(found.status());
        auto bytes = files_.Read(found->sha256);
        if (!bytes) {
          if (bytes.status().code() == StatusCode::kDataLoss) {
            metrics_.LogError(c.request, "announcement file " + std::to_string(*id) + ": " +
                                             bytes.status().message_en());
          }
          return ErrorResponse(bytes.status());
        }
        HttpResponse r;
        r.content_type = found->media_type;
        r.body = std::move(*bytes);
        r.headers.emplace_back("Content-Disposition", AttachmentDisposition(found->name));
        return r;
      }));

  // ---- spreadsheets (issue 10 §3-4): tables out as CSV or XLSX, the template in ----
  // Each table is made into a temporary file, then streamed (web/downloads.h); refusals come
  // before anything is sent.
  router.Add("GET", "/api/v1/rounds/{id}/results/export",
             with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto stage = StageParam(c.request);
               if (!stage) return ErrorResponse(stage.status());
               auto format = FormatParam(c.request, formats::SheetFormat::kXlsx);
               if (!format) return ErrorResponse(format.status());
               auto name = RoundDownloadName(c.db, *id, "results", *format);
               if (!name) return ErrorResponse(name.status());
               return TableDownload(*format, *name, [&](formats::TableWriter& out) {
                 return service::Spreadsheets(c.db, clock_).ResultsTable(c.actor, *id, *stage, out);
               });
             }));
  router.Add("GET", "/api/v1/rounds/{id}/status/export",
             with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               auto format = FormatParam(c.request, formats::SheetFormat::kXlsx);
               if (!format) return ErrorResponse(format.status());
               auto name = RoundDownloadName(c.db, *id, "status", *format);
               if (!name) return ErrorResponse(name.status());
               return TableDownload(*format, *name, [&](formats::TableWriter& out) {
                 return service::Spreadsheets(c.db, clock_).StatusTable(c.actor, *id, out);
               });
             }));
  // The evaluator's queue as filtered on /review (the same parameters).
  router.Add("GET", "/api/v1/queue/export", with(false, [this](Call& c) -> HttpResponse {
               auto format = FormatParam(c.request, formats::SheetFormat::kXlsx);
               if (!format) return ErrorResponse(format.status());
               auto filter = QueueFilterParams(c.request);
               if (!filter) return ErrorResponse(filter.status());
               filter->now = clock_.NowMs();
               return TableDownload(*format, std::string("queue.") + formats::SheetExtension(*format),
                                    [&](formats::TableWriter& out) {
                                      return service::Spreadsheets(c.db, clock_)
                                          .QueueTable(c.actor, *filter, out);
                                    });
             }));
  router.Add("GET", "/api/v1/audit/export", with(false, [this](Call& c) -> HttpResponse {
               auto format = FormatParam(c.request, formats::SheetFormat::kXlsx);
               if (!format) return ErrorResponse(format.status());
               auto period = PeriodParams(c.request);
               if (!period) return ErrorResponse(period.status());
               const std::string name = "audit-" + QueryText(c.request, "from") + "-" +
                                        QueryText(c.request, "to") + "." +
                                        formats::SheetExtension(*format);
               return TableDownload(*format, name, [&](formats::TableWriter& out) {
                 return service::Spreadsheets(c.db, clock_)
                     .AuditTable(c.actor, period->first, period->second, out);
               });
             }));
  router.Add("GET", "/api/v1/rounds/{id}/agencies/{agency}/template",
             with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               const std::string& agency = c.request.params.at("agency");
               auto name = RoundDownloadName(c.db, *id, "template-" + SafeFileName(agency),
                                             formats::SheetFormat::kXlsx);
               if (!name) return ErrorResponse(name.status());
               return FileDownload(formats::SheetMediaType(formats::SheetFormat::kXlsx), *name,
                                   [&](const std::string& path) {
                                     return service::Spreadsheets(c.db, clock_)
                                         .WriteTemplate(c.actor, *id, agency, path);
                                   });
             }));
  router.Add("POST", "/api/v1/rounds/{id}/agencies/{agency}/template",
             with(false, [this](Call& c) -> HttpResponse {
               auto id = PathId(c.request, "id");
               if (!id) return ErrorResponse(id.status());
               if (!IsXlsxBody(c.request)) {
                 return ErrorResponse(BadRequest(
                     "ต้องส่งไฟล์ XLSX (Content-Type: " +
                         std::string(formats::SheetMediaType(formats::SheetFormat::kXlsx)) + ")",
                     "send the XLSX file (Content-Type: " +
                         std::string(formats::SheetMediaType(formats::SheetFormat::kXlsx)) + ")"));
               }
               return TemplateUploadResponse(
                   service::Spreadsheets(c.db, clock_)
                       .UploadTemplate(c.actor, *id, c.request.params.at("agency"), c.request.body));
             }));
}

}  // namespace esar::web
