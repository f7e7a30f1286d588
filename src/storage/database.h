#pragma once

// The one interface in front of every SQL database esar uses (SQLite by default, PostgreSQL for
// scale). Statements are written once, with `?` placeholders, in the SQL both engines share;
// the few differences live in the migrations (see migrations.h).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace esar::storage {

// Bytes stored as a BLOB (SQLite) or BYTEA (PostgreSQL).
struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

// A parameter or a column value: NULL, an integer, a real, text, or bytes.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob>;

// One row of a result, columns in the order of the SELECT or RETURNING list.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  const Value& operator[](size_t i) const { return values_.at(i); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }
  // The column as an integer (0 for NULL; a real is truncated; text is parsed).
  int64_t Int(size_t i) const;
  double Real(size_t i) const;
  // The column as text ("" for NULL; numbers printed; bytes as they are).
  std::string Text(size_t i) const;

 private:
  std::vector<Value> values_;
};

using Rows = std::vector<Row>;

// A row as ScanText gives it: each column's text where the engine holds it, no Value made of it.
// Lives for the one call of the callback it is given to.
class TextRow {
 public:
  size_t size() const { return fields_.size(); }
  bool IsNull(size_t i) const { return fields_.at(i).data() == nullptr; }
  // The column's text ("" for NULL), with a NUL after it (strtod may read up to that). A text
  // column's value as stored, an integer's digits; other types as the engine writes them.
  std::string_view Text(size_t i) const {
    const std::string_view field = fields_.at(i);
    return field.data() ? field : std::string_view("");
  }
  // The column as an integer (0 for NULL or text that does not begin with one).
  int64_t Int(size_t i) const;

  // The engine's: the row's fields, a default-constructed view for NULL.
  std::vector<std::string_view>& fields() { return fields_; }

 private:
  std::vector<std::string_view> fields_;
};

enum class Dialect { kSqlite, kPostgres };

// One connection. Not thread-safe: give each thread its own (Open again).
class Database {
 public:
  virtual ~Database() = default;

  // Runs one statement with `?` placeholders bound to `params` and returns its rows (empty for
  // statements that return none). Failures — a constraint violated, the server gone — come back
  // as a Status whose English message carries the engine's own words.
  virtual Result<Rows> Query(std::string_view sql, const std::vector<Value>& params = {}) = 0;

  // Query, giving the rows to `each` one at a time as they are read rather than holding them all:
  // for reads of hundreds of thousands of rows (every observation of a cycle), whose Rows would
  // take more memory than what the caller makes of them. The Row passed lives only for the call,
  // and is the callee's to change: it may move the values out (no copy of what it keeps).
  // Returns the first failure `each` returns (which ends the read), or fails like Query.
  // PostgreSQL reads through a cursor, a batch of rows at a time, inside the transaction in
  // progress or else in a ReadSnapshot of its own.
  virtual Status QueryEach(std::string_view sql, const std::vector<Value>& params,
                           const std::function<Status(Row&)>& each);

  // QueryEach for the largest reads (every observation of a cycle, or of a slice of its
  // agencies), whose rows are read in one pass: `each` must not use this database until the read
  // has ended. The rows and their Values are those Query gives for the same `sql` and `params`.
  // PostgreSQL streams them with COPY (...) TO STDOUT, the server sending rows while `each` takes
  // them (no cursor, no fetch after fetch), inside the transaction in progress or else a
  // ReadSnapshot of its own; COPY takes no parameters, so each `?` is given its value as a quoted
  // literal, which PostgreSQL types from its place as it would the parameter. SQLite steps its
  // statement as QueryEach does. A failure of `each` ends the read and is returned; the
  // database's own fail like Query.
  virtual Status ScanEach(std::string_view sql, const std::vector<Value>& params,
                          const std::function<Status(Row&)>& each) {
    return QueryEach(sql, params, each);
  }

  // ScanEach for reads (a SELECT) whose rows the caller turns into objects of its own at once
  // (every value a slice of agencies is scored from): each row's columns as text (TextRow), no
  // Value made of them, which took as long on PostgreSQL as the rest of reading them (issue 9). The
  // same statement, parameters, transaction, rows and failures as ScanEach; `each` must not use
  // this database until the read has ended.
  virtual Status ScanText(std::string_view sql, const std::vector<Value>& params,
                          const std::function<Status(const TextRow&)>& each);

  // Query, for statements whose rows do not matter.
  Status Execute(std::string_view sql, const std::vector<Value>& params = {});

  // Runs `work` in one transaction: committed when it returns Ok, rolled back otherwise (and when
  // it throws, after which the exception goes on). On SQLite the transaction takes the write
  // lock at once (BEGIN IMMEDIATE), so concurrent writers queue instead of failing midway.
  Status Transaction(const std::function<Status()>& work);

  // Runs `work`, which only reads, as of one moment while other connections (other threads or
  // other esar processes) write: all of what they had committed when its first statement ran,
  // nothing they commit after. PostgreSQL: a REPEATABLE READ, READ ONLY transaction; SQLite: a
  // deferred transaction (in WAL mode a reader has its snapshot and never blocks the writer).
  // Inside a transaction already, `work` simply runs in it. Returns what `work` returns, or the
  // failure to begin or end the snapshot.
  Status ReadSnapshot(const std::function<Status()>& work);

  // Runs `done` once the transaction in progress commits, or at once when none is open (the
  // statements before it have committed already); dropped when the transaction rolls back. For
  // effects outside the database that must follow what it holds, never precede it (the audit
  // chain's head kept in a file).
  void AfterCommit(std::function<void()> done);

  // Inserts rows into `table` (its `columns`, in that order) as fast as the engine allows: SQLite
  // binds one prepared statement again for each row; PostgreSQL streams them with COPY FROM STDIN
  // (binary format where every column's type allows, else text; no prepared statement is left
  // behind, so it works through pgbouncer's transaction pooling). A value of another kind than
  // its column's is turned into the column's type as the text format would read it (42 into a
  // TEXT column is "42"); one the type cannot hold fails the insert on PostgreSQL. `next` fills `row` (one value per column, cleared before each call)
  // and returns false when there are no more. Inside the caller's transaction if one is open,
  // else in one of its own: all rows are inserted, or none. Fails like Query (a constraint
  // violated, a column that does not exist); a row with the wrong number of values is kInternal.
  Status BulkInsert(std::string_view table, const std::vector<std::string>& columns,
                    const std::function<bool(std::vector<Value>& row)>& next);
  // The same from rows held in memory.
  Status BulkInsert(std::string_view table, const std::vector<std::string>& columns,
                    const std::vector<std::vector<Value>>& rows);

  // True when the database answers a trivial query.
  bool Ping();

  // After `rows` rows were written to `table` by one import or computation: when they are many,
  // PostgreSQL's VACUUM (ANALYZE) runs over the table, as its manual advises after a bulk load,
  // rather than autovacuum a minute or more later:
  // - Its planner statistics. Without them the planner took the freshly loaded observations for
  //   a small table and read 500 agencies' values by scanning all of them (32 ms instead of 8 per
  //   slice, 0.4 s of a round's computation at 8,000 agencies), and joined a page's 50 results to
  //   the agencies by scanning all 8,000 (5 ms instead of 0.6).
  // - Its visibility map, which lets the lists' index-only scans skip the table; and nothing
  //   left for autovacuum, whose pass over a round's 216,000 KPI rows (1.5 s) otherwise came
  //   while the pages were read (bench/scale's worst page went from ~15 to 32 ms at p99).
  // SQLite's planner uses the indexes for those lookups without statistics: nothing is done
  // there. Runs once the transaction in progress commits (dropped if it rolls back), or at once
  // outside one: on this connection, or on another when DeferVacuums was given one, so that
  // the caller does not wait for it. Best effort: should it fail, what was written stands and
  // autovacuum comes later.
  void VacuumAfterBulkLoad(std::string_view table, size_t rows);

  // Where VacuumAfterBulkLoad sends the tables to vacuum instead of vacuuming them here
  // (DatabasePool: a thread of its own, on a connection of its own). `vacuum_later` takes the
  // table's name and must not block.
  void DeferVacuums(std::function<void(std::string table)> vacuum_later) {
    vacuum_later_ = std::move(vacuum_later);
  }

  virtual Dialect dialect() const = 0;

  // Runs several statements separated by ";" with no parameters (migrations).
  virtual Status ExecuteScript(std::string_view sql) = 0;

 protected:
  // True between the start and the end of a Transaction or ReadSnapshot.
  bool InTransaction() const { return in_transaction_; }
  virtual Status Begin() = 0;
  // End the transaction Begin() started; called exactly once after it succeeded.
  virtual Status Commit() { return Execute("COMMIT"); }
  virtual Status Rollback() { return Execute("ROLLBACK"); }
  // BulkInsert inside a transaction.
  virtual Status BulkInsertRows(std::string_view table, const std::vector<std::string>& columns,
                                const std::function<bool(std::vector<Value>& row)>& next) = 0;

 private:
  bool in_transaction_ = false;
  std::vector<std::function<void()>> after_commit_;  // for the transaction in progress
  std::function<void(std::string table)> vacuum_later_;  // empty: vacuumed here
};

// Opens `url`: "postgresql://user@host:port/db" (or "postgres://"), "sqlite:PATH", or a plain
// path, taken as an SQLite file (created if missing; ":memory:" for a private in-memory one).
// SQLite is opened with WAL, foreign keys on and a 15 s busy timeout; the connections of one
// process to one SQLite file take turns to write (one writer at a time, waiting up to the busy
// timeout), so writers queue instead of meeting "database is locked". PostgreSQL with UTF-8.
Result<std::unique_ptr<Database>> Open(const std::string& url);

// `sql` with every `?` outside quotes replaced by $1, $2, ... (PostgreSQL's placeholders).
std::string NumberPlaceholders(std::string_view sql);

// `sql` with the n-th `?` outside quotes (from 0) replaced by what `put` appends for n.
std::string ReplacePlaceholders(std::string_view sql,
                                const std::function<void(size_t n, std::string& out)>& put);

// "?, ?, ?": `n` placeholders for an `IN (...)` list of `n` values (n > 0).
std::string Placeholders(size_t n);

// A LIKE pattern, for `LOWER(column) LIKE ? ESCAPE '\'`, that matches text containing `needle`:
// its Latin letters lowercased (LOWER folds them on both engines; Thai has no case) and LIKE's
// wildcards (% and _) and the escape taken literally.
std::string ContainsPattern(std::string_view needle);

}  // namespace esar::storage
