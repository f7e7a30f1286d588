// An agency's KPIs and weights as a form (issue 12 §2): every top-level KPI of the framework of
// the agency's kind, ticked when assigned, with its weight, grouped by component with each
// component's sum and the total checked by `esar check`'s own rule; saved as assignment rules
// in the framework (service::Authoring::SaveAssignmentForm).

#include <algorithm>
#include <map>
#include <optional>

#include "common/thai.h"
#include "domain/check.h"
#include "formats/framework_form.h"
#include "service/authoring.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "web/form_fields.h"
#include "web/page_support.h"
#include "web/pages.h"

namespace esar::web {

using nlohmann::json;

namespace {

// The framework the form edits: the one the form names ("framework"), else the newest version
// of the newest fiscal year for agencies of `kind`; kNotFound when there is none.
Result<service::StoredFramework> FrameworkFor(PageCall& call, const Clock& clock,
                                              const std::string& kind) {
  service::Cycle cycle(call.db, clock);
  const std::string named =
      call.Field("framework").empty() ? call.Query("framework") : call.Field("framework");
  if (!named.empty()) return cycle.Framework(ParseId(named));
  auto list = cycle.Frameworks();
  if (!list) return list.status();
  for (const service::FrameworkSummary& f : *list) {
    if (f.agency_kind == kind) return cycle.Framework(f.id);
  }
  return Status::NotFound("ยังไม่มีกรอบการประเมินสำหรับหน่วยงานประเภทนี้ นำเข้าหรือสร้างกรอบการประเมินก่อน",
                          "there is no framework for this kind of agency yet: import or start one "
                          "first");
}

std::string Sum(double value) { return ShortestDecimal(value); }

// Whom the form assigns: one agency, or every agency of a kind (of one ministry) at once.
struct Scope {
  std::vector<domain::Agency> agencies;  // in Thai order of the names
  std::string kind;                      // their kind: the framework's
  std::string title;
  std::string back;             // the page the form was reached from
  std::string action;           // where the form posts
  json hidden = json::array();  // what else the form carries ({name, value})
  bool group = false;           // several at once: saved after a confirmation
};

std::vector<std::string> Codes(const Scope& scope) {
  std::vector<std::string> out;
  for (const domain::Agency& a : scope.agencies) out.push_back(a.code);
  return out;
}

// "1 (20), 2 (30)" for what `fields` assign in `document`, or the words for nothing.
std::string AssignedWords(const PageCall& call, const json& document,
                          const formats::FormFields& fields) {
  auto weights = formats::AssignmentFormWeights(document, fields);
  if (!weights || weights->empty()) return call.T("assign.nothing");
  std::string out;
  for (const auto& [kpi, weight] : *weights) {
    out += (out.empty() ? "" : ", ") + kpi + " (" + Sum(weight) + ")";
  }
  return out;
}

// The KPIs-and-weights form for `scope` with `error` beside its field (or at the top), the
// sums and `esar check`'s rule over what it shows; `confirm` (a group's, checked clean) shows
// instead the list of agencies it will change, each with its KPIs now and after.
HttpResponse AssignmentPage(PageCall& call, const Clock& clock, const Scope& scope,
                            const Status& error, bool confirm) {
  auto stored = FrameworkFor(call, clock, scope.kind);
  if (!stored) return ErrorPage(call, stored.status());
  const json document = json::parse(stored->document);
  const bool posted = call.request.method == "POST";
  const std::string first = scope.agencies.empty() ? "" : scope.agencies.front().code;
  formats::FormFields fields = posted ? formats::FormFields(call.form.begin(), call.form.end())
                                      : formats::AssignmentFormFields(document, first);
  fields.erase("csrf");
  // One agency's form also shows its exemptions and own targets (step 3 of issue 12 §2); which
  // KPIs have own-target fields, and how many, is the stored framework's.
  const formats::FormFields own =
      scope.group ? formats::FormFields() : formats::AgencyOwnFormFields(document, first);
  if (!posted) fields.insert(own.begin(), own.end());

  ErrorBook errors;
  const json general = PlaceError(errors, error, call.Message(error));
  // The sums and `esar check`'s rule over what the form shows (stored, or as sent).
  domain::AgencyWeights sums;
  auto weights = formats::AssignmentFormWeights(document, fields);
  if (!weights) {
    if (error.ok()) errors.Add(weights.status().where().json_path, call.Message(weights.status()));
  } else {
    sums = domain::CheckAgencyWeights(stored->framework, first, *weights);
    if (weights->empty()) sums.problems.clear();  // nothing assigned: not evaluated, no fault
    for (const domain::WeightProblem& p : sums.problems) {
      const std::string key = !p.kpi.empty()         ? "weight." + p.kpi
                              : !p.component.empty() ? "component." + p.component
                                                     : "total";
      if (!error.ok() && error.where().json_path == key) continue;  // said once
      errors.Add(key, call.lang == Lang::kThai ? p.finding.message_th : p.finding.message_en);
    }
  }
  // What else saving would refuse in the form (an exemption without its reason, a KPI a rule
  // for every agency assigns left out), said on "check" and before a confirmation too.
  bool applies = true;
  if (posted && weights.ok() && error.ok()) {
    auto applied = formats::ApplyAssignmentForm(document, Codes(scope), fields);
    if (!applied) {
      applies = false;
      errors.Add(applied.status().where().json_path, call.Message(applied.status()));
    }
  }
  const bool clean = weights.ok() && sums.problems.empty() && error.ok() && applies;
  const std::string framework_words = FiscalYearName(stored->fiscal_year, call.lang) + " · " +
                                      call.T("frameworks.version") + " " +
                                      std::to_string(stored->version);
  json base = {
      {"title", scope.title},
      {"back", scope.back},
      {"action", scope.action},
      {"framework_id", stored->id},
      {"framework_href", "/admin/frameworks/" + std::to_string(stored->id)},
      {"framework", framework_words},
      {"frozen", stored->frozen},
      {"token", posted ? call.Field("token") : service::Authoring::Token(stored->document)}};

  if (confirm && clean) {
    // Every agency it will change, with what it has now and what it will have.
    const std::string after = AssignedWords(call, document, fields);
    json agencies = json::array();
    for (const domain::Agency& a : scope.agencies) {
      agencies.push_back(
          {{"name", call.Pick(a.name) + " (" + a.code + ")"},
           {"now", AssignedWords(call, document, formats::AssignmentFormFields(document, a.code))},
           {"after", after}});
    }
    json hidden = scope.hidden;
    for (const auto& [name, value] : fields) {
      if (name == "intent" || name == "token" || name == "framework" || name == "agencies")
        continue;
      bool scoped = false;
      for (const json& h : scope.hidden) scoped |= h["name"] == name;
      if (!scoped) hidden.push_back({{"name", name}, {"value", value}});
    }
    std::string codes;
    for (const std::string& c : Codes(scope)) codes += (codes.empty() ? "" : ",") + c;
    hidden.push_back({{"name", "agencies"}, {"value", codes}});
    base["agencies"] = agencies;
    base["hidden"] = hidden;
    base["count"] = std::to_string(scope.agencies.size());
    return RenderPage(call, "admin_assign_confirm", base,
                      call.T("assign.confirm_title") + ": " + scope.title);
  }

  // One group per component, in the framework's order; KPIs of no known component last.
  struct Group {
    std::string id;
    std::string title;
    std::optional<double> share;
    json kpis = json::array();
  };
  std::vector<Group> groups;
  for (const domain::Component& c : stored->framework.components) {
    groups.push_back({c.id, call.Pick(c.name).empty() ? c.id : call.Pick(c.name), c.share});
  }
  Group loose{"", call.T(groups.empty() ? "assign.all_kpis" : "assign.no_component"), {}};
  for (const domain::Kpi& k : stored->framework.kpis) {
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const Group& x) { return x.id == k.component; });
    if (g == groups.end() && !k.component.empty()) {
      // A component the framework names on its KPIs without listing it (no share to check).
      groups.push_back({k.component, UnlistedComponentName(call, k.component), {}});
      g = groups.end() - 1;
    }
    Group& into = g == groups.end() ? loose : *g;
    const std::string name = call.T("assign.kpi") + " " + k.id + " " + call.Pick(k.name);
    json row = {
        {"id", "k-" + HtmlId(k.id)},
        {"assigned", Field(fields, errors, "assigned." + k.id, name, "checkbox")},
        {"weight", Field(fields, errors, "weight." + k.id, call.T("assign.weight_of") + " " + k.id,
                         "text", k.monitoring_only ? call.T("assign.monitoring_hint") : "")}};
    if (!scope.group) {
      const std::string at = "exempt." + k.id;
      json more =
          json::array({Field(fields, errors, at, call.T("assign.exempt") + " " + k.id, "checkbox"),
                       Field(fields, errors, at + ".th", call.T("assign.exempt_th"), "text",
                             call.T("assign.exempt_hint")),
                       Field(fields, errors, at + ".en", call.T("assign.exempt_en"), "text")});
      // The own targets, as the criteria form's levels inputs, one per level the KPI has.
      const std::string prefix = "own." + k.id + ".targets.";
      const auto& levels = stored->framework.levels;
      for (int i = 0; own.count(prefix + std::to_string(i) + ".value") > 0; ++i) {
        const std::string level = static_cast<size_t>(i) < levels.size()
                                      ? call.Pick(levels[static_cast<size_t>(i)].name)
                                      : call.T("form.level_row") + " " + std::to_string(i + 1);
        more.push_back(Field(fields, errors, prefix + std::to_string(i) + ".value",
                             call.T("assign.own_target") + " " + level, "text",
                             i == 0 ? call.T("assign.own_target_hint") : ""));
        more.push_back(Field(fields, errors, prefix + std::to_string(i) + ".strict",
                             call.T("form.target_strict") + " (" + level + ")", "checkbox"));
      }
      // Open when the KPI is exempt or something in it is wrong, so that nothing is hidden.
      bool open = fields.count(at) > 0 && !fields.at(at).empty();
      for (const json& f : more) open = open || f.value("has_error", false);
      row["more"] = more;
      row["more_open"] = open;
      row["more_label"] = call.T("assign.more") + " " + k.id;
    }
    into.kpis.push_back(std::move(row));
  }
  if (!loose.kpis.empty()) groups.push_back(std::move(loose));
  json components = json::array();
  for (Group& g : groups) {
    const std::string anchor = g.id.empty() ? "c-none" : "c-" + HtmlId(g.id);
    json c = {{"id", anchor}, {"title", g.title}, {"kpis", g.kpis}};
    if (!g.id.empty()) {
      const double got = sums.by_component.count(g.id) ? sums.by_component.at(g.id) : 0;
      c["sum"] = call.T("assign.sum") + " " + Sum(got) +
                 (g.share ? " " + call.T("assign.of") + " " + Sum(*g.share) : "");
      if (g.share) c["share"] = call.T("assign.share") + " " + Sum(*g.share);
      c["errors"] = errors.Take("component." + g.id, anchor + "-sum");
    }
    components.push_back(std::move(c));
  }
  json model = base;
  model["components"] = components;
  model["total"] =
      call.T("assign.total") + " " + Sum(sums.total) + " " + call.T("assign.of") + " 100";
  model["total_errors"] = errors.Take("total", "total");
  model["general"] = general;
  model["hidden"] = scope.hidden;
  model["group"] = scope.group;
  model["checked"] = posted && clean && errors.empty();
  if (scope.group) {
    json names = json::array();
    for (const domain::Agency& a : scope.agencies) {
      names.push_back(call.Pick(a.name) + " (" + a.code + ")");
    }
    model["members"] = names;
    model["member_count"] = std::to_string(names.size());
    // The form starts from the first agency's KPIs; say so when the others' differ.
    if (!posted) {
      for (const domain::Agency& a : scope.agencies) {
        if (formats::AssignmentFormFields(document, a.code) != fields) {
          model["differ"] = call.T("assign.differ") + " " + call.Pick(scope.agencies.front().name);
          break;
        }
      }
    }
  }
  const json summary = errors.Summary();
  if (!summary.empty()) model["summary"] = summary;
  int status = 200;
  if (!error.ok()) {
    status = HttpStatusOf(error.code());
  } else if (posted && !summary.empty()) {
    status = 400;
  }
  return RenderPage(call, "admin_agency_kpis", model, scope.title, status);
}

// The scope of /admin/agencies/{code}/kpis; kNotFound for an unknown agency.
Result<Scope> AgencyScope(PageCall& call, const Clock& clock) {
  auto agency = service::Directory(call.db, clock).FindAgency(call.request.params.at("code"));
  if (!agency) return agency.status();
  Scope scope;
  const std::string base = "/admin/agencies/" + UrlEncode(agency->code);
  scope.kind = agency->kind;
  scope.title = call.T("assign.title") + " " + call.Pick(agency->name) + " (" + agency->code + ")";
  scope.back = base + "/edit";
  scope.action = base + "/kpis";
  scope.hidden = json::array({{{"name", "own.shown"}, {"value", "1"}}});
  scope.agencies.push_back(std::move(*agency));
  return scope;
}

// The scope of /admin/assignments?kind=K[&parent=P]: every agency of kind K (under ministry P),
// in Thai order of the names. kInvalidInput when no kind is chosen or no agency is of it.
Result<Scope> GroupScope(PageCall& call, const Clock& clock) {
  const std::string kind = call.Field("kind").empty() ? call.Query("kind") : call.Field("kind");
  const std::string parent =
      call.Field("parent").empty() ? call.Query("parent") : call.Field("parent");
  auto all = service::Directory(call.db, clock).Agencies();
  if (!all) return all.status();
  Scope scope;
  scope.kind = kind;
  scope.group = true;
  const domain::Agency* ministry = nullptr;
  for (const domain::Agency& a : *all) {
    if (!parent.empty() && a.code == parent) ministry = &a;
    if (a.kind == kind && (parent.empty() || a.parent == parent)) scope.agencies.push_back(a);
  }
  std::stable_sort(scope.agencies.begin(), scope.agencies.end(),
                   [&](const domain::Agency& x, const domain::Agency& y) {
                     return ThaiSortKey(x.name.th) < ThaiSortKey(y.name.th);
                   });
  if (kind.empty() || scope.agencies.empty() || (!parent.empty() && ministry == nullptr)) {
    return Status::InvalidInput(
        "ไม่มีหน่วยงานประเภทและสังกัดที่เลือก เลือกประเภทหน่วยงาน (และกระทรวงถ้าต้องการ) ใหม่",
        "no agency is of the kind (and ministry) chosen: choose again");
  }
  const std::string key = "kind." + kind;
  const std::string kind_words = call.T(key) == key ? kind : call.T(key);
  scope.title = call.T("assign.group_title") + " " + kind_words +
                (ministry ? " " + call.T("assign.under") + " " + call.Pick(ministry->name) : "");
  scope.back = "/admin/agencies?kind=" + UrlEncode(kind) + "&parent=" + UrlEncode(parent);
  scope.action = "/admin/assignments";
  scope.hidden =
      json::array({{{"name", "kind"}, {"value", kind}}, {{"name", "parent"}, {"value", parent}}});
  return scope;
}

// Saves the form for `scope` (service::Authoring::SaveAssignmentForm) and goes to `done`
// with the framework saved; a refusal comes back on the form.
HttpResponse SaveAssignment(PageCall& call, const Clock& clock, const Scope& scope,
                            const std::string& done) {
  auto saved = service::Authoring(call.db, clock)
                   .SaveAssignmentForm(call.actor, ParseId(call.Field("framework")),
                                       call.Field("token"), Codes(scope), call.form);
  if (!saved) {
    if (saved.status().code() == StatusCode::kNotFound) return ErrorPage(call, saved.status());
    return AssignmentPage(call, clock, scope, saved.status(), false);
  }
  return Redirect(done + "done=kpis_assigned&framework=" + std::to_string(saved->id));
}

}  // namespace

HttpResponse Pages::AgencyKpis(PageCall& call) {
  auto scope = AgencyScope(call, clock_);
  if (!scope) return ErrorPage(call, scope.status());
  return AssignmentPage(call, clock_, *scope, Status::Ok(), false);
}

HttpResponse Pages::SaveAgencyKpis(PageCall& call) {
  auto scope = AgencyScope(call, clock_);
  if (!scope) return ErrorPage(call, scope.status());
  if (call.Field("intent") != "save")
    return AssignmentPage(call, clock_, *scope, Status::Ok(), false);
  return SaveAssignment(call, clock_, *scope, scope->action + "?");
}

HttpResponse Pages::GroupKpis(PageCall& call) {
  if (call.Query("kind").empty()) {
    // The choice of the kind (and the ministry) first.
    service::Directory directory(call.db, clock_);
    auto kinds = directory.Kinds();
    if (!kinds) return ErrorPage(call, kinds.status());
    auto parents = directory.Parents();
    if (!parents) return ErrorPage(call, parents.status());
    json kind_options = json::array();
    for (const std::string& k : *kinds) {
      const std::string key = "kind." + k;
      kind_options.push_back({{"value", k}, {"label", call.T(key) == key ? k : call.T(key)}});
    }
    json parent_options = json::array();
    for (const domain::Agency& p : *parents) {
      parent_options.push_back({{"value", p.code}, {"label", call.Pick(p.name)}});
    }
    ErrorBook errors;
    const std::map<std::string, std::string> none;
    json fields = json::array(
        {Field(none, errors, "kind", call.T("agency_form.kind"), "select", "", kind_options),
         Field(none, errors, "parent", call.T("assign.ministry"), "select",
               call.T("assign.ministry_hint"), parent_options)});
    return RenderPage(call, "admin_assign_choose", {{"fields", fields}},
                      call.T("assign.group_choose"));
  }
  auto scope = GroupScope(call, clock_);
  if (!scope) return ErrorPage(call, scope.status());
  return AssignmentPage(call, clock_, *scope, Status::Ok(), false);
}

HttpResponse Pages::SaveGroupKpis(PageCall& call) {
  auto scope = GroupScope(call, clock_);
  if (!scope) return ErrorPage(call, scope.status());
  const std::string intent = call.Field("intent");
  if (intent == "review") return AssignmentPage(call, clock_, *scope, Status::Ok(), true);
  if (intent != "save") return AssignmentPage(call, clock_, *scope, Status::Ok(), false);
  // Saved only for the agencies the confirmation listed: one added or moved meanwhile is not
  // given KPIs nobody confirmed for it.
  std::string codes;
  for (const std::string& c : Codes(*scope)) codes += (codes.empty() ? "" : ",") + c;
  if (call.Field("agencies") != codes) {
    return AssignmentPage(
        call, clock_, *scope,
        Status::Conflict("หน่วยงานในกลุ่มนี้เปลี่ยนไปหลังจากที่ยืนยัน จึงยังไม่ได้บันทึก: ตรวจรายชื่อแล้วยืนยันอีกครั้ง",
                         "the agencies of this group changed after the confirmation, so nothing "
                         "was saved: look at the list and confirm again"),
        false);
  }
  return SaveAssignment(call, clock_, *scope,
                        "/admin/assignments?kind=" + UrlEncode(scope->kind) +
                            "&parent=" + UrlEncode(call.Field("parent")) + "&");
}

}  // namespace esar::web
