#include "audit_key.h"

#include <filesystem>
#include <iostream>

#include "common/clock.h"
#include "service/audit.h"

namespace esar::cli {

Result<std::shared_ptr<const service::AuditSeal>> OpenAuditSeal(storage::Database& db,
                                                                const AuditKeyFlags& flags,
                                                                KeyUse use, Lang lang) {
  const bool named = !flags.key_file.empty();
  const std::string key_file = named ? flags.key_file : flags.data_dir + "/audit.key";
  const std::string head_file = flags.data_dir + "/audit.head";
  auto seal = service::AuditSeal::Load(key_file, head_file);
  if (seal) return *seal;
  if (seal.status().code() != StatusCode::kNotFound || named) return seal.status();
  // No key where the data folder keeps one.
  auto sealed = service::AuditLog(db).IsSealed();
  if (!sealed) return sealed.status();
  if (use == KeyUse::kIfPresent && !*sealed) return std::shared_ptr<const service::AuditSeal>();
  if (*sealed) {
    // A server sharing the data folder, started at the same moment, may have made the key and
    // sealed the log since the first look: it links the key in before it seals, so a log found
    // sealed means its key, if it is to be here at all, is here now.
    auto made_meanwhile = service::AuditSeal::Load(key_file, head_file);
    if (made_meanwhile || made_meanwhile.status().code() != StatusCode::kNotFound) {
      return made_meanwhile;
    }
    if (use == KeyUse::kIfPresent) return std::shared_ptr<const service::AuditSeal>();
    return Status::Conflict(
        "ไม่มีกุญแจบันทึกการตรวจสอบ " + key_file +
            " แต่บันทึกการตรวจสอบของฐานข้อมูลนี้ผนึกด้วยกุญแจแล้ว: นำไฟล์กุญแจกลับมา หรือระบุ "
            "--audit-key-file (ดู docs/operations.md)",
        "no audit key " + key_file +
            ", but this database's audit log is sealed with one: bring the key file back, or "
            "give --audit-key-file (see docs/operations.md)");
  }
  // The first start: a new key, where the data folder is.
  std::error_code ec;
  std::filesystem::create_directories(flags.data_dir, ec);
  Status created = service::AuditSeal::GenerateKeyFile(key_file);
  // Another server sharing the data folder, started at the same moment, made it first: its key
  // is this installation's key.
  if (created.code() == StatusCode::kConflict) return service::AuditSeal::Load(key_file, head_file);
  if (!created.ok()) return created;
  std::cerr << (lang == Lang::kThai
                    ? "esar: สร้างกุญแจบันทึกการตรวจสอบที่ " + key_file +
                          " แล้ว: เก็บสำเนาไว้นอกเครื่องนี้ และไม่เก็บรวมกับข้อมูลสำรองของฐานข้อมูล "
                          "(ดู docs/operations.md)"
                    : "esar: created the audit key " + key_file +
                          ": keep a copy off this machine, and never with the database's "
                          "backups (see docs/operations.md)")
            << std::endl;
  return service::AuditSeal::Load(key_file, head_file);
}

Status UseAuditSeal(storage::Database& db, const AuditKeyFlags& flags, KeyUse use, Lang lang) {
  auto seal = OpenAuditSeal(db, flags, use, lang);
  if (!seal) return seal.status();
  service::AuditLog::UseSeal(*seal);
  SystemClock clock;
  return service::AuditLog(db).Prepare(clock.NowMs());
}

}  // namespace esar::cli
