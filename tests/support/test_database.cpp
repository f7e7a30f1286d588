#include "tests/support/test_database.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <vector>

#include "storage/migrations.h"

namespace esar::testing {
namespace {

std::string UniqueName() {
  static std::atomic<int> counter{0};
  static const unsigned seed = std::random_device{}();
  return "t" + std::to_string(getpid()) + "_" + std::to_string(seed % 100000) + "_" +
         std::to_string(counter++);
}

// What RemoveAtExit collected; its destructor runs when the process exits normally.
class ScratchToRemove {
 public:
  void Add(const std::string& path) {
    std::lock_guard lock(mutex_);
    paths_.push_back(path);
  }
  ~ScratchToRemove() {
    if (std::getenv("ESAR_KEEP_TEST_DIR")) return;
    for (const auto& path : paths_) {
      std::error_code ignored;  // already gone, or never made: nothing to do
      std::filesystem::remove_all(path, ignored);
    }
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> paths_;
};

ScratchToRemove& Scratch() {
  static ScratchToRemove scratch;
  return scratch;
}

}  // namespace

void RemoveAtExit(const std::string& path) { Scratch().Add(path); }

std::vector<std::string> Backends() { return {"sqlite", "postgres"}; }

std::string FreshDatabaseUrl(const std::string& backend) {
  if (backend == "sqlite") {
    const auto dir = std::filesystem::temp_directory_path() / "esar-tests";
    std::filesystem::create_directories(dir);
    const auto path = dir / (UniqueName() + ".db");
    std::filesystem::remove(path);
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      RemoveAtExit(path.string() + suffix);
    return path.string();
  }
  const char* base = std::getenv("ESAR_TEST_PG_URL");
  if (!base || !*base) return "";
  const std::string schema = UniqueName();
  auto admin = storage::Open(base);
  if (!admin) {
    ADD_FAILURE() << admin.status().ToString(false);
    return "";
  }
  Status created = (*admin)->Execute("CREATE SCHEMA " + schema);
  if (!created.ok()) ADD_FAILURE() << created.ToString(false);
  return std::string(base) + "?options=-csearch_path%3D" + schema;
}

std::unique_ptr<storage::Database> FreshDatabase(const std::string& backend, std::string* url) {
  const std::string where = FreshDatabaseUrl(backend);
  if (url) *url = where;
  if (where.empty()) return nullptr;
  auto db = storage::Open(where);
  if (!db) {
    ADD_FAILURE() << db.status().ToString(false);
    return nullptr;
  }
  Status migrated = storage::Migrate(**db);
  if (!migrated.ok()) {
    ADD_FAILURE() << migrated.ToString(false);
    return nullptr;
  }
  return std::move(*db);
}

}  // namespace esar::testing
