#include "web/pages_catalogs.h"

#include <algorithm>

#include "common/thai.h"
#include "service/catalogs.h"
#include "service/data_files.h"
#include "web/catalog_api.h"
#include "web/pages.h"
#include "web/pages_cases.h"

namespace esar::web {
namespace {

using nlohmann::json;

constexpr int64_t kPerPage = 50;

// The label of variable `id` of `kpi` in the caller's language ("จำนวนชุดข้อมูล"), or the id
// when the KPI does not name it.
std::string VariableLabel(PageCall& call, const domain::Kpi* kpi, const std::string& id) {
  if (kpi) {
    for (const domain::Variable& v : kpi->variables) {
      if (v.id == id && !call.Pick(v.name).empty()) return call.Pick(v.name);
    }
  }
  return id;
}

// The variables an upload's counts filled (its summary's "variables": count -> variable), each
// with its label and the value it was given, in the rule's order.
json FilledVariables(PageCall& call, const domain::Kpi* kpi, const json& summary) {
  json out = json::array();
  const json names = summary.value("variables", json::object());
  for (const char* count : {"datasets", "complete", "complete_percent"}) {
    const json name = names.is_object() ? names.value(count, json()) : json();
    if (!name.is_string()) continue;
    const json value = summary.value(count, json());
    const std::string shown = !value.is_number() ? "–"
                              : std::string(count) == "complete_percent"
                                  ? Number(value.get<double>(), 2)
                                  : Number(value.get<double>(), 0);
    out.push_back({{"id", name},
                   {"label", VariableLabel(call, kpi, name.get<std::string>())},
                   {"value", shown}});
  }
  return out;
}

// The counts of an upload's summary for a page.
json SummaryModel(PageCall& call, const domain::Kpi* kpi, const service::DataUpload& u) {
  const json s = json::parse(u.summary_json, nullptr, false);
  const json summary = s.is_object() ? s : json::object();
  json files = json::array();
  for (const service::DataFile& f : u.files) files.push_back({{"name", f.name}});
  const json percent = summary.value("complete_percent", json());
  return {{"id", u.id},
          {"url", "/catalogs/" + std::to_string(u.id)},
          {"datasets", summary.value("datasets", 0)},
          {"complete", summary.value("complete", 0)},
          {"incomplete", summary.value("incomplete", 0)},
          {"percent", percent.is_number() ? Number(percent.get<double>(), 2) : "–"},
          {"variables", FilledVariables(call, kpi, summary)},
          {"files", files},
          {"current", !u.replaced_by},
          {"uploaded_at", FormatDateTime(u.uploaded_at, call.lang)}};
}

// One dataset's row: what is missing or wrong in the caller's language, the other beside it.
json DatasetRow(PageCall& call, const formats::CatalogDataset& d) {
  const Lang other = call.lang == Lang::kThai ? Lang::kEnglish : Lang::kThai;
  json faults = json::array();
  for (const formats::CatalogFault& f : d.faults)
    faults.push_back({{"text", f.Text(call.lang)}, {"other", f.Text(other)}});
  return {{"seq", d.index + 1},
          {"line", d.line},
          {"name", d.name.empty() ? "–" : d.name},
          {"title", d.title.empty() ? "–" : d.title},
          {"complete", d.complete()},
          {"faults", faults},
          {"other_lang", other == Lang::kEnglish ? "en" : "th"}};
}

}  // namespace

json CatalogSectionModel(PageCall& call, const Clock& clock, const domain::Kpi& kpi,
                         int64_t round_id, const std::string& agency, bool can_upload,
                         const std::string& back) {
  if (!kpi.catalog) return nullptr;
  json model = UploadSectionModel(
      call, clock, kpi, round_id, agency, service::kCatalogKind, "catalog", can_upload, back,
      [&](const service::DataUpload& u) { return SummaryModel(call, &kpi, u); });
  std::string names;
  for (const std::string* v : {&kpi.catalog->datasets_variable, &kpi.catalog->complete_variable,
                               &kpi.catalog->complete_percent_variable}) {
    if (!v->empty()) names += (names.empty() ? "" : ", ") + VariableLabel(call, &kpi, *v);
  }
  model["variables"] = names;
  return model;
}

HttpResponse CatalogListPage(PageCall& call, const Clock& clock) {
  const int64_t id = ParseId(call.request.params.at("id"));
  service::Catalogs catalogs(call.db, clock);
  auto upload = catalogs.Get(call.actor, id);
  if (!upload) return ErrorPage(call, upload.status());
  auto place = UploadPlaceOf(call, clock, *upload);
  if (!place) return ErrorPage(call, place.status());
  const domain::Kpi* kpi = domain::FindKpi(place->framework.framework.kpis, upload->kpi);

  std::string status = call.Query("status");
  if (status != "complete" && status != "incomplete") status.clear();
  std::string sort = call.Query("sort");
  if (sort != "title") sort.clear();
  int64_t page = PageNumber(call.Query("page"));
  auto list = catalogs.Datasets(call.actor, id, {status, sort, kPerPage, (page - 1) * kPerPage});
  if (!list) return ErrorPage(call, list.status());
  const int64_t last = std::max<int64_t>(1, (list->total + kPerPage - 1) / kPerPage);
  if (page > last) {
    // A page past the end (the list shrank, or a hand-made address) shows the last.
    page = last;
    list = catalogs.Datasets(call.actor, id, {status, sort, kPerPage, (page - 1) * kPerPage});
    if (!list) return ErrorPage(call, list.status());
  }
  const std::string base = "/catalogs/" + std::to_string(id);
  std::string filter_query = status.empty() ? "" : "status=" + status;
  if (!sort.empty())
    filter_query += (filter_query.empty() ? "" : "&") + std::string("sort=") + sort;

  json rows = json::array();
  for (const formats::CatalogDataset& d : list->items) rows.push_back(DatasetRow(call, d));
  json statuses = json::array();
  for (const char* s : {"", "complete", "incomplete"}) {
    statuses.push_back({{"value", s},
                        {"label", call.T(std::string("catalog.status.") + (*s ? s : "all"))},
                        {"selected", status == s}});
  }
  json sorts = json::array();
  for (const char* s : {"", "title"}) {
    sorts.push_back({{"value", s},
                     {"label", call.T(std::string("catalog.sort.") + (*s ? s : "file"))},
                     {"selected", sort == s}});
  }
  // The downloads hold the filtered datasets in the catalog's order.
  json model =
      UploadPageModel(call, clock, *upload, *place, kpi,
                      {rows, list->total, page, kPerPage, base, filter_query,
                       "/api/v1/catalogs/" + std::to_string(id) + "/datasets/export?" +
                           (status.empty() ? "" : "status=" + status + "&")},
                      [&](const service::DataUpload& u) { return SummaryModel(call, kpi, u); });
  model["statuses"] = statuses;
  model["sorts"] = sorts;
  return RenderPage(call, "catalog", model,
                    call.T("catalog.title") + " " + upload->agency + " " + upload->kpi);
}

HttpResponse CatalogRefusedPage(PageCall& call, const Status& error, const std::string& back) {
  const bool thai = call.lang == Lang::kThai;
  json model = {{"message", thai ? error.message_th() : error.message_en()},
                {"other", thai ? error.message_en() : error.message_th()},
                {"other_lang", thai ? "en" : "th"},
                {"upload_url", UploadFormUrl(call, back, "catalog")},
                {"back", back}};
  return RenderPage(call, "catalog_refused", model, call.T("catalog.refused"), 400);
}

UploadStarter Pages::CatalogForm() {
  FormUploadSpec spec;
  spec.fallback = "/agency";
  spec.done = "catalog";
  spec.unchanged = "catalog_unchanged";
  spec.anchor = "#catalog";
  // The page's upload is for the reporter's own agency (the API's path names it).
  spec.own_agency = true;
  // A file the check refuses (malformed, no dataset, too large) is named beside the form again;
  // who may not upload, or a report no longer open to it, gets the error page.
  spec.refused = [](PageCall& call, int status, const json&, const Status& error,
                    const std::string& back) -> std::optional<HttpResponse> {
    if (status != 400 && status != 413) return std::nullopt;
    return CatalogRefusedPage(call, error, back);
  };
  return FormUpload(MakeCatalogUpload(pool_, files_, clock_, options_.uploads), std::move(spec));
}

HttpResponse Pages::CatalogList(PageCall& call) { return CatalogListPage(call, clock_); }

}  // namespace esar::web
