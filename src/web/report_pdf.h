#pragma once

// The agency's evaluation report as a PDF, and every agency's of a round as one ZIP (internal
// to src/web: shared by the pages, the API and `esar report agency`). Each PDF carries the
// result it was made from (round, stage, time) and the digest of its published rows, with the
// address where anyone can check it: /verify/{digest}.

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "web/page_support.h"
#include "web/report_model.h"

namespace esar::web {

struct ReportFile {
  std::string name;   // a download name: "OCS-2567-12.pdf"
  std::string bytes;  // the PDF
  std::string digest;  // 64 hex digits: the published rows' SHA-256 it prints
};

// Agency `code`'s report of round `round_id` as the public sees it (published results only), in
// `call.lang`. `base_url` ("https://esar.example.go.th", or "" for the bare path) goes before
// /verify/ in the line printed. Fails as BuildAgencyReport does; kInternal when cairo fails.
Result<ReportFile> MakeAgencyReportPdf(PageCall& call, int64_t round_id, const std::string& code,
                                       const std::string& base_url, const FrameworkLoader& load);

// Every agency's report of round `round_id`'s publication, in code order, as one ZIP (entries as
// ReportFile::name), written to `out`; `count` is set to the number of PDFs. `make` makes each
// PDF (MakeAgencyReportPdf with a connection of its own, or several at once): it is called with
// the agency codes in order and must return the PDFs in that order.
using PdfBatchMaker =
    std::function<Result<std::vector<ReportFile>>(const std::vector<std::string>& codes)>;
Result<std::string> MakeRoundReportsZip(PageCall& call, int64_t round_id,
                                        const PdfBatchMaker& make, int* count);

// The agency codes of round `round_id`'s newest publication, in code order: what the ZIP holds.
// kNotFound when the round has no published result.
Result<std::vector<std::string>> PublishedAgencies(PageCall& call, int64_t round_id);

// The address of the site for the verify line, from the request's Host header ("" when it has
// none or an unusual one): "http://127.0.0.1:8080", https behind TLS.
std::string SiteAddress(const HttpRequest& request);

}  // namespace esar::web
