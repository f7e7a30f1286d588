#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "service/actor.h"
#include "storage/database.h"

namespace esar::service {

// The append-only audit log: every change with who, when, what, and the state before and after.
// Each entry carries the SHA-256 of the one before, so that changing or removing any entry
// breaks the chain from there on.
class AuditLog {
 public:
  explicit AuditLog(storage::Database& db) : db_(db) {}

  // Appends one entry. Must run inside the transaction that makes the change, so that the two
  // land together or not at all; concurrent appends are serialized (the entries are numbered
  // 1, 2, 3, ... without gaps).
  Status Append(const Actor& actor, int64_t at_ms, const std::string& action,
                const std::string& entity, const std::string& before_json,
                const std::string& after_json);

  struct Verification {
    int64_t entries = 0;
    int64_t first_broken = 0;  // the first entry that does not match, 0 when the chain is whole
    std::string problem_th, problem_en;
  };
  // Recomputes the whole chain.
  Result<Verification> Verify();

 private:
  storage::Database& db_;
};

}  // namespace esar::service
