#include "storage/result_rows.h"

namespace esar::storage {

namespace {

// The table holding result `result_id`'s rows of `table` on PostgreSQL: its partition for it.
std::string ResultRowsTable(std::string_view table, int64_t result_id) {
  return std::string(table) + "_" + std::to_string(result_id);
}

}  // namespace

std::string ResultRowsSource(const Database& db, std::string_view table, int64_t result_id) {
  return db.dialect() == Dialect::kPostgres ? ResultRowsTable(table, result_id)
                                            : std::string(table);
}

Result<ResultRowsLoad> ResultRowsLoad::Begin(Database& db, std::string_view table,
                                             int64_t result_id) {
  if (db.dialect() != Dialect::kPostgres)
    return ResultRowsLoad(db, std::string(table), result_id, std::string(table));
  std::string written = ResultRowsTable(table, result_id);
  // The check is the partition's bound, which ATTACH PARTITION then takes as proven instead of
  // reading every row again to prove it.
  Status created = db.Execute("CREATE TABLE " + written + " (LIKE " + std::string(table) +
                              " INCLUDING DEFAULTS INCLUDING CONSTRAINTS, CHECK (result_id = " +
                              std::to_string(result_id) + "))");
  if (!created.ok()) return created;
  return ResultRowsLoad(db, std::string(table), result_id, std::move(written));
}

Status ResultRowsLoad::Insert(const std::vector<std::string>& columns,
                              const std::function<bool(std::vector<Value>& row)>& next) {
  return db_->BulkInsert(written_, columns, next);
}

Status ResultRowsLoad::Insert(const std::vector<std::string>& columns,
                              const std::vector<std::vector<Value>>& rows) {
  return db_->BulkInsert(written_, columns, rows);
}

Status ResultRowsLoad::Finish(size_t rows) {
  if (db_->dialect() == Dialect::kPostgres) {
    Status attached = db_->Execute("ALTER TABLE " + table_ + " ATTACH PARTITION " + written_ +
                                   " FOR VALUES IN (" + std::to_string(result_id_) + ")");
    if (!attached.ok()) return attached;
  }
  db_->VacuumAfterBulkLoad(written_, rows);
  return Status::Ok();
}

Status PrepareResultRows(Database& db, std::string_view table, int64_t result_id) {
  if (db.dialect() != Dialect::kPostgres) return Status::Ok();
  return db.Execute("CREATE TABLE IF NOT EXISTS " + ResultRowsTable(table, result_id) +
                    " PARTITION OF " + std::string(table) + " FOR VALUES IN (" +
                    std::to_string(result_id) + ")");
}

}  // namespace esar::storage
