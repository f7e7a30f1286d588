#include "web/evidence_upload.h"

#include <magic.h>

#include <charconv>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/text.h"
#include "service/announcements.h"
#include "service/reporting.h"
#include "web/auth.h"
#include "web/multipart.h"
#include "web/request_params.h"
#include "web/zip_check.h"

namespace esar::web {
namespace {

using nlohmann::json;

constexpr size_t kMaxFieldBytes = 64;

Status TooLarge(int64_t max_bytes) {
  return Status::InvalidInput(
      "ไฟล์ใหญ่เกิน " + std::to_string(max_bytes / (1 << 20)) + " MB",
      "the file is larger than " + std::to_string(max_bytes / (1 << 20)) + " MB");
}

HttpResponse Refuse(const Status& status, int http_status = 0) {
  HttpResponse r = ErrorResponse(status);
  if (http_status) r.status = http_status;
  return r;
}

// Where an upload's file goes once stored and checked: `room` says whether one more file of
// `size` bytes fits (asked as the body streams, so an upload past the quota stops early), and
// `record` records the stored file and gives the answer. `takes_replaces` allows the
// "replaces" field (evidence only).
struct UploadTarget {
  std::function<Status(int64_t size)> room;
  std::function<HttpResponse(const storage::StoredFile& stored, const std::string& name,
                             const std::string& type, std::optional<int64_t> replaces)>
      record;
  bool takes_replaces = false;
};

// Streams one multipart upload into the file store: size-limited, typed by content, office
// files checked for absurd expansion, then recorded by its target. The one sink behind evidence
// and announcement attachments, so that both get every check.
class FileUploadSink final : public UploadSink, public MultipartParser::Handler {
 public:
  FileUploadSink(const UploadLimits& limits, UploadTarget target, std::string boundary,
                 std::unique_ptr<storage::FileWriter> writer)
      : max_bytes_(limits.max_file_bytes),
        limits_(limits),
        target_(std::move(target)),
        parser_(std::move(boundary), *this),
        writer_(std::move(writer)) {}

  Status Write(std::string_view bytes) override { return parser_.Feed(bytes); }

  HttpResponse Finish(const Status& transfer) override {
    if (too_large_) return Refuse(TooLarge(max_bytes_), 413);
    if (over_quota_) return Refuse(target_.room(size_));
    if (!transfer.ok())
      return Refuse(transfer, transfer.message_en().find("larger") != std::string::npos ? 413 : 0);
    Status parsed = parser_.Finish();
    if (!parsed.ok()) return Refuse(parsed);
    if (!seen_file_) {
      return Refuse(Status::InvalidInput("ไม่มีไฟล์ในส่วน \"file\"", "no file in the \"file\" part"));
    }
    if (size_ == 0) return Refuse(Status::InvalidInput("ไฟล์ว่างเปล่า", "the file is empty"));
    const std::string type = SniffMediaType(writer_->TemporaryPath());
    if (!IsAllowedEvidenceType(type)) {
      return Refuse(Status::InvalidInput(
                        "รับเฉพาะไฟล์ PDF, DOCX, XLSX, PNG และ JPEG (ไฟล์นี้เป็น " +
                            (type.empty() ? "ชนิดที่ไม่รู้จัก" : type) + ")",
                        "only PDF, DOCX, XLSX, PNG and JPEG files are accepted (this one is " +
                            (type.empty() ? "of an unknown type" : type) + ")"),
                    415);
    }
    if (LooksLikeZip(writer_->TemporaryPath())) {
      ZipBounds bounds;
      bounds.max_uncompressed_bytes = limits_.max_unzipped_bytes;
      Status sane = CheckZipExpansion(writer_->TemporaryPath(), bounds);
      if (!sane.ok()) return Refuse(sane);
    }
    auto stored = writer_->Commit();
    if (!stored) return Refuse(stored.status());
    return target_.record(*stored, CleanFileName(filename_), type, replaces_);
  }

  // ---- MultipartParser::Handler ----
  Status OnPartBegin(const PartHeaders& headers) override {
    field_.clear();
    if (!IsValidUtf8(headers.name) || !IsValidUtf8(headers.filename)) {
      return Status::InvalidInput("ชื่อช่องหรือชื่อไฟล์ไม่ใช่ UTF-8 ที่ถูกต้อง",
                                  "a field or file name is not valid UTF-8");
    }
    if (headers.name == "file") {
      if (seen_file_) return Status::InvalidInput("ส่งได้ครั้งละหนึ่งไฟล์", "one file per upload");
      if (!headers.has_filename)
        return Status::InvalidInput("ส่วน \"file\" ต้องเป็นไฟล์", "the \"file\" part must be a file");
      seen_file_ = true;
      in_file_ = true;
      filename_ = headers.filename;
      return Status::Ok();
    }
    in_file_ = false;
    current_ = headers.name;
    if (current_ != "replaces" || !target_.takes_replaces) {
      const std::string known = target_.takes_replaces ? "file, replaces" : "file";
      return Status::InvalidInput("ไม่รู้จักช่อง \"" + current_ + "\" (ใช้ได้: " + known + ")",
                                  "unknown field \"" + current_ + "\" (known: " + known + ")");
    }
    return Status::Ok();
  }

  Status OnPartData(std::string_view bytes) override {
    if (!in_file_) {
      if (field_.size() + bytes.size() > kMaxFieldBytes) {
        return Status::InvalidInput("ช่อง \"" + current_ + "\" ยาวเกินไป",
                                    "the \"" + current_ + "\" field is too long");
      }
      field_.append(bytes);
      return Status::Ok();
    }
    size_ += static_cast<int64_t>(bytes.size());
    if (size_ > max_bytes_) {
      too_large_ = true;
      return TooLarge(max_bytes_);
    }
    // Stopped as soon as the quota is passed, not after the whole file is on disk.
    if (!target_.room(size_).ok()) {
      over_quota_ = true;
      return Status::Conflict("ไฟล์เกินโควตา", "over the quota of files");
    }
    return writer_->Write(bytes);
  }

  Status OnPartEnd() override {
    if (!in_file_ && current_ == "replaces" && !field_.empty()) {
      int64_t id = 0;
      const auto [ptr, ec] = std::from_chars(field_.data(), field_.data() + field_.size(), id);
      if (ec != std::errc() || ptr != field_.data() + field_.size() || id <= 0) {
        return Status::InvalidInput("\"replaces\" ต้องเป็นรหัสหลักฐาน",
                                    "\"replaces\" must be an evidence id");
      }
      replaces_ = id;
    }
    in_file_ = false;
    return Status::Ok();
  }

 private:
  int64_t max_bytes_;
  UploadLimits limits_;
  UploadTarget target_;
  MultipartParser parser_;
  std::unique_ptr<storage::FileWriter> writer_;
  bool seen_file_ = false, in_file_ = false, too_large_ = false, over_quota_ = false;
  std::string filename_, current_, field_;
  std::optional<int64_t> replaces_;
  int64_t size_ = 0;
};

// The checks every upload gets from its headers before a byte of the body is read: the declared
// size, and a multipart boundary. Fills `boundary`; a response when refused.
std::optional<HttpResponse> CheckUploadHeaders(const HttpRequest& request, int64_t max_bytes,
                                               std::string& boundary) {
  const std::string& length = request.Header("content-length");
  if (!length.empty()) {
    int64_t declared = 0;
    std::from_chars(length.data(), length.data() + length.size(), declared);
    if (declared > max_bytes + 64 * 1024) return Refuse(TooLarge(max_bytes), 413);
  }
  auto found = BoundaryFromContentType(request.Header("content-type"));
  if (!found) return Refuse(found.status(), 415);
  boundary = *found;
  return std::nullopt;
}

}  // namespace

bool IsAllowedEvidenceType(const std::string& media_type) {
  return media_type == "application/pdf" || media_type == "image/png" ||
         media_type == "image/jpeg" ||
         media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document" ||
         media_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
}

std::string SniffMediaType(const std::string& path) {
  // One handle per call: libmagic handles are not thread-safe, and loading is quick next to an
  // upload.
  magic_t magic = magic_open(MAGIC_MIME_TYPE);
  if (!magic) return "";
  std::string out;
  if (magic_load(magic, nullptr) == 0) {
    if (const char* type = magic_file(magic, path.c_str())) out = type;
  }
  magic_close(magic);
  return out;
}

UploadStarter MakeEvidenceUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                 const Clock& clock, Metrics& metrics, const UploadLimits& limits) {
  return [&pool, &files, &clock, &metrics, limits](
             HttpRequest& request) -> std::variant<HttpResponse, std::unique_ptr<UploadSink>> {
    std::string boundary;
    if (auto refused = CheckUploadHeaders(request, limits.max_file_bytes, boundary))
      return *refused;
    const auto path_id = PathId(request, "id");
    if (!path_id) return Refuse(Status::NotFound("ไม่มีรายงานนี้", "no such submission"));
    const int64_t submission = *path_id;
    service::Actor actor;
    int64_t used_files = 0, used_bytes = 0;
    {
      auto lease = pool.Acquire();
      if (!lease) return Refuse(lease.status());
      auto who = Authenticate(request, **lease, clock);
      if (!who) return Refuse(who.status());
      actor = *who;
      auto view = service::Reporting(**lease, clock).Get(actor, submission);
      if (!view) return Refuse(view.status());
      if (!(actor.Is(service::Role::kReporter) && actor.OfAgency(view->agency))) {
        return Refuse(service::Denied(actor, "แนบหลักฐานของหน่วยงาน " + view->agency,
                                      "attach evidence for agency " + view->agency));
      }
      if (view->status != service::SubmissionStatus::kDraft &&
          view->status != service::SubmissionStatus::kReturned) {
        return Refuse(
            Status::Conflict("แนบหลักฐานได้เฉพาะรายงานที่เป็นร่างหรือถูกส่งกลับ",
                             "evidence can be attached only to a draft or a returned submission"));
      }
      for (const service::EvidenceInfo& e : view->evidence) {
        ++used_files;
        used_bytes += e.size;
      }
      // A full submission is refused before a byte of the body is read (a file of one byte
      // would not fit).
      Status room = service::Reporting::CheckEvidenceQuota(
          {limits.max_submission_bytes, limits.max_submission_files}, used_files, used_bytes, 1);
      if (!room.ok()) return Refuse(room);
    }
    auto writer = files.Create();
    if (!writer) return Refuse(writer.status());
    const service::EvidenceQuota quota{limits.max_submission_bytes, limits.max_submission_files};
    UploadTarget target;
    target.takes_replaces = true;
    target.room = [quota, used_files, used_bytes](int64_t size) {
      return service::Reporting::CheckEvidenceQuota(quota, used_files, used_bytes, size);
    };
    target.record = [&pool, &clock, &metrics, actor, submission, quota](
                        const storage::StoredFile& stored, const std::string& name,
                        const std::string& type, std::optional<int64_t> replaces) {
      auto lease = pool.Acquire();
      if (!lease) return Refuse(lease.status());
      auto evidence =
          service::Reporting(**lease, clock)
              .AddEvidence(actor, submission, {0, name, type, stored.size, stored.sha256},
                           replaces, quota);
      if (!evidence) return Refuse(evidence.status());
      metrics.CountUpload();
      return JsonResponse(201, json{{"id", evidence->id},
                                    {"name", evidence->name},
                                    {"media_type", evidence->media_type},
                                    {"size", evidence->size},
                                    {"sha256", evidence->sha256},
                                    {"replaced", replaces ? json(*replaces) : json(nullptr)}}
                                   .dump());
    };
    return std::unique_ptr<UploadSink>(
        new FileUploadSink(limits, std::move(target), boundary, std::move(*writer)));
  };
}

UploadStarter MakeKpiEvidenceUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                    const Clock& clock, Metrics& metrics,
                                    const UploadLimits& limits) {
  return [&pool, &files, &clock, &metrics, limits](
             HttpRequest& request) -> std::variant<HttpResponse, std::unique_ptr<UploadSink>> {
    std::string boundary;
    if (auto refused = CheckUploadHeaders(request, limits.max_file_bytes, boundary))
      return *refused;
    const auto round_id = PathId(request, "round");
    if (!round_id) return Refuse(Status::NotFound("ไม่มีรอบการรายงานนี้", "no such round"));
    const auto kpi_param = request.params.find("kpi");
    const std::string kpi = kpi_param == request.params.end() ? "" : kpi_param->second;
    service::Actor actor;
    int64_t used_files = 0, used_bytes = 0;
    {
      auto lease = pool.Acquire();
      if (!lease) return Refuse(lease.status());
      auto who = Authenticate(request, **lease, clock);
      if (!who) return Refuse(who.status());
      actor = *who;
      if (!actor.Is(service::Role::kReporter)) {
        return Refuse(service::Denied(actor, "แนบหลักฐานของหน่วยงาน", "attach evidence"));
      }
      // What can be told before the body: the KPI's report, when there is one, must take files
      // and have room for one more (the service checks it all again with the file).
      service::Reporting reporting(**lease, clock);
      auto current = reporting.CurrentReport(*round_id, actor.agency, kpi);
      if (!current) return Refuse(current.status());
      if (*current) {
        auto view = reporting.Get(actor, (*current)->submission_id);
        if (!view) return Refuse(view.status());
        if (view->status != service::SubmissionStatus::kDraft &&
            view->status != service::SubmissionStatus::kReturned) {
          return Refuse(Status::Conflict(
              "แนบหลักฐานได้เฉพาะรายงานที่เป็นร่างหรือถูกส่งกลับ",
              "evidence can be attached only to a draft or a returned submission"));
        }
        for (const service::EvidenceInfo& e : view->evidence) {
          ++used_files;
          used_bytes += e.size;
        }
      }
      Status room = service::Reporting::CheckEvidenceQuota(
          {limits.max_submission_bytes, limits.max_submission_files}, used_files, used_bytes, 1);
      if (!room.ok()) return Refuse(room);
    }
    auto writer = files.Create();
    if (!writer) return Refuse(writer.status());
    const service::EvidenceQuota quota{limits.max_submission_bytes, limits.max_submission_files};
    UploadTarget target;
    target.room = [quota, used_files, used_bytes](int64_t size) {
      return service::Reporting::CheckEvidenceQuota(quota, used_files, used_bytes, size);
    };
    target.record = [&pool, &clock, &metrics, actor, round = *round_id, kpi, quota](
                        const storage::StoredFile& stored, const std::string& name,
                        const std::string& type, std::optional<int64_t>) {
      auto lease = pool.Acquire();
      if (!lease) return Refuse(lease.status());
      auto added = service::Reporting(**lease, clock)
                       .AddEvidenceToKpi(actor, round, actor.agency, kpi,
                                         {0, name, type, stored.size, stored.sha256}, quota);
      if (!added) return Refuse(added.status());
      metrics.CountUpload();
      const service::EvidenceInfo& e = added->second;
      return JsonResponse(201, json{{"id", e.id},
                                    {"submission_id", added->first},
                                    {"name", e.name},
                                    {"media_type", e.media_type},
                                    {"size", e.size},
                                    {"sha256", e.sha256},
                                    {"replaced", nullptr}}
                                   .dump());
    };
    return std::unique_ptr<UploadSink>(
        new FileUploadSink(limits, std::move(target), boundary, std::move(*writer)));
  };
}

UploadStarter MakeAnnouncementUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                     const Clock& clock, Metrics& metrics,
                                     const UploadLimits& limits) {
  return [&pool, &files, &clock, &metrics, limits](
             HttpRequest& request) -> std::variant<HttpResponse, std::unique_ptr<UploadSink>> {
    std::string boundary;
    if (auto refused = CheckUploadHeaders(request, limits.max_file_bytes, boundary))
      return *refused;
    const auto path_id = PathId(request, "id");
    if (!path_id) return Refuse(Status::NotFound("ไม่มีประกาศนี้", "no such announcement"));
    const int64_t announcement = *path_id;
    service::Actor actor;
    int64_t used_files = 0, used_bytes = 0;
    const service::EvidenceQuota quota{limits.max_submission_bytes, limits.max_submission_files};
    {
      auto lease = pool.Acquire();
      if (!lease) return Refuse(lease.status());
      auto who = Authenticate(request, **lease, clock);
      if (!who) return Refuse(who.status());
      actor = *who;
      if (!actor.Is(service::Role::kAdmin)) {
        return Refuse(service::Denied(actor, "แนบไฟล์กับประกาศ", "attach files to announcements"));
      }
      auto found = service::Announcements(**lease, clock).Get(actor, announcement);
      if (!found) return Refuse(found.status());
      for (const service::AnnouncementFile& f : found->files) {
        ++used_files;
        used_bytes += f.size;
      }
      Status room = service::Announcements::CheckQuota(quota, used_files, used_bytes, 1);
      if (!room.ok()) return Refuse(room);
    }
    auto writer = files.Create();
    if (!writer) return Refuse(writer.status());
    UploadTarget target;
    target.room = [quota, used_files, used_bytes](int64_t size) {
      return service::Announcements::CheckQuota(quota, used_files, used_bytes, size);
    };
    target.record = [&pool, &clock, &metrics, actor, announcement, quota](
                        const storage::StoredFile& stored, const std::string& name,
                        const std::string& type, std::optional<int64_t>) {
      auto lease = pool.Acquire();
      if (!lease) return Refuse(lease.status());
      auto file = service::Announcements(**lease, clock)
                      .AddFile(actor, announcement,
                               {0, announcement, name, type, stored.size, stored.sha256}, quota);
      if (!file) return Refuse(file.status());
      metrics.CountUpload();
      return JsonResponse(201, AnnouncementFileJson(*file).dump());
    };
    return std::unique_ptr<UploadSink>(
        new FileUploadSink(limits, std::move(target), boundary, std::move(*writer)));
  };
}

nlohmann::json AnnouncementFileJson(const service::AnnouncementFile& f) {
  return {{"id", f.id},
          {"announcement_id", f.announcement_id},
          {"name", f.name},
          {"media_type", f.media_type},
          {"size", f.size},
          {"sha256", f.sha256},
          {"uploaded_at", f.uploaded_at},
          {"href", "/api/v1/announcement-files/" + std::to_string(f.id) + "/content"}};
}

}  // namespace esar::web
