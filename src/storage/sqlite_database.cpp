// The SQLite backend: the embedded default.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "storage/backends.h"

namespace esar::storage {
namespace {

constexpr int kBusyTimeoutMs = 15'000;
// Rows of one INSERT statement of BulkInsert (fewer when the table is wide).
constexpr size_t kRowsPerInsert = 64;

// True for a private in-memory database: no file, so nothing to share with other connections.
bool InMemory(const std::string& path) { return path == ":memory:" || path.empty(); }

// The one T of the file at `path` that the process's connections to it share while any lives,
// made from `path` by the first of them.
template <typename T>
std::shared_ptr<T> SharedByFile(const std::string& path) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<T>> registry;  // by registry_mutex
  std::lock_guard<std::mutex> lock(registry_mutex);
  std::shared_ptr<T> found = registry[path].lock();
  if (!found) {
    found = std::make_shared<T>(path);
    registry[path] = found;
  }
  return found;
}

// SQLite lets one connection write at a time; a connection that finds the file locked sleeps and
// retries in its busy handler, and under a surge of writers some of them run out of time and
// fail with "database is locked". Within one process the writers therefore queue on a mutex per
// file (fair enough, and woken at once when the writer before them finishes), so the busy handler
// is left for other processes (an import from the command line while the server runs).
struct WriterLock {
  explicit WriterLock(const std::string&) {}
  std::timed_mutex mutex;
};
std::shared_ptr<std::timed_mutex> WriterLockFor(const std::string& path) {
  if (InMemory(path)) return std::make_shared<std::timed_mutex>();
  const std::shared_ptr<WriterLock> lock = SharedByFile<WriterLock>(path);
  return std::shared_ptr<std::timed_mutex>(lock, &lock->mutex);  // keeps `lock` alive
}

// The write-ahead log's pages after which it is copied into the database file: SQLite's own
// default for its automatic checkpoints.
constexpr int kCheckpointPages = 1000;

// Copies one file's write-ahead log into the database (a passive checkpoint) on a thread and
// connection of its own, when a commit leaves the log at kCheckpointPages or more. SQLite's
// automatic checkpoint does it in the committing connection, after the commit and before the
// statement returns: a request that stored a round's result (~50 MB of log at 8,000 agencies)
// waited ~200 ms more for it (issue 9). A passive checkpoint neither waits for nor blocks
// readers and writers; the last connection to close checkpoints what is left, as before.
class Checkpointer {
 public:
  explicit Checkpointer(std::string path) : path_(std::move(path)) {}
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;
  ~Checkpointer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    // The last of the process's connections to the file to close (see checkpointer_): when no
    // other process has the file open, closing it checkpoints what is left, as SQLite's last
    // connection always does.
    sqlite3_close_v2(db_);
  }

  // Asks for a checkpoint soon. False when this checkpointer cannot open the file: the caller
  // then checkpoints itself, so that the log never grows without end.
  bool Request() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!db_ && !failed_) {
      const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
      // A connection knows the file is in WAL mode once it has read it: until then a checkpoint
      // does nothing.
      if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK ||
          sqlite3_exec(db_, "SELECT COUNT(*) FROM sqlite_schema", nullptr, nullptr, nullptr) !=
              SQLITE_OK) {
        sqlite3_close_v2(db_);
        db_ = nullptr;
        failed_ = true;
      }
    }
    if (failed_) return false;
    requested_ = true;
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
    wake_.notify_one();
    return true;
  }

  // The wal hook (sqlite3_wal_hook) of every connection to the file, `self` its Checkpointer.
  static int OnCommit(void* self, sqlite3* db, const char* schema, int pages) {
    if (pages >= kCheckpointPages && !static_cast<Checkpointer*>(self)->Request())
      sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stop_ || requested_; });
      if (stop_) return;
      requested_ = false;
      lock.unlock();
      // SQLITE_BUSY (another connection checkpointing, or closing) leaves the rest for the next.
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  const std::string path_;
  std::mutex mutex_;
  std::condition_variable wake_;
  sqlite3* db_ = nullptr;  // opened by the first Request; then used by the thread alone
  bool failed_ = false;    // guarded by mutex_, as are the two below
  bool requested_ = false;
  bool stop_ = false;
  std::thread thread_;
};

// The Checkpointer of the file at `path`, shared by the process's connections to it; none for a
// private in-memory database, which has no log.
std::shared_ptr<Checkpointer> CheckpointerFor(const std::string& path) {
  return InMemory(path) ? nullptr : SharedByFile<Checkpointer>(path);
}

Status WriterBusy() {
  return Status::IoError("ฐานข้อมูลไม่ว่าง มีการบันทึกอื่นนานเกิน 15 วินาที โปรดลองใหม่",
                         "the database is busy: another write took longer than 15 s; try again");
}

Status SqliteError(sqlite3* db, const std::string& what) {
  const std::string message = db ? sqlite3_errmsg(db) : "out of memory";
  return Status::IoError("ฐานข้อมูล SQLite: " + what + ": " + message,
                         "SQLite: " + what + ": " + message);
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(sqlite3* db, std::shared_ptr<std::timed_mutex> writer,
                 std::shared_ptr<Checkpointer> checkpointer)
      : db_(db), writer_(std::move(writer)), checkpointer_(std::move(checkpointer)) {
    if (checkpointer_) sqlite3_wal_hook(db_, Checkpointer::OnCommit, checkpointer_.get());
  }
  ~SqliteDatabase() override {
    if (holding_writer_) writer_->unlock();
    sqlite3_close_v2(db_);
  }

  Result<Rows> Query(std::string_view sql, const std::vector<Value>& params) override {
    Rows rows;
    Status s = Run(sql, params, [&](std::vector<Value>&& values) {
      rows.emplace_back(std::move(values));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return rows;
  }

  Status QueryEach(std::string_view sql, const std::vector<Value>& params,
                   const std::function<Status(Row&)>& each) override {
    return Run(sql, params, [&](std::vector<Value>&& values) {
      Row row(std::move(values));
      return each(row);
    });
  }

  Status ScanText(std::string_view sql, const std::vector<Value>& params,
                  const std::function<Status(const TextRow&)>& each) override {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
      return SqliteError(db_, "prepare");
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
    if (!sqlite3_stmt_readonly(stmt))
      return Status::Internal("ScanText of a statement that writes");
    Status bound = Bind(stmt, params);
    if (!bound.ok()) return bound;
    const int columns = sqlite3_column_count(stmt);
    TextRow row;
    while (true) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return SqliteError(db_, "step");
      std::vector<std::string_view>& fields = row.fields();
      fields.clear();
      for (int c = 0; c < columns; ++c) {
        // The text SQLite keeps (or writes) for the column, with its NUL, until the next step.
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        if (text)
          fields.emplace_back(text, static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
        else
          fields.emplace_back();
      }
      Status given = each(row);
      if (!given.ok()) return given;
    }
  }

  Status BulkInsertRows(std::string_view table, const std::vector<std::string>& columns,
                        const std::function<bool(std::vector<Value>& row)>& next) override {
    // Several rows a statement: each execution of a statement costs more than a row's values
    // (cursors opened and closed, and the ephemeral table a CHECK (x IN (...)) of more than two
    // constants builds once per execution), so one INSERT of kRows rows is ~kRows times cheaper
    // per row in overhead. Bounded by the variables a statement may bind.
    const size_t width = columns.size();
    const auto variables =
        static_cast<size_t>(sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, -1));
    const size_t batch = std::max<size_t>(1, std::min<size_t>(kRowsPerInsert, variables / width));
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> full(nullptr, sqlite3_finalize);
    std::vector<std::vector<Value>> rows(batch);
    for (auto& row : rows) row.reserve(width);
    size_t held = 0;  // rows of `rows` filled and not yet inserted
    auto insert = [&](sqlite3_stmt* stmt, size_t n) -> Status {
      sqlite3_reset(stmt);
      for (size_t r = 0; r < n; ++r) {
        // Not copied: `rows` holds the values until the step below has read them, and every
        // parameter is bound again before the statement runs again.
        Status bound = Bind(stmt, rows[r], static_cast<int>(r * width), SQLITE_STATIC);
        if (!bound.ok()) return bound;
      }
      if (sqlite3_step(stmt) != SQLITE_DONE)
        return SqliteError(db_, "insert into " + std::string(table));
      return Status::Ok();
    };
    while (true) {
      std::vector<Value>& row = rows[held];
      row.clear();
      if (!next(row)) break;
      if (row.size() != width)
        return Status::Internal("BulkInsert: a row of " + std::to_string(row.size()) +
                                " values for " + std::to_string(width) + " columns");
      if (++held < batch) continue;
      if (!full) {
        auto prepared = Prepare(InsertStatement(table, columns, batch));
        if (!prepared) return prepared.status();
        full.reset(*prepared);
      }
      Status inserted = insert(full.get(), held);
      if (!inserted.ok()) return inserted;
      held = 0;
    }
    if (held == 0) return Status::Ok();
    // The rows left over, fewer than a batch: one statement of their number.
    auto prepared = Prepare(InsertStatement(table, columns, held));
    if (!prepared) return prepared.status();
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> rest(*prepared, sqlite3_finalize);
    return insert(rest.get(), held);
  }

  Status ExecuteScript(std::string_view sql) override {
    char* error = nullptr;
    const std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error ? error : "unknown";
      sqlite3_free(error);
      return Status::IoError("ฐานข้อมูล SQLite: " + message, "SQLite: " + message);
    }
    return Status::Ok();
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

 protected:
  Status Begin() override {
    if (!writer_->try_lock_for(std::chrono::milliseconds(kBusyTimeoutMs))) return WriterBusy();
    holding_writer_ = true;
    Status begun = Execute("BEGIN IMMEDIATE");
    if (!begun.ok()) ReleaseWriter();
    return begun;
  }
  Status Commit() override {
    Status done = Execute("COMMIT");
    if (done.ok()) ReleaseWriter();
    return done;  // on failure Transaction rolls back, which releases
  }
  Status Rollback() override {
    Status done = Execute("ROLLBACK");
    ReleaseWriter();
    return done;
  }

 private:
  // `sql` prepared, to be finalized by the caller.
  Result<sqlite3_stmt*> Prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
      sqlite3_finalize(stmt);
      return SqliteError(db_, "prepare");
    }
    return stmt;
  }

  // Runs `sql` with `params` and gives each row's values to `row`, as they are stepped; stops at
  // the first failure `row` returns.
  Status Run(std::string_view sql, const std::vector<Value>& params,
             const std::function<Status(std::vector<Value>&&)>& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
      return SqliteError(db_, "prepare");
    }
    // Finalized on every path out of this function.
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
    Status bound = Bind(stmt, params);
    if (!bound.ok()) return bound;
    // A write outside a transaction waits its turn like a transaction does (see WriterLockFor).
    std::unique_lock<std::timed_mutex> turn(*writer_, std::defer_lock);
    if (!holding_writer_ && !sqlite3_stmt_readonly(stmt)) {
      if (!turn.try_lock_for(std::chrono::milliseconds(kBusyTimeoutMs))) return WriterBusy();
    }
    const int columns = sqlite3_column_count(stmt);
    while (true) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db_, "step");
      std::vector<Value> values;
      values.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_TEXT:
            values.emplace_back(
                std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)),
                            static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
            break;
          case SQLITE_BLOB: {
            const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, c));
            values.emplace_back(Blob{
                std::string(data ? data : "", static_cast<size_t>(sqlite3_column_bytes(stmt, c)))});
            break;
          }
          default:
            values.emplace_back(std::monostate{});
        }
      }
      Status given = row(std::move(values));
      if (!given.ok()) return given;
    }
    return Status::Ok();
  }

  // Binds `params` to `stmt`'s placeholders in order, the first to placeholder `skip` + 1; text
  // and bytes copied (SQLITE_TRANSIENT), or (SQLITE_STATIC) read where they are when the statement
  // steps, for a caller that keeps them there until then.
  Status Bind(sqlite3_stmt* stmt, const std::vector<Value>& params, int skip = 0,
              sqlite3_destructor_type keep = SQLITE_TRANSIENT) {
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = skip + static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v))
        rc = sqlite3_bind_null(stmt, index);
      else if (const auto* n = std::get_if<int64_t>(&v))
        rc = sqlite3_bind_int64(stmt, index, *n);
      else if (const auto* d = std::get_if<double>(&v))
        rc = sqlite3_bind_double(stmt, index, *d);
      else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), keep, SQLITE_UTF8);
      } else if (const auto* b = std::get_if<Blob>(&v)) {
        rc = sqlite3_bind_blob64(stmt, index, b->bytes.data(), b->bytes.size(), keep);
      }
      if (rc != SQLITE_OK) return SqliteError(db_, "bind");
    }
    return Status::Ok();
  }

  void ReleaseWriter() {
    if (holding_writer_) {
      holding_writer_ = false;
      writer_->unlock();
    }
  }

  sqlite3* db_;
  std::shared_ptr<std::timed_mutex> writer_;  // this file's writers' turn (WriterLockFor)
  bool holding_writer_ = false;               // between Begin and Commit/Rollback
  // Released after the destructor's body has closed db_: the checkpointer's own connection, the
  // last of the file's to close, then checkpoints what is left.
  std::shared_ptr<Checkpointer> checkpointer_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Status s = SqliteError(db, "open " + path);
    sqlite3_close_v2(db);
    return s;
  }
  auto out = std::make_unique<SqliteDatabase>(db, WriterLockFor(path), CheckpointerFor(path));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  Status pragmas = out->ExecuteScript(
      "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;");
  if (!pragmas.ok()) return pragmas;
  return std::unique_ptr<Database>(std::move(out));
}

}  // namespace esar::storage
