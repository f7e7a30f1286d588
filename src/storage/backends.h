#pragma once

// The backends behind storage::Open; only database.cpp and tests name them.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/database.h"

namespace esar::storage {

// "INSERT INTO table (a, b) VALUES (?, ?)" for `columns`; with `rows` > 1, that many rows:
// "VALUES (?, ?), (?, ?)".
std::string InsertStatement(std::string_view table, const std::vector<std::string>& columns,
                            size_t rows = 1);

// Opens (creating if need be) the SQLite file at `path`, or ":memory:".
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path);

// Connects to PostgreSQL at `url` (a libpq connection URI).
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url);

}  // namespace esar::storage
