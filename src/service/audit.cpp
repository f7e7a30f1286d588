#include "service/audit.h"

#include "security/crypto.h"

namespace esar::service {
namespace {

const std::string kGenesis(64, '0');

// Each field as its length, a colon and itself: no field can be confused with its neighbours.
std::string EntryHash(const std::string& prev, int64_t seq, int64_t at, int64_t actor,
                      const std::string& action, const std::string& entity,
                      const std::string& before, const std::string& after) {
  std::string canonical;
  for (const std::string& field : {prev, std::to_string(seq), std::to_string(at),
                                   std::to_string(actor), action, entity, before, after}) {
    canonical += std::to_string(field.size()) + ":" + field + ";";
  }
  return security::Sha256Hex(canonical);
}

}  // namespace

Status AuditLog::Append(const Actor& actor, int64_t at_ms, const std::string& action,
                        const std::string& entity, const std::string& before_json,
                        const std::string& after_json) {
  if (db_.dialect() == storage::Dialect::kPostgres) {
    // One appender at a time until this transaction ends (SQLite's write lock does this there).
    Status locked = db_.Execute("SELECT pg_advisory_xact_lock(7263171)");
    if (!locked.ok()) return locked;
  }
  auto last = db_.Query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  if (!last) return last.status();
  const int64_t seq = last->empty() ? 1 : (*last)[0].Int(0) + 1;
  const std::string prev = last->empty() ? kGenesis : (*last)[0].Text(1);
  const std::string hash =
      EntryHash(prev, seq, at_ms, actor.user_id, action, entity, before_json, after_json);
  return db_.Execute(
      "INSERT INTO audit_log (seq, at, actor, action, entity, before_json, after_json, prev_hash, "
      "hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {seq, at_ms, actor.user_id, action, entity, before_json, after_json, prev, hash});
}

Result<AuditLog::Verification> AuditLog::Verify() {
  auto rows = db_.Query(
      "SELECT seq, at, actor, action, entity, before_json, after_json, prev_hash, hash FROM "
      "audit_log ORDER BY seq");
  if (!rows) return rows.status();
  Verification out;
  std::string prev = kGenesis;
  int64_t expected = 1;
  for (const storage::Row& r : *rows) {
    ++out.entries;
    const int64_t seq = r.Int(0);
    auto broken = [&](const std::string& th, const std::string& en) {
      out.first_broken = seq;
      out.problem_th = "รายการที่ " + std::to_string(seq) + ": " + th;
      out.problem_en = "entry " + std::to_string(seq) + ": " + en;
    };
    if (seq != expected) {
      out.first_broken = expected;
      out.problem_th = "รายการที่ " + std::to_string(expected) + " หายไป";
      out.problem_en = "entry " + std::to_string(expected) + " is missing";
      return out;
    }
    if (r.Text(7) != prev) {
      broken("ไม่ได้ต่อจากรายการก่อนหน้า", "does not follow the entry before it");
      return out;
    }
    const std::string hash =
        EntryHash(prev, seq, r.Int(1), r.Int(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6));
    if (hash != r.Text(8)) {
      broken("เนื้อหาถูกแก้ไขหลังบันทึก", "was changed after it was written");
      return out;
    }
    prev = hash;
    ++expected;
  }
  return out;
}

}  // namespace esar::service
