#include "storage/pool.h"

namespace esar::storage {

DatabasePool::Lease::~Lease() {
  if (pool_) pool_->Return(std::move(db_));
}

DatabasePool::~DatabasePool() {
  {
    std::lock_guard<std::mutex> lock(stale_mutex_);
    stopping_ = true;
    stale_.clear();
  }
  stale_changed_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

void DatabasePool::RefreshLater(std::string table) {
  {
    std::lock_guard<std::mutex> lock(stale_mutex_);
    if (stopping_) return;
    stale_.insert(std::move(table));
    if (!refresher_.joinable()) refresher_ = std::thread([this] { RefreshWhileAsked(); });
  }
  stale_changed_.notify_all();
}

void DatabasePool::RefreshWhileAsked() {
  std::unique_lock<std::mutex> lock(stale_mutex_);
  for (;;) {
    stale_changed_.wait(lock, [&] { return stopping_ || !stale_.empty(); });
    if (stopping_) return;
    const std::string table = std::move(stale_.extract(stale_.begin()).value());
    refreshing_ = true;
    lock.unlock();
    {
      auto lease = Acquire();
      // Best effort: on failure autovacuum refreshes the table later.
      if (lease) static_cast<void>((*lease)->Execute("ANALYZE " + table));
    }
    lock.lock();
    refreshing_ = false;
    stale_changed_.notify_all();
  }
}

void DatabasePool::WaitForStatistics() {
  std::unique_lock<std::mutex> lock(stale_mutex_);
  stale_changed_.wait(lock, [&] { return stopping_ || (stale_.empty() && !refreshing_); });
}

Result<DatabasePool::Lease> DatabasePool::Acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  available_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
  if (!idle_.empty()) {
    std::unique_ptr<Database> db = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(db));
  }
  ++open_;
  lock.unlock();
  auto db = Open(url_);
  if (!db) {
    std::lock_guard<std::mutex> relock(mutex_);
    --open_;
    available_.notify_one();
    return db.status();
  }
  (*db)->DeferStatisticsRefresh([this](std::string table) { RefreshLater(std::move(table)); });
  return Lease(this, std::move(*db));
}

size_t DatabasePool::InUse() {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_ - idle_.size();
}

void DatabasePool::Return(std::unique_ptr<Database> db) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (db)
    idle_.push_back(std::move(db));
  else
    --open_;
  available_.notify_one();
}

}  // namespace esar::storage
