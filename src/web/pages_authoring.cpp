// Framework authoring as forms (issue 12 §1): a KPI's name, key, component, unit, flags,
// rounds, variables and documentation edited field by field, and the components with their
// shares; errors and `esar check`'s findings shown beside the field they concern, in words.
// The KPI's JSON stays on the same page for what the forms do not cover yet.

#include <algorithm>
#include <set>

#include "common/thai.h"
#include "domain/check.h"
#include "formats/framework_form.h"
#include "formats/framework_json.h"
#include "formats/json_input.h"
#include "service/authoring.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "web/form_fields.h"
#include "web/kpi_view.h"
#include "web/page_support.h"
#include "web/pages.h"

namespace esar::web {

using nlohmann::json;

namespace {

// The index of KPI `id` among the document's top-level KPIs, or -1.
int KpiIndex(const json& document, const std::string& id) {
  if (!document.contains("kpis") || !document["kpis"].is_array()) return -1;
  for (size_t i = 0; i < document["kpis"].size(); ++i) {
    if (document["kpis"][i].value("id", "") == id) return static_cast<int>(i);
  }
  return -1;
}

std::string Value(const formats::FormFields& fields, const std::string& name) {
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : it->second;
}

// The number of rows `prefix`.N shown: those sent or stored (the highest index present) and
// one blank row more for a new entry.
int RowCount(const formats::FormFields& fields, const std::string& prefix) {
  int count = 0;
  const std::string start = prefix + ".";
  for (auto it = fields.lower_bound(start); it != fields.end() && it->first.rfind(start, 0) == 0;
       ++it) {
    const std::string rest = it->first.substr(start.size());
    const size_t dot = rest.find('.');
    const std::string n = dot == std::string::npos ? rest : rest.substr(0, dot);
    if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), ::isdigit)) continue;
    count = std::max(count, std::stoi(n) + 1);
  }
  return std::min(count, formats::kMaxFormRows - 1) + 1;
}

std::string Numbered(const PageCall& call, const std::string& key, int n, int total) {
  return n + 1 == total ? call.T(key + "_new") : call.T(key) + " " + std::to_string(n + 1);
}

// The select of a criteria's form, with the forms a criteria at that place can have.
json FormSelect(PageCall& call, const formats::FormFields& f, ErrorBook& errors,
                const std::string& p, bool nested) {
  json options = json::array();
  for (const char* form : {"levels", "milestones", "points", "conditions", "groups"}) {
    if (nested && std::string(form) == "groups") continue;
    options.push_back({{"value", form}, {"label", call.T(std::string("form.criteria_short_") + form)}});
  }
  return Field(f, errors, p + ".form",
               call.T(nested ? "form.group_criteria_form" : "form.criteria_form"), "select",
               call.T("form.criteria_form_hint"), options);
}

// The number of levels a criteria under `p` shows: the framework's, and any more the criteria
// have (esar check names those).
int LevelCount(const service::StoredFramework& stored, const formats::FormFields& f,
               const std::string& p) {
  int count = static_cast<int>(stored.framework.levels.size());
  for (const char* kind : {".targets.", ".mlevel.", ".conditions.", ".texts."}) {
    const std::string prefix = p + kind;
    for (auto it = f.lower_bound(prefix); it != f.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      const std::string n = it->first.substr(prefix.size(), it->first.find('.', prefix.size()) - prefix.size());
      if (!n.empty() && n.size() <= 2 && std::all_of(n.begin(), n.end(), ::isdigit)) {
        count = std::max(count, std::stoi(n) + 1);
      }
    }
  }
  return count;
}

// The fields and rows of the criteria under prefix `p` ("criteria", or
// "criteria.groups.G.criteria" for a group's own) of form Value(f, p + ".form"): the form's
// settings go in `how`, one row per level (and per milestone, points item or group) in `rows`,
// each row's legend starting with `legend_prefix` (the group's, for a group's criteria).
void CriteriaFields(PageCall& call, const service::StoredFramework& stored,
                    const formats::FormFields& f, ErrorBook& errors, const std::string& p,
                    const std::string& legend_prefix, json& how, json& rows, json& hidden) {
  const std::string form = Value(f, p + ".form");
  const std::string row_id = "r-" + HtmlId(p);
  if (form == "levels") {
    how.push_back(Field(f, errors, p + ".direction", call.T("form.direction"), "select", "",
                        json::array({{{"value", "higher"}, {"label", call.T("form.direction_higher")}},
                                     {{"value", "lower"}, {"label", call.T("form.direction_lower")}}})));
    how.push_back(Field(f, errors, p + ".scoring", call.T("form.scoring"), "select", "",
                        json::array({{{"value", "interpolate"}, {"label", call.T("form.scoring_interpolate")}},
                                     {{"value", "step"}, {"label", call.T("form.scoring_step")}}})));
  } else if (form == "milestones") {
    how.push_back(Field(f, errors, p + ".cumulative", call.T("form.cumulative"), "checkbox"));
  } else if (form == "groups") {
    how.push_back(Field(f, errors, p + ".by", call.T("form.by"), "text", call.T("form.by_hint")));
    how.push_back(Field(f, errors, p + ".integer", call.T("form.integer"), "checkbox"));
  } else if (form != "points" && form != "conditions") {
    return;  // no form chosen yet
  }

  if (form == "groups") {
    const int groups = RowCount(f, p + ".groups");
    json low = json::array({{{"value", "at_least"}, {"label", call.T("form.low_at_least")}},
                            {{"value", "above"}, {"label", call.T("form.low_above")}}});
    json high = json::array({{{"value", "at_most"}, {"label", call.T("form.high_at_most")}},
                             {{"value", "below"}, {"label", call.T("form.high_below")}}});
    for (int g = 0; g < groups; ++g) {
      const std::string at = p + ".groups." + std::to_string(g) + ".";
      // A new group's criteria are shown as the first group's form (or targets per level), so
      // that it can be filled in at once.
      formats::FormFields shown = f;
      if (Value(shown, at + "criteria.form").empty()) {
        const std::string first = Value(f, p + ".groups.0.criteria.form");
        shown[at + "criteria.form"] = first.empty() ? "levels" : first;
      }
      json gf = json::array();
      gf.push_back(Field(shown, errors, at + "id", call.T("form.group_id"), "text", call.T("form.group_id_hint")));
      gf.push_back(Field(shown, errors, at + "name.th", call.T("form.name_th"), "area", "", {}, 2));
      gf.push_back(Field(shown, errors, at + "name.en", call.T("form.name_en"), "area", "", {}, 2));
      gf.push_back(Field(shown, errors, at + "low_kind", call.T("form.low_kind"), "select", "", low));
      gf.push_back(Field(shown, errors, at + "low", call.T("form.low"), "text", call.T("form.bound_hint")));
      gf.push_back(Field(shown, errors, at + "high_kind", call.T("form.high_kind"), "select", "", high));
      gf.push_back(Field(shown, errors, at + "high", call.T("form.high"), "text", call.T("form.bound_hint")));
      gf.push_back(FormSelect(call, shown, errors, at + "criteria", true));
      const std::string legend = Numbered(call, "form.group", g, groups);
      const std::string id = row_id + "-g" + std::to_string(g);
      json errs = errors.Take(at + "criteria", id);
      for (const json& e : errors.Take(p + ".groups." + std::to_string(g), id)) errs.push_back(e);
      json nested_how = json::array();
      json nested_rows = json::array();
      CriteriaFields(call, stored, shown, errors, at + "criteria",
                     legend + " · ", nested_how, nested_rows, hidden);
      for (const json& h : nested_how) gf.push_back(h);
      rows.push_back({{"legend", legend}, {"id", id}, {"fields", gf}, {"errors", errs}});
      for (const json& r : nested_rows) rows.push_back(r);
    }
    return;
  }

  if (form == "points") {
    const int items = RowCount(f, p + ".items");
    for (int i = 0; i < items; ++i) {
      const std::string at = p + ".items." + std::to_string(i) + ".";
      json fields = json::array();
      fields.push_back(Field(f, errors, at + "id", call.T("form.item_id"), "text", call.T("form.item_id_hint")));
      fields.push_back(Field(f, errors, at + "points", call.T("form.item_points"), "text", call.T("form.item_points_hint")));
      fields.push_back(Field(f, errors, at + "when", call.T("form.item_when"), "text", call.T("form.item_when_hint")));
      fields.push_back(Field(f, errors, at + "requires", call.T("form.item_requires"), "text", call.T("form.item_requires_hint")));
      fields.push_back(Field(f, errors, at + "text.th", call.T("form.in_thai_text"), "area", "", {}, 2));
      fields.push_back(Field(f, errors, at + "text.en", call.T("form.in_english_text"), "area", "", {}, 2));
      const std::string id = row_id + "-i" + std::to_string(i);
      rows.push_back({{"legend", legend_prefix + Numbered(call, "form.item", i, items)}, {"id", id},
                      {"fields", fields}, {"errors", errors.Take(p + ".items." + std::to_string(i), id)}});
    }
  }

  const auto& levels = stored.framework.levels;
  const int count = LevelCount(stored, f, p);
  for (int i = 0; i < count; ++i) {
    const std::string n = std::to_string(i);
    const std::string legend =
        legend_prefix +
        (static_cast<size_t>(i) < levels.size()
             ? call.Pick(levels[static_cast<size_t>(i)].name) + " (" +
                   ShortestDecimal(levels[static_cast<size_t>(i)].points) + " " + call.T("doc.points") + ")"
             : call.T("form.level_row") + " " + std::to_string(i + 1));
    json fields = json::array();
    if (form == "levels") {
      fields.push_back(Field(f, errors, p + ".targets." + n + ".value", call.T("form.target"), "text", call.T("form.target_hint")));
      fields.push_back(Field(f, errors, p + ".targets." + n + ".strict", call.T("form.target_strict"), "checkbox"));
    } else if (form == "conditions") {
      fields.push_back(Field(f, errors, p + ".conditions." + n, call.T("form.condition"), "text", call.T("form.condition_hint")));
    }
    fields.push_back(Field(f, errors, p + ".texts." + n + ".th", call.T("form.level_text_th"), "area",
                           call.T(form == "points" ? "form.level_text_points_hint" : "form.level_text_hint"), {}, 2));
    fields.push_back(Field(f, errors, p + ".texts." + n + ".en", call.T("form.level_text_en"), "area", "", {}, 2));
    const std::string id = row_id + "-" + n;
    json errs = errors.Take(p + ".targets." + n, id);
    for (const json& e : errors.Take(p + ".levels." + n, id)) errs.push_back(e);
    rows.push_back({{"legend", legend}, {"id", id}, {"fields", fields}, {"errors", errs}});
    if (form != "milestones") continue;
    // The level's milestones, and a blank one to add.
    const int milestones = RowCount(f, p + ".levels." + n);
    for (int m = 0; m < milestones; ++m) {
      const std::string at = p + ".levels." + n + "." + std::to_string(m) + ".";
      json mf = json::array();
      mf.push_back(Field(f, errors, at + "variable", call.T("form.milestone_variable"), "text", call.T("form.milestone_variable_hint")));
      mf.push_back(Field(f, errors, at + "text.th", call.T("form.in_thai_text"), "area", "", {}, 2));
      mf.push_back(Field(f, errors, at + "text.en", call.T("form.in_english_text"), "area", "", {}, 2));
      mf.push_back(Field(f, errors, at + "due", call.T("form.milestone_due"), "text", call.T("form.milestone_due_hint")));
      mf.push_back(Field(f, errors, at + "reached", call.T("form.milestone_reached"), "text", call.T("form.milestone_reached_hint")));
      const std::string mid = id + "-" + std::to_string(m);
      rows.push_back({{"legend", legend + " · " + Numbered(call, "form.milestone", m, milestones)},
                      {"id", mid}, {"fields", mf},
                      {"errors", errors.Take(p + ".levels." + n + "." + std::to_string(m), mid)}});
    }
    // Every level is sent, also one without milestones, so that it is not lost.
    hidden.push_back({{"name", p + ".mlevel." + n}, {"value", "1"}});
  }
}

// The KPI form's sections. `stored_has_criteria` and `has_sub_kpis` say what the stored KPI has
// (a KPI with neither is offered a criteria form to choose).
json KpiFormSections(PageCall& call, const service::StoredFramework& stored,
                     const formats::FormFields& f, ErrorBook& errors, bool stored_has_criteria,
                     bool has_sub_kpis) {
  json sections = json::array();
  // ---- the KPI itself ----
  json general = json::array();
  general.push_back(Field(f, errors, "name.th", call.T("form.name_th"), "area", "", {}, 2));
  general.push_back(Field(f, errors, "name.en", call.T("form.name_en"), "area", "", {}, 2));
  general.push_back(Field(f, errors, "key", call.T("form.key"), "text", call.T("form.key_hint")));
  json components = json::array();
  for (const auto& c : stored.framework.components) {
    components.push_back({{"value", c.id}, {"label", call.Pick(c.name) + " (" + c.id + ")"}});
  }
  if (components.empty()) {
    general.push_back(Field(f, errors, "component", call.T("form.component"), "text",
                            call.T("form.component_free_hint")));
  } else {
    general.push_back(Field(f, errors, "component", call.T("form.component"), "select", "", components));
  }
  general.push_back(Field(f, errors, "unit.th", call.T("form.unit_th"), "text", call.T("form.unit_hint")));
  general.push_back(Field(f, errors, "unit.en", call.T("form.unit_en"), "text"));
  general.push_back(Field(f, errors, "result", call.T("form.result"), "text", call.T("form.result_hint")));
  json flags = json::array();
  for (const char* flag : {"new", "continuing", "reform_plan", "monitoring_only"}) {
    flags.push_back(Field(f, errors, std::string("flag.") + flag, call.T(std::string("form.flag_") + flag), "checkbox"));
  }
  json rounds = json::array();
  for (const char* r : {"6", "12"}) {
    rounds.push_back(Field(f, errors, std::string("round.") + r, call.T(std::string("form.round_") + r), "checkbox"));
  }
  json groups = json::array(
      {{{"legend", call.T("form.flags")}, {"id", "g-flags"}, {"fields", flags},
        {"errors", errors.Take("flags", "g-flags")}},
       {{"legend", call.T("form.rounds")}, {"id", "g-rounds"}, {"fields", rounds},
        {"hint", call.T("form.rounds_hint")}, {"errors", errors.Take("rounds", "g-rounds")}}});
  sections.push_back({{"id", "s-kpi"}, {"title", call.T("form.section_kpi")}, {"fields", general},
                      {"groups", groups}, {"errors", json::array()}});

  // ---- criteria: every form but groups inside groups (those stay in the JSON below) ----
  // A KPI without criteria (and without sub-KPIs) is offered the choice of a form.
  const std::string form = Value(f, "criteria.form");
  if (!form.empty() || (!stored_has_criteria && !has_sub_kpis)) {
    json how = json::array({FormSelect(call, f, errors, "criteria", false)});
    json criteria_rows = json::array();
    json hidden = json::array();
    CriteriaFields(call, stored, f, errors, "criteria", "", how, criteria_rows, hidden);
    sections.push_back({{"id", "s-criteria"}, {"title", call.T("form.section_criteria")},
                        {"hint", call.T(form.empty() ? "form.criteria_choose" : "form.criteria_form_" + form)},
                        {"fields", how}, {"rows", criteria_rows}, {"hidden", hidden},
                        {"errors", errors.Take("criteria", "s-criteria")}});
  }

  // ---- variables ----
  json types = json::array();
  for (const char* t : {"number", "percent", "count", "pass_fail", "number_list", "derived", "date"}) {
    types.push_back({{"value", t}, {"label", call.T(std::string("form.type_") + t)}});
  }
  json rows = json::array();
  const int variables = RowCount(f, "variables");
  for (int i = 0; i < variables; ++i) {
    const std::string at = "variables." + std::to_string(i) + ".";
    json fields = json::array();
    fields.push_back(Field(f, errors, at + "id", call.T("form.var_id"), "text", call.T("form.var_id_hint")));
    fields.push_back(Field(f, errors, at + "type", call.T("form.var_type"), "select", "", types));
    fields.push_back(Field(f, errors, at + "name.th", call.T("form.name_th"), "text"));
    fields.push_back(Field(f, errors, at + "name.en", call.T("form.name_en"), "text"));
    fields.push_back(Field(f, errors, at + "unit.th", call.T("form.unit_th"), "text"));
    fields.push_back(Field(f, errors, at + "unit.en", call.T("form.unit_en"), "text"));
    fields.push_back(Field(f, errors, at + "formula", call.T("form.var_formula"), "text", call.T("form.var_formula_hint")));
    fields.push_back(Field(f, errors, at + "length", call.T("form.var_length"), "text", call.T("form.var_length_hint")));
    fields.push_back(Field(f, errors, at + "min", call.T("form.var_min"), "text"));
    fields.push_back(Field(f, errors, at + "max", call.T("form.var_max"), "text"));
    fields.push_back(Field(f, errors, at + "optional", call.T("form.var_optional"), "checkbox"));
    const std::string id = "r-variables-" + std::to_string(i);
    rows.push_back({{"legend", Numbered(call, "form.variable", i, variables)}, {"id", id},
                    {"fields", fields}, {"errors", errors.Take("variables." + std::to_string(i), id)}});
  }
  sections.push_back({{"id", "s-variables"}, {"title", call.T("form.section_variables")},
                      {"hint", call.T("form.variables_hint")}, {"rows", rows},
                      {"errors", errors.Take("variables", "s-variables")}});

  // ---- documentation ----
  json doc = json::array();
  auto text_pair = [&](const std::string& key) {
    doc.push_back(Field(f, errors, "doc." + key + ".th", call.T("form.doc_" + key) + " " + call.T("form.in_thai"), "area", "", {}, 4));
    doc.push_back(Field(f, errors, "doc." + key + ".en", call.T("form.doc_" + key) + " " + call.T("form.in_english"), "area", "", {}, 3));
  };
  text_pair("description");
  json doc_rows = json::array();
  auto text_rows = [&](const std::string& key) {
    const std::string prefix = "doc." + key;
    const int n = RowCount(f, prefix);
    for (int i = 0; i < n; ++i) {
      const std::string at = prefix + "." + std::to_string(i) + ".";
      const std::string id = "r-" + HtmlId(prefix) + "-" + std::to_string(i);
      doc_rows.push_back(
          {{"legend", Numbered(call, "form.doc_" + key + "_item", i, n)}, {"id", id},
           {"fields", json::array({Field(f, errors, at + "th", call.T("form.in_thai_text"), "area", "", {}, 2),
                                   Field(f, errors, at + "en", call.T("form.in_english_text"), "area", "", {}, 2)})},
           {"errors", errors.Take(prefix + "." + std::to_string(i), id)}});
    }
  };
  auto year_rows = [&](const std::string& key) {
    const std::string prefix = "doc." + key;
    const int n = RowCount(f, prefix);
    for (int i = 0; i < n; ++i) {
      const std::string at = prefix + "." + std::to_string(i) + ".";
      const std::string id = "r-" + HtmlId(prefix) + "-" + std::to_string(i);
      doc_rows.push_back(
          {{"legend", Numbered(call, "form.doc_" + key + "_item", i, n)}, {"id", id},
           {"fields", json::array({Field(f, errors, at + "fiscal_year", call.T("form.fiscal_year"), "text", call.T("form.fiscal_year_hint")),
                                   Field(f, errors, at + "value", call.T("form.value"), "text"),
                                   Field(f, errors, at + "text.th", call.T("form.in_thai_text"), "text"),
                                   Field(f, errors, at + "text.en", call.T("form.in_english_text"), "text")})},
           {"errors", errors.Take(prefix + "." + std::to_string(i), id)}});
    }
  };
  sections.push_back({{"id", "s-doc"}, {"title", call.T("form.section_doc")}, {"fields", doc},
                      {"errors", errors.Take("documentation", "s-doc")}});
  for (const char* key : {"definitions", "baseline", "roadmap", "steps"}) {
    doc_rows = json::array();
    if (std::string(key) == "baseline" || std::string(key) == "roadmap") {
      year_rows(key);
    } else {
      text_rows(key);
    }
    const std::string id = "s-doc-" + std::string(key);
    sections.push_back({{"id", id}, {"title", call.T(std::string("form.doc_") + key)},
                        {"hint", call.T(std::string("form.doc_") + key + "_hint")},
                        {"rows", doc_rows}, {"sub", true},
                        {"errors", errors.Take(std::string("doc.") + key, id)}});
  }
  for (const char* key : {"scope", "data_collection", "data_source", "formula", "benefit"}) {
    doc = json::array();
    text_pair(key);
    sections.push_back({{"id", "s-doc-" + std::string(key)}, {"title", call.T(std::string("form.doc_") + key)},
                        {"fields", doc}, {"sub", true}, {"errors", json::array()}});
  }
  return sections;
}

// The KPI editor: `fields` as shown (stored or sent), `form_error` beside its field, `findings`
// beside theirs, `json_text` in the JSON editor (open, with `json_error`, when that was sent).
// The agencies the framework assigns `kpi_id`, in Thai order, for the criteria preview's
// choice: {"agencies": [{"code", "name", "selected"}], "action", "chosen": name or absent}.
json PreviewModel(PageCall& call, const domain::Framework& framework, const std::string& kpi_id,
                  const std::string& chosen) {
  std::set<std::string> named;
  bool everyone = false;
  for (const domain::AssignmentRule& rule : framework.assignments) {
    const bool has_kpi = std::any_of(rule.kpis.begin(), rule.kpis.end(),
                                     [&](const domain::AssignedKpi& a) { return a.kpi == kpi_id; });
    if (!has_kpi) continue;
    for (const std::string& code : rule.agencies) {
      if (code == "*") everyone = true;
      named.insert(code);
    }
  }
  std::vector<std::pair<std::string, json>> rows;
  if (auto agencies = service::Directory(call.db, call.clock).Agencies()) {
    for (const domain::Agency& a : *agencies) {
      const bool of_kind = framework.agency_kind.empty() || a.kind == framework.agency_kind;
      if (!(named.count(a.code) || (everyone && of_kind))) continue;
      rows.emplace_back(ThaiSortKey(call.Pick(a.name)),
                        json{{"code", a.code},
                             {"name", call.Pick(a.name) + " (" + a.code + ")"},
                             {"selected", a.code == chosen}});
    }
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  json out = {{"agencies", json::array()}, {"chosen", chosen}};
  for (auto& [key, row] : rows) {
    if (row["selected"].get<bool>()) out["chosen_name"] = row["name"];
    out["agencies"].push_back(std::move(row));
  }
  return out;
}

HttpResponse KpiFormPage(PageCall& call, const service::StoredFramework& stored,
                         const std::string& kpi_id, const formats::FormFields& fields,
                         const Status& form_error, const std::vector<domain::Finding>& findings,
                         bool checked, const std::string& json_text, const std::string& json_error,
                         int status, const domain::Framework* edited = nullptr) {
  const json document = json::parse(stored.document);
  size_t index = 0;
  for (; index < document["kpis"].size(); ++index) {
    if (document["kpis"][index].value("id", "") == kpi_id) break;
  }
  const std::string kpi_path = "/kpis/" + std::to_string(index);
  ErrorBook errors;
  if (!form_error.ok()) errors.Add(form_error.where().json_path, call.Message(form_error));
  json other_findings = json::array();
  // Warnings about other KPIs are not this editor's business: the KPI is clean when nothing
  // shown on this page concerns it.
  size_t findings_shown = 0;
  for (const domain::Finding& finding : findings) {
    const std::string field = formats::KpiFieldOfFinding(kpi_path, Value(fields, "key"), finding, &fields);
    const std::string text =
        call.T(finding.severity == domain::Severity::kError ? "check.error" : "check.warning") +
        ": " + (call.lang == Lang::kThai ? finding.message_th : finding.message_en);
    const bool criteria_in_json =
        field.rfind("criteria", 0) == 0 && fields.count("criteria.form") == 0;
    if (field.empty() || criteria_in_json) {
      // Findings elsewhere in the framework, or in criteria without a form (edited as JSON
      // below), are listed with the findings of the whole KPI.
      if (finding.where.json_path.rfind(kpi_path + "/", 0) == 0 || finding.where.json_path == kpi_path ||
          finding.severity == domain::Severity::kError) {
        other_findings.push_back(text);
        ++findings_shown;
      }
      continue;
    }
    errors.Add(field, text);
    ++findings_shown;
  }
  json model = {
      {"id", stored.id},
      {"kpi", kpi_id},
      {"title", call.Pick(stored.framework.title)},
      {"frozen", stored.frozen},
      {"action", "/admin/frameworks/" + std::to_string(stored.id) + "/kpis/" + UrlEncode(kpi_id)},
      {"back", "/admin/frameworks/" + std::to_string(stored.id)},
      {"text", json_text},
      {"is_new", fields.count("new") > 0},
      {"has_json", fields.count("new") == 0},
      {"json_open", !json_error.empty()},
      {"other_findings", other_findings},
      {"clean", checked && findings_shown == 0 && form_error.ok() && json_error.empty()}};
  // The version the editor started from travels with the form, through checks and refusals, so
  // that saving never overwrites what someone else saved meanwhile (service::Authoring).
  const std::string sent = call.Field("token");
  model["token"] = sent.empty() ? service::Authoring::Token(stored.document) : sent;
  const json& stored_kpi = index < document["kpis"].size() ? document["kpis"][index] : json();
  const bool has_criteria = stored_kpi.contains("criteria");
  model["sections"] = KpiFormSections(call, stored, fields, errors, has_criteria,
                                      stored_kpi.contains("sub_kpis"));
  // Criteria the form cannot show (groups inside groups) are said to be the JSON editor's.
  model["criteria_form"] = fields.count("criteria.form") > 0 || !has_criteria;
  // The criteria as the agencies read them: from the form as checked (unsaved) when there is
  // one, else as stored; for a chosen agency, with its own group and targets filled in.
  const domain::Framework& shown = edited ? *edited : stored.framework;
  const domain::Kpi* kpi = domain::FindKpi(shown.kpis, kpi_id);
  const std::string preview =
      call.request.method == "POST" ? call.Field("preview") : call.Query("preview");
  model["preview"] = PreviewModel(call, shown, kpi_id, preview);
  if (kpi != nullptr && kpi->criteria) {
    auto agency = preview.empty() ? Result<domain::Agency>(Status::NotFound("", ""))
                                  : FindAgency(call.db, call.clock, preview);
    if (agency) {
      const int round =
          std::find(kpi->rounds.begin(), kpi->rounds.end(), 12) != kpi->rounds.end() ||
                  kpi->rounds.empty()
              ? 12
              : kpi->rounds.front();
      const auto known = AgencyKnownValues(call, shown, 0, round, *agency, *kpi);
      model["criteria_doc"] =
          KpiDocModel(call, shown, *kpi, EffectiveCriteria(shown, agency->code, *kpi), &known);
    } else {
      model["criteria_doc"] = KpiDocModel(call, shown, *kpi, &*kpi->criteria);
    }
  }
  if (!json_error.empty()) model["json_error"] = json_error;
  const json summary = errors.Summary();
  if (!summary.empty()) model["summary"] = summary;
  return RenderPage(call, "admin_kpi_edit", model, call.T("kpi_edit.title") + " " + kpi_id, status);
}

// The KPI editor's JSON form: the KPI's JSON as typed replaces the KPI (bulk work, and the
// criteria forms that have no form yet).
HttpResponse SaveKpiJson(PageCall& call, const Clock& clock) {
  service::Cycle cycle(call.db, clock);
  auto stored = cycle.Framework(ParseId(call.request.params.at("id")));
  if (!stored) return ErrorPage(call, stored.status());
  const std::string kpi_id = call.request.params.at("kpi");
  const std::string text = call.Field("kpi_json");
  json document = json::parse(stored->document);
  const int index = KpiIndex(document, kpi_id);
  if (index < 0) return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัด " + kpi_id, "no KPI " + kpi_id));
  const formats::FormFields fields =
      formats::KpiFormFields(document["kpis"][static_cast<size_t>(index)]);
  // The same limits as every JSON input (depth above all: the editor's text is re-serialized).
  auto kpi = formats::ParseJsonBody(text);
  if (!kpi) {
    return KpiFormPage(call, *stored, kpi_id, fields, Status::Ok(), {}, false, text,
                       kpi.status().ToString(call.lang == Lang::kThai), 400);
  }
  document["kpis"][static_cast<size_t>(index)] = std::move(*kpi);
  const std::string changed = document.dump(2);
  auto framework = formats::ParseFramework(changed, "framework.json");
  if (!framework) {
    return KpiFormPage(call, *stored, kpi_id, fields, Status::Ok(), {}, false, text,
                       framework.status().ToString(call.lang == Lang::kThai), 400);
  }
  domain::CheckInput input;
  input.framework = &*framework;
  input.framework_file = "framework.json";
  const auto all = domain::Check(input);
  if (call.Field("intent") != "save" || domain::HasErrors(all)) {
    return KpiFormPage(call, *stored, kpi_id, fields, Status::Ok(), all, true, text,
                       domain::HasErrors(all) ? call.T("form.json_has_errors") : "",
                       domain::HasErrors(all) ? 400 : 200, &*framework);
  }
  auto imported =
      service::Authoring(call.db, clock).Save(call.actor, stored->id, call.Field("token"), changed);
  if (!imported) {
    return KpiFormPage(call, *stored, kpi_id, fields, Status::Ok(), all, false, text,
                       imported.status().ToString(call.lang == Lang::kThai),
                       HttpStatusOf(imported.status().code()));
  }
  return Redirect("/admin/frameworks/" + std::to_string(imported->id) + "?done=kpi_saved#kpi-" +
                  HtmlId(kpi_id));
}

}  // namespace

HttpResponse Pages::KpiEditor(PageCall& call) {
  auto stored = service::Cycle(call.db, clock_).Framework(ParseId(call.request.params.at("id")));
  if (!stored) return ErrorPage(call, stored.status());
  const std::string kpi_id = call.request.params.at("kpi");
  const json document = json::parse(stored->document);
  const int index = KpiIndex(document, kpi_id);
  if (index < 0 && call.Query("new") == "1" && formats::IsSafeKpiId(kpi_id)) {
    // A new KPI: the form empty but for its rounds, its criteria's form to choose.
    const formats::FormFields blank = {{"new", "1"}, {"round.6", "1"}, {"round.12", "1"}};
    return KpiFormPage(call, *stored, kpi_id, blank, Status::Ok(), {}, false, "", "", 200);
  }
  if (index < 0) return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัด " + kpi_id, "no KPI " + kpi_id));
  const json& kpi = document["kpis"][static_cast<size_t>(index)];
  domain::CheckInput input;
  input.framework = &stored->framework;
  input.framework_file = "framework.json";
  return KpiFormPage(call, *stored, kpi_id, formats::KpiFormFields(kpi), Status::Ok(),
                     domain::Check(input), true, kpi.dump(2), "", 200);
}

HttpResponse Pages::SaveKpiDefinition(PageCall& call) {
  if (call.form.count("kpi_json")) return SaveKpiJson(call, clock_);

  service::Cycle cycle(call.db, clock_);
  auto stored = cycle.Framework(ParseId(call.request.params.at("id")));
  if (!stored) return ErrorPage(call, stored.status());
  const std::string kpi_id = call.request.params.at("kpi");
  json document = json::parse(stored->document);
  size_t index = 0;
  for (; index < document["kpis"].size(); ++index) {
    if (document["kpis"][index].value("id", "") == kpi_id) break;
  }
  const bool add = call.Field("new") == "1";
  if (add && index < document["kpis"].size()) {
    // Sent twice, or another admin added that number first: nothing is overwritten.
    return KpiFormPage(call, *stored, kpi_id, call.form,
                       Status::Conflict("มีตัวชี้วัด " + kpi_id + " อยู่แล้ว จึงไม่ได้เพิ่มซ้ำ",
                                        "KPI " + kpi_id + " exists already: nothing was added"),
                       {}, false, "", "", 409);
  }
  if (index == document["kpis"].size() && !add) {
    return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัด " + kpi_id, "no KPI " + kpi_id));
  }
  if (add) {
    if (!formats::IsSafeKpiId(kpi_id)) {
      return ErrorPage(call, Status::InvalidInput("เลขที่ตัวชี้วัดไม่ถูกต้อง", "malformed KPI number"));
    }
    document["kpis"].push_back(json{{"id", kpi_id}});  // checked as the service will add it
  }
  const std::string json_text = add ? "" : document["kpis"][index].dump(2);
  std::vector<std::string> components;
  for (const auto& c : stored->framework.components) components.push_back(c.id);
  auto applied = formats::ApplyKpiForm(document["kpis"][index], call.form, components, true);
  if (!applied) {
    return KpiFormPage(call, *stored, kpi_id, call.form, applied.status(), {}, false, json_text, "", 400);
  }
  document["kpis"][index] = *applied;
  auto framework = formats::ParseFramework(document.dump(2), "framework.json");
  if (!framework) {
    Status s = framework.status();
    const std::string field = formats::KpiFieldOfPath("/kpis/" + std::to_string(index), s.where().json_path);
    return KpiFormPage(call, *stored, kpi_id, call.form,
                       Status::InvalidInput(s.message_th(), s.message_en(), Location{"", field, 0}),
                       {}, false, json_text, "", 400);
  }
  domain::CheckInput input;
  input.framework = &*framework;
  input.framework_file = "framework.json";
  const auto findings = domain::Check(input);
  if (call.Field("intent") != "save" || domain::HasErrors(findings)) {
    return KpiFormPage(call, *stored, kpi_id, call.form, Status::Ok(), findings, true, json_text,
                       "", domain::HasErrors(findings) ? 400 : 200, &*framework);
  }
  service::Authoring authoring(call.db, clock_);
  auto saved = add ? authoring.AddKpiForm(call.actor, stored->id, call.Field("token"), kpi_id, call.form)
                   : authoring.SaveKpiForm(call.actor, stored->id, call.Field("token"), kpi_id, call.form);
  if (!saved) {
    return KpiFormPage(call, *stored, kpi_id, call.form, saved.status(), findings, false, json_text,
                       "", HttpStatusOf(saved.status().code()));
  }
  return Redirect("/admin/frameworks/" + std::to_string(saved->id) + "?done=kpi_saved#kpi-" +
                  HtmlId(kpi_id));
}

json Pages::ComponentsModel(PageCall& call, const service::StoredFramework& stored) {
  const bool posted = call.request.method == "POST" &&
                      call.request.path.size() >= 11 &&
                      call.request.path.compare(call.request.path.size() - 11, 11, "/components") == 0;
  const formats::FormFields fields =
      posted ? formats::FormFields(call.form.begin(), call.form.end())
             : formats::ComponentsFormFields(json::parse(stored.document));
  ErrorBook errors;
  if (posted && call.form.count("__cerror")) errors.Add(call.Field("__field"), call.Field("__cerror"));
  json rows = json::array();
  const int n = RowCount(fields, "components");
  for (int i = 0; i < n; ++i) {
    const std::string at = "components." + std::to_string(i) + ".";
    const std::string id = "r-components-" + std::to_string(i);
    rows.push_back(
        {{"legend", Numbered(call, "form.component_row", i, n)}, {"id", id},
         {"fields", json::array({Field(fields, errors, at + "id", call.T("form.component_id"), "text", call.T("form.component_id_hint")),
                                 Field(fields, errors, at + "name.th", call.T("form.name_th"), "text"),
                                 Field(fields, errors, at + "name.en", call.T("form.name_en"), "text"),
                                 Field(fields, errors, at + "share", call.T("form.share"), "text", call.T("form.share_hint"))})},
         {"errors", errors.Take("components." + std::to_string(i), id)}});
  }
  json model = {{"action", "/admin/frameworks/" + std::to_string(stored.id) + "/components"},
                {"token", posted ? call.Field("token") : service::Authoring::Token(stored.document)},
                {"rows", rows}};
  const json summary = errors.Summary();
  if (!summary.empty()) model["summary"] = summary;
  return model;
}

HttpResponse Pages::SaveComponents(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  auto saved = service::Authoring(call.db, clock_)
                   .SaveComponentsForm(call.actor, id, call.Field("token"), call.form);
  if (!saved) {
    if (saved.status().code() == StatusCode::kNotFound) return ErrorPage(call, saved.status());
    call.form["__field"] = saved.status().where().json_path;
    call.form["__cerror"] = call.Message(saved.status());
    call.form["__status"] = std::to_string(HttpStatusOf(saved.status().code()));
    return FrameworkPage(call);
  }
  return Redirect("/admin/frameworks/" + std::to_string(saved->id) + "?done=components_saved#components");
}

}  // namespace esar::web
