#pragma once

#include <string>
#include <vector>

#include "storage/database.h"

namespace esar::storage {

struct Migration {
  int version;
  const char* name;
  // The schema change, in the SQL both engines share, with {ID} for an auto-numbered primary key,
  // {BLOB} for bytes and {REAL} for a double; they are replaced for the dialect before running.
  const char* sql;
  // A change of data SQL cannot say (e.g. JSON documents into rows), run after `sql` in the same
  // transaction; its failure rolls the whole migration back. Null for most migrations.
  Status (*data)(Database& db) = nullptr;
  // SQL run after `data`, in the same transaction (e.g. dropping what `data` read); may be null.
  const char* after = nullptr;
};

// Every migration, oldest first. Never edit one that has shipped: add the next.
const std::vector<Migration>& AllMigrations();

// Brings `db` to the newest schema: applies, each in its own transaction and in order, every
// migration not yet recorded in schema_migrations. Safe to call at every start and from several
// processes at once (PostgreSQL takes an advisory lock; SQLite's write lock serializes). Fails
// if the database has a migration newer than this program knows (an older esar on a newer db).
Status Migrate(Database& db);

// Migrate, up to `version` only (tests build databases of an older schema with it).
Status MigrateTo(Database& db, int version);

// The newest version recorded in `db` (0 for a new database).
Result<int> SchemaVersion(Database& db);

// `sql` with {ID}, {BLOB}, {REAL} and {NULLS_FIRST} replaced for `dialect`.
std::string ForDialect(const std::string& sql, Dialect dialect);

}  // namespace esar::storage
