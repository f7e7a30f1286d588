#include "service/directory.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "common/thai.h"
#include "service/audit.h"
#include "service/mail_texts.h"
#include "service/notify.h"

namespace esar::service {
namespace {

using nlohmann::json;

Status WrongLogin() {
  return Status::Unauthenticated("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", "wrong username or password");
}

// Tokens manage nothing of the account: not other tokens, not the password.
Status NotWithAToken() {
  return Status::PermissionDenied(
      "โทเคน API ใช้จัดการโทเคนหรือรหัสผ่านไม่ได้ โปรดเข้าสู่ระบบด้วยรหัสผ่าน",
      "an API token cannot manage tokens or the password: log in with the password");
}

Status NoHasher() { return Status::Internal("no password hasher given to the directory"); }

}  // namespace

bool IsValidUsername(const std::string& name) {
  if (name.size() < 3 || name.size() > 64) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  }
  return true;
}

Status Directory::UpsertAgencies(const Actor& actor, const std::vector<domain::Agency>& agencies) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "นำเข้ารายชื่อหน่วยงาน", "import agencies");
  const int64_t now = clock_.NowMs();
  Status stored = db_.Transaction([&]() -> Status {
    // Parents first: insert every agency without its parent, then set the parents.
    for (const domain::Agency& a : agencies) {
      if (a.code.empty() || a.name.th.empty()) {
        return Status::InvalidInput("หน่วยงานต้องมีรหัสและชื่อภาษาไทย",
                                    "an agency needs a code and a Thai name");
      }
      if (a.email && !a.email->empty() && !IsValidEmail(*a.email)) {
        return Status::InvalidInput(
            "หน่วยงาน " + a.code + ": อีเมล \"" + *a.email + "\" ไม่ถูกต้อง (เช่น saraban@ocs.go.th)",
            "agency " + a.code + ": \"" + *a.email +
                "\" is not an e-mail address (such as "
                "saraban@ocs.go.th)",
            a.where);
      }
      // The sort key goes with the name it is of: lists sort by it in SQL (Thai order).
      Status s = db_.Execute(
          "INSERT INTO agencies (code, name_th, name_en, kind, sort_key) VALUES (?, ?, ?, ?, ?) "
          "ON CONFLICT (code) DO UPDATE SET name_th = excluded.name_th, name_en = "
          "excluded.name_en, kind = excluded.kind, sort_key = excluded.sort_key",
          {a.code, a.name.th, a.name.en, a.kind, storage::Blob{ThaiSortKey(a.name.th)}});
      if (!s.ok()) return s;
      // A file without the column keeps the address esar holds.
      if (a.email) {
        s = db_.Execute("UPDATE agencies SET email = ? WHERE code = ?", {*a.email, a.code});
        if (!s.ok()) return s;
      }
    }
    for (const domain::Agency& a : agencies) {
      storage::Value parent = a.parent.empty() ? storage::Value{} : storage::Value{a.parent};
      Status s = db_.Execute("UPDATE agencies SET parent = ? WHERE code = ?", {parent, a.code});
      if (!s.ok()) {
        return Status::InvalidInput(
            "หน่วยงาน " + a.code + " สังกัด \"" + a.parent + "\" ซึ่งไม่มีอยู่",
            "agency " + a.code + " belongs to \"" + a.parent + "\", which does not exist");
      }
    }
    json codes = json::array();
    for (const domain::Agency& a : agencies) codes.push_back(a.code);
    return AuditLog(db_).Append(actor, now, "agencies.upsert", "agencies", "{}",
                                json{{"codes", codes}}.dump());
  });
  if (stored.ok()) db_.VacuumAfterBulkLoad("agencies", agencies.size());
  return stored;
}

namespace {

// An agency from a row of SELECT code, name_th, name_en, kind, parent, email.
domain::Agency AgencyOfRow(const storage::Row& r) {
  return domain::Agency{
      r.Text(0), {r.Text(1), r.Text(2)}, r.Text(3), r.IsNull(4) ? "" : r.Text(4), {}, r.Text(5)};
}

}  // namespace

Result<std::vector<domain::Agency>> Directory::Agencies() {
  auto rows =
      db_.Query("SELECT code, name_th, name_en, kind, parent, email FROM agencies ORDER BY code");
  if (!rows) return rows.status();
  std::vector<domain::Agency> out;
  for (const storage::Row& r : *rows) out.push_back(AgencyOfRow(r));
  return out;
}

Result<domain::Agency> Directory::FindAgency(const std::string& code) {
  auto rows = db_.Query(
      "SELECT code, name_th, name_en, kind, parent, email FROM agencies WHERE code = ?", {code});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีหน่วยงาน " + code, "no agency " + code);
  return AgencyOfRow((*rows)[0]);
}

Result<std::vector<domain::Agency>> Directory::FindAgencies(const std::vector<std::string>& codes) {
  std::vector<domain::Agency> out;
  if (codes.empty()) return out;
  auto rows =
      db_.Query("SELECT code, name_th, name_en, kind, parent, email FROM agencies WHERE code IN (" +
                    storage::Placeholders(codes.size()) + ")",
                std::vector<storage::Value>(codes.begin(), codes.end()));
  if (!rows) return rows.status();
  out.reserve(rows->size());
  for (const storage::Row& r : *rows) out.push_back(AgencyOfRow(r));
  return out;
}

std::string Directory::AgencyVersion(const domain::Agency& a) {
  const json state = {a.code, a.name.th, a.name.en, a.kind, a.parent, a.email.value_or("")};
  return security::Sha256Hex(state.dump()).substr(0, 32);
}

namespace {

Status AgencyFieldError(const std::string& field, std::string th, std::string en) {
  return Status::InvalidInput(std::move(th), std::move(en), Location{"", field, 0});
}

bool CleanText(const std::string& text) {
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// What the agency form's values must be, each refusal naming its field.
Status CheckAgencyForm(const AgencyForm& f) {
  const bool code_ok =
      !f.code.empty() && f.code.size() <= 64 &&
      std::all_of(f.code.begin(), f.code.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!code_ok) {
    return AgencyFieldError("code", "รหัสหน่วยงานต้องยาว 1–64 ตัวอักษร ใช้ได้เฉพาะอักษรละติน ตัวเลข . _ -",
                            "an agency code is 1–64 characters: Latin letters, digits, . _ -");
  }
  if (f.name_th.empty()) {
    return AgencyFieldError("name_th", "โปรดกรอกชื่อหน่วยงานภาษาไทย", "enter the agency's Thai name");
  }
  if (f.name_th.size() > 300 || !CleanText(f.name_th)) {
    return AgencyFieldError("name_th", "ชื่อภาษาไทยยาวได้ไม่เกิน 300 ไบต์ และต้องไม่มีอักขระควบคุม",
                            "the Thai name is at most 300 bytes, without control characters");
  }
  if (f.name_en.size() > 300 || !CleanText(f.name_en)) {
    return AgencyFieldError("name_en", "ชื่อภาษาอังกฤษยาวได้ไม่เกิน 300 ไบต์ และต้องไม่มีอักขระควบคุม",
                            "the English name is at most 300 bytes, without control characters");
  }
  const bool kind_ok = !f.kind.empty() && f.kind.size() <= 64 &&
                       std::all_of(f.kind.begin(), f.kind.end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                       });
  if (!kind_ok) {
    return AgencyFieldError("kind", "โปรดเลือกประเภทหน่วยงาน", "choose the kind of agency");
  }
  if (f.parent == f.code) {
    return AgencyFieldError("parent", "หน่วยงานสังกัดตนเองไม่ได้", "an agency cannot belong to itself");
  }
  if (!f.email.empty() && (f.email.size() > 254 || !IsValidEmail(f.email))) {
    return AgencyFieldError("email", "อีเมลของหน่วยงานไม่ถูกต้อง: ใช้รูปแบบเช่น saraban@ocs.go.th",
                            "the agency's e-mail address is not valid: use the form "
                            "saraban@ocs.go.th");
  }
  return Status::Ok();
}

}  // namespace

Status Directory::SaveAgency(const Actor& actor, const AgencyForm& form, bool adding) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, adding ? "เพิ่มหน่วยงาน" : "แก้ไขหน่วยงาน",
                  adding ? "add agencies" : "edit agencies");
  }
  Status valid = CheckAgencyForm(form);
  if (!valid.ok()) return valid;
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    auto rows =
        db_.Query("SELECT code, name_th, name_en, kind, parent, email FROM agencies WHERE code = ?",
                  {form.code});
    if (!rows) return rows.status();
    domain::Agency was;
    if (adding) {
      if (!rows->empty()) {
        return AgencyFieldError("code", "มีหน่วยงานรหัส \"" + form.code + "\" อยู่แล้ว",
                                "the agency code \"" + form.code + "\" is taken");
      }
    } else {
      if (rows->empty()) {
        return Status::NotFound("ไม่มีหน่วยงาน " + form.code, "no agency " + form.code);
      }
      was = AgencyOfRow((*rows)[0]);
      if (AgencyVersion(was) != form.version) {
        return Status::Conflict(
            "มีผู้อื่นแก้ไขหน่วยงานนี้หลังจากที่คุณเปิดหน้านี้ หน้านี้แสดงข้อมูลล่าสุดแล้ว โปรดแก้ไขอีกครั้ง",
            "someone else changed this agency after you opened the page: it now shows what is "
            "stored; make the change again");
      }
    }
    if (!form.parent.empty()) {
      // The parent must exist, and must not be the agency or belong to it: walk up from the
      // parent (a directory is a few levels deep; the walk stops at 64 for a loop already there).
      std::string at = form.parent;
      for (int depth = 0; !at.empty() && depth < 64; ++depth) {
        auto up = db_.Query("SELECT parent FROM agencies WHERE code = ?", {at});
        if (!up) return up.status();
        if (up->empty()) {
          return AgencyFieldError("parent", "ไม่มีหน่วยงานรหัส \"" + at + "\"",
                                  "no agency \"" + at + "\"");
        }
        at = (*up)[0].IsNull(0) ? "" : (*up)[0].Text(0);
        if (at == form.code) {
          return AgencyFieldError(
              "parent",
              "หน่วยงาน " + form.parent + " สังกัด " + form.code + " อยู่แล้ว จึงเป็นหน่วยงานต้นสังกัดของ " +
                  form.code + " ไม่ได้",
              form.parent + " belongs to " + form.code + ", so it cannot be its parent");
        }
      }
    }
    json before = {{"agency", form.code}};
    json after = {{"agency", form.code}};
    auto note = [&](const char* key, const std::string& old_value, const std::string& new_value) {
      if (old_value == new_value) return;
      before[key] = adding ? json(nullptr) : json(old_value);
      after[key] = new_value;
    };
    note("name_th", was.name.th, form.name_th);
    note("name_en", was.name.en, form.name_en);
    note("kind", was.kind, form.kind);
    note("parent", was.parent, form.parent);
    note("email", was.email.value_or(""), form.email);
    if (!adding && after.size() == 1) return Status::Ok();
    storage::Value parent = form.parent.empty() ? storage::Value{} : storage::Value{form.parent};
    const storage::Blob key{ThaiSortKey(form.name_th)};
    Status s =
        adding ? db_.Execute(
                     "INSERT INTO agencies (code, name_th, name_en, kind, parent, sort_key, "
                     "email) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     {form.code, form.name_th, form.name_en, form.kind, parent, key, form.email})
               : db_.Execute(
                     "UPDATE agencies SET name_th = ?, name_en = ?, kind = ?, parent = ?, "
                     "sort_key = ?, email = ? WHERE code = ?",
                     {form.name_th, form.name_en, form.kind, parent, key, form.email, form.code});
    if (!s.ok()) return s;
    if (adding) before = json::object();
    return AuditLog(db_).Append(actor, now, adding ? "agency.add" : "agency.edit", "agencies",
                                before.dump(), after.dump());
  });
}

Result<std::vector<domain::Agency>> Directory::Parents() {
  auto rows = db_.Query(
      "SELECT code, name_th, name_en, kind, parent FROM agencies WHERE code IN (SELECT parent "
      "FROM agencies WHERE parent IS NOT NULL) ORDER BY sort_key, code");
  if (!rows) return rows.status();
  std::vector<domain::Agency> out;
  for (const storage::Row& r : *rows)
    out.push_back({r.Text(0), {r.Text(1), r.Text(2)}, r.Text(3), r.Text(4), {}});
  return out;
}

Result<std::vector<std::string>> Directory::Kinds() {
  auto rows = db_.Query("SELECT DISTINCT kind FROM agencies WHERE kind <> '' ORDER BY kind");
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (const storage::Row& r : *rows) out.push_back(r.Text(0));
  return out;
}

Result<Directory::AgencyPage> Directory::ListAgencies(const Actor& actor,
                                                      const AgencyQuery& query) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ดูรายชื่อหน่วยงาน", "list agencies");
  std::string where = " WHERE 1 = 1";
  std::vector<storage::Value> params;
  if (!query.kind.empty()) {
    where += " AND a.kind = ?";
    params.emplace_back(query.kind);
  }
  if (!query.parent.empty()) {
    where += " AND a.parent = ?";
    params.emplace_back(query.parent);
  }
  if (!query.q.empty()) {
    // As the public list searches: the code or a name of the agency or of its parent. LIKE
    // folds Latin letters on SQLite, ILIKE on PostgreSQL; Thai has no case.
    const std::string like = db_.dialect() == storage::Dialect::kPostgres ? " ILIKE" : " LIKE";
    where += " AND (";
    const char* columns[] = {"a.code",   "a.name_th", "a.name_en",
                             "a.parent", "p.name_th", "p.name_en"};
    for (size_t i = 0; i < 6; ++i) {
      where += std::string(i ? " OR " : "") + columns[i] + like + " ? ESCAPE '\\'";
      params.emplace_back(storage::ContainsPattern(query.q));
    }
    where += ")";
  }
  const std::string dir = query.descending ? " DESC" : "";
  const std::string order = query.by_name ? "a.sort_key" + dir + ", a.code" + dir
                                          : "p.sort_key" + dir + " NULLS LAST, a.sort_key, a.code";
  std::vector<storage::Value> paged = params;
  paged.emplace_back(query.limit);
  paged.emplace_back(query.offset);
  const std::string from = " FROM agencies a LEFT JOIN agencies p ON p.code = a.parent";
  auto rows = db_.Query(
      "SELECT a.code, a.name_th, a.name_en, a.kind, a.parent, p.name_th, p.name_en, a.email, "
      "COUNT(*) OVER ()" +
          from + where + " ORDER BY " + order + " LIMIT ? OFFSET ?",
      paged);
  if (!rows) return rows.status();
  AgencyPage page;
  if (!rows->empty()) {
    page.total = (*rows)[0].Int(8);
  } else {
    // A page past the end says how many there are all the same.
    auto counted = db_.Query("SELECT COUNT(*)" + from + where, params);
    if (!counted) return counted.status();
    page.total = (*counted)[0].Int(0);
  }
  for (const storage::Row& r : *rows) {
    page.items.push_back({r.Text(0),
                          {r.Text(1), r.Text(2)},
                          r.Text(3),
                          r.Text(4),
                          {},
                          r.IsNull(7) ? std::string() : r.Text(7)});
    page.parent_names.push_back({r.Text(5), r.Text(6)});
  }
  return page;
}

Result<Directory::AgencyPage> Directory::ListAgencies(const Actor& actor, const AgencyQuery& query,
                                                      const ResultListIndex& index) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ดูรายชื่อหน่วยงาน", "list agencies");
  ListQuery found;
  found.q = query.q;
  found.kind = query.kind;
  found.parent = query.parent;
  found.sort = query.by_name ? ListSort::kName : ListSort::kParent;
  found.descending = query.descending;
  found.limit = query.limit;
  found.offset = query.offset;
  const ResultListIndex::Slice slice = index.Find(found);
  AgencyPage page;
  page.total = slice.total;
  if (slice.codes.empty()) return page;
  const std::vector<storage::Value> params(slice.codes.begin(), slice.codes.end());
  const std::string in = storage::Placeholders(params.size());
  auto rows = db_.Query(
      "SELECT a.code, a.name_th, a.name_en, a.kind, a.parent, p.name_th, p.name_en, a.email FROM "
      "agencies a LEFT JOIN agencies p ON p.code = a.parent WHERE a.code IN (" +
          in + ")",
      params);
  if (!rows) return rows.status();
  std::map<std::string, const storage::Row*> by_code;
  for (const storage::Row& r : *rows) by_code[r.Text(0)] = &r;
  for (const std::string& code : slice.codes) {
    const auto at = by_code.find(code);
    if (at == by_code.end()) continue;
    const storage::Row& r = *at->second;
    page.items.push_back({r.Text(0),
                          {r.Text(1), r.Text(2)},
                          r.Text(3),
                          r.Text(4),
                          {},
                          r.IsNull(7) ? std::string() : r.Text(7)});
    page.parent_names.push_back({r.Text(5), r.Text(6)});
  }
  return page;
}

Result<std::vector<UserInfo>> Directory::Users(const Actor& actor) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ดูรายชื่อผู้ใช้", "list users");
  auto rows = db_.Query(
      "SELECT id, username, display_name, role, agency_code, active FROM users ORDER BY username");
  if (!rows) return rows.status();
  std::vector<UserInfo> out;
  for (const storage::Row& r : *rows) {
    auto role = ParseRole(r.Text(3));
    if (!role) return role.status();
    out.push_back(
        {r.Int(0), r.Text(1), r.Text(2), *role, r.IsNull(4) ? "" : r.Text(4), r.Int(5) != 0});
  }
  return out;
}

namespace {

// A refusal of the user form's field `field` (Location::json_path names it, as the authoring
// forms do), so that the page shows it beside that field.
Status FieldError(const std::string& field, std::string th, std::string en) {
  return Status::InvalidInput(std::move(th), std::move(en), Location{"", field, 0});
}

Status StaleUser() {
  return Status::Conflict(
      "มีผู้อื่นแก้ไขผู้ใช้นี้หลังจากที่คุณเปิดหน้านี้ โปรดเปิดหน้าใหม่แล้วแก้ไขอีกครั้ง",
      "someone else changed this user after you opened the page: open it again and redo the "
      "change");
}

bool HasControlCharacters(const std::string& text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

Result<UserDetail> Directory::User(const Actor& actor, int64_t id) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ดูข้อมูลผู้ใช้", "read a user's details");
  auto rows = db_.Query(
      "SELECT u.id, u.username, u.display_name, u.role, u.agency_code, u.active, u.created_at, "
      "c.email, c.language FROM users u LEFT JOIN user_contacts c ON c.user_id = u.id WHERE u.id "
      "= ?",
      {id});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return Status::NotFound("ไม่พบผู้ใช้รหัส " + std::to_string(id), "no user " + std::to_string(id));
  }
  const storage::Row& r = (*rows)[0];
  auto role = ParseRole(r.Text(3));
  if (!role) return role.status();
  UserDetail d;
  d.info = {r.Int(0), r.Text(1), r.Text(2), *role, r.IsNull(4) ? "" : r.Text(4), r.Int(5) != 0};
  d.created_at = r.Int(6);
  d.email = r.IsNull(7) ? "" : r.Text(7);
  d.language = !r.IsNull(8) && r.Text(8) == "en" ? Lang::kEnglish : Lang::kThai;
  const json state = {d.info.display_name, RoleName(d.info.role), d.info.agency, d.email,
                      d.info.active};
  d.version = security::Sha256Hex(state.dump()).substr(0, 32);
  return d;
}

Status Directory::EditUser(const Actor& actor, int64_t id, const UserEdit& edit) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, "แก้ไขข้อมูลผู้ใช้", "edit users");
  }
  if (edit.display_name.size() > 200 || HasControlCharacters(edit.display_name)) {
    return FieldError("display_name", "ชื่อที่แสดงยาวได้ไม่เกิน 200 ไบต์ และต้องไม่มีอักขระควบคุม",
                      "a display name is at most 200 bytes, without control characters");
  }
  const bool needs_agency = edit.role == Role::kReporter || edit.role == Role::kApprover;
  if (needs_agency && edit.agency.empty()) {
    return FieldError("agency", "ผู้รายงานและผู้อนุมัติต้องสังกัดหน่วยงาน โปรดเลือกหน่วยงาน",
                      "reporters and approvers belong to an agency: choose one");
  }
  if (!edit.email.empty() && !IsValidEmail(edit.email)) {
    return FieldError("email", "ที่อยู่อีเมล \"" + edit.email + "\" ไม่ถูกต้อง",
                      "\"" + edit.email + "\" is not a valid e-mail address");
  }
  const std::string agency = needs_agency ? edit.agency : "";
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    auto current = User(actor, id);
    if (!current) return current.status();
    if (current->version != edit.version) return StaleUser();
    const UserInfo& was = current->info;
    if (id == actor.user_id && edit.role != was.role) {
      return FieldError("role", "เปลี่ยนบทบาทของตนเองไม่ได้ ให้ผู้ดูแลระบบคนอื่นเปลี่ยนให้",
                        "you cannot change your own role: ask another admin");
    }
    if (!agency.empty() && agency != was.agency) {
      auto found = db_.Query("SELECT 1 FROM agencies WHERE code = ?", {agency});
      if (!found) return found.status();
      if (found->empty()) {
        return FieldError("agency", "ไม่มีหน่วยงานรหัส \"" + agency + "\"",
                          "no agency \"" + agency + "\"");
      }
    }
    json before = json::object();
    json after = json::object();
    if (edit.display_name != was.display_name) {
      before["display_name"] = was.display_name;
      after["display_name"] = edit.display_name;
    }
    if (edit.role != was.role) {
      before["role"] = RoleName(was.role);
      after["role"] = RoleName(edit.role);
    }
    if (agency != was.agency) {
      before["agency"] = was.agency;
      after["agency"] = agency;
    }
    if (!after.empty()) {
      storage::Value agency_value = agency.empty() ? storage::Value{} : storage::Value{agency};
      Status s =
          db_.Execute("UPDATE users SET display_name = ?, role = ?, agency_code = ? WHERE id = ?",
                      {edit.display_name, std::string(RoleName(edit.role)), agency_value, id});
      if (!s.ok()) return s;
      s = AuditLog(db_).Append(actor, now, "user.edit", "user/" + std::to_string(id), before.dump(),
                               after.dump());
      if (!s.ok()) return s;
    }
    if (edit.email == current->email) return Status::Ok();
    return Contacts(db_, clock_).WriteAddress(actor, id, edit.email, current->language);
  });
}

Status Directory::SetUserActive(const Actor& actor, int64_t id, bool active,
                                const std::string& version) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, active ? "เปิดใช้บัญชีผู้ใช้" : "ปิดใช้บัญชีผู้ใช้",
                  active ? "enable users" : "disable users");
  }
  if (id == actor.user_id) {
    return Status::Conflict("ปิดหรือเปิดบัญชีของตนเองไม่ได้ ให้ผู้ดูแลระบบคนอื่นทำให้",
                            "you cannot disable or enable your own account: ask another admin");
  }
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    auto current = User(actor, id);
    if (!current) return current.status();
    if (current->info.active == active) return Status::Ok();
    if (current->version != version) return StaleUser();
    Status s = db_.Execute("UPDATE users SET active = ? WHERE id = ?",
                           {static_cast<int64_t>(active ? 1 : 0), id});
    if (!s.ok()) return s;
    // Whoever is logged in as the user is out at their next request; a session would be
    // refused anyway (ActorOf), but none is kept that enabling the user again would revive.
    if (!active) {
      s = db_.Execute("DELETE FROM sessions WHERE user_id = ?", {id});
      if (!s.ok()) return s;
    }
    return AuditLog(db_).Append(actor, now, active ? "user.enable" : "user.disable",
                                "user/" + std::to_string(id), json{{"active", !active}}.dump(),
                                json{{"active", active}}.dump());
  });
}

Result<int64_t> Directory::CreateUser(const Actor& actor, const NewUser& user) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "สร้างบัญชีผู้ใช้", "create users");
  if (!IsValidUsername(user.username)) {
    return Status::InvalidInput("ชื่อผู้ใช้ต้องยาว 3–64 ตัวอักษร ใช้ได้เฉพาะอักษรละติน ตัวเลข . _ -",
                                "a username is 3–64 characters: Latin letters, digits, . _ -");
  }
  if (user.password.size() < 10) {
    return Status::InvalidInput("รหัสผ่านต้องยาวอย่างน้อย 10 ตัวอักษร",
                                "a password needs at least 10 characters");
  }
  const bool needs_agency = user.role == Role::kReporter || user.role == Role::kApprover;
  if (needs_agency == user.agency.empty()) {
    return Status::InvalidInput("ผู้รายงานและผู้อนุมัติต้องสังกัดหน่วยงาน ส่วนบทบาทอื่นต้องไม่สังกัด",
                                "reporters and approvers belong to an agency; other roles do not");
  }
  if (!user.email.empty() && !IsValidEmail(user.email)) {
    return Status::InvalidInput("ที่อยู่อีเมล \"" + user.email + "\" ไม่ถูกต้อง",
                                "\"" + user.email + "\" is not a valid e-mail address");
  }
  if (!hasher_) return NoHasher();
  auto hash = hasher_->Hash(user.password);
  if (!hash) return hash.status();
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    auto existing = db_.Query("SELECT 1 FROM users WHERE username = ?", {user.username});
    if (!existing) return existing.status();
    if (!existing->empty()) {
      return Status::Conflict("มีชื่อผู้ใช้ \"" + user.username + "\" อยู่แล้ว",
                              "the username \"" + user.username + "\" is taken");
    }
    storage::Value agency = user.agency.empty() ? storage::Value{} : storage::Value{user.agency};
    auto rows = db_.Query(
        "INSERT INTO users (username, display_name, password_hash, role, agency_code, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        {user.username, user.display_name, *hash, std::string(RoleName(user.role)), agency, now});
    if (!rows) {
      return Status::InvalidInput("ไม่มีหน่วยงาน \"" + user.agency + "\"",
                                  "no agency \"" + user.agency + "\"");
    }
    id = (*rows)[0].Int(0);
    const json after = {{"id", id},
                        {"username", user.username},
                        {"role", RoleName(user.role)},
                        {"agency", user.agency}};
    Status audited = AuditLog(db_).Append(actor, now, "user.create", "user/" + std::to_string(id),
                                          "{}", after.dump());
    if (!audited.ok()) return audited;
    if (user.email.empty() && user.language == Lang::kThai) return Status::Ok();
    Status contact = Contacts(db_, clock_).Create(actor, id, user.email, user.language);
    if (!contact.ok() || user.email.empty()) return contact;
    auto told =
        Notifier(db_, clock_).Notify(id, AccountCreatedMessage(user.username, RoleName(user.role)));
    return told.status();
  });
  if (!done.ok()) return done;
  return id;
}

Result<Session> Directory::OpenSession(int64_t user_id) {
  auto actor = ActorOf(user_id);
  if (!actor) return actor.status();
  const int64_t now = clock_.NowMs();
  Session session;
  session.token = security::RandomToken();
  session.csrf_token = security::RandomToken();
  session.expires_at = now + kSessionLifetimeMs;
  session.actor = *actor;
  Status s = db_.Execute(
      "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, "
      "?, ?, ?, ?)",
      {security::Sha256Hex(session.token), user_id, session.csrf_token, now, session.expires_at});
  if (!s.ok()) return s;
  return session;
}

Result<Actor> Directory::ActorOf(int64_t user_id) {
  auto rows = db_.Query("SELECT id, role, agency_code, username, active FROM users WHERE id = ?",
                        {user_id});
  if (!rows) return rows.status();
  if (rows->empty() || (*rows)[0].Int(4) != 1) return WrongLogin();
  auto role = ParseRole((*rows)[0].Text(1));
  if (!role) return role.status();
  return Actor{user_id, *role, (*rows)[0].Text(2), (*rows)[0].Text(3)};
}

Result<Session> Directory::FindSession(const std::string& token) {
  auto rows = db_.Query("SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = ?",
                        {security::Sha256Hex(token)});
  if (!rows) return rows.status();
  if (rows->empty() || (*rows)[0].Int(2) <= clock_.NowMs()) {
    return Status::Unauthenticated("การเข้าสู่ระบบหมดอายุ โปรดเข้าสู่ระบบใหม่",
                                   "the session has expired: log in again");
  }
  auto actor = ActorOf((*rows)[0].Int(0));
  if (!actor) return actor.status();
  return Session{token, (*rows)[0].Text(1), (*rows)[0].Int(2), *actor};
}

Status Directory::Logout(const std::string& token) {
  return db_.Execute("DELETE FROM sessions WHERE token_hash = ?", {security::Sha256Hex(token)});
}

Status Directory::ChangePassword(const Actor& actor, const std::string& old_password,
                                 const std::string& new_password) {
  if (actor.user_id == 0) return Denied(actor, "เปลี่ยนรหัสผ่าน", "change a password");
  if (actor.by_token) return NotWithAToken();
  if (!hasher_) return NoHasher();
  auto rows = db_.Query("SELECT password_hash FROM users WHERE id = ?", {UserRef(actor)});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return Status::Unauthenticated("รหัสผ่านเดิมไม่ถูกต้อง", "the current password is wrong");
  }
  auto matches = hasher_->Verify((*rows)[0].Text(0), old_password);
  if (!matches) return matches.status();
  if (!*matches) {
    return Status::Unauthenticated("รหัสผ่านเดิมไม่ถูกต้อง", "the current password is wrong");
  }
  if (new_password.size() < 10) {
    return Status::InvalidInput("รหัสผ่านต้องยาวอย่างน้อย 10 ตัวอักษร",
                                "a password needs at least 10 characters");
  }
  auto hash = hasher_->Hash(new_password);
  if (!hash) return hash.status();
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    Status s =
        db_.Execute("UPDATE users SET password_hash = ? WHERE id = ?", {*hash, UserRef(actor)});
    if (!s.ok()) return s;
    // Every session of this user ends with the old password, this one too: log in again.
    s = db_.Execute("DELETE FROM sessions WHERE user_id = ?", {UserRef(actor)});
    if (!s.ok()) return s;
    // And every token made with it: whoever had the old password may have made one.
    s = db_.Execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                    {now, UserRef(actor)});
    if (!s.ok()) return s;
    return AuditLog(db_).Append(actor, now, "user.password",
                                "user/" + std::to_string(actor.user_id), "{}", "{}");
  });
}

namespace {

constexpr const char* kTokenColumns =
    "id, name, scope, created_at, expires_at, last_used_at, revoked_at";

ApiTokenInfo TokenInfoOf(const storage::Row& r) {
  return {r.Int(0),
          r.Text(1),
          r.Text(2) == "read" ? TokenScope::kRead : TokenScope::kFull,
          r.Int(3),
          r.Int(4),
          r.IsNull(5) ? 0 : r.Int(5),
          r.IsNull(6) ? 0 : r.Int(6)};
}

// A token's use is noted at most this often.
constexpr int64_t kTokenUseResolutionMs = 60 * 1000;

}  // namespace

const char* TokenScopeName(TokenScope scope) {
  return scope == TokenScope::kRead ? "read" : "full";
}

Result<CreatedApiToken> Directory::CreateApiToken(const Actor& actor, const NewApiToken& token) {
  if (actor.user_id == 0) return Denied(actor, "สร้างโทเคน API", "create API tokens");
  if (actor.by_token) return NotWithAToken();
  if (token.name.empty() || token.name.size() > 200) {
    return Status::InvalidInput("ชื่อโทเคนต้องยาว 1–200 ไบต์", "a token's name is 1–200 bytes");
  }
  const int64_t lifetime = token.lifetime_ms == 0 ? kDefaultTokenLifetimeMs : token.lifetime_ms;
  if (lifetime < 0 || lifetime > kMaxTokenLifetimeMs) {
    return Status::InvalidInput("โทเคนมีอายุได้ไม่เกิน 365 วัน", "a token lives at most 365 days");
  }
  CreatedApiToken created;
  created.token = security::RandomToken();
  const int64_t now = clock_.NowMs();
  Status s = db_.Transaction([&]() -> Status {
    auto rows = db_.Query(
        "INSERT INTO api_tokens (token_hash, user_id, name, scope, created_at, expires_at) VALUES "
        "(?, ?, ?, ?, ?, ?) RETURNING " +
            std::string(kTokenColumns),
        {security::Sha256Hex(created.token), UserRef(actor), token.name,
         std::string(TokenScopeName(token.scope)), now, now + lifetime});
    if (!rows) return rows.status();
    created.info = TokenInfoOf((*rows)[0]);
    return AuditLog(db_).Append(actor, now, "token.create", "user/" + std::to_string(actor.user_id),
                                "{}",
                                json{{"id", created.info.id},
                                     {"name", token.name},
                                     {"scope", TokenScopeName(token.scope)},
                                     {"expires_at", now + lifetime}}
                                    .dump());
  });
  if (!s.ok()) return s;
  return created;
}

Result<std::vector<ApiTokenInfo>> Directory::ApiTokens(const Actor& actor) {
  if (actor.user_id == 0) return Denied(actor, "ดูโทเคน API", "list API tokens");
  if (actor.by_token) return NotWithAToken();
  auto rows = db_.Query("SELECT " + std::string(kTokenColumns) +
                            " FROM api_tokens WHERE user_id = ? ORDER BY id DESC",
                        {UserRef(actor)});
  if (!rows) return rows.status();
  std::vector<ApiTokenInfo> out;
  for (const storage::Row& r : *rows) out.push_back(TokenInfoOf(r));
  return out;
}

Result<ApiTokenInfo> Directory::RevokeApiToken(const Actor& actor, int64_t id) {
  if (actor.user_id == 0) return Denied(actor, "เพิกถอนโทเคน API", "revoke API tokens");
  if (actor.by_token) return NotWithAToken();
  const int64_t now = clock_.NowMs();
  ApiTokenInfo info;
  Status s = db_.Transaction([&]() -> Status {
    auto rows = db_.Query(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND user_id = ? "
        "RETURNING " +
            std::string(kTokenColumns),
        {now, id, UserRef(actor)});
    if (!rows) return rows.status();
    if (rows->empty()) {
      return Status::NotFound("ไม่พบโทเคน " + std::to_string(id), "no token " + std::to_string(id));
    }
    info = TokenInfoOf((*rows)[0]);
    return AuditLog(db_).Append(actor, now, "token.revoke", "user/" + std::to_string(actor.user_id),
                                "{}", json{{"id", id}}.dump());
  });
  if (!s.ok()) return s;
  return info;
}

Result<Actor> Directory::FindApiToken(const std::string& token) {
  auto rows = db_.Query(
      "SELECT id, user_id, scope, expires_at, last_used_at FROM api_tokens WHERE token_hash = ? "
      "AND revoked_at IS NULL",
      {security::Sha256Hex(token)});
  if (!rows) return rows.status();
  const int64_t now = clock_.NowMs();
  if (rows->empty() || (*rows)[0].Int(3) <= now) {
    return Status::Unauthenticated("โทเคน API ไม่ถูกต้อง หมดอายุ หรือถูกเพิกถอน",
                                   "unknown, expired or revoked API token");
  }
  const storage::Row& r = (*rows)[0];
  if (r.IsNull(4) || r.Int(4) < now - kTokenUseResolutionMs) {
    Status noted =
        db_.Execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", {now, r.Int(0)});
    if (!noted.ok()) return noted;
  }
  auto actor = ActorOf(r.Int(1));
  if (!actor) return actor.status();
  actor->by_token = true;
  actor->read_only = r.Text(2) == "read";
  return actor;
}

Result<Purged> Directory::Purge() {
  const int64_t now = clock_.NowMs();
  Purged purged;
  auto count = [&](std::string_view sql, const std::vector<storage::Value>& params,
                   int64_t& into) -> Status {
    auto rows = db_.Query(sql, params);
    if (!rows) return rows.status();
    into = static_cast<int64_t>(rows->size());
    return Status::Ok();
  };
  Status s =
      count("DELETE FROM sessions WHERE expires_at <= ? RETURNING user_id", {now}, purged.sessions);
  if (!s.ok()) return s;
  s = count("DELETE FROM login_throttle WHERE last_at < ? AND blocked_until <= ? RETURNING subject",
            {now - kThrottleRetentionMs, now}, purged.throttle_entries);
  if (!s.ok()) return s;
  // A key whose request is still running has no answer yet; a day is far longer than any
  // request may run (the server cuts them after minutes), so it goes too.
  s = count("DELETE FROM idempotency_keys WHERE created_at < ? RETURNING user_id",
            {now - kIdempotencyRetentionMs}, purged.idempotency_keys);
  if (!s.ok()) return s;
  return purged;
}

}  // namespace esar::service
