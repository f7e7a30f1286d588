#include "tests/support/table_rows.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "storage/database.h"

namespace esar::testing {
namespace {

std::vector<std::string> Tables(storage::Database& db) {
  auto rows = db.dialect() == storage::Dialect::kSqlite
                  ? db.Query(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite_%'")
                  : db.Query(
                        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                        "c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN "
                        "('r', 'p') AND NOT c.relispartition");  // a partition is its table's
  std::vector<std::string> out;
  if (!rows) {
    ADD_FAILURE() << rows.status().ToString(false);
    return out;
  }
  for (const storage::Row& r : *rows) out.push_back(r.Text(0));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> SchemaTables(const std::string& url) {
  auto db = storage::Open(url);
  if (!db) {
    ADD_FAILURE() << db.status().ToString(false);
    return {};
  }
  return Tables(**db);
}

std::map<std::string, std::vector<std::string>> AllRows(const std::string& url) {
  std::map<std::string, std::vector<std::string>> out;
  auto db = storage::Open(url);
  if (!db) {
    ADD_FAILURE() << db.status().ToString(false);
    return out;
  }
  for (const std::string& table : Tables(**db)) {
    auto rows = (*db)->Query("SELECT * FROM " + table);
    if (!rows) {
      ADD_FAILURE() << table << ": " << rows.status().ToString(false);
      continue;
    }
    std::vector<std::string>& lines = out[table];
    for (const storage::Row& r : *rows) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        line += i ? " | " : "";
        line += r.IsNull(i) ? "\\N" : r.Text(i);
      }
      lines.push_back(std::move(line));
    }
    std::sort(lines.begin(), lines.end());
  }
  return out;
}

int64_t RowsInAllTables(const std::string& url) {
  auto db = storage::Open(url);
  if (!db) return 0;
  int64_t total = 0;
  for (const std::string& table : Tables(**db)) {
    if (table == "schema_migrations") continue;
    auto rows = (*db)->Query("SELECT COUNT(*) FROM " + table);
    if (rows) total += (*rows)[0].Int(0);
  }
  return total;
}

}  // namespace esar::testing
