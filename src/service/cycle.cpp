#include "service/cycle.h"

#include <nlohmann/json.hpp>

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

}  // namespace

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

Result<RoundInfo> Cycle::OpenRound(const Actor& actor, int64_t framework_id, int round,
                                   int64_t deadline_ms) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "เปิดรอบการรายงาน", "open reporting rounds");
  if (round != 6 && round != 12)
    return Status::InvalidInput("รอบต้องเป็น 6 หรือ 12", "a round is 6 or 12");
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    auto exists = db_.Query("SELECT 1 FROM frameworks WHERE id = ?", {framework_id});
    if (!exists) return exists.status();
    if (exists->empty()) return Status::NotFound("ไม่มีกรอบการประเมินนี้", "no such framework");
    Status frozen =
        db_.Execute("UPDATE frameworks SET frozen_at = ? WHERE id = ? AND frozen_at IS NULL",
                    {now, framework_id});
    if (!frozen.ok()) return frozen;
    auto rows = db_.Query(
        "INSERT INTO rounds (framework_id, round, deadline) VALUES (?, ?, ?) "
        "ON CONFLICT (framework_id, round) DO UPDATE SET deadline = excluded.deadline RETURNING id",
        {framework_id, int64_t{round}, deadline_ms});
    if (!rows) return rows.status();
    id = (*rows)[0].Int(0);
    return AuditLog(db_).Append(
        actor, now, "round.open", "round/" + std::to_string(id), "{}",
        json{{"framework", framework_id}, {"round", round}, {"deadline", deadline_ms}}.dump(),
        {"framework/" + std::to_string(framework_id)});  // frozen by the opening
  });
  if (!done.ok()) return done;
  return Round(id);
}

Result<RoundInfo> Cycle::Round(int64_t round_id) {
  auto rows =
      db_.Query("SELECT id, framework_id, round, deadline FROM rounds WHERE id = ?", {round_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีรอบการรายงานนี้", "no such reporting round");
  const storage::Row& r = (*rows)[0];
  return RoundInfo{r.Int(0), r.Int(1), static_cast<int>(r.Int(2)), r.Int(3)};
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
      "SELECT r.id, r.framework_id, r.round, r.deadline, f.fiscal_year, f.agency_kind FROM rounds "
      "r "
      "JOIN frameworks f ON f.id = r.framework_id "
      "ORDER BY f.fiscal_year DESC, f.agency_kind, r.round DESC, r.id DESC");
  if (!rows) return rows.status();
  std::vector<RoundSummary> out;
  for (const storage::Row& r : *rows) {
    out.push_back({{r.Int(0), r.Int(1), static_cast<int>(r.Int(2)), r.Int(3)},
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
    Status s = db_.Execute(
        "INSERT INTO extensions (round_id, agency_code, deadline, granted_by, granted_at) VALUES "
        "(?, ?, ?, ?, ?) "
        "ON CONFLICT (round_id, agency_code) DO UPDATE SET deadline = excluded.deadline, "
        "granted_by = excluded.granted_by, "
        "granted_at = excluded.granted_at",
        {round_id, agency, deadline_ms, UserRef(actor), now});
    if (!s.ok()) {
      return Status::InvalidInput("ไม่มีรอบการรายงานหรือหน่วยงานนี้", "no such round or agency");
    }
    return AuditLog(db_).Append(actor, now, "round.extend", "round/" + std::to_string(round_id),
                                "{}", json{{"agency", agency}, {"deadline", deadline_ms}}.dump());
  });
}

Result<int64_t> Cycle::DeadlineFor(int64_t round_id, const std::string& agency) {
  auto rows = db_.Query(
      "SELECT COALESCE(e.deadline, r.deadline) FROM rounds r "
      "LEFT JOIN extensions e ON e.round_id = r.id AND e.agency_code = ? WHERE r.id = ?",
      {agency, round_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีรอบการรายงานนี้", "no such reporting round");
  return (*rows)[0].Int(0);
}

Status Cycle::ImportObservations(const Actor& actor,
                                 const std::vector<domain::Observation>& observations) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "นำเข้าข้อมูล", "import data");
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
    for (const domain::Observation& o : observations) {
      Status s = db_.Execute(
          "INSERT INTO observations (agency_code, kpi, variable, fiscal_year, round, value) VALUES "
          "(?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (agency_code, kpi, variable, fiscal_year, round) DO UPDATE SET value = "
          "excluded.value",
          {o.agency, o.kpi, o.variable, int64_t{o.fiscal_year}, int64_t{o.round},
           ValuesText(o.values)});
      if (!s.ok()) {
        return Status::InvalidInput("ไม่มีหน่วยงาน \"" + o.agency + "\"",
                                    "no agency \"" + o.agency + "\"", o.where);
      }
    }
    return AuditLog(db_).Append(actor, now, "data.import", "observations", "{}",
                                json{{"count", observations.size()}}.dump());
  });
}

namespace {
std::vector<domain::Observation> ObservationsOfRows(const std::vector<storage::Row>& rows) {
  std::vector<domain::Observation> out;
  out.reserve(rows.size());
  for (const storage::Row& r : rows) {
    domain::Observation o;
    o.agency = r.Text(0);
    o.kpi = r.Text(1);
    o.variable = r.Text(2);
    o.fiscal_year = static_cast<int>(r.Int(3));
    o.round = static_cast<int>(r.Int(4));
    const std::string text = r.Text(5);
    for (size_t start = 0; start <= text.size();) {
      const size_t semi = text.find(';', start);
      o.values.push_back(std::stod(
          text.substr(start, semi == std::string::npos ? std::string::npos : semi - start)));
      if (semi == std::string::npos) break;
      start = semi + 1;
    }
    out.push_back(std::move(o));
  }
  return out;
}
}  // namespace

Result<std::vector<domain::Observation>> Cycle::Observations() {
  auto rows =
      db_.Query("SELECT agency_code, kpi, variable, fiscal_year, round, value FROM observations");
  if (!rows) return rows.status();
  return ObservationsOfRows(*rows);
}

Result<std::vector<domain::Observation>> Cycle::ObservationsOf(const std::string& agency) {
  auto rows = db_.Query(
      "SELECT agency_code, kpi, variable, fiscal_year, round, value FROM observations WHERE "
      "agency_code = ?",
      {agency});
  if (!rows) return rows.status();
  return ObservationsOfRows(*rows);
}

}  // namespace esar::service
