#include "web/pages_cases.h"

#include <algorithm>
#include <map>

#include <functional>
#include <memory>
#include <variant>

#include "common/thai.h"
#include "domain/cases.h"
#include "service/cycle.h"
#include "service/data_files.h"
#include "web/auth.h"
#include "web/case_log_api.h"
#include "web/pages.h"

namespace esar::web {
namespace {

using nlohmann::json;

constexpr int64_t kPerPage = 50;

// "3 months" / "53 days" as stored, in the caller's language.
std::string StandardText(PageCall& call, const std::string& standard) {
  if (standard.empty() || call.lang != Lang::kThai) return standard;
  const size_t space = standard.find(' ');
  if (space == std::string::npos) return standard;
  const std::string unit = standard.substr(space + 1);
  return standard.substr(0, space) + (unit == "months" || unit == "month" ? " เดือน" : " วัน");
}

// An ISO date of a case ("2024-04-14") as people read it ("14 เม.ย. 2567"); "–" when empty.
std::string DateText(PageCall& call, const std::string& iso) {
  const auto day = domain::ParseIsoDate(iso);
  if (!day) return iso.empty() ? "–" : iso;
  // Noon UTC of that day is the same day in Bangkok (UTC+7).
  return FormatDate(int64_t{*day} * 86'400'000 + 43'200'000, call.lang);
}

// A verdict or reason code in the caller's language ("caselog.verdict.<code>").
std::string VerdictText(PageCall& call, const std::string& code) {
  return call.T("caselog.verdict." + code);
}

// A reason a case is not counted, for the summary's tags that follow its "not counted" label
// ("caselog.reason.<code>"): "ประเภทเรื่อง", not "ไม่นับ: ประเภทเรื่อง" again.
std::string ReasonText(PageCall& call, const std::string& code) {
  const std::string key = "caselog.reason." + code;
  const std::string& text = call.T(key);
  return text == key ? VerdictText(call, code) : text;
}

// The kind of a case as people call it in the interface's language ("caselog.kind_name.<kind>":
// พระราชบัญญัติ / Act); a kind the catalog has no words for is shown as the log writes it.
std::string KindText(PageCall& call, const std::string& kind) {
  const std::string key = "caselog.kind_name." + kind;
  const std::string& text = call.T(key);
  return text == key ? kind : text;
}

// The counts of an upload's summary for a page.
json SummaryModel(PageCall& call, const service::DataUpload& u, int decimals) {
  const json s = json::parse(u.summary_json);
  json reasons = json::array();
  if (s.contains("not_counted") && s["not_counted"].is_object()) {
    for (const auto& [code, n] : s["not_counted"].items())
      reasons.push_back({{"reason", ReasonText(call, code)}, {"count", n}});
  }
  json files = json::array();
  for (const service::DataFile& f : u.files) files.push_back({{"role", f.role}, {"name", f.name}});
  return {{"id", u.id},
          {"url", "/case-logs/" + std::to_string(u.id)},
          {"result", s["result"].is_number() ? Number(s["result"].get<double>(), decimals)
                                             : call.T("caselog.no_result")},
          {"cases", s.value("cases", 0)},
          {"counted", s.value("counted", 0)},
          {"on_time", s.value("on_time", 0)},
          {"late", s.value("late", 0)},
          {"reasons", reasons},
          {"has_reasons", !reasons.empty()},
          {"files", files},
          {"current", !u.replaced_by},
          {"uploaded_at", FormatDateTime(u.uploaded_at, call.lang)}};
}

}  // namespace

json CaseLogSectionModel(PageCall& call, const Clock& clock, const domain::Kpi& kpi,
                         int64_t round_id, const std::string& agency, bool can_upload,
                         const std::string& back, int decimals) {
  if (!kpi.cases) return nullptr;
  json model = UploadSectionModel(
      call, clock, kpi, round_id, agency, service::kCaseLogKind, "case-log", can_upload, back,
      [&](const service::DataUpload& u) { return SummaryModel(call, u, decimals); });
  model["variables"] = kpi.cases->on_time_variable + ", " + kpi.cases->counted_variable;
  return model;
}

HttpResponse CaseLogListPage(PageCall& call, const Clock& clock) {
  const int64_t id = ParseId(call.request.params.at("id"));
  service::DataFiles store(call.db, clock);
  auto upload = store.Get(call.actor, id);
  if (!upload) return ErrorPage(call, upload.status());
  if (upload->kind != service::kCaseLogKind)
    return ErrorPage(call, Status::NotFound("ไม่มีบันทึกเรื่องนี้", "no such case log"));
  auto place = UploadPlaceOf(call, clock, *upload);
  if (!place) return ErrorPage(call, place.status());
  const domain::Framework& fw = place->framework.framework;
  const domain::Kpi* kpi = domain::FindKpi(fw.kpis, upload->kpi);

  std::string verdict = call.Query("verdict");
  const auto& filters = service::CaseVerdictFilters();
  if (std::find(filters.begin(), filters.end(), verdict) == filters.end()) verdict.clear();
  const int64_t page = PageNumber(call.Query("page"));
  auto list = service::CaseLogs(call.db, clock)
                  .Verdicts(call.actor, id, {verdict, kPerPage, (page - 1) * kPerPage});
  if (!list) return ErrorPage(call, list.status());
  const std::string base = "/case-logs/" + std::to_string(id);
  const std::string filter_query = verdict.empty() ? "" : "verdict=" + UrlEncode(verdict);

  json rows = json::array();
  std::map<std::string, std::string> class_names;
  if (kpi && kpi->cases) {
    for (const domain::CaseClass& k : kpi->cases->classes) class_names[k.id] = call.Pick(k.name);
  }
  for (const service::CaseVerdictRow& v : list->items) {
    const bool counted = v.verdict == "on_time" || v.verdict == "late";
    rows.push_back({{"seq", v.seq},
                    {"case_id", v.case_id},
                    {"kind", KindText(call, v.kind)},
                    {"received", DateText(call, v.received)},
                    {"completed", v.completed.empty() ? call.T("caselog.open") : DateText(call, v.completed)},
                    {"verdict", VerdictText(call, v.verdict)},
                    {"late", v.verdict == "late"},
                    {"counted", counted},
                    {"class", v.class_id.empty() ? "–"
                                                 : (class_names.count(v.class_id)
                                                        ? class_names[v.class_id]
                                                        : v.class_id)},
                    {"standard", v.standard.empty() ? "–" : StandardText(call, v.standard)},
                    {"due", DateText(call, v.due)},
                    {"paused_days", v.paused_days},
                    {"late_days", v.late_days}});
  }
  json options = json::array();
  options.push_back({{"value", ""}, {"label", call.T("caselog.all")}, {"selected", verdict.empty()}});
  for (const std::string& f : filters)
    options.push_back({{"value", f}, {"label", VerdictText(call, f)}, {"selected", f == verdict}});
  json model = UploadPageModel(
      call, clock, *upload, *place, kpi,
      {rows, list->total, page, kPerPage, base, filter_query,
       "/api/v1/case-logs/" + std::to_string(id) + "/cases/export?" +
           (filter_query.empty() ? "" : filter_query + "&")},
      [&](const service::DataUpload& u) { return SummaryModel(call, u, fw.decimals.result); });
  model["options"] = options;
  return RenderPage(call, "case_log", model,
                    call.T("caselog.title") + " " + upload->agency + " " + upload->kpi);
}

json UploadPager(const std::string& base, const std::string& filter_query, int64_t page,
                 int64_t total, int64_t per_page) {
  const int64_t pages = std::max<int64_t>(1, (total + per_page - 1) / per_page);
  auto page_url = [&](int64_t p) {
    std::string q = filter_query;
    if (p > 1) q += (q.empty() ? "" : "&") + std::string("page=") + std::to_string(p);
    return base + (q.empty() ? "" : "?" + q);
  };
  return {{"page", page},
          {"pages", pages},
          {"prev", page > 1 ? json(page_url(page - 1)) : json(nullptr)},
          {"next", page < pages ? json(page_url(page + 1)) : json(nullptr)}};
}

std::string UploadFormUrl(PageCall& call, const std::string& back, const std::string& route) {
  return back + "/" + route + "?csrf=" + UrlEncode(call.csrf) + "&back=" + UrlEncode(back);
}

json UploadSectionModel(PageCall& call, const Clock& clock, const domain::Kpi& kpi,
                        int64_t round_id, const std::string& agency, const std::string& kind,
                        const std::string& route, bool can_upload, const std::string& back,
                        const std::function<json(const service::DataUpload&)>& summary) {
  json model = json::object();
  auto current =
      service::DataFiles(call.db, clock).Current(call.actor, round_id, agency, kpi.id, kind);
  if (current && *current) model["current"] = summary(**current);
  model["can_upload"] = can_upload;
  model["upload_url"] = UploadFormUrl(call, back, route);
  return model;
}

Result<UploadPlace> UploadPlaceOf(PageCall& call, const Clock& clock,
                                  const service::DataUpload& upload) {
  service::Cycle cycle(call.db, clock);
  auto round = cycle.Round(upload.round_id);
  if (!round) return round.status();
  auto framework = cycle.Framework(round->framework_id);
  if (!framework) return framework.status();
  return UploadPlace{std::move(*round), std::move(*framework)};
}

json UploadPageModel(PageCall& call, const Clock& clock, const service::DataUpload& upload,
                     const UploadPlace& place, const domain::Kpi* kpi, UploadPageRows rows,
                     const std::function<json(const service::DataUpload&)>& summary) {
  json history = json::array();
  auto uploads = service::DataFiles(call.db, clock)
                     .History(call.actor, upload.round_id, upload.agency, upload.kpi, upload.kind);
  if (uploads) {
    for (const service::DataUpload& u : *uploads) {
      json m = summary(u);
      m["this"] = u.id == upload.id;
      history.push_back(m);
    }
  }
  const bool has_rows = !rows.rows.empty();
  json model = {{"summary", summary(upload)},
                {"agency", upload.agency},
                {"kpi", upload.kpi},
                {"kpi_name", kpi ? call.Pick(kpi->name) : std::string()},
                {"round", RoundName(place.round.round, call.lang)},
                {"rows", std::move(rows.rows)},
                {"has_rows", has_rows},
                {"total", rows.total},
                {"export_csv", rows.export_base + "format=csv"},
                {"export_xlsx", rows.export_base + "format=xlsx"},
                {"history", history},
                {"back", UploadBack(call, upload)}};
  model.update(UploadPager(rows.base, rows.filter_query, rows.page, rows.total, rows.per_page));
  return model;
}

std::string UploadBack(PageCall& call, const service::DataUpload& upload) {
  if (call.actor.Is(service::Role::kEvaluator) || call.actor.Is(service::Role::kAdmin)) {
    return upload.submission_id ? "/review/submissions/" + std::to_string(*upload.submission_id)
                                : std::string("/review");
  }
  return "/agency/rounds/" + std::to_string(upload.round_id) + "/kpis/" + UrlEncode(upload.kpi);
}

HttpResponse CaseLogProblemsPage(PageCall& call, const json& details, const std::string& message,
                                 const std::string& back) {
  json problems = json::array();
  const bool thai = call.lang == Lang::kThai;
  if (details.contains("problems") && details["problems"].is_array()) {
    for (const json& p : details["problems"]) {
      problems.push_back({{"file", p.value("file", "")},
                          {"line", p.value("line", 0)},
                          {"column", p["column"].is_string() ? p["column"].get<std::string>() : "–"},
                          {"message", p.value(thai ? "message_th" : "message_en", "")}});
    }
  }
  const int64_t count = details.value("problem_count", static_cast<int64_t>(problems.size()));
  json model = {{"message", message},
                {"problems", problems},
                {"more", count > static_cast<int64_t>(problems.size())
                             ? json(count - static_cast<int64_t>(problems.size()))
                             : json(nullptr)},
                {"back", back}};
  return RenderPage(call, "case_log_problems", model, call.T("caselog.refused"), 400);
}

}  // namespace esar::web

namespace esar::web {

UploadStarter Pages::CaseLogForm() {
  FormUploadSpec spec;
  spec.fallback = "/agency";
  spec.done = "case_log";
  spec.unchanged = "case_log_unchanged";
  spec.anchor = "#case-log";
  // The page's upload is for the reporter's own agency (the API's path names it).
  spec.own_agency = true;
  spec.refused = [](PageCall& call, int, const json& details, const Status& error,
                    const std::string& back) -> std::optional<HttpResponse> {
    if (!details.is_object() || !details.contains("problems")) return std::nullopt;
    return CaseLogProblemsPage(call, details, call.Message(error), back);
  };
  return FormUpload(MakeCaseLogUpload(pool_, files_, clock_, options_.uploads),
                    std::move(spec));
}

HttpResponse Pages::CaseLogList(PageCall& call) { return CaseLogListPage(call, clock_); }

}  // namespace esar::web
