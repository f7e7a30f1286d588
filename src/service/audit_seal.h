#pragma once

// What lets `esar audit verify` tell a log rewritten by someone who can write the database from
// one that was not: a secret key the database does not hold, which seals every entry (and every
// backup), and the chain's head kept in a file beside the evidence, outside the database, so
// that entries removed from the end are missed. docs/operations.md says where to keep them.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace esar::service {

// Where the chain stood: its last entry's sequence number and hash.
struct ChainHead {
  int64_t seq = 0;
  std::string hash;
};

// The audit key and the chain head file. Immutable once loaded, so one is shared by every
// thread; the head file is shared by every process using the same data folder.
class AuditSeal {
 public:
  // Reads the key in `key_file` (64 hex characters, as GenerateKeyFile writes them) and keeps
  // the chain head in `head_file`. kNotFound when there is no key file; kInvalidInput when it
  // holds no key; kIoError when it cannot be read.
  static Result<std::shared_ptr<const AuditSeal>> Load(const std::string& key_file,
                                                       const std::string& head_file);

  // Writes 32 new random bytes, hex, to `key_file`, readable by its owner only, whole or not at
  // all (others reading it meanwhile see no file or the whole key). kConflict (and the file left
  // alone) when it exists; kIoError when it cannot be written.
  static Status GenerateKeyFile(const std::string& key_file);

  // A public name of the key (16 hex characters): which key sealed an entry or a backup,
  // without giving the key away.
  const std::string& key_id() const { return key_id_; }
  // The seal of an audit entry whose hash is `entry_hash` (64 hex characters).
  std::string SealEntry(const std::string& entry_hash) const;
  // The key backups are sealed with (an HMAC-SHA-256 key), derived from the audit key.
  const std::string& backup_key() const { return backup_key_; }
  const std::string& head_file() const { return head_file_; }

  // The head in the head file; nullopt when there is no such file. kDataLoss when it is not a
  // head written with this key (altered, or another installation's); kIoError when unreadable.
  Result<std::optional<ChainHead>> ReadHead() const;
  // Moves the head to `head`, unless it names a later entry already (several processes append
  // to one log): under an exclusive lock, written to a temporary file, synced and renamed over
  // the old one, so that a reader sees the old head or the new, never half of one.
  Status AdvanceHead(const ChainHead& head) const;
  // Sets the head to `head` whatever it was (a restore, or an operator re-anchoring the chain).
  Status ResetHead(const ChainHead& head) const;

 private:
  AuditSeal() = default;
  Status WriteHead(const ChainHead& head, bool only_forward) const;
  std::string HeadMac(const ChainHead& head) const;

  std::string entry_key_, backup_key_, head_key_, key_id_;
  std::string head_file_;
};

}  // namespace esar::service
