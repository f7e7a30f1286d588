#include "service/audit_trail.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/thai.h"

namespace esar::service {
namespace {

using nlohmann::json;

// At most this many characters of a text value are shown; a report's explanation can be long,
// and the page lists fifty entries.
constexpr size_t kMaxValueBytes = 300;
constexpr size_t kMaxListItems = 20;

// A code or name as a filter takes it: what a code may be (1–64 characters, no control
// characters), so a filter that can match nothing is refused in words instead.
bool CleanFilterText(const std::string& text) {
  if (text.size() > 64) return false;
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// `text` inside a LIKE pattern matching itself only ('\' is the escape character).
std::string LikeLiteral(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '%' || c == '_') out += '\\';
    out += c;
  }
  return out;
}

// `text` cut to at most `bytes` bytes on a UTF-8 character boundary, "…" added when cut.
std::string Cut(const std::string& text, size_t bytes) {
  if (text.size() <= bytes) return text;
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "…";
}

LocalizedText Same(const std::string& text) { return {text, text}; }

const std::map<std::string, LocalizedText>& ActionWords() {
  static const std::map<std::string, LocalizedText> kWords = {
      {"agencies.upsert", {"เพิ่มหรือแก้ไขหน่วยงาน", "added or changed agencies"}},
      {"agency.add", {"เพิ่มหน่วยงาน", "added an agency"}},
      {"agency.edit", {"แก้ไขหน่วยงาน", "edited an agency"}},
      {"announcement.post", {"ประกาศข่าว", "posted an announcement"}},
      {"announcement.edit", {"แก้ไขประกาศ", "edited an announcement"}},
      {"announcement.attach", {"แนบไฟล์กับประกาศ", "attached a file to an announcement"}},
      {"announcement.detach", {"นำไฟล์ออกจากประกาศ", "removed a file from an announcement"}},
      {"announcement.delete", {"ลบประกาศ", "deleted an announcement"}},
      {"appeal.file", {"ยื่นอุทธรณ์", "filed an appeal"}},
      {"appeal.uphold", {"รับอุทธรณ์", "upheld an appeal"}},
      {"appeal.reject", {"ไม่รับอุทธรณ์", "rejected an appeal"}},
      {"audit.seal", {"เริ่มผนึกบันทึกการเปลี่ยนแปลง", "began sealing the audit log"}},
      {"audit.rebaseline",
       {"บันทึกสถานะใหม่หลังปรับโครงสร้างฐานข้อมูล", "recorded states again after a schema upgrade"}},
      {"contact.address", {"เปลี่ยนอีเมล", "changed an e-mail address"}},
      {"contact.preferences", {"เปลี่ยนการรับอีเมล", "changed e-mail preferences"}},
      {"data.import", {"นำเข้าข้อมูลผลการดำเนินงาน", "imported performance data"}},
      {"data_upload.add", {"อัปโหลดไฟล์ข้อมูล", "uploaded a data file"}},
      {"evidence.add", {"แนบหลักฐาน", "attached evidence"}},
      {"evidence.remove", {"นำหลักฐานที่แนบผิดออก", "removed evidence attached by mistake"}},
      {"framework.import", {"นำเข้ากรอบการประเมิน", "imported a framework"}},
      {"framework.replace", {"แทนที่กรอบการประเมิน", "replaced a framework"}},
      {"framework.edit", {"แก้ไขกรอบการประเมิน", "edited a framework"}},
      {"framework.version", {"สร้างกรอบการประเมินฉบับใหม่", "made a new framework version"}},
      {"framework.next_year",
       {"เริ่มกรอบการประเมินปีถัดไป", "started the next year's framework"}},
      {"mail.resend", {"ส่งอีเมลอีกครั้ง", "resent an e-mail"}},
      {"question.ask", {"ถามคำถาม", "asked a question"}},
      {"question.answer", {"ตอบคำถาม", "answered a question"}},
      {"question.import", {"นำเข้าคำถามและคำตอบ", "imported questions and answers"}},
      {"results.compute", {"คำนวณผลการประเมิน", "computed results"}},
      {"results.preliminary", {"ประกาศผลเบื้องต้น", "gave preliminary results"}},
      {"results.final", {"สรุปผลการประเมิน", "finalized results"}},
      {"results.published", {"เผยแพร่ผลการประเมิน", "published results"}},
      {"results.close_appeals", {"ปิดรับอุทธรณ์", "closed appeals"}},
      {"results.import", {"นำเข้าผลการประเมินปีก่อน", "imported earlier years' results"}},
      {"round.open", {"เปิดรอบการรายงาน", "opened a round"}},
      {"round.deadline", {"เปลี่ยนวันของรอบการรายงาน", "changed a round's dates"}},
      {"round.close", {"ปิดรับรายงาน", "closed reporting"}},
      {"round.reopen", {"เปิดรับรายงานอีกครั้ง", "reopened reporting"}},
      {"round.extend", {"ขยายกำหนดส่งให้หน่วยงาน", "extended an agency's deadline"}},
      {"round.extend.change", {"เปลี่ยนวันที่ขยายกำหนดส่ง", "changed an extension"}},
      {"round.extend.remove", {"ยกเลิกการขยายกำหนดส่ง", "removed an extension"}},
      {"submission.save", {"บันทึกรายงานตัวชี้วัด", "saved a KPI report"}},
      {"submission.approve", {"เห็นชอบรายงาน", "approved a report"}},
      {"submission.send_back", {"ส่งรายงานกลับให้แก้ไข (ผู้เห็นชอบ)", "sent a report back (approver)"}},
      {"submission.submit", {"ส่งรายงาน", "submitted a report"}},
      {"submission.accept", {"ผ่านการตรวจ", "accepted a report"}},
      {"submission.return", {"ส่งรายงานกลับให้แก้ไข (ผู้ตรวจ)", "returned a report (evaluator)"}},
      {"token.create", {"สร้างโทเค็น API", "created an API token"}},
      {"token.revoke", {"ยกเลิกโทเค็น API", "revoked an API token"}},
      {"user.create", {"สร้างผู้ใช้", "created a user"}},
      {"user.edit", {"แก้ไขข้อมูลผู้ใช้", "edited a user"}},
      {"user.disable", {"ปิดใช้บัญชีผู้ใช้", "disabled a user"}},
      {"user.enable", {"เปิดใช้บัญชีผู้ใช้อีกครั้ง", "enabled a user again"}},
      {"user.password", {"เปลี่ยนรหัสผ่านของตน", "changed their password"}},
      {"user.password_reset", {"ตั้งรหัสผ่านใหม่ทางลิงก์", "reset a password by link"}},
      {"user.password_reset_request",
       {"ขอลิงก์ตั้งรหัสผ่านใหม่", "asked for a password reset link"}},
  };
  return kWords;
}

const std::map<std::string, LocalizedText>& FieldWords() {
  static const std::map<std::string, LocalizedText> kWords = {
      {"agency", {"หน่วยงาน", "agency"}},
      {"active", {"ใช้งานได้", "active"}},
      {"name_th", {"ชื่อภาษาไทย", "Thai name"}},
      {"name_en", {"ชื่อภาษาอังกฤษ", "English name"}},
      {"parent", {"สังกัด", "belongs to"}},
      {"display_name", {"ชื่อที่แสดง", "display name"}},
      {"answer", {"คำตอบ", "answer"}},
      {"file", {"ไฟล์รหัส", "file id"}},
      {"number", {"ลำดับที่", "number"}},
      {"published", {"เผยแพร่", "published"}},
      {"question", {"คำถาม", "question"}},
      {"body", {"ข้อความ", "text"}},
      {"agency_kind", {"ประเภทหน่วยงาน", "kind of agency"}},
      {"appeal_deadline", {"ปิดรับอุทธรณ์", "appeals close"}},
      {"closes_at", {"ปิดรับรายงาน", "reporting closes"}},
      {"codes", {"รหัสหน่วยงาน", "agency codes"}},
      {"comment", {"ความเห็น", "comment"}},
      {"corrected", {"ค่าที่แก้ไข", "corrected values"}},
      {"count", {"จำนวน", "count"}},
      {"deadline", {"กำหนดส่ง", "deadline"}},
      {"email", {"อีเมล", "e-mail"}},
      {"evidence", {"หลักฐานรหัส", "evidence id"}},
      {"expires_at", {"หมดอายุ", "expires"}},
      {"fiscal_year", {"ปีงบประมาณ", "fiscal year"}},
      {"framework", {"กรอบการประเมินรหัส", "framework id"}},
      {"id", {"รหัส", "id"}},
      {"kpi", {"ตัวชี้วัด", "KPI"}},
      {"language", {"ภาษา", "language"}},
      {"mail_off", {"ไม่รับอีเมลเรื่อง", "no e-mail about"}},
      {"name", {"ชื่อ", "name"}},
      {"reason", {"เหตุผล", "reason"}},
      {"replaces", {"แทนหลักฐานรหัส", "replaces evidence"}},
      {"result", {"ผลการประเมินรหัส", "result id"}},
      {"revision", {"ฉบับแก้ไขที่", "revision"}},
      {"role", {"บทบาท", "role"}},
      {"round", {"รอบ (เดือน)", "round (months)"}},
      {"scope", {"ขอบเขต", "scope"}},
      {"sha256", {"SHA-256", "SHA-256"}},
      {"size", {"ขนาด (ไบต์)", "size (bytes)"}},
      {"starts_at", {"เริ่มรับรายงาน", "reporting starts"}},
      {"state", {"สถานะ", "state"}},
      {"status", {"สถานะ", "status"}},
      {"text", {"ข้อความ", "text"}},
      {"title", {"หัวข้อ", "title"}},
      {"username", {"ชื่อผู้ใช้", "username"}},
      {"values", {"ค่าที่รายงาน", "values reported"}},
      {"verified", {"ค่าที่ตรวจแล้ว", "verified values"}},
      {"version", {"ฉบับที่", "version"}},
  };
  return kWords;
}

// States and statuses as the pages name them.
const std::map<std::string, LocalizedText>& StateWords() {
  static const std::map<std::string, LocalizedText> kWords = {
      {"draft", {"ร่าง", "draft"}},
      {"approved", {"เห็นชอบแล้ว", "approved"}},
      {"submitted", {"ส่งแล้ว", "submitted"}},
      {"returned", {"ส่งกลับให้แก้ไข", "returned"}},
      {"accepted", {"ผ่านการตรวจ", "accepted"}},
      {"scheduled", {"ยังไม่เริ่มรับรายงาน", "not yet open"}},
      {"open", {"เปิดรับ", "open"}},
      {"closed", {"ปิดรับแล้ว", "closed"}},
      {"preliminary", {"ผลเบื้องต้น", "preliminary"}},
      {"final", {"ผลสรุป", "final"}},
      {"published", {"เผยแพร่แล้ว", "published"}},
      {"upheld", {"รับอุทธรณ์", "upheld"}},
      {"rejected", {"ไม่รับอุทธรณ์", "rejected"}},
  };
  return kWords;
}

// Kinds of agency as the pages name them (templates/messages.json "kind.*"); a kind not listed
// keeps its code.
LocalizedText KindWords(const std::string& kind) {
  static const std::map<std::string, LocalizedText> kWords = {
      {"ministry", {"กระทรวง", "ministry"}},
      {"department", {"กรม", "department"}},
      {"province", {"จังหวัด", "province"}},
      {"public_organization", {"องค์การมหาชน", "public organization"}},
      {"office", {"สำนักงาน", "office"}},
      {"pao", {"องค์การบริหารส่วนจังหวัด", "provincial administrative organisation"}},
      {"municipality", {"เทศบาล", "municipality"}},
      {"sao", {"องค์การบริหารส่วนตำบล", "subdistrict administrative organisation"}},
  };
  auto found = kWords.find(kind);
  return found != kWords.end() ? found->second : LocalizedText{kind, kind};
}

bool IsTimeField(const std::string& key) {
  return key == "deadline" || key == "starts_at" || key == "closes_at" ||
         key == "appeal_deadline" || key == "expires_at";
}

LocalizedText Nothing() { return {"ไม่มี", "none"}; }

// One recorded value in words; `key` says how to read it.
LocalizedText ValueWords(const std::string& key, const json& v);

LocalizedText Joined(const std::vector<LocalizedText>& parts, size_t more) {
  LocalizedText out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) {
      out.th += ", ";
      out.en += ", ";
    }
    out.th += parts[i].th;
    out.en += parts[i].en;
  }
  if (more) {
    out.th += " และอีก " + std::to_string(more) + " รายการ";
    out.en += " and " + std::to_string(more) + " more";
  }
  return out;
}

LocalizedText ValueWords(const std::string& key, const json& v) {
  if (v.is_null()) return Nothing();
  if (IsTimeField(key) && v.is_number_integer()) {
    const int64_t ms = v.get<int64_t>();
    return {FormatDateTime(ms, Lang::kThai), FormatDateTime(ms, Lang::kEnglish)};
  }
  if (v.is_boolean()) return v.get<bool>() ? LocalizedText{"ใช่", "yes"} : LocalizedText{"ไม่", "no"};
  if (v.is_string()) {
    const std::string text = v.get<std::string>();
    if (key == "state" || key == "status") {
      auto found = StateWords().find(text);
      if (found != StateWords().end()) return found->second;
    }
    if (key == "agency_kind" || key == "kind") return KindWords(text);
    if (key == "role") {
      // As the pages name the roles (templates/messages.json "role.*").
      static const std::map<std::string, LocalizedText> kRoles = {
          {"admin", {"ผู้ดูแลระบบ (ส่วนกลาง)", "central office admin"}},
          {"evaluator", {"ผู้ประเมิน", "evaluator"}},
          {"reporter", {"ผู้รายงาน", "reporter"}},
          {"approver", {"ผู้อนุมัติ", "approver"}}};
      auto found = kRoles.find(text);
      if (found != kRoles.end()) return found->second;
    }
    if (key == "language") {
      if (text == "th") return {"ไทย", "Thai"};
      if (text == "en") return {"อังกฤษ", "English"};
    }
    if (text.empty()) return Nothing();
    return Same(Cut(text, kMaxValueBytes));
  }
  if (v.is_array()) {
    if (v.empty()) return Nothing();
    std::vector<LocalizedText> parts;
    for (size_t i = 0; i < v.size() && i < kMaxListItems; ++i) parts.push_back(ValueWords(key, v[i]));
    return Joined(parts, v.size() > kMaxListItems ? v.size() - kMaxListItems : 0);
  }
  if (v.is_object()) {
    if (v.empty()) return Nothing();
    std::vector<LocalizedText> parts;
    for (auto it = v.begin(); it != v.end() && parts.size() < kMaxListItems; ++it) {
      const LocalizedText inner = ValueWords(it.key(), it.value());
      parts.push_back({it.key() + " = " + inner.th, it.key() + " = " + inner.en});
    }
    return Joined(parts, v.size() > kMaxListItems ? v.size() - kMaxListItems : 0);
  }
  return Same(Cut(v.dump(), kMaxValueBytes));
}

LocalizedText FieldName(const std::string& key) {
  auto found = FieldWords().find(key);
  return found != FieldWords().end() ? found->second : Same(key);
}

// What an entry's entity is, in words, for the entities of the page: one query per kind of
// entity, however many entries the page has.
class Subjects {
 public:
  explicit Subjects(storage::Database& db) : db_(db) {}

  Status Load(const std::vector<AuditEntry>& entries) {
    std::map<std::string, std::set<int64_t>> ids;
    for (const AuditEntry& e : entries) {
      const size_t slash = e.entity.find('/');
      if (slash == std::string::npos) continue;
      int64_t id = 0;
      const char* first = e.entity.data() + slash + 1;
      const char* last = e.entity.data() + e.entity.size();
      const auto [end, ec] = std::from_chars(first, last, id);
      if (ec != std::errc() || end != last) continue;
      ids[e.entity.substr(0, slash)].insert(id);
    }
    Status s = Read(ids["submission"],
                    "SELECT s.id, s.kpi, a.code, a.name_th, a.name_en, r.round, f.fiscal_year "
                    "FROM submissions s JOIN agencies a ON a.code = s.agency_code JOIN rounds r "
                    "ON r.id = s.round_id JOIN frameworks f ON f.id = r.framework_id WHERE s.id",
                    "submission", [](const storage::Row& r) { return KpiOf(r); });
    if (!s.ok()) return s;
    s = Read(ids["data_upload"],
             "SELECT u.id, u.kpi, a.code, a.name_th, a.name_en, r.round, f.fiscal_year "
             "FROM data_uploads u JOIN agencies a ON a.code = u.agency_code JOIN rounds r "
             "ON r.id = u.round_id JOIN frameworks f ON f.id = r.framework_id WHERE u.id",
             "data_upload", [](const storage::Row& r) { return KpiOf(r); });
    if (!s.ok()) return s;
    s = Read(ids["appeal"],
             "SELECT p.id, p.kpi, a.code, a.name_th, a.name_en, x.round, f.fiscal_year "
             "FROM appeals p JOIN agencies a ON a.code = p.agency_code JOIN results x "
             "ON x.id = p.result_id JOIN frameworks f ON f.id = x.framework_id WHERE p.id",
             "appeal", [](const storage::Row& r) { return KpiOf(r); });
    if (!s.ok()) return s;
    s = Read(ids["round"],
             "SELECT r.id, r.round, f.fiscal_year, f.agency_kind FROM rounds r JOIN frameworks f "
             "ON f.id = r.framework_id WHERE r.id",
             "round", [](const storage::Row& r) {
               return RoundOf(static_cast<int>(r.Int(1)), static_cast<int>(r.Int(2)), r.Text(3));
             });
    if (!s.ok()) return s;
    s = Read(ids["result"],
             "SELECT x.id, x.round, f.fiscal_year, f.agency_kind FROM results x JOIN frameworks f "
             "ON f.id = x.framework_id WHERE x.id",
             "result", [](const storage::Row& r) {
               return RoundOf(static_cast<int>(r.Int(1)), static_cast<int>(r.Int(2)), r.Text(3));
             });
    if (!s.ok()) return s;
    s = Read(ids["framework"],
             "SELECT id, fiscal_year, agency_kind, version FROM frameworks WHERE id", "framework",
             [](const storage::Row& r) {
               const int year = static_cast<int>(r.Int(1));
               const std::string v = std::to_string(r.Int(3));
               const LocalizedText k = KindWords(r.Text(2));
               return LocalizedText{FiscalYearName(year, Lang::kThai) + " (" + k.th + ") ฉบับที่ " + v,
                                    FiscalYearName(year, Lang::kEnglish) + " (" + k.en +
                                        "), version " + v};
             });
    if (!s.ok()) return s;
    std::set<int64_t> users = ids["user"];
    users.insert(ids["contact"].begin(), ids["contact"].end());
    s = Read(users, "SELECT id, username, COALESCE(agency_code, '') FROM users WHERE id", "user",
             [](const storage::Row& r) {
               const std::string agency = r.Text(2).empty() ? "" : " (" + r.Text(2) + ")";
               return LocalizedText{"ผู้ใช้ " + r.Text(1) + agency, "user " + r.Text(1) + agency};
             });
    if (!s.ok()) return s;
    for (int64_t id : ids["contact"]) {
      auto found = words_.find("user/" + std::to_string(id));
      if (found != words_.end()) words_["contact/" + std::to_string(id)] = found->second;
    }
    return Status::Ok();
  }

  // The entity in words; a general name with its number for entities not read here.
  LocalizedText Of(const std::string& entity) const {
    auto found = words_.find(entity);
    if (found != words_.end()) return found->second;
    static const std::map<std::string, LocalizedText> kKinds = {
        {"announcement", {"ประกาศ", "announcement"}}, {"question", {"คำถาม", "question"}},
        {"mail", {"อีเมล", "e-mail"}},                {"submission", {"รายงาน", "report"}},
        {"round", {"รอบ", "round"}},                  {"user", {"ผู้ใช้", "user"}},
        {"framework", {"กรอบการประเมิน", "framework"}}, {"result", {"ผลการประเมิน", "result"}}};
    const size_t slash = entity.find('/');
    if (slash != std::string::npos) {
      auto kind = kKinds.find(entity.substr(0, slash));
      if (kind != kKinds.end()) {
        const std::string n = " #" + entity.substr(slash + 1);
        return {kind->second.th + n, kind->second.en + n};
      }
    }
    if (entity == "agencies") return {"ทำเนียบหน่วยงาน", "the agency directory"};
    if (entity == "observations") return {"ข้อมูลผลการดำเนินงาน", "performance data"};
    if (entity == "past_results") return {"ผลการประเมินปีก่อน", "earlier years' results"};
    if (entity == "audit") return {"บันทึกการเปลี่ยนแปลง", "the audit log"};
    return Same(entity);
  }

 private:
  static LocalizedText RoundOf(int round, int year, const std::string& kind) {
    const LocalizedText k = KindWords(kind);
    return {RoundName(round, Lang::kThai) + " " + FiscalYearName(year, Lang::kThai) + " (" + k.th +
                ")",
            RoundName(round, Lang::kEnglish) + ", " + FiscalYearName(year, Lang::kEnglish) +
                " (" + k.en + ")"};
  }
  // Columns: id, kpi, agency code, Thai name, English name, round, fiscal year.
  static LocalizedText KpiOf(const storage::Row& r) {
    const int round = static_cast<int>(r.Int(5)), year = static_cast<int>(r.Int(6));
    const std::string en_name = r.Text(4).empty() ? r.Text(3) : r.Text(4);
    return {"ตัวชี้วัด " + r.Text(1) + " ของ" + r.Text(3) + " (" + r.Text(2) + "), " +
                RoundName(round, Lang::kThai) + " " + FiscalYearName(year, Lang::kThai),
            "KPI " + r.Text(1) + " of " + en_name + " (" + r.Text(2) + "), " +
                RoundName(round, Lang::kEnglish) + ", " + FiscalYearName(year, Lang::kEnglish)};
  }

  template <typename Describe>
  Status Read(const std::set<int64_t>& ids, const std::string& select, const std::string& prefix,
              Describe describe) {
    if (ids.empty()) return Status::Ok();
    std::string in = " IN (";
    std::vector<storage::Value> params;
    for (int64_t id : ids) {
      in += params.empty() ? "?" : ", ?";
      params.emplace_back(id);
    }
    auto rows = db_.Query(select + in + ")", params);
    if (!rows) return rows.status();
    for (const storage::Row& r : *rows) {
      words_[prefix + "/" + std::to_string(r.Int(0))] = describe(r);
    }
    return Status::Ok();
  }

  storage::Database& db_;
  std::map<std::string, LocalizedText> words_;
};

}  // namespace

const std::vector<AuditKind>& AuditKinds() {
  static const std::vector<AuditKind> kKinds = {
      {"round", {"round"}, {"รอบการรายงานและกำหนดส่ง", "rounds and deadlines"}},
      {"report",
       {"submission", "evidence", "data_upload"},
       {"รายงานตัวชี้วัดและหลักฐาน", "KPI reports and evidence"}},
      {"results", {"results", "appeal"}, {"ผลการประเมินและอุทธรณ์", "results and appeals"}},
      {"framework", {"framework"}, {"กรอบการประเมิน", "frameworks"}},
      {"data", {"data"}, {"ข้อมูลที่นำเข้า", "imported data"}},
      {"agency", {"agencies", "agency"}, {"หน่วยงาน", "agencies"}},
      {"user", {"user", "token", "contact"}, {"ผู้ใช้และการเข้าถึง", "users and access"}},
      {"qa", {"question", "announcement"}, {"ถาม-ตอบและประกาศ", "questions and announcements"}},
      {"mail", {"mail"}, {"อีเมล", "e-mail"}},
      {"audit", {"audit"}, {"บันทึกการเปลี่ยนแปลงเอง", "the audit log itself"}},
  };
  return kKinds;
}

LocalizedText AuditActionWords(const std::string& action) {
  auto found = ActionWords().find(action);
  return found != ActionWords().end() ? found->second : Same(action);
}

std::vector<AuditChange> AuditChanges(const std::string& before_json,
                                      const std::string& after_json) {
  const json before = json::parse(before_json, nullptr, false);
  const json after = json::parse(after_json, nullptr, false);
  std::vector<AuditChange> changes;
  if (!before.is_object() || !after.is_object()) {
    // Not what esar writes: the recorded text is told as it is rather than lost.
    changes.push_back({{"ค่าที่บันทึก", "recorded values"},
                       Same(Cut(before_json, kMaxValueBytes)),
                       Same(Cut(after_json, kMaxValueBytes))});
    return changes;
  }
  // Keys in the order the entry recorded them: the after side's first, then what only the
  // before side has (a value removed).
  std::vector<std::string> keys;
  for (auto it = after.begin(); it != after.end(); ++it) keys.push_back(it.key());
  for (auto it = before.begin(); it != before.end(); ++it) {
    if (!after.contains(it.key())) keys.push_back(it.key());
  }
  for (const std::string& key : keys) {
    const bool had = before.contains(key), has = after.contains(key);
    if (had && has && before[key] == after[key]) continue;
    changes.push_back({FieldName(key), had ? ValueWords(key, before[key]) : LocalizedText{},
                       has ? ValueWords(key, after[key]) : LocalizedText{}});
  }
  return changes;
}

Result<AuditPage> ReadAuditTrail(storage::Database& db, const Actor& actor,
                                 const AuditQuery& query) {
  if (!actor.Is(Role::kAdmin)) {
    return Denied(actor, "อ่านบันทึกการเปลี่ยนแปลง", "read the audit log");
  }
  const AuditKind* kind = nullptr;
  if (!query.kind.empty()) {
    for (const AuditKind& k : AuditKinds()) {
      if (query.kind == k.name) kind = &k;
    }
    if (!kind) {
      return Status::InvalidInput("ไม่มีประเภทการเปลี่ยนแปลง \"" + Cut(query.kind, 64) + "\"",
                                  "there is no kind of change \"" + Cut(query.kind, 64) + "\"");
    }
  }
  if (!CleanFilterText(query.agency)) {
    return Status::InvalidInput("รหัสหน่วยงานยาวได้ไม่เกิน 64 ตัวอักษรและไม่มีอักขระควบคุม",
                                "an agency code is at most 64 characters, without control characters");
  }
  if (!CleanFilterText(query.username)) {
    return Status::InvalidInput("ชื่อผู้ใช้ยาวได้ไม่เกิน 64 ตัวอักษรและไม่มีอักขระควบคุม",
                                "a username is at most 64 characters, without control characters");
  }
  if (query.to_ms != 0 && query.to_ms <= query.from_ms) {
    return Status::InvalidInput("วันสิ้นสุดต้องไม่ก่อนวันเริ่มต้น", "the period must not end before it starts");
  }
  if (query.limit < 1 || query.limit > 200) {
    return Status::InvalidInput("หน้าหนึ่งแสดงได้ 1–200 รายการ", "a page holds 1–200 entries");
  }
  std::string where = " WHERE l.at >= ?";
  std::vector<storage::Value> params = {query.from_ms};
  if (query.to_ms != 0) {
    where += " AND l.at < ?";
    params.emplace_back(query.to_ms);
  }
  if (query.before_seq > 0) {
    where += " AND l.seq < ?";
    params.emplace_back(query.before_seq);
  }
  if (kind) {
    where += " AND (";
    for (size_t i = 0; i < kind->prefixes.size(); ++i) {
      if (i) where += " OR ";
      where += "l.action = ? OR l.action LIKE ? ESCAPE '\\'";
      params.emplace_back(kind->prefixes[i]);
      params.emplace_back(LikeLiteral(kind->prefixes[i]) + ".%");
    }
    where += ")";
  }
  if (!query.username.empty()) {
    // The command line and the server's own work are recorded as actor 0 (no user): "system".
    where += query.username == "system"
                 ? " AND (l.actor IS NULL OR l.actor = 0 OR l.actor IN (SELECT id FROM users "
                   "WHERE username = ?))"
                 : " AND l.actor IN (SELECT id FROM users WHERE username = ?)";
    params.emplace_back(query.username);
  }
  if (!query.agency.empty()) {
    // Entries about the agency's own things (each subquery read once), and those whose values
    // name it: an extension ("agency":"X"), a user made for it, a directory import of it. JSON
    // as esar writes it (nlohmann's dump: no spaces, the code escaped as JSON escapes it).
    const std::string code = json(query.agency).dump();
    // An exact, case-sensitive substring test on both engines (SQLite's LIKE ignores the case of
    // Latin letters, PostgreSQL's does not).
    const std::string contains =
        db.dialect() == storage::Dialect::kPostgres ? "strpos(%s, ?) > 0" : "instr(%s, ?) > 0";
    auto holds = [&](const std::string& column) {
      std::string text = contains;
      return text.replace(text.find("%s"), 2, column);
    };
    where +=
        " AND (l.entity IN (SELECT 'submission/' || CAST(id AS TEXT) FROM submissions WHERE "
        "agency_code = ?) OR l.entity IN (SELECT 'data_upload/' || CAST(id AS TEXT) FROM "
        "data_uploads WHERE agency_code = ?) OR l.entity IN (SELECT 'appeal/' || CAST(id AS "
        "TEXT) FROM appeals WHERE agency_code = ?) OR l.entity IN (SELECT 'user/' || CAST(id AS "
        "TEXT) FROM users WHERE agency_code = ?) OR l.entity IN (SELECT 'contact/' || CAST(id AS "
        "TEXT) FROM users WHERE agency_code = ?) OR " +
        holds("l.before_json") + " OR " + holds("l.after_json") +
        " OR (l.action = 'agencies.upsert' AND " + holds("l.after_json") + "))";
    for (int i = 0; i < 5; ++i) params.emplace_back(query.agency);
    params.emplace_back("\"agency\":" + code);
    params.emplace_back("\"agency\":" + code);
    params.emplace_back(code);
  }
  AuditPage page;
  std::map<int64_t, std::string> agency_of;  // the agency an entry of one agency's form names
  Status s = db.ReadSnapshot([&]() -> Status {
    // One more than the page, to know whether an older page follows.
    auto rows = db.Query(
        "SELECT l.seq, l.at, COALESCE(u.username, ''), COALESCE(u.display_name, ''), l.action, "
        "l.entity, l.before_json, l.after_json FROM audit_log l LEFT JOIN users u ON u.id = "
        "l.actor" +
            where + " ORDER BY l.seq DESC LIMIT " + std::to_string(query.limit + 1),
        params);
    if (!rows) return rows.status();
    for (const storage::Row& r : *rows) {
      if (static_cast<int64_t>(page.items.size()) == query.limit) {
        page.next_before = page.items.back().seq;
        break;
      }
      AuditEntry e;
      e.seq = r.Int(0);
      e.at = r.Int(1);
      e.username = r.Text(2);
      e.display_name = r.Text(3);
      e.action = r.Text(4);
      e.entity = r.Text(5);
      e.changes = AuditChanges(r.Text(6), r.Text(7));
      // One agency's form names the agency: the entry's subject is it, not the directory.
      if (e.action == "agency.add" || e.action == "agency.edit") {
        const json after = json::parse(r.Text(7), nullptr, false);
        if (after.is_object() && after.contains("agency") && after["agency"].is_string()) {
          agency_of[e.seq] = after["agency"].get<std::string>();
        }
      }
      page.items.push_back(std::move(e));
    }
    Subjects subjects(db);
    Status loaded = subjects.Load(page.items);
    if (!loaded.ok()) return loaded;
    for (AuditEntry& e : page.items) {
      const LocalizedText action = AuditActionWords(e.action);
      auto one = agency_of.find(e.seq);
      const LocalizedText subject = one != agency_of.end()
                                        ? LocalizedText{"หน่วยงาน " + one->second, "agency " + one->second}
                                        : subjects.Of(e.entity);
      e.what = {action.th + ": " + subject.th, action.en + ": " + subject.en};
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return page;
}

}  // namespace esar::service
