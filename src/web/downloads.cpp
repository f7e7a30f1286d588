#include "web/downloads.h"

#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>

namespace esar::web {

namespace {

// An open descriptor closed when the last holder lets it go (the body producer may be dropped
// unfinished when the client goes away).
struct OpenFile {
  int fd = -1;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

HttpResponse StreamFile(int fd, const std::string& media_type, const std::string& filename) {
  auto file = std::make_shared<OpenFile>();
  file->fd = fd;
  HttpResponse r;
  r.content_type = media_type;
  r.headers.emplace_back("Content-Disposition", AttachmentDisposition(filename));
  // The data of the moment; a download is never served from a cache.
  r.headers.emplace_back("Cache-Control", "no-store");
  r.stream = [file](std::string& out) -> StreamStep {
    out.resize(256 * 1024);
    const ssize_t n = ::read(file->fd, out.data(), out.size());
    if (n < 0) {
      out.clear();
      return StreamStep::kFailed;
    }
    out.resize(static_cast<size_t>(n));
    return n == 0 ? StreamStep::kDone : StreamStep::kMore;
  };
  return r;
}

}  // namespace

HttpResponse FileDownload(const std::string& media_type, const std::string& filename,
                          const std::function<Status(const std::string& path)>& produce) {
  auto temp = formats::TempFile::Create("download");
  if (!temp) return ErrorResponse(temp.status());
  Status made = produce(temp->path());
  if (!made.ok()) return ErrorResponse(made);
  auto fd = temp->OpenAndUnlink();
  if (!fd) return ErrorResponse(fd.status());
  return StreamFile(*fd, media_type, filename);
}

HttpResponse TableDownload(formats::SheetFormat format, const std::string& filename,
                           const std::function<Status(formats::TableWriter&)>& produce) {
  return FileDownload(formats::SheetMediaType(format), filename,
                      [&](const std::string& path) -> Status {
                        auto writer = formats::TableWriter::Create(format, path);
                        if (!writer) return writer.status();
                        Status s = produce(**writer);
                        if (!s.ok()) return s;
                        return (*writer)->Finish();
                      });
}

Result<formats::SheetFormat> FormatParam(const HttpRequest& request,
                                         formats::SheetFormat fallback) {
  const auto it = request.query.find("format");
  if (it == request.query.end() || it->second.empty()) return fallback;
  return formats::ParseSheetFormat(it->second);
}

HttpResponse TemplateUploadResponse(const Result<service::TemplateUpload>& upload) {
  using nlohmann::json;
  if (!upload) return ErrorResponse(upload.status());
  if (!upload->errors.empty()) {
    json cells = json::array();
    for (const service::CellError& e : upload->errors) {
      cells.push_back({{"sheet", e.sheet},
                       {"row", e.row},
                       {"column", e.column},
                       {"cell", e.column + std::to_string(e.row)},
                       {"message_th", e.message_th},
                       {"message_en", e.message_en}});
    }
    const std::string n = std::to_string(upload->errors.size());
    return ErrorResponse(
        Status::InvalidInput("มี " + n + " เซลล์ที่ไม่ถูกต้อง ไม่ได้บันทึกค่าใดเลย",
                             n + " cells are wrong; nothing was saved"),
        json{{"cells", cells}}.dump());
  }
  json drafts = json::array();
  for (const service::SubmissionView& s : upload->drafts) {
    drafts.push_back({{"id", s.id},
                      {"kpi", s.report.kpi},
                      {"status", service::SubmissionStatusName(s.status)},
                      {"revision", s.revision}});
  }
  return JsonResponse(200, json{{"drafts", drafts}}.dump());
}

std::string CellErrorsText(const std::vector<service::CellError>& errors, bool thai) {
  std::string out;
  for (const service::CellError& e : errors) {
    const std::string row = std::to_string(e.row);
    out += thai ? "ชีต \"" + e.sheet + "\" แถว " + row + " คอลัมน์ " + e.column + ": " + e.message_th
                : "sheet \"" + e.sheet + "\" row " + row + " column " + e.column + ": " + e.message_en;
    out += "\n";
  }
  return out;
}

}  // namespace esar::web
