#include "service/reporting.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/thai.h"
#include "formats/inputs.h"
#include "service/audit.h"
#include "service/case_logs.h"
#include "service/data_files.h"
#include "service/mail_texts.h"
#include "service/notify.h"

namespace esar::service {
namespace {

using nlohmann::json;

constexpr int64_t kMaxTextBytes = 64 * 1024;

Result<SubmissionStatus> ParseStatus(const std::string& s) {
  if (s == "draft") return SubmissionStatus::kDraft;
  if (s == "approved") return SubmissionStatus::kApproved;
  if (s == "submitted") return SubmissionStatus::kSubmitted;
  if (s == "returned") return SubmissionStatus::kReturned;
  if (s == "accepted") return SubmissionStatus::kAccepted;
  return Status::Internal("unknown submission status " + s);
}

const char* StatusThai(SubmissionStatus s) {
  switch (s) {
    case SubmissionStatus::kDraft:
      return "ร่าง";
    case SubmissionStatus::kApproved:
      return "อนุมัติแล้ว";
    case SubmissionStatus::kSubmitted:
      return "ส่งแล้ว";
    case SubmissionStatus::kReturned:
      return "ส่งกลับแก้ไข";
    case SubmissionStatus::kAccepted:
      return "ยอมรับแล้ว";
  }
  return "";
}

// PostgreSQL locks the row read for the rest of the transaction; SQLite's write lock is taken
// when the transaction begins (BEGIN IMMEDIATE), which serializes just as well.
std::string ForUpdate(const storage::Database& db) {
  return db.dialect() == storage::Dialect::kPostgres ? " FOR UPDATE" : "";
}

// The leaves of `kpi` (itself when it has no sub-KPIs), with whether every KPI on the way
// down counts in `round` and, when one does not, the rounds it counts in.
void Leaves(const domain::Kpi& kpi, int round, bool in_round, const std::vector<int>& rounds,
            std::vector<std::tuple<const domain::Kpi*, bool, std::vector<int>>>& out) {
  const bool here = std::find(kpi.rounds.begin(), kpi.rounds.end(), round) != kpi.rounds.end();
  const bool in = in_round && here;
  const std::vector<int>& shown = in_round && !here ? kpi.rounds : rounds;
  if (kpi.sub_kpis.empty()) {
    out.emplace_back(&kpi, in, shown);
    return;
  }
  for (const domain::Kpi& sub : kpi.sub_kpis) Leaves(sub, round, in, shown, out);
}

Status CheckText(const std::string& text, const char* what_th, const char* what_en) {
  if (static_cast<int64_t>(text.size()) > kMaxTextBytes) {
    return Status::InvalidInput(std::string(what_th) + "ยาวเกิน 64 KB",
                                std::string(what_en) + " is longer than 64 KB");
  }
  if (!IsValidUtf8(text)) {
    return Status::InvalidInput(std::string(what_th) + "ไม่ใช่ UTF-8 ที่ถูกต้อง",
                                std::string(what_en) + " is not valid UTF-8");
  }
  return Status::Ok();
}

}  // namespace

const char* SubmissionStatusName(SubmissionStatus status) {
  switch (status) {
    case SubmissionStatus::kDraft:
      return "draft";
    case SubmissionStatus::kApproved:
      return "approved";
    case SubmissionStatus::kSubmitted:
      return "submitted";
    case SubmissionStatus::kReturned:
      return "returned";
    case SubmissionStatus::kAccepted:
      return "accepted";
  }
  return "draft";
}

Result<std::vector<domain::Observation>> ValuesToObservations(const std::string& values_json,
                                                              const std::string& agency,
                                                              const std::string& kpi,
                                                              int fiscal_year, int round) {
  json values;
  try {
    values = json::parse(values_json);
  } catch (const json::exception&) {
    return Status::InvalidInput("ค่าที่รายงานต้องเป็น JSON ที่ถูกต้อง", "the values must be valid JSON");
  }
  if (!values.is_object()) {
    return Status::InvalidInput("ค่าที่รายงานต้องเป็นออบเจ็กต์ {ชื่อตัวแปร: ค่า}",
                                "the values must be an object {variable: value}");
  }
  std::vector<domain::Observation> out;
  for (const auto& [name, value] : values.items()) {
    domain::Observation o;
    o.agency = agency;
    o.kpi = kpi;
    o.variable = name;
    o.fiscal_year = fiscal_year;
    o.round = round;
    auto number = [&](const json& v) -> Result<double> {
      if (v.is_number()) {
        const double d = v.get<double>();
        if (std::isfinite(d) && std::fabs(d) <= 1e15) return d;
      } else if (v.is_boolean()) {
        return v.get<bool>() ? 1.0 : 0.0;
      } else if (v.is_string()) {
        auto parsed = formats::ParseValue(v.get<std::string>());
        if (parsed && parsed->size() == 1) return parsed->front();
      }
      return Status::InvalidInput("ค่าของ \"" + name + "\" ต้องเป็นตัวเลข หรือ ผ่าน/ไม่ผ่าน",
                                  "the value of \"" + name + "\" must be a number or pass/fail");
    };
    if (value.is_array()) {
      for (const json& element : value) {
        auto d = number(element);
        if (!d) return d.status();
        o.values.push_back(*d);
      }
    } else {
      auto d = number(value);
      if (!d) return d.status();
      o.values.push_back(*d);
    }
    out.push_back(std::move(o));
  }
  return out;
}

KpiDutyResolver::KpiDutyResolver(const domain::Framework& framework, int round)
    : framework_(framework), round_(round) {
  for (size_t i = 0; i < framework.assignments.size(); ++i) {
    bool all = false;
    for (const std::string& a : framework.assignments[i].agencies) {
      if (a == "*") {
        all = true;
      } else {
        std::vector<size_t>& rules = for_agency_[a];
        if (rules.empty() || rules.back() != i) rules.push_back(i);
      }
    }
    if (all) for_all_.push_back(i);
  }
}

std::vector<size_t> KpiDutyResolver::Rules(const std::string& agency) const {
  std::vector<size_t> rules = for_all_;
  if (const auto own = for_agency_.find(agency); own != for_agency_.end()) {
    std::vector<size_t> merged;
    std::merge(rules.begin(), rules.end(), own->second.begin(), own->second.end(),
               std::back_inserter(merged));
    merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    rules = std::move(merged);
  }
  return rules;
}

std::vector<KpiDuty> KpiDutyResolver::For(const std::string& agency) const {
  // The rules that apply, in framework order: later ones override earlier ones field by field,
  // and an exemption, once given, stays (as the engine resolves them).
  const std::vector<size_t> rules = Rules(agency);
  struct Assigned {
    double weight = 0;
    bool exempt = false;
    LocalizedText reason;
  };
  std::map<std::string, Assigned> by_kpi;
  for (size_t r : rules) {
    for (const domain::AssignedKpi& k : framework_.assignments[r].kpis) {
      Assigned& a = by_kpi[k.kpi];
      if (k.weight) a.weight = *k.weight;
      if (k.exempt) {
        a.exempt = true;
        a.reason = k.exempt_reason;
      }
    }
  }
  std::vector<KpiDuty> out;
  for (const domain::Kpi& top : framework_.kpis) {
    const auto found = by_kpi.find(top.id);
    if (found == by_kpi.end()) continue;
    std::vector<std::tuple<const domain::Kpi*, bool, std::vector<int>>> leaves;
    Leaves(top, round_, true, top.rounds, leaves);
    for (const auto& [leaf, in_round, rounds] : leaves) {
      KpiDuty duty;
      duty.kpi = leaf->id;
      duty.top_kpi = top.id;
      duty.monitoring = top.monitoring_only || leaf->monitoring_only;
      duty.weight = top.monitoring_only ? 0 : found->second.weight;
      duty.exempt = found->second.exempt;
      duty.exempt_reason = found->second.reason;
      duty.in_round = in_round;
      duty.rounds = rounds;
      out.push_back(std::move(duty));
    }
  }
  return out;
}

std::vector<KpiDuty> KpiDuties(const domain::Framework& fw, int round, const std::string& agency) {
  return KpiDutyResolver(fw, round).For(agency);
}

Status CheckReport(const domain::Framework& fw, const std::string& agency, const Report& report,
                   int round) {
  const domain::Kpi* kpi = domain::FindKpi(fw.kpis, report.kpi);
  if (!kpi || !kpi->sub_kpis.empty()) {
    return Status::InvalidInput("ไม่มีตัวชี้วัด \"" + report.kpi + "\" ที่รายงานผลได้ในกรอบการประเมินนี้",
                                "no reportable KPI \"" + report.kpi + "\" in this framework");
  }
  const std::vector<KpiDuty> duties = KpiDuties(fw, round, agency);
  const auto duty = std::find_if(duties.begin(), duties.end(),
                                 [&](const KpiDuty& d) { return d.kpi == report.kpi; });
  if (duty == duties.end()) {
    return Status::InvalidInput("หน่วยงาน " + agency + " ไม่ได้รับการประเมินตัวชี้วัด " + report.kpi,
                                "agency " + agency + " is not evaluated on KPI " + report.kpi);
  }
  if (duty->exempt) {
    const std::string th = duty->exempt_reason.Pick(Lang::kThai);
    const std::string en = duty->exempt_reason.Pick(Lang::kEnglish);
    return Status::InvalidInput("หน่วยงาน " + agency + " ได้รับยกเว้นตัวชี้วัด " + report.kpi +
                                    " จึงไม่ต้องรายงาน" + (th.empty() ? "" : ": " + th),
                                "agency " + agency + " is exempt from KPI " + report.kpi +
                                    " and does not report it" + (en.empty() ? "" : ": " + en));
  }
  if (!duty->in_round) {
    std::string th, en;
    for (int r : duty->rounds) {
      th += (th.empty() ? "" : " และ") + RoundName(r, Lang::kThai);
      en += (en.empty() ? "" : " and the ") + RoundName(r, Lang::kEnglish);
    }
    return Status::InvalidInput("ตัวชี้วัด " + report.kpi + " ประเมินเฉพาะ" + th + " ไม่ต้องรายงานใน" +
                                    RoundName(round, Lang::kThai),
                                "KPI " + report.kpi + " counts only in the " + en +
                                    ": it is not reported in the " +
                                    RoundName(round, Lang::kEnglish));
  }
  for (const auto& [text, th, en] : {std::tuple{&report.explanation, "คำชี้แจง", "the explanation"},
                                     std::tuple{&report.problems, "ปัญหาอุปสรรค", "the problems"},
                                     std::tuple{&report.remarks, "ข้อสังเกต", "the remarks"}}) {
    Status s = CheckText(*text, th, en);
    if (!s.ok()) return s;
  }
  auto observations =
      ValuesToObservations(report.values_json, agency, report.kpi, fw.fiscal_year, round);
  if (!observations) return observations.status();
  for (const domain::Observation& o : *observations) {
    const domain::Variable* variable = nullptr;
    for (const domain::Variable& v : kpi->variables) {
      if (v.id == o.variable && v.type != domain::VariableType::kDerived) variable = &v;
    }
    if (!variable) {
      return Status::InvalidInput("ตัวชี้วัด " + report.kpi + " ไม่มีตัวแปร \"" + o.variable + "\"",
                                  "KPI " + report.kpi + " has no variable \"" + o.variable + "\"");
    }
    const size_t length = variable->type == domain::VariableType::kNumberList
                              ? static_cast<size_t>(variable->length)
                              : 1;
    if (o.values.size() != length) {
      return Status::InvalidInput(
          "ตัวแปร \"" + o.variable + "\" ต้องมี " + std::to_string(length) + " ค่า",
          "variable \"" + o.variable + "\" takes " + std::to_string(length) + " values");
    }
    // A date given for a variable that is not a date would be read as its day number.
    if (variable->type != domain::VariableType::kDate) {
      const json raw = json::parse(report.values_json, nullptr, false);
      const json* given = raw.is_object() && raw.contains(o.variable) ? &raw[o.variable] : nullptr;
      if (given && given->is_string() &&
          domain::ParseCaseDate(TrimSpaces(given->get<std::string>()))) {
        return Status::InvalidInput("\"" + o.variable + "\" ไม่ใช่ตัวแปรวันที่ จึงรับวันที่ไม่ได้",
                                    "\"" + o.variable +
                                        "\" is not a date variable: a date is not "
                                        "a value for it");
      }
    }
    for (double v : o.values) {
      const bool bad =
          (variable->min && v < *variable->min) || (variable->max && v > *variable->max) ||
          (variable->type == domain::VariableType::kPassFail && v != 0 && v != 1) ||
          (variable->type == domain::VariableType::kCount && (v < 0 || v != std::floor(v))) ||
          (variable->type == domain::VariableType::kDate &&
           (v != std::floor(v) || v < domain::DayFromCivil(1900, 1, 1) ||
            v > domain::DayFromCivil(2200, 12, 31)));
      if (bad) {
        return Status::InvalidInput(
            "ค่าของ \"" + o.variable + "\" (" + ShortestDecimal(v) + ") อยู่นอกช่วงที่ยอมรับ",
            "the value of \"" + o.variable + "\" (" + ShortestDecimal(v) + ") is out of range");
      }
    }
  }
  return Status::Ok();
}

Result<SubmissionView> Reporting::Load(int64_t submission_id) {
  auto views = LoadMany({submission_id});
  if (!views) return views.status();
  if (views->empty()) return Status::NotFound("ไม่มีรายงานนี้", "no such submission");
  return std::move(views->front());
}

Result<std::vector<SubmissionView>> Reporting::LoadMany(const std::vector<int64_t>& ids) {
  // Five queries for the whole page, each over the ids at once: a queue page of 50 submissions
  // read one by one took five round trips each (250), which on PostgreSQL was most of its time.
  std::vector<SubmissionView> out;
  if (ids.empty()) return out;
  std::string in = "(";
  std::vector<storage::Value> params;
  for (size_t i = 0; i < ids.size(); ++i) {
    in += i ? ", ?" : "?";
    params.emplace_back(ids[i]);
  }
  in += ")";
  auto rows = db_.Query(
      "SELECT s.id, s.round_id, s.agency_code, s.kpi, s.status, s.revision, s.updated_at, "
      "r.values_json, r.explanation, r.problems, r.remarks, r.status FROM submissions s JOIN "
      "submission_revisions r ON r.submission_id = s.id AND r.revision = s.revision WHERE s.id "
      "IN " +
          in,
      params);
  if (!rows) return rows.status();
  std::map<int64_t, SubmissionView> by_id;
  for (const storage::Row& r : *rows) {
    SubmissionView v;
    v.id = r.Int(0);
    v.round_id = r.Int(1);
    v.agency = r.Text(2);
    v.report.kpi = r.Text(3);
    auto status = ParseStatus(r.Text(4));
    if (!status) return status.status();
    v.status = *status;
    v.revision = static_cast<int>(r.Int(5));
    v.updated_at = r.Int(6);
    v.report.values_json = r.Text(7);
    v.report.explanation = r.Text(8);
    v.report.problems = r.Text(9);
    v.report.remarks = r.Text(10);
    v.sent_back = r.Text(11) == "sent_back";
    by_id.emplace(v.id, std::move(v));
  }
  if (by_id.empty()) return out;
  auto sent_back = db_.Query(
      "SELECT submission_id, revision, actor, comment, at FROM submission_revisions WHERE "
      "submission_id IN " +
          in + " AND status = 'sent_back' ORDER BY submission_id, revision",
      params);
  if (!sent_back) return sent_back.status();
  for (const storage::Row& b : *sent_back) {
    by_id[b.Int(0)].send_backs.push_back(
        {static_cast<int>(b.Int(1)), b.Int(2), b.Text(3), b.Int(4)});
  }
  auto files = db_.Query(
      "SELECT submission_id, id, name, media_type, size, sha256, uploaded_by, uploaded_at, "
      "replaced_by FROM evidence WHERE submission_id IN " +
          in +
          " AND id NOT IN (SELECT evidence_id FROM evidence_removals) ORDER BY submission_id, id",
      params);
  if (!files) return files.status();
  for (const storage::Row& f : *files) {
    EvidenceInfo e{f.Int(1),  f.Text(2), f.Text(3), f.Int(4),
                   f.Text(5), f.Int(6),  f.Int(7),  std::nullopt};
    if (!f.IsNull(8)) e.replaced_by = f.Int(8);
    by_id[f.Int(0)].evidence.push_back(std::move(e));
  }
  auto reviews = db_.Query(
      "SELECT submission_id, id, revision, evaluator, decision, verified_json, comment, at FROM "
      "reviews WHERE submission_id IN " +
          in + " ORDER BY submission_id, id",
      params);
  if (!reviews) return reviews.status();
  auto notes = db_.Query(
      "SELECT n.review_id, n.evidence_id, n.note FROM evidence_notes n JOIN reviews rv ON rv.id "
      "= n.review_id WHERE rv.submission_id IN " +
          in,
      params);
  if (!notes) return notes.status();
  std::map<int64_t, std::map<int64_t, std::string>> notes_of;  // review -> evidence -> note
  for (const storage::Row& n : *notes) notes_of[n.Int(0)][n.Int(1)] = n.Text(2);
  for (const storage::Row& rv : *reviews) {
    ReviewInfo info{rv.Int(1),  static_cast<int>(rv.Int(2)),
                    rv.Int(3),  rv.Text(4),
                    rv.Text(5), rv.Text(6),
                    rv.Int(7),  {}};
    if (auto n = notes_of.find(info.id); n != notes_of.end()) info.evidence_notes = n->second;
    by_id[rv.Int(0)].reviews.push_back(std::move(info));
  }
  out.reserve(by_id.size());
  for (int64_t id : ids) {
    if (auto v = by_id.find(id); v != by_id.end()) out.push_back(v->second);
  }
  return out;
}

namespace {

// `values_json` (a report's values as given) with the values of the KPI's computed variables
// (domain::SourceOfVariable) taken from `stored_json` (the report as it stands): nobody types
// them. A computed variable given a value other than the stored one is refused, in Thai and
// English, saying where it comes from; the stored value given back unchanged (a form or a
// template that carries it through) is fine.
// A case log's or a catalog's counts are computed once one is uploaded (`uploaded`); before
// that they may still be typed, as for an agency whose log or catalog is kept outside esar.
Result<std::string> KeepComputedValues(const domain::Kpi& kpi, const std::string& values_json,
                                       const std::string& stored_json,
                                       const UploadedSources& uploaded) {
  json values = json::parse(values_json, nullptr, false);
  if (!values.is_object()) return values_json;  // CheckReport refused it already
  json stored = json::parse(stored_json, nullptr, false);
  if (!stored.is_object()) stored = json::object();
  bool changed = false;
  for (const domain::Variable& v : kpi.variables) {
    const domain::VariableSource source = domain::SourceOfVariable(kpi, v.id);
    if (!uploaded.Fills(source)) continue;
    const bool given = values.contains(v.id) && !values[v.id].is_null();
    const bool kept = stored.contains(v.id) && !stored[v.id].is_null();
    if (given && !(kept && values[v.id] == stored[v.id])) {
      const std::string head_th = "ตัวแปร \"" + v.id + "\" ของตัวชี้วัด " + kpi.id + " คำนวณจาก";
      const std::string head_en =
          "the variable \"" + v.id + "\" of KPI " + kpi.id + " is computed from ";
      if (source == domain::VariableSource::kFromAgencies) {
        return Status::InvalidInput(
            head_th + "ผลของหน่วยงานอื่นเมื่อประมวลผลคะแนน จึงไม่ต้องกรอก",
            head_en + "other agencies' results when scores are computed, so it is not typed in");
      }
      if (source == domain::VariableSource::kCatalog) {
        return Status::InvalidInput(
            head_th + "บัญชีข้อมูล (Data Catalog) ที่อัปโหลด จึงกรอกเองไม่ได้ (อัปโหลดบัญชีข้อมูลใหม่แทน)",
            head_en +
                "the uploaded data catalog and cannot be typed in (upload a new catalog "
                "instead)");
      }
      return Status::InvalidInput(
          head_th + "บันทึกเรื่องที่อัปโหลด จึงกรอกเองไม่ได้ (อัปโหลดบันทึกเรื่องใหม่แทน)",
          head_en +
              "the uploaded case log and cannot be typed in (upload a new case log "
              "instead)");
    }
    if (!given && kept) {
      values[v.id] = stored[v.id];
      changed = true;
    }
  }
  return changed ? values.dump() : values_json;
}

}  // namespace

Result<SubmissionView> Reporting::SaveDraft(const Actor& actor, int64_t round_id,
                                            const std::string& agency, const Report& report) {
  auto saved = SaveDrafts(actor, round_id, agency, {report});
  if (!saved) return saved.status();
  return std::move(saved->front());
}

Result<std::vector<SubmissionView>> Reporting::SaveDrafts(const Actor& actor, int64_t round_id,
                                                          const std::string& agency,
                                                          const std::vector<Report>& reports) {
  if (!(actor.Is(Role::kReporter) && actor.OfAgency(agency))) {
    return Denied(actor, "บันทึกร่างรายงานของหน่วยงาน " + agency, "save drafts for agency " + agency);
  }
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  auto framework = cycle_.Framework(round->framework_id);
  if (!framework) return framework.status();
  for (const Report& report : reports) {
    Status valid = CheckReport(framework->framework, agency, report, round->round);
    if (!valid.ok()) return valid;
  }
  const int64_t now = clock_.NowMs();
  std::vector<int64_t> ids;
  Status done = db_.Transaction([&]() -> Status {
    ids.clear();
    Status locked = cycle_.LockRound(round_id, false);
    if (!locked.ok()) return locked;
    Status open = cycle_.CheckReportingOpen(round_id, agency);
    if (!open.ok()) return open;
    for (const Report& given : reports) {
      // The computed variables' values stay those the upload (or the computation) gave.
      Report report = given;
      const domain::Kpi* kpi = domain::FindKpi(framework->framework.kpis, report.kpi);
      if (kpi) {
        auto current = CurrentReport(round_id, agency, report.kpi);
        if (!current) return current.status();
        auto uploaded = DataFiles(db_, clock_).Uploaded(actor, round_id, agency, *kpi);
        if (!uploaded) return uploaded.status();
        auto kept = KeepComputedValues(*kpi, report.values_json,
                                       *current ? (*current)->report.values_json : "{}", *uploaded);
        if (!kept) return kept.status();
        report.values_json = std::move(*kept);
      }
      auto id = SaveDraftLocked(actor, round_id, agency, report, now);
      if (!id) return id.status();
      ids.push_back(*id);
    }
    return Status::Ok();
  });
  if (!done.ok()) return done;
  std::vector<SubmissionView> out;
  for (int64_t id : ids) {
    auto view = Load(id);
    if (!view) return view.status();
    out.push_back(std::move(*view));
  }
  return out;
}

Result<std::pair<int64_t, int>> Reporting::SaveDraftLockedForCaller(const Actor& actor,
                                                                    int64_t round_id,
                                                                    const std::string& agency,
                                                                    const Report& report) {
  auto id = SaveDraftLocked(actor, round_id, agency, report, clock_.NowMs());
  if (!id) return id.status();
  auto rows = db_.Query("SELECT revision FROM submissions WHERE id = ?", {*id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::Internal("the submission just saved is missing");
  return std::make_pair(*id, static_cast<int>((*rows)[0].Int(0)));
}

Result<std::optional<Reporting::Current>> Reporting::CurrentReport(int64_t round_id,
                                                                   const std::string& agency,
                                                                   const std::string& kpi) {
  auto rows = db_.Query(
      "SELECT s.id, s.status, s.revision, r.values_json, r.explanation, r.problems, r.remarks "
      "FROM submissions s JOIN submission_revisions r ON r.submission_id = s.id AND r.revision = "
      "s.revision WHERE s.round_id = ? AND s.agency_code = ? AND s.kpi = ?",
      {round_id, agency, kpi});
  if (!rows) return rows.status();
  if (rows->empty()) return std::optional<Current>();
  const storage::Row& r = rows->front();
  auto status = ParseStatus(r.Text(1));
  if (!status) return status.status();
  Current c;
  c.submission_id = r.Int(0);
  c.status = *status;
  c.revision = static_cast<int>(r.Int(2));
  c.report.kpi = kpi;
  c.report.values_json = r.Text(3);
  c.report.explanation = r.Text(4);
  c.report.problems = r.Text(5);
  c.report.remarks = r.Text(6);
  return std::optional<Current>(std::move(c));
}

Result<int64_t> Reporting::SaveDraftLocked(const Actor& actor, int64_t round_id,
                                           const std::string& agency, const Report& report,
                                           int64_t now) {
  int64_t id = 0;
  auto existing = db_.Query(
      "SELECT id, status, revision FROM submissions WHERE round_id = ? AND agency_code = ? AND "
      "kpi = ?" +
          ForUpdate(db_),
      {round_id, agency, report.kpi});
  if (!existing) return existing.status();
  int revision = 1;
  std::string before = "{}";
  if (existing->empty()) {
    // Two first drafts of one KPI at once (two uploads of a case log, two tabs): the second
    // waits for the first to commit, inserts nothing, and goes on as a new revision of it,
    // rather than failing on the unique key.
    auto inserted = db_.Query(
        "INSERT INTO submissions (round_id, agency_code, kpi, status, revision, updated_at) "
        "VALUES (?, ?, ?, 'draft', 1, ?) "
        "ON CONFLICT (round_id, agency_code, kpi) DO NOTHING RETURNING id",
        {round_id, agency, report.kpi, now});
    if (!inserted) return inserted.status();
    if (inserted->empty()) {
      existing = db_.Query(
          "SELECT id, status, revision FROM submissions WHERE round_id = ? AND agency_code = ? "
          "AND kpi = ?" +
              ForUpdate(db_),
          {round_id, agency, report.kpi});
      if (!existing) return existing.status();
      if (existing->empty()) return Status::Internal("a submission in the way is gone");
    } else {
      id = (*inserted)[0].Int(0);
    }
  }
  if (!existing->empty()) {
    id = (*existing)[0].Int(0);
    auto status = ParseStatus((*existing)[0].Text(1));
    if (!status) return status.status();
    if (*status == SubmissionStatus::kSubmitted || *status == SubmissionStatus::kAccepted) {
      return Status::Conflict(
          "รายงานตัวชี้วัด " + report.kpi + " อยู่ในสถานะ" + StatusThai(*status) + " แก้ไขไม่ได้",
          "the submission of KPI " + report.kpi + " is " + SubmissionStatusName(*status) +
              " and cannot be changed");
    }
    revision = static_cast<int>((*existing)[0].Int(2)) + 1;
    before = json{{"status", SubmissionStatusName(*status)}, {"revision", revision - 1}}.dump();
    Status s = db_.Execute(
        "UPDATE submissions SET status = 'draft', revision = ?, updated_at = ? WHERE id = ?",
        {int64_t{revision}, now, id});
    if (!s.ok()) return s;
  }
  Status s = db_.Execute(
      "INSERT INTO submission_revisions (submission_id, revision, status, values_json, "
      "explanation, problems, remarks, "
      "actor, at) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?)",
      {id, int64_t{revision}, report.values_json, report.explanation, report.problems,
       report.remarks, UserRef(actor), now});
  if (!s.ok()) return s;
  const json after = {
      {"status", "draft"}, {"revision", revision}, {"values", json::parse(report.values_json)}};
  s = AuditLog(db_).Append(actor, now, "submission.save", "submission/" + std::to_string(id),
                           before, after.dump());
  if (!s.ok()) return s;
  return id;
}

Status Reporting::Transition(const Actor& actor, int64_t submission_id,
                             std::initializer_list<SubmissionStatus> from, SubmissionStatus to,
                             const std::string& action, const ReviewInput* review, Gate gate,
                             const std::string& revision_status, const std::string& comment) {
  const int64_t now = clock_.NowMs();
  // The round and agency of a submission never change: read before the locks, which are taken
  // round first, then submission, everywhere.
  auto owner =
      db_.Query("SELECT round_id, agency_code FROM submissions WHERE id = ?", {submission_id});
  if (!owner) return owner.status();
  if (owner->empty()) return Status::NotFound("ไม่มีรายงานนี้", "no such submission");
  const int64_t round_id = (*owner)[0].Int(0);
  const std::string agency = (*owner)[0].Text(1);
  return db_.Transaction([&]() -> Status {
    Status locked = cycle_.LockRound(round_id, false);
    if (!locked.ok()) return locked;
    auto rows = db_.Query("SELECT status, revision FROM submissions WHERE id = ?" + ForUpdate(db_),
                          {submission_id});
    if (!rows) return rows.status();
    if (rows->empty()) return Status::NotFound("ไม่มีรายงานนี้", "no such submission");
    auto status = ParseStatus((*rows)[0].Text(0));
    if (!status) return status.status();
    if (std::find(from.begin(), from.end(), *status) == from.end()) {
      std::string wanted;
      for (SubmissionStatus f : from)
        wanted += (wanted.empty() ? "" : " or ") + std::string(SubmissionStatusName(f));
      return Status::Conflict(
          std::string("รายงานอยู่ในสถานะ") + StatusThai(*status) + " จึง" + "ทำรายการนี้ไม่ได้",
          std::string("the submission is ") + SubmissionStatusName(*status) + ", not " + wanted);
    }
    Status open = gate == Gate::kAgency ? cycle_.CheckReportingOpen(round_id, agency)
                                        : cycle_.CheckReviewOpen(round_id);
    if (!open.ok()) return open;
    const int64_t revision = (*rows)[0].Int(1);
    const int64_t next = revision + 1;
    // The new revision repeats the content with the new status: history shows every step.
    const std::string stored_status =
        revision_status.empty() ? std::string(SubmissionStatusName(to)) : revision_status;
    Status s = db_.Execute(
        "INSERT INTO submission_revisions (submission_id, revision, status, values_json, "
        "explanation, problems, remarks, "
        "actor, at, comment) SELECT submission_id, ?, ?, values_json, explanation, problems, "
        "remarks, ?, ?, ? "
        "FROM submission_revisions "
        "WHERE submission_id = ? AND revision = ?",
        {next, stored_status, UserRef(actor), now, comment, submission_id, revision});
    if (!s.ok()) return s;
    s = db_.Execute("UPDATE submissions SET status = ?, revision = ?, updated_at = ? WHERE id = ?",
                    {std::string(SubmissionStatusName(to)), next, now, submission_id});
    if (!s.ok()) return s;
    json after = {{"status", SubmissionStatusName(to)}, {"revision", next}};
    if (!comment.empty()) after["comment"] = comment;
    if (review) {
      auto reviewed = db_.Query(
          "INSERT INTO reviews (submission_id, revision, evaluator, decision, verified_json, "
          "comment, at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
          {submission_id, next, UserRef(actor),
           std::string(to == SubmissionStatus::kAccepted ? "accepted" : "returned"),
           review->verified_json, review->comment, now});
      if (!reviewed) return reviewed.status();
      const int64_t review_id = (*reviewed)[0].Int(0);
      for (const auto& [evidence_id, note] : review->evidence_notes) {
        auto owned = db_.Query("SELECT 1 FROM evidence WHERE id = ? AND submission_id = ?",
                               {evidence_id, submission_id});
        if (!owned) return owned.status();
        if (owned->empty()) {
          return Status::InvalidInput(
              "หลักฐานรหัส " + std::to_string(evidence_id) + " ไม่ได้อยู่ในรายงานนี้",
              "evidence " + std::to_string(evidence_id) + " is not part of this submission");
        }
        s = db_.Execute(
            "INSERT INTO evidence_notes (review_id, evidence_id, note) VALUES (?, ?, ?)",
            {review_id, evidence_id, note});
        if (!s.ok()) return s;
      }
      after["comment"] = review->comment;
      after["verified"] = json::parse(review->verified_json);
    }
    Status audited = AuditLog(db_).Append(
        actor, now, action, "submission/" + std::to_string(submission_id),
        json{{"status", SubmissionStatusName(*status)}, {"revision", revision}}.dump(),
        after.dump());
    if (!audited.ok() || !review) return audited;
    return TellReview(submission_id, round_id, agency, to, *review);
  });
}

Status Reporting::TellReview(int64_t submission_id, int64_t round_id, const std::string& agency,
                             SubmissionStatus to, const ReviewInput& review) {
  auto rows = db_.Query(
      "SELECT f.fiscal_year, r.round, s.kpi, v.values_json FROM submissions s JOIN rounds r ON "
      "r.id = s.round_id JOIN frameworks f ON f.id = r.framework_id JOIN submission_revisions v "
      "ON v.submission_id = s.id AND v.revision = s.revision - 1 WHERE s.id = ?",
      {submission_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::Internal("no submission " + std::to_string(submission_id));
  const LocalizedText title =
      RoundTitle(static_cast<int>((*rows)[0].Int(0)), static_cast<int>((*rows)[0].Int(1)));
  const std::string kpi = (*rows)[0].Text(2);
  Notifier notifier(db_, clock_);
  if (to == SubmissionStatus::kReturned) {
    return notifier
        .NotifyAgency(agency, {Role::kReporter},
                      ReportReturnedMessage(title, kpi, review.comment, round_id))
        .status();
  }
  // Corrected when the verified values are not those reported (compared as JSON, so that the
  // order of the keys or the spelling of a number does not count as a correction).
  const json reported = json::parse((*rows)[0].Text(3), nullptr, false);
  const json verified = json::parse(review.verified_json, nullptr, false);
  const bool corrected =
      !reported.is_discarded() && !verified.is_discarded() && reported != verified;
  return notifier
      .NotifyAgency(agency, {Role::kReporter, Role::kApprover},
                    corrected ? ReportCorrectedMessage(title, kpi, review.comment, round_id)
                              : ReportAcceptedMessage(title, kpi, round_id))
      .status();
}

Result<SubmissionView> Reporting::Approve(const Actor& actor, int64_t submission_id) {
  auto current = Load(submission_id);
  if (!current) return current.status();
  if (!(actor.Is(Role::kApprover) && actor.OfAgency(current->agency))) {
    return Denied(actor, "อนุมัติรายงานของหน่วยงาน " + current->agency,
                  "approve submissions of agency " + current->agency);
  }
  Status s = Transition(actor, submission_id, {SubmissionStatus::kDraft},
                        SubmissionStatus::kApproved, "submission.approve", nullptr, Gate::kAgency);
  if (!s.ok()) return s;
  return Load(submission_id);
}

Result<SubmissionView> Reporting::SendBack(const Actor& actor, int64_t submission_id,
                                           const std::string& comment) {
  auto current = Load(submission_id);
  if (!current) return current.status();
  if (!(actor.Is(Role::kApprover) && actor.OfAgency(current->agency))) {
    return Denied(actor, "ส่งร่างรายงานของหน่วยงาน " + current->agency + " กลับให้ผู้รายงาน",
                  "send drafts of agency " + current->agency + " back to the reporter");
  }
  if (comment.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidInput("การส่งกลับให้ผู้รายงานต้องมีความเห็นบอกสิ่งที่ต้องแก้",
                                "sending back needs a comment saying what to change");
  }
  Status text = CheckText(comment, "ความเห็น", "the comment");
  if (!text.ok()) return text;
  Status s =
      Transition(actor, submission_id, {SubmissionStatus::kDraft, SubmissionStatus::kApproved},
                 SubmissionStatus::kDraft, "submission.send_back", nullptr, Gate::kAgency,
                 "sent_back", comment);
  if (!s.ok()) return s;
  return Load(submission_id);
}

Result<SubmissionView> Reporting::Submit(const Actor& actor, int64_t submission_id) {
  auto current = Load(submission_id);
  if (!current) return current.status();
  if (!actor.OfAgency(current->agency)) {
    return Denied(actor, "ส่งรายงานของหน่วยงาน " + current->agency,
                  "submit for agency " + current->agency);
  }
  Status s = Transition(actor, submission_id, {SubmissionStatus::kApproved},
                        SubmissionStatus::kSubmitted, "submission.submit", nullptr, Gate::kAgency);
  if (!s.ok()) return s;
  return Load(submission_id);
}

Result<SubmissionView> Reporting::Return(const Actor& actor, int64_t submission_id,
                                         const ReviewInput& review) {
  if (!actor.Is(Role::kEvaluator)) return Denied(actor, "ส่งรายงานกลับให้แก้ไข", "return submissions");
  if (review.comment.empty()) {
    return Status::InvalidInput("การส่งกลับต้องมีความเห็นบอกสิ่งที่ต้องแก้",
                                "returning needs a comment saying what to fix");
  }
  ReviewInput with_values = review;
  if (with_values.verified_json.empty()) with_values.verified_json = "{}";
  Status s =
      Transition(actor, submission_id, {SubmissionStatus::kSubmitted}, SubmissionStatus::kReturned,
                 "submission.return", &with_values, Gate::kReview);
  if (!s.ok()) return s;
  return Load(submission_id);
}

Result<SubmissionView> Reporting::Accept(const Actor& actor, int64_t submission_id,
                                         const ReviewInput& review) {
  if (!actor.Is(Role::kEvaluator)) return Denied(actor, "ยอมรับรายงาน", "accept submissions");
  auto current = Load(submission_id);
  if (!current) return current.status();
  ReviewInput with_values = review;
  if (with_values.verified_json.empty()) with_values.verified_json = current->report.values_json;
  auto round = cycle_.Round(current->round_id);
  if (!round) return round.status();
  auto framework = cycle_.Framework(round->framework_id);
  if (!framework) return framework.status();
  Report verified = current->report;
  verified.values_json = with_values.verified_json;
  Status valid = CheckReport(framework->framework, current->agency, verified, round->round);
  if (!valid.ok()) return valid;
  Status s =
      Transition(actor, submission_id, {SubmissionStatus::kSubmitted}, SubmissionStatus::kAccepted,
                 "submission.accept", &with_values, Gate::kReview);
  if (!s.ok()) return s;
  return Load(submission_id);
}

Status Reporting::CheckEvidenceQuota(const EvidenceQuota& quota, int64_t files, int64_t bytes,
                                     int64_t size) {
  if (files + 1 > quota.max_files) {
    return Status::Conflict("รายงานนี้มีหลักฐานครบ " + std::to_string(quota.max_files) +
                                " ไฟล์แล้ว ซึ่งเป็นจำนวนสูงสุด (ไฟล์ที่ถูกแทนที่นับด้วย เพราะระบบเก็บไว้)",
                            "this submission already has " + std::to_string(files) +
                                " evidence files, " + "the most allowed is " +
                                std::to_string(quota.max_files) +
                                " (replaced files count: they are kept)");
  }
  if (size > quota.max_bytes - bytes) {
    auto mb = [](int64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20) + " MB"; };
    return Status::Conflict("หลักฐานของรายงานนี้รวมกันได้ไม่เกิน " + mb(quota.max_bytes) + " (ใช้ไปแล้ว " +
                                mb(bytes) + " ไฟล์นี้ " + mb(size) + " ไฟล์ที่ถูกแทนที่นับด้วย)",
                            "a submission's evidence may total at most " + mb(quota.max_bytes) +
                                " (" + mb(bytes) + " used, this file " + mb(size) +
                                "; replaced files count)");
  }
  return Status::Ok();
}

Result<EvidenceInfo> Reporting::AddEvidence(const Actor& actor, int64_t submission_id,
                                            const EvidenceInfo& file,
                                            std::optional<int64_t> replaces,
                                            const EvidenceQuota& quota) {
  auto current = Load(submission_id);
  if (!current) return current.status();
  if (!(actor.Is(Role::kReporter) && actor.OfAgency(current->agency))) {
    return Denied(actor, "แนบหลักฐานของหน่วยงาน " + current->agency,
                  "attach evidence for agency " + current->agency);
  }
  if (current->status != SubmissionStatus::kDraft &&
      current->status != SubmissionStatus::kReturned) {
    return Status::Conflict("แนบหลักฐานได้เฉพาะรายงานที่เป็นร่างหรือถูกส่งกลับ",
                            "evidence can be attached only to a draft or a returned submission");
  }
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    Status locked = cycle_.LockRound(current->round_id, false);
    if (!locked.ok()) return locked;
    Status open = cycle_.CheckReportingOpen(current->round_id, current->agency);
    if (!open.ok()) return open;
    auto added = AddEvidenceLocked(actor, submission_id, file, replaces, quota, now);
    if (!added) return added.status();
    id = *added;
    return Status::Ok();
  });
  if (!done.ok()) return done;
  return EvidenceOf(submission_id, id);
}

Result<std::pair<int64_t, EvidenceInfo>> Reporting::AddEvidenceToKpi(
    const Actor& actor, int64_t round_id, const std::string& agency, const std::string& kpi,
    const EvidenceInfo& file, const EvidenceQuota& quota) {
  if (!(actor.Is(Role::kReporter) && actor.OfAgency(agency))) {
    return Denied(actor, "แนบหลักฐานของหน่วยงาน " + agency, "attach evidence for agency " + agency);
  }
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  auto framework = cycle_.Framework(round->framework_id);
  if (!framework) return framework.status();
  Report empty;
  empty.kpi = kpi;
  Status valid = CheckReport(framework->framework, agency, empty, round->round);
  if (!valid.ok()) return valid;
  const int64_t now = clock_.NowMs();
  int64_t submission_id = 0, id = 0;
  Status done = db_.Transaction([&]() -> Status {
    Status locked = cycle_.LockRound(round_id, false);
    if (!locked.ok()) return locked;
    Status open = cycle_.CheckReportingOpen(round_id, agency);
    if (!open.ok()) return open;
    auto current = CurrentReport(round_id, agency, kpi);
    if (!current) return current.status();
    if (*current) {
      submission_id = (*current)->submission_id;
    } else {
      // The first thing reported for the KPI is a file: an empty draft (audited as any) holds it.
      auto saved = SaveDraftLocked(actor, round_id, agency, empty, now);
      if (!saved) return saved.status();
      submission_id = *saved;
    }
    auto added = AddEvidenceLocked(actor, submission_id, file, std::nullopt, quota, now);
    if (!added) return added.status();
    id = *added;
    return Status::Ok();
  });
  if (!done.ok()) return done;
  auto evidence = EvidenceOf(submission_id, id);
  if (!evidence) return evidence.status();
  return std::make_pair(submission_id, std::move(*evidence));
}

Result<int64_t> Reporting::AddEvidenceLocked(const Actor& actor, int64_t submission_id,
                                             const EvidenceInfo& file,
                                             std::optional<int64_t> replaces,
                                             const EvidenceQuota& quota, int64_t now) {
  // Checked again under the lock: an approval may have come in while the file was uploading.
  auto state =
      db_.Query("SELECT status FROM submissions WHERE id = ?" + ForUpdate(db_), {submission_id});
  if (!state) return state.status();
  if (state->empty() || ((*state)[0].Text(0) != "draft" && (*state)[0].Text(0) != "returned")) {
    return Status::Conflict("แนบหลักฐานได้เฉพาะรายงานที่เป็นร่างหรือถูกส่งกลับ",
                            "evidence can be attached only to a draft or a returned submission");
  }
  // Counted under the same lock as the insert: parallel uploads take turns here. Removed files
  // count too: their bytes stay in the store.
  auto used =
      db_.Query("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM evidence WHERE submission_id = ?",
                {submission_id});
  if (!used) return used.status();
  Status room = CheckEvidenceQuota(quota, (*used)[0].Int(0), (*used)[0].Int(1), file.size);
  if (!room.ok()) return room;
  auto rows = db_.Query(
      "INSERT INTO evidence (submission_id, name, media_type, size, sha256, uploaded_by, "
      "uploaded_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {submission_id, file.name, file.media_type, file.size, file.sha256, UserRef(actor), now});
  if (!rows) return rows.status();
  const int64_t id = (*rows)[0].Int(0);
  if (replaces) {
    auto old = db_.Query(
        "UPDATE evidence SET replaced_by = ? WHERE id = ? AND submission_id = ? AND replaced_by "
        "IS NULL AND id NOT IN (SELECT evidence_id FROM evidence_removals) RETURNING id",
        {id, *replaces, submission_id});
    if (!old) return old.status();
    if (old->empty()) {
      return Status::InvalidInput(
          "ไม่มีหลักฐานรหัส " + std::to_string(*replaces) + " ที่ยังใช้อยู่ในรายงานนี้",
          "no current evidence " + std::to_string(*replaces) + " in this submission");
    }
  }
  const json after = {{"evidence", id},
                      {"name", file.name},
                      {"sha256", file.sha256},
                      {"size", file.size},
                      {"replaces", replaces ? json(*replaces) : json(nullptr)}};
  Status s =
      AuditLog(db_).Append(actor, now, "evidence.add",
                           "submission/" + std::to_string(submission_id), "{}", after.dump());
  if (!s.ok()) return s;
  return id;
}

Result<EvidenceInfo> Reporting::EvidenceOf(int64_t submission_id, int64_t evidence_id) {
  auto view = Load(submission_id);
  if (!view) return view.status();
  for (const EvidenceInfo& e : view->evidence) {
    if (e.id == evidence_id) return e;
  }
  return Status::Internal("evidence vanished after insert");
}

Status Reporting::CheckEvidenceRemovable(SubmissionStatus status) {
  if (status == SubmissionStatus::kDraft) return Status::Ok();
  return Status::Conflict(
      "นำหลักฐานออกได้เฉพาะขณะที่รายงานยังเป็นร่าง (รายงานที่เห็นชอบ ส่ง หรือตรวจแล้วต้องคงหลักฐานไว้)",
      "evidence can be removed only while the report is a draft (once approved, submitted or "
      "reviewed its files stay)");
}

Result<EvidenceInfo> Reporting::RemoveEvidence(const Actor& actor, int64_t evidence_id) {
  const Status not_found = Status::NotFound("ไม่มีหลักฐานนี้", "no such evidence file");
  auto owner = db_.Query("SELECT submission_id FROM evidence WHERE id = ?", {evidence_id});
  if (!owner) return owner.status();
  if (owner->empty()) return not_found;
  const int64_t submission_id = (*owner)[0].Int(0);
  auto current = Load(submission_id);
  if (!current) return current.status();
  if (!(actor.Is(Role::kReporter) && actor.OfAgency(current->agency))) {
    return Denied(actor, "นำหลักฐานของหน่วยงาน " + current->agency + " ออก",
                  "remove evidence of agency " + current->agency);
  }
  const int64_t now = clock_.NowMs();
  EvidenceInfo removed;
  Status done = db_.Transaction([&]() -> Status {
    Status locked = cycle_.LockRound(current->round_id, false);
    if (!locked.ok()) return locked;
    Status open = cycle_.CheckReportingOpen(current->round_id, current->agency);
    if (!open.ok()) return open;
    // Read under the submission's lock: an approval or a second removal may have come in since.
    auto state =
        db_.Query("SELECT status FROM submissions WHERE id = ?" + ForUpdate(db_), {submission_id});
    if (!state) return state.status();
    if (state->empty()) return not_found;
    auto status = ParseStatus((*state)[0].Text(0));
    if (!status) return status.status();
    Status removable = CheckEvidenceRemovable(*status);
    if (!removable.ok()) return removable;
    auto file = db_.Query(
        "SELECT e.name, e.media_type, e.size, e.sha256, e.uploaded_by, e.uploaded_at, "
        "e.replaced_by, x.evidence_id FROM evidence e LEFT JOIN evidence_removals x ON "
        "x.evidence_id = e.id WHERE e.id = ?",
        {evidence_id});
    if (!file) return file.status();
    if (file->empty() || !(*file)[0].IsNull(7)) return not_found;
    const storage::Row& f = (*file)[0];
    removed = {evidence_id, f.Text(0), f.Text(1), f.Int(2),
               f.Text(3),   f.Int(4),  f.Int(5),  std::nullopt};
    if (!f.IsNull(6)) removed.replaced_by = f.Int(6);
    Status s = db_.Execute(
        "INSERT INTO evidence_removals (evidence_id, submission_id, removed_by, removed_at) "
        "VALUES (?, ?, ?, ?)",
        {evidence_id, submission_id, UserRef(actor), now});
    if (!s.ok()) return s;
    const json before = {{"evidence", evidence_id},
                         {"name", removed.name},
                         {"sha256", removed.sha256},
                         {"size", removed.size}};
    return AuditLog(db_).Append(actor, now, "evidence.remove",
                                "submission/" + std::to_string(submission_id), before.dump(),
                                json{{"evidence", evidence_id}, {"removed", true}}.dump(),
                                {"evidence_removal/" + std::to_string(evidence_id)});
  });
  if (!done.ok()) return done;
  return removed;
}

Result<std::pair<EvidenceInfo, std::string>> Reporting::Evidence(const Actor& actor,
                                                                 int64_t evidence_id) {
  auto rows = db_.Query("SELECT submission_id FROM evidence WHERE id = ?", {evidence_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีหลักฐานนี้", "no such evidence file");
  auto view = Get(actor, (*rows)[0].Int(0));
  if (!view) return view.status();
  for (const EvidenceInfo& e : view->evidence) {
    if (e.id == evidence_id) return std::make_pair(e, view->agency);
  }
  return Status::NotFound("ไม่มีหลักฐานนี้", "no such evidence file");
}

Result<SubmissionView> Reporting::SubmissionOfEvidence(const Actor& actor, int64_t evidence_id) {
  auto rows = db_.Query(
      "SELECT submission_id FROM evidence WHERE id = ? AND id NOT IN (SELECT evidence_id FROM "
      "evidence_removals)",
      {evidence_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีหลักฐานนี้", "no such evidence file");
  return Get(actor, (*rows)[0].Int(0));
}

Result<SubmissionView> Reporting::Get(const Actor& actor, int64_t submission_id) {
  auto view = Load(submission_id);
  if (!view) return view.status();
  if (!(actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator) || actor.OfAgency(view->agency))) {
    return Denied(actor, "ดูรายงานของหน่วยงาน " + view->agency,
                  "see submissions of agency " + view->agency);
  }
  return view;
}

Result<std::vector<SubmissionView>> Reporting::List(const Actor& actor, int64_t round_id) {
  const bool all = actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator);
  if (!all && !(actor.Is(Role::kReporter) || actor.Is(Role::kApprover)))
    return Denied(actor, "ดูรายงาน", "list submissions");
  auto rows =
      all ? db_.Query("SELECT id FROM submissions WHERE round_id = ? ORDER BY agency_code, kpi",
                      {round_id})
          : db_.Query(
                "SELECT id FROM submissions WHERE round_id = ? AND agency_code = ? ORDER BY kpi",
                {round_id, actor.agency});
  if (!rows) return rows.status();
  std::vector<int64_t> ids;
  ids.reserve(rows->size());
  for (const storage::Row& r : *rows) ids.push_back(r.Int(0));
  return LoadMany(ids);
}

Result<std::vector<SubmissionView>> Reporting::GetMany(const Actor& actor,
                                                       const std::vector<int64_t>& ids) {
  auto views = LoadMany(ids);
  if (!views) return views.status();
  if (views->size() != ids.size()) return Status::NotFound("ไม่มีรายงานนี้", "no such submission");
  for (const SubmissionView& v : *views) {
    if (!(actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator) || actor.OfAgency(v.agency))) {
      return Denied(actor, "ดูรายงานของหน่วยงาน " + v.agency,
                    "see submissions of agency " + v.agency);
    }
  }
  return views;
}

Result<QueuePage> Reporting::Queue(const Actor& actor, const QueueFilter& filter) {
  const bool all = actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator);
  if (!all && !(actor.Is(Role::kReporter) || actor.Is(Role::kApprover)))
    return Denied(actor, "ดูรายงาน", "list submissions");
  std::string where = " WHERE 1 = 1";
  std::vector<storage::Value> params;
  if (!all) {
    where += " AND s.agency_code = ?";
    params.emplace_back(actor.agency);
  }
  if (filter.round_id) {
    where += " AND s.round_id = ?";
    params.emplace_back(filter.round_id);
  }
  if (!filter.status.empty()) {
    where += " AND s.status = ?";
    params.emplace_back(filter.status);
  }
  if (!filter.ministry.empty()) {
    where += " AND a.parent = ?";
    params.emplace_back(filter.ministry);
  }
  if (!filter.kind.empty()) {
    where += " AND a.kind = ?";
    params.emplace_back(filter.kind);
  }
  if (!filter.q.empty()) {
    where +=
        " AND (LOWER(a.code) LIKE ? ESCAPE '\\' OR LOWER(a.name_th) LIKE ? ESCAPE '\\' OR "
        "LOWER(a.name_en) LIKE ? ESCAPE '\\')";
    const std::string pattern = storage::ContainsPattern(filter.q);
    for (int i = 0; i < 3; ++i) params.emplace_back(pattern);
  }
  // An extension never shortens the round's deadline. Joined only where the filter or the order
  // reads every row's deadline; otherwise looked up for the page's rows alone: on PostgreSQL the
  // LEFT JOIN took planning from 0.8 to 2.3 ms of the queue's ~14 (issue 9).
  const bool joins_extensions = filter.overdue || filter.sort == QueueSort::kDeadline;
  const std::string deadline =
      joins_extensions
          ? "CASE WHEN e.deadline > rd.deadline THEN e.deadline ELSE rd.deadline END"
          : "COALESCE((SELECT e.deadline FROM extensions e WHERE e.round_id = s.round_id AND "
            "e.agency_code = s.agency_code AND e.deadline > rd.deadline), rd.deadline)";
  if (filter.overdue) {
    where += " AND s.status IN ('draft', 'approved', 'returned') AND " + deadline + " < ?";
    params.emplace_back(filter.now);
  }
  // Counted for the page's rows through the evidence_submission index; ordering by it counts for
  // every row the filter keeps, which the same index makes a lookup each.
  static constexpr const char* kEvidenceCount =
      "(SELECT COUNT(*) FROM evidence ev WHERE ev.submission_id = s.id AND NOT EXISTS (SELECT 1 "
      "FROM evidence_removals xr WHERE xr.evidence_id = ev.id))";
  const std::string from =
      " FROM submissions s JOIN agencies a ON a.code = s.agency_code "
      "LEFT JOIN agencies p ON p.code = a.parent "
      "JOIN rounds rd ON rd.id = s.round_id "
      "JOIN submission_revisions sr ON sr.submission_id = s.id AND sr.revision = s.revision" +
      std::string(joins_extensions ? " LEFT JOIN extensions e ON e.round_id = s.round_id AND "
                                     "e.agency_code = s.agency_code"
                                   : "");
  // The count joins only what its conditions read: every other join is one row to one (each
  // submission has its agency, round and current revision; at most one extension per agency and
  // round), so it changes no count, and planning the six-table join took PostgreSQL longer than
  // running it.
  const bool reads_agency = !filter.ministry.empty() || !filter.kind.empty() || !filter.q.empty();
  const std::string count_from =
      std::string(" FROM submissions s") +
      (reads_agency ? " JOIN agencies a ON a.code = s.agency_code" : "") +
      (filter.overdue ? " JOIN rounds rd ON rd.id = s.round_id LEFT JOIN extensions e ON "
                        "e.round_id = s.round_id AND e.agency_code = s.agency_code"
                      : "");
  auto counted = db_.Query("SELECT COUNT(*)" + count_from + where, params);
  if (!counted) return counted.status();
  QueuePage page;
  page.total = (*counted)[0].Int(0);
  // Nothing on the page: not looked for (finding that the filter keeps none of 200,000
  // submissions walked them all in the page's order, 300 ms on PostgreSQL).
  if (filter.offset >= page.total) return page;
  const std::string dir = filter.descending ? " DESC" : "";
  std::string order;
  switch (filter.sort) {
    case QueueSort::kUpdated:
      order = "s.updated_at" + dir + ", s.id" + dir;
      break;
    case QueueSort::kAgency:
      order = "s.agency_code" + dir + ", s.kpi, s.round_id";
      break;
    case QueueSort::kName:
      order = "a.sort_key" + dir + ", s.agency_code" + dir + ", s.kpi, s.round_id";
      break;
    case QueueSort::kStatus:
      order =
          "CASE s.status WHEN 'draft' THEN 0 WHEN 'approved' THEN 1 WHEN 'submitted' THEN 2 "
          "WHEN 'returned' THEN 3 ELSE 4 END" +
          dir + ", s.agency_code" + dir + ", s.kpi, s.round_id";
      break;
    case QueueSort::kDeadline:
      order = deadline + dir + ", s.agency_code" + dir + ", s.kpi, s.round_id";
      break;
    case QueueSort::kEvidence:
      order = std::string(kEvidenceCount) + dir + ", s.agency_code" + dir + ", s.kpi, s.round_id";
      break;
    case QueueSort::kKpi: {
      // The number before the first dot (its first 9 digits: no overflow), then shorter ids
      // first (4 before 4.1, 4.2 before 4.10), then the id byte by byte on both backends.
      const bool pg = db_.dialect() == storage::Dialect::kPostgres;
      const std::string number =
          pg ? "COALESCE(CAST(SUBSTRING(s.kpi FROM '^[0-9]{1,9}') AS BIGINT), 0)"
             : "CAST(SUBSTR(s.kpi, 1, 9) AS INTEGER)";
      order = number + dir + ", LENGTH(s.kpi)" + dir + ", s.kpi" + (pg ? " COLLATE \"C\"" : "") +
              dir + ", s.agency_code" + dir + ", s.round_id";
      break;
    }
    case QueueSort::kMinistry:
      // NULLs sort first on SQLite and last on PostgreSQL: said outright, the same on both.
      order = "CASE WHEN p.sort_key IS NULL THEN 1 ELSE 0 END" + dir + ", p.sort_key" + dir +
              ", a.sort_key" + dir + ", s.agency_code" + dir + ", s.kpi, s.round_id";
      break;
  }
  // The page's submissions are chosen first, joining only what the filter and the order read;
  // their revision, evidence count, deadline and names are then read for those alone. At every
  // local government's scale (200,000 submissions a round) joining and counting for every
  // submission before taking the page's 50 took the queue 50-300 ms on PostgreSQL. The rounds
  // are joined all the same: each gives PostgreSQL the round_id with which an agency's
  // submissions are found in (round_id, agency_code, kpi), so that a page in the agencies'
  // order, or of a search's few agencies, walks them agency by agency (without it, sorting by
  // name hashed and sorted all 40,000 submitted: 48 ms instead of 13).
  const bool page_reads_agency =
      reads_agency || filter.sort == QueueSort::kName || filter.sort == QueueSort::kMinistry;
  const std::string page_from =
      std::string(" FROM submissions s") +
      (page_reads_agency ? " JOIN agencies a ON a.code = s.agency_code" : "") +
      (filter.sort == QueueSort::kMinistry ? " LEFT JOIN agencies p ON p.code = a.parent" : "") +
      " JOIN rounds rd ON rd.id = s.round_id" +
      (joins_extensions ? " LEFT JOIN extensions e ON e.round_id = s.round_id AND "
                          "e.agency_code = s.agency_code"
                        : "");
  // The page's bounds are written into the statement, not sent as values: PostgreSQL keeps a
  // plan for a prepared statement only when it costs no more than planning it for the values,
  // and a plan for an unknown LIMIT and OFFSET always costs more (it was planned afresh on every
  // request, 1.4 ms of the queue's 5.8 ms of PostgreSQL's time). A page of each number is a
  // statement of its own, of which each connection keeps the most recently used. Every order
  // ends on what tells any two submissions apart, so the page's rows sort again as chosen.
  auto rows = db_.Query(
      "SELECT s.id, s.round_id, s.agency_code, a.name_th, a.name_en, a.kind, a.parent, s.kpi, "
      "s.status, s.revision, s.updated_at, " +
          deadline + ", sr.status, p.name_th, p.name_en, " + kEvidenceCount + from +
          " WHERE s.id IN (SELECT s.id" + page_from + where + " ORDER BY " + order + " LIMIT " +
          std::to_string(filter.limit) + " OFFSET " + std::to_string(filter.offset) +
          ") ORDER BY " + order,
      params);
  if (!rows) return rows.status();
  for (const storage::Row& r : *rows) {
    auto status = ParseStatus(r.Text(8));
    if (!status) return status.status();
    SubmissionSummary item{r.Int(0),
                           r.Int(1),
                           r.Text(2),
                           r.Text(3),
                           r.Text(4),
                           r.Text(5),
                           r.IsNull(6) ? "" : r.Text(6),
                           r.Text(13),
                           r.Text(14),
                           r.Text(7),
                           *status,
                           static_cast<int>(r.Int(9)),
                           r.Int(10),
                           r.Int(11),
                           r.Text(12) == "sent_back",
                           r.Int(15)};
    page.items.push_back(std::move(item));
  }
  return page;
}

Result<std::vector<domain::Observation>> Reporting::ValuesOfRound(
    int64_t round_id, const std::string& sql, const std::vector<storage::Value>& params) {
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  auto framework =
      db_.Query("SELECT fiscal_year FROM frameworks WHERE id = ?", {round->framework_id});
  if (!framework) return framework.status();
  const int fiscal_year = static_cast<int>((*framework)[0].Int(0));
  auto rows = db_.Query(sql, params);
  if (!rows) return rows.status();
  std::vector<domain::Observation> out;
  for (const storage::Row& r : *rows) {
    auto values = ValuesToObservations(r.Text(2), r.Text(0), r.Text(1), fiscal_year, round->round);
    if (!values) return values.status();
    out.insert(out.end(), values->begin(), values->end());
  }
  return out;
}

Result<CurrentValues> Reporting::CurrentValuesOf(int64_t round_id, const std::string& agency) {
  auto values = CurrentValuesOf(round_id, std::vector<std::string>{agency});
  if (!values) return values.status();
  return std::move(values->at(agency));
}

Result<std::map<std::string, CurrentValues>> Reporting::CurrentValuesOf(
    int64_t round_id, const std::vector<std::string>& agencies,
    const std::set<std::string>* only_kpis) {
  std::map<std::string, CurrentValues> out;
  for (const std::string& agency : agencies) out[agency];
  if (agencies.empty() || (only_kpis && only_kpis->empty())) return out;
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  auto framework =
      db_.Query("SELECT fiscal_year FROM frameworks WHERE id = ?", {round->framework_id});
  if (!framework) return framework.status();
  if (framework->empty()) return Status::Internal("a round without its framework");
  const int fiscal_year = static_cast<int>((*framework)[0].Int(0));
  auto imported = cycle_.ObservationsOf(agencies, only_kpis);
  if (!imported) return imported.status();
  // Per KPI: the newest accepted review's verified values once accepted, else the values of
  // the current revision. The revision is looked up for each submission, not joined: for a
  // page's thousand submissions among 200,000 revisions (every local government's round)
  // PostgreSQL's planner chose to hash every revision: 32 ms, against 7 ms for the whole
  // query with the lookups.
  std::vector<storage::Value> params = {round_id};
  params.insert(params.end(), agencies.begin(), agencies.end());
  std::string only;
  if (only_kpis) {
    only = " AND s.kpi IN (" + storage::Placeholders(only_kpis->size()) + ")";
    params.insert(params.end(), only_kpis->begin(), only_kpis->end());
  }
  auto rows = db_.Query(
      "SELECT s.kpi, s.status, (SELECT r.values_json FROM submission_revisions r WHERE "
      "r.submission_id = s.id AND r.revision = s.revision), "
      "(SELECT rv.verified_json FROM reviews rv WHERE rv.submission_id = s.id AND rv.decision = "
      "'accepted' ORDER BY rv.id DESC LIMIT 1), s.agency_code "
      "FROM submissions s WHERE s.round_id = ? AND s.agency_code IN (" +
          storage::Placeholders(agencies.size()) + ")" + only,
      params);
  if (!rows) return rows.status();
  for (const storage::Row& r : *rows) {
    if (r.IsNull(2)) continue;  // no current revision (never written so): nothing reported
    const std::string agency = r.Text(4);
    CurrentValues& current = out[agency];
    const bool verified = r.Text(1) == "accepted" && !r.IsNull(3);
    auto values = ValuesToObservations(verified ? r.Text(3) : r.Text(2), agency, r.Text(0),
                                       fiscal_year, round->round);
    if (!values) return values.status();
    if (values->empty()) continue;  // a draft without values yet: the imported data stands
    current.source[r.Text(0)] = verified ? "verified" : "reported";
    current.observations.insert(current.observations.end(),
                                std::make_move_iterator(values->begin()),
                                std::make_move_iterator(values->end()));
  }
  for (domain::Observation& o : *imported) {
    CurrentValues& current = out[o.agency];
    const bool this_round = o.fiscal_year == fiscal_year && o.round == round->round;
    if (this_round && current.source.count(o.kpi) && current.source[o.kpi] != "imported") continue;
    if (this_round) current.source.emplace(o.kpi, "imported");
    current.observations.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<domain::Observation>> Reporting::AcceptedValues(int64_t round_id,
                                                                   const std::string& agency) {
  // The verified values of the newest acceptance of each accepted submission.
  return ValuesOfRound(
      round_id,
      "SELECT s.agency_code, s.kpi, rv.verified_json FROM submissions s JOIN reviews rv ON "
      "rv.submission_id = s.id "
      "WHERE s.round_id = ? AND s.status = 'accepted' AND rv.decision = 'accepted' AND rv.id = "
      "(SELECT MAX(id) FROM reviews WHERE submission_id = s.id AND decision = 'accepted')" +
          std::string(agency.empty() ? "" : " AND s.agency_code = ?"),
      agency.empty() ? std::vector<storage::Value>{round_id}
                     : std::vector<storage::Value>{round_id, agency});
}

}  // namespace esar::service
