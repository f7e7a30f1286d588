#include "service/audit.h"

#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "security/crypto.h"
#include "service/audit_state.h"

namespace esar::service {
namespace {

using nlohmann::json;

const std::string kGenesis(64, '0');
constexpr size_t kMaxProblems = 100;

std::mutex seal_mutex;
std::shared_ptr<const AuditSeal> process_seal;  // guarded by seal_mutex

// Each field as its length, a colon and itself: no field can be confused with its neighbours.
// The digests of the state are the last field, present only in entries that have them (entries
// written before esar recorded them hash as they always did).
std::string EntryHash(const std::string& prev, int64_t seq, int64_t at, int64_t actor,
                      const std::string& action, const std::string& entity,
                      const std::string& before, const std::string& after,
                      const std::optional<std::string>& states) {
  std::string canonical;
  for (const std::string& field : {prev, std::to_string(seq), std::to_string(at),
                                   std::to_string(actor), action, entity, before, after}) {
    canonical += std::to_string(field.size()) + ":" + field + ";";
  }
  if (states) canonical += std::to_string(states->size()) + ":" + *states + ";";
  return security::Sha256Hex(canonical);
}

Status SealedWithoutKey() {
  return Status::Conflict(
      "บันทึกการตรวจสอบนี้ผนึกด้วยกุญแจแล้ว แต่ esar ไม่ได้รับกุญแจ: ระบุ --data-dir ของเซิร์ฟเวอร์ "
      "หรือ --audit-key-file",
      "this audit log is sealed with a key esar was not given: give the server's --data-dir or "
      "--audit-key-file");
}

}  // namespace

void AuditLog::UseSeal(std::shared_ptr<const AuditSeal> seal) {
  std::lock_guard<std::mutex> lock(seal_mutex);
  process_seal = std::move(seal);
}

std::shared_ptr<const AuditSeal> AuditLog::Seal() {
  std::lock_guard<std::mutex> lock(seal_mutex);
  return process_seal;
}

Status AuditLog::Append(const Actor& actor, int64_t at_ms, const std::string& action,
                        const std::string& entity, const std::string& before_json,
                        const std::string& after_json, const std::vector<std::string>& also,
                        const std::map<std::string, std::string>& known_states) {
  const std::shared_ptr<const AuditSeal> seal = Seal();
  // Taken before the state is read: whatever another appender committed first is then part of
  // it, so that the newest digest of an entity is always of its newest state.
  Status locked = LockForAppend();
  if (!locked.ok()) return locked;
  // Read inside the caller's transaction: the state its change leaves.
  json states = json::object();
  std::vector<std::string> touched = {entity};
  touched.insert(touched.end(), also.begin(), also.end());
  for (const std::string& e : touched) {
    if (!HasStateDigest(e) || states.contains(e)) continue;
    if (auto known = known_states.find(e); known != known_states.end()) {
      states[e] = known->second;
      continue;
    }
    auto state = StateOf(db_, e);
    if (!state) return state.status();
    states[e] = state->digest;
  }
  const std::optional<std::string> states_text =
      states.empty() ? std::nullopt : std::optional<std::string>(states.dump());
  auto last = db_.Query("SELECT seq, hash, mac FROM audit_log ORDER BY seq DESC LIMIT 1");
  if (!last) return last.status();
  if (!seal && !last->empty() && !(*last)[0].IsNull(2)) return SealedWithoutKey();
  const int64_t seq = last->empty() ? 1 : (*last)[0].Int(0) + 1;
  const std::string prev = last->empty() ? kGenesis : (*last)[0].Text(1);
  const std::string hash = EntryHash(prev, seq, at_ms, actor.user_id, action, entity, before_json,
                                     after_json, states_text);
  auto text_or_null = [](const std::optional<std::string>& s) {
    return s ? storage::Value{*s} : storage::Value{};
  };
  Status inserted = db_.Execute(
      "INSERT INTO audit_log (seq, at, actor, action, entity, before_json, after_json, prev_hash, "
      "hash, states, key_id, mac) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {seq, at_ms, actor.user_id, action, entity, before_json, after_json, prev, hash,
       text_or_null(states_text), seal ? storage::Value{seal->key_id()} : storage::Value{},
       seal ? storage::Value{seal->SealEntry(hash)} : storage::Value{}});
  if (!inserted.ok()) return inserted;
  if (seal) {
    db_.AfterCommit([seal, seq, hash] {
      // The change is committed whatever happens here; a head left behind is only a shorter
      // stretch at the end that verify cannot vouch for, and it says so on the next entry.
      Status moved = seal->AdvanceHead({seq, hash});
      if (!moved.ok()) {
        std::cerr << "esar: the audit chain head was not moved to entry " << seq << ": "
                  << moved.message_en() << std::endl;
      }
    });
  }
  return Status::Ok();
}

Status AuditLog::LockForAppend() {
  // SQLite's write lock, taken by every transaction at its start, does this there.
  if (db_.dialect() != storage::Dialect::kPostgres) return Status::Ok();
  return db_.Execute("SELECT pg_advisory_xact_lock(7263171)");
}

Result<bool> AuditLog::IsSealed() {
  auto rows = db_.Query("SELECT 1 FROM audit_log WHERE mac IS NOT NULL LIMIT 1");
  if (!rows) return rows.status();
  return !rows->empty();
}

Status AuditLog::Prepare(int64_t now_ms) {
  const std::shared_ptr<const AuditSeal> seal = Seal();
  auto sealed =
      db_.Query("SELECT key_id FROM audit_log WHERE mac IS NOT NULL ORDER BY seq DESC LIMIT 1");
  if (!sealed) return sealed.status();
  if (!seal) return sealed->empty() ? RecordRebaselines(now_ms) : SealedWithoutKey();
  if (!sealed->empty()) {
    const std::string key_id = (*sealed)[0].Text(0);
    if (key_id != seal->key_id()) {
      return Status::Conflict("บันทึกการตรวจสอบนี้ผนึกด้วยกุญแจรหัส " + key_id + " ไม่ใช่กุญแจที่ให้มา (" +
                                  seal->key_id() + "): ใช้ไฟล์กุญแจเดิมของระบบนี้",
                              "this audit log is sealed with key " + key_id +
                                  ", not the key given (" + seal->key_id() +
                                  "): use this installation's own key file");
    }
    auto head = seal->ReadHead();
    if (!head) return head.status();
    if (!*head) {
      return Status::Conflict(
          "ไม่มีไฟล์หัวของบันทึกการตรวจสอบ " + seal->head_file() +
              ": นำกลับมาจากที่เก็บไว้ หรือตรวจสอบด้วย esar audit verify --write-head (ดู "
              "docs/operations.md)",
          "the chain head file " + seal->head_file() +
              " is missing: bring it back, or check the log with esar audit verify --write-head "
              "(see docs/operations.md)");
    }
    return RecordRebaselines(now_ms);
  }
  // The head file is written before the seal commits, naming the last entry committed already
  // (never one ahead of the log). A server that finds the log sealed then always finds a head
  // too: another one starting at the same moment, between this seal's commit and its head's
  // move, refused to start, taking the head for one lost. An existing head further on (entries
  // removed from the end since) stays where it is, for verify to report.
  auto last = db_.Query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  if (!last) return last.status();
  Status anchored = seal->AdvanceHead(
      last->empty() ? ChainHead{0, kGenesis} : ChainHead{(*last)[0].Int(0), (*last)[0].Text(1)});
  if (!anchored.ok()) return anchored;
  Status sealed_now = db_.Transaction([&]() -> Status {
    // Checked again under the appenders' lock: another process may have sealed it meanwhile, and
    // two servers starting at once must not both record a baseline.
    Status locked = LockForAppend();
    if (!locked.ok()) return locked;
    auto again = db_.Query("SELECT 1 FROM audit_log WHERE mac IS NOT NULL LIMIT 1");
    if (!again) return again.status();
    if (!again->empty()) return Status::Ok();
    // Listed in the transaction that records them, so the baseline is of one moment.
    auto entities = LiveEntities(db_);
    if (!entities) return entities.status();
    return Append(Actor::System(), now_ms, "audit.seal", "audit", "{}",
                  json{{"key_id", seal->key_id()}}.dump(), *entities);
  });
  if (!sealed_now.ok()) return sealed_now;
  return RecordRebaselines(now_ms);
}

Status AuditLog::RecordRebaselines(int64_t now_ms) {
  // Looked at outside a transaction first: nearly every start finds nothing to do.
  auto pending = db_.Query("SELECT 1 FROM audit_rebaselines LIMIT 1");
  if (!pending) return pending.status();
  if (pending->empty()) return Status::Ok();
  return db_.Transaction([&]() -> Status {
    // Read again under the appenders' lock: two servers starting at once after an upgrade
    // must record one entry, not two.
    Status locked = LockForAppend();
    if (!locked.ok()) return locked;
    auto rows = db_.Query("SELECT entity, migration FROM audit_rebaselines ORDER BY entity");
    if (!rows) return rows.status();
    if (rows->empty()) return Status::Ok();
    std::vector<std::string> entities;
    std::set<int64_t> migrations;
    for (const storage::Row& r : *rows) {
      entities.push_back(r.Text(0));
      migrations.insert(r.Int(1));
    }
    std::string th = "โครงสร้างฐานข้อมูลรุ่นใหม่เขียนข้อมูลเหล่านี้ใหม่ (migration";
    std::string en = "the schema upgrade rewrote these (migration";
    for (int64_t m : migrations) {
      th += " " + std::to_string(m);
      en += " " + std::to_string(m);
    }
    th += "): สถานะที่บันทึกไว้ก่อนหน้านี้เป็นของรูปแบบเดิม จึงบันทึกสถานะหลังปรับรุ่นเป็นฐานใหม่";
    en += "): the states recorded before were of their old shape, so their state after the "
          "upgrade is recorded as the new baseline";
    Status appended =
        Append(Actor::System(), now_ms, "audit.rebaseline", "audit", "{}",
               json{{"migrations", std::vector<int64_t>(migrations.begin(), migrations.end())},
                    {"entities", entities},
                    {"reason_th", th},
                    {"reason_en", en}}
                   .dump(),
               entities);
    if (!appended.ok()) return appended;
    return db_.Execute("DELETE FROM audit_rebaselines");
  });
}

Result<AuditLog::Verification> AuditLog::Verify(const VerifyOptions& options) {
  // The head file first, then the database as of one moment: a head moves only once its entry
  // has committed, so a snapshot begun after reading it holds that entry; and in one snapshot
  // every entity is in the state the last entry touching it recorded, whatever other servers
  // commit meanwhile. (Read the other way round, an entry committed between the reads looked
  // like entries cut from the end, or like rows changed outside esar.)
  std::optional<Result<std::optional<ChainHead>>> head_file;
  if (options.seal && options.head_file) head_file = options.seal->ReadHead();
  std::optional<Result<Verification>> out;
  Status read = db_.ReadSnapshot([&]() -> Status {
    out = VerifySnapshot(options, head_file);
    return out->status();
  });
  if (!read.ok()) return read;
  return std::move(*out);
}

Result<AuditLog::Verification> AuditLog::VerifySnapshot(
    const VerifyOptions& options,
    const std::optional<Result<std::optional<ChainHead>>>& head_file) {
  auto rows = db_.Query(
      "SELECT seq, at, actor, action, entity, before_json, after_json, prev_hash, hash, states, "
      "key_id, mac FROM audit_log ORDER BY seq");
  if (!rows) return rows.status();
  Verification out;
  auto problem = [&](int64_t seq, const std::string& th, const std::string& en) {
    if (out.problems.empty()) {
      out.problem_th = th;
      out.problem_en = en;
    }
    if (out.problems.size() < kMaxProblems) out.problems.push_back({seq, th, en});
  };
  auto entry = [](int64_t seq) { return std::to_string(seq); };

  // 1. The chain: numbering, links, hashes and seals.
  std::string prev = kGenesis;
  int64_t expected = 1;
  bool chain_whole = true, seen_sealed = false, said_no_key = false;
  bool first_has_states = false, baseline = false;
  std::map<std::string, std::pair<std::string, int64_t>> recorded;  // entity -> digest, entry
  std::vector<std::string> hashes;                                  // by seq - 1
  for (const storage::Row& r : *rows) {
    const int64_t seq = r.Int(0);
    auto broken = [&](const std::string& th, const std::string& en) {
      out.first_broken = seq;
      chain_whole = false;
      problem(seq, "รายการที่ " + entry(seq) + ": " + th, "entry " + entry(seq) + ": " + en);
    };
    if (seq != expected) {
      out.first_broken = expected;
      chain_whole = false;
      problem(expected, "รายการที่ " + entry(expected) + " หายไป",
              "entry " + entry(expected) + " is missing");
      break;
    }
    ++out.entries;
    if (r.Text(7) != prev) {
      broken("ไม่ได้ต่อจากรายการก่อนหน้า", "does not follow the entry before it");
      break;
    }
    const std::optional<std::string> states =
        r.IsNull(9) ? std::nullopt : std::optional<std::string>(r.Text(9));
    const std::string hash = EntryHash(prev, seq, r.Int(1), r.Int(2), r.Text(3), r.Text(4),
                                       r.Text(5), r.Text(6), states);
    if (hash != r.Text(8)) {
      broken("เนื้อหาถูกแก้ไขหลังบันทึก", "was changed after it was written");
      break;
    }
    if (!r.IsNull(11)) {
      seen_sealed = true;
      const std::string key_id = r.Text(10);
      if (!options.seal) {
        if (!said_no_key) {
          said_no_key = true;
          problem(seq,
                  "รายการที่ " + entry(seq) + " เป็นต้นไปผนึกด้วยกุญแจรหัส " + key_id +
                      " ซึ่งไม่ได้ให้มา จึงตรวจไม่ได้: ระบุ --data-dir หรือ --audit-key-file",
                  "entries from " + entry(seq) + " on are sealed with key " + key_id +
                      ", which was not given, so they cannot be checked: give --data-dir or "
                      "--audit-key-file");
        }
      } else if (key_id != options.seal->key_id()) {
        broken("ผนึกด้วยกุญแจรหัส " + key_id + " ไม่ใช่กุญแจที่ให้มา (" + options.seal->key_id() + ")",
               "is sealed with key " + key_id + ", not the key given (" + options.seal->key_id() +
                   ")");
        break;
      } else if (!security::ConstantTimeEquals(r.Text(11), options.seal->SealEntry(hash))) {
        broken("ตราผนึกไม่ตรง: ถูกเขียนใหม่โดยไม่มีกุญแจ",
               "its seal does not match: it was rewritten without the audit key");
        break;
      } else {
        ++out.sealed;
      }
    } else if (seen_sealed) {
      broken("ไม่ได้ผนึก ทั้งที่รายการก่อนหน้าผนึกแล้ว: ถูกเขียนโดยไม่มีกุญแจ",
             "is not sealed, though the entries before it are: it was written without the key");
      break;
    }
    if (seq == 1) first_has_states = states.has_value();
    if (r.Text(3) == "audit.seal" && !r.IsNull(11)) baseline = true;
    if (states) {
      json parsed;
      try {
        parsed = json::parse(*states);
      } catch (const json::exception&) {
        parsed = nullptr;
      }
      if (!parsed.is_object()) {
        broken("ค่าสรุปสถานะอ่านไม่ได้", "its state digests cannot be read");
        break;
      }
      for (const auto& [entity, digest] : parsed.items()) {
        recorded[entity] = {digest.is_string() ? digest.get<std::string>() : "", seq};
      }
    }
    hashes.push_back(hash);
    prev = hash;
    ++expected;
  }
  if (!hashes.empty()) out.last = ChainHead{static_cast<int64_t>(hashes.size()), hashes.back()};

  // 2. The heads kept outside the database: entries removed from the end, or a rewritten chain.
  std::vector<std::pair<ChainHead, std::string>> heads;  // head, where it was kept
  for (const ChainHead& h : options.heads) heads.emplace_back(h, "given");
  if (head_file) {
    const auto& head = *head_file;
    if (!head) {
      problem(0, head.status().message_th(), head.status().message_en());
    } else if (*head) {
      heads.emplace_back(**head, options.seal->head_file());
    } else if (seen_sealed) {
      problem(0,
              "ไม่มีไฟล์หัวของบันทึกการตรวจสอบ " + options.seal->head_file() +
                  ": หาไม่ได้ว่ารายการท้ายบันทึกถูกลบหรือไม่",
              "the chain head file " + options.seal->head_file() +
                  " is missing: entries removed from the end could not be found");
    }
  }
  const int64_t last_seq = out.last ? out.last->seq : 0;
  if (chain_whole) {
    for (const auto& [head, where] : heads) {
      if (head.seq > last_seq) {
        problem(last_seq + 1,
                "รายการที่ " + entry(last_seq + 1) + " ถึง " + entry(head.seq) +
                    " หายไป: บันทึกจบที่รายการ " + entry(last_seq) + " แต่หัวของบันทึกที่เก็บไว้นอกฐานข้อมูล (" +
                    where + ") อยู่ที่รายการ " + entry(head.seq),
                "entries " + entry(last_seq + 1) + " to " + entry(head.seq) +
                    " are missing: the log ends at entry " + entry(last_seq) +
                    ", but the chain head kept outside the database (" + where + ") is at entry " +
                    entry(head.seq));
      } else if (head.seq > 0 && hashes[static_cast<size_t>(head.seq - 1)] != head.hash) {
        problem(head.seq,
                "รายการที่ " + entry(head.seq) + " ไม่ใช่รายการที่หัวของบันทึกนอกฐานข้อมูล (" + where +
                    ") ระบุ: บันทึกถูกเขียนใหม่",
                "entry " + entry(head.seq) +
                    " is not the one the chain head kept outside the database (" + where +
                    ") names: the log was rewritten");
      }
    }
  }

  // 3. The live state against the newest digests the log recorded. Only over a whole chain:
  // past a break, the log no longer says what the state should be.
  if (chain_whole && !recorded.empty()) {
    // Once the log has recorded every entity (from its first entry, or at its sealing), an
    // entity it never heard of was made outside esar.
    const bool complete = first_has_states || baseline;
    auto live = LiveEntities(db_);
    if (!live) return live.status();
    const std::set<std::string> existing(live->begin(), live->end());
    for (const auto& [entity, digest_seq] : recorded) {
      if (!HasStateDigest(entity)) continue;
      auto state = StateOf(db_, entity);
      if (!state) return state.status();
      ++out.entities;
      if (state->digest == digest_seq.first) continue;
      const std::string at = entry(digest_seq.second);
      if (!state->exists) {
        problem(digest_seq.second, entity + " ถูกลบออกนอก esar (บันทึกล่าสุดที่รายการ " + at + ")",
                entity + " was removed outside esar (last recorded by entry " + at + ")");
      } else {
        problem(digest_seq.second,
                entity + " ไม่ตรงกับสถานะที่บันทึกไว้ที่รายการ " + at +
                    " (การเปลี่ยนแปลงล่าสุดที่บันทึกรู้จัก): ถูกแก้ไขนอก esar",
                entity + " differs from its state recorded by entry " + at +
                    " (its last change the log knows of): it was changed outside esar");
      }
    }
    for (const std::string& entity : existing) {
      if (recorded.count(entity)) continue;
      if (!complete) {
        ++out.unrecorded;
        continue;
      }
      problem(0, entity + " ไม่มีในบันทึกการตรวจสอบ: ถูกสร้างนอก esar",
              entity + " is not in the audit log: it was made outside esar");
    }
  } else if (chain_whole) {
    auto live = LiveEntities(db_);
    if (!live) return live.status();
    out.unrecorded = static_cast<int64_t>(live->size());
  }

  // 4. The evidence files' bytes against their SHA-256.
  if (options.files) {
    // Announcements' attachments and agencies' data files live in the same store (column 3:
    // 'a', 'd'; evidence: 'e').
    auto evidence = db_.Query(
        "SELECT sha256, id, name, 'e' FROM evidence UNION ALL SELECT sha256, id, name, 'a' FROM "
        "announcement_files UNION ALL SELECT sha256, upload_id, name, 'd' FROM data_upload_files "
        "ORDER BY 1, 4, 2");
    if (!evidence) return evidence.status();
    std::string done;
    for (const storage::Row& r : *evidence) {
      const std::string sha = r.Text(0);
      if (sha == done) continue;
      done = sha;
      ++out.files;
      auto bytes = options.files->Read(sha);
      if (bytes) continue;
      const bool attachment = r.Text(3) == "a";
      const bool data = r.Text(3) == "d";
      const std::string which =
          (data ? "data file of upload " : attachment ? "announcement attachment " : "evidence ") +
          r.Text(1) + " \"" + r.Text(2) + "\" (file " + sha + ")";
      const std::string which_th =
          (data ? "ไฟล์ข้อมูลของการอัปโหลดรหัส " : attachment ? "ไฟล์แนบประกาศรหัส " : "หลักฐานรหัส ") +
          r.Text(1) + " \"" + r.Text(2) + "\" (ไฟล์ " + sha + ")";
      if (bytes.status().code() == StatusCode::kNotFound) {
        problem(0, which_th + " ไม่มีไฟล์อยู่", which + ": the file is missing");
      } else {
        problem(0, which_th + ": " + bytes.status().message_th(),
                which + ": " + bytes.status().message_en());
      }
    }
  }
  return out;
}

}  // namespace esar::service
