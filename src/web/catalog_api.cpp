#include "web/catalog_api.h"

#include "formats/sheet_writer.h"
#include "web/data_upload_api.h"
#include "web/downloads.h"
#include "web/request_params.h"

namespace esar::web {

using nlohmann::json;

json CatalogUploadJson(const service::DataUpload& u, bool unchanged) {
  const std::string base = "/api/v1/catalogs/" + std::to_string(u.id);
  json out = DataUploadJson(u, unchanged);
  out["datasets_href"] = base + "/datasets";
  out["export_href"] = base + "/datasets/export";
  return out;
}

UploadStarter MakeCatalogUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                const Clock& clock, const UploadLimits& limits) {
  DataUploadSpec spec;
  spec.roles = {"catalog"};
  spec.what_th = "อัปโหลดบัญชีข้อมูลของหน่วยงาน ";
  spec.what_en = "upload data catalogs for agency ";
  spec.finish = [&clock, limits](storage::Database& db, const service::Actor& actor,
                                 int64_t round_id, const std::string& agency,
                                 const std::string& kpi,
                                 const std::vector<service::PendingFile>& pending) {
    service::CatalogOptions options;
    options.max_file_bytes = limits.max_file_bytes;
    auto out = service::Catalogs(db, clock, options).Upload(actor, round_id, agency, kpi, pending);
    if (!out) return ErrorResponse(out.status());
    return JsonResponse(out->unchanged ? 200 : 201,
                        CatalogUploadJson(out->upload, out->unchanged).dump());
  };
  return MakeDataUpload(pool, files, clock, limits, std::move(spec));
}

HttpResponse CatalogDatasetsDownload(storage::Database& db, const Clock& clock,
                                     const service::Actor& actor, const service::DataUpload& upload,
                                     const std::string& status, formats::SheetFormat format) {
  const std::string name = "catalog-" + std::to_string(upload.id) + "-" +
                           SafeFileName(upload.agency) + "-kpi-" + SafeFileName(upload.kpi) +
                           (status.empty() ? "" : "-" + SafeFileName(status)) + "." +
                           formats::SheetExtension(format);
  return TableDownload(format, name, [&](formats::TableWriter& out) {
    Status begun = out.BeginSheet("datasets", {{"ลำดับ / No.", 8},
                                               {"บรรทัด / Line", 8},
                                               {"name", 24},
                                               {"ชื่อชุดข้อมูล / Title", 36},
                                               {"ครบถ้วน / Complete", 10},
                                               {"สิ่งที่ขาดหรือผิด", 60},
                                               {"What is missing or wrong", 60}});
    if (!begun.ok()) return begun;
    return service::Catalogs(db, clock).EachDataset(
        actor, upload.id, status, [&](const formats::CatalogDataset& d) {
          std::string th, en;
          for (const formats::CatalogFault& f : d.faults) {
            th += (th.empty() ? "" : "; ") + f.Text(Lang::kThai);
            en += (en.empty() ? "" : "; ") + f.Text(Lang::kEnglish);
          }
          using formats::Cell;
          return out.AddRow({Cell::Number(static_cast<double>(d.index + 1)),
                             Cell::Number(static_cast<double>(d.line)), Cell::Text(d.name),
                             Cell::Text(d.title),
                             Cell::Text(d.complete() ? "ครบ / yes" : "ไม่ครบ / no"), Cell::Text(th),
                             Cell::Text(en)});
        });
  });
}

void RegisterCatalogRoutes(Router& router, storage::DatabasePool& pool, const Clock& clock) {
  router.Add("GET", "/api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/catalog",
             WithPathId(pool, clock,
                        [&clock](storage::Database& db, const service::Actor& actor,
                                 HttpRequest& request, int64_t round_id) -> HttpResponse {
                          auto history = service::DataFiles(db, clock).History(
                              actor, round_id, request.params.at("agency"),
                              request.params.at("kpi"), service::kCatalogKind);
                          if (!history) return ErrorResponse(history.status());
                          json items = json::array();
                          json current = nullptr;
                          for (const service::DataUpload& u : *history) {
                            items.push_back(CatalogUploadJson(u));
                            if (!u.replaced_by && current.is_null()) current = items.back();
                          }
                          return JsonResponse(
                              200, json{{"current", current}, {"uploads", items}}.dump());
                        }));
  router.Add("GET", "/api/v1/catalogs/{id}",
             WithPathId(pool, clock,
                        [&clock](storage::Database& db, const service::Actor& actor, HttpRequest&,
                                 int64_t id) -> HttpResponse {
                          auto upload = service::Catalogs(db, clock).Get(actor, id);
                          if (!upload) return ErrorResponse(upload.status());
                          return JsonResponse(200, CatalogUploadJson(*upload).dump());
                        }));
  router.Add("GET", "/api/v1/catalogs/{id}/datasets",
             WithPathId(pool, clock,
                        [&clock](storage::Database& db, const service::Actor& actor,
                                 HttpRequest& request, int64_t id) -> HttpResponse {
                          auto limit = QueryNumber(request, "limit", 50, 1, 500);
                          if (!limit) return ErrorResponse(limit.status());
                          auto offset = QueryNumber(request, "offset", 0, 0, int64_t{1} << 40);
                          if (!offset) return ErrorResponse(offset.status());
                          auto page = service::Catalogs(db, clock).Datasets(
                              actor, id,
                              {QueryText(request, "status"), QueryText(request, "sort"), *limit,
                               *offset});
                          if (!page) return ErrorResponse(page.status());
                          json items = json::array();
                          for (const auto& d : page->items)
                            items.push_back(json::parse(formats::CatalogDatasetJson(d)));
                          return JsonResponse(200, json{{"items", items},
                                                        {"total", page->total},
                                                        {"limit", *limit},
                                                        {"offset", *offset}}
                                                       .dump());
                        }));
  router.Add("GET", "/api/v1/catalogs/{id}/datasets/export",
             WithPathId(pool, clock,
                        [&clock](storage::Database& db, const service::Actor& actor,
                                 HttpRequest& request, int64_t id) -> HttpResponse {
                          auto format = FormatParam(request, formats::SheetFormat::kXlsx);
                          if (!format) return ErrorResponse(format.status());
                          auto upload = service::Catalogs(db, clock).Get(actor, id);
                          if (!upload) return ErrorResponse(upload.status());
                          return CatalogDatasetsDownload(db, clock, actor, *upload,
                                                         QueryText(request, "status"), *format);
                        }));
}

}  // namespace esar::web
