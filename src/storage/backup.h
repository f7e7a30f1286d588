#pragma once

#include <istream>
#include <ostream>

#include "common/status.h"
#include "storage/database.h"
#include "storage/file_store.h"

namespace esar::storage {

// Writes everything durable in `db` (every table but sessions and failed logins) and every
// evidence file of `files` to `out` as JSON lines, format "esar-backup/1": a header with the
// schema version, then one line per row and per file. The same format serves both backends, so
// a backup of SQLite restores into PostgreSQL and back.
Status Backup(Database& db, FileStore& files, std::ostream& out);

// Restores a backup into `db`, which must be migrated to the backup's schema version and hold
// no agencies or users yet, and its files into `files` (each checked against its SHA-256). All
// rows land in one transaction: on any error nothing is restored.
Status Restore(Database& db, FileStore& files, std::istream& in);

}  // namespace esar::storage
