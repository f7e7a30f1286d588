#pragma once

// Private to the storage library: the one statement VacuumAfterBulkLoad runs, on the loading
// connection or on the pool's own (DatabasePool).

#include <string>
#include <string_view>

namespace esar::storage {

// VACUUM (ANALYZE) of `table` (a name esar gives, not user input). PostgreSQL refuses it inside a
// transaction: run it after the commit.
inline std::string VacuumStatement(std::string_view table) {
  return "VACUUM (ANALYZE) " + std::string(table);
}

}  // namespace esar::storage
