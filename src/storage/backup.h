#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>

#include "common/status.h"
#include "storage/database.h"
#include "storage/file_store.h"

namespace esar::storage {

// What seals a backup: an HMAC-SHA-256 key and its public id (esar's audit key, see
// service/audit_seal.h). With no key, a backup carries a plain SHA-256, which finds damage but
// not a change made on purpose (whoever changes the file can recompute it).
struct BackupKey {
  std::string key;
  std::string key_id;
};

// Where the audit chain stood when the backup was made (its head kept outside the database).
struct BackupHead {
  int64_t seq = 0;
  std::string hash;
};

// What a backup's header says.
struct BackupInfo {
  int schema_version = 0;
  std::string key_id;               // "" when the backup is not sealed with a key
  std::optional<BackupHead> head;   // none when the installation had no chain head
  int64_t created_at = 0;
};

// Writes everything durable in `db` and every evidence file of `files` to `out` as JSON lines,
// format "esar-backup/2": a header (schema version, every table with its columns as the schema
// has them, `head`, the key's id), one line per row and per file, and a last line with the
// number of lines before it and their checksum (an HMAC under `key`, or SHA-256 without one).
// Every table of the schema is written but sessions, failed logins and the migrations' own
// bookkeeping; a table this code does not know fails the backup (kInternal) rather than being
// left out. Each file is checked against its SHA-256 as it is read: a damaged or missing one
// fails the backup (kDataLoss) naming every such file and the evidence it belongs to; `out` then
// holds a partial backup that must be thrown away.
Status Backup(Database& db, FileStore& files, std::ostream& out, const BackupKey& key,
              const std::optional<BackupHead>& head);

struct RestoreOptions {
  // The key the backup must be sealed with; with none, the backup must not be sealed either
  // (a sealed backup needs its key; an unsealed one is refused where there is a key, as it
  // could have been changed on the way).
  BackupKey key;
  // Runs inside the restore's transaction once every row and file is in, before the commit:
  // a failure there rolls everything back. esar verifies the audit log here.
  std::function<Status(const BackupInfo&)> check;
};

// Restores a backup from `in` (which must be seekable: it is read twice) into `db`, which must
// be migrated to the backup's schema version and hold no agencies or users yet, and its files
// into `files`. The whole file is read and its checksum, its structure and every file's SHA-256
// are checked before anything is written: a damaged or altered backup is refused (kDataLoss,
// naming the line where it can) with nothing restored. Then all rows land in one transaction
// with `options.check`: on any error nothing is restored, and the files written are removed.
// `info` (optional) receives the header.
Status Restore(Database& db, FileStore& files, std::istream& in, const RestoreOptions& options,
               BackupInfo* info = nullptr);

}  // namespace esar::storage
