#pragma once

// How the command line finds the audit key and the chain head (docs/operations.md, "The audit
// log"): the key in --audit-key-file (or $ESAR_AUDIT_KEY_FILE) when given, else
// DATA_DIR/audit.key; the head always in DATA_DIR/audit.head, beside the evidence files.

#include <memory>
#include <string>

#include "common/status.h"
#include "common/text.h"
#include "service/audit_seal.h"
#include "storage/database.h"

namespace esar::cli {

struct AuditKeyFlags {
  std::string data_dir = "esar-data";  // --data-dir / $ESAR_DATA_DIR
  std::string key_file;                // --audit-key-file / $ESAR_AUDIT_KEY_FILE; "" = in data_dir
};

enum class KeyUse {
  kIfPresent,          // use the key if there is one
  kCreateAtFirstStart  // esar serve: create it in the data folder if the log was never sealed
};

// The audit key, or null when there is none (and none was named). A key file named but missing,
// or not a key, is an error; so is (kConflict) a missing key when the log is sealed and `use`
// would create one, since a new key would leave the sealed entries unverifiable. A key created
// here is announced on standard error with where to keep a copy.
Result<std::shared_ptr<const service::AuditSeal>> OpenAuditSeal(storage::Database& db,
                                                               const AuditKeyFlags& flags,
                                                               KeyUse use, Lang lang);

// For the commands that change the database: the key opened (OpenAuditSeal), given to every
// audit log of the process, and the log made ready for it (service::AuditLog::Prepare).
Status UseAuditSeal(storage::Database& db, const AuditKeyFlags& flags, KeyUse use, Lang lang);

}  // namespace esar::cli
