#include "storage/pool.h"

namespace esar::storage {

DatabasePool::Lease::~Lease() {
  if (pool_) pool_->Return(std::move(db_));
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
