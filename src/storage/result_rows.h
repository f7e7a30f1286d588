#pragma once

// Where a result's rows are written: result_totals (one per agency) and result_kpis (one per
// agency x KPI and sub-KPI). A computation writes a result's rows all at once (8,000 and 216,000
// at every local government's scale) and nothing adds to them after. On PostgreSQL both tables
// are partitioned by result_id (migration 30), each result's rows a table of their own
// (`<table>_<result id>`): a computation fills it bare, and attaching it to its table then builds
// its indexes, each in one pass, and checks its foreign key in one query. In psql, 216,000 KPI rows
// took ~400 ms to copy into a table with its primary key, against ~190 ms into a bare one and
// ~75 ms for the key after; 8,000 totals took 190 ms to copy into result_totals, against ~60 ms
// into a bare table and ~55 ms to attach it. On SQLite each is one table, which the rows go
// straight into.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace esar::storage {

// The table a statement reads result `result_id`'s rows of `table` (result_totals or result_kpis)
// from: on PostgreSQL the result's partition, on SQLite `table` itself, which holds every
// result's rows (so the statement still says result_id = the result). `result_id` must be a
// result that holds rows (results.rows_from): each has its partitions, with rows or without
// (ResultRowsLoad::Begin, migration 30, restore). A statement over a partitioned table is planned
// again each time it runs, as its plan depends on which partition the value picks (~0.8 ms for a
// page of the public list, whose statements were otherwise planned once per connection); one
// that names the partition is planned for it alone, and kept.
std::string ResultRowsSource(const Database& db, std::string_view table, int64_t result_id);

// The bulk load of one result's rows of result_totals or result_kpis, inside the caller's
// Transaction on the database given to Begin (which outlives the load): nothing of it is seen
// before that transaction commits, and a rollback leaves nothing behind, the result's table
// included.
class ResultRowsLoad {
 public:
  // Begins loading the rows of result `result_id` into `table`, where it has none yet.
  // PostgreSQL: creates the result's table, bare, with a check that every row is the result's;
  // fails when that table is there already (the result's rows were written).
  static Result<ResultRowsLoad> Begin(Database& db, std::string_view table, int64_t result_id);

  // Inserts rows as Database::BulkInsert does (`columns` of the table, `next` filling each row).
  // Every row's result_id must be the result's: PostgreSQL refuses another.
  Status Insert(const std::vector<std::string>& columns,
                const std::function<bool(std::vector<Value>& row)>& next);
  // The same from rows held in memory.
  Status Insert(const std::vector<std::string>& columns,
                const std::vector<std::vector<Value>>& rows);

  // Ends the load after the last Insert: on PostgreSQL the result's table becomes its table's
  // partition for the result, with that table's indexes and foreign key. `rows`, how many were
  // inserted in all, decides whether it is vacuumed once the transaction commits
  // (Database::VacuumAfterBulkLoad).
  Status Finish(size_t rows);

 private:
  ResultRowsLoad(Database& db, std::string table, int64_t result_id, std::string written)
      : db_(&db), table_(std::move(table)), result_id_(result_id), written_(std::move(written)) {}

  Database* db_;
  std::string table_;  // result_totals or result_kpis
  int64_t result_id_;
  std::string written_;  // where Insert writes: the result's table, or table_ on SQLite
};

// Makes `table` (result_totals or result_kpis) ready to take rows of result `result_id` by plain
// INSERT statements, as a restore writes them: on PostgreSQL, the result's partition with its
// indexes, unless it is there already; nothing on SQLite.
Status PrepareResultRows(Database& db, std::string_view table, int64_t result_id);

}  // namespace esar::storage
