#pragma once

// The central office's announcements to a cycle (issue 13 §3): posted by admins for a fiscal
// year and kind of agency, with attached files (kept in the evidence file store, checked as
// evidence uploads are), shown on the home pages of that kind's agencies.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "service/actor.h"
#include "service/reporting.h"
#include "storage/database.h"

namespace esar::service {

struct AnnouncementFile {
  int64_t id = 0;
  int64_t announcement_id = 0;
  std::string name;
  std::string media_type;
  int64_t size = 0;
  std::string sha256;
  int64_t uploaded_by = 0;
  int64_t uploaded_at = 0;
};

struct AnnouncementInfo {
  int64_t id = 0;
  int fiscal_year = 0;  // Buddhist Era
  std::string agency_kind;
  std::string title;  // one line, at most 300 bytes
  std::string body;   // plain text, at most 16 KB
  int64_t posted_by = 0;
  int64_t posted_at = 0;
  std::vector<AnnouncementFile> files;  // oldest first
};

// Called inside the transaction that posts an announcement, so that what it writes (e-mail to
// those who want announcements, in the outbox) lands with it or not at all; a failure rolls the
// announcement back.
using AnnouncementListener =
    std::function<Status(storage::Database& db, const AnnouncementInfo& posted)>;

class Announcements {
 public:
  Announcements(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  static constexpr size_t kMaxTitleBytes = 300;
  static constexpr size_t kMaxBodyBytes = 16 * 1024;

  // Every post of this process is passed to `listener`; set once at start, before any thread
  // posts. Null (the default): nothing more is written.
  static void SetPostListener(AnnouncementListener listener);

  // Posts an announcement to agencies of `agency_kind` (a-z, 0-9, _ and -) for fiscal year
  // `fiscal_year` (Buddhist Era, 2400 - 2800); admins only. The title is one line of plain text
  // (1 - 300 bytes, trimmed), the body plain text (1 byte - 16 KB, trimmed). Audited
  // ("announcement.post"); the post listener runs in the same transaction.
  Result<AnnouncementInfo> Post(const Actor& actor, int fiscal_year,
                                const std::string& agency_kind, const std::string& title,
                                const std::string& body);

  // Records a file (already stored by its SHA-256, its type checked by the caller) as attached
  // to announcement `id`; admins only. Refused with kConflict, nothing recorded, when it would
  // take the announcement's files past `quota` (checked under the audit lock, so that parallel
  // uploads cannot pass it together). Audited ("announcement.attach").
  Result<AnnouncementFile> AddFile(const Actor& actor, int64_t id, const AnnouncementFile& file,
                                   const EvidenceQuota& quota = {});

  // kConflict, in Thai and English, when one more file of `size` bytes would take an
  // announcement holding `files` files of `bytes` bytes past `quota`; else Ok.
  static Status CheckQuota(const EvidenceQuota& quota, int64_t files, int64_t bytes,
                           int64_t size);

  // Changes the title and text of announcement `id` (checked as Post checks them); admins
  // only. Audited ("announcement.edit", before and after) unless nothing changed. Nobody is
  // told again. kNotFound for an unknown id.
  Result<AnnouncementInfo> Edit(const Actor& actor, int64_t id, const std::string& title,
                                const std::string& body);

  // Deletes announcement `id` and its files' records; admins only. Audited
  // ("announcement.delete") with its year, kind, title, text and files, so what was announced
  // stays in the log; the files' content stays in the file store (kept by SHA-256, which
  // evidence may share). kNotFound for an unknown id.
  Status Delete(const Actor& actor, int64_t id);

  // Removes attached file `file_id` from its announcement; admins only. Audited
  // ("announcement.detach", naming the file). kNotFound for an unknown file.
  Status RemoveFile(const Actor& actor, int64_t file_id);

  // Announcement `id` with its files: admins and evaluators, and the users of agencies of its
  // kind; Denied for the public; kNotFound for other users, as if it did not exist.
  Result<AnnouncementInfo> Get(const Actor& actor, int64_t id);

  // The newest `limit` (1 - 200) announcements the actor may see, newest first: agencies' users
  // those of their agency's kind; admins and evaluators all, or those of `agency_kind` and
  // `fiscal_year` when given (0 / "": any). Denied for the public.
  Result<std::vector<AnnouncementInfo>> List(const Actor& actor, int fiscal_year = 0,
                                             const std::string& agency_kind = "",
                                             int64_t limit = 50);

  // An attached file's record, for those who may see its announcement (as Get refuses others).
  Result<AnnouncementFile> File(const Actor& actor, int64_t file_id);

 private:
  // Whether `actor` may see announcements to `agency_kind` (reads the actor's agency's kind).
  Result<bool> MaySee(const Actor& actor, const std::string& agency_kind);
  Result<AnnouncementInfo> Load(int64_t id);

  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace esar::service
