#pragma once

// Fresh databases for tests on each backend: every storage test runs on SQLite and on
// PostgreSQL (the cluster scripts/test starts and names in ESAR_TEST_PG_URL).

#include <memory>
#include <string>
#include <vector>

#include "storage/database.h"

namespace esar::testing {

// Removes `path` (a file or a directory, recursively) when the test process exits, so that
// thousands of test runs do not fill /tmp; kept when ESAR_KEEP_TEST_DIR is set, to look at a
// failure. Thread-safe. PostgreSQL schemas need no such care: the test cluster is thrown away.
void RemoveAtExit(const std::string& path);

// "sqlite" and "postgres".
std::vector<std::string> Backends();

// The URL of a new, empty database of `backend`: a fresh SQLite file, or a fresh schema in the
// test cluster (the SQLite file and its journal are removed at exit). Empty when `backend` is
// "postgres" and ESAR_TEST_PG_URL is not set.
std::string FreshDatabaseUrl(const std::string& backend);

// FreshDatabaseUrl opened and migrated; fails the test (and returns null) on error.
std::unique_ptr<storage::Database> FreshDatabase(const std::string& backend,
                                                 std::string* url = nullptr);

// Skips the current test when `backend` cannot be had here (no PostgreSQL cluster given).
#define ESAR_SKIP_WITHOUT(backend)                                                         \
  if (::esar::testing::FreshDatabaseUrl(backend).empty()) {                                \
    GTEST_SKIP() << "no PostgreSQL: set ESAR_TEST_PG_URL (scripts/test starts a cluster)"; \
  }

}  // namespace esar::testing
