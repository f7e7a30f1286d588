#include "storage/pool.h"

#include "storage/vacuum.h"

namespace esar::storage {

DatabasePool::Lease::~Lease() {
  if (pool_) pool_->Return(std::move(db_));
}

DatabasePool::~DatabasePool() {
  {
    std::lock_guard<std::mutex> lock(vacuum_mutex_);
    stopping_ = true;
    to_vacuum_.clear();
  }
  vacuums_changed_.notify_all();
  if (vacuumer_.joinable()) vacuumer_.join();
}

void DatabasePool::VacuumLater(std::string table) {
  {
    std::lock_guard<std::mutex> lock(vacuum_mutex_);
    if (stopping_) return;
    to_vacuum_.insert(std::move(table));
    if (!vacuumer_.joinable()) vacuumer_ = std::thread([this] { VacuumWhileAsked(); });
  }
  vacuums_changed_.notify_all();
}

void DatabasePool::VacuumWhileAsked() {
  std::unique_lock<std::mutex> lock(vacuum_mutex_);
  for (;;) {
    vacuums_changed_.wait(lock, [&] { return stopping_ || !to_vacuum_.empty(); });
    if (stopping_) return;
    const std::string table = std::move(to_vacuum_.extract(to_vacuum_.begin()).value());
    vacuuming_ = true;
    lock.unlock();
    {
      auto lease = Acquire();
      // Best effort: on failure autovacuum comes later.
      if (lease) static_cast<void>((*lease)->Execute(VacuumStatement(table)));
    }
    lock.lock();
    vacuuming_ = false;
    vacuums_changed_.notify_all();
  }
}

void DatabasePool::WaitForVacuums() {
  std::unique_lock<std::mutex> lock(vacuum_mutex_);
  vacuums_changed_.wait(lock, [&] { return stopping_ || (to_vacuum_.empty() && !vacuuming_); });
}

Result<DatabasePool::Lease> DatabasePool::Acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  available_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
  return TakeOrOpen(lock);
}

std::optional<DatabasePool::Lease> DatabasePool::TryAcquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (idle_.empty() && open_ >= max_) return std::nullopt;
  auto lease = TakeOrOpen(lock);
  if (!lease) return std::nullopt;
  return std::move(*lease);
}

Result<DatabasePool::Lease> DatabasePool::TakeOrOpen(std::unique_lock<std::mutex>& lock) {
  if (!idle_.empty()) {
    std::unique_ptr<Database> db = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(db));
  }
  ++open_;
  lock.unlock();
  auto db = Open(url_);
  if (!db) {
    lock.lock();
    --open_;
    available_.notify_one();
    return db.status();
  }
  (*db)->DeferVacuums([this](std::string table) { VacuumLater(std::move(table)); });
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
