#pragma once

// The backends behind storage::Open; only database.cpp and tests name them.

#include <memory>
#include <string>

#include "storage/database.h"

namespace esar::storage {

// Opens (creating if need be) the SQLite file at `path`, or ":memory:".
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path);

// Connects to PostgreSQL at `url` (a libpq connection URI).
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url);

}  // namespace esar::storage
