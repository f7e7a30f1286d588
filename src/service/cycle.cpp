#include "service/cycle.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <variant>

#include "common/text.h"
#include "common/thai.h"
#include "domain/check.h"
#include "formats/framework_json.h"
#include "service/audit.h"

namespace esar::service {
namespace {

using nlohmann::json;

constexpr const char* kFrameworkColumns =
    "id, fiscal_year, agency_kind, version, document, diff, frozen_at FROM frameworks";

std::string ValuesText(const std::vector<double>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ";" : "") + ShortestDecimal(values[i]);
  return out;
}

// The refusal of a deadline that has already passed.
Status PastDeadline(int64_t deadline_ms) {
  return Status::InvalidInput(
      "กำหนดส่ง " + FormatDateTime(deadline_ms, Lang::kThai) + " ผ่านไปแล้ว ต้องเป็นเวลาในอนาคต",
      "the deadline " + FormatDateTime(deadline_ms, Lang::kEnglish) +
          " has passed: it must lie in the future");
}

// A text an admin gives with a change of state (a reason): UTF-8, at most 64 KB.
Status CheckReason(const std::string& reason) {
  if (reason.size() > 64 * 1024 || !IsValidUtf8(reason)) {
    return Status::InvalidInput("เหตุผลต้องเป็นข้อความ UTF-8 ไม่เกิน 64 KB",
                                "the reason must be UTF-8 text of at most 64 KB");
  }
  return Status::Ok();
}

}  // namespace

const char* RoundStateName(RoundState state) {
  switch (state) {
    case RoundState::kScheduled:
      return "scheduled";
    case RoundState::kOpen:
      return "open";
    case RoundState::kClosed:
      return "closed";
    case RoundState::kPreliminary:
      return "preliminary";
    case RoundState::kFinal:
      return "final";
    case RoundState::kPublished:
      return "published";
  }
  return "open";
}

Result<StoredFramework> Cycle::Load(const storage::Row& row) {
  StoredFramework out;
  out.id = row.Int(0);
  out.fiscal_year = static_cast<int>(row.Int(1));
  out.agency_kind = row.Text(2);
  out.version = static_cast<int>(row.Int(3));
  out.document = row.Text(4);
  out.diff = row.Text(5);
  out.frozen = !row.IsNull(6);
  auto parsed = formats::ParseFramework(out.document, "framework " + std::to_string(out.id));
  if (!parsed) return parsed.status();
  out.framework = std::move(*parsed);
  return out;
}

Result<StoredFramework> Cycle::ImportFramework(const Actor& actor, const std::string& json_text) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "นำเข้ากรอบการประเมิน", "import frameworks");
  auto framework = formats::ParseFramework(json_text, "framework.json");
  if (!framework) return framework.status();
  domain::CheckInput check;
  check.framework = &*framework;
  check.framework_file = "framework.json";
  // KPIs computed from other agencies' results must not close a cycle with the stored
  // frameworks of the year's other kinds: results computed from them could never settle.
  std::vector<StoredFramework> others;
  if (domain::HasFromAgencies(*framework)) {
    auto stored = OtherFrameworksOfYear(framework->fiscal_year, framework->agency_kind);
    if (!stored) return stored.status();
    others = std::move(*stored);
    for (const StoredFramework& o : others) {
      check.other_frameworks.push_back({o.agency_kind, &o.framework});
    }
  }
  for (const domain::Finding& f : domain::Check(check)) {
    if (f.severity == domain::Severity::kError) {
      return Status::InvalidInput(f.message_th, f.message_en, f.where);
    }
  }
  const std::string kind = framework->agency_kind;
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    auto latest =
        db_.Query(std::string("SELECT ") + kFrameworkColumns +
                      " WHERE fiscal_year = ? AND agency_kind = ? ORDER BY version DESC LIMIT 1",
                  {int64_t{framework->fiscal_year}, kind});
    if (!latest) return latest.status();
    AuditLog audit(db_);
    if (!latest->empty() && (*latest)[0].IsNull(6)) {
      // Not frozen yet: the newest version is replaced in place.
      id = (*latest)[0].Int(0);
      const std::string before = (*latest)[0].Text(4);
      auto replaced = db_.Query(
          "UPDATE frameworks SET document = ?, imported_by = ?, imported_at = ? WHERE id = ? AND "
          "frozen_at IS NULL "
          "RETURNING id",
          {json_text, UserRef(actor), now, id});
      if (!replaced) return replaced.status();
      if (replaced->empty()) {  // a round opened meanwhile and froze it
        return Status::Conflict(
            "กรอบการประเมินเพิ่งถูกตรึงเมื่อเปิดรอบการรายงาน โปรดนำเข้าอีกครั้งเพื่อสร้างรุ่นใหม่",
            "the framework was frozen meanwhile by a round opening: import again to make a new "
            "version");
      }
      const std::string patch = json::diff(json::parse(before), json::parse(json_text)).dump();
      return audit.Append(actor, now, "framework.replace", "framework/" + std::to_string(id), "{}",
                          patch);
    }
    const int version = latest->empty() ? 1 : static_cast<int>((*latest)[0].Int(3)) + 1;
    const std::string diff =
        latest->empty()
            ? ""
            : json::diff(json::parse((*latest)[0].Text(4)), json::parse(json_text)).dump();
    auto rows = db_.Query(
        "INSERT INTO frameworks (fiscal_year, agency_kind, version, document, diff, imported_by, "
        "imported_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {int64_t{framework->fiscal_year}, kind, int64_t{version}, json_text, diff, UserRef(actor),
         now});
    if (!rows) return rows.status();
    id = (*rows)[0].Int(0);
    return audit.Append(
        actor, now, "framework.import", "framework/" + std::to_string(id), "{}",
        json{{"fiscal_year", framework->fiscal_year}, {"agency_kind", kind}, {"version", version}}
            .dump());
  });
  if (!done.ok()) return done;
  return Framework(id);
}

Result<StoredFramework> Cycle::Framework(int64_t id) {
  auto rows = db_.Query(std::string("SELECT ") + kFrameworkColumns + " WHERE id = ?", {id});
  if (!rows) return rows.status();
  if (rows->empty())
    return Status::NotFound("ไม่มีกรอบการประเมินรหัส " + std::to_string(id),
                            "no framework " + std::to_string(id));
  return Load((*rows)[0]);
}

Result<StoredFramework> Cycle::LatestFramework(int fiscal_year, const std::string& agency_kind) {
  auto rows =
      db_.Query(std::string("SELECT ") + kFrameworkColumns +
                    " WHERE fiscal_year = ? AND agency_kind = ? ORDER BY version DESC LIMIT 1",
                {int64_t{fiscal_year}, agency_kind});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return Status::NotFound("ไม่มีกรอบการประเมินปีงบประมาณ " + std::to_string(fiscal_year),
                            "no framework for fiscal year " + std::to_string(fiscal_year));
  }
  return Load((*rows)[0]);
}

Result<std::vector<StoredFramework>> Cycle::OtherFrameworksOfYear(int fiscal_year,
                                                                  const std::string& except_kind) {
  auto kinds = db_.Query(
      "SELECT DISTINCT agency_kind FROM frameworks WHERE fiscal_year = ? AND agency_kind <> ? "
      "ORDER BY agency_kind",
      {int64_t{fiscal_year}, except_kind});
  if (!kinds) return kinds.status();
  std::vector<StoredFramework> out;
  for (const storage::Row& r : *kinds) {
    auto latest = LatestFramework(fiscal_year, r.Text(0));
    if (!latest) return latest.status();
    out.push_back(std::move(*latest));
  }
  return out;
}

Result<RoundInfo> Cycle::OpenRound(const Actor& actor, int64_t framework_id, int round,
                                   int64_t deadline_ms, int64_t starts_at_ms) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "เปิดรอบการรายงาน", "open reporting rounds");
  if (round != 6 && round != 12)
    return Status::InvalidInput("รอบต้องเป็น 6 หรือ 12", "a round is 6 or 12");
  const int64_t now = clock_.NowMs();
  if (deadline_ms <= now) return PastDeadline(deadline_ms);
  if (starts_at_ms < 0) starts_at_ms = 0;
  if (starts_at_ms != 0 && starts_at_ms >= deadline_ms) {
    return Status::InvalidInput(
        "วันเริ่มรับรายงาน (" + FormatDateTime(starts_at_ms, Lang::kThai) + ") ต้องก่อนกำหนดส่ง (" +
            FormatDateTime(deadline_ms, Lang::kThai) + ")",
        "reporting must start (" + FormatDateTime(starts_at_ms, Lang::kEnglish) +
            ") before the deadline (" + FormatDateTime(deadline_ms, Lang::kEnglish) + ")");
  }
  const storage::Value start = starts_at_ms ? storage::Value(starts_at_ms) : storage::Value();
  auto start_json = [](int64_t ms) { return ms ? json(ms) : json(nullptr); };
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    auto exists = db_.Query("SELECT 1 FROM frameworks WHERE id = ?", {framework_id});
    if (!exists) return exists.status();
    if (exists->empty()) return Status::NotFound("ไม่มีกรอบการประเมินนี้", "no such framework");
    auto existing = db_.Query("SELECT id FROM rounds WHERE framework_id = ? AND round = ?",
                              {framework_id, int64_t{round}});
    if (!existing) return existing.status();
    if (!existing->empty()) {
      // Opening it again moves its dates, but never reopens a closed round: that takes
      // Reopen, with a reason.
      id = (*existing)[0].Int(0);
      auto status = LockForChange(id);
      if (!status) return status.status();
      if (status->state != RoundState::kOpen && status->state != RoundState::kScheduled) {
        return Status::Conflict(
            "รอบนี้ปิดรับรายงานแล้ว เปลี่ยนกำหนดส่งไม่ได้ ให้ใช้การเปิดรอบอีกครั้งพร้อมเหตุผล",
            "this round is closed: its deadline cannot change; reopen it with a reason instead");
      }
      const int64_t old_start = status->round.starts_at;
      const int64_t old_deadline = status->round.deadline;
      if (old_start == starts_at_ms && old_deadline == deadline_ms) return Status::Ok();
      // Agencies that have begun reporting are not shut out again by a later start.
      const bool started = old_start == 0 || old_start <= now;
      if (started && starts_at_ms != old_start && starts_at_ms > now) {
        return Status::Conflict(
            "รอบนี้เริ่มรับรายงานแล้ว เลื่อนวันเริ่มไปภายหลังไม่ได้",
            "this round has started taking reports: its start cannot move later");
      }
      Status s = db_.Execute("UPDATE rounds SET deadline = ?, starts_at = ? WHERE id = ?",
                             {deadline_ms, start, id});
      if (!s.ok()) return s;
      return AuditLog(db_).Append(
          actor, now, "round.deadline", "round/" + std::to_string(id),
          json{{"deadline", old_deadline}, {"starts_at", start_json(old_start)}}.dump(),
          json{{"deadline", deadline_ms}, {"starts_at", start_json(starts_at_ms)}}.dump());
    }
    Status frozen =
        db_.Execute("UPDATE frameworks SET frozen_at = ? WHERE id = ? AND frozen_at IS NULL",
                    {now, framework_id});
    if (!frozen.ok()) return frozen;
    auto rows = db_.Query(
        "INSERT INTO rounds (framework_id, round, deadline, starts_at) VALUES (?, ?, ?, ?) "
        "RETURNING id",
        {framework_id, int64_t{round}, deadline_ms, start});
    if (!rows) return rows.status();
    id = (*rows)[0].Int(0);
    return AuditLog(db_).Append(actor, now, "round.open", "round/" + std::to_string(id), "{}",
                                json{{"framework", framework_id},
                                     {"round", round},
                                     {"deadline", deadline_ms},
                                     {"starts_at", start_json(starts_at_ms)}}
                                    .dump(),
                                {"framework/" + std::to_string(framework_id)});  // frozen by it
  });
  if (!done.ok()) return done;
  return Round(id);
}

Result<RoundStatus> Cycle::LockForChange(int64_t round_id) {
  Status locked = LockRound(round_id, true);
  if (!locked.ok()) return locked;
  return StatusOf(round_id);
}

Status Cycle::LockRound(int64_t round_id, bool exclusive) {
  if (db_.dialect() != storage::Dialect::kPostgres) return Status::Ok();
  auto rows = db_.Query(std::string("SELECT id FROM rounds WHERE id = ?") +
                            (exclusive ? " FOR UPDATE" : " FOR SHARE"),
                        {round_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีรอบการรายงานนี้", "no such reporting round");
  return Status::Ok();
}

Result<RoundStatus> Cycle::StatusOf(int64_t round_id) {
  auto rows = db_.Query(
      "SELECT r.id, r.framework_id, r.round, r.deadline, r.closed_at, "
      "(SELECT MAX(e.deadline) FROM extensions e WHERE e.round_id = r.id), r.starts_at "
      "FROM rounds r WHERE r.id = ?",
      {round_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีรอบการรายงานนี้", "no such reporting round");
  const storage::Row& r = (*rows)[0];
  RoundStatus out;
  out.round = {r.Int(0), r.Int(1), static_cast<int>(r.Int(2)), r.Int(3),
               r.IsNull(6) ? 0 : r.Int(6)};
  out.closed_early_at = r.IsNull(4) ? 0 : r.Int(4);
  const int64_t latest_extension = r.IsNull(5) ? 0 : r.Int(5);
  out.closes_at =
      out.closed_early_at ? out.closed_early_at : std::max(out.round.deadline, latest_extension);
  auto reopenings = Reopenings(round_id);
  if (!reopenings) return reopenings.status();
  out.reopenings = std::move(*reopenings);
  int64_t after_result = 0;
  for (const Reopening& o : out.reopenings) after_result = std::max(after_result, o.after_result);
  auto latest = db_.Query(
      "SELECT id, stage, appeal_deadline FROM results WHERE framework_id = ? AND round = ? AND "
      "id > ? ORDER BY id DESC LIMIT 1",
      {out.round.framework_id, int64_t{out.round.round}, after_result});
  if (!latest) return latest.status();
  if (!latest->empty()) {
    const storage::Row& l = (*latest)[0];
    out.result_id = l.Int(0);
    const std::string stage = l.Text(1);
    out.state = stage == "published" ? RoundState::kPublished
                : stage == "final"   ? RoundState::kFinal
                                     : RoundState::kPreliminary;
    if (out.state == RoundState::kPreliminary) out.appeal_deadline = l.Int(2);
    return out;
  }
  const int64_t now = clock_.NowMs();
  if (out.closed_early_at || now > out.closes_at) {
    out.state = RoundState::kClosed;
  } else {
    // A reopening opens the round at once, whatever start it had.
    out.state = now < out.round.starts_at && out.reopenings.empty() ? RoundState::kScheduled
                                                                    : RoundState::kOpen;
  }
  return out;
}

Result<std::vector<Reopening>> Cycle::Reopenings(int64_t round_id) {
  auto rows = db_.Query(
      "SELECT reopened_at, reopened_by, reason, deadline, after_result FROM round_reopenings "
      "WHERE round_id = ? ORDER BY id",
      {round_id});
  if (!rows) return rows.status();
  std::vector<Reopening> out;
  for (const storage::Row& o : *rows)
    out.push_back({o.Int(0), o.Int(1), o.Text(2), o.Int(3), o.Int(4)});
  return out;
}

Status Cycle::CheckReportingOpen(int64_t round_id, const std::string& agency) {
  auto status = StatusOf(round_id);
  if (!status) return status.status();
  if (status->state == RoundState::kScheduled) {
    return Status::Conflict(
        "รอบนี้ยังไม่เปิดรับรายงาน เริ่มรับรายงาน " + FormatDateTime(status->round.starts_at, Lang::kThai),
        "this round does not take reports yet: reporting starts on " +
            FormatDateTime(status->round.starts_at, Lang::kEnglish));
  }
  if (status->state != RoundState::kOpen && status->state != RoundState::kClosed) {
    return Status::Conflict(
        "ผลการประเมินของรอบนี้คำนวณแล้ว แก้ไขหรือส่งรายงานไม่ได้ เว้นแต่สำนักงาน ก.พ.ร. เปิดรอบอีกครั้ง",
        "this round's results are computed: reports can no longer change unless the central "
        "office reopens the round");
  }
  if (status->closed_early_at) {
    return Status::Conflict("สำนักงาน ก.พ.ร. ปิดรับรายงานรอบนี้แล้วเมื่อ " +
                                FormatDateTime(status->closed_early_at, Lang::kThai),
                            "the central office closed reporting for this round on " +
                                FormatDateTime(status->closed_early_at, Lang::kEnglish));
  }
  auto deadline = DeadlineFor(round_id, agency);
  if (!deadline) return deadline.status();
  if (clock_.NowMs() > *deadline) {
    return Status::Conflict("เลยกำหนดส่งแล้ว (" + FormatDateTime(*deadline, Lang::kThai) +
                                ") ขอขยายเวลาได้จากสำนักงาน ก.พ.ร.",
                            "the deadline has passed (" +
                                FormatDateTime(*deadline, Lang::kEnglish) +
                                "): ask the central office for an extension");
  }
  return Status::Ok();
}

Status Cycle::CheckReviewOpen(int64_t round_id) {
  auto status = StatusOf(round_id);
  if (!status) return status.status();
  if (status->state != RoundState::kOpen && status->state != RoundState::kClosed &&
      status->state != RoundState::kScheduled) {
    return Status::Conflict(
        "ผลการประเมินของรอบนี้คำนวณแล้ว ค่าที่ใช้เปลี่ยนได้ทางการอุทธรณ์หรือการเปิดรอบอีกครั้งเท่านั้น",
        "this round's results are computed: values change only through appeals or a reopening");
  }
  return Status::Ok();
}

Result<RoundStatus> Cycle::CloseReporting(const Actor& actor, int64_t round_id,
                                          const std::string& reason) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ปิดรับรายงาน", "close reporting");
  Status valid = CheckReason(reason);
  if (!valid.ok()) return valid;
  const int64_t now = clock_.NowMs();
  Status done = db_.Transaction([&]() -> Status {
    auto status = LockForChange(round_id);
    if (!status) return status.status();
    if (status->state == RoundState::kScheduled) {
      return Status::Conflict(
          "รอบนี้ยังไม่เริ่มรับรายงาน จึงยังปิดไม่ได้",
          "this round has not started taking reports: there is nothing to close");
    }
    if (status->state != RoundState::kOpen) {
      return Status::Conflict("รอบนี้ปิดรับรายงานแล้ว", "reporting for this round is already closed");
    }
    Status s = db_.Execute("UPDATE rounds SET closed_at = ? WHERE id = ?", {now, round_id});
    if (!s.ok()) return s;
    return AuditLog(db_).Append(actor, now, "round.close", "round/" + std::to_string(round_id),
                                json{{"state", "open"}, {"closes_at", status->closes_at}}.dump(),
                                json{{"state", "closed"}, {"reason", reason}}.dump());
  });
  if (!done.ok()) return done;
  return StatusOf(round_id);
}

Result<RoundStatus> Cycle::Reopen(const Actor& actor, int64_t round_id, const std::string& reason,
                                  int64_t deadline_ms) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "เปิดรอบการรายงานอีกครั้ง", "reopen rounds");
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidInput("การเปิดรอบอีกครั้งต้องระบุเหตุผล", "reopening a round needs a reason");
  }
  Status valid = CheckReason(reason);
  if (!valid.ok()) return valid;
  const int64_t now = clock_.NowMs();
  if (deadline_ms <= now) return PastDeadline(deadline_ms);
  Status done = db_.Transaction([&]() -> Status {
    auto status = LockForChange(round_id);
    if (!status) return status.status();
    if (status->state == RoundState::kOpen || status->state == RoundState::kScheduled) {
      return Status::Conflict("รอบนี้ยังเปิดรับรายงานอยู่", "this round is still open");
    }
    auto open = db_.Query(
        "SELECT COUNT(*) FROM appeals a JOIN results r ON r.id = a.result_id WHERE "
        "r.framework_id = ? AND r.round = ? AND a.status = 'open'",
        {status->round.framework_id, int64_t{status->round.round}});
    if (!open) return open.status();
    if ((*open)[0].Int(0) > 0) {
      return Status::Conflict(
          "ยังมีอุทธรณ์รอพิจารณา " + std::to_string((*open)[0].Int(0)) + " เรื่อง ต้องวินิจฉัยก่อนเปิดรอบอีกครั้ง",
          std::to_string((*open)[0].Int(0)) +
              " appeals are still open: decide them before reopening");
    }
    auto newest =
        db_.Query("SELECT COALESCE(MAX(id), 0) FROM results WHERE framework_id = ? AND round = ?",
                  {status->round.framework_id, int64_t{status->round.round}});
    if (!newest) return newest.status();
    Status s = db_.Execute(
        "INSERT INTO round_reopenings (round_id, reopened_by, reopened_at, reason, deadline, "
        "after_result) VALUES (?, ?, ?, ?, ?, ?)",
        {round_id, UserRef(actor), now, reason, deadline_ms, (*newest)[0].Int(0)});
    if (!s.ok()) return s;
    s = db_.Execute("UPDATE rounds SET deadline = ?, closed_at = NULL WHERE id = ?",
                    {deadline_ms, round_id});
    if (!s.ok()) return s;
    return AuditLog(db_).Append(
        actor, now, "round.reopen", "round/" + std::to_string(round_id),
        json{{"state", RoundStateName(status->state)}, {"deadline", status->round.deadline}}.dump(),
        json{{"state", "open"}, {"deadline", deadline_ms}, {"reason", reason}}.dump());
  });
  if (!done.ok()) return done;
  return StatusOf(round_id);
}

Result<RoundInfo> Cycle::Round(int64_t round_id) {
  auto rows = db_.Query(
      "SELECT id, framework_id, round, deadline, starts_at FROM rounds WHERE id = ?", {round_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีรอบการรายงานนี้", "no such reporting round");
  const storage::Row& r = (*rows)[0];
  return RoundInfo{r.Int(0), r.Int(1), static_cast<int>(r.Int(2)), r.Int(3),
                   r.IsNull(4) ? 0 : r.Int(4)};
}

Result<std::vector<FrameworkSummary>> Cycle::Frameworks() {
  auto rows = db_.Query(
      "SELECT id, fiscal_year, agency_kind, version, frozen_at, imported_at FROM frameworks "
      "ORDER BY fiscal_year DESC, agency_kind, version DESC");
  if (!rows) return rows.status();
  std::vector<FrameworkSummary> out;
  for (const storage::Row& r : *rows) {
    out.push_back({r.Int(0), static_cast<int>(r.Int(1)), r.Text(2), static_cast<int>(r.Int(3)),
                   !r.IsNull(4), r.Int(5)});
  }
  return out;
}

Result<std::vector<RoundSummary>> Cycle::Rounds() {
  auto rows = db_.Query(
      "SELECT r.id, r.framework_id, r.round, r.deadline, f.fiscal_year, f.agency_kind, "
      "r.starts_at FROM rounds r "
      "JOIN frameworks f ON f.id = r.framework_id "
      "ORDER BY f.fiscal_year DESC, f.agency_kind, r.round DESC, r.id DESC");
  if (!rows) return rows.status();
  std::vector<RoundSummary> out;
  for (const storage::Row& r : *rows) {
    out.push_back(
        {{r.Int(0), r.Int(1), static_cast<int>(r.Int(2)), r.Int(3), r.IsNull(6) ? 0 : r.Int(6)},
         static_cast<int>(r.Int(4)),
         r.Text(5)});
  }
  return out;
}

Result<std::vector<Extension>> Cycle::Extensions(int64_t round_id) {
  auto rows = db_.Query(
      "SELECT agency_code, deadline FROM extensions WHERE round_id = ? ORDER BY agency_code",
      {round_id});
  if (!rows) return rows.status();
  std::vector<Extension> out;
  for (const storage::Row& r : *rows) out.push_back({r.Text(0), r.Int(1)});
  return out;
}

Status Cycle::ExtendDeadline(const Actor& actor, int64_t round_id, const std::string& agency,
                             int64_t deadline_ms) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ขยายกำหนดส่ง", "extend deadlines");
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    auto status = LockForChange(round_id);
    if (!status) return status.status();
    if (status->state != RoundState::kOpen && status->state != RoundState::kClosed &&
        status->state != RoundState::kScheduled) {
      return Status::Conflict(
          "ผลการประเมินของรอบนี้คำนวณแล้ว ขยายกำหนดส่งไม่ได้ ให้เปิดรอบอีกครั้งพร้อมเหตุผล",
          "this round's results are computed: no more extensions; reopen it with a reason");
    }
    if (status->closed_early_at) {
      return Status::Conflict(
          "ส่วนกลางปิดรับรายงานรอบนี้แล้ว ขยายกำหนดส่งไม่ได้ ให้เปิดรอบอีกครั้งพร้อมเหตุผล",
          "reporting for this round was closed: no more extensions; reopen it with a reason");
    }
    if (deadline_ms <= status->round.deadline) {
      return Status::InvalidInput("กำหนดส่งที่ขยายต้องหลังกำหนดส่งของรอบ (" +
                                      FormatDateTime(status->round.deadline, Lang::kThai) + ")",
                                  "an extension must lie after the round's deadline (" +
                                      FormatDateTime(status->round.deadline, Lang::kEnglish) + ")");
    }
    if (deadline_ms <= now) return PastDeadline(deadline_ms);
    auto before =
        db_.Query("SELECT deadline FROM extensions WHERE round_id = ? AND agency_code = ?",
                  {round_id, agency});
    if (!before) return before.status();
    // The same date again (a form sent twice) changes nothing and is not audited again.
    if (!before->empty() && (*before)[0].Int(0) == deadline_ms) return Status::Ok();
    Status s = db_.Execute(
        "INSERT INTO extensions (round_id, agency_code, deadline, granted_by, granted_at) VALUES "
        "(?, ?, ?, ?, ?) "
        "ON CONFLICT (round_id, agency_code) DO UPDATE SET deadline = excluded.deadline, "
        "granted_by = excluded.granted_by, "
        "granted_at = excluded.granted_at",
        {round_id, agency, deadline_ms, UserRef(actor), now});
    if (!s.ok()) {
      return Status::InvalidInput("ไม่มีหน่วยงานนี้", "no such agency");
    }
    const json previous = before->empty()
                              ? json::object()
                              : json{{"agency", agency}, {"deadline", (*before)[0].Int(0)}};
    return AuditLog(db_).Append(actor, now,
                                before->empty() ? "round.extend" : "round.extend.change",
                                "round/" + std::to_string(round_id), previous.dump(),
                                json{{"agency", agency}, {"deadline", deadline_ms}}.dump());
  });
}

Status Cycle::RemoveExtension(const Actor& actor, int64_t round_id, const std::string& agency) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ยกเลิกการขยายกำหนดส่ง", "remove extensions");
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    auto status = LockForChange(round_id);
    if (!status) return status.status();
    if (status->state != RoundState::kOpen && status->state != RoundState::kClosed &&
        status->state != RoundState::kScheduled) {
      return Status::Conflict("ผลการประเมินของรอบนี้คำนวณแล้ว เปลี่ยนการขยายกำหนดส่งไม่ได้",
                              "this round's results are computed: extensions can no longer change");
    }
    auto removed = db_.Query(
        "DELETE FROM extensions WHERE round_id = ? AND agency_code = ? RETURNING deadline",
        {round_id, agency});
    if (!removed) return removed.status();
    if (removed->empty()) {
      return Status::NotFound("หน่วยงาน " + agency + " ไม่ได้รับการขยายกำหนดส่งในรอบนี้",
                              "agency " + agency + " has no extension in this round");
    }
    return AuditLog(db_).Append(actor, now, "round.extend.remove",
                                "round/" + std::to_string(round_id),
                                json{{"agency", agency}, {"deadline", (*removed)[0].Int(0)}}.dump(),
                                json{{"agency", agency}, {"deadline", nullptr}}.dump());
  });
}

Result<int64_t> Cycle::DeadlineFor(int64_t round_id, const std::string& agency) {
  // An extension never shortens the round's deadline (the round's may have moved past it).
  auto rows = db_.Query(
      "SELECT r.deadline, e.deadline FROM rounds r "
      "LEFT JOIN extensions e ON e.round_id = r.id AND e.agency_code = ? WHERE r.id = ?",
      {agency, round_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีรอบการรายงานนี้", "no such reporting round");
  const storage::Row& r = (*rows)[0];
  return r.IsNull(1) ? r.Int(0) : std::max(r.Int(0), r.Int(1));
}

Status Cycle::ImportObservations(const Actor& actor,
                                 const std::vector<domain::Observation>& observations) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "นำเข้าข้อมูล", "import data");
  const int64_t now = clock_.NowMs();
  Status stored = db_.Transaction([&]() -> Status {
    // Every agency named must be known, which is said with the place of the first that is not:
    // the rows are then written a few hundred a statement, whose failure would not say which.
    std::unordered_set<std::string> known;
    Status listed = db_.QueryEach("SELECT code FROM agencies", {}, [&](const storage::Row& r) {
      known.insert(r.Text(0));
      return Status::Ok();
    });
    if (!listed.ok()) return listed;
    for (const domain::Observation& o : observations) {
      if (!known.count(o.agency)) {
        return Status::InvalidInput("ไม่มีหน่วยงาน \"" + o.agency + "\"",
                                    "no agency \"" + o.agency + "\"", o.where);
      }
    }
    // A value given twice keeps the later, as writing them one by one did (one statement may
    // not change a row twice on PostgreSQL).
    std::vector<const domain::Observation*> kept;
    {
      std::unordered_set<std::string> seen;
      for (auto o = observations.rbegin(); o != observations.rend(); ++o) {
        if (seen.insert(o->agency + '\x1f' + o->kpi + '\x1f' + o->variable + '\x1f' +
                        std::to_string(o->fiscal_year) + '\x1f' + std::to_string(o->round))
                .second) {
          kept.push_back(&*o);
        }
      }
    }
    // A statement a row took a round trip each: a minute on PostgreSQL for every local
    // government's 340,000 values (issue 9).
    constexpr size_t kRowsPerStatement = 500;  // 3,000 values: within both engines' limits
    for (size_t at = 0; at < kept.size(); at += kRowsPerStatement) {
      const size_t end = std::min(kept.size(), at + kRowsPerStatement);
      std::string sql =
          "INSERT INTO observations (agency_code, kpi, variable, fiscal_year, round, value) "
          "VALUES ";
      std::vector<storage::Value> params;
      params.reserve((end - at) * 6);
      for (size_t i = at; i < end; ++i) {
        const domain::Observation& o = *kept[i];
        sql += i == at ? "(?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?)";
        params.insert(params.end(), {o.agency, o.kpi, o.variable, int64_t{o.fiscal_year},
                                     int64_t{o.round}, ValuesText(o.values)});
      }
      sql +=
          " ON CONFLICT (agency_code, kpi, variable, fiscal_year, round) DO UPDATE SET value = "
          "excluded.value";
      Status s = db_.Execute(sql, params);
      if (!s.ok()) return s;
    }
    return AuditLog(db_).Append(actor, now, "data.import", "observations", "{}",
                                json{{"count", observations.size()}}.dump());
  });
  if (stored.ok()) db_.VacuumAfterBulkLoad("observations", observations.size());
  return stored;
}

namespace {
// The observations of `agencies` agencies, whose codes are its parameters, as AppendObservation
// reads them.
std::string ObservationsOfQuery(size_t agencies) {
  return "SELECT agency_code, kpi, variable, fiscal_year, round, value FROM observations WHERE "
         "agency_code IN (" +
         storage::Placeholders(agencies) + ")";
}

// One observations row (agency_code, kpi, variable, fiscal_year, round, value) appended to `out`:
// its value is one number or a list's, as text separated by ';'. DataLoss when it is not. `R` is
// a storage::Row (from Query) or a storage::TextRow (from ScanText), whose Text(5) ends with a
// NUL either way.
template <typename R>
Status AppendObservation(const R& r, std::vector<domain::Observation>& out) {
  if (r.IsNull(5)) return Status::DataLoss("ค่าที่นำเข้าอ่านไม่ได้", "an imported value cannot be read");
  // Made where it is kept (no move of its strings and values): 300,000 for one computation.
  domain::Observation& o = out.emplace_back();
  o.agency = r.Text(0);
  o.kpi = r.Text(1);
  o.variable = r.Text(2);
  o.fiscal_year = static_cast<int>(r.Int(3));
  o.round = static_cast<int>(r.Int(4));
  // Each number read up to the ';' after it: no string per number; 300,000 of them are read for
  // one computation. from_chars reads the text esar writes (ShortestDecimal's) several times
  // faster than strtod, which reads what it does not (a '+', spaces; the text ends with a NUL).
  const auto text = r.Text(5);
  const char* at = text.data();
  const char* const end = at + text.size();
  while (true) {
    double v = 0;
    const auto [read_to, error] = std::from_chars(at, end, v);
    const char* stop = read_to;
    if (error != std::errc() || (stop != end && *stop != ';')) {
      char* strtod_end = nullptr;
      v = std::strtod(at, &strtod_end);
      stop = strtod_end;
    }
    if (stop == at || (stop != end && *stop != ';')) {
      Status unreadable = Status::DataLoss(
          "ค่าที่นำเข้าของหน่วยงาน " + o.agency + " อ่านไม่ได้: " + std::string(text),
          "an imported value of agency " + o.agency + " cannot be read: " + std::string(text));
      out.pop_back();
      return unreadable;
    }
    o.values.push_back(v);
    if (stop == end) break;
    at = stop + 1;
  }
  return Status::Ok();
}
}  // namespace

Result<std::vector<domain::Observation>> Cycle::Observations(size_t more) {
  // Read row by row: the rows of every observation at once would take more memory than the
  // observations made of them.
  std::vector<domain::Observation> out;
  // Counted first (a hint only): a vector grown by doubling would hold up to twice the room,
  // and move every observation, on its way to 300,000 of them.
  auto count = db_.Query("SELECT COUNT(*) FROM observations");
  if (!count) return count.status();
  out.reserve(static_cast<size_t>((*count)[0].Int(0)) + more);
  Status read =
      db_.ScanText("SELECT agency_code, kpi, variable, fiscal_year, round, value FROM observations",
                   {}, [&](const storage::TextRow& r) { return AppendObservation(r, out); });
  if (!read.ok()) return read;
  return out;
}

Result<std::vector<domain::Observation>> Cycle::ObservationsOf(const std::string& agency) {
  return ObservationsOf(std::vector<std::string>{agency});
}

Result<std::vector<domain::Observation>> Cycle::ObservationsOf(
    const std::vector<std::string>& agencies, const std::set<std::string>* only_kpis) {
  std::vector<domain::Observation> out;
  if (agencies.empty() || (only_kpis && only_kpis->empty())) return out;
  // A few dozen rows an agency: one query (a cursor, or a query per agency, would cost round
  // trips: on PostgreSQL those, not the rows, are what a page of 50 agencies waits for).
  std::string sql = ObservationsOfQuery(agencies.size());
  std::vector<storage::Value> params(agencies.begin(), agencies.end());
  if (only_kpis) {
    sql += " AND kpi IN (" + storage::Placeholders(only_kpis->size()) + ")";
    params.insert(params.end(), only_kpis->begin(), only_kpis->end());
  }
  auto rows = db_.Query(sql, params);
  if (!rows) return rows.status();
  out.reserve(rows->size());
  for (const storage::Row& r : *rows) {
    Status made = AppendObservation(r, out);
    if (!made.ok()) return made;
  }
  return out;
}

Status Cycle::AppendObservationsOf(const std::vector<std::string>& agencies,
                                   std::vector<domain::Observation>& out) {
  if (agencies.empty()) return Status::Ok();
  // Thousands of rows (ScoreAndStore reads 500 agencies' at a time), streamed rather than
  // fetched batch by batch.
  return db_.ScanText(ObservationsOfQuery(agencies.size()),
                      std::vector<storage::Value>(agencies.begin(), agencies.end()),
                      [&](const storage::TextRow& r) { return AppendObservation(r, out); });
}

}  // namespace esar::service
