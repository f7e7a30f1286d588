#pragma once

// Every table of a database as the schema lists it, with every row: what a backup and restore
// must carry across, compared without knowing the tables in advance (so that a table added
// later cannot be forgotten).

#include <map>
#include <string>
#include <vector>

namespace esar::testing {

// The tables of the database at `url` (SQLite's sqlite_master or PostgreSQL's current schema).
std::vector<std::string> SchemaTables(const std::string& url);

// Each table's rows, every column as text (NULL shown as "\\N"), sorted; fails the test when
// the database cannot be read.
std::map<std::string, std::vector<std::string>> AllRows(const std::string& url);

// How many rows all tables but schema_migrations hold together (0 when none exist yet).
int64_t RowsInAllTables(const std::string& url);

}  // namespace esar::testing
