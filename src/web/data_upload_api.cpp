#include "web/data_upload_api.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <memory>

#include "common/text.h"
#include "web/auth.h"
#include "web/multipart.h"
#include "web/request_params.h"

namespace esar::web {
namespace {

using nlohmann::json;

HttpResponse Refuse(const Status& status, int http_status = 0) {
  HttpResponse r = ErrorResponse(status);
  if (http_status) r.status = http_status;
  return r;
}

Status TooLarge(int64_t max_bytes) {
  return Status::InvalidInput(
      "ไฟล์ใหญ่เกิน " + std::to_string(max_bytes / (1 << 20)) + " MB",
      "the file is larger than " + std::to_string(max_bytes / (1 << 20)) + " MB");
}

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string Joined(const std::vector<std::string>& list) {
  std::string out;
  for (const std::string& s : list) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Streams the spec's file parts of an upload into the file store's temporary area, each
// bounded, then hands them to the spec's finish, which keeps them only when the upload is
// accepted (a FileWriter not committed is removed with it).
class DataUploadSink final : public UploadSink, public MultipartParser::Handler {
 public:
  DataUploadSink(storage::DatabasePool& pool, storage::FileStore& files,
                 std::shared_ptr<const DataUploadSpec> spec,
                 service::Actor actor, int64_t round_id, std::string agency, std::string kpi,
                 int64_t max_bytes, std::string boundary)
      : pool_(pool),
        files_(files),
        spec_(std::move(spec)),
        actor_(std::move(actor)),
        round_id_(round_id),
        agency_(std::move(agency)),
        kpi_(std::move(kpi)),
        max_bytes_(max_bytes),
        parser_(std::move(boundary), *this) {}

  Status Write(std::string_view bytes) override { return parser_.Feed(bytes); }

  HttpResponse Finish(const Status& transfer) override {
    if (too_large_) return Refuse(TooLarge(max_bytes_), 413);
    if (!transfer.ok())
      return Refuse(transfer, transfer.message_en().find("larger") != std::string::npos ? 413 : 0);
    Status parsed = parser_.Finish();
    if (!parsed.ok()) return Refuse(parsed);
    std::vector<service::PendingFile> pending;
    for (Part& p : parts_) {
      if (p.size == 0) {
        // An empty file input (an optional file left out in a form) is no file.
        if (Contains(spec_->optional, p.role)) continue;
        return Refuse(
            Status::InvalidInput("ไฟล์ " + p.role + " ว่างเปล่า", "the " + p.role + " file is empty"));
      }
      storage::FileWriter* writer = p.writer.get();
      pending.push_back({p.role, CleanFileName(p.name.empty() ? p.role : p.name),
                         writer->TemporaryPath(), [writer]() { return writer->Commit(); }});
    }
    auto lease = pool_.Acquire();
    if (!lease) return Refuse(lease.status());
    return spec_->finish(**lease, actor_, round_id_, agency_, kpi_, pending);
  }

  // ---- MultipartParser::Handler ----
  Status OnPartBegin(const PartHeaders& headers) override {
    current_ = nullptr;
    if (!IsValidUtf8(headers.name) || !IsValidUtf8(headers.filename)) {
      return Status::InvalidInput("ชื่อช่องหรือชื่อไฟล์ไม่ใช่ UTF-8 ที่ถูกต้อง",
                                  "a field or file name is not valid UTF-8");
    }
    if (!Contains(spec_->roles, headers.name)) {
      return Status::InvalidInput(
          "ไม่รู้จักช่อง \"" + headers.name + "\" (ใช้ได้: " + Joined(spec_->roles) + ")",
          "unknown field \"" + headers.name + "\" (known: " + Joined(spec_->roles) + ")");
    }
    if (!headers.has_filename) {
      return Status::InvalidInput("ส่วน \"" + headers.name + "\" ต้องเป็นไฟล์",
                                  "the \"" + headers.name + "\" part must be a file");
    }
    for (const Part& p : parts_) {
      if (p.role == headers.name) {
        return Status::InvalidInput("ส่งไฟล์ " + headers.name + " ได้ไฟล์เดียว",
                                    "one " + headers.name + " file only");
      }
    }
    auto writer = files_.Create();
    if (!writer) return writer.status();
    parts_.push_back({headers.name, headers.filename, std::move(*writer), 0});
    current_ = &parts_.back();
    return Status::Ok();
  }

  Status OnPartData(std::string_view bytes) override {
    if (!current_) return Status::Ok();
    current_->size += static_cast<int64_t>(bytes.size());
    if (current_->size > max_bytes_) {
      too_large_ = true;
      return TooLarge(max_bytes_);
    }
    return current_->writer->Write(bytes);
  }

  Status OnPartEnd() override {
    current_ = nullptr;
    return Status::Ok();
  }

 private:
  struct Part {
    std::string role;
    std::string name;
    std::unique_ptr<storage::FileWriter> writer;
    int64_t size = 0;
  };

  storage::DatabasePool& pool_;
  storage::FileStore& files_;
  std::shared_ptr<const DataUploadSpec> spec_;
  service::Actor actor_;
  int64_t round_id_;
  std::string agency_, kpi_;
  int64_t max_bytes_;
  MultipartParser parser_;
  std::deque<Part> parts_;  // a deque: current_ stays valid as parts are added
  Part* current_ = nullptr;
  bool too_large_ = false;
};

}  // namespace

UploadStarter MakeDataUpload(storage::DatabasePool& pool, storage::FileStore& files,
                             const Clock& clock, const UploadLimits& limits, DataUploadSpec spec) {
  auto shared = std::make_shared<const DataUploadSpec>(std::move(spec));
  return [&pool, &files, &clock, limits,
          shared](HttpRequest& request) -> std::variant<HttpResponse, std::unique_ptr<UploadSink>> {
    // Each file bounded: a body declaring more than all of them is refused before it is read.
    const std::string& length = request.Header("content-length");
    if (!length.empty()) {
      int64_t declared = 0;
      std::from_chars(length.data(), length.data() + length.size(), declared);
      if (declared > static_cast<int64_t>(shared->roles.size()) * limits.max_file_bytes + 64 * 1024)
        return Refuse(TooLarge(limits.max_file_bytes), 413);
    }
    // The address, then who asks, then the body's type: a malformed round id answers 404 and a
    // stranger 401/403 whatever they send, as on every other route.
    auto round_id = PathId(request, "id");
    if (!round_id) return Refuse(round_id.status());
    const std::string agency = request.params.at("agency");
    const std::string kpi = request.params.at("kpi");
    service::Actor actor;
    {
      auto lease = pool.Acquire();
      if (!lease) return Refuse(lease.status());
      auto who = Authenticate(request, **lease, clock);
      if (!who) return Refuse(who.status());
      actor = *who;
    }
    // Refused before a byte of the body is read; the service checks it again with the rest.
    if (!(actor.Is(service::Role::kReporter) && actor.OfAgency(agency))) {
      return Refuse(service::Denied(actor, shared->what_th + agency, shared->what_en + agency));
    }
    auto boundary = BoundaryFromContentType(request.Header("content-type"));
    if (!boundary) return Refuse(boundary.status(), 415);
    return std::unique_ptr<UploadSink>(new DataUploadSink(pool, files, shared, actor, *round_id,
                                                          agency, kpi, limits.max_file_bytes,
                                                          *boundary));
  };
}

Handler WithPathId(storage::DatabasePool& pool, const Clock& clock, IdWork work) {
  return [&pool, &clock, work = std::move(work)](HttpRequest& request) -> HttpResponse {
    auto lease = pool.Acquire();
    if (!lease) return ErrorResponse(lease.status());
    auto actor = Authenticate(request, **lease, clock);
    if (!actor) return ErrorResponse(actor.status());
    auto id = PathId(request, "id");
    if (!id) return ErrorResponse(id.status());
    return work(**lease, *actor, request, *id);
  };
}

json DataUploadJson(const service::DataUpload& u, bool unchanged) {
  json files = json::array();
  for (const service::DataFile& f : u.files) {
    files.push_back({{"role", f.role},
                     {"name", f.name},
                     {"media_type", f.media_type},
                     {"size", f.size},
                     {"sha256", f.sha256}});
  }
  return {{"id", u.id},
          {"round_id", u.round_id},
          {"agency", u.agency},
          {"kpi", u.kpi},
          {"uploaded_by", u.uploaded_by ? json(u.uploaded_by) : json(nullptr)},
          {"uploaded_at", u.uploaded_at},
          {"replaced_by", u.replaced_by ? json(*u.replaced_by) : json(nullptr)},
          {"current", !u.replaced_by},
          {"unchanged", unchanged},
          {"summary", json::parse(u.summary_json)},
          {"submission_id", u.submission_id ? json(*u.submission_id) : json(nullptr)},
          {"revision", u.revision ? json(u.revision) : json(nullptr)},
          {"files", std::move(files)}};
}

}  // namespace esar::web
