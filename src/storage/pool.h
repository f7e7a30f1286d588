#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/database.h"

namespace esar::storage {

// Connections to one database, shared by threads: each borrows one for a request and gives it
// back. Thread-safe. The tables its PostgreSQL connections vacuum after a bulk load
// (Database::VacuumAfterBulkLoad) are vacuumed by a thread of the pool's, on a connection of
// its own, so that no request waits for a VACUUM.
class DatabasePool {
 public:
  // Up to `max_connections` are opened, lazily, to `url`.
  DatabasePool(std::string url, size_t max_connections)
      : url_(std::move(url)), max_(max_connections) {}
  // Waits for the vacuum under way, if any; those still waiting are left to
  // autovacuum. Every lease must have ended.
  ~DatabasePool();
  DatabasePool(const DatabasePool&) = delete;
  DatabasePool& operator=(const DatabasePool&) = delete;

  // A connection for the caller alone until the lease ends; waits while all are in use. Fails
  // when a new connection cannot be opened.
  class Lease {
   public:
    Lease(DatabasePool* pool, std::unique_ptr<Database> db) : pool_(pool), db_(std::move(db)) {}
    // The moved-from lease owns nothing and returns nothing.
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), db_(std::move(other.db_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Database& operator*() { return *db_; }
    Database* operator->() { return db_.get(); }
    // Drops the connection instead of returning it (after an error that may have broken it).
    void Discard() { db_.reset(); }

   private:
    DatabasePool* pool_;
    std::unique_ptr<Database> db_;
  };
  Result<Lease> Acquire();
  // A connection only when one is idle or may be opened now: never waits (for a second
  // connection a request can do without, which waiting for could deadlock requests holding one
  // each). None when all are lent out or opening one fails.
  std::optional<Lease> TryAcquire();

  // Connections lent out now (for tests that check what holds one, and when).
  size_t InUse();

  // Returns once every vacuum asked for before the call has ended (for tests, and for a caller
  // that needs the new plans at once).
  void WaitForVacuums();

 private:
  // An idle connection, or a new one when none is idle (`lock` held on mutex_ at the call, with
  // one of those possible; released while a connection opens).
  Result<Lease> TakeOrOpen(std::unique_lock<std::mutex>& lock);
  void Return(std::unique_ptr<Database> db);
  // Queues `table` for the vacuuming thread (started the first time), unless it waits already.
  void VacuumLater(std::string table);
  void VacuumWhileAsked();

  std::string url_;
  size_t max_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Database>> idle_;  // guarded by mutex_
  size_t open_ = 0;                              // guarded by mutex_

  std::mutex vacuum_mutex_;
  std::condition_variable vacuums_changed_;
  std::set<std::string> to_vacuum_;  // tables waiting; guarded by vacuum_mutex_
  bool vacuuming_ = false;           // one is under way; guarded by vacuum_mutex_
  bool stopping_ = false;            // guarded by vacuum_mutex_
  std::thread vacuumer_;             // started by the first VacuumLater; guarded by vacuum_mutex_
};

}  // namespace esar::storage
