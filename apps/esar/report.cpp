#include "report.h"

#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "service/actor.h"
#include "storage/database.h"
#include "storage/migrations.h"
#include "web/page_support.h"
#include "web/national_report.h"
#include "web/report_pdf.h"
#include "web/view.h"

namespace esar::cli {

namespace {

constexpr int kFailed = 2;

int Fail(const Status& s, Lang lang) {
  std::cerr << (lang == Lang::kThai ? "esar: ข้อผิดพลาด: " : "esar: error: ")
            << s.ToString(lang == Lang::kThai) << "\n";
  return kFailed;
}

Result<std::unique_ptr<storage::Database>> OpenMigrated(const std::string& url) {
  auto db = storage::Open(url);
  if (!db) return db.status();
  Status migrated = storage::Migrate(**db);
  if (!migrated.ok()) return migrated;
  return std::move(*db);
}

// Writes `bytes` to `path` whole, or says why not.
Status WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    return Status::IoError("เขียนแฟ้ม " + path + " ไม่ได้", "could not write " + path);
  }
  return Status::Ok();
}

}  // namespace

int ReportAgency(const AgencyReportOptions& options, Lang lang) {
  auto db = OpenMigrated(options.db_url);
  if (!db) return Fail(db.status(), lang);
  auto views = web::Views::Load();
  if (!views) return Fail(views.status(), lang);
  SystemClock clock;
  web::HttpRequest request;  // no request: the documents are made for the public
  web::PageCall call{request, **db, clock, **views, service::Actor::Public(), "", lang, {}};
  const web::FrameworkLoader load = web::ReadFramework(clock);
  if (!options.all) {
    auto file = web::MakeAgencyReportPdf(call, options.round_id, options.agency,
                                         options.base_url, load);
    if (!file) return Fail(file.status(), lang);
    Status written = WriteFile(options.output, file->bytes);
    if (!written.ok()) return Fail(written, lang);
    std::cout << options.output << " " << file->digest << "\n";
    return 0;
  }
  // Every agency: `threads` workers, each with its own connection, take every n-th agency.
  web::PdfBatchMaker make = [&](const std::vector<std::string>& codes)
      -> Result<std::vector<web::ReportFile>> {
    std::vector<Result<web::ReportFile>> made(codes.size(), Status::Internal("not made"));
    const size_t workers =
        std::min<size_t>(static_cast<size_t>(std::max(options.threads, 1)), std::max<size_t>(codes.size(), 1));
    Status failed;
    std::mutex failed_mutex;
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers; ++w) {
      threads.emplace_back([&, w]() {
        auto mine_db = OpenMigrated(options.db_url);
        if (!mine_db) {
          std::lock_guard<std::mutex> lock(failed_mutex);
          failed = mine_db.status();
          return;
        }
        web::PageCall mine{request, **mine_db, clock, **views, service::Actor::Public(), "",
                           lang, {}};
        for (size_t i = w; i < codes.size(); i += workers)
          made[i] = web::MakeAgencyReportPdf(mine, options.round_id, codes[i], options.base_url,
                                             load);
      });
    }
    for (std::thread& t : threads) t.join();
    if (!failed.ok()) return failed;
    std::vector<web::ReportFile> out;
    for (auto& m : made) {
      if (!m) return m.status();
      out.push_back(std::move(*m));
    }
    return out;
  };
  int count = 0;
  auto zip = web::MakeRoundReportsZip(call, options.round_id, make, &count);
  if (!zip) return Fail(zip.status(), lang);
  Status written = WriteFile(options.output, *zip);
  if (!written.ok()) return Fail(written, lang);
  std::cout << options.output << " " << count << " PDF\n";
  return 0;
}

int ReportNational(const NationalReportOptions& options, Lang lang) {
  auto db = OpenMigrated(options.db_url);
  if (!db) return Fail(db.status(), lang);
  auto views = web::Views::Load();
  if (!views) return Fail(views.status(), lang);
  SystemClock clock;
  web::HttpRequest request;
  web::PageCall call{request, **db, clock, **views, service::Actor::Public(), "", lang, {}};
  auto report =
      web::BuildNationalReport(call, options.fiscal_year, options.round, web::ReadFramework(clock));
  if (!report) return Fail(report.status(), lang);
  auto bytes = options.format == "xlsx" ? render::RenderNationalReportXlsx(*report)
                                        : render::RenderNationalReportPdf(*report);
  if (!bytes) return Fail(bytes.status(), lang);
  Status written = WriteFile(options.output, *bytes);
  if (!written.ok()) return Fail(written, lang);
  std::cout << options.output << "\n";
  return 0;
}

}  // namespace esar::cli
