#pragma once

// The commands that act on an esar database: imports, users, the audit chain. Each returns the
// process's exit code and prints its messages in `lang`.

#include <string>

#include "common/text.h"

namespace esar::cli {

// The database URL: `flag` when given, else $ESAR_DB, else "esar.db" in the working folder.
std::string DatabaseUrl(const std::string& flag);

int ImportFramework(const std::string& db_url, const std::string& path, Lang lang);
int ImportAgencies(const std::string& db_url, const std::string& path, Lang lang);
int ImportData(const std::string& db_url, const std::string& path, Lang lang);

// The password comes from $ESAR_PASSWORD or, when unset, the first line of standard input.
int CreateUser(const std::string& db_url, const std::string& username,
               const std::string& display_name, const std::string& role, const std::string& agency,
               Lang lang);

// Exit 0 when the audit chain is whole, 1 when it is broken (saying where), 2 on other errors.
int VerifyAudit(const std::string& db_url, Lang lang);

// Writes the database (and the evidence files under `data_dir`) to `path` (esar-backup/1).
int BackupTo(const std::string& db_url, const std::string& data_dir, const std::string& path,
             Lang lang);
// Restores `path` into an empty database (migrated first) and `data_dir`.
int RestoreFrom(const std::string& db_url, const std::string& data_dir, const std::string& path,
                Lang lang);

}  // namespace esar::cli
