#include "service/authoring.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/check.h"
#include "formats/framework_edit.h"
#include "formats/framework_json.h"
#include "formats/json_input.h"
#include "security/crypto.h"
#include "service/audit.h"

namespace esar::service {
namespace {

using nlohmann::json;

// The first error `esar check` finds in `framework`, or Ok.
Status FirstError(const domain::Framework& framework) {
  domain::CheckInput check;
  check.framework = &framework;
  check.framework_file = "framework.json";
  for (const domain::Finding& f : domain::Check(check)) {
    if (f.severity == domain::Severity::kError) {
      return Status::InvalidInput(f.message_th, f.message_en, f.where);
    }
  }
  return Status::Ok();
}

// On PostgreSQL, locks framework row `id` for the rest of the transaction, so that two saves of
// the same version (or a save and the round opening that freezes it) take turns. SQLite's
// transactions hold the write lock from their start (BEGIN IMMEDIATE) already.
Status LockFramework(storage::Database& db, int64_t id) {
  if (db.dialect() != storage::Dialect::kPostgres) return Status::Ok();
  auto rows = db.Query("SELECT id FROM frameworks WHERE id = ? FOR UPDATE", {id});
  if (!rows) return rows.status();
  return Status::Ok();
}

Status NotFound(int64_t id) {
  return Status::NotFound("ไม่มีกรอบการประเมินรหัส " + std::to_string(id),
                          "no framework " + std::to_string(id));
}

}  // namespace

std::string Authoring::Token(const std::string& document) {
  return security::Sha256Hex(document);
}

Result<StoredFramework> Authoring::StartNextYear(const Actor& actor, int64_t from_id) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, "เริ่มปีงบประมาณใหม่", "start a new fiscal year");
  }
  Cycle cycle(db_, clock_);
  auto from = cycle.Framework(from_id);
  if (!from) return from.status();
  auto document = formats::NextYearDocument(from->document);
  if (!document) return document.status();
  auto copy = formats::ParseFramework(*document, "framework.json");
  if (!copy) return copy.status();
  Status checked = FirstError(*copy);
  if (!checked.ok()) return checked;
  const int year = copy->fiscal_year;
  const std::string kind = copy->agency_kind;
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    Status locked = LockFramework(db_, from_id);
    if (!locked.ok()) return locked;
    auto existing = db_.Query(
        "SELECT id FROM frameworks WHERE fiscal_year = ? AND agency_kind = ? LIMIT 1",
        {int64_t{year}, kind});
    if (!existing) return existing.status();
    if (!existing->empty()) {
      return Status::Conflict(
          "ปีงบประมาณ " + std::to_string(year) + " มีกรอบการประเมินของหน่วยงานประเภทนี้แล้ว " +
              "(รหัส " + std::to_string((*existing)[0].Int(0)) + ") แก้ไขกรอบนั้นแทน",
          "fiscal year " + std::to_string(year) +
              " already has a framework for this kind of agency (id " +
              std::to_string((*existing)[0].Int(0)) + "): edit that one instead");
    }
    auto rows = db_.Query(
        "INSERT INTO frameworks (fiscal_year, agency_kind, version, document, diff, imported_by, "
        "imported_at) VALUES (?, ?, 1, ?, '', ?, ?) RETURNING id",
        {int64_t{year}, kind, *document, UserRef(actor), now});
    if (!rows) return rows.status();
    id = (*rows)[0].Int(0);
    return AuditLog(db_).Append(
        actor, now, "framework.next_year", "framework/" + std::to_string(id), "{}",
        json{{"fiscal_year", year}, {"agency_kind", kind}, {"version", 1}, {"from", from_id}}
            .dump());
  });
  if (!done.ok()) return done;
  return cycle.Framework(id);
}

Result<StoredFramework> Authoring::Save(const Actor& actor, int64_t framework_id,
                                        const std::string& token, const std::string& document) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, "แก้ไขกรอบการประเมิน", "edit frameworks");
  }
  auto parsed = formats::ParseFramework(document, "framework.json");
  if (!parsed) return parsed.status();
  Status checked = FirstError(*parsed);
  if (!checked.ok()) return checked;
  // Normalized, so that the stored text (and the next token) does not depend on how the
  // document was spaced, and so that the JSON limits (depth, size) applied.
  auto normalized = formats::ParseJsonBody(document);
  if (!normalized) return normalized.status();
  const std::string text = normalized->dump(2);
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    Status locked = LockFramework(db_, framework_id);
    if (!locked.ok()) return locked;
    auto rows = db_.Query(
        "SELECT id, fiscal_year, agency_kind, version, document, frozen_at FROM frameworks "
        "WHERE id = ?",
        {framework_id});
    if (!rows) return rows.status();
    if (rows->empty()) return NotFound(framework_id);
    const storage::Row& row = (*rows)[0];
    const int year = static_cast<int>(row.Int(1));
    const std::string kind = row.Text(2);
    const int version = static_cast<int>(row.Int(3));
    const std::string before = row.Text(4);
    const bool frozen = !row.IsNull(5);
    if (parsed->fiscal_year != year || parsed->agency_kind != kind) {
      return Status::InvalidInput(
          "ปีงบประมาณและประเภทหน่วยงานของกรอบการประเมินเปลี่ยนไม่ได้ (ปี " + std::to_string(year) +
              ", " + kind + ")",
          "a framework's fiscal year and agency kind cannot change (" + std::to_string(year) +
              ", " + kind + ")");
    }
    auto newer = db_.Query(
        "SELECT MAX(version) FROM frameworks WHERE fiscal_year = ? AND agency_kind = ?",
        {int64_t{year}, kind});
    if (!newer) return newer.status();
    if (!newer->empty() && !(*newer)[0].IsNull(0) && (*newer)[0].Int(0) > version) {
      return Status::Conflict(
          "มีกรอบการประเมินฉบับที่ " + std::to_string((*newer)[0].Int(0)) +
              " ที่ใหม่กว่าแล้ว โปรดแก้ไขจากรุ่นล่าสุด",
          "a newer version (" + std::to_string((*newer)[0].Int(0)) +
              ") exists already: edit the newest version");
    }
    if (Token(before) != token) {
      return Status::Conflict(
          "มีผู้อื่นบันทึกกรอบการประเมินนี้ระหว่างที่ท่านแก้ไข โปรดเปิดหน้าใหม่แล้วแก้ไขอีกครั้ง",
          "someone else saved this framework while you were editing it: open it again and redo "
          "your change");
    }
    const json before_json = json::parse(before);
    if (before_json == *normalized) {  // sent twice, or nothing changed: nothing to record
      id = framework_id;
      return Status::Ok();
    }
    const std::string patch = json::diff(before_json, *normalized).dump();
    AuditLog audit(db_);
    if (!frozen) {
      auto replaced = db_.Query(
          "UPDATE frameworks SET document = ?, imported_by = ?, imported_at = ? WHERE id = ? AND "
          "frozen_at IS NULL RETURNING id",
          {text, UserRef(actor), now, framework_id});
      if (!replaced) return replaced.status();
      if (replaced->empty()) {
        return Status::Conflict("กรอบการประเมินเพิ่งถูกตรึงเมื่อเปิดรอบการรายงาน โปรดบันทึกอีกครั้ง",
                                "the framework was frozen meanwhile by a round opening: save again");
      }
      id = framework_id;
      return audit.Append(actor, now, "framework.edit", "framework/" + std::to_string(id), "{}",
                          patch);
    }
    auto inserted = db_.Query(
        "INSERT INTO frameworks (fiscal_year, agency_kind, version, document, diff, imported_by, "
        "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {int64_t{year}, kind, int64_t{version + 1}, text, patch, UserRef(actor), now});
    if (!inserted) return inserted.status();
    id = (*inserted)[0].Int(0);
    return audit.Append(actor, now, "framework.version", "framework/" + std::to_string(id), "{}",
                        json{{"fiscal_year", year},
                             {"agency_kind", kind},
                             {"version", version + 1},
                             {"from", framework_id},
                             {"patch", json::parse(patch)}}
                            .dump());
  });
  if (!done.ok()) return done;
  return Cycle(db_, clock_).Framework(id);
}

namespace {

// `s` with its location made the form field `field` ("" when none).
Status AtField(const Status& s, const std::string& field) {
  return Status::InvalidInput(s.message_th(), s.message_en(), Location{"", field, 0});
}

Status AssignmentWeightsError(const domain::Framework& framework,
                              const std::vector<std::pair<std::string, double>>& weights,
                              const std::string& agency) {
  for (const domain::WeightProblem& p :
       domain::CheckAgencyWeights(framework, agency, weights).problems) {
    const std::string field = !p.kpi.empty()         ? "weight." + p.kpi
                              : !p.component.empty() ? "component." + p.component
                                                     : "total";
    return Status::InvalidInput(p.finding.message_th, p.finding.message_en, Location{"", field, 0});
  }
  return Status::Ok();
}

}  // namespace

Result<StoredFramework> Authoring::SaveAssignmentForm(const Actor& actor, int64_t framework_id,
                                                      const std::string& token,
                                                      const std::vector<std::string>& agencies,
                                                      const formats::FormFields& fields) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, "มอบหมายตัวชี้วัด", "assign KPIs");
  }
  if (agencies.empty()) {
    return Status::InvalidInput("ไม่มีหน่วยงานที่จะมอบหมายตัวชี้วัด", "no agency to assign KPIs to");
  }
  for (const std::string& code : agencies) {
    auto rows = db_.Query("SELECT code FROM agencies WHERE code = ?", {code});
    if (!rows) return rows.status();
    if (rows->empty()) {
      return Status::NotFound("ไม่มีหน่วยงานรหัส " + code, "no agency " + code);
    }
  }
  auto stored = Cycle(db_, clock_).Framework(framework_id);
  if (!stored) return stored.status();
  const json document = json::parse(stored->document);
  auto changed = formats::ApplyAssignmentForm(document, agencies, fields);
  if (!changed) return changed.status();
  // Every agency is assigned the same weights: the first names the fault (in its words).
  auto weights = formats::AssignmentFormWeights(document, fields);
  if (!weights) return weights.status();
  if (!weights->empty()) {
    Status checked = AssignmentWeightsError(stored->framework, *weights, agencies.front());
    if (!checked.ok()) return checked;
  }
  auto saved = Save(actor, framework_id, token, changed->dump(2));
  if (!saved && saved.status().code() == StatusCode::kInvalidInput) {
    return AtField(saved.status(), "");
  }
  return saved;
}

Result<StoredFramework> Authoring::SaveKpiForm(const Actor& actor, int64_t framework_id,
                                               const std::string& token,
                                               const std::string& kpi_id,
                                               const formats::FormFields& fields) {
  return SaveKpiFormAt(actor, framework_id, token, kpi_id, fields, false, "");
}

Result<StoredFramework> Authoring::AddKpiForm(const Actor& actor, int64_t framework_id,
                                              const std::string& token,
                                              const std::string& kpi_id,
                                              const formats::FormFields& fields) {
  return SaveKpiFormAt(actor, framework_id, token, kpi_id, fields, true, "");
}

Result<StoredFramework> Authoring::AddSubKpiForm(const Actor& actor, int64_t framework_id,
                                                 const std::string& token,
                                                 const std::string& parent_id,
                                                 const std::string& kpi_id,
                                                 const formats::FormFields& fields) {
  return SaveKpiFormAt(actor, framework_id, token, kpi_id, fields, true, parent_id);
}

namespace {

// The first error `esar check` finds in `document` as the KPI form at `kpi_path` names it (the
// field it concerns; ParseFramework's JSON path made a field too), or Ok.
Status KpiFormCheck(const json& document, const std::string& kpi_path,
                    const formats::FormFields& fields) {
  auto parsed = formats::ParseFramework(document.dump(2), "framework.json");
  if (!parsed) {
    return AtField(parsed.status(),
                   formats::KpiFieldOfPath(kpi_path, parsed.status().where().json_path));
  }
  domain::CheckInput check;
  check.framework = &*parsed;
  check.framework_file = "framework.json";
  const json& kpi = document[json::json_pointer(kpi_path)];
  const std::string key =
      kpi.contains("key") && kpi["key"].is_string() ? kpi["key"].get<std::string>() : "";
  for (const domain::Finding& f : domain::Check(check)) {
    if (f.severity != domain::Severity::kError) continue;
    return Status::InvalidInput(f.message_th, f.message_en,
                                Location{"", formats::KpiFieldOfFinding(kpi_path, key, f, &fields), 0});
  }
  return Status::Ok();
}

}  // namespace

Result<StoredFramework> Authoring::SaveKpiFormAt(const Actor& actor, int64_t framework_id,
                                                 const std::string& token,
                                                 const std::string& kpi_id,
                                                 const formats::FormFields& fields, bool add,
                                                 const std::string& parent_id) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, "แก้ไขกรอบการประเมิน", "edit frameworks");
  }
  auto stored = Cycle(db_, clock_).Framework(framework_id);
  if (!stored) return stored.status();
  std::vector<std::string> components;
  for (const auto& c : stored->framework.components) components.push_back(c.id);
  auto change = formats::ApplyKpiFormAt(json::parse(stored->document), kpi_id, fields, components,
                                        add, parent_id);
  if (!change) return change.status();
  const json& document = change->document;
  const std::string& kpi_path = change->kpi_path;
  Status checked = KpiFormCheck(document, kpi_path, fields);
  if (!checked.ok()) return checked;
  auto saved = Save(actor, framework_id, token, document.dump(2));
  if (!saved && saved.status().code() == StatusCode::kInvalidInput) {
    return AtField(saved.status(),
                   formats::KpiFieldOfPath(kpi_path, saved.status().where().json_path));
  }
  return saved;
}

Result<StoredFramework> Authoring::RemoveSubKpi(const Actor& actor, int64_t framework_id,
                                                const std::string& token, const std::string& kpi_id,
                                                const formats::FormFields& fields) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, "แก้ไขกรอบการประเมิน", "edit frameworks");
  }
  auto stored = Cycle(db_, clock_).Framework(framework_id);
  if (!stored) return stored.status();
  json document = json::parse(stored->document);
  const std::string path = formats::KpiPath(document, kpi_id);
  const std::string parent_path = formats::ParentKpiPath(path);
  if (path.empty() || parent_path.empty()) {
    return Status::NotFound("ไม่มีตัวชี้วัดย่อย " + kpi_id, "no sub-KPI " + kpi_id);
  }
  json& parent = document[json::json_pointer(parent_path)];
  json& subs = parent["sub_kpis"];
  if (subs.size() < 2) {
    return Status::InvalidInput(
        "ตัวชี้วัด " + parent.value("id", "") +
            " ต้องมีตัวชี้วัดย่อยอย่างน้อย 1 ตัว (หรือเกณฑ์ของตนเอง): ตัวชี้วัดย่อยตัวสุดท้ายจึงลบไม่ได้",
        "KPI " + parent.value("id", "") +
            " needs at least one sub-KPI (or criteria of its own): its last sub-KPI cannot be "
            "removed",
        Location{"", "", 0});
  }
  const size_t index = std::stoul(path.substr(path.rfind('/') + 1));
  subs.erase(index);
  auto shared = formats::ApplySubKpiShares(parent, fields);
  if (!shared) return shared.status();
  parent = std::move(*shared);
  // The shares left must still sum to 100: esar check's rule, named at the shares' fields.
  auto parsed = formats::ParseFramework(document.dump(2), "framework.json");
  if (!parsed) return AtField(parsed.status(), "");
  domain::CheckInput check;
  check.framework = &*parsed;
  check.framework_file = "framework.json";
  for (const domain::Finding& f : domain::Check(check)) {
    if (f.severity != domain::Severity::kError) continue;
    return Status::InvalidInput(
        f.message_th, f.message_en,
        Location{"", f.where.json_path == parent_path + "/sub_kpis" ? "shares" : "", 0});
  }
  auto saved = Save(actor, framework_id, token, document.dump(2));
  if (!saved && saved.status().code() == StatusCode::kInvalidInput)
    return AtField(saved.status(), "");
  return saved;
}

Result<StoredFramework> Authoring::SaveComponentsForm(const Actor& actor, int64_t framework_id,
                                                      const std::string& token,
                                                      const formats::FormFields& fields) {
  if (!actor.Is(Role::kAdmin) || actor.read_only) {
    return Denied(actor, "แก้ไขกรอบการประเมิน", "edit frameworks");
  }
  auto stored = Cycle(db_, clock_).Framework(framework_id);
  if (!stored) return stored.status();
  auto changed = formats::ApplyComponentsForm(json::parse(stored->document), fields);
  if (!changed) return changed.status();
  auto saved = Save(actor, framework_id, token, changed->dump(2));
  if (!saved && saved.status().code() == StatusCode::kInvalidInput) {
    const Status error = saved.status();
    const std::string path = error.where().json_path;
    // "/components/1/share" -> "components.1.share"; elsewhere: no field of this form.
    std::string field;
    if (path.rfind("/components/", 0) == 0) {
      field = path.substr(1);
      std::replace(field.begin(), field.end(), '/', '.');
    }
    return AtField(error, field);
  }
  return saved;
}

Result<std::optional<StoredFramework>> Authoring::PreviousVersion(
    const StoredFramework& framework) {
  if (framework.version <= 1) return std::optional<StoredFramework>();
  auto rows = db_.Query(
      "SELECT id FROM frameworks WHERE fiscal_year = ? AND agency_kind = ? AND version = ?",
      {int64_t{framework.fiscal_year}, framework.agency_kind, int64_t{framework.version - 1}});
  if (!rows) return rows.status();
  if (rows->empty()) return std::optional<StoredFramework>();
  auto previous = Cycle(db_, clock_).Framework((*rows)[0].Int(0));
  if (!previous) return previous.status();
  return std::optional<StoredFramework>(std::move(*previous));
}

}  // namespace esar::service
