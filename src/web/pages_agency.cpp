// The pages of an agency's reporters and approvers: this round's KPIs, the report form of one
// KPI with its what-if line, evidence, approval and submission, results and appeals.

#include <algorithm>
#include <charconv>
#include <set>

#include "common/thai.h"
#include "domain/engine.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/reporting.h"
#include "service/results.h"
#include "service/spreadsheets.h"
#include "web/evidence_upload.h"
#include "web/kpi_view.h"
#include "web/page_support.h"
#include "web/pages.h"
#include "web/pages_cases.h"
#include "web/pages_catalogs.h"

namespace esar::web {

using nlohmann::json;
using service::Role;
using service::SubmissionStatus;

namespace {

int64_t IdParam(const PageCall& call, const char* name) {
  return ParseId(call.request.params.at(name));
}

const char* StatusClass(SubmissionStatus s) {
  switch (s) {
    case SubmissionStatus::kAccepted:
      return "ok";
    case SubmissionStatus::kReturned:
      return "warn";
    case SubmissionStatus::kSubmitted:
      return "info";
    default:
      return "muted";
  }
}

// "ประเมินเฉพาะรอบ 12 เดือน" / "counts only in the 12-month round".
std::string OtherRoundsText(const PageCall& call, const std::vector<int>& rounds) {
  std::string names;
  for (int r : rounds) {
    names += (names.empty() ? "" : call.T("duty.and")) + RoundName(r, call.lang);
  }
  return call.T("duty.only_in") + " " + names;
}

// "70 ไบต์" in Thai ("70 B" in English), then KB and MB in both.
std::string SizeText(int64_t bytes, Lang lang) {
  if (bytes < 1024) return std::to_string(bytes) + (lang == Lang::kThai ? " ไบต์" : " B");
  if (bytes < 1024 * 1024) return FormatDecimal(static_cast<double>(bytes) / 1024, 1) + " KB";
  return FormatDecimal(static_cast<double>(bytes) / (1024 * 1024), 1) + " MB";
}

}  // namespace

// The template upload form's model (templates/part_template_upload): its address and token.
static json TemplateUploadForm(const PageCall& call, int64_t round_id, const std::string& agency) {
  return {{"action", "/agency/rounds/" + std::to_string(round_id) + "/template"},
          {"csrf", call.csrf},
          {"id", round_id},
          {"template", "/api/v1/rounds/" + std::to_string(round_id) + "/agencies/" +
                           UrlEncode(agency) + "/template"}};
}

json EvidenceList(const PageCall& call, const service::SubmissionView& s) {
  json files = json::array();
  for (const auto& e : s.evidence) {
    files.push_back({{"id", e.id},
                     {"name", e.name},
                     {"size", SizeText(e.size, call.lang)},
                     {"type", e.media_type},
                     {"at", FormatDateTime(e.uploaded_at, call.lang)},
                     {"href", "/api/v1/evidence/" + std::to_string(e.id) + "/content"},
                     {"replaced", e.replaced_by.has_value()}});
  }
  return files;
}

json ReviewList(const PageCall& call, const service::SubmissionView& s) {
  json reviews = json::array();
  for (auto it = s.reviews.rbegin(); it != s.reviews.rend(); ++it) {
    json notes = json::array();
    for (const auto& [id, note] : it->evidence_notes) {
      std::string name = "#" + std::to_string(id);
      for (const auto& e : s.evidence) {
        if (e.id == id) name = e.name;
      }
      if (!note.empty()) notes.push_back({{"file", name}, {"note", note}});
    }
    reviews.push_back({{"decision", call.T("decision." + it->decision)},
                       {"returned", it->decision == "returned"},
                       {"comment", it->comment},
                       {"at", FormatDateTime(it->at, call.lang)},
                       {"notes", notes}});
  }
  return reviews;
}

// The line saying where a round stands for an agency: reporting open (until when), closed (why),
// or its results' stage.
static json RoundStateModel(const PageCall& call, const service::RoundStatus& status,
                            const Status& reporting_open) {
  json out = {
      {"state", call.T(std::string("round_state.") + service::RoundStateName(status.state))},
      {"open", reporting_open.ok()}};
  if (!reporting_open.ok()) out["why"] = call.Message(reporting_open);
  return out;
}

HttpResponse Pages::AgencyHome(PageCall& call) {
  auto agency = FindAgency(call.db, clock_, call.actor.agency);
  if (!agency) return ErrorPage(call, agency.status());
  service::Cycle cycle(call.db, clock_);
  auto rounds = cycle.Rounds();
  if (!rounds) return ErrorPage(call, rounds.status());
  json list = json::array();
  const int64_t now = clock_.NowMs();
  for (const auto& r : *rounds) {
    if (r.agency_kind != agency->kind) continue;
    auto framework = cycle.Framework(r.round.framework_id);
    if (!framework) return ErrorPage(call, framework.status());
    const auto duties = service::KpiDuties(framework->framework, r.round.round, agency->code);
    if (duties.empty()) continue;
    auto deadline = cycle.DeadlineFor(r.round.id, agency->code);
    if (!deadline) return ErrorPage(call, deadline.status());
    auto status = cycle.StatusOf(r.round.id);
    if (!status) return ErrorPage(call, status.status());
    service::QueueFilter filter;
    filter.round_id = r.round.id;
    filter.limit = 10000;
    auto submissions = service::Reporting(call.db, clock_).Queue(call.actor, filter);
    if (!submissions) return ErrorPage(call, submissions.status());
    json kpis = json::array();
    int sent = 0, due = 0;
    for (const service::KpiDuty& d : duties) {
      const domain::Kpi* kpi = domain::FindKpi(framework->framework.kpis, d.kpi);
      if (!kpi) continue;
      json row = {
          {"id", d.kpi},
          {"name", call.Pick(kpi->name)},
          {"weight", d.monitoring ? call.T("kpi.monitoring") : ShortestDecimal(d.weight)},
          {"href", "/agency/rounds/" + std::to_string(r.round.id) + "/kpis/" + UrlEncode(d.kpi)},
          {"status", call.T("status.new")},
          {"class", "muted"},
          {"reportable", d.Reportable()}};
      if (!d.Reportable()) {
        // Not reported and not counted: the framework's reason instead of a status.
        row["weight"] = "–";
        row["status"] = call.T(d.exempt ? "kpi_status.exempt" : "duty.other_round");
        row["reason"] = d.exempt ? call.Pick(d.exempt_reason) : OtherRoundsText(call, d.rounds);
        kpis.push_back(row);
        continue;
      }
      ++due;
      for (const auto& s : submissions->items) {
        if (s.kpi != d.kpi) continue;
        row["status"] = call.T(std::string("status.") + service::SubmissionStatusName(s.status));
        row["class"] = StatusClass(s.status);
        row["updated"] = FormatDateTime(s.updated_at, call.lang);
        row["returned"] = s.status == SubmissionStatus::kReturned;
        row["sent_back"] = s.sent_back;
        sent += s.status == SubmissionStatus::kSubmitted || s.status == SubmissionStatus::kAccepted;
      }
      kpis.push_back(row);
    }
    list.push_back(
        {{"id", r.round.id},
         {"title", call.Pick(framework->framework.title)},
         {"period",
          FiscalYearName(r.fiscal_year, call.lang) + " · " + RoundName(r.round.round, call.lang)},
         {"deadline", FormatDateTime(*deadline, call.lang)},
         {"days_left", DaysLeft(*deadline, now, call.lang)},
         {"overdue", *deadline < now},
         {"round_state",
          RoundStateModel(call, *status, cycle.CheckReportingOpen(r.round.id, agency->code))},
         {"sent", sent},
         {"count", due},
         {"kpis", kpis},
         // The round as a spreadsheet: the template to fill offline (uploaded back from this
         // page, or through the API, as drafts) and the agency's own submission status.
         {"template", "/api/v1/rounds/" + std::to_string(r.round.id) + "/agencies/" +
                          UrlEncode(agency->code) + "/template"},
         {"upload", call.actor.Is(Role::kReporter)
                        ? TemplateUploadForm(call, r.round.id, agency->code)
                        : json(nullptr)},
         {"status_xlsx",
          "/api/v1/rounds/" + std::to_string(r.round.id) + "/status/export?format=xlsx"},
         {"status_csv",
          "/api/v1/rounds/" + std::to_string(r.round.id) + "/status/export?format=csv"},
         {"submit_all", call.actor.Is(service::Role::kApprover)
                            ? json("/agency/rounds/" + std::to_string(r.round.id) + "/submit-all")
                            : json(false)}});
  }
  // The central office's newest announcements to this kind of agency (all of them on the
  // questions page).
  json model = {{"agency", call.Pick(agency->name)},
                {"rounds", list},
                {"announcements", AnnouncementsModel(call, 5)}};
  // An agency without an address shows none (an empty text still opens a section).
  if (!agency->email.value_or("").empty()) model["email"] = *agency->email;
  return RenderPage(call, "agency_home", model, call.T("agency.title"));
}

namespace {

struct KpiContext {
  service::RoundInfo round;
  service::StoredFramework framework;
  const domain::Kpi* kpi = nullptr;
  domain::Agency agency;
  std::optional<service::SubmissionView> submission;
  std::optional<service::KpiDuty> duty;  // none when the KPI is not assigned to the agency
  Status reporting_open;                 // Cycle::CheckReportingOpen for the agency
};

Result<KpiContext> LoadKpiContext(PageCall& call, const Clock& clock) {
  KpiContext c;
  service::Cycle cycle(call.db, clock);
  auto round = cycle.Round(IdParam(call, "round"));
  if (!round) return round.status();
  c.round = *round;
  auto framework = cycle.Framework(round->framework_id);
  if (!framework) return framework.status();
  c.framework = std::move(*framework);
  const std::string& kpi_id = call.request.params.at("kpi");
  c.kpi = domain::FindKpi(c.framework.framework.kpis, kpi_id);
  if (!c.kpi) {
    return Status::NotFound("ไม่มีตัวชี้วัด " + kpi_id + " ในกรอบนี้",
                            "no KPI " + kpi_id + " in this framework");
  }
  auto agency = FindAgency(call.db, clock, call.actor.agency);
  if (!agency) return agency.status();
  c.agency = *agency;
  for (service::KpiDuty& d :
       service::KpiDuties(c.framework.framework, c.round.round, c.agency.code)) {
    if (d.kpi == kpi_id) c.duty = std::move(d);
  }
  c.reporting_open = cycle.CheckReportingOpen(c.round.id, c.agency.code);
  service::Reporting reporting(call.db, clock);
  service::QueueFilter filter;
  filter.round_id = c.round.id;
  filter.limit = 10000;
  auto submissions = reporting.Queue(call.actor, filter);
  if (!submissions) return submissions.status();
  for (const auto& s : submissions->items) {
    if (s.kpi != kpi_id) continue;
    auto view = reporting.Get(call.actor, s.id);
    if (!view) return view.status();
    c.submission = std::move(*view);
  }
  return c;
}

}  // namespace

// The report form of one KPI; `typed` (the values as sent, when re-showing a refused form) and
// `error` override what is stored.
static HttpResponse KpiFormPage(PageCall& call, const Clock& clock, KpiContext& c,
                                const json* typed, const std::string& error, int status) {
  const domain::Framework& fw = c.framework.framework;
  const SubmissionStatus* state = c.submission ? &c.submission->status : nullptr;
  json values = json::object();
  if (c.submission) values = json::parse(c.submission->report.values_json);
  if (typed) values = *typed;
  const bool reporter = call.actor.Is(Role::kReporter);
  // Exempt KPIs and KPIs of another round are not reported; nothing is once reporting closed.
  const bool reportable = c.duty && c.duty->Reportable();
  const bool open = c.reporting_open.ok();
  const bool editable =
      reportable && open &&
      (!state || *state == SubmissionStatus::kDraft || *state == SubmissionStatus::kApproved ||
       *state == SubmissionStatus::kReturned);
  auto deadline = service::Cycle(call.db, clock).DeadlineFor(c.round.id, c.agency.code);
  const int64_t due = deadline ? *deadline : c.round.deadline;
  const std::string base =
      "/agency/rounds/" + std::to_string(c.round.id) + "/kpis/" + UrlEncode(c.kpi->id);
  // Once accepted, the verified values are what counts: the score shown is theirs.
  const bool accepted = state && *state == SubmissionStatus::kAccepted && !typed;
  json verified = json::object();
  if (accepted) {
    for (const auto& r : c.submission->reviews) {
      if (r.decision == "accepted") verified = json::parse(r.verified_json);
    }
  }
  // The criteria with the agency's own group and targets filled in, not formulas: from the
  // values the what-if line reads.
  std::map<std::string, double> known;
  json whatif = accepted ? WhatIfModel(call, fw, c.round, c.agency, c.kpi->id, verified,
                                       "whatif.basis_verified_this", &known)
                         : WhatIfModel(call, fw, c.round, c.agency, c.kpi->id, values,
                                       "whatif.basis_form", &known);
  const double weight = NumberOr(whatif, "weight", 0);
  // A case log's or a catalog's counts are shown read-only once one is uploaded (before, they
  // are typed).
  service::UploadedSources uploaded;
  if (auto found = service::DataFiles(call.db, clock)
                       .Uploaded(call.actor, c.round.id, c.agency.code, *c.kpi)) {
    uploaded = *found;
  }
  json model = {
      {"doc", KpiDocModel(call, fw, *c.kpi, EffectiveCriteria(fw, c.agency.code, *c.kpi), &known)},
      {"weight", ShortestDecimal(weight)},
      {"period",
       FiscalYearName(fw.fiscal_year, call.lang) + " · " + RoundName(c.round.round, call.lang)},
      {"deadline", FormatDateTime(due, call.lang)},
      {"days_left", DaysLeft(due, clock.NowMs(), call.lang)},
      {"overdue", due < clock.NowMs()},
      {"fields", VariableFields(call, *c.kpi, values, true, uploaded)},
      {"action", base},
      {"whatif_url", base + "/whatif"},
      {"can_edit", reporter && editable},
      {"readonly", !(reporter && editable)},
      {"status", call.T(state ? std::string("status.") + service::SubmissionStatusName(*state)
                              : std::string("status.new"))},
      {"reportable", reportable},
      {"htmx", editable},
      {"whatif", whatif},
      {"unit", call.Pick(c.kpi->unit)}};
  if (!error.empty()) model["error"] = error;
  if (!reportable) {
    model["status"] = call.T(c.duty && c.duty->exempt ? "kpi_status.exempt" : "duty.not_assigned");
    model["not_reportable"] =
        !c.duty ? call.T("duty.not_assigned")
        : c.duty->exempt
            ? call.T("duty.exempt_reason") + (call.Pick(c.duty->exempt_reason).empty()
                                                  ? std::string()
                                                  : " (" + call.Pick(c.duty->exempt_reason) + ")")
            : OtherRoundsText(call, c.duty->rounds);
    model["weight"] = "–";
    model.erase("whatif");
  } else if (!open) {
    model["closed"] = call.Message(c.reporting_open);
  }
  if (accepted) {
    // What the agency reported beside what the evaluator verified, item by item.
    const json reported = json::parse(c.submission->report.values_json);
    json items = json::array();
    bool changed = false;
    for (const domain::Variable& v : c.kpi->variables) {
      if (v.type == domain::VariableType::kDerived) continue;
      const json a = reported.contains(v.id) ? reported[v.id] : json();
      const json b = verified.contains(v.id) ? verified[v.id] : json();
      changed = changed || a != b;
      items.push_back({{"name", call.Pick(v.name).empty() ? v.id : call.Pick(v.name)},
                       {"unit", call.Pick(v.unit)},
                       {"reported", v.type == domain::VariableType::kDate
                                        ? (a.is_null() ? "–" : DateValueText(a, call.lang))
                                        : DisplayValue(a, fw.decimals.result)},
                       {"verified", v.type == domain::VariableType::kDate
                                        ? (b.is_null() ? "–" : DateValueText(b, call.lang))
                                        : DisplayValue(b, fw.decimals.result)},
                       {"differs", a != b}});
    }
    model["verified"] = {{"items", items}, {"changed", changed}};
  }
  if (c.submission) {
    const auto& s = *c.submission;
    model["explanation"] = s.report.explanation;
    model["problems"] = s.report.problems;
    model["remarks"] = s.report.remarks;
    model["submission"] = {{"id", s.id},
                           {"revision", s.revision},
                           {"updated", FormatDateTime(s.updated_at, call.lang)}};
    model["evidence"] = EvidenceList(call, s);
    // A file attached by mistake can be taken out while the report is a draft.
    if (open && reporter && service::Reporting::CheckEvidenceRemovable(s.status).ok()) {
      for (json& file : model["evidence"]) {
        file["remove_url"] =
            "/agency/evidence/" + std::to_string(file["id"].get<int64_t>()) + "/remove";
      }
    }
    model["reviews"] = ReviewList(call, s);
    const std::string id = std::to_string(s.id);
    model["can_approve"] =
        open && call.actor.Is(Role::kApprover) && s.status == SubmissionStatus::kDraft;
    model["can_send_back"] =
        open && call.actor.Is(Role::kApprover) &&
        (s.status == SubmissionStatus::kDraft || s.status == SubmissionStatus::kApproved);
    model["can_submit"] = open && s.status == SubmissionStatus::kApproved;
    model["can_upload"] =
        open && reporter &&
        (s.status == SubmissionStatus::kDraft || s.status == SubmissionStatus::kReturned);
    model["send_back_url"] = "/agency/submissions/" + id + "/send-back";
    json send_backs = json::array();
    for (auto it = s.send_backs.rbegin(); it != s.send_backs.rend(); ++it) {
      send_backs.push_back({{"comment", it->comment}, {"at", FormatDateTime(it->at, call.lang)}});
    }
    model["send_backs"] = send_backs;
    model["sent_back"] = s.sent_back;
    model["approve_url"] = "/agency/submissions/" + id + "/approve";
    model["submit_url"] = "/agency/submissions/" + id + "/submit";
    model["upload_url"] = "/agency/submissions/" + id + "/evidence?csrf=" + UrlEncode(call.csrf) +
                          "&back=" + UrlEncode(base);
    model["upload_api"] = "/api/v1/submissions/" + id + "/evidence";
  } else if (reporter && editable) {
    // Nothing saved yet: the file may still come first; its upload makes the draft.
    model["can_upload"] = true;
    model["upload_url"] =
        base + "/evidence?csrf=" + UrlEncode(call.csrf) + "&back=" + UrlEncode(base);
  }
  model["evidence_box"] = c.submission.has_value() || (reporter && editable);
  if (c.kpi->cases) {
    // Computed from case records: the upload replaces typing the counts.
    model["case_log"] = CaseLogSectionModel(call, clock, *c.kpi, c.round.id, c.agency.code,
                                            reporter && editable, base, fw.decimals.result);
  }
  if (c.kpi->catalog) {
    // Variables filled from a data catalog: the upload replaces typing its counts.
    model["catalog"] = CatalogSectionModel(call, clock, *c.kpi, c.round.id, c.agency.code,
                                           reporter && editable, base);
  }
  if (typed) {
    model["explanation"] = call.Field("explanation");
    model["problems"] = call.Field("problems");
    model["remarks"] = call.Field("remarks");
  }
  return RenderPage(call, "kpi_form", model, c.kpi->id + " " + call.Pick(c.kpi->name), status);
}

HttpResponse Pages::KpiForm(PageCall& call) {
  auto context = LoadKpiContext(call, clock_);
  if (!context) return ErrorPage(call, context.status());
  return KpiFormPage(call, clock_, *context, nullptr, "", 200);
}

HttpResponse Pages::SaveKpi(PageCall& call) {
  auto context = LoadKpiContext(call, clock_);
  if (!context) return ErrorPage(call, context.status());
  // The values as typed, to show them again if the form is refused.
  json typed = json::object();
  for (const auto& [name, value] : call.form) {
    if (name.rfind("v_", 0) == 0) typed[name.substr(2)] = value;
  }
  auto values = ValuesFromForm(call, *context->kpi);
  if (!values)
    return KpiFormPage(call, clock_, *context, &typed, call.Message(values.status()), 400);
  service::Report report;
  report.kpi = context->kpi->id;
  report.values_json = values->dump();
  report.explanation = call.Field("explanation");
  report.problems = call.Field("problems");
  report.remarks = call.Field("remarks");
  auto saved = service::Reporting(call.db, clock_)
                   .SaveDraft(call.actor, context->round.id, call.actor.agency, report);
  if (!saved) {
    return KpiFormPage(call, clock_, *context, &typed, call.Message(saved.status()),
                       HttpStatusOf(saved.status().code()));
  }
  // Built from the ids, each encoded, not from the decoded request path.
  return Redirect("/agency/rounds/" + std::to_string(context->round.id) + "/kpis/" +
                  UrlEncode(context->kpi->id) + "?done=saved");
}

HttpResponse Pages::WhatIfLine(PageCall& call) {
  auto context = LoadKpiContext(call, clock_);
  if (!context)
    return RenderFragment(call, "part_whatif",
                          {{"whatif", {{"text", call.Message(context.status())}}}});
  call.form = call.request.query;
  auto values = ValuesFromForm(call, *context->kpi);
  if (!values) {
    return RenderFragment(call, "part_whatif",
                          {{"whatif", {{"ok", false}, {"text", call.Message(values.status())}}}});
  }
  return RenderFragment(call, "part_whatif",
                        {{"unit", call.Pick(context->kpi->unit)},
                         {"whatif", WhatIfModel(call, context->framework.framework, context->round,
                                                context->agency, context->kpi->id, *values)}});
}

HttpResponse Pages::SubmitAll(PageCall& call) {
  const int64_t round_id = IdParam(call, "round");
  service::Reporting reporting(call.db, clock_);
  auto listed = reporting.List(call.actor, round_id);
  if (!listed) return ErrorPage(call, listed.status());
  service::Cycle cycle(call.db, clock_);
  auto round = cycle.Round(round_id);
  if (!round) return ErrorPage(call, round.status());
  auto framework = cycle.Framework(round->framework_id);
  if (!framework) return ErrorPage(call, framework.status());
  const domain::Framework& fw = framework->framework;
  // What goes: the agency's drafts (not those sent back to the reporter to rework) and approved
  // reports of the round, in KPI order as the framework lists them.
  auto goes = [](const service::SubmissionView& v) {
    return (v.status == service::SubmissionStatus::kDraft && !v.sent_back) ||
           v.status == service::SubmissionStatus::kApproved;
  };
  std::vector<const service::SubmissionView*> items;
  for (const auto& v : *listed) {
    if (v.agency == call.actor.agency && goes(v)) items.push_back(&v);
  }
  // With confirm=yes, the ids the confirmation listed (s_<id>): the same list must still stand.
  const bool confirm = call.Field("confirm") == "yes";
  std::set<int64_t> chosen;
  for (const auto& [name, value] : call.form) {
    if (name.rfind("s_", 0) != 0) continue;
    const int64_t id = ParseId(name.substr(2));
    if (id <= 0 || std::to_string(id) != name.substr(2))
      return ErrorPage(call,
                       Status::InvalidInput("รายการไม่ถูกต้อง: " + name, "not a report: " + name));
    chosen.insert(id);
  }
  json rows = json::array();
  for (const auto* v : items) {
    const domain::Kpi* kpi = domain::FindKpi(fw.kpis, v->report.kpi);
    std::string values = "–";
    if (kpi) {
      values.clear();
      const json reported = json::parse(v->report.values_json);
      for (const auto& f : VariableFields(call, *kpi, reported)) {
        const std::string vid = f["id"];
        if (!reported.contains(vid)) continue;
        const std::string unit =
            f.contains("unit") && f["unit"].is_string() ? f["unit"].get<std::string>() : "";
        // "ร้อยละ 90.00" in Thai order; counts whole ("180 เรื่อง").
        values += (values.empty() ? "" : "; ") + f["name"].get<std::string>() + " " +
                  ValueWithUnit(f.contains("date")
                                    ? DateValueText(reported[vid], call.lang)
                                    : DisplayValue(reported[vid],
                                                   f.contains("count") ? 0 : fw.decimals.result),
                                unit);
      }
      if (values.empty()) values = "–";
    }
    rows.push_back(
        {{"id", v->id},
         {"kpi", v->report.kpi},
         {"kpi_name", kpi ? call.Pick(kpi->name) : ""},
         {"values", values},
         {"evidence", v->evidence.size()},
         {"status", call.T(std::string("status.") + service::SubmissionStatusName(v->status))}});
  }
  auto render = [&](const std::string& error, int status) {
    json model = {{"items", rows},
                  {"count", rows.size()},
                  {"action", "/agency/rounds/" + std::to_string(round_id) + "/submit-all"},
                  {"period", FiscalYearName(fw.fiscal_year, call.lang) + " · " +
                                 RoundName(round->round, call.lang)}};
    if (!error.empty()) model["error"] = error;
    return RenderPage(call, "agency_submit_all", model, call.T("submit_all.title"), status);
  };
  if (!confirm) return render("", items.empty() ? 409 : 200);
  std::set<int64_t> standing;
  for (const auto* v : items) standing.insert(v->id);
  if (chosen.empty() || chosen != standing) {
    // Sent twice, or the list changed since it was shown: nothing is sent, the list shown again.
    return render(
        call.Message(Status::Conflict(
            "รายการที่จะส่งเปลี่ยนไปจากที่แสดงไว้ (อาจส่งไปแล้ว) จึงยังไม่ได้ส่งรายการใด โปรดตรวจรายการอีกครั้ง",
            "What would be sent has changed since it was shown (perhaps already sent): "
            "nothing was sent. Check the list again.")),
        409);
  }
  for (const auto* v : items) {
    if (v->status == service::SubmissionStatus::kDraft) {
      auto approved = reporting.Approve(call.actor, v->id);
      if (!approved) return ErrorPage(call, approved.status());
    }
    auto submitted = reporting.Submit(call.actor, v->id);
    if (!submitted) return ErrorPage(call, submitted.status());
    metrics_.CountSubmission();
  }
  return Redirect("/agency?done=submitted_all");
}

HttpResponse Pages::RemoveEvidence(PageCall& call) {
  const int64_t id = IdParam(call, "id");
  service::Reporting reporting(call.db, clock_);
  auto holder = reporting.SubmissionOfEvidence(call.actor, id);
  if (!holder) return ErrorPage(call, holder.status());
  const service::SubmissionView& s = *holder;
  const auto file = std::find_if(s.evidence.begin(), s.evidence.end(),
                                 [&](const service::EvidenceInfo& e) { return e.id == id; });
  if (file == s.evidence.end())
    return ErrorPage(call, Status::NotFound("ไม่มีหลักฐานนี้", "no such evidence file"));
  const std::string back =
      "/agency/rounds/" + std::to_string(s.round_id) + "/kpis/" + UrlEncode(s.report.kpi);
  if (call.Field("confirm") == "yes") {
    auto removed = reporting.RemoveEvidence(call.actor, id);
    if (!removed) return ErrorPage(call, removed.status());
    return Redirect(back + "?done=evidence_removed");
  }
  // Asked first, on a page naming the file: a removal is not undone from the form.
  if (!call.actor.Is(Role::kReporter) || !call.actor.OfAgency(s.agency)) {
    return ErrorPage(call, service::Denied(call.actor, "นำหลักฐานของหน่วยงาน " + s.agency + " ออก",
                                           "remove evidence of agency " + s.agency));
  }
  Status removable = service::Reporting::CheckEvidenceRemovable(s.status);
  if (!removable.ok()) return ErrorPage(call, removable);
  service::Cycle cycle(call.db, clock_);
  auto round = cycle.Round(s.round_id);
  if (!round) return ErrorPage(call, round.status());
  auto framework = cycle.Framework(round->framework_id);
  if (!framework) return ErrorPage(call, framework.status());
  const domain::Kpi* kpi = domain::FindKpi(framework->framework.kpis, s.report.kpi);
  json model = {{"action", "/agency/evidence/" + std::to_string(id) + "/remove"},
                {"back", back},
                {"kpi", s.report.kpi},
                {"kpi_name", kpi ? call.Pick(kpi->name) : ""},
                {"period", FiscalYearName(framework->framework.fiscal_year, call.lang) + " · " +
                               RoundName(round->round, call.lang)},
                {"name", file->name},
                {"size", SizeText(file->size, call.lang)},
                {"at", FormatDateTime(file->uploaded_at, call.lang)}};
  return RenderPage(call, "agency_evidence_remove", model, call.T("evidence.remove_title"));
}

HttpResponse Pages::ApproveOrSubmit(PageCall& call) {
  const int64_t id = IdParam(call, "id");
  auto ends_with = [&](std::string_view tail) {
    const std::string& path = call.request.path;
    return path.size() >= tail.size() &&
           path.compare(path.size() - tail.size(), tail.size(), tail) == 0;
  };
  const std::string action = ends_with("/approve")     ? "approved"
                             : ends_with("/send-back") ? "sent_back"
                                                       : "submitted";
  service::Reporting reporting(call.db, clock_);
  auto done = action == "approved"    ? reporting.Approve(call.actor, id)
              : action == "sent_back" ? reporting.SendBack(call.actor, id, call.Field("comment"))
                                      : reporting.Submit(call.actor, id);
  if (!done) return ErrorPage(call, done.status());
  if (action == "submitted") metrics_.CountSubmission();
  return Redirect("/agency/rounds/" + std::to_string(done->round_id) + "/kpis/" +
                  UrlEncode(done->report.kpi) + "?done=" + action);
}

namespace {

// The page form of an upload: the API's streamed upload, with the API's answer turned into the
// page's (a redirect, or a page) once the body has been read.
class FormUploadSink final : public UploadSink {
 public:
  FormUploadSink(std::unique_ptr<UploadSink> inner,
                 std::function<HttpResponse(int, const std::string&)> done)
      : inner_(std::move(inner)), done_(std::move(done)) {}
  Status Write(std::string_view bytes) override { return inner_->Write(bytes); }
  HttpResponse Finish(const Status& transfer) override {
    HttpResponse r = inner_->Finish(transfer);
    return done_(r.status, r.body);
  }

 private:
  std::unique_ptr<UploadSink> inner_;
  std::function<HttpResponse(int, const std::string&)> done_;
};

}  // namespace

UploadStarter Pages::EvidenceForm() {
  FormUploadSpec spec;
  spec.fallback = "/agency";
  spec.done = "uploaded";
  return FormUpload(MakeEvidenceUpload(pool_, files_, clock_, metrics_, options_.uploads),
                    std::move(spec));
}

UploadStarter Pages::KpiEvidenceForm() {
  FormUploadSpec spec;
  spec.fallback = "/agency";
  spec.done = "uploaded";
  return FormUpload(MakeKpiEvidenceUpload(pool_, files_, clock_, metrics_, options_.uploads),
                    std::move(spec));
}

UploadStarter Pages::FormUpload(UploadStarter api, FormUploadSpec spec) {
  return [this, api,
          spec](HttpRequest& request) -> std::variant<HttpResponse, std::unique_ptr<UploadSink>> {
    // A form cannot send a header: the CSRF token comes in the query string.
    const auto csrf = request.query.find("csrf");
    const std::string token = csrf == request.query.end() ? "" : csrf->second;
    request.headers["x-csrf-token"] = token;
    const auto back_param = request.query.find("back");
    const std::string back =
        SafeNext(back_param == request.query.end() ? spec.fallback : back_param->second);
    const Lang lang = request.Cookie(kLangCookie) == "en" ? Lang::kEnglish : Lang::kThai;
    // Who asks, for the answer's page (its menu) and for an upload to the user's own agency.
    service::Actor actor = service::Actor::Public();
    {
      auto lease = pool_.Acquire();
      if (!lease) return Redirect(back);
      auto who = Authenticate(request, **lease, clock_);
      if (who) actor = *who;
    }
    if (spec.own_agency) request.params["agency"] = actor.agency;
    auto answer = [this, spec, back, lang, token, actor, &request](
                      int status, const std::string& body) -> HttpResponse {
      if (status == 201) return Redirect(back + "?done=" + spec.done + spec.anchor);
      if (status == 200 && !spec.unchanged.empty())
        return Redirect(back + "?done=" + spec.unchanged + spec.anchor);
      Status error = Status::InvalidInput("อัปโหลดไม่สำเร็จ", "the upload failed");
      json details;
      try {
        const json parsed = json::parse(body);
        const json& e = parsed.at("error");
        const std::string th = e.value("message_th", ""), en = e.value("message_en", "");
        details = e.value("details", json());
        error = status == 401   ? Status::Unauthenticated(th, en)
                : status == 403 ? Status::PermissionDenied(th, en)
                : status == 404 ? Status::NotFound(th, en)
                : status == 409 ? Status::Conflict(th, en)
                                : Status::InvalidInput(th, en);
      } catch (const json::exception&) {
      }
      auto lease = pool_.Acquire();
      if (!lease) return Redirect(back);
      PageCall call{request, **lease, clock_, views_, actor, token, lang, {}};
      if (spec.refused) {
        if (auto page = spec.refused(call, status, details, error, back)) return *page;
      }
      HttpResponse page = ErrorPage(call, error);
      page.status = status >= 400 ? status : 400;
      return page;
    };
    auto started = api(request);
    if (auto* refused = std::get_if<HttpResponse>(&started))
      return answer(refused->status, refused->body);
    return std::unique_ptr<UploadSink>(std::make_unique<FormUploadSink>(
        std::move(std::get<std::unique_ptr<UploadSink>>(started)),
        [answer](int status, const std::string& body) { return answer(status, body); }));
  };
}

HttpResponse Pages::UploadTemplate(PageCall& call) {
  const int64_t round_id = IdParam(call, "round");
  service::Cycle cycle(call.db, clock_);
  auto round = cycle.Round(round_id);
  if (!round) return ErrorPage(call, round.status());
  auto stored = cycle.Framework(round->framework_id);
  if (!stored) return ErrorPage(call, stored.status());
  const std::string bytes = call.Field("file");
  json model = {{"period", FiscalYearName(stored->fiscal_year, call.lang) + " · " +
                               RoundName(round->round, call.lang)},
                {"upload", TemplateUploadForm(call, round_id, call.actor.agency)}};
  if (bytes.empty() && call.actor.Is(Role::kReporter)) {
    return ErrorPage(call, Status::InvalidInput("เลือกไฟล์แบบฟอร์ม Excel (XLSX) ที่กรอกแล้วก่อนกดนำเข้า",
                                                "choose the filled Excel template (XLSX) first"));
  }
  auto upload = service::Spreadsheets(call.db, clock_)
                    .UploadTemplate(call.actor, round_id, call.actor.agency, bytes);
  if (!upload) return ErrorPage(call, upload.status());
  const bool thai = call.lang == Lang::kThai;
  if (!upload->errors.empty()) {
    json cells = json::array();
    for (const service::CellError& e : upload->errors) {
      // Both languages: the page's first, the other beside it (the cell may be passed on).
      cells.push_back({{"sheet", e.sheet},
                       {"row", e.row},
                       {"column", e.column},
                       {"cell", e.column + std::to_string(e.row)},
                       {"message", thai ? e.message_th : e.message_en},
                       {"other", thai ? e.message_en : e.message_th},
                       {"other_lang", thai ? "en" : "th"}});
    }
    const std::string n = std::to_string(upload->errors.size());
    model["refused"] = true;
    model["message"] =
        thai ? "มี " + n + " เซลล์ที่ไม่ถูกต้อง ไม่ได้บันทึกค่าใดเลย แก้ไขแล้วนำเข้าอีกครั้ง"
             : n + " cells are wrong; nothing was saved. Correct them and upload again.";
    model["cells"] = cells;
    return RenderPage(call, "template_upload", model, call.T("template.refused"), 400);
  }
  json drafts = json::array();
  for (const service::SubmissionView& d : upload->drafts) {
    const domain::Kpi* kpi = domain::FindKpi(stored->framework.kpis, d.report.kpi);
    drafts.push_back(
        {{"kpi", d.report.kpi},
         {"name", kpi ? call.Pick(kpi->name) : d.report.kpi},
         {"status", call.T(std::string("status.") + service::SubmissionStatusName(d.status))},
         {"revision", d.revision},
         {"href",
          "/agency/rounds/" + std::to_string(round_id) + "/kpis/" + UrlEncode(d.report.kpi)}});
  }
  const std::string n = std::to_string(upload->drafts.size());
  model["saved"] = true;
  model["message"] = thai ? "บันทึกร่างจากแบบฟอร์มแล้ว " + n +
                                " ตัวชี้วัด (ยังไม่ได้ส่ง: ผู้อนุมัติของหน่วยงานตรวจทานและส่งจากหน้าตัวชี้วัด)"
                          : n + " drafts saved from the template (not sent: the agency's approver "
                                "checks and submits them from each KPI's page).";
  model["drafts"] = drafts;
  return RenderPage(call, "template_upload", model, call.T("template.saved"));
}

HttpResponse Pages::AgencyResults(PageCall& call) {
  service::Cycle cycle(call.db, clock_);
  service::Results results(call.db, clock_);
  auto with_results = results.RoundsWithResults(call.actor, service::ResultStage::kPreliminary);
  if (!with_results) return ErrorPage(call, with_results.status());
  json list = json::array();
  const int64_t now = clock_.NowMs();
  for (int64_t round_id : *with_results) {
    auto round = cycle.Round(round_id);
    if (!round) continue;
    auto framework = FrozenFramework(call.db, round->framework_id);
    if (!framework) continue;
    const domain::Framework& fw = (*framework)->framework;
    auto part = results.LatestAgencyPart(call.actor, round_id, service::ResultStage::kPreliminary,
                                         call.actor.agency, call.lang, *framework);
    if (!part) continue;
    const service::StoredResult& result = part->result;
    const json& a = part->agency;
    json kpis = json::array();
    for (const json& k : a["kpis"]) {
      const domain::Kpi* kpi = domain::FindKpi(fw.kpis, k["id"].get<std::string>());
      kpis.push_back({{"id", k["id"]},
                      {"name", kpi ? call.Pick(kpi->name) : k["id"].get<std::string>()},
                      {"result", TextOr(k, "result_text", "–")},
                      {"score", TextOr(k, "score_text", "–")},
                      {"status", call.T("kpi_status." + TextOr(k, "status", ""))},
                      {"explanation", k.value("explanation", json::array())}});
    }
    json appeals = json::array();
    if (auto filed = results.AppealsOfRound(call.actor, round_id)) {
      for (const auto& ap : *filed) {
        appeals.push_back(
            {{"kpi", ap.kpi},
             {"reason", ap.reason},
             {"status", call.T("appeal." + ap.status)},
             // false, not "": an open appeal shows no empty "()" after its status.
             {"decision", ap.decision_reason.empty() ? json(false) : json(ap.decision_reason)}});
      }
    }
    auto status = cycle.StatusOf(round_id);
    const bool open = status && status->result_id == result.id &&
                      result.stage == service::ResultStage::kPreliminary &&
                      result.appeal_deadline > now;
    const json grade = a.value("grade", json(nullptr));
    list.push_back(
        {{"period",
          FiscalYearName(fw.fiscal_year, call.lang) + " · " + RoundName(round->round, call.lang)},
         {"stage", call.T(std::string("stage.") + service::ResultStageName(result.stage))},
         {"total", TextOr(a, "total_text", "")},
         {"grade", grade.is_string() ? grade : json(nullptr)},
         {"kpis", kpis},
         {"appeals", appeals},
         {"can_appeal", open},
         {"appeal_deadline",
          result.appeal_deadline ? FormatDateTime(result.appeal_deadline, call.lang) : ""},
         {"appeal_url", "/agency/results/" + std::to_string(result.id) + "/appeals"},
         {"public_url",
          result.stage == service::ResultStage::kPublished
              ? "/results/" + std::to_string(round_id) + "/agencies/" + UrlEncode(call.actor.agency)
              : ""}});
  }
  return RenderPage(call, "agency_results", {{"results", list}}, call.T("agency_results.title"));
}

HttpResponse Pages::FileAppeal(PageCall& call) {
  auto filed =
      service::Results(call.db, clock_)
          .FileAppeal(call.actor, IdParam(call, "result"), call.Field("kpi"), call.Field("reason"));
  if (!filed) return ErrorPage(call, filed.status());
  return Redirect("/agency/results?done=appealed");
}

}  // namespace esar::web
