// The report files: an agency's evaluation report as PDF, every agency's of a round as one ZIP,
// and the public check of a PDF's digest (/verify/{hash}).

#include <cctype>
#include <mutex>
#include <thread>

#include "common/thai.h"
#include "service/directory.h"
#include "web/page_support.h"
#include "web/pages.h"
#include "web/kpi_view.h"
#include "web/national_report.h"
#include "web/report_pdf.h"

namespace esar::web {

using nlohmann::json;

namespace {

HttpResponse FileResponse(std::string bytes, const std::string& type, const std::string& name) {
  HttpResponse r;
  r.content_type = type;
  r.body = std::move(bytes);
  r.headers.emplace_back("Content-Disposition", AttachmentDisposition(name));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// ?lang=en or ?lang=th names the language of a file asked for through the API (which has no
// language cookie); the page's language otherwise.
void PickLanguage(PageCall& call) {
  const std::string lang = call.Query("lang");
  if (lang == "en") call.lang = Lang::kEnglish;
  if (lang == "th") call.lang = Lang::kThai;
}

bool IsDigest(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

FrameworkLoader Pages::Loader() {
  return [this](storage::Database& db, int64_t id) { return FrozenFramework(db, id); };
}

HttpResponse Pages::AgencyReportPdf(PageCall& call, bool api) {
  PickLanguage(call);
  const std::string round = call.request.params.at("round");
  auto file = MakeAgencyReportPdf(call, ParseId(round), call.request.params.at("code"),
                                  SiteAddress(call.request), Loader());
  if (!file) return api ? ErrorResponse(file.status()) : ErrorPage(call, file.status());
  return FileResponse(std::move(file->bytes), "application/pdf", file->name);
}

HttpResponse Pages::RoundReportsZip(PageCall& call, bool api) {
  PickLanguage(call);
  const int64_t round_id = ParseId(call.request.params.at("round"));
  const std::string site = SiteAddress(call.request);
  const Lang lang = call.lang;
  // Two workers, each with a connection of its own, share the agencies (one PDF is ~20 ms of
  // layout): the machine's two cores both draw.
  PdfBatchMaker make = [&](const std::vector<std::string>& codes)
      -> Result<std::vector<ReportFile>> {
    std::vector<Result<ReportFile>> made(codes.size(), Status::Internal("not made"));
    const size_t workers = std::min<size_t>(2, std::max<size_t>(codes.size(), 1));
    std::vector<std::thread> threads;
    Status failed;
    std::mutex failed_mutex;
    for (size_t w = 0; w < workers; ++w) {
      threads.emplace_back([&, w]() {
        auto lease = pool_.Acquire();
        if (!lease) {
          std::lock_guard<std::mutex> lock(failed_mutex);
          failed = Status::Unavailable("ระบบไม่พร้อมให้บริการชั่วคราว โปรดลองใหม่",
                                       "esar is briefly unavailable, try again");
          return;
        }
        PageCall mine{call.request, **lease, clock_, views_, call.actor, "", lang, {}};
        for (size_t i = w; i < codes.size(); i += workers)
          made[i] = MakeAgencyReportPdf(mine, round_id, codes[i], site, Loader());
      });
    }
    for (std::thread& t : threads) t.join();
    if (!failed.ok()) return failed;
    std::vector<ReportFile> out;
    for (auto& m : made) {
      if (!m) return m.status();
      out.push_back(std::move(*m));
    }
    return out;
  };
  int count = 0;
  auto zip = MakeRoundReportsZip(call, round_id, make, &count);
  if (!zip) return api ? ErrorResponse(zip.status()) : ErrorPage(call, zip.status());
  return FileResponse(std::move(*zip), "application/zip",
                      "reports-round-" + std::to_string(round_id) + ".zip");
}

std::shared_ptr<const std::map<std::string, service::PublishedReport>> Pages::Digests(
    storage::Database& db) {
  // Published rows never change through esar: only a new publication (its id and the number of
  // publications) moves what the digests are. A hit is checked again against its rows (Verify).
  auto head = db.Query(
      "SELECT (SELECT COALESCE(MAX(id), 0) FROM results WHERE stage = 'published') * 1000003 + "
      "(SELECT COUNT(*) FROM results WHERE stage = 'published')");
  if (!head) return nullptr;
  const int64_t seq = (*head)[0].Int(0);
  {
    std::lock_guard<std::mutex> lock(digests_mutex_);
    if (digests_ && digests_head_ == seq) return digests_;
  }
  auto all = service::PublishedDigests(db);
  if (!all) return nullptr;
  auto shared =
      std::make_shared<const std::map<std::string, service::PublishedReport>>(std::move(*all));
  std::lock_guard<std::mutex> lock(digests_mutex_);
  digests_ = shared;
  digests_head_ = seq;
  return shared;
}

HttpResponse Pages::Verify(PageCall& call, bool api) {
  PickLanguage(call);
  std::string hash = call.request.params.at("hash");
  for (char& c : hash) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  json model = {{"hash", hash}, {"found", false}, {"valid", IsDigest(hash)}};
  const service::PublishedReport* found = nullptr;
  std::shared_ptr<const std::map<std::string, service::PublishedReport>> digests;
  if (IsDigest(hash)) {
    digests = Digests(call.db);
    if (!digests) {
      const Status s = Status::Unavailable("อ่านผลการประเมินที่เผยแพร่ไม่ได้ โปรดลองใหม่",
                                           "the published results could not be read, try again");
      return api ? ErrorResponse(s) : ErrorPage(call, s);
    }
    const auto at = digests->find(hash);
    if (at != digests->end()) {
      // The rows as they are now: a row edited behind esar's back no longer gives the hash.
      auto again = service::PublishedRowsDigest(call.db, at->second.result_id,
                                                at->second.rows_from, at->second.agency);
      if (again && *again == hash) found = &at->second;
    }
  }
  if (!found) {
    const Status s = IsDigest(hash)
                         ? Status::NotFound("รหัสนี้ไม่ตรงกับผลการประเมินใดที่เผยแพร่",
                                            "this code matches no published result")
                         : Status::InvalidInput("รหัสตรวจสอบต้องเป็นเลขฐานสิบหก 64 หลัก",
                                                "a check code is 64 hexadecimal digits");
    if (api) return ErrorResponse(s);
    model["message"] = call.Message(s);
    return RenderPage(call, "verify", model, call.T("verify.title"), HttpStatusOf(s.code()));
  }
  auto round = service::Cycle(call.db, clock_).Round(found->round_id);
  auto framework = round ? Loader()(call.db, found->framework_id)
                         : Result<std::shared_ptr<const service::StoredFramework>>(round.status());
  if (!framework) return api ? ErrorResponse(framework.status()) : ErrorPage(call, framework.status());
  const int fiscal_year = (*framework)->framework.fiscal_year;
  auto agency = FindAgency(call.db, clock_, found->agency);
  const std::string name_th = agency ? agency->name.th : found->agency;
  const std::string name_en = agency ? agency->name.en : found->agency;
  if (api) {
    json body = {{"hash", hash},
                 {"published", true},
                 {"current", found->newest},
                 {"agency", found->agency},
                 {"agency_name_th", name_th},
                 {"agency_name_en", name_en},
                 {"round_id", found->round_id},
                 {"fiscal_year", fiscal_year},
                 {"round", found->round},
                 {"result_id", found->result_id},
                 {"published_at", found->published_at},
                 {"report", "/results/" + std::to_string(found->round_id) + "/agencies/" +
                                found->agency}};
    return JsonResponse(200, body.dump());
  }
  model["found"] = true;
  model["current"] = found->newest;
  model["agency"] = call.lang == Lang::kThai || name_en.empty() ? name_th : name_en;
  model["code"] = found->agency;
  model["period"] = FiscalYearName(fiscal_year, call.lang) + " · " + RoundName(found->round, call.lang);
  model["published_at"] = FormatDateTime(found->published_at, call.lang);
  model["result_id"] = found->result_id;
  model["report"] = "/results/" + std::to_string(found->round_id) + "/agencies/" + found->agency;
  return RenderPage(call, "verify", model, call.T("verify.title"));
}

namespace {

// ?round=6 or 12 (12 when absent or anything else).
int RoundOf(const PageCall& call) { return call.Query("round") == "6" ? 6 : 12; }

}  // namespace

HttpResponse Pages::NationalReport(PageCall& call) {
  const int round = RoundOf(call);
  auto years = PublishedYears(call, round);
  if (!years) return ErrorPage(call, years.status());
  json model = {{"years", json::array()}, {"round", round}, {"has_report", false}};
  if (years->empty()) {
    model["message"] = call.T("nat.none");
    return RenderPage(call, "national_report", model, call.T("nat.title"));
  }
  int year = years->front();
  for (int y : *years) {
    if (call.Query("year") == std::to_string(y)) year = y;
  }
  for (int y : *years) {
    model["years"].push_back({{"value", y}, {"label", FiscalYearName(y, call.lang)},
                              {"selected", y == year}});
  }
  auto report = BuildNationalReport(call, year, round, Loader());
  if (!report) return ErrorPage(call, report.status());
  const std::string base = "/reports/national/" + std::to_string(year) + "/report.";
  const std::string query = "?round=" + std::to_string(round);
  model["has_report"] = true;
  model["subtitle"] = report->subtitle;
  model["highlights_heading"] = report->highlights_heading;
  model["highlights"] = report->highlights;
  model["pdf"] = base + "pdf" + query;
  model["xlsx"] = base + "xlsx" + query;
  json parts = json::array();
  int n = 0;
  for (const render::NationalPart& p : report->parts) {
    json rows = json::array();
    for (size_t r = 0; r < p.section.table.rows.size(); ++r) {
      json cells = json::array();
      for (size_t c = 0; c < p.section.table.rows[r].size(); ++c) {
        const bool numeric = c < p.section.table.columns.size() && p.section.table.columns[c].numeric;
        cells.push_back({{"text", p.section.table.rows[r][c]}, {"num", numeric}, {"first", c == 0}});
      }
      rows.push_back({{"cells", cells}});
    }
    json header = json::array();
    for (size_t c = 0; c < p.section.table.header.size(); ++c) {
      const bool numeric = c < p.section.table.columns.size() && p.section.table.columns[c].numeric;
      header.push_back({{"text", p.section.table.header[c]}, {"num", numeric}});
    }
    parts.push_back({{"id", "part-" + std::to_string(++n)},
                     {"heading", p.section.heading},
                     {"paragraphs", p.section.paragraphs},
                     {"header", header},
                     {"rows", rows}});
  }
  model["parts"] = parts;
  return RenderPage(call, "national_report", model, call.T("nat.title"));
}

HttpResponse Pages::NationalReportFile(PageCall& call, bool xlsx, bool api) {
  PickLanguage(call);
  auto fail = [&](const Status& s) { return api ? ErrorResponse(s) : ErrorPage(call, s); };
  const int64_t year = ParseId(call.request.params.at("year"));
  // Buddhist Era years only: 2024 is most likely a Common Era year typed by mistake.
  if (year < 2400 || year > 2800) {
    return fail(Status::InvalidInput(
        "ปีงบประมาณต้องเป็นปี พ.ศ. เช่น 2567: \"" + call.request.params.at("year") + "\"",
        "the fiscal year must be a Buddhist Era year such as 2567: \"" +
            call.request.params.at("year") + "\""));
  }
  const std::string round_text = call.Query("round");
  if (api && !round_text.empty() && round_text != "6" && round_text != "12") {
    return fail(Status::InvalidInput("round ต้องเป็น 6 หรือ 12", "round must be 6 or 12"));
  }
  const int round = RoundOf(call);
  auto report = BuildNationalReport(call, static_cast<int>(year), round, Loader());
  if (!report) return fail(report.status());
  auto bytes = xlsx ? render::RenderNationalReportXlsx(*report)
                    : render::RenderNationalReportPdf(*report);
  if (!bytes) return fail(bytes.status());
  const std::string name = "national-report-" + std::to_string(year) + "-" +
                           std::to_string(round) + (xlsx ? ".xlsx" : ".pdf");
  return FileResponse(std::move(*bytes),
                      xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                           : "application/pdf",
                      name);
}

}  // namespace esar::web
