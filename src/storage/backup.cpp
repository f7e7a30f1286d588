#include "storage/backup.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "security/crypto.h"
#include "storage/migrations.h"
#include "storage/result_rows.h"

namespace esar::storage {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "esar-backup/2";

// Every table a backup carries, in an order that satisfies the foreign keys (self-references
// are restored in a second pass). Their columns come from the schema itself, so that a column
// added by a migration is carried without a change here; a table added by one must be named
// here (or below, as not carried), or backups fail until it is.
const std::vector<std::string>& CarriedTables() {
  static const std::vector<std::string> kTables = {"agencies",
                                                   "users",
                                                   "user_contacts",
                                                   "mail_optouts",
                                                   "notifications",
                                                   "outbox",
                                                   "api_tokens",
                                                   "frameworks",
                                                   "rounds",
                                                   "round_reopenings",
                                                   "extensions",
                                                   "observations",
                                                   "past_results",
                                                   "submissions",
                                                   "submission_revisions",
                                                   "evidence",
                                                   "evidence_removals",
                                                   "reviews",
                                                   "evidence_notes",
                                                   "results",
                                                   "result_totals",
                                                   "result_kpis",
                                                   "appeals",
                                                   "idempotency_keys",
                                                   "announcements",
                                                   "announcement_files",
                                                   "questions",
                                                   "data_uploads",
                                                   "data_upload_files",
                                                   "case_verdicts",
                                                   "catalog_datasets",
                                                   "audit_log"};
  return kTables;
}

// Not carried: logins in progress (everyone logs in again after a restore) and their
// throttling, password-reset links (valid an hour: whoever needs one asks again), the
// migrations' bookkeeping, which the database restored into keeps itself, and the entities an
// upgrade left to re-baseline (audit_rebaselines: `esar backup` records their entry before it
// reads, so it is empty in every backup).
bool LeftOut(const std::string& table) {
  return table == "sessions" || table == "login_throttle" || table == "login_failures" ||
         table == "password_resets" || table == "schema_migrations" ||
         table == "audit_rebaselines";
}

// Columns that point back into their own table: written NULL first, set after every row is in.
bool SelfReference(const std::string& table, const std::string& column) {
  return (table == "agencies" && column == "parent") ||
         (table == "evidence" && column == "replaced_by") ||
         (table == "data_uploads" && column == "replaced_by");
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
  if (hex.size() % 2) return Status::DataLoss("ข้อมูลสำรองเสียหาย", "the backup is damaged (odd hex)");
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
      return Status::DataLoss("ข้อมูลสำรองเสียหาย", "the backup is damaged (bad hex)");
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
  return Status::DataLoss("ข้อมูลสำรองมีค่าที่อ่านไม่ได้", "the backup holds a value that cannot be read");
}

Status Damaged(size_t line, const std::string& why_th, const std::string& why_en) {
  return Status::DataLoss(
      "ข้อมูลสำรองเสียหายหรือถูกแก้ไขที่บรรทัด " + std::to_string(line) + ": " + why_th,
      "the backup is damaged or altered at line " + std::to_string(line) + ": " + why_en);
}

Status Refused(const std::string& why_th, const std::string& why_en) {
  return Status::DataLoss("ไม่กู้คืนข้อมูลสำรองนี้: " + why_th, "this backup is not restored: " + why_en);
}

// The integer in column `column` of a restored row (`values` of its `columns`), if it has one.
std::optional<int64_t> IntIn(const std::vector<std::string>& columns,
                             const std::vector<Value>& values, const std::string& column) {
  const auto at = std::find(columns.begin(), columns.end(), column);
  if (at == columns.end()) return std::nullopt;
  const auto* n = std::get_if<int64_t>(&values[static_cast<size_t>(at - columns.begin())]);
  return n ? std::optional<int64_t>(*n) : std::nullopt;
}

// The partitions a restored row needs on PostgreSQL (result_rows.h), made once each (`ready`
// holds those made): a result that holds rows (its own id in rows_from) gets its partitions of
// result_totals and result_kpis, with rows or without, as computing it made them; a row of
// those tables gets its result's. A row without a result is left to the insert to refuse.
Status PrepareResultRowsFor(Database& db, const std::string& table,
                            const std::vector<std::string>& columns,
                            const std::vector<Value>& values,
                            std::set<std::pair<std::string, int64_t>>& ready) {
  std::vector<std::pair<std::string, int64_t>> needed;
  if (table == "results") {
    const auto id = IntIn(columns, values, "id");
    const auto rows_from = IntIn(columns, values, "rows_from");
    if (id && (!rows_from || rows_from == id)) {
      needed = {{"result_totals", *id}, {"result_kpis", *id}};
    }
  } else if (table == "result_totals" || table == "result_kpis") {
    if (const auto result_id = IntIn(columns, values, "result_id")) {
      needed = {{table, *result_id}};
    }
  }
  for (const auto& [rows_table, result_id] : needed) {
    if (!ready.emplace(rows_table, result_id).second) continue;
    Status s = PrepareResultRows(db, rows_table, result_id);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// The tables of the schema, and each one's columns in their order (a partition is part of its
// table: those of result_totals and result_kpis on PostgreSQL are not named).
Result<std::map<std::string, std::vector<std::string>>> SchemaColumns(Database& db) {
  std::map<std::string, std::vector<std::string>> out;
  if (db.dialect() == Dialect::kSqlite) {
    auto tables = db.Query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    if (!tables) return tables.status();
    for (const Row& t : *tables) {
      auto columns = db.Query("SELECT name FROM pragma_table_info(?) ORDER BY cid", {t.Text(0)});
      if (!columns) return columns.status();
      for (const Row& c : *columns) out[t.Text(0)].push_back(c.Text(0));
    }
    return out;
  }
  auto columns = db.Query(
      "SELECT c.table_name, c.column_name FROM information_schema.columns c JOIN "
      "information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = "
      "c.table_name WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
      "AND NOT EXISTS (SELECT 1 FROM pg_class p JOIN pg_namespace n ON n.oid = p.relnamespace "
      "WHERE p.relname = t.table_name AND n.nspname = t.table_schema AND p.relispartition) "
      "ORDER BY c.table_name, c.ordinal_position");
  if (!columns) return columns.status();
  for (const Row& c : *columns) out[c.Text(0)].push_back(c.Text(1));
  return out;
}

// Lines written or read, with the checksum of every byte so far.
class Checksum {
 public:
  explicit Checksum(const BackupKey& key) : keyed_(!key.key.empty()), mac_(key.key) {}
  void Add(const std::string& line) {
    if (keyed_) {
      mac_.Update(line);
      mac_.Update("\n");
    } else {
      sha_.Update(line);
      sha_.Update("\n");
    }
    ++lines_;
  }
  int64_t lines() const { return lines_; }
  std::string Finish() {
    return keyed_ ? "hmac-sha256:" + mac_.FinishHex() : "sha256:" + sha_.FinishHex();
  }

 private:
  bool keyed_;
  security::HmacSha256 mac_;
  security::Sha256 sha_;
  int64_t lines_ = 0;
};

Status WriteBackup(Database& db, FileStore& files, std::ostream& out, const BackupKey& key,
                   const std::optional<BackupHead>& head) {
  auto version = SchemaVersion(db);
  if (!version) return version.status();
  auto schema = SchemaColumns(db);
  if (!schema) return schema.status();
  const std::set<std::string> carried(CarriedTables().begin(), CarriedTables().end());
  for (const auto& [table, columns] : *schema) {
    if (!carried.count(table) && !LeftOut(table)) {
      return Status::Internal("the backup does not know table \"" + table +
                              "\": name it in storage/backup.cpp");
    }
  }
  json tables = json::array();
  for (const std::string& table : CarriedTables()) {
    auto found = schema->find(table);
    if (found == schema->end()) return Status::Internal("the schema has no table " + table);
    tables.push_back({{"name", table}, {"columns", found->second}});
  }
  Checksum sum(key);
  auto line = [&](const json& j) {
    const std::string text = j.dump();
    out << text << "\n";
    sum.Add(text);
  };
  line({{"format", kFormat},
        {"schema_version", *version},
        {"tables", tables},
        {"key_id", key.key.empty() ? json(nullptr) : json(key.key_id)},
        {"audit_head", head ? json{{"seq", head->seq}, {"hash", head->hash}} : json(nullptr)}});
  for (const json& table : tables) {
    std::string columns;
    for (const json& c : table["columns"])
      columns += (columns.empty() ? "" : ", ") + c.get<std::string>();
    auto rows =
        db.Query("SELECT " + columns + " FROM " + table["name"].get<std::string>() + " ORDER BY 1");
    if (!rows) return rows.status();
    for (const Row& row : *rows) {
      json values = json::array();
      for (size_t i = 0; i < row.size(); ++i) values.push_back(ToJson(row[i]));
      line({{"table", table["name"]}, {"row", values}});
    }
  }
  // Every file read is checked against its SHA-256 (FileStore::Read does): a damaged file is
  // found now, when the original may still be had, not at a restore.
  // Announcements' attachments and agencies' data files (case logs...) live in the same store
  // (column 4: 'a', 'd'; evidence: 'e').
  auto evidence = db.Query(
      "SELECT sha256, id, name, submission_id, 'e' FROM evidence UNION ALL SELECT sha256, id, "
      "name, announcement_id, 'a' FROM announcement_files UNION ALL SELECT sha256, upload_id, "
      "name, upload_id, 'd' FROM data_upload_files ORDER BY 1, 5, 2");
  if (!evidence) return evidence.status();
  std::string done, bad_th, bad_en;
  for (const Row& row : *evidence) {
    const std::string sha = row.Text(0);
    if (sha == done) continue;
    done = sha;
    auto bytes = files.Read(sha);
    if (!bytes) {
      const std::string reason_en = bytes.status().code() == StatusCode::kNotFound
                                        ? "the file is missing"
                                        : bytes.status().message_en();
      const std::string reason_th =
          bytes.status().code() == StatusCode::kNotFound ? "ไม่มีไฟล์" : bytes.status().message_th();
      const bool attachment = row.Text(4) == "a";
      const bool data = row.Text(4) == "d";
      bad_en += std::string("\n  ") +
                (data ? "data file " : attachment ? "attachment " : "evidence ") + row.Text(1) +
                " \"" + row.Text(2) + "\" of " +
                (data ? "upload " : attachment ? "announcement " : "submission ") + row.Text(3) +
                " (file " + sha + "): " + reason_en;
      bad_th += std::string("\n  ") +
                (data ? "ไฟล์ข้อมูลรหัส " : attachment ? "ไฟล์แนบรหัส " : "หลักฐานรหัส ") +
                row.Text(1) + " \"" + row.Text(2) + "\" ของ" +
                (data ? "การอัปโหลด " : attachment ? "ประกาศ " : "รายงาน ") + row.Text(3) +
                " (ไฟล์ " + sha + "): " + reason_th;
      continue;
    }
    if (!bad_en.empty()) continue;  // the backup fails: no need to write more
    line({{"file", sha}, {"hex", Hex(*bytes)}});
  }
  if (!bad_en.empty()) {
    return Status::DataLoss(
        "ไฟล์หลักฐานเสียหายหรือหายไป จึงไม่ได้สำรองข้อมูล:" + bad_th,
        "evidence files are damaged or missing, so no backup was made:" + bad_en);
  }
  const int64_t count = sum.lines();
  const json end = {{"end", {{"lines", count}, {"checksum", sum.Finish()}}}};
  out << end.dump() << "\n";
  out.flush();
  if (!out) return Status::IoError("เขียนข้อมูลสำรองไม่สำเร็จ", "writing the backup failed");
  return Status::Ok();
}

// Pass one: the header, the checksum over every line, the end line, and every file's hash.
// Nothing is written.
Result<BackupInfo> CheckWhole(std::istream& in, const BackupKey& key, json* header) {
  std::string line;
  if (!std::getline(in, line)) return Damaged(1, "ว่างเปล่า", "empty");
  try {
    *header = json::parse(line);
  } catch (const json::exception&) {
    return Refused("ไฟล์นี้ไม่ใช่ข้อมูลสำรองของ esar", "this file is not an esar backup");
  }
  if (!header->is_object() || !(*header)["format"].is_string()) {
    return Refused("ไฟล์นี้ไม่ใช่ข้อมูลสำรองของ esar", "this file is not an esar backup");
  }
  const std::string format = (*header)["format"];
  if (format != kFormat) {
    return Refused("เป็นรูปแบบ " + format + " ซึ่ง esar รุ่นนี้ไม่รับ (รูปแบบเดิมไม่มีค่าตรวจสอบ)",
                   "it is in format " + format +
                       ", which this esar does not take (older backups carry no checksum): "
                       "restore it with the esar that made it, then back up again");
  }
  BackupInfo info;
  const json& h = *header;
  if (!h["schema_version"].is_number_integer() || !h["tables"].is_array() ||
      !(h["key_id"].is_null() || h["key_id"].is_string()) ||
      !(h["audit_head"].is_null() ||
        (h["audit_head"].is_object() && h["audit_head"]["seq"].is_number_integer() &&
         h["audit_head"]["hash"].is_string()))) {
    return Damaged(1, "ส่วนหัวไม่ครบ", "the header is incomplete");
  }
  info.schema_version = h["schema_version"].get<int>();
  info.key_id = h["key_id"].is_string() ? h["key_id"].get<std::string>() : "";
  if (h["audit_head"].is_object()) {
    info.head = BackupHead{h["audit_head"]["seq"].get<int64_t>(),
                           h["audit_head"]["hash"].get<std::string>()};
  }
  if (!info.key_id.empty() && key.key.empty()) {
    return Refused("ผนึกด้วยกุญแจบันทึกการตรวจสอบรหัส " + info.key_id +
                       " ต้องให้กุญแจนั้น (--audit-key-file หรือ --data-dir ที่มีกุญแจ)",
                   "it is sealed with audit key " + info.key_id +
                       ": give that key (--audit-key-file, or a --data-dir holding it)");
  }
  if (!info.key_id.empty() && info.key_id != key.key_id) {
    return Refused(
        "ผนึกด้วยกุญแจรหัส " + info.key_id + " ไม่ใช่กุญแจที่ให้มา (" + key.key_id + ")",
        "it is sealed with audit key " + info.key_id + ", not the key given (" + key.key_id + ")");
  }
  if (info.key_id.empty() && !key.key.empty()) {
    return Refused(
        "ไม่ได้ผนึกด้วยกุญแจ แต่ที่นี่มีกุญแจบันทึกการตรวจสอบ: ข้อมูลสำรองที่ไม่ผนึกอาจถูกแก้ไขระหว่างทาง",
        "it is not sealed with a key, but there is an audit key here: an unsealed backup "
        "could have been changed on the way (restore it where there is no key; see "
        "docs/operations.md)");
  }
  Checksum sum(info.key_id.empty() ? BackupKey{} : key);
  sum.Add(line);
  size_t number = 1;
  json end;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("{\"end\":", 0) == 0) {
      try {
        end = json::parse(line);
      } catch (const json::exception&) {
        return Damaged(number, "บรรทัดท้ายอ่านไม่ได้", "the end line cannot be read");
      }
      break;
    }
    sum.Add(line);
    // Each file against its hash too: with a checksum recomputed by whoever changed the file
    // (possible without a key), a file is still never written under a name it does not match.
    if (line.rfind("{\"file\":", 0) == 0) {
      json entry;
      try {
        entry = json::parse(line);
      } catch (const json::exception&) {
        return Damaged(number, "ไม่ใช่ JSON", "not JSON");
      }
      if (!entry["file"].is_string() || !entry["hex"].is_string())
        return Damaged(number, "รายการไฟล์ไม่มีชื่อหรือเนื้อไฟล์", "a file entry without its name or bytes");
      auto bytes = Unhex(entry["hex"].get<std::string>());
      if (!bytes) return Damaged(number, bytes.status().message_th(), bytes.status().message_en());
      const std::string sha = entry["file"];
      if (security::Sha256Hex(*bytes) != sha)
        return Damaged(number, "ไฟล์ " + sha + " ไม่ตรงกับค่า SHA-256",
                       "file " + sha + " does not match its SHA-256");
    }
  }
  if (end.is_null()) {
    return Damaged(number, "ไม่มีบรรทัดท้าย: ไฟล์ถูกตัดหรือไม่ครบ",
                   "there is no end line: the file was cut short");
  }
  if (std::getline(in, line)) {
    return Damaged(number + 1, "มีข้อมูลต่อท้ายบรรทัดท้าย", "there is more after the end line");
  }
  const json& e = end["end"];
  if (!e.is_object() || !e["lines"].is_number_integer() || !e["checksum"].is_string())
    return Damaged(number, "บรรทัดท้ายไม่ครบ", "the end line is incomplete");
  if (e["lines"].get<int64_t>() != sum.lines()) {
    return Damaged(
        number,
        "จำนวนบรรทัดไม่ตรง (" + std::to_string(sum.lines()) + " แทน " + e["lines"].dump() + ")",
        "the number of lines does not match (" + std::to_string(sum.lines()) + " instead of " +
            e["lines"].dump() + ")");
  }
  if (!security::ConstantTimeEquals(sum.Finish(), e["checksum"].get<std::string>())) {
    return Refused(info.key_id.empty()
                       ? "ค่าตรวจสอบ SHA-256 ไม่ตรง: ไฟล์เสียหายหรือถูกแก้ไข"
                       : "ค่าตรวจสอบ (HMAC ด้วยกุญแจบันทึกการตรวจสอบ) ไม่ตรง: ไฟล์ถูกแก้ไขหรือเสียหาย",
                   info.key_id.empty()
                       ? "its SHA-256 checksum does not match: the file is damaged or was changed"
                       : "its checksum (an HMAC under the audit key) does not match: the file "
                         "was changed or damaged");
  }
  return info;
}

// Writes one backed-up file into the store (its hash was checked in pass one; the store
// computes it again as it writes).
Status RestoreFile(FileStore& files, const std::string& sha, const std::string& hex, size_t line) {
  auto bytes = Unhex(hex);
  if (!bytes) return bytes.status();
  auto writer = files.Create();
  if (!writer) return writer.status();
  Status written = (*writer)->Write(*bytes);
  if (!written.ok()) return written;
  auto stored = (*writer)->Commit();
  if (!stored) return stored.status();
  if (stored->sha256 != sha)
    return Damaged(line, "ไฟล์ " + sha + " ไม่ตรงกับค่า SHA-256",
                   "file " + sha + " does not match its SHA-256");
  return Status::Ok();
}

}  // namespace

Status Backup(Database& db, FileStore& files, std::ostream& out, const BackupKey& key,
              const std::optional<BackupHead>& head) {
  // One transaction, so that every table is read as of one moment (a consistent snapshot: with
  // the server running, no row can appear without the rows it refers to).
  return db.Transaction([&]() -> Status {
    if (db.dialect() == Dialect::kPostgres) {
      Status isolated = db.Execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
      if (!isolated.ok()) return isolated;
    }
    return WriteBackup(db, files, out, key, head);
  });
}

Status Restore(Database& db, FileStore& files, std::istream& in, const RestoreOptions& options,
               BackupInfo* info_out) {
  json header;
  auto checked = CheckWhole(in, options.key, &header);
  if (!checked) return checked.status();
  const BackupInfo& info = *checked;
  if (info_out) *info_out = info;
  auto version = SchemaVersion(db);
  if (!version) return version.status();
  if (info.schema_version != *version) {
    return Status::InvalidInput("ข้อมูลสำรองเป็นโครงสร้างรุ่น " + std::to_string(info.schema_version) +
                                    " แต่ฐานข้อมูลเป็นรุ่น " + std::to_string(*version),
                                "the backup has schema version " +
                                    std::to_string(info.schema_version) + ", the database " +
                                    std::to_string(*version));
  }
  auto schema = SchemaColumns(db);
  if (!schema) return schema.status();
  std::map<std::string, std::vector<std::string>> columns_of;
  for (const json& t : header["tables"]) {
    if (!t.is_object() || !t["name"].is_string() || !t["columns"].is_array())
      return Damaged(1, "รายชื่อตารางอ่านไม่ได้", "the list of tables cannot be read");
    const std::string name = t["name"];
    std::vector<std::string> columns;
    for (const json& c : t["columns"]) {
      if (!c.is_string()) return Damaged(1, "รายชื่อคอลัมน์อ่านไม่ได้", "a column name cannot be read");
      columns.push_back(c);
    }
    auto here = schema->find(name);
    if (here == schema->end() || std::set<std::string>(here->second.begin(), here->second.end()) !=
                                     std::set<std::string>(columns.begin(), columns.end())) {
      return Status::InvalidInput("ตาราง " + name + " ในข้อมูลสำรองไม่ตรงกับฐานข้อมูล",
                                  "table " + name + " of the backup does not match the database's");
    }
    columns_of[name] = std::move(columns);
  }
  auto existing = db.Query("SELECT (SELECT COUNT(*) FROM agencies) + (SELECT COUNT(*) FROM users)");
  if (!existing) return existing.status();
  if ((*existing)[0].Int(0) != 0) {
    return Status::Conflict("ฐานข้อมูลปลายทางต้องว่างเปล่า",
                            "the database to restore into must be empty");
  }

  // Pass two: the rows and files, in one transaction.
  in.clear();
  in.seekg(0);
  std::string line;
  std::getline(in, line);  // the header, read already
  std::vector<std::tuple<std::string, std::string, Value, Value>>
      second_pass;  // table, column, value, key
  std::vector<std::string> written_files;
  std::set<std::pair<std::string, int64_t>> result_rows_ready;  // PrepareResultRowsFor's
  size_t line_number = 1;
  Status restored = db.Transaction([&]() -> Status {
    while (std::getline(in, line)) {
      ++line_number;
      if (line.rfind("{\"end\":", 0) == 0) break;
      json entry;
      try {
        entry = json::parse(line);
      } catch (const json::exception&) {
        return Damaged(line_number, "ไม่ใช่ JSON", "not JSON");
      }
      if (entry.contains("file")) {
        const std::string sha = entry["file"];
        const bool had = files.Exists(sha);
        Status written = RestoreFile(files, sha, entry["hex"].get<std::string>(), line_number);
        if (!written.ok()) return written;
        if (!had) written_files.push_back(sha);
        continue;
      }
      auto t = columns_of.find(entry.value("table", ""));
      if (t == columns_of.end() || !entry["row"].is_array() ||
          entry["row"].size() != t->second.size()) {
        return Damaged(line_number, "ไม่มีตารางนี้หรือจำนวนคอลัมน์ไม่ตรง",
                       "unknown table or wrong number of columns");
      }
      const std::string& table = t->first;
      const std::vector<std::string>& table_columns = t->second;
      std::string columns, marks;
      std::vector<Value> values;
      for (size_t i = 0; i < table_columns.size(); ++i) {
        auto v = FromJson(entry["row"][i]);
        if (!v) return Damaged(line_number, v.status().message_th(), v.status().message_en());
        if (SelfReference(table, table_columns[i]) && !std::holds_alternative<std::monostate>(*v)) {
          second_pass.emplace_back(table, table_columns[i], *v, FromJson(entry["row"][0]).value());
          *v = Value{};
        }
        columns += (i ? ", " : "") + table_columns[i];
        marks += i ? ", ?" : "?";
        values.push_back(std::move(*v));
      }
      if (table == "result_totals" || table == "result_kpis") {
        Status ready = PrepareResultRowsFor(db, table, table_columns, values, result_rows_ready);
        if (!ready.ok()) return Damaged(line_number, ready.message_th(), ready.message_en());
      }
      Status s =
          db.Execute("INSERT INTO " + table + " (" + columns + ") VALUES (" + marks + ")", values);
      if (!s.ok()) return Damaged(line_number, s.message_th(), s.message_en());
      if (table == "results") {
        Status ready = PrepareResultRowsFor(db, table, table_columns, values, result_rows_ready);
        if (!ready.ok()) return Damaged(line_number, ready.message_th(), ready.message_en());
      }
    }
    for (const auto& [table, column, value, key] : second_pass) {
      const std::string key_column = table == "agencies" ? "code" : "id";
      Status s = db.Execute(
          "UPDATE " + table + " SET " + column + " = ? WHERE " + key_column + " = ?", {value, key});
      if (!s.ok()) return s;
    }
    if (db.dialect() == Dialect::kPostgres) {
      for (const auto& [table, columns] : columns_of) {
        if (std::find(columns.begin(), columns.end(), "id") == columns.end()) continue;
        // setval of NULL (a table whose id is not generated) does nothing.
        Status s = db.Execute("SELECT setval(pg_get_serial_sequence('" + table + "', 'id'), " +
                              "COALESCE((SELECT MAX(id) FROM " + table + "), 0) + 1, false)");
        if (!s.ok()) return s;
      }
    }
    return options.check ? options.check(info) : Status::Ok();
  });
  if (!restored.ok()) {
    for (const std::string& sha : written_files) (void)files.Remove(sha);
  }
  return restored;
}

}  // namespace esar::storage
