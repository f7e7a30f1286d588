#include "service/announcements.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "formats/qa_json.h"
#include "service/audit.h"

namespace esar::service {
namespace {

using nlohmann::json;

AnnouncementListener& Listener() {
  static AnnouncementListener listener;
  return listener;
}

constexpr const char* kSelect =
    "SELECT id, fiscal_year, agency_kind, title, body, posted_by, posted_at FROM announcements ";
constexpr const char* kSelectFile =
    "SELECT id, announcement_id, name, media_type, size, sha256, uploaded_by, uploaded_at FROM "
    "announcement_files ";

AnnouncementInfo FromRow(const storage::Row& r) {
  AnnouncementInfo a;
  a.id = r.Int(0);
  a.fiscal_year = static_cast<int>(r.Int(1));
  a.agency_kind = r.Text(2);
  a.title = r.Text(3);
  a.body = r.Text(4);
  a.posted_by = r.Int(5);
  a.posted_at = r.Int(6);
  return a;
}

AnnouncementFile FileFromRow(const storage::Row& r) {
  return {r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Int(4), r.Text(5), r.Int(6), r.Int(7)};
}

Status NoSuchAnnouncement() { return Status::NotFound("ไม่มีประกาศนี้", "no such announcement"); }

// The title and text as stored (trimmed), or why they cannot be.
Status CleanText(const std::string& title, const std::string& body, std::string* clean_title,
                 std::string* clean_body) {
  *clean_title = TrimSpaces(title);
  if (!IsPlainText(*clean_title) || clean_title->empty() ||
      clean_title->size() > Announcements::kMaxTitleBytes ||
      clean_title->find_first_of("\r\n\t") != std::string::npos) {
    return Status::InvalidInput("หัวเรื่องต้องเป็นข้อความหนึ่งบรรทัด 1 - 300 ไบต์",
                                "the title must be one line of 1 - 300 bytes of text");
  }
  *clean_body = TrimSpaces(body);
  if (!IsPlainText(*clean_body) || clean_body->empty() ||
      clean_body->size() > Announcements::kMaxBodyBytes) {
    return Status::InvalidInput("เนื้อหาต้องเป็นข้อความ 1 ไบต์ - 16 KB ที่ไม่มีอักขระควบคุม",
                                "the text must be 1 byte - 16 KB without control characters");
  }
  return Status::Ok();
}

// What the audit log keeps of an announcement's files.
json FilesJson(const std::vector<AnnouncementFile>& files) {
  json out = json::array();
  for (const AnnouncementFile& f : files) {
    out.push_back({{"file", f.id}, {"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
  }
  return out;
}

}  // namespace

void Announcements::SetPostListener(AnnouncementListener listener) {
  Listener() = std::move(listener);
}

Status Announcements::CheckQuota(const EvidenceQuota& quota, int64_t files, int64_t bytes,
                                 int64_t size) {
  if (files + 1 > quota.max_files) {
    return Status::Conflict(
        "ประกาศนี้มีไฟล์แนบครบ " + std::to_string(quota.max_files) + " ไฟล์แล้ว ซึ่งเป็นจำนวนสูงสุด",
        "this announcement already has " + std::to_string(files) + " files, the most allowed is " +
            std::to_string(quota.max_files));
  }
  if (size > quota.max_bytes - bytes) {
    auto mb = [](int64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20) + " MB"; };
    return Status::Conflict("ไฟล์แนบของประกาศรวมกันได้ไม่เกิน " + mb(quota.max_bytes) + " (ใช้ไปแล้ว " +
                                mb(bytes) + " ไฟล์นี้ " + mb(size) + ")",
                            "an announcement's files may total at most " + mb(quota.max_bytes) +
                                " (" + mb(bytes) + " used, this file " + mb(size) + ")");
  }
  return Status::Ok();
}

Result<AnnouncementInfo> Announcements::Load(int64_t id) {
  auto rows = db_.Query(std::string(kSelect) + "WHERE id = ?", {id});
  if (!rows) return rows.status();
  if (rows->empty()) return NoSuchAnnouncement();
  AnnouncementInfo a = FromRow((*rows)[0]);
  auto files = db_.Query(std::string(kSelectFile) + "WHERE announcement_id = ? ORDER BY id", {id});
  if (!files) return files.status();
  for (const storage::Row& f : *files) a.files.push_back(FileFromRow(f));
  return a;
}

Result<bool> Announcements::MaySee(const Actor& actor, const std::string& agency_kind) {
  if (actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator)) return true;
  if (!(actor.Is(Role::kReporter) || actor.Is(Role::kApprover))) return false;
  auto rows = db_.Query("SELECT kind FROM agencies WHERE code = ?", {actor.agency});
  if (!rows) return rows.status();
  return !rows->empty() && (*rows)[0].Text(0) == agency_kind;
}

Result<AnnouncementInfo> Announcements::Post(const Actor& actor, int fiscal_year,
                                             const std::string& agency_kind,
                                             const std::string& title, const std::string& body) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ลงประกาศ", "post announcements");
  if (fiscal_year < 2400 || fiscal_year > 2800) {
    return Status::InvalidInput("ปีงบประมาณต้องเป็นปี พ.ศ. (2400 - 2800)",
                                "the fiscal year must be a Buddhist Era year (2400 - 2800)");
  }
  if (!formats::IsValidAgencyKind(agency_kind)) {
    return Status::InvalidInput("ประเภทหน่วยงานต้องเป็น a-z, 0-9, _ หรือ - (1 - 64 ตัว)",
                                "the kind of agency must be 1 - 64 of a-z, 0-9, _ and -");
  }
  std::string clean_title, clean_body;
  Status text = CleanText(title, body, &clean_title, &clean_body);
  if (!text.ok()) return text;
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    auto rows = db_.Query(
        "INSERT INTO announcements (fiscal_year, agency_kind, title, body, posted_by, posted_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        {int64_t{fiscal_year}, agency_kind, clean_title, clean_body, UserRef(actor), now});
    if (!rows) return rows.status();
    id = (*rows)[0].Int(0);
    Status logged = AuditLog(db_).Append(
        actor, now, "announcement.post", "announcement/" + std::to_string(id), "{}",
        json{{"fiscal_year", fiscal_year}, {"agency_kind", agency_kind}, {"title", clean_title}}
            .dump());
    if (!logged.ok() || !Listener()) return logged;
    auto posted = Load(id);
    if (!posted) return posted.status();
    return Listener()(db_, *posted);
  });
  if (!done.ok()) return done;
  return Load(id);
}

Result<AnnouncementFile> Announcements::AddFile(const Actor& actor, int64_t id,
                                                const AnnouncementFile& file,
                                                const EvidenceQuota& quota) {
  if (!actor.Is(Role::kAdmin))
    return Denied(actor, "แนบไฟล์กับประกาศ", "attach files to announcements");
  const int64_t now = clock_.NowMs();
  int64_t file_id = 0;
  Status done = db_.Transaction([&]() -> Status {
    AuditLog audit(db_);
    Status locked = audit.LockForAppend();
    if (!locked.ok()) return locked;
    auto exists = db_.Query("SELECT 1 FROM announcements WHERE id = ?", {id});
    if (!exists) return exists.status();
    if (exists->empty()) return NoSuchAnnouncement();
    auto used = db_.Query(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM announcement_files WHERE announcement_id = ?",
        {id});
    if (!used) return used.status();
    Status room = CheckQuota(quota, (*used)[0].Int(0), (*used)[0].Int(1), file.size);
    if (!room.ok()) return room;
    auto rows = db_.Query(
        "INSERT INTO announcement_files (announcement_id, name, media_type, size, sha256, "
        "uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {id, file.name, file.media_type, file.size, file.sha256, UserRef(actor), now});
    if (!rows) return rows.status();
    file_id = (*rows)[0].Int(0);
    return audit.Append(
        actor, now, "announcement.attach", "announcement/" + std::to_string(id), "{}",
        json{{"file", file_id}, {"name", file.name}, {"size", file.size}, {"sha256", file.sha256}}
            .dump());
  });
  if (!done.ok()) return done;
  auto rows = db_.Query(std::string(kSelectFile) + "WHERE id = ?", {file_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::Internal("an attached file vanished");
  return FileFromRow((*rows)[0]);
}

Result<AnnouncementInfo> Announcements::Edit(const Actor& actor, int64_t id,
                                             const std::string& title, const std::string& body) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "แก้ไขประกาศ", "edit announcements");
  std::string clean_title, clean_body;
  Status text = CleanText(title, body, &clean_title, &clean_body);
  if (!text.ok()) return text;
  const int64_t now = clock_.NowMs();
  Status done = db_.Transaction([&]() -> Status {
    AuditLog audit(db_);
    Status locked = audit.LockForAppend();
    if (!locked.ok()) return locked;
    auto before = Load(id);
    if (!before) return before.status();
    if (before->title == clean_title && before->body == clean_body) return Status::Ok();
    Status s = db_.Execute("UPDATE announcements SET title = ?, body = ? WHERE id = ?",
                           {clean_title, clean_body, id});
    if (!s.ok()) return s;
    return audit.Append(actor, now, "announcement.edit", "announcement/" + std::to_string(id),
                        json{{"title", before->title}, {"body", before->body}}.dump(),
                        json{{"title", clean_title}, {"body", clean_body}}.dump());
  });
  if (!done.ok()) return done;
  return Load(id);
}

Status Announcements::Delete(const Actor& actor, int64_t id) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ลบประกาศ", "delete announcements");
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    // Under the audit lock, as AddFile checks the announcement: a file cannot be attached to
    // an announcement being deleted.
    AuditLog audit(db_);
    Status locked = audit.LockForAppend();
    if (!locked.ok()) return locked;
    auto before = Load(id);
    if (!before) return before.status();
    Status s = db_.Execute("DELETE FROM announcement_files WHERE announcement_id = ?", {id});
    if (s.ok()) s = db_.Execute("DELETE FROM announcements WHERE id = ?", {id});
    if (!s.ok()) return s;
    // What was said stays in the log; the files stay in the file store (kept by content, which
    // evidence may share).
    return audit.Append(actor, now, "announcement.delete", "announcement/" + std::to_string(id),
                        json{{"fiscal_year", before->fiscal_year},
                             {"agency_kind", before->agency_kind},
                             {"title", before->title},
                             {"body", before->body},
                             {"files", FilesJson(before->files)}}
                            .dump(),
                        "{}");
  });
}

Status Announcements::RemoveFile(const Actor& actor, int64_t file_id) {
  if (!actor.Is(Role::kAdmin))
    return Denied(actor, "ลบไฟล์แนบของประกาศ", "remove announcement files");
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    AuditLog audit(db_);
    Status locked = audit.LockForAppend();
    if (!locked.ok()) return locked;
    auto rows = db_.Query(std::string(kSelectFile) + "WHERE id = ?", {file_id});
    if (!rows) return rows.status();
    if (rows->empty()) return Status::NotFound("ไม่มีไฟล์นี้", "no such file");
    const AnnouncementFile file = FileFromRow((*rows)[0]);
    Status s = db_.Execute("DELETE FROM announcement_files WHERE id = ?", {file_id});
    if (!s.ok()) return s;
    return audit.Append(actor, now, "announcement.detach",
                        "announcement/" + std::to_string(file.announcement_id),
                        FilesJson({file})[0].dump(), "{}");
  });
}

Result<AnnouncementInfo> Announcements::Get(const Actor& actor, int64_t id) {
  if (actor.Is(Role::kPublic)) return Denied(actor, "ดูประกาศ", "see announcements");
  auto a = Load(id);
  if (!a) return a;
  auto may = MaySee(actor, a->agency_kind);
  if (!may) return may.status();
  if (!*may) return NoSuchAnnouncement();
  return a;
}

Result<std::vector<AnnouncementInfo>> Announcements::List(const Actor& actor, int fiscal_year,
                                                          const std::string& agency_kind,
                                                          int64_t limit) {
  std::string where = "WHERE 1 = 1";
  std::vector<storage::Value> params;
  if (actor.Is(Role::kReporter) || actor.Is(Role::kApprover)) {
    // An agency sees its own kind's, whatever it asks for.
    where += " AND agency_kind = (SELECT kind FROM agencies WHERE code = ?)";
    params.push_back(actor.agency);
  } else if (!(actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator))) {
    return Denied(actor, "ดูประกาศ", "see announcements");
  } else if (!agency_kind.empty()) {
    where += " AND agency_kind = ?";
    params.push_back(agency_kind);
  }
  if (fiscal_year) {
    where += " AND fiscal_year = ?";
    params.push_back(int64_t{fiscal_year});
  }
  params.push_back(std::clamp<int64_t>(limit, 1, 200));
  auto rows =
      db_.Query(std::string(kSelect) + where + " ORDER BY posted_at DESC, id DESC LIMIT ?", params);
  if (!rows) return rows.status();
  std::vector<AnnouncementInfo> out;
  for (const storage::Row& r : *rows) out.push_back(FromRow(r));
  if (out.empty()) return out;
  // The files of the whole page in one query, not one per announcement.
  std::vector<storage::Value> id_params;
  for (const AnnouncementInfo& a : out) id_params.push_back(a.id);
  const std::string ids = storage::Placeholders(id_params.size());
  auto files = db_.Query(
      std::string(kSelectFile) + "WHERE announcement_id IN (" + ids + ") ORDER BY id", id_params);
  if (!files) return files.status();
  for (const storage::Row& f : *files) {
    AnnouncementFile file = FileFromRow(f);
    for (AnnouncementInfo& a : out) {
      if (a.id == file.announcement_id) a.files.push_back(file);
    }
  }
  return out;
}

Result<AnnouncementFile> Announcements::File(const Actor& actor, int64_t file_id) {
  if (actor.Is(Role::kPublic)) return Denied(actor, "ดูประกาศ", "see announcements");
  auto rows = db_.Query(
      "SELECT f.id, f.announcement_id, f.name, f.media_type, f.size, f.sha256, f.uploaded_by, "
      "f.uploaded_at, a.agency_kind FROM announcement_files f JOIN announcements a ON a.id = "
      "f.announcement_id WHERE f.id = ?",
      {file_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีไฟล์นี้", "no such file");
  auto may = MaySee(actor, (*rows)[0].Text(8));
  if (!may) return may.status();
  if (!*may) return Status::NotFound("ไม่มีไฟล์นี้", "no such file");
  return FileFromRow((*rows)[0]);
}

}  // namespace esar::service
