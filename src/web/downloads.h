#pragma once

// Spreadsheet downloads and uploads over HTTP, shared by the API and the pages: a table is made
// into a temporary file (service::Spreadsheets), then streamed from it piece by piece, so a
// round of 8,000 agencies costs a file on disk, never the whole answer in memory.

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "formats/sheet_writer.h"
#include "service/spreadsheets.h"
#include "web/http.h"

namespace esar::web {

// Runs `produce` on a TableWriter of `format` over a temporary file and answers the file as an
// attachment named `filename` (streamed, the file gone once sent or abandoned). A failure of
// `produce` (refused, not found, ...) is the error answer; nothing is sent before it ends.
HttpResponse TableDownload(formats::SheetFormat format, const std::string& filename,
                           const std::function<Status(formats::TableWriter&)>& produce);

// The same for a file `produce` writes itself at the path it is given (the XLSX template).
HttpResponse FileDownload(const std::string& media_type, const std::string& filename,
                          const std::function<Status(const std::string& path)>& produce);

// The ?format= of a download: `fallback` when absent, else csv or xlsx (InvalidInput otherwise).
Result<formats::SheetFormat> FormatParam(const HttpRequest& request,
                                         formats::SheetFormat fallback);

// A template upload's outcome as the API answers it: 200 {"drafts": [{"id", "kpi", "status",
// "revision"}]}, or 400 with the error shape whose details are {"cells": [{"sheet", "row",
// "column", "cell", "message_th", "message_en"}]} when cells were wrong (nothing saved).
HttpResponse TemplateUploadResponse(const Result<service::TemplateUpload>& upload);

// The bad cells of an upload as lines of text in Thai or English ("ชีต X แถว 5 คอลัมน์ H: ..."),
// for a page.
std::string CellErrorsText(const std::vector<service::CellError>& errors, bool thai);

}  // namespace esar::web
