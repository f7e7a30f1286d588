#include "admin.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "formats/inputs.h"
#include "formats/json_input.h"
#include "service/audit.h"
#include "service/cycle.h"
#include "security/password_hasher.h"
#include "service/directory.h"
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

void Say(Lang lang, const std::string& th, const std::string& en) {
  std::cout << (lang == Lang::kThai ? th : en) << "\n";
}

}  // namespace

std::string DatabaseUrl(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("ESAR_DB");
  return env && *env ? env : "esar.db";
}

int ImportFramework(const std::string& db_url, const std::string& path, Lang lang) {
  auto db = OpenDb(db_url, lang);
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

int ImportAgencies(const std::string& db_url, const std::string& path, Lang lang) {
  auto db = OpenDb(db_url, lang);
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

int ImportData(const std::string& db_url, const std::string& path, Lang lang) {
  auto db = OpenDb(db_url, lang);
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

int CreateUser(const std::string& db_url, const std::string& username,
               const std::string& display_name, const std::string& role_name,
               const std::string& agency, Lang lang) {
  auto role = service::ParseRole(role_name);
  if (!role) return Fail(role.status(), lang);
  std::string password;
  if (const char* env = std::getenv("ESAR_PASSWORD"); env && *env) {
    password = env;
  } else if (!std::getline(std::cin, password)) {
    return Fail(Status::InvalidInput(
                    "ให้รหัสผ่านทาง ESAR_PASSWORD หรือบรรทัดแรกของ stdin",
                    "give the password in ESAR_PASSWORD or on the first line of standard input"),
                lang);
  }
  auto db = OpenDb(db_url, lang);
  if (!db) return kFailed;
  SystemClock clock;
  // The command line hashes one password, alone: one turn, nobody waits.
  security::PasswordHasher hasher(security::HashStrength::kInteractive, {1, 0, 0});
  auto id = service::Directory(*db, clock, &hasher)
                .CreateUser(service::Actor::System(),
                            {username, display_name.empty() ? username : display_name, password,
                             *role, agency});
  if (!id) return Fail(id.status(), lang);
  Say(lang, "สร้างบัญชี " + username + " (" + role_name + ") แล้ว",
      "created user " + username + " (" + role_name + ")");
  return 0;
}

int VerifyAudit(const std::string& db_url, Lang lang) {
  auto db = OpenDb(db_url, lang);
  if (!db) return kFailed;
  auto result = service::AuditLog(*db).Verify();
  if (!result) return Fail(result.status(), lang);
  if (result->first_broken != 0) {
    Say(lang, "บันทึกการตรวจสอบขาดตอน: " + result->problem_th,
        "the audit chain is broken: " + result->problem_en);
    return kBroken;
  }
  Say(lang, "บันทึกการตรวจสอบครบถ้วน " + std::to_string(result->entries) + " รายการ ไม่มีการแก้ไข",
      "the audit chain is whole: " + std::to_string(result->entries) + " entries, none changed");
  return 0;
}

int BackupTo(const std::string& db_url, const std::string& data_dir, const std::string& path,
             Lang lang) {
  auto db = OpenDb(db_url, lang);
  if (!db) return kFailed;
  auto files = storage::OpenDiskFileStore(data_dir);
  if (!files) return Fail(files.status(), lang);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Fail(Status::IoError("เขียนไฟล์ " + path + " ไม่ได้", "cannot write " + path), lang);
  Status s = storage::Backup(*db, **files, out);
  if (!s.ok()) return Fail(s, lang);
  Say(lang, "สำรองข้อมูลไว้ที่ " + path + " แล้ว", "backed up to " + path);
  return 0;
}

int RestoreFrom(const std::string& db_url, const std::string& data_dir, const std::string& path,
                Lang lang) {
  auto db = OpenDb(db_url, lang);
  if (!db) return kFailed;
  auto files = storage::OpenDiskFileStore(data_dir);
  if (!files) return Fail(files.status(), lang);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Status::NotFound("เปิดไฟล์ " + path + " ไม่ได้", "cannot open " + path), lang);
  Status s = storage::Restore(*db, **files, in);
  if (!s.ok()) return Fail(s, lang);
  Say(lang, "กู้คืนข้อมูลจาก " + path + " แล้ว", "restored from " + path);
  return 0;
}

}  // namespace esar::cli
