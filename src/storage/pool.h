#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/database.h"

namespace esar::storage {

// Connections to one database, shared by threads: each borrows one for a request and gives it
// back. Thread-safe.
class DatabasePool {
 public:
  // Up to `max_connections` are opened, lazily, to `url`.
  DatabasePool(std::string url, size_t max_connections)
      : url_(std::move(url)), max_(max_connections) {}

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

  // Connections lent out now (for tests that check what holds one, and when).
  size_t InUse();

 private:
  void Return(std::unique_ptr<Database> db);

  std::string url_;
  size_t max_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Database>> idle_;  // guarded by mutex_
  size_t open_ = 0;                              // guarded by mutex_
};

}  // namespace esar::storage
