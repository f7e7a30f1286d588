#include "service/notify.h"

#include <algorithm>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "service/audit.h"

namespace esar::service {
namespace {

using nlohmann::json;

// A subject on one line: a line break in a header would end it (and start another).
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  return text;
}

Status CheckMessage(const Message& m) {
  if (m.kind.empty() || m.kind.size() > 64 || (m.subject.th.empty() && m.subject.en.empty())) {
    return Status::Internal("a message needs a kind (1-64 characters) and a subject");
  }
  if (!m.link.empty() && m.link[0] != '/') {
    return Status::Internal("a message's link is a path of esar's own: " + m.link);
  }
  return Status::Ok();
}

const std::string& Pick(const LocalizedText& text, Lang lang) { return text.Pick(lang); }

Status NotLoggedIn(const Actor& actor) {
  return Denied(actor, "ดูรายการแจ้งเตือน", "read notifications");
}

// Inserts `rows` (values of `columns`, the last of which is dedup_key, never NULL here) into
// `table`, a few hundred a statement, each row skipped when its dedup_key is there already (or
// earlier in `rows`); returns the dedup keys inserted. One row at a time cost a round trip each:
// 50 ms for bench/scale's 200 users, seconds for every local government's (issue 9).
Result<std::set<std::string>> InsertUnlessTold(
    storage::Database& db, const std::string& table, const std::vector<std::string>& columns,
    const std::vector<std::vector<storage::Value>>& rows) {
  constexpr size_t kRowsPerStatement = 200;  // ~2,200 values: within both engines' limits
  std::string names;
  for (const std::string& c : columns) names += (names.empty() ? "" : ", ") + c;
  const std::string one = "(" + storage::Placeholders(columns.size()) + ")";
  std::set<std::string> inserted;
  for (size_t at = 0; at < rows.size(); at += kRowsPerStatement) {
    const size_t end = std::min(rows.size(), at + kRowsPerStatement);
    std::string sql = "INSERT INTO " + table + " (" + names + ") VALUES ";
    std::vector<storage::Value> params;
    params.reserve((end - at) * columns.size());
    for (size_t i = at; i < end; ++i) {
      sql += (i == at ? "" : ", ") + one;
      params.insert(params.end(), rows[i].begin(), rows[i].end());
    }
    sql += " ON CONFLICT (dedup_key) DO NOTHING RETURNING dedup_key";
    auto done = db.Query(sql, params);
    if (!done) return done.status();
    for (const storage::Row& r : *done) inserted.insert(r.Text(0));
  }
  return inserted;
}

}  // namespace

const char* LangCode(Lang lang) { return lang == Lang::kEnglish ? "en" : "th"; }

Result<Lang> ParseLangCode(const std::string& code) {
  if (code == "th") return Lang::kThai;
  if (code == "en") return Lang::kEnglish;
  return Status::InvalidInput("ภาษาต้องเป็น th หรือ en", "the language must be th or en");
}

bool IsValidEmail(const std::string& address) {
  if (address.size() < 3 || address.size() > 254) return false;
  const size_t at = address.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= address.size() ||
      address.find('@', at + 1) != std::string::npos) {
    return false;
  }
  for (const char c : address) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    if (std::string_view("\"<>(),;:[]\\").find(c) != std::string_view::npos) return false;
  }
  const std::string domain = address.substr(at + 1);
  const size_t dot = domain.find('.');
  return dot != std::string::npos && dot != 0 && domain.back() != '.';
}

bool Contact::MailOn(const std::string& topic) const {
  return topic.empty() || !std::binary_search(mail_off.begin(), mail_off.end(), topic);
}

Result<Delivery> Notifier::Notify(int64_t user_id, const Message& message) {
  Status checked = CheckMessage(message);
  if (!checked.ok()) return checked;
  auto user = db_.Query(
      "SELECT u.active, c.email, c.language FROM users u LEFT JOIN user_contacts c ON c.user_id "
      "= u.id WHERE u.id = ?",
      {user_id});
  if (!user) return user.status();
  Delivery done;
  if (user->empty() || (*user)[0].Int(0) == 0) return done;
  const std::string dedup =
      message.dedup_key.empty() ? "" : message.dedup_key + ":u" + std::to_string(user_id);
  const storage::Value dedup_value = dedup.empty() ? storage::Value{} : storage::Value{dedup};
  const int64_t now = clock_.NowMs();
  if (message.in_list) {
    auto listed = db_.Query(
        "INSERT INTO notifications (user_id, kind, subject_th, subject_en, body_th, body_en, "
        "link, dedup_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        {user_id, message.kind, OneLine(message.subject.th), OneLine(message.subject.en),
         message.body.th, message.body.en, message.link, dedup_value, now});
    if (!listed) return listed.status();
    if (listed->empty()) return done;  // told already
    done.listed = true;
  }
  const std::string email = (*user)[0].Text(1);
  if (!message.by_mail || email.empty()) return done;
  if (!message.topic.empty()) {
    auto off = db_.Query("SELECT 1 FROM mail_optouts WHERE user_id = ? AND topic = ?",
                         {user_id, message.topic});
    if (!off) return off.status();
    if (!off->empty()) return done;
  }
  const Lang lang = (*user)[0].Text(2) == "en" ? Lang::kEnglish : Lang::kThai;
  auto id = Enqueue(user_id, email, lang, message, dedup);
  if (!id) return id.status();
  done.queued = *id != 0;
  done.outbox_id = *id;
  return done;
}

Result<int64_t> Notifier::Enqueue(int64_t user_id, const std::string& address, Lang language,
                                  const Message& message, const std::string& dedup) {
  const int64_t now = clock_.NowMs();
  auto rows = db_.Query(
      "INSERT INTO outbox (user_id, address, language, kind, subject, body, link, dedup_key, "
      "created_at, status, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?) "
      "ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
      {user_id, address, std::string(LangCode(language)), message.kind,
       OneLine(Pick(message.subject, language)), Pick(message.body, language), message.link,
       dedup.empty() ? storage::Value{} : storage::Value{dedup}, now, now});
  if (!rows) return rows.status();
  return rows->empty() ? int64_t{0} : (*rows)[0].Int(0);
}

Result<int> Notifier::NotifyEach(const std::vector<std::pair<int64_t, Message>>& recipients) {
  for (const auto& [user_id, message] : recipients) {
    Status checked = CheckMessage(message);
    if (!checked.ok()) return checked;
  }
  // Each user's contact and the topics they turned off, read a few hundred users a statement
  // (a statement's parameters are bounded on both engines).
  struct Known {
    bool active = false;
    std::string email;
    Lang lang = Lang::kThai;
    std::set<std::string> off;
  };
  std::map<int64_t, Known> users;
  for (const auto& r : recipients) users.emplace(r.first, Known{});
  constexpr size_t kPerStatement = 500;
  auto it = users.begin();
  while (it != users.end()) {
    std::string in;
    std::vector<storage::Value> ids;
    for (; it != users.end() && ids.size() < kPerStatement; ++it) {
      in += in.empty() ? "?" : ", ?";
      ids.emplace_back(it->first);
    }
    auto rows = db_.Query(
        "SELECT u.id, u.active, c.email, c.language FROM users u LEFT JOIN user_contacts c ON "
        "c.user_id = u.id WHERE u.id IN (" + in + ")",
        ids);
    if (!rows) return rows.status();
    for (const storage::Row& r : *rows) {
      Known& k = users[r.Int(0)];
      k.active = r.Int(1) != 0;
      k.email = r.Text(2);
      k.lang = r.Text(3) == "en" ? Lang::kEnglish : Lang::kThai;
    }
    auto off = db_.Query("SELECT user_id, topic FROM mail_optouts WHERE user_id IN (" + in + ")",
                         ids);
    if (!off) return off.status();
    for (const storage::Row& r : *off) users[r.Int(0)].off.insert(r.Text(1));
  }
  const int64_t now = clock_.NowMs();
  int told = 0;
  std::vector<std::vector<storage::Value>> listed, mailed;
  // The recipients of a message with a dedup_key: listed (when it is listed) unless told
  // already, and mailed only when it was listed now or is mail only, as Notify does.
  struct Once {
    int64_t user_id;
    const Message* message;
    std::string dedup;
  };
  std::vector<Once> once;
  std::vector<std::vector<storage::Value>> listed_once;
  auto mail_row = [&](int64_t user_id, const Known& k, const Message& message,
                      storage::Value dedup) -> std::vector<storage::Value> {
    return {user_id,
            k.email,
            std::string(LangCode(k.lang)),
            message.kind,
            OneLine(Pick(message.subject, k.lang)),
            Pick(message.body, k.lang),
            message.link,
            std::move(dedup),
            now,
            std::string("waiting"),
            now};
  };
  auto mails = [&](const Known& k, const Message& message) {
    return message.by_mail && !k.email.empty() &&
           (message.topic.empty() || !k.off.count(message.topic));
  };
  for (const auto& [user_id, message] : recipients) {
    const Known& k = users.at(user_id);
    if (!k.active) continue;
    if (!message.dedup_key.empty()) {
      once.push_back({user_id, &message, message.dedup_key + ":u" + std::to_string(user_id)});
      if (message.in_list) {
        listed_once.push_back({user_id, message.kind, OneLine(message.subject.th),
                               OneLine(message.subject.en), message.body.th, message.body.en,
                               message.link, once.back().dedup, now});
      }
      continue;
    }
    if (message.in_list) {
      listed.push_back({user_id, message.kind, OneLine(message.subject.th),
                        OneLine(message.subject.en), message.body.th, message.body.en,
                        message.link, storage::Value{}, now});
    }
    const bool mail = mails(k, message);
    if (mail) mailed.push_back(mail_row(user_id, k, message, storage::Value{}));
    if (message.in_list || mail) ++told;
  }
  const std::vector<std::string> list_columns = {"user_id",    "kind",      "subject_th",
                                                 "subject_en", "body_th",   "body_en",
                                                 "link",       "dedup_key", "created_at"};
  const std::vector<std::string> mail_columns = {
      "user_id", "address",   "language",   "kind",   "subject",        "body",
      "link",    "dedup_key", "created_at", "status", "next_attempt_at"};
  if (!once.empty()) {
    auto listed_now = InsertUnlessTold(db_, "notifications", list_columns, listed_once);
    if (!listed_now) return listed_now.status();
    std::vector<std::vector<storage::Value>> mailed_once;
    std::vector<const Once*> to_mail;
    std::set<std::string> seen;  // a user given the same message twice is told once
    for (const Once& o : once) {
      if (!seen.insert(o.dedup).second) continue;
      const bool listed_here = o.message->in_list && listed_now->count(o.dedup);
      if (o.message->in_list && !listed_here) continue;  // told already
      if (mails(users.at(o.user_id), *o.message)) {
        mailed_once.push_back(mail_row(o.user_id, users.at(o.user_id), *o.message, o.dedup));
        to_mail.push_back(&o);
      } else if (listed_here) {
        ++told;
      }
    }
    auto queued = InsertUnlessTold(db_, "outbox", mail_columns, mailed_once);
    if (!queued) return queued.status();
    for (const Once* o : to_mail) {
      if (o->message->in_list || queued->count(o->dedup)) ++told;  // listed now, or mailed
    }
  }
  if (!listed.empty()) {
    Status s = db_.BulkInsert("notifications", list_columns, listed);
    if (!s.ok()) return s;
  }
  if (!mailed.empty()) {
    Status s = db_.BulkInsert("outbox", mail_columns, mailed);
    if (!s.ok()) return s;
  }
  return told;
}

Result<int> Notifier::NotifyAgency(const std::string& agency, std::initializer_list<Role> roles,
                                   const Message& message) {
  std::string in;
  std::vector<storage::Value> params = {agency};
  for (Role r : roles) {
    in += in.empty() ? "?" : ", ?";
    params.emplace_back(std::string(RoleName(r)));
  }
  if (in.empty()) return 0;
  auto users = db_.Query("SELECT id FROM users WHERE agency_code = ? AND active = 1 AND role IN (" +
                             in + ") ORDER BY id",
                         params);
  if (!users) return users.status();
  int told = 0;
  for (const storage::Row& u : *users) {
    auto d = Notify(u.Int(0), message);
    if (!d) return d.status();
    if (d->listed || d->queued) ++told;
  }
  return told;
}

Result<int> Notifier::NotifyRole(Role role, const Message& message) {
  auto users = db_.Query("SELECT id FROM users WHERE role = ? AND active = 1 ORDER BY id",
                         {std::string(RoleName(role))});
  if (!users) return users.status();
  int told = 0;
  for (const storage::Row& u : *users) {
    auto d = Notify(u.Int(0), message);
    if (!d) return d.status();
    if (d->listed || d->queued) ++told;
  }
  return told;
}

Result<int64_t> Notifier::MailOnly(int64_t user_id, const std::string& address, Lang language,
                                   const Message& message) {
  Status checked = CheckMessage(message);
  if (!checked.ok()) return checked;
  if (!IsValidEmail(address)) {
    return Status::InvalidInput("ที่อยู่อีเมลไม่ถูกต้อง", "not a valid e-mail address");
  }
  return Enqueue(user_id, address, language, message,
                 message.dedup_key.empty() ? ""
                                           : message.dedup_key + ":u" + std::to_string(user_id));
}

// ---------------------------------------------------------------------------------------------

Result<Contact> Contacts::Load(int64_t user_id) {
  auto user = db_.Query(
      "SELECT u.id, c.email, c.language FROM users u LEFT JOIN user_contacts c ON c.user_id = "
      "u.id WHERE u.id = ?",
      {user_id});
  if (!user) return user.status();
  if (user->empty()) return Status::NotFound("ไม่พบผู้ใช้", "no such user");
  Contact c;
  c.user_id = user_id;
  c.email = (*user)[0].Text(1);
  c.language = (*user)[0].Text(2) == "en" ? Lang::kEnglish : Lang::kThai;
  auto off = db_.Query("SELECT topic FROM mail_optouts WHERE user_id = ?", {user_id});
  if (!off) return off.status();
  for (const storage::Row& r : *off) c.mail_off.push_back(r.Text(0));
  std::sort(c.mail_off.begin(), c.mail_off.end());
  return c;
}

Result<Contact> Contacts::Get(const Actor& actor, int64_t user_id) {
  if (!actor.Is(Role::kAdmin) && (actor.user_id == 0 || actor.user_id != user_id)) {
    return Denied(actor, "ดูข้อมูลติดต่อของผู้ใช้", "read a user's contact details");
  }
  return Load(user_id);
}

namespace {
json ContactJson(const Contact& c) {
  return {{"email", c.email}, {"language", LangCode(c.language)}, {"mail_off", c.mail_off}};
}
}  // namespace

Status Contacts::Store(const Actor& actor, const Contact& before, const Contact& after,
                       const std::string& action) {
  const int64_t now = clock_.NowMs();
  Status s = db_.Execute(
      "INSERT INTO user_contacts (user_id, email, language, updated_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, language = "
      "excluded.language, updated_at = excluded.updated_at",
      {after.user_id, after.email, std::string(LangCode(after.language)), now});
  if (!s.ok()) return s;
  s = db_.Execute("DELETE FROM mail_optouts WHERE user_id = ?", {after.user_id});
  if (!s.ok()) return s;
  for (const std::string& topic : after.mail_off) {
    s = db_.Execute("INSERT INTO mail_optouts (user_id, topic) VALUES (?, ?)",
                    {after.user_id, topic});
    if (!s.ok()) return s;
  }
  return AuditLog(db_).Append(actor, now, action, "contact/" + std::to_string(after.user_id),
                              ContactJson(before).dump(), ContactJson(after).dump());
}

Status Contacts::SetAddress(const Actor& actor, int64_t user_id, const std::string& email,
                            Lang language) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, "ตั้งอีเมลของผู้ใช้", "set a user's e-mail address");
  }
  if (!email.empty() && !IsValidEmail(email)) {
    return Status::InvalidInput("ที่อยู่อีเมล \"" + email + "\" ไม่ถูกต้อง",
                                "\"" + email + "\" is not a valid e-mail address");
  }
  return db_.Transaction([&]() -> Status { return WriteAddress(actor, user_id, email, language); });
}

Status Contacts::WriteAddress(const Actor& actor, int64_t user_id, const std::string& email,
                              Lang language) {
  auto before = Load(user_id);
  if (!before) return before.status();
  if (before->email == email && before->language == language) return Status::Ok();
  Contact after = *before;
  after.email = email;
  after.language = language;
  return Store(actor, *before, after, "contact.address");
}

Status Contacts::Create(const Actor& actor, int64_t user_id, const std::string& email,
                        Lang language) {
  Contact after;
  after.user_id = user_id;
  after.email = email;
  after.language = language;
  return Store(actor, Contact{user_id, "", Lang::kThai, {}}, after, "contact.address");
}

Status Contacts::SetPreferences(const Actor& actor, Lang language, bool reminders, bool digest,
                                std::optional<bool> announcements) {
  if (actor.user_id == 0 || actor.read_only) {
    return Denied(actor, "ตั้งค่าการแจ้งเตือน", "change notification settings");
  }
  return db_.Transaction([&]() -> Status {
    auto before = Load(actor.user_id);
    if (!before) return before.status();
    Contact after = *before;
    after.language = language;
    auto set = [&](const char* topic, bool on) {
      auto at = std::find(after.mail_off.begin(), after.mail_off.end(), topic);
      if (on && at != after.mail_off.end()) after.mail_off.erase(at);
      if (!on && at == after.mail_off.end()) after.mail_off.emplace_back(topic);
    };
    set(kTopicReminders, reminders);
    set(kTopicDigest, digest);
    if (announcements) set(kTopicAnnouncements, *announcements);
    std::sort(after.mail_off.begin(), after.mail_off.end());
    return Store(actor, *before, after, "contact.preferences");
  });
}

// ---------------------------------------------------------------------------------------------

Result<NotificationPage> Inbox::List(const Actor& actor, int64_t limit, int64_t offset) {
  if (actor.user_id == 0) return NotLoggedIn(actor);
  limit = std::clamp<int64_t>(limit, 1, 200);
  offset = std::max<int64_t>(offset, 0);
  NotificationPage page;
  Status s = db_.ReadSnapshot([&]() -> Status {
    auto rows = db_.Query(
        "SELECT id, kind, subject_th, subject_en, body_th, body_en, link, created_at, read_at "
        "FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
        {actor.user_id, limit, offset});
    if (!rows) return rows.status();
    for (const storage::Row& r : *rows) {
      page.items.push_back({r.Int(0), r.Text(1), {r.Text(2), r.Text(3)}, {r.Text(4), r.Text(5)},
                            r.Text(6), r.Int(7), r.IsNull(8) ? 0 : r.Int(8)});
    }
    auto counts = db_.Query(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END), 0) FROM "
        "notifications WHERE user_id = ?",
        {actor.user_id});
    if (!counts) return counts.status();
    page.total = (*counts)[0].Int(0);
    page.unread = (*counts)[0].Int(1);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return page;
}

Result<int64_t> Inbox::Unread(const Actor& actor) {
  if (actor.user_id == 0) return NotLoggedIn(actor);
  auto rows = db_.Query(
      "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
      {actor.user_id});
  if (!rows) return rows.status();
  return (*rows)[0].Int(0);
}

Result<int64_t> Inbox::MarkRead(const Actor& actor, int64_t id) {
  if (actor.user_id == 0 || actor.read_only) return NotLoggedIn(actor);
  const int64_t now = clock_.NowMs();
  if (id == 0) {
    auto rows = db_.Query(
        "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL RETURNING id",
        {now, actor.user_id});
    if (!rows) return rows.status();
    return static_cast<int64_t>(rows->size());
  }
  auto mine = db_.Query("SELECT read_at FROM notifications WHERE id = ? AND user_id = ?",
                        {id, actor.user_id});
  if (!mine) return mine.status();
  if (mine->empty()) return Status::NotFound("ไม่พบการแจ้งเตือนนี้", "no such notification");
  if (!(*mine)[0].IsNull(0)) return int64_t{0};
  Status s = db_.Execute("UPDATE notifications SET read_at = ? WHERE id = ? AND read_at IS NULL",
                         {now, id});
  if (!s.ok()) return s;
  return int64_t{1};
}

// ---------------------------------------------------------------------------------------------

const char* OutboxStatusName(OutboxStatus status) {
  switch (status) {
    case OutboxStatus::kSent: return "sent";
    case OutboxStatus::kFailed: return "failed";
    case OutboxStatus::kWaiting: break;
  }
  return "waiting";
}

int64_t RetryPolicy::NextAttempt(int attempts, int64_t now) const {
  int64_t wait = first_retry_ms;
  for (int k = 1; k < attempts && wait < max_retry_ms; ++k) wait *= 2;
  return now + std::min(wait, max_retry_ms);
}

namespace {

constexpr const char* kOutboxColumns =
    "o.id, o.user_id, u.username, o.address, o.language, o.kind, o.subject, o.body, o.link, "
    "o.created_at, o.status, o.attempts, o.next_attempt_at, o.sent_at, o.last_error";

OutboxItem OutboxItemOf(const storage::Row& r) {
  OutboxItem o;
  o.id = r.Int(0);
  o.user_id = r.Int(1);
  o.username = r.Text(2);
  o.address = r.Text(3);
  o.language = r.Text(4) == "en" ? Lang::kEnglish : Lang::kThai;
  o.kind = r.Text(5);
  o.subject = r.Text(6);
  o.body = r.Text(7);
  o.link = r.Text(8);
  o.created_at = r.Int(9);
  const std::string status = r.Text(10);
  o.status = status == "sent"     ? OutboxStatus::kSent
             : status == "failed" ? OutboxStatus::kFailed
                                  : OutboxStatus::kWaiting;
  o.attempts = static_cast<int>(r.Int(11));
  o.next_attempt_at = r.Int(12);
  o.sent_at = r.IsNull(13) ? 0 : r.Int(13);
  o.last_error = r.Text(14);
  return o;
}

}  // namespace

Result<OutboxPage> Outbox::List(const Actor& actor, const std::string& status, int64_t limit,
                                int64_t offset) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ดูกล่องอีเมลขาออก", "read the outbox");
  if (!status.empty() && status != "waiting" && status != "sent" && status != "failed") {
    return Status::InvalidInput("สถานะต้องเป็น waiting, sent หรือ failed",
                                "the status must be waiting, sent or failed");
  }
  limit = std::clamp<int64_t>(limit, 1, 200);
  offset = std::max<int64_t>(offset, 0);
  OutboxPage page;
  Status s = db_.ReadSnapshot([&]() -> Status {
    const std::string where = status.empty() ? "" : " WHERE o.status = ?";
    std::vector<storage::Value> params;
    if (!status.empty()) params.emplace_back(status);
    std::vector<storage::Value> paged = params;
    paged.emplace_back(limit);
    paged.emplace_back(offset);
    auto rows = db_.Query(std::string("SELECT ") + kOutboxColumns +
                              " FROM outbox o LEFT JOIN users u ON u.id = o.user_id" + where +
                              " ORDER BY o.id DESC LIMIT ? OFFSET ?",
                          paged);
    if (!rows) return rows.status();
    for (const storage::Row& r : *rows) page.items.push_back(OutboxItemOf(r));
    auto counts = db_.Query("SELECT status, COUNT(*) FROM outbox GROUP BY status");
    if (!counts) return counts.status();
    for (const storage::Row& r : *counts) {
      const std::string st = r.Text(0);
      (st == "sent" ? page.sent : st == "failed" ? page.failed : page.waiting) = r.Int(1);
    }
    page.total = status.empty()            ? page.waiting + page.sent + page.failed
                 : status == "sent"        ? page.sent
                 : status == "failed"      ? page.failed
                                           : page.waiting;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return page;
}

Status Outbox::Resend(const Actor& actor, int64_t id) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, "ส่งอีเมลซ้ำ", "resend an e-mail");
  }
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    auto rows = db_.Query("SELECT status, address, kind FROM outbox WHERE id = ?", {id});
    if (!rows) return rows.status();
    if (rows->empty()) return Status::NotFound("ไม่พบอีเมลนี้ในกล่องขาออก", "no such e-mail in the outbox");
    if ((*rows)[0].Text(0) == "waiting") {
      return Status::Conflict("อีเมลนี้ยังรอส่งอยู่", "this e-mail is still waiting to be sent");
    }
    Status s = db_.Execute(
        "UPDATE outbox SET status = 'waiting', attempts = 0, next_attempt_at = ?, lease_owner = "
        "NULL, lease_until = NULL, last_error = '' WHERE id = ?",
        {now, id});
    if (!s.ok()) return s;
    // Not a change of any audited entity's rows; the entry records who sent what again.
    const json after = {{"id", id},
                        {"was", (*rows)[0].Text(0)},
                        {"address", (*rows)[0].Text(1)},
                        {"kind", (*rows)[0].Text(2)}};
    return AuditLog(db_).Append(actor, now, "mail.resend", "mail/" + std::to_string(id), "{}",
                                after.dump());
  });
}

Result<std::vector<OutboxItem>> Outbox::Claim(const std::string& owner, int64_t lease_ms,
                                              int max) {
  const int64_t now = clock_.NowMs();
  auto due = db_.Query(
      "SELECT id FROM outbox WHERE status = 'waiting' AND next_attempt_at <= ? AND (lease_until "
      "IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id LIMIT ?",
      {now, now, int64_t{max}});
  if (!due) return due.status();
  std::vector<OutboxItem> claimed;
  for (const storage::Row& d : *due) {
    // The condition is checked again by the UPDATE itself (PostgreSQL re-reads a row another
    // transaction changed before updating it; SQLite has one writer), so of two servers racing
    // for this row exactly one gets it back.
    auto won = db_.Query(
        "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ? AND status = 'waiting' "
        "AND (lease_until IS NULL OR lease_until < ?) RETURNING id",
        {owner, now + lease_ms, d.Int(0), now});
    if (!won) return won.status();
    if (won->empty()) continue;
    auto row = db_.Query(std::string("SELECT ") + kOutboxColumns +
                             " FROM outbox o LEFT JOIN users u ON u.id = o.user_id WHERE o.id = ?",
                         {d.Int(0)});
    if (!row) return row.status();
    if (!row->empty()) claimed.push_back(OutboxItemOf((*row)[0]));
  }
  return claimed;
}

Result<bool> Outbox::MarkSent(int64_t id, const std::string& owner) {
  auto rows = db_.Query(
      "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, lease_owner = "
      "NULL, lease_until = NULL, last_error = '' WHERE id = ? AND lease_owner = ? AND status = "
      "'waiting' RETURNING id",
      {clock_.NowMs(), id, owner});
  if (!rows) return rows.status();
  return !rows->empty();
}

Result<bool> Outbox::MarkFailed(int64_t id, const std::string& owner, const std::string& answer,
                                bool permanent, const RetryPolicy& policy) {
  const int64_t now = clock_.NowMs();
  auto current = db_.Query(
      "SELECT attempts FROM outbox WHERE id = ? AND lease_owner = ? AND status = 'waiting'",
      {id, owner});
  if (!current) return current.status();
  if (current->empty()) return false;
  const int attempts = static_cast<int>((*current)[0].Int(0)) + 1;
  const bool give_up = permanent || attempts >= policy.max_attempts;
  auto rows = db_.Query(
      "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, lease_owner = NULL, "
      "lease_until = NULL, last_error = ? WHERE id = ? AND lease_owner = ? AND status = "
      "'waiting' RETURNING id",
      {std::string(give_up ? "failed" : "waiting"), int64_t{attempts},
       give_up ? now : policy.NextAttempt(attempts, now), answer.substr(0, 2000), id, owner});
  if (!rows) return rows.status();
  return !rows->empty();
}

}  // namespace esar::service
