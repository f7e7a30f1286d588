// Framework authoring as forms (issue 12 §1): a KPI's name, key, component, unit, flags,
// rounds, variables and documentation edited field by field, and the components with their
// shares; errors and `esar check`'s findings shown beside the field they concern, in words.
// The KPI's JSON stays on the same page for what the forms do not cover yet.

#include <algorithm>
#include <set>

#include "common/thai.h"
#include "domain/check.h"
#include "formats/framework_form.h"
#include "formats/framework_form_sources.h"
#include "formats/framework_json.h"
#include "formats/json_input.h"
#include "service/authoring.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/history.h"
#include "web/form_fields.h"
#include "web/kpi_view.h"
#include "web/page_support.h"
#include "web/pages.h"

namespace esar::web {

using nlohmann::json;

namespace {

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

// The select of a criteria's form, with the forms a criteria at that place can have: groups
// while the criteria lie fewer than kMaxFormGroupDepth groups deep (`depth`), and for a KPI's own
// criteria (`composite_offered`) its sub-KPIs instead.
json FormSelect(PageCall& call, const formats::FormFields& f, ErrorBook& errors,
                const std::string& p, int depth, bool composite_offered) {
  json options = json::array();
  for (const char* form : {"levels", "milestones", "points", "conditions", "groups"}) {
    if (depth >= formats::kMaxFormGroupDepth && std::string(form) == "groups") continue;
    options.push_back(
        {{"value", form}, {"label", call.T(std::string("form.criteria_short_") + form)}});
  }
  if (composite_offered) {
    options.push_back({{"value", "sub_kpis"}, {"label", call.T("form.criteria_short_sub_kpis")}});
  }
  return Field(f, errors, p + ".form",
               call.T(depth > 0 ? "form.group_criteria_form" : "form.criteria_form"), "select",
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
      const std::string n =
          it->first.substr(prefix.size(), it->first.find('.', prefix.size()) - prefix.size());
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
// each row's legend starting with `legend_prefix` (the group's, for a group's criteria); `depth`
// groups deep.
void CriteriaFields(PageCall& call, const service::StoredFramework& stored,
                    const formats::FormFields& f, ErrorBook& errors, const std::string& p,
                    const std::string& legend_prefix, int depth, json& how, json& rows,
                    json& hidden) {
  const std::string form = Value(f, p + ".form");
  const std::string row_id = "r-" + HtmlId(p);
  if (form == "levels") {
    how.push_back(
        Field(f, errors, p + ".direction", call.T("form.direction"), "select", "",
              json::array({{{"value", "higher"}, {"label", call.T("form.direction_higher")}},
                           {{"value", "lower"}, {"label", call.T("form.direction_lower")}}})));
    how.push_back(Field(
        f, errors, p + ".scoring", call.T("form.scoring"), "select", "",
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
      gf.push_back(Field(shown, errors, at + "id", call.T("form.group_id"), "text",
                         call.T("form.group_id_hint")));
      gf.push_back(Field(shown, errors, at + "name.th", call.T("form.name_th"), "area", "", {}, 2));
      gf.push_back(Field(shown, errors, at + "name.en", call.T("form.name_en"), "area", "", {}, 2));
      gf.push_back(
          Field(shown, errors, at + "low_kind", call.T("form.low_kind"), "select", "", low));
      gf.push_back(
          Field(shown, errors, at + "low", call.T("form.low"), "text", call.T("form.bound_hint")));
      gf.push_back(
          Field(shown, errors, at + "high_kind", call.T("form.high_kind"), "select", "", high));
      gf.push_back(Field(shown, errors, at + "high", call.T("form.high"), "text",
                         call.T("form.bound_hint")));
      gf.push_back(FormSelect(call, shown, errors, at + "criteria", depth + 1, false));
      const std::string legend = legend_prefix + Numbered(call, "form.group", g, groups);
      const std::string id = row_id + "-g" + std::to_string(g);
      json errs = errors.Take(at + "criteria", id);
      for (const json& e : errors.Take(p + ".groups." + std::to_string(g), id)) errs.push_back(e);
      json nested_how = json::array();
      json nested_rows = json::array();
      CriteriaFields(call, stored, shown, errors, at + "criteria", legend + " · ", depth + 1,
                     nested_how, nested_rows, hidden);
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
      fields.push_back(
          Field(f, errors, at + "id", call.T("form.item_id"), "text", call.T("form.item_id_hint")));
      fields.push_back(Field(f, errors, at + "points", call.T("form.item_points"), "text",
                             call.T("form.item_points_hint")));
      fields.push_back(Field(f, errors, at + "when", call.T("form.item_when"), "text",
                             call.T("form.item_when_hint")));
      fields.push_back(Field(f, errors, at + "requires", call.T("form.item_requires"), "text",
                             call.T("form.item_requires_hint")));
      fields.push_back(
          Field(f, errors, at + "text.th", call.T("form.in_thai_text"), "area", "", {}, 2));
      fields.push_back(
          Field(f, errors, at + "text.en", call.T("form.in_english_text"), "area", "", {}, 2));
      const std::string id = row_id + "-i" + std::to_string(i);
      rows.push_back({{"legend", legend_prefix + Numbered(call, "form.item", i, items)},
                      {"id", id},
                      {"fields", fields},
                      {"errors", errors.Take(p + ".items." + std::to_string(i), id)}});
    }
  }

  const auto& levels = stored.framework.levels;
  const int count = LevelCount(stored, f, p);
  for (int i = 0; i < count; ++i) {
    const std::string n = std::to_string(i);
    const std::string legend =
        legend_prefix + (static_cast<size_t>(i) < levels.size()
                             ? call.Pick(levels[static_cast<size_t>(i)].name) + " (" +
                                   ShortestDecimal(levels[static_cast<size_t>(i)].points) + " " +
                                   call.T("doc.points") + ")"
                             : call.T("form.level_row") + " " + std::to_string(i + 1));
    json fields = json::array();
    if (form == "levels") {
      fields.push_back(Field(f, errors, p + ".targets." + n + ".value", call.T("form.target"),
                             "text", call.T("form.target_hint")));
      fields.push_back(Field(f, errors, p + ".targets." + n + ".strict",
                             call.T("form.target_strict"), "checkbox"));
    } else if (form == "conditions") {
      fields.push_back(Field(f, errors, p + ".conditions." + n, call.T("form.condition"), "text",
                             call.T("form.condition_hint")));
    }
    fields.push_back(Field(
        f, errors, p + ".texts." + n + ".th", call.T("form.level_text_th"), "area",
        call.T(form == "points" ? "form.level_text_points_hint" : "form.level_text_hint"), {}, 2));
    fields.push_back(Field(f, errors, p + ".texts." + n + ".en", call.T("form.level_text_en"),
                           "area", "", {}, 2));
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
      mf.push_back(Field(f, errors, at + "variable", call.T("form.milestone_variable"), "text",
                         call.T("form.milestone_variable_hint")));
      mf.push_back(
          Field(f, errors, at + "text.th", call.T("form.in_thai_text"), "area", "", {}, 2));
      mf.push_back(
          Field(f, errors, at + "text.en", call.T("form.in_english_text"), "area", "", {}, 2));
      mf.push_back(Field(f, errors, at + "due", call.T("form.milestone_due"), "text",
                         call.T("form.milestone_due_hint")));
      mf.push_back(Field(f, errors, at + "reached", call.T("form.milestone_reached"), "text",
                         call.T("form.milestone_reached_hint")));
      const std::string mid = id + "-" + std::to_string(m);
      rows.push_back({{"legend", legend + " · " + Numbered(call, "form.milestone", m, milestones)},
                      {"id", mid},
                      {"fields", mf},
                      {"errors", errors.Take(p + ".levels." + n + "." + std::to_string(m), mid)}});
    }
    // Every level is sent, also one without milestones, so that it is not lost.
    hidden.push_back({{"name", p + ".mlevel." + n}, {"value", "1"}});
  }
}

// Where the KPI a form edits lies, and what its page offers around the form.
struct KpiPlace {
  std::string path;           // its JSON pointer ("/kpis/3/sub_kpis/0"), also for a new one
  int sub_depth = 0;          // 0 for a top-level KPI
  bool exists = false;        // stored (not a new KPI's form)
  bool has_criteria = false;  // stored with criteria
  bool composite = false;     // stored with sub-KPIs
  std::string parent_id;      // a sub-KPI's parent
  std::string base;           // the KPI pages' address without the id ("/admin/frameworks/2/kpis/")
  json siblings = json::array();  // a new sub-KPI's: the parent's sub-KPIs [{id, name}]
};

// A composite KPI's sub-KPIs on its form: a row each with its name and share, links to its own
// page and to its removal (the sub-KPI's number travels hidden: it is the row's address).
void SubKpiRows(PageCall& call, const formats::FormFields& f, ErrorBook& errors,
                const KpiPlace& place, json& rows, json& hidden) {
  const int count = RowCount(f, "sub_kpis") - 1;  // no blank row: one is added on its own page
  for (int i = 0; i < count; ++i) {
    const std::string at = "sub_kpis." + std::to_string(i) + ".";
    const std::string id = Value(f, at + "id");
    if (id.empty()) continue;
    json fields = json::array();
    fields.push_back(Field(f, errors, at + "name.th", call.T("form.name_th"), "area", "", {}, 2));
    fields.push_back(Field(f, errors, at + "name.en", call.T("form.name_en"), "area", "", {}, 2));
    fields.push_back(Field(f, errors, at + "weight", call.T("form.sub_kpi_share"), "text",
                           call.T("form.sub_kpi_share_hint")));
    hidden.push_back({{"name", at + "id"}, {"value", id}});
    const std::string row = "r-sub-kpis-" + std::to_string(i);
    json links = json::array();
    if (place.exists) {
      links.push_back({{"href", place.base + UrlEncode(id)},
                       {"label", call.T("form.sub_kpi_edit") + " " + id}});
      links.push_back({{"href", place.base + UrlEncode(id) + "/remove"},
                       {"label", call.T("form.sub_kpi_remove") + " " + id}});
    }
    rows.push_back({{"legend", call.T("form.sub_kpi") + " " + id},
                    {"id", row},
                    {"fields", fields},
                    {"links", links},
                    {"errors", errors.Take("sub_kpis." + std::to_string(i), row)}});
  }
}

// The options of a select of the KPI's variables as the form has them (their ids, with the Thai
// or English name).
json VariableOptions(PageCall& call, const formats::FormFields& f) {
  json options = json::array();
  for (int i = 0; i < RowCount(f, "variables"); ++i) {
    const std::string at = "variables." + std::to_string(i) + ".";
    const std::string id = Value(f, at + "id");
    if (id.empty()) continue;
    const std::string name = Value(f, at + (call.lang == Lang::kThai ? "name.th" : "name.en"));
    options.push_back({{"value", id}, {"label", name.empty() ? id : id + " · " + name}});
  }
  return options;
}

// Every KPI key of `kpis` and their sub-KPIs.
void CollectKeys(const std::vector<domain::Kpi>& kpis, std::set<std::string>& keys) {
  for (const domain::Kpi& k : kpis) {
    if (!k.key.empty()) keys.insert(k.key);
    CollectKeys(k.sub_kpis, keys);
  }
}

// Every KPI of `kpis` and their sub-KPIs as options ("ตัวชี้วัด 4.1 ชื่อ").
void KpiOptions(PageCall& call, const std::vector<domain::Kpi>& kpis, json& options) {
  for (const domain::Kpi& k : kpis) {
    options.push_back(
        {{"value", k.id}, {"label", call.T("assign.kpi") + " " + k.id + " " + call.Pick(k.name)}});
    KpiOptions(call, k.sub_kpis, options);
  }
}

json KeyOptions(const std::set<std::string>& keys) {
  json options = json::array();
  for (const std::string& k : keys) options.push_back({{"value", k}, {"label", k}});
  return options;
}

// A group of checkboxes "`prefix`.<value>" for `choices` (value, label), with the ticked values
// of `f` that are not among them (kept, so that nothing is lost: an agency code no longer in the
// directory, which may hold dots like "moi.dla").
json Checkboxes(const formats::FormFields& f, ErrorBook& errors, const std::string& prefix,
                std::vector<std::pair<std::string, std::string>> choices) {
  const bool dotted = prefix.rfind("from_agencies.", 0) == 0;
  std::set<std::string> offered;
  for (const auto& c : choices) offered.insert(c.first);
  for (auto it = f.lower_bound(prefix + ".");
       it != f.end() && it->first.rfind(prefix + ".", 0) == 0; ++it) {
    const std::string value = it->first.substr(prefix.size() + 1);
    if (!it->second.empty() && !offered.count(value) &&
        (dotted || value.find('.') == std::string::npos)) {
      choices.emplace_back(value, value);
    }
  }
  json fields = json::array();
  for (const auto& [value, label] : choices) {
    fields.push_back(Field(f, errors, prefix + "." + value, label, "checkbox"));
  }
  return fields;
}

// The KPI form's section "where the values come from" (formats/framework_form_sources.h): its
// references, case rule, rule over other agencies' results and data catalog variables, with
// lists to choose from (the KPI's variables, the framework's KPIs, the KPI keys esar knows, the
// directory's agency kinds, ministries and agencies). A reference read from an earlier year's
// published result whose key esar has no result of in that year and round is said so beside it.
// Up to this many agencies in the directory, the rule over other agencies' results offers each
// as a box to tick; beyond, a field to name them by code.
constexpr int64_t kAgenciesToTick = 200;

json SourcesSections(PageCall& call, const service::StoredFramework& stored,
                     const formats::FormFields& f, ErrorBook& errors) {
  json sections = json::array();
  const json variables = VariableOptions(call, f);
  sections.push_back({{"id", "s-sources"},
                      {"title", call.T("form.section_sources")},
                      {"hint", call.T("form.sources_hint")},
                      {"hidden", json::array({{{"name", "sources.shown"}, {"value", "1"}}})},
                      {"errors", json::array()}});

  // ---- references ----
  std::set<std::string> keys;
  CollectKeys(stored.framework.kpis, keys);
  json kpis = json::array();
  KpiOptions(call, stored.framework.kpis, kpis);
  const json sources =
      json::array({{{"value", "kpi"}, {"label", call.T("form.ref_source_kpi")}},
                   {{"value", "result"}, {"label", call.T("form.ref_source_result")}}});
  const json rounds = json::array({{{"value", "12"}, {"label", call.T("form.round_value_12")}},
                                   {{"value", "6"}, {"label", call.T("form.round_value_6")}}});
  const json reads = json::array({{{"value", "result"}, {"label", call.T("form.ref_read_result")}},
                                  {{"value", "score"}, {"label", call.T("form.ref_read_score")}}});
  // The keys of the earlier results each reference names (one read per year and round).
  std::map<std::pair<int, int>, std::set<std::string>> results_of;
  const int references = RowCount(f, "references");
  for (int i = 0; i < references; ++i) {
    const std::string at = "references." + std::to_string(i) + ".";
    if (Value(f, at + "source") != "result" || Value(f, at + "key").empty()) continue;
    const std::string year = Value(f, at + "fiscal_year");
    if (year.size() != 4 || !std::all_of(year.begin(), year.end(), ::isdigit)) continue;
    const int round = Value(f, at + "round") == "6" ? 6 : 12;
    const std::pair<int, int> when{std::stoi(year), round};
    // A few years and rounds at most (a form has one or two); a forged form naming hundreds
    // is not read for each.
    if (results_of.count(when) || results_of.size() >= 8) continue;
    std::set<std::string>& found = results_of[when];
    if (auto known = service::History(call.db, call.clock).KeysWithResults(when.first, round)) {
      found = std::move(*known);
    }
    keys.insert(found.begin(), found.end());
  }
  json rows = json::array();
  for (int i = 0; i < references; ++i) {
    const std::string at = "references." + std::to_string(i) + ".";
    const std::string id = "r-references-" + std::to_string(i);
    json fields = json::array();
    fields.push_back(Field(f, errors, at + "name", call.T("form.ref_name"), "text",
                           call.T("form.ref_name_hint")));
    fields.push_back(
        Field(f, errors, at + "source", call.T("form.ref_source"), "select", "", sources));
    fields.push_back(Field(f, errors, at + "kpi", call.T("form.ref_kpi"), "select",
                           call.T("form.ref_kpi_hint"), kpis));
    fields.push_back(Field(f, errors, at + "variable", call.T("form.ref_variable"), "text",
                           call.T("form.ref_variable_hint")));
    fields.push_back(Field(f, errors, at + "fiscal_year", call.T("form.ref_fiscal_year"), "text",
                           call.T("form.ref_fiscal_year_hint")));
    fields.push_back(
        Field(f, errors, at + "round", call.T("form.ref_round"), "select", "", rounds));
    fields.push_back(Field(f, errors, at + "key", call.T("form.ref_key"), "select",
                           call.T("form.ref_key_hint"), KeyOptions(keys)));
    fields.push_back(Field(f, errors, at + "read", call.T("form.ref_read"), "select", "", reads));
    json errs = errors.Take("references." + std::to_string(i), id);
    // A warning, not an error: the row is saved as it is, and reads its value once the result
    // is published or imported. Shown beside the row in the warning's colour, its fields not
    // marked as wrong.
    json warnings = json::array();
    const std::string year = Value(f, at + "fiscal_year");
    if (Value(f, at + "source") == "result" && !Value(f, at + "key").empty() && year.size() == 4 &&
        std::all_of(year.begin(), year.end(), ::isdigit)) {
      const auto found = results_of.find({std::stoi(year), Value(f, at + "round") == "6" ? 6 : 12});
      if (found != results_of.end() && !found->second.count(Value(f, at + "key"))) {
        warnings.push_back(call.T("check.warning") + ": " + call.T("form.ref_no_result"));
      }
    }
    rows.push_back({{"legend", Numbered(call, "form.reference", i, references)},
                    {"id", id},
                    {"fields", fields},
                    {"errors", errs},
                    {"warnings", warnings}});
  }
  sections.push_back({{"id", "s-references"},
                      {"title", call.T("form.section_references")},
                      {"hint", call.T("form.references_hint")},
                      {"rows", rows},
                      {"sub", true},
                      {"errors", errors.Take("references", "s-references")}});

  // ---- the case rule ----
  std::vector<std::pair<std::string, std::string>> kinds;
  for (const std::string& k : formats::OfferedCaseKinds()) {
    kinds.emplace_back(k, call.T("caselog.kind_name." + k));
  }
  std::vector<std::pair<std::string, std::string>> categories, pauses, case_rounds;
  for (int c = 1; c <= 6; ++c) {
    categories.emplace_back(std::to_string(c),
                            call.T("form.cases_excluded_n") + " " + std::to_string(c));
  }
  for (const char* r : {"ria", "committee", "outside"}) {
    pauses.emplace_back(r, call.T(std::string("form.pause_") + r));
  }
  for (const char* r : {"6", "12"})
    case_rounds.emplace_back(r, call.T(std::string("form.round_value_") + r));
  json case_fields = json::array();
  case_fields.push_back(Field(f, errors, "cases.cutoff.6", call.T("form.cases_cutoff_6"), "text",
                              call.T("form.milestone_due_hint")));
  case_fields.push_back(Field(f, errors, "cases.cutoff.12", call.T("form.cases_cutoff_12"), "text",
                              call.T("form.milestone_due_hint")));
  case_fields.push_back(Field(f, errors, "cases.on_time", call.T("form.cases_on_time"), "select",
                              call.T("form.cases_variable_hint"), variables));
  case_fields.push_back(Field(f, errors, "cases.counted", call.T("form.cases_counted"), "select",
                              call.T("form.cases_variable_hint"), variables));
  json case_groups = json::array();
  auto group = [&](json& into, const std::string& prefix, const std::string& legend,
                   const std::vector<std::pair<std::string, std::string>>& choices,
                   const std::string& hint) {
    const std::string id = "g-" + HtmlId(prefix);
    json g = {{"legend", legend},
              {"id", id},
              {"fields", Checkboxes(f, errors, prefix, choices)},
              {"errors", errors.Take(prefix, id)}};
    // Nothing to tick (no ministries in the directory, no agency named yet): no empty legend.
    if (choices.empty() && g["errors"].empty()) return;
    // Null, not absent: an absent hint would show the section's own from the template's context.
    g["hint"] = hint.empty() ? json(nullptr) : json(hint);
    into.push_back(std::move(g));
  };
  group(case_groups, "cases.kinds", call.T("form.cases_kinds"), kinds, "");
  group(case_groups, "cases.excluded", call.T("form.cases_excluded"), categories, "");
  group(case_groups, "cases.pause", call.T("form.cases_pauses"), pauses, "");
  group(case_groups, "cases.backlog.round", call.T("form.cases_backlog_rounds"), case_rounds,
        call.T("form.cases_backlog_hint"));
  group(case_groups, "cases.backlog.kinds", call.T("form.cases_backlog_kinds"), kinds, "");
  json class_rows = json::array();
  const json units = json::array({{{"value", "months"}, {"label", call.T("form.unit_months")}},
                                  {{"value", "days"}, {"label", call.T("form.unit_days")}}});
  const int classes = RowCount(f, "cases.classes");
  for (int c = 0; c < classes; ++c) {
    const std::string at = "cases.classes." + std::to_string(c) + ".";
    const std::string id = "r-cases-classes-" + std::to_string(c);
    json fields = json::array();
    fields.push_back(
        Field(f, errors, at + "id", call.T("form.class_id"), "text", call.T("form.class_id_hint")));
    fields.push_back(Field(f, errors, at + "name.th", call.T("form.name_th"), "text"));
    fields.push_back(Field(f, errors, at + "name.en", call.T("form.name_en"), "text"));
    fields.push_back(Field(f, errors, at + "standard", call.T("form.class_standard"), "text"));
    fields.push_back(Field(f, errors, at + "standard_unit", call.T("form.class_standard_unit"),
                           "select", "", units));
    for (const std::string& cf : formats::CaseConditionFields()) {
      for (const char* bound : {"at_least", "at_most"}) {
        fields.push_back(Field(
            f, errors, at + cf + "." + bound,
            call.T("form.case_field_" + cf) + " " + call.T(std::string("form.bound_") + bound),
            "text",
            cf == "sections" && std::string(bound) == "at_least" ? call.T("form.class_when_hint")
                                                                 : ""));
      }
    }
    const std::string legend = Numbered(call, "form.case_class", c, classes);
    class_rows.push_back({{"legend", legend},
                          {"id", id},
                          {"fields", fields},
                          {"errors", errors.Take("cases.classes." + std::to_string(c), id)}});
    const int windows = RowCount(f, at + "windows");
    for (int w = 0; w < windows; ++w) {
      const std::string wat = at + "windows." + std::to_string(w) + ".";
      const std::string wid = id + "-w" + std::to_string(w);
      json wf = json::array();
      wf.push_back(Field(f, errors, wat + "from", call.T("form.window_from"), "text",
                         call.T("form.milestone_due_hint")));
      wf.push_back(Field(f, errors, wat + "to", call.T("form.window_to"), "text",
                         call.T("form.milestone_due_hint")));
      wf.push_back(Field(f, errors, wat + "round.6", call.T("form.window_round_6"), "checkbox"));
      wf.push_back(Field(f, errors, wat + "round.12", call.T("form.window_round_12"), "checkbox"));
      class_rows.push_back(
          {{"legend", legend + " · " + Numbered(call, "form.case_window", w, windows)},
           {"id", wid},
           {"fields", wf},
           {"errors", errors.Take(at + "windows." + std::to_string(w), wid)}});
    }
  }
  sections.push_back({{"id", "s-cases"},
                      {"title", call.T("form.section_cases")},
                      {"hint", call.T("form.cases_hint")},
                      {"fields", case_fields},
                      {"groups", case_groups},
                      {"rows", class_rows},
                      {"sub", true},
                      {"errors", errors.Take("cases", "s-cases")}});

  // ---- other agencies' results ----
  std::set<std::string> year_keys = keys;
  if (auto others = service::Cycle(call.db, call.clock)
                        .OtherFrameworksOfYear(stored.fiscal_year, stored.agency_kind)) {
    for (const service::StoredFramework& o : *others) CollectKeys(o.framework.kpis, year_keys);
  }
  json measures = json::array();
  for (const std::string& m : formats::PeerMeasures()) {
    measures.push_back({{"value", m}, {"label", call.T("form.measure_" + m)}});
  }
  json levels = json::array();
  for (size_t l = 0; l < stored.framework.levels.size(); ++l) {
    levels.push_back(
        {{"value", std::to_string(l + 1)},
         {"label", std::to_string(l + 1) + " · " + call.Pick(stored.framework.levels[l].name)}});
  }
  json fa = json::array();
  fa.push_back(Field(f, errors, "from_agencies.variable", call.T("form.fa_variable"), "select", "",
                     variables));
  fa.push_back(Field(f, errors, "from_agencies.key", call.T("form.fa_key"), "select",
                     call.T("form.fa_key_hint"), KeyOptions(year_keys)));
  fa.push_back(
      Field(f, errors, "from_agencies.measure", call.T("form.fa_measure"), "select", "", measures));
  fa.push_back(Field(f, errors, "from_agencies.level", call.T("form.fa_level"), "select",
                     call.T("form.fa_level_hint"), levels));
  fa.push_back(Field(f, errors, "from_agencies.at_least", call.T("form.fa_at_least"), "text"));
  fa.push_back(Field(f, errors, "from_agencies.at_most", call.T("form.fa_at_most"), "text"));
  std::vector<std::pair<std::string, std::string>> agency_kinds, ministries, codes;
  service::Directory directory(call.db, call.clock);
  if (auto kinds_known = directory.Kinds()) {
    for (const std::string& k : *kinds_known) {
      const std::string label = call.T("kind." + k);
      agency_kinds.emplace_back(k, label == "kind." + k ? k : label);
    }
  }
  const auto label_of = [&](const domain::Agency& a) {
    return call.Pick(a.name) + " (" + a.code + ")";
  };
  std::set<std::string> parents;
  if (auto found = directory.Parents()) {
    for (const domain::Agency& a : *found) {
      parents.insert(a.code);
      ministries.emplace_back(a.code, label_of(a));
    }
  }
  // Every agency as a box to tick while the directory is small; beyond that (8,000 local
  // governments would make the page megabytes) the rule's own agencies as ticked boxes, to keep
  // or untick, and a field to add others by code.
  auto count = call.db.Query("SELECT COUNT(*) FROM agencies");
  const bool every_agency = count && (*count)[0].Int(0) <= kAgenciesToTick;
  std::vector<std::string> in_rule;
  const std::string prefix = "from_agencies.codes.";
  for (auto it = f.lower_bound(prefix); it != f.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    if (!it->second.empty()) in_rule.push_back(it->first.substr(prefix.size()));
  }
  std::vector<domain::Agency> offered;
  if (every_agency) {
    if (auto all = directory.Agencies()) offered = std::move(*all);
  } else if (auto named = directory.FindAgencies(in_rule)) {
    offered = std::move(*named);
  }
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> m, c;
  for (const domain::Agency& a : offered) {
    (parents.count(a.code) ? m : c)
        .push_back({ThaiSortKey(call.Pick(a.name)), {a.code, label_of(a)}});
  }
  std::sort(m.begin(), m.end());
  std::sort(c.begin(), c.end());
  for (auto& [key, pair] : c) codes.push_back(pair);
  // A ministry is also an agency one may name alone.
  for (auto& [key, pair] : m) codes.push_back(pair);
  // A code the rule names that the directory does not have (a framework imported with it) is
  // still a box, ticked, labelled with the code: saving another field must not drop it unseen.
  std::set<std::string> shown;
  for (const auto& [code, label] : codes) shown.insert(code);
  for (const std::string& code : in_rule) {
    if (!shown.count(code)) codes.emplace_back(code, code + " · " + call.T("form.fa_code_unknown"));
  }
  if (!every_agency) {
    fa.push_back(Field(f, errors, "from_agencies.typed_codes", call.T("form.fa_typed_codes"),
                       "text", call.T("form.fa_typed_codes_hint")));
  }
  json fa_groups = json::array();
  group(fa_groups, "from_agencies.kinds", call.T("form.fa_kinds"), agency_kinds,
        call.T("form.fa_agencies_hint"));
  group(fa_groups, "from_agencies.ministries", call.T("form.fa_ministries"), ministries, "");
  group(fa_groups, "from_agencies.codes", call.T("form.fa_codes"), codes, "");
  sections.push_back({{"id", "s-from-agencies"},
                      {"title", call.T("form.section_from_agencies")},
                      {"hint", call.T("form.from_agencies_hint")},
                      {"fields", fa},
                      {"groups", fa_groups},
                      {"sub", true},
                      {"errors", errors.Take("from_agencies", "s-from-agencies")}});

  // ---- the data catalog ----
  json catalog = json::array();
  for (const char* role : {"datasets", "complete", "complete_percent"}) {
    catalog.push_back(Field(f, errors, std::string("catalog.") + role,
                            call.T(std::string("form.catalog_") + role), "select", "", variables));
  }
  sections.push_back({{"id", "s-catalog"},
                      {"title", call.T("form.section_catalog")},
                      {"hint", call.T("form.catalog_hint")},
                      {"fields", catalog},
                      {"sub", true},
                      {"errors", errors.Take("catalog", "s-catalog")}});
  return sections;
}

// The KPI form's sections, for the KPI at `place`.
json KpiFormSections(PageCall& call, const service::StoredFramework& stored,
                     const formats::FormFields& f, ErrorBook& errors, const KpiPlace& place) {
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
  json kept = json::array();
  if (place.sub_depth > 0) {
    // A sub-KPI takes its parent's component (§2.2): its share of the parent's score instead.
    general.push_back(Field(
        f, errors, "weight",
        call.T("form.sub_kpi_share") + " (" + call.T("report.kpi") + " " + place.parent_id + ")",
        "text", call.T("form.sub_kpi_share_hint")));
    if (!Value(f, "component").empty())
      kept.push_back({{"name", "component"}, {"value", Value(f, "component")}});
  } else if (components.empty()) {
    general.push_back(Field(f, errors, "component", call.T("form.component"), "text",
                            call.T("form.component_free_hint")));
  } else {
    general.push_back(
        Field(f, errors, "component", call.T("form.component"), "select", "", components));
  }
  general.push_back(
      Field(f, errors, "unit.th", call.T("form.unit_th"), "text", call.T("form.unit_hint")));
  general.push_back(Field(f, errors, "unit.en", call.T("form.unit_en"), "text"));
  general.push_back(
      Field(f, errors, "result", call.T("form.result"), "text", call.T("form.result_hint")));
  json flags = json::array();
  for (const char* flag : {"new", "continuing", "reform_plan", "monitoring_only"}) {
    flags.push_back(Field(f, errors, std::string("flag.") + flag,
                          call.T(std::string("form.flag_") + flag), "checkbox"));
  }
  json rounds = json::array();
  for (const char* r : {"6", "12"}) {
    rounds.push_back(Field(f, errors, std::string("round.") + r,
                           call.T(std::string("form.round_") + r), "checkbox"));
  }
  json groups = json::array({{{"legend", call.T("form.flags")},
                              {"id", "g-flags"},
                              {"fields", flags},
                              {"errors", errors.Take("flags", "g-flags")}},
                             {{"legend", call.T("form.rounds")},
                              {"id", "g-rounds"},
                              {"fields", rounds},
                              {"hint", call.T("form.rounds_hint")},
                              {"errors", errors.Take("rounds", "g-rounds")}}});
  sections.push_back({{"id", "s-kpi"},
                      {"title", call.T("form.section_kpi")},
                      {"fields", general},
                      {"groups", groups},
                      {"hidden", kept},
                      {"errors", json::array()}});

  // ---- a new sub-KPI: its siblings' shares, which change with its own ----
  if (!place.exists && place.sub_depth > 0 && !place.siblings.empty()) {
    json shares = json::array();
    for (const json& sibling : place.siblings) {
      const std::string id = sibling["id"];
      shares.push_back(Field(
          f, errors, "shares." + id,
          call.T("form.sub_kpi") + " " + id + " " + sibling["name"].get<std::string>(), "text"));
    }
    sections.push_back({{"id", "s-shares"},
                        {"title", call.T("form.sub_kpi_shares") + " " + place.parent_id},
                        {"hint", call.T("form.sub_kpi_shares_hint")},
                        {"fields", shares},
                        {"errors", errors.Take("shares", "s-shares")}});
  }

  // ---- criteria: every form, groups inside groups kMaxFormGroupDepth deep (deeper ones stay
  // in the JSON below), or the sub-KPIs of a composite KPI ----
  // A KPI without criteria (and without sub-KPIs) is offered the choice of a form.
  const std::string form = Value(f, "criteria.form");
  if (!form.empty() || (!place.has_criteria && !place.composite)) {
    const bool composite_offered = place.exists && place.sub_depth < formats::kMaxSubKpiDepth;
    json how = json::array({FormSelect(call, f, errors, "criteria", 0, composite_offered)});
    json criteria_rows = json::array();
    json hidden = json::array();
    if (form == "sub_kpis") {
      SubKpiRows(call, f, errors, place, criteria_rows, hidden);
    } else {
      CriteriaFields(call, stored, f, errors, "criteria", "", 0, how, criteria_rows, hidden);
    }
    json section_links = json::array();
    if (form == "sub_kpis" && place.exists && place.sub_depth < formats::kMaxSubKpiDepth) {
      section_links.push_back({{"href", "#add-sub"}, {"label", call.T("form.sub_kpi_add_link")}});
    }
    json errs = errors.Take("criteria", "s-criteria");
    for (const json& e : errors.Take("sub_kpis", "s-criteria")) errs.push_back(e);
    sections.push_back(
        {{"id", "s-criteria"},
         {"title", call.T("form.section_criteria")},
         {"section_links", section_links},
         {"hint", call.T(form.empty() ? "form.criteria_choose" : "form.criteria_form_" + form)},
         {"fields", how},
         {"rows", criteria_rows},
         {"hidden", hidden},
         {"errors", errs}});
  }

  // ---- variables ----
  json types = json::array();
  for (const char* t :
       {"number", "percent", "count", "pass_fail", "number_list", "derived", "date"}) {
    types.push_back({{"value", t}, {"label", call.T(std::string("form.type_") + t)}});
  }
  json rows = json::array();
  const int variables = RowCount(f, "variables");
  for (int i = 0; i < variables; ++i) {
    const std::string at = "variables." + std::to_string(i) + ".";
    json fields = json::array();
    fields.push_back(
        Field(f, errors, at + "id", call.T("form.var_id"), "text", call.T("form.var_id_hint")));
    fields.push_back(Field(f, errors, at + "type", call.T("form.var_type"), "select", "", types));
    fields.push_back(Field(f, errors, at + "name.th", call.T("form.name_th"), "text"));
    fields.push_back(Field(f, errors, at + "name.en", call.T("form.name_en"), "text"));
    fields.push_back(Field(f, errors, at + "unit.th", call.T("form.unit_th"), "text"));
    fields.push_back(Field(f, errors, at + "unit.en", call.T("form.unit_en"), "text"));
    fields.push_back(Field(f, errors, at + "formula", call.T("form.var_formula"), "text",
                           call.T("form.var_formula_hint")));
    fields.push_back(Field(f, errors, at + "length", call.T("form.var_length"), "text",
                           call.T("form.var_length_hint")));
    fields.push_back(Field(f, errors, at + "min", call.T("form.var_min"), "text"));
    fields.push_back(Field(f, errors, at + "max", call.T("form.var_max"), "text"));
    fields.push_back(Field(f, errors, at + "optional", call.T("form.var_optional"), "checkbox"));
    const std::string id = "r-variables-" + std::to_string(i);
    rows.push_back({{"legend", Numbered(call, "form.variable", i, variables)},
                    {"id", id},
                    {"fields", fields},
                    {"errors", errors.Take("variables." + std::to_string(i), id)}});
  }
  sections.push_back({{"id", "s-variables"},
                      {"title", call.T("form.section_variables")},
                      {"hint", call.T("form.variables_hint")},
                      {"rows", rows},
                      {"errors", errors.Take("variables", "s-variables")}});
  for (json& section : SourcesSections(call, stored, f, errors))
    sections.push_back(std::move(section));

  // ---- documentation ----
  json doc = json::array();
  auto text_pair = [&](const std::string& key) {
    doc.push_back(Field(f, errors, "doc." + key + ".th",
                        call.T("form.doc_" + key) + " " + call.T("form.in_thai"), "area", "", {},
                        4));
    doc.push_back(Field(f, errors, "doc." + key + ".en",
                        call.T("form.doc_" + key) + " " + call.T("form.in_english"), "area", "", {},
                        3));
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
          {{"legend", Numbered(call, "form.doc_" + key + "_item", i, n)},
           {"id", id},
           {"fields",
            json::array(
                {Field(f, errors, at + "th", call.T("form.in_thai_text"), "area", "", {}, 2),
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
          {{"legend", Numbered(call, "form.doc_" + key + "_item", i, n)},
           {"id", id},
           {"fields",
            json::array(
                {Field(f, errors, at + "fiscal_year", call.T("form.fiscal_year"), "text",
                       call.T("form.fiscal_year_hint")),
                 Field(f, errors, at + "value", call.T("form.value"), "text"),
                 Field(f, errors, at + "text.th", call.T("form.in_thai_text"), "text"),
                 Field(f, errors, at + "text.en", call.T("form.in_english_text"), "text")})},
           {"errors", errors.Take(prefix + "." + std::to_string(i), id)}});
    }
  };
  sections.push_back({{"id", "s-doc"},
                      {"title", call.T("form.section_doc")},
                      {"fields", doc},
                      {"errors", errors.Take("documentation", "s-doc")}});
  for (const char* key : {"definitions", "baseline", "roadmap", "steps"}) {
    doc_rows = json::array();
    if (std::string(key) == "baseline" || std::string(key) == "roadmap") {
      year_rows(key);
    } else {
      text_rows(key);
    }
    const std::string id = "s-doc-" + std::string(key);
    sections.push_back({{"id", id},
                        {"title", call.T(std::string("form.doc_") + key)},
                        {"hint", call.T(std::string("form.doc_") + key + "_hint")},
                        {"rows", doc_rows},
                        {"sub", true},
                        {"errors", errors.Take(std::string("doc.") + key, id)}});
  }
  for (const char* key : {"scope", "data_collection", "data_source", "formula", "benefit"}) {
    doc = json::array();
    text_pair(key);
    sections.push_back({{"id", "s-doc-" + std::string(key)},
                        {"title", call.T(std::string("form.doc_") + key)},
                        {"fields", doc},
                        {"sub", true},
                        {"errors", json::array()}});
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

// Where KPI `kpi_id` lies in `document` (stored framework `stored`), or, for a new KPI's form
// (`fields` "new"), where it will: after its parent's sub-KPIs ("parent") or after the KPIs.
KpiPlace PlaceOf(const service::StoredFramework& stored, const json& document,
                 const std::string& kpi_id, const formats::FormFields& fields) {
  KpiPlace place;
  place.base = "/admin/frameworks/" + std::to_string(stored.id) + "/kpis/";
  place.path = formats::KpiPath(document, kpi_id);
  place.exists = !place.path.empty();
  if (place.exists) {
    const json& kpi = document[json::json_pointer(place.path)];
    place.has_criteria = kpi.contains("criteria");
    place.composite = kpi.contains("sub_kpis");
  } else {
    const std::string parent_path = formats::KpiPath(document, Value(fields, "parent"));
    if (!Value(fields, "parent").empty() && !parent_path.empty()) {
      const json& subs = document[json::json_pointer(parent_path)].value("sub_kpis", json::array());
      for (const json& sub : subs) {
        const auto& name = sub.value("name", json());
        place.siblings.push_back(
            {{"id", sub.value("id", "")},
             {"name", name.is_string() ? name.get<std::string>()
                                       : name.value("th", name.value("en", ""))}});
      }
      place.path = parent_path + "/sub_kpis/" + std::to_string(subs.size());
    } else {
      place.path = "/kpis/" + std::to_string(document.value("kpis", json::array()).size());
    }
  }
  const std::string parent_path = formats::ParentKpiPath(place.path);
  if (!parent_path.empty()) {
    place.parent_id = document[json::json_pointer(parent_path)].value("id", "");
  }
  for (size_t at = place.path.find("/sub_kpis/"); at != std::string::npos;
       at = place.path.find("/sub_kpis/", at + 1)) {
    ++place.sub_depth;
  }
  return place;
}

HttpResponse KpiFormPage(PageCall& call, const service::StoredFramework& stored,
                         const std::string& kpi_id, const formats::FormFields& fields,
                         const Status& form_error, const std::vector<domain::Finding>& findings,
                         bool checked, const std::string& json_text, const std::string& json_error,
                         int status, const domain::Framework* edited = nullptr) {
  const json document = json::parse(stored.document);
  const KpiPlace place = PlaceOf(stored, document, kpi_id, fields);
  const std::string& kpi_path = place.path;
  ErrorBook errors;
  if (!form_error.ok()) errors.Add(form_error.where().json_path, call.Message(form_error));
  json other_findings = json::array();
  // Warnings about other KPIs are not this editor's business: the KPI is clean when nothing
  // shown on this page concerns it.
  size_t findings_shown = 0;
  for (const domain::Finding& finding : findings) {
    const std::string field =
        formats::KpiFieldOfFinding(kpi_path, Value(fields, "key"), finding, &fields);
    const std::string text =
        call.T(finding.severity == domain::Severity::kError ? "check.error" : "check.warning") +
        ": " + (call.lang == Lang::kThai ? finding.message_th : finding.message_en);
    const bool criteria_in_json =
        field.rfind("criteria", 0) == 0 && fields.count("criteria.form") == 0;
    if (field.empty() || criteria_in_json) {
      // Findings elsewhere in the framework, or in criteria without a form (edited as JSON
      // below), are listed with the findings of the whole KPI.
      if (finding.where.json_path.rfind(kpi_path + "/", 0) == 0 ||
          finding.where.json_path == kpi_path || finding.severity == domain::Severity::kError) {
        other_findings.push_back(text);
        ++findings_shown;
      }
      continue;
    }
    if (finding.severity == domain::Severity::kError)
      errors.Add(field, text);
    else
      errors.AddWarning(field, text);
    ++findings_shown;
  }
  json model = {{"id", stored.id},
                {"kpi", kpi_id},
                {"title", call.Pick(stored.framework.title)},
                {"frozen", stored.frozen},
                {"action", place.base + UrlEncode(kpi_id)},
                {"back", "/admin/frameworks/" + std::to_string(stored.id)},
                {"text", json_text},
                {"is_new", fields.count("new") > 0},
                {"has_json", fields.count("new") == 0},
                {"json_open", !json_error.empty()},
                {"other_findings", other_findings},
                {"clean", checked && findings_shown == 0 && form_error.ok() && json_error.empty()}};
  if (!place.parent_id.empty()) {
    model["parent"] = {{"id", place.parent_id}, {"href", place.base + UrlEncode(place.parent_id)}};
    if (!place.exists) {
      model["new_parent"] = place.parent_id;
      model["parent_has_criteria"] =
          document[json::json_pointer(formats::ParentKpiPath(place.path))].contains("criteria");
    }
  }
  // The version the editor started from travels with the form, through checks and refusals, so
  // that saving never overwrites what someone else saved meanwhile (service::Authoring).
  const std::string sent = call.Field("token");
  model["token"] = sent.empty() ? service::Authoring::Token(stored.document) : sent;
  model["sections"] = KpiFormSections(call, stored, fields, errors, place);
  errors.SplitWarnings(model["sections"]);
  // Criteria the form cannot show (groups nested deeper) are said to be the JSON editor's.
  model["criteria_form"] = fields.count("criteria.form") > 0 || !place.has_criteria;
  // A composite KPI (or one being made so) adds a sub-KPI on the new sub-KPI's own page.
  if (place.exists && place.sub_depth < formats::kMaxSubKpiDepth &&
      (place.composite || Value(fields, "criteria.form") == "sub_kpis")) {
    const json& kpi = document[json::json_pointer(kpi_path)];
    const size_t subs = kpi.value("sub_kpis", json::array()).size();
    json add = {{"action", place.base + UrlEncode(kpi_id)},
                {"suggested", kpi_id + "." + std::to_string(subs + 1)},
                {"weight", subs == 0 ? "100" : ""}};
    if (call.form.count("__sub_error")) add["error"] = call.Field("__sub_error");
    model["add_sub"] = add;
  }
  // The criteria as the agencies read them: from the form as checked (unsaved) when there is
  // one, else as stored; for a chosen agency, with its own group and targets filled in. The
  // agencies offered are those assigned the KPI's top-level KPI.
  const domain::Framework& shown = edited ? *edited : stored.framework;
  const domain::Kpi* kpi = domain::FindKpi(shown.kpis, kpi_id);
  const std::string preview =
      call.request.method == "POST" ? call.Field("preview") : call.Query("preview");
  const size_t second = kpi_path.find('/', 6);
  const std::string top_path = second == std::string::npos ? kpi_path : kpi_path.substr(0, second);
  const json top = document.contains(json::json_pointer(top_path))
                       ? document[json::json_pointer(top_path)]
                       : json::object();
  model["preview"] = PreviewModel(call, shown, top.value("id", kpi_id), preview);
  if (kpi != nullptr && !kpi->criteria) {
    // A composite KPI's score is its sub-KPIs': they are listed with their shares.
    model["criteria_doc"] = KpiDocModel(call, shown, *kpi, nullptr);
  }
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
  const json warnings = errors.Summary(true);
  if (!warnings.empty()) model["warning_summary"] = warnings;
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
  const std::string path = formats::KpiPath(document, kpi_id);
  if (path.empty())
    return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัด " + kpi_id, "no KPI " + kpi_id));
  const formats::FormFields fields = formats::KpiFormFields(document[json::json_pointer(path)]);
  // The same limits as every JSON input (depth above all: the editor's text is re-serialized).
  auto kpi = formats::ParseJsonBody(text);
  if (!kpi) {
    return KpiFormPage(call, *stored, kpi_id, fields, Status::Ok(), {}, false, text,
                       kpi.status().ToString(call.lang == Lang::kThai), 400);
  }
  document[json::json_pointer(path)] = std::move(*kpi);
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

// The new sub-KPI page asked for by a composite KPI's "add a sub-KPI" (GET ?add_sub=1 on the
// parent's address, with its number, name and share): the KPI form of the new sub-KPI, its
// siblings' shares beside its own; or the parent's page again saying why not.
HttpResponse NewSubKpiPage(PageCall& call, const service::StoredFramework& stored,
                           const json& document, const std::string& parent_id) {
  const std::string id = call.Query("sub_id");
  const std::string parent_path = formats::KpiPath(document, parent_id);
  const json& parent = document[json::json_pointer(parent_path)];
  auto refuse = [&](const std::string& th, const std::string& en, int status) {
    call.form["__sub_error"] = call.lang == Lang::kThai ? th : en;
    return KpiFormPage(call, stored, parent_id, formats::KpiFormFields(parent), Status::Ok(), {},
                       false, parent.dump(2), "", status);
  };
  if (!formats::IsSafeKpiId(id)) {
    return refuse("เลขที่ตัวชี้วัดย่อย \"" + id +
                      "\" ใช้ได้เฉพาะอักษรอังกฤษ ตัวเลข . - และ _ (ไม่เกิน 32 ตัว) เช่น " + parent_id + ".1",
                  "sub-KPI number \"" + id +
                      "\": English letters, digits, '.', '-' and '_' only (at most 32), such as " +
                      parent_id + ".1",
                  400);
  }
  if (!formats::KpiPath(document, id).empty()) {
    return refuse("มีตัวชี้วัด " + id + " อยู่แล้ว: ใช้เลขที่อื่น",
                  "KPI " + id + " exists already: use another number", 409);
  }
  formats::FormFields fields = formats::SubKpiShareFields(parent, "");
  fields.insert({{"new", "1"},
                 {"parent", parent_id},
                 {"round.6", "1"},
                 {"round.12", "1"},
                 {"name.th", call.Query("sub_name")},
                 {"weight", call.Query("sub_weight")}});
  return KpiFormPage(call, stored, id, fields, Status::Ok(), {}, false, "", "", 200);
}

}  // namespace

HttpResponse Pages::KpiEditor(PageCall& call) {
  auto stored = service::Cycle(call.db, clock_).Framework(ParseId(call.request.params.at("id")));
  if (!stored) return ErrorPage(call, stored.status());
  const std::string kpi_id = call.request.params.at("kpi");
  const json document = json::parse(stored->document);
  const std::string path = formats::KpiPath(document, kpi_id);
  if (path.empty() && call.Query("new") == "1" && formats::IsSafeKpiId(kpi_id)) {
    // A new KPI: the form empty but for its rounds, its criteria's form to choose.
    const formats::FormFields blank = {{"new", "1"}, {"round.6", "1"}, {"round.12", "1"}};
    return KpiFormPage(call, *stored, kpi_id, blank, Status::Ok(), {}, false, "", "", 200);
  }
  if (path.empty())
    return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัด " + kpi_id, "no KPI " + kpi_id));
  if (call.Query("add_sub") == "1") return NewSubKpiPage(call, *stored, document, kpi_id);
  const json& kpi = document[json::json_pointer(path)];
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
  const json document = json::parse(stored->document);
  const std::string path = formats::KpiPath(document, kpi_id);
  const bool add = call.Field("new") == "1";
  const std::string parent = add ? call.Field("parent") : "";
  if (add && !path.empty()) {
    // Sent twice, or another admin added that number first: nothing is overwritten.
    return KpiFormPage(call, *stored, kpi_id, call.form,
                       Status::Conflict("มีตัวชี้วัด " + kpi_id + " อยู่แล้ว จึงไม่ได้เพิ่มซ้ำ",
                                        "KPI " + kpi_id + " exists already: nothing was added"),
                       {}, false, "", "", 409);
  }
  if (path.empty() && !add) {
    return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัด " + kpi_id, "no KPI " + kpi_id));
  }
  if (add && !formats::IsSafeKpiId(kpi_id)) {
    return ErrorPage(call, Status::InvalidInput("เลขที่ตัวชี้วัดไม่ถูกต้อง", "malformed KPI number"));
  }
  if (!parent.empty() && formats::KpiPath(document, parent).empty()) {
    return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัด " + parent, "no KPI " + parent));
  }
  const std::string json_text = add ? "" : document[json::json_pointer(path)].dump(2);
  std::vector<std::string> components;
  for (const auto& c : stored->framework.components) components.push_back(c.id);
  // Checked as the service will save it.
  auto change = formats::ApplyKpiFormAt(document, kpi_id, call.form, components, add, parent);
  if (!change) {
    return KpiFormPage(call, *stored, kpi_id, call.form, change.status(), {}, false, json_text, "",
                       HttpStatusOf(change.status().code()));
  }
  auto framework = formats::ParseFramework(change->document.dump(2), "framework.json");
  if (!framework) {
    Status s = framework.status();
    const std::string field = formats::KpiFieldOfPath(change->kpi_path, s.where().json_path);
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
  const std::string token = call.Field("token");
  auto saved =
      !add ? authoring.SaveKpiForm(call.actor, stored->id, token, kpi_id, call.form)
      : parent.empty()
          ? authoring.AddKpiForm(call.actor, stored->id, token, kpi_id, call.form)
          : authoring.AddSubKpiForm(call.actor, stored->id, token, parent, kpi_id, call.form);
  if (!saved) {
    return KpiFormPage(call, *stored, kpi_id, call.form, saved.status(), findings, false, json_text,
                       "", HttpStatusOf(saved.status().code()));
  }
  return Redirect("/admin/frameworks/" + std::to_string(saved->id) + "?done=kpi_saved#kpi-" +
                  HtmlId(kpi_id));
}

// The removal of a sub-KPI: what goes (its name, share, variables and own sub-KPIs), and the
// shares its siblings keep, to confirm; the POST removes it (service::Authoring::RemoveSubKpi).
HttpResponse Pages::RemoveSubKpiPage(PageCall& call) {
  auto stored = service::Cycle(call.db, clock_).Framework(ParseId(call.request.params.at("id")));
  if (!stored) return ErrorPage(call, stored.status());
  const std::string kpi_id = call.request.params.at("kpi");
  const json document = json::parse(stored->document);
  const std::string path = formats::KpiPath(document, kpi_id);
  const std::string parent_path = formats::ParentKpiPath(path);
  if (path.empty() || parent_path.empty()) {
    return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัดย่อย " + kpi_id, "no sub-KPI " + kpi_id));
  }
  const json& parent = document[json::json_pointer(parent_path)];
  const domain::Kpi* kpi = domain::FindKpi(stored->framework.kpis, kpi_id);
  const bool posted = call.request.method == "POST";
  const formats::FormFields fields = posted
                                         ? formats::FormFields(call.form.begin(), call.form.end())
                                         : formats::SubKpiShareFields(parent, kpi_id);
  ErrorBook errors;
  if (posted && call.form.count("__error"))
    errors.Add(call.Field("__field"), call.Field("__error"));
  json shares = json::array();
  for (const auto& [name, value] : formats::SubKpiShareFields(parent, kpi_id)) {
    const std::string id = name.substr(7);
    const domain::Kpi* sibling = domain::FindKpi(stored->framework.kpis, id);
    shares.push_back(Field(fields, errors, name,
                           call.T("form.sub_kpi") + " " + id + " " +
                               (sibling ? call.Pick(sibling->name) : std::string()),
                           "text", call.T("form.sub_kpi_share_hint")));
  }
  json facts = json::array();
  if (kpi != nullptr) {
    facts.push_back(call.T("form.sub_kpi") + " " + kpi->id + " " + call.Pick(kpi->name) + " (" +
                    call.T("form.sub_kpi_share") + " " + ShortestDecimal(kpi->weight_in_parent) +
                    ")");
    if (!kpi->variables.empty()) {
      facts.push_back(call.T("form.sub_kpi_remove_variables") + " " +
                      std::to_string(kpi->variables.size()));
    }
    for (const domain::Kpi& sub : kpi->sub_kpis) {
      facts.push_back(call.T("form.sub_kpi") + " " + sub.id + " " + call.Pick(sub.name));
    }
  }
  const std::string base = "/admin/frameworks/" + std::to_string(stored->id) + "/kpis/";
  json model = {
      {"kpi", kpi_id},
      {"parent", parent.value("id", "")},
      {"back", base + UrlEncode(parent.value("id", ""))},
      {"action", base + UrlEncode(kpi_id) + "/remove"},
      {"token", posted ? call.Field("token") : service::Authoring::Token(stored->document)},
      {"facts", facts},
      {"shares", shares},
      {"shares_errors", errors.Take("shares", "remove-shares")}};
  const json summary = errors.Summary();
  if (!summary.empty()) model["summary"] = summary;
  return RenderPage(
      call, "admin_kpi_remove", model, call.T("form.sub_kpi_remove") + " " + kpi_id,
      posted && call.form.count("__status") ? std::stoi(call.Field("__status")) : 200);
}

HttpResponse Pages::RemoveSubKpi(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  const std::string kpi_id = call.request.params.at("kpi");
  auto stored = service::Cycle(call.db, clock_).Framework(id);
  if (!stored) return ErrorPage(call, stored.status());
  const std::string parent_path =
      formats::ParentKpiPath(formats::KpiPath(json::parse(stored->document), kpi_id));
  auto removed = service::Authoring(call.db, clock_)
                     .RemoveSubKpi(call.actor, id, call.Field("token"), kpi_id, call.form);
  if (!removed) {
    if (removed.status().code() == StatusCode::kNotFound) return ErrorPage(call, removed.status());
    call.form["__field"] = removed.status().where().json_path;
    call.form["__error"] = call.Message(removed.status());
    call.form["__status"] = std::to_string(HttpStatusOf(removed.status().code()));
    return RemoveSubKpiPage(call);
  }
  const std::string parent =
      json::parse(stored->document)[json::json_pointer(parent_path)].value("id", "");
  return Redirect("/admin/frameworks/" + std::to_string(removed->id) + "/kpis/" +
                  UrlEncode(parent) + "?done=sub_kpi_removed");
}

json Pages::ComponentsModel(PageCall& call, const service::StoredFramework& stored) {
  const bool posted =
      call.request.method == "POST" && call.request.path.size() >= 11 &&
      call.request.path.compare(call.request.path.size() - 11, 11, "/components") == 0;
  const formats::FormFields fields =
      posted ? formats::FormFields(call.form.begin(), call.form.end())
             : formats::ComponentsFormFields(json::parse(stored.document));
  ErrorBook errors;
  if (posted && call.form.count("__cerror"))
    errors.Add(call.Field("__field"), call.Field("__cerror"));
  json rows = json::array();
  const int n = RowCount(fields, "components");
  for (int i = 0; i < n; ++i) {
    const std::string at = "components." + std::to_string(i) + ".";
    const std::string id = "r-components-" + std::to_string(i);
    rows.push_back(
        {{"legend", Numbered(call, "form.component_row", i, n)},
         {"id", id},
         {"fields",
          json::array({Field(fields, errors, at + "id", call.T("form.component_id"), "text",
                             call.T("form.component_id_hint")),
                       Field(fields, errors, at + "name.th", call.T("form.name_th"), "text"),
                       Field(fields, errors, at + "name.en", call.T("form.name_en"), "text"),
                       Field(fields, errors, at + "share", call.T("form.share"), "text",
                             call.T("form.share_hint"))})},
         {"errors", errors.Take("components." + std::to_string(i), id)}});
  }
  json model = {
      {"action", "/admin/frameworks/" + std::to_string(stored.id) + "/components"},
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
  return Redirect("/admin/frameworks/" + std::to_string(saved->id) +
                  "?done=components_saved#components");
}

}  // namespace esar::web
