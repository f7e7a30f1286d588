#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "service/actor.h"
#include "service/audit_seal.h"
#include "storage/database.h"
#include "storage/file_store.h"

namespace esar::service {

// The append-only audit log: every change with who, when, what, and the state before and after.
// Each entry carries the SHA-256 of the one before, so that changing or removing any entry
// breaks the chain from there on; the digests of the state the change left (audit_state.h), so
// that rows changed in place are found; and, once the installation has its audit key, a seal
// (an HMAC under a key the database does not hold), so that someone who can write the database
// cannot recompute the chain after a change. The chain's head is kept outside the database
// (AuditSeal), so that entries removed from the end are missed too.
class AuditLog {
 public:
  explicit AuditLog(storage::Database& db) : db_(db) {}

  // The seal every AuditLog of this process uses; null (the default) writes unsealed entries,
  // which Append refuses once the log is sealed. Set at start, before any thread appends.
  static void UseSeal(std::shared_ptr<const AuditSeal> seal);
  static std::shared_ptr<const AuditSeal> Seal();

  // Appends one entry, with the digest of the state `entity` is left in and of each of `also`
  // (those of the kinds audit_state.h lists). Must run inside the transaction that makes the
  // change, so that the two land together or not at all; concurrent appends are serialized (the
  // entries are numbered 1, 2, 3, ... without gaps). Sealed with Seal(), whose chain head moves
  // once the transaction commits. kConflict when there is no seal and the log is sealed already.
  // `known_states` gives digests already computed (StateOfParts) for some of those entities, in
  // this transaction, after the lock Append takes or of rows no other transaction can change
  // before this one commits (rows it wrote itself, under the lock of the round they belong to):
  // they are used instead of reading the state.
  Status Append(const Actor& actor, int64_t at_ms, const std::string& action,
                const std::string& entity, const std::string& before_json,
                const std::string& after_json, const std::vector<std::string>& also = {},
                const std::map<std::string, std::string>& known_states = {});

  // Takes the lock Append takes (PostgreSQL; SQLite's write lock does it there), for a caller
  // that computes a digest for `known_states` before appending: no other appender can then
  // commit between. Inside the caller's transaction.
  Status LockForAppend();

  // True when some entry of the log is sealed (the installation has had its audit key).
  Result<bool> IsSealed();

  // Makes sure the log can be continued with Seal() (null: with none), before a process writes:
  // without a seal, the log must not be sealed (kConflict); with one, a sealed log must be sealed
  // with this key and have its head file (kConflict otherwise: esar will not fork the chain
  // onto a new key, nor start a new head over a lost one). A log never sealed gets its first
  // sealed entry here ("audit.seal"), which records the state of every entity as it stands: the
  // baseline later changes are compared with.
  Status Prepare(int64_t now_ms);

  // Records, in one "audit.rebaseline" entry, the state of the entities a schema migration
  // rewrote (listed in audit_rebaselines by it, e.g. results moved into rows by migration 8),
  // saying which migration and why, and empties the list in the same transaction: their digests
  // recorded before the upgrade describe rows that no longer exist in that shape. Nothing to do
  // (Ok) when the list is empty. Sealed with Seal() as Append is, so call it once the seal is
  // set: Prepare does, and `esar audit verify` before verifying. Errors are the database's, or
  // Append's kConflict.
  Status RecordRebaselines(int64_t now_ms);

  struct Problem {
    int64_t seq = 0;  // the entry it concerns, 0 when none
    std::string th, en;
  };
  struct Verification {
    int64_t entries = 0;
    int64_t sealed = 0;        // entries whose seal was checked with the key
    int64_t first_broken = 0;  // the first entry of the chain that does not match, 0 if none
    std::string problem_th, problem_en;  // the first problem found, "" when none
    std::vector<Problem> problems;       // every problem found (up to 100)
    std::optional<ChainHead> last;       // the last entry
    int64_t entities = 0;                // entities whose live state was compared with the log
    int64_t unrecorded = 0;  // entities older than the state digests (before the log's seal)
    int64_t files = 0;       // evidence files whose bytes were checked
    bool whole() const { return problems.empty(); }
  };
  struct VerifyOptions {
    // Checks the seals, and compares the chain with the head file when `head_file` is set.
    // Without one, a sealed log is reported as one that cannot be checked.
    const AuditSeal* seal = nullptr;
    bool head_file = true;
    // Heads kept elsewhere (by an operator, or in a backup) that the chain must contain.
    std::vector<ChainHead> heads;
    // Checks the bytes of every evidence file against its SHA-256.
    storage::FileStore* files = nullptr;
  };
  // Recomputes the whole chain and its seals, compares it with the heads, compares the live
  // state of every entity with the newest digest the log recorded, and checks the evidence
  // files. Fails only when the database cannot be read; what does not match is in the result.
  // Safe while servers write: the head file is read first and the database as of one moment
  // after it (Database::ReadSnapshot), so a change committed meanwhile is no false alarm.
  Result<Verification> Verify(const VerifyOptions& options);
  Result<Verification> Verify() { return Verify(VerifyOptions{}); }

 private:
  // Verify's work inside its snapshot, with the head file as read before it (nullopt: not read).
  Result<Verification> VerifySnapshot(
      const VerifyOptions& options,
      const std::optional<Result<std::optional<ChainHead>>>& head_file);

  storage::Database& db_;
};

}  // namespace esar::service
