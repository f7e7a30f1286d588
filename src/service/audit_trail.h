#pragma once

// The audit log as an admin reads it in the browser (issue 12 §6): filtered by agency, user,
// kind of change and time, newest first, a page at a time, each entry told in words (who, when,
// what, and each value before → after) in Thai and English.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/text.h"
#include "service/actor.h"
#include "storage/database.h"

namespace esar::service {

// A kind of change the filter offers: its name in the query and the action prefixes it covers.
struct AuditKind {
  const char* name;  // "round", "report", ...
  std::vector<std::string> prefixes;  // "submission", "evidence", ... (action = P or P.*)
  LocalizedText label;
};

// Every kind, in the order the filter lists them.
const std::vector<AuditKind>& AuditKinds();

// Which entries; empty strings and zero times match everything.
struct AuditQuery {
  std::string agency;    // an agency code: changes to its reports, users, uploads, appeals,
                         // its extensions and the directory imports that named it
  std::string username;  // who made the change; "system" also matches the command line's
  std::string kind;      // an AuditKind's name
  int64_t from_ms = 0;   // at >= from_ms
  int64_t to_ms = 0;     // at < to_ms (0: no end)
  int64_t before_seq = 0;  // only entries older than this one (keyset paging; 0: the newest)
  int64_t limit = 50;      // 1–200
};

// One value that changed, in words.
struct AuditChange {
  LocalizedText field;   // "กำหนดส่ง" / "deadline"
  LocalizedText before;  // "" when the entry records no value before
  LocalizedText after;   // "" when the value was removed
};

struct AuditEntry {
  int64_t seq = 0;
  int64_t at = 0;
  std::string username;      // "" for the system
  std::string display_name;  // "" for the system
  std::string action;        // "round.extend.change"
  std::string entity;        // "round/3"
  LocalizedText what;        // "เปลี่ยนวันขยายกำหนดส่ง: รอบ 12 เดือน ปีงบประมาณ พ.ศ. 2567 (กรม)"
  std::vector<AuditChange> changes;  // in the order the entry recorded its values
};

struct AuditPage {
  std::vector<AuditEntry> items;
  int64_t next_before = 0;  // the before_seq of the next (older) page; 0 when there is none
};

// The entries matching `query`, newest first, a page of at most query.limit read in SQL (keyset
// on the log's sequence, so a deep page costs what the first does); admins only
// (kPermissionDenied otherwise). kInvalidInput, in Thai and English, for a kind not in
// AuditKinds, an agency code or username over 64 characters or with control characters, a time
// range that ends before it starts, or a limit outside 1–200. Errors are otherwise the
// database's.
Result<AuditPage> ReadAuditTrail(storage::Database& db, const Actor& actor,
                                 const AuditQuery& query);

// An entry's action in words ("เปิดรอบการรายงาน" / "opened a round"); the action itself for an
// action this list does not know.
LocalizedText AuditActionWords(const std::string& action);

// The values of `before_json` and `after_json` (objects as esar records them) that differ, each
// with its field and values in words: times as Buddhist Era dates in Thai, states as the pages
// name them, nothing as "ไม่มี" / "none". Keys only one side has are told too. Unparseable JSON is told as
// its text.
std::vector<AuditChange> AuditChanges(const std::string& before_json,
                                      const std::string& after_json);

}  // namespace esar::service
