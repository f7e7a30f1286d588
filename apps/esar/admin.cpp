#include "admin.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "formats/inputs.h"
#include "formats/json_input.h"
#include "formats/past_results.h"
#include "formats/qa_json.h"
#include "formats/sheet_writer.h"
#include "service/spreadsheets.h"
#include "common/thai.h"
#include "security/password_hasher.h"
#include "service/audit.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/notify.h"
#include "service/history.h"
#include "service/peer_results.h"
#include "service/questions.h"
#include "storage/backup.h"
#include "storage/file_store.h"
#include "storage/migrations.h"

namespace esar::cli {
namespace {

constexpr int kBroken = 1;
constexpr int kFailed = 2;

int Fail(const Status& s, Lang lang) {
  std::cerr << (lang == Lang::kThai ? "esar: ข้อผิดพลาด: " : "esar: error: ")
            << s.ToString(lang == Lang::kThai) << "\n";
  return kFailed;
}

// Opens and migrates the database; null after printing why when it cannot.
std::unique_ptr<storage::Database> OpenDb(const std::string& url, Lang lang) {
  auto db = storage::Open(url);
  if (!db) {
    Fail(db.status(), lang);
    return nullptr;
  }
  Status migrated = storage::Migrate(**db);
  if (!migrated.ok()) {
    Fail(migrated, lang);
    return nullptr;
  }
  return std::move(*db);
}

// An upgrade just made by OpenDb may have rewritten audited rows (migration 8 moved results into
// rows): their re-baseline entry (AuditLog::RecordRebaselines) is recorded before the log is
// verified or backed up, as a server's start would, so the rows the migration left are not
// reported as changed behind esar's back. Without the key of a sealed log nothing can be
// appended (Ok): verify then says the key is missing, backup refuses. Errors are the database's.
Status RecordUpgradeRebaselines(storage::Database& db,
                                const std::shared_ptr<const service::AuditSeal>& seal) {
  service::AuditLog::UseSeal(seal);
  service::AuditLog log(db);
  auto sealed = log.IsSealed();
  if (!sealed) return sealed.status();
  if (!seal && *sealed) return Status::Ok();
  SystemClock clock;
  return log.RecordRebaselines(clock.NowMs());
}

void Say(Lang lang, const std::string& th, const std::string& en) {
  std::cout << (lang == Lang::kThai ? th : en) << "\n";
}

// OpenDb, for a command that changes the database: its audit entries sealed (UseAuditSeal).
std::unique_ptr<storage::Database> OpenDbToWrite(const std::string& url, const AuditKeyFlags& audit,
                                                 Lang lang) {
  auto db = OpenDb(url, lang);
  if (!db) return nullptr;
  Status ready = UseAuditSeal(*db, audit, KeyUse::kIfPresent, lang);
  if (!ready.ok()) {
    Fail(ready, lang);
    return nullptr;
  }
  return db;
}

}  // namespace

std::string DatabaseUrl(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("ESAR_DB");
  return env && *env ? env : "esar.db";
}

int ImportFramework(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                    Lang lang) {
  auto db = OpenDbToWrite(db_url, audit, lang);
  if (!db) return kFailed;
  auto text = formats::ReadFile(path);
  if (!text) return Fail(text.status(), lang);
  SystemClock clock;
  auto stored = service::Cycle(*db, clock).ImportFramework(service::Actor::System(), *text);
  if (!stored) return Fail(stored.status(), lang);
  Say(lang,
      "นำเข้ากรอบการประเมินปีงบประมาณ " + std::to_string(stored->fiscal_year) + " รุ่นที่ " +
          std::to_string(stored->version) + " (รหัส " + std::to_string(stored->id) + ")",
      "imported the FY" + std::to_string(stored->fiscal_year) + " framework, version " +
          std::to_string(stored->version) + " (id " + std::to_string(stored->id) + ")");
  return 0;
}

int ImportAgencies(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                   Lang lang) {
  auto db = OpenDbToWrite(db_url, audit, lang);
  if (!db) return kFailed;
  auto agencies = formats::LoadAgencies(path);
  if (!agencies) return Fail(agencies.status(), lang);
  SystemClock clock;
  Status s = service::Directory(*db, clock).UpsertAgencies(service::Actor::System(), *agencies);
  if (!s.ok()) return Fail(s, lang);
  Say(lang, "นำเข้าหน่วยงาน " + std::to_string(agencies->size()) + " หน่วยงาน",
      "imported " + std::to_string(agencies->size()) + " agencies");
  return 0;
}

int ImportData(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
               Lang lang) {
  auto db = OpenDbToWrite(db_url, audit, lang);
  if (!db) return kFailed;
  auto data = formats::LoadObservations(path);
  if (!data) return Fail(data.status(), lang);
  SystemClock clock;
  Status s = service::Cycle(*db, clock).ImportObservations(service::Actor::System(), *data);
  if (!s.ok()) return Fail(s, lang);
  Say(lang, "นำเข้าข้อมูล " + std::to_string(data->size()) + " ค่า",
      "imported " + std::to_string(data->size()) + " values");
  return 0;
}

int Export(const std::string& db_url, const ExportRequest& request, Lang lang) {
  auto format = formats::ParseSheetFormat(request.format);
  if (!format) return Fail(format.status(), lang);
  service::ResultStage stage = service::ResultStage::kPublished;
  if (request.stage == "final") {
    stage = service::ResultStage::kFinal;
  } else if (request.stage == "preliminary") {
    stage = service::ResultStage::kPreliminary;
  } else if (request.stage != "published") {
    return Fail(Status::InvalidInput("--stage ต้องเป็น preliminary, final หรือ published",
                                     "--stage must be preliminary, final or published"),
                lang);
  }
  int64_t from = 0, to = 0;
  if (request.what == "audit") {
    auto start = ParseBangkokDateTime(request.from, "00:00");
    if (!start) return Fail(start.status(), lang);
    auto end = ParseBangkokDateTime(request.to, "00:00");
    if (!end) return Fail(end.status(), lang);
    from = *start;
    to = *end + 24LL * 3600 * 1000;  // the whole of the last day
  }
  auto db = OpenDb(db_url, lang);
  if (!db) return kFailed;
  SystemClock clock;
  const std::string partial = request.out + ".partial";
  auto writer = formats::TableWriter::Create(*format, partial);
  if (!writer) return Fail(writer.status(), lang);
  service::Spreadsheets sheets(*db, clock);
  const service::Actor system = service::Actor::System();
  Status s = request.what == "results"  ? sheets.ResultsTable(system, request.round_id, stage, **writer)
             : request.what == "status" ? sheets.StatusTable(system, request.round_id, **writer)
                                        : sheets.AuditTable(system, from, to, **writer);
  if (s.ok()) s = (*writer)->Finish();
  writer->reset();
  if (s.ok() && std::rename(partial.c_str(), request.out.c_str()) != 0) {
    s = Status::IoError("เปลี่ยนชื่อเป็น " + request.out + " ไม่ได้", "cannot rename to " + request.out);
  }
  if (!s.ok()) {
    std::remove(partial.c_str());
    return Fail(s, lang);
  }
  Say(lang, "เขียน " + request.out + " แล้ว", "wrote " + request.out);
  return 0;
}

int ImportResults(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                  Lang lang) {
  auto results = formats::LoadPastResults(path);
  if (!results) return Fail(results.status(), lang);
  auto db = OpenDbToWrite(db_url, audit, lang);
  if (!db) return kFailed;
  SystemClock clock;
  Status s = service::History(*db, clock).ImportResults(service::Actor::System(), *results);
  if (!s.ok()) return Fail(s, lang);
  std::set<std::string> years;
  for (const auto& r : *results) years.insert(std::to_string(r.fiscal_year));
  std::string list;
  for (const std::string& y : years) list += (list.empty() ? "" : ", ") + y;
  Say(lang,
      "นำเข้าผลการประเมิน " + std::to_string(results->size()) + " แถว ของปีงบประมาณ พ.ศ. " + list,
      "imported " + std::to_string(results->size()) + " earlier results of FY " + list);
  return 0;
}

int ImportQuestions(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                    Lang lang) {
  auto file = formats::LoadQaFile(path);
  if (!file) return Fail(file.status(), lang);
  auto db = OpenDbToWrite(db_url, audit, lang);
  if (!db) return kFailed;
  SystemClock clock;
  auto added = service::Questions(*db, clock).Import(service::Actor::System(), *file);
  if (!added) return Fail(added.status(), lang);
  const std::string cycle = file->agency_kind + " " + std::to_string(file->fiscal_year) +
                            (file->through_year > file->fiscal_year
                                 ? " - " + std::to_string(file->through_year)
                                 : std::string());
  Say(lang,
      "นำเข้าคำถาม-คำตอบ " + std::to_string(*added) + " ข้อ (จาก " +
          std::to_string(file->items.size()) + " ข้อในไฟล์) ของรอบ " + cycle,
      "imported " + std::to_string(*added) + " questions and answers (of " +
          std::to_string(file->items.size()) + " in the file) of cycle " + cycle);
  return 0;
}

Result<StoredInputs> ReadStoredInputs(const std::string& db_url, int fiscal_year, Lang lang) {
  auto db = OpenDb(db_url, lang);
  if (!db) {
    return Status::IoError("เปิดฐานข้อมูลไม่ได้", "the database cannot be opened");
  }
  SystemClock clock;
  StoredInputs out;
  auto agencies = service::Directory(*db, clock).Agencies();
  if (!agencies) return agencies.status();
  out.agencies = std::move(*agencies);
  auto observations = service::Cycle(*db, clock).Observations();
  if (!observations) return observations.status();
  out.observations = std::move(*observations);
  auto past = service::History(*db, clock).PastResults(fiscal_year);
  if (!past) return past.status();
  out.past = std::move(*past);
  return out;
}

Result<StoredPeers> ReadStoredPeers(const std::string& db_url, const domain::Framework& framework,
                                    int round, Lang lang) {
  auto db = OpenDb(db_url, lang);
  if (!db) {
    return Status::IoError("เปิดฐานข้อมูลไม่ได้", "the database cannot be opened");
  }
  SystemClock clock;
  StoredPeers out;
  auto frameworks =
      service::Cycle(*db, clock).OtherFrameworksOfYear(framework.fiscal_year, framework.agency_kind);
  if (!frameworks) return frameworks.status();
  out.frameworks = std::move(*frameworks);
  auto results = service::PeerResultsFor(*db, framework, framework.agency_kind, round);
  if (!results) return results.status();
  out.results = std::move(*results);
  return out;
}

int CreateUser(const std::string& db_url, const AuditKeyFlags& audit, const std::string& username,
               const std::string& display_name, const std::string& role_name,
               const std::string& agency, const std::string& email,
               const std::string& mail_language, Lang lang) {
  auto role = service::ParseRole(role_name);
  if (!role) return Fail(role.status(), lang);
  auto language = service::ParseLangCode(mail_language);
  if (!language) return Fail(language.status(), lang);
  std::string password;
  if (const char* env = std::getenv("ESAR_PASSWORD"); env && *env) {
    password = env;
  } else if (!std::getline(std::cin, password)) {
    return Fail(Status::InvalidInput(
                    "ให้รหัสผ่านทาง ESAR_PASSWORD หรือบรรทัดแรกของ stdin",
                    "give the password in ESAR_PASSWORD or on the first line of standard input"),
                lang);
  }
  auto db = OpenDbToWrite(db_url, audit, lang);
  if (!db) return kFailed;
  SystemClock clock;
  // The command line hashes one password, alone: one turn, nobody waits.
  security::PasswordHasher hasher(security::HashStrength::kInteractive, {1, 0, 0});
  auto id = service::Directory(*db, clock, &hasher)
                .CreateUser(service::Actor::System(),
                            {username, display_name.empty() ? username : display_name, password,
                             *role, agency, email, *language});
  if (!id) return Fail(id.status(), lang);
  Say(lang, "สร้างบัญชี " + username + " (" + role_name + ") แล้ว",
      "created user " + username + " (" + role_name + ")");
  return 0;
}

int VerifyAudit(const std::string& db_url, const AuditKeyFlags& audit,
                const std::vector<std::string>& heads, bool write_head, Lang lang) {
  auto db = OpenDb(db_url, lang);
  if (!db) return kFailed;
  auto seal = OpenAuditSeal(*db, audit, KeyUse::kIfPresent, lang);
  if (!seal) return Fail(seal.status(), lang);
  Status rebased = RecordUpgradeRebaselines(*db, *seal);
  if (!rebased.ok()) return Fail(rebased, lang);
  service::AuditLog::VerifyOptions options;
  options.seal = seal->get();
  options.head_file = !write_head;
  for (const std::string& head : heads) {
    const size_t colon = std::min(head.find(':'), head.size());
    int64_t seq = 0;
    const auto [ptr, ec] = std::from_chars(head.data(), head.data() + colon, seq);
    if (colon == head.size() || ec != std::errc() || ptr != head.data() + colon || seq < 1 ||
        head.size() - colon - 1 != 64) {
      return Fail(Status::InvalidInput("--head ต้องอยู่ในรูป ลำดับ:แฮช (เช่น 120:3fa9...)",
                                       "--head must be SEQ:HASH (e.g. 120:3fa9...)"),
                  lang);
    }
    options.heads.push_back({seq, head.substr(colon + 1)});
  }
  // The evidence files are checked where the data folder is; verify never creates one.
  std::unique_ptr<storage::FileStore> files;
  if (std::filesystem::is_directory(audit.data_dir)) {
    auto opened = storage::OpenDiskFileStore(audit.data_dir);
    if (!opened) return Fail(opened.status(), lang);
    files = std::move(*opened);
    options.files = files.get();
  }
  auto result = service::AuditLog(*db).Verify(options);
  if (!result) return Fail(result.status(), lang);
  const service::AuditLog::Verification& v = *result;
  if (!v.whole()) {
    Say(lang, "บันทึกการตรวจสอบขาดตอนหรือไม่ตรงกับข้อมูล: " + v.problem_th,
        "the audit chain is broken or does not match the data: " + v.problem_en);
    for (const auto& p : v.problems) Say(lang, "  - " + p.th, "  - " + p.en);
    return kBroken;
  }
  Say(lang, "บันทึกการตรวจสอบครบถ้วน " + std::to_string(v.entries) + " รายการ ไม่มีการแก้ไข",
      "the audit chain is whole: " + std::to_string(v.entries) + " entries, none changed");
  if (options.seal) {
    Say(lang,
        "ผนึกด้วยกุญแจรหัส " + options.seal->key_id() + ": ตรวจตราผนึกแล้ว " + std::to_string(v.sealed) +
            " รายการ",
        "sealed with key " + options.seal->key_id() + ": " + std::to_string(v.sealed) +
            " seals checked");
  } else {
    Say(lang, "ไม่มีกุญแจบันทึกการตรวจสอบ: ตรวจได้เฉพาะห่วงโซ่แฮช (ยังไม่ได้ผนึก)",
        "no audit key: only the hash chain was checked (the log is not sealed yet)");
  }
  Say(lang,
      "สถานะปัจจุบันตรงกับบันทึก " + std::to_string(v.entities) +
          " รายการ (รายงาน ผลการประเมิน "
          "อุทธรณ์ ผู้ใช้ รอบ กรอบการประเมิน หน่วยงาน ข้อมูลนำเข้า)",
      "the live state matches the log for " + std::to_string(v.entities) +
          " entities (submissions with their reviews and evidence, results, appeals, users, "
          "rounds, frameworks, agencies, imported data)");
  if (v.unrecorded) {
    Say(lang,
        std::to_string(v.unrecorded) +
            " รายการเก่ากว่าการบันทึกสถานะ: ตรวจได้ตั้งแต่การเริ่ม esar serve "
            "ครั้งแรกพร้อมกุญแจ",
        std::to_string(v.unrecorded) +
            " entities predate the state digests: they are covered from the first start of esar "
            "serve with its key");
  }
  if (options.files) {
    Say(lang, "ไฟล์หลักฐานตรงกับค่า SHA-256 ทั้ง " + std::to_string(v.files) + " ไฟล์",
        "evidence files matching their SHA-256: " + std::to_string(v.files));
  } else {
    Say(lang, "ไม่ได้ตรวจไฟล์หลักฐาน: ไม่มีโฟลเดอร์ " + audit.data_dir + " (ระบุ --data-dir)",
        "evidence files not checked: there is no folder " + audit.data_dir + " (give --data-dir)");
  }
  if (v.last) {
    // Printed to be kept elsewhere (a ticket, a report, paper): `--head` compares it later.
    Say(lang, "หัวของบันทึก: " + std::to_string(v.last->seq) + ":" + v.last->hash,
        "head: " + std::to_string(v.last->seq) + ":" + v.last->hash);
  }
  if (write_head) {
    if (!options.seal) {
      return Fail(Status::InvalidInput("--write-head ต้องมีกุญแจบันทึกการตรวจสอบ",
                                       "--write-head needs the audit key"),
                  lang);
    }
    if (!v.last) return 0;
    Status written = options.seal->ResetHead(*v.last);
    if (!written.ok()) return Fail(written, lang);
    Say(lang, "เขียนหัวของบันทึกไว้ที่ " + options.seal->head_file() + " แล้ว",
        "wrote the head to " + options.seal->head_file());
  }
  return 0;
}

int BackupTo(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
             Lang lang) {
  auto db = OpenDb(db_url, lang);
  if (!db) return kFailed;
  auto files = storage::OpenDiskFileStore(audit.data_dir);
  if (!files) return Fail(files.status(), lang);
  auto seal = OpenAuditSeal(*db, audit, KeyUse::kIfPresent, lang);
  if (!seal) return Fail(seal.status(), lang);
  // A backup carries no pending re-baseline: it is restored only if its log vouches for its rows.
  Status rebased = RecordUpgradeRebaselines(*db, *seal);
  if (!rebased.ok()) return Fail(rebased, lang);
  storage::BackupKey key;
  std::optional<storage::BackupHead> head;
  if (*seal) {
    key = {(*seal)->backup_key(), (*seal)->key_id()};
    auto kept = (*seal)->ReadHead();
    if (!kept) return Fail(kept.status(), lang);
    if (*kept) head = storage::BackupHead{(*kept)->seq, (*kept)->hash};
  } else {
    auto sealed = service::AuditLog(*db).IsSealed();
    if (!sealed) return Fail(sealed.status(), lang);
    if (*sealed) {
      return Fail(
          Status::Conflict("บันทึกการตรวจสอบผนึกด้วยกุญแจ แต่ไม่พบกุญแจ จึงผนึกข้อมูลสำรองไม่ได้: ระบุ --data-dir "
                           "ของเซิร์ฟเวอร์ หรือ --audit-key-file",
                           "the audit log is sealed with a key that was not found, so the backup "
                           "cannot be sealed: give the server's --data-dir or --audit-key-file"),
          lang);
    }
  }
  const std::string partial = path + ".partial";
  Status s;
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) {
      return Fail(Status::IoError("เขียนไฟล์ " + partial + " ไม่ได้", "cannot write " + partial), lang);
    }
    s = storage::Backup(*db, **files, out, key, head);
    out.close();
    if (s.ok() && !out)
      s = Status::IoError("เขียนไฟล์ " + partial + " ไม่ได้", "cannot write " + partial);
  }
  if (s.ok() && std::rename(partial.c_str(), path.c_str()) != 0) {
    s = Status::IoError("เปลี่ยนชื่อ " + partial + " เป็น " + path + " ไม่ได้",
                        "cannot rename " + partial + " to " + path);
  }
  if (!s.ok()) {
    std::remove(partial.c_str());
    Fail(s, lang);
    return s.code() == StatusCode::kDataLoss ? kBroken : kFailed;
  }
  Say(lang,
      "สำรองข้อมูลไว้ที่ " + path + " แล้ว" +
          (*seal ? " (ผนึกด้วยกุญแจรหัส " + (*seal)->key_id() + ")" : " (ไม่ได้ผนึก: ไม่มีกุญแจ)"),
      "backed up to " + path +
          (*seal ? " (sealed with key " + (*seal)->key_id() + ")" : " (not sealed: no key)"));
  return 0;
}

int RestoreFrom(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                Lang lang) {
  auto db = OpenDb(db_url, lang);
  if (!db) return kFailed;
  auto files = storage::OpenDiskFileStore(audit.data_dir);
  if (!files) return Fail(files.status(), lang);
  auto seal = OpenAuditSeal(*db, audit, KeyUse::kIfPresent, lang);
  if (!seal) return Fail(seal.status(), lang);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Status::NotFound("เปิดไฟล์ " + path + " ไม่ได้", "cannot open " + path), lang);
  storage::RestoreOptions options;
  if (*seal) options.key = {(*seal)->backup_key(), (*seal)->key_id()};
  std::optional<service::AuditLog::Verification> verified;
  // The restored data is verified before it is committed: a backup whose audit log does not
  // vouch for its rows (changed before the backup was made, or sealed without the key) is not
  // restored at all.
  options.check = [&](const storage::BackupInfo& info) -> Status {
    service::AuditLog::VerifyOptions verify;
    verify.seal = seal->get();
    verify.head_file = false;  // this data folder's head is written once the restore is in
    if (info.head) verify.heads.push_back({info.head->seq, info.head->hash});
    verify.files = files->get();
    auto result = service::AuditLog(*db).Verify(verify);
    if (!result) return result.status();
    if (!result->whole()) {
      std::string th, en;
      for (const auto& p : result->problems) {
        th += "\n  - " + p.th;
        en += "\n  - " + p.en;
      }
      return Status::DataLoss("ข้อมูลสำรองนี้ไม่ผ่านการตรวจบันทึกการตรวจสอบ จึงไม่ได้กู้คืน:" + th,
                              "the backup's data does not verify against its audit log, so "
                              "nothing was restored:" +
                                  en);
    }
    verified = *result;
    return Status::Ok();
  };
  Status s = storage::Restore(*db, **files, in, options);
  if (!s.ok()) {
    Fail(s, lang);
    return s.code() == StatusCode::kDataLoss ? kBroken : kFailed;
  }
  if (*seal && verified && verified->last) {
    Status head = (*seal)->ResetHead(*verified->last);
    if (!head.ok()) return Fail(head, lang);
  }
  Say(lang,
      "กู้คืนข้อมูลจาก " + path + " แล้ว บันทึกการตรวจสอบครบถ้วน " +
          std::to_string(verified ? verified->entries : 0) + " รายการ",
      "restored from " + path + "; the audit chain verifies: " +
          std::to_string(verified ? verified->entries : 0) + " entries");
  return 0;
}

}  // namespace esar::cli
