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

// The parameter of a PostgreSQL URL that esar reads and libpq never sees:
// `esar_prepared_statements=off` sends every statement unnamed, as pgbouncer's transaction
// pooling needs (a statement prepared on one server connection is unknown to the next); `on`,
// the default, keeps the statements pages send again and again prepared on each connection.
inline constexpr std::string_view kPreparedStatementsParameter = "esar_prepared_statements";

// Connects to PostgreSQL at `url` (a libpq connection URI, with kPreparedStatementsParameter
// if need be). Fails with InvalidInput for a setting of that parameter other than on or off.
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url);

}  // namespace esar::storage
