#include "storage/backup.h"

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "storage/migrations.h"

namespace esar::storage {
namespace {

using nlohmann::json;

struct Table {
  const char* name;
  std::vector<const char*> columns;
  bool has_id;  // an auto-numbered "id" whose sequence PostgreSQL must move past the restored ids
};

// In an order that satisfies the foreign keys (self-references are restored in a second pass).
const std::vector<Table>& Tables() {
  static const std::vector<Table> kTables = {
      {"agencies", {"code", "name_th", "name_en", "kind", "parent"}, false},
      {"users",
       {"id", "username", "display_name", "password_hash", "role", "agency_code", "active",
        "created_at"},
       true},
      {"api_tokens", {"token_hash", "user_id", "name", "created_at", "revoked_at"}, false},
      {"frameworks",
       {"id", "fiscal_year", "agency_kind", "version", "document", "diff", "imported_by",
        "imported_at", "frozen_at"},
       true},
      {"rounds", {"id", "framework_id", "round", "deadline"}, true},
      {"extensions", {"round_id", "agency_code", "deadline", "granted_by", "granted_at"}, false},
      {"observations",
       {"agency_code", "kpi", "variable", "fiscal_year", "round", "value", "source"},
       false},
      {"submissions",
       {"id", "round_id", "agency_code", "kpi", "status", "revision", "updated_at"},
       true},
      {"submission_revisions",
       {"submission_id", "revision", "status", "values_json", "explanation", "problems", "remarks",
        "actor", "at"},
       false},
      {"evidence",
       {"id", "submission_id", "name", "media_type", "size", "sha256", "uploaded_by", "uploaded_at",
        "replaced_by"},
       true},
      {"reviews",
       {"id", "submission_id", "revision", "evaluator", "decision", "verified_json", "comment",
        "at"},
       true},
      {"evidence_notes", {"review_id", "evidence_id", "note"}, false},
      {"results",
       {"id", "framework_id", "round", "stage", "document", "computed_by", "computed_at",
        "appeal_deadline"},
       true},
      {"result_agencies",
       {"result_id", "agency_code", "framework_id", "round", "stage", "computed_at",
        "appeal_deadline", "document"},
       false},
      {"appeals",
       {"id", "result_id", "agency_code", "kpi", "reason", "filed_by", "filed_at", "status",
        "decision_reason", "decided_by", "decided_at"},
       true},
      {"idempotency_keys", {"user_id", "key", "request_hash", "response", "created_at"}, false},
      {"audit_log",
       {"seq", "at", "actor", "action", "entity", "before_json", "after_json", "prev_hash", "hash"},
       false},
  };
  return kTables;
}

// Columns that point back into their own table: written NULL first, set after every row is in.
bool SelfReference(const std::string& table, const std::string& column) {
  return (table == "agencies" && column == "parent") ||
         (table == "evidence" && column == "replaced_by");
}

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Result<std::string> Unhex(const std::string& hex) {
  if (hex.size() % 2)
    return Status::InvalidInput("ข้อมูลสำรองเสียหาย", "the backup is damaged (odd hex)");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return Status::InvalidInput("ข้อมูลสำรองเสียหาย", "the backup is damaged (bad hex)");
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

json ToJson(const Value& v) {
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<Blob>(&v)) return json{{"hex", Hex(b->bytes)}};
  return nullptr;
}

Result<Value> FromJson(const json& j) {
  if (j.is_null()) return Value{};
  if (j.is_number_integer()) return Value{j.get<int64_t>()};
  if (j.is_number()) return Value{j.get<double>()};
  if (j.is_string()) return Value{j.get<std::string>()};
  if (j.is_object() && j.contains("hex") && j["hex"].is_string()) {
    auto bytes = Unhex(j["hex"].get<std::string>());
    if (!bytes) return bytes.status();
    return Value{Blob{*bytes}};
  }
  return Status::InvalidInput("ข้อมูลสำรองมีค่าที่อ่านไม่ได้",
                              "the backup holds a value that cannot be read");
}

Status Damaged(size_t line, const std::string& why);

// Writes one backed-up file into the store and checks it against its SHA-256.
Status RestoreFile(FileStore& files, const std::string& sha, const std::string& hex) {
  auto bytes = Unhex(hex);
  if (!bytes) return bytes.status();
  auto writer = files.Create();
  if (!writer) return writer.status();
  Status written = (*writer)->Write(*bytes);
  if (!written.ok()) return written;
  auto stored = (*writer)->Commit();
  if (!stored) return stored.status();
  if (stored->sha256 != sha) return Damaged(0, "file " + sha + " does not match its SHA-256");
  return Status::Ok();
}

Status Damaged(size_t line, const std::string& why) {
  return Status::InvalidInput("ข้อมูลสำรองเสียหายที่บรรทัด " + std::to_string(line) + ": " + why,
                              "the backup is damaged at line " + std::to_string(line) + ": " + why);
}

Status WriteBackup(Database& db, FileStore& files, std::ostream& out) {
  auto version = SchemaVersion(db);
  if (!version) return version.status();
  out << json{{"format", "esar-backup/1"}, {"schema_version", *version}}.dump() << "\n";
  for (const Table& table : Tables()) {
    std::string columns;
    for (const char* c : table.columns) columns += std::string(columns.empty() ? "" : ", ") + c;
    auto rows = db.Query("SELECT " + columns + " FROM " + table.name + " ORDER BY 1");
    if (!rows) return rows.status();
    for (const Row& row : *rows) {
      json values = json::array();
      for (size_t i = 0; i < row.size(); ++i) values.push_back(ToJson(row[i]));
      out << json{{"table", table.name}, {"row", values}}.dump() << "\n";
    }
  }
  auto shas = db.Query("SELECT DISTINCT sha256 FROM evidence ORDER BY 1");
  if (!shas) return shas.status();
  for (const Row& row : *shas) {
    auto bytes = files.Read(row.Text(0));
    if (!bytes) return bytes.status();
    out << json{{"file", row.Text(0)}, {"hex", Hex(*bytes)}}.dump() << "\n";
  }
  out.flush();
  if (!out) return Status::IoError("เขียนข้อมูลสำรองไม่สำเร็จ", "writing the backup failed");
  return Status::Ok();
}

}  // namespace

Status Backup(Database& db, FileStore& files, std::ostream& out) {
  // One transaction, so that every table is read as of one moment (a consistent snapshot: with
  // the server running, no row can appear without the rows it refers to).
  return db.Transaction([&]() -> Status {
    if (db.dialect() == Dialect::kPostgres) {
      Status isolated = db.Execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      if (!isolated.ok()) return isolated;
    }
    return WriteBackup(db, files, out);
  });
}

Status Restore(Database& db, FileStore& files, std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) return Damaged(1, "empty");
  json header;
  try {
    header = json::parse(line);
  } catch (const json::exception&) {
    return Damaged(1, "not a backup header");
  }
  if (!header.is_object() || header.value("format", "") != "esar-backup/1") {
    return Status::InvalidInput("ไฟล์นี้ไม่ใช่ข้อมูลสำรองของ esar", "this file is not an esar backup");
  }
  auto version = SchemaVersion(db);
  if (!version) return version.status();
  if (header.value("schema_version", -1) != *version) {
    return Status::InvalidInput("ข้อมูลสำรองเป็นโครงสร้างรุ่น " + header["schema_version"].dump() +
                                    " แต่ฐานข้อมูลเป็นรุ่น " + std::to_string(*version),
                                "the backup has schema version " + header["schema_version"].dump() +
                                    ", the database " + std::to_string(*version));
  }
  auto existing = db.Query("SELECT (SELECT COUNT(*) FROM agencies) + (SELECT COUNT(*) FROM users)");
  if (!existing) return existing.status();
  if ((*existing)[0].Int(0) != 0) {
    return Status::Conflict("ฐานข้อมูลปลายทางต้องว่างเปล่า",
                            "the database to restore into must be empty");
  }
  std::map<std::string, const Table*> by_name;
  for (const Table& t : Tables()) by_name[t.name] = &t;
  std::vector<std::tuple<std::string, std::string, Value, Value>>
      second_pass;  // table, column, value, key
  size_t line_number = 1;
  Status restored = db.Transaction([&]() -> Status {
    while (std::getline(in, line)) {
      ++line_number;
      if (line.empty()) continue;
      json entry;
      try {
        entry = json::parse(line);
      } catch (const json::exception&) {
        return Damaged(line_number, "not JSON");
      }
      if (entry.contains("file")) {
        // Written (and checked) before the rows commit, so that a damaged file leaves nothing
        // restored; a file written before a later failure is harmless: it is named by its content.
        if (!entry["file"].is_string() || !entry.contains("hex") || !entry["hex"].is_string()) {
          return Damaged(line_number, "a file entry without its name or bytes");
        }
        Status written =
            RestoreFile(files, entry["file"].get<std::string>(), entry["hex"].get<std::string>());
        if (!written.ok()) return written;
        continue;
      }
      auto t = by_name.find(entry.value("table", ""));
      if (t == by_name.end() || !entry["row"].is_array() ||
          entry["row"].size() != t->second->columns.size()) {
        return Damaged(line_number, "unknown table or wrong number of columns");
      }
      const Table& table = *t->second;
      std::string columns, marks;
      std::vector<Value> values;
      for (size_t i = 0; i < table.columns.size(); ++i) {
        auto v = FromJson(entry["row"][i]);
        if (!v) return v.status();
        if (SelfReference(table.name, table.columns[i]) &&
            !std::holds_alternative<std::monostate>(*v)) {
          second_pass.emplace_back(table.name, table.columns[i], *v,
                                   FromJson(entry["row"][0]).value());
          *v = Value{};
        }
        columns += std::string(i ? ", " : "") + table.columns[i];
        marks += i ? ", ?" : "?";
        values.push_back(std::move(*v));
      }
      Status s = db.Execute(
          std::string("INSERT INTO ") + table.name + " (" + columns + ") VALUES (" + marks + ")",
          values);
      if (!s.ok()) return Damaged(line_number, s.message_en());
    }
    for (const auto& [table, column, value, key] : second_pass) {
      const std::string key_column = table == "agencies" ? "code" : "id";
      Status s = db.Execute(
          "UPDATE " + table + " SET " + column + " = ? WHERE " + key_column + " = ?", {value, key});
      if (!s.ok()) return s;
    }
    if (db.dialect() == Dialect::kPostgres) {
      for (const Table& table : Tables()) {
        if (!table.has_id) continue;
        Status s = db.Execute(std::string("SELECT setval(pg_get_serial_sequence('") + table.name +
                              "', 'id'), " + "COALESCE((SELECT MAX(id) FROM " + table.name +
                              "), 0) + 1, false)");
        if (!s.ok()) return s;
      }
    }
    return Status::Ok();
  });
  return restored;
}

}  // namespace esar::storage
