#include "web/kpi_view.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "common/thai.h"
#include "domain/criteria_view.h"
#include "domain/engine.h"
#include "domain/expression.h"
#include "formats/report.h"
#include "service/directory.h"
#include "service/history.h"
#include "service/reporting.h"

namespace esar::web {

using nlohmann::json;

Result<domain::Agency> FindAgency(storage::Database& db, const Clock& clock,
                                  const std::string& code) {
  return service::Directory(db, clock).FindAgency(code);
}

const domain::Criteria* EffectiveCriteria(const domain::Framework& framework,
                                          const std::string& agency, const domain::Kpi& kpi) {
  const domain::Criteria* found = kpi.criteria ? &*kpi.criteria : nullptr;
  for (const domain::AssignmentRule& rule : framework.assignments) {
    const bool applies =
        std::find(rule.agencies.begin(), rule.agencies.end(), agency) != rule.agencies.end() ||
        std::find(rule.agencies.begin(), rule.agencies.end(), "*") != rule.agencies.end();
    if (!applies) continue;
    for (const domain::AssignedKpi& assigned : rule.kpis) {
      if (assigned.kpi == kpi.id && assigned.criteria) found = assigned.criteria.get();
    }
  }
  return found;
}

namespace {

json Texts(const PageCall& call, const std::vector<LocalizedText>& texts) {
  json out = json::array();
  for (const LocalizedText& t : texts) {
    if (!call.Pick(t).empty()) out.push_back(call.Pick(t));
  }
  return out;
}

// The day a reported date value names: stored as the form stores it ("2021-01-15"), as a
// data file or an API client may give it ("15/1/2564"), or as its day number; nullopt if none.
std::optional<domain::Day> DayOfValue(const json& value) {
  if (value.is_string()) return domain::ParseCaseDate(TrimSpaces(value.get<std::string>()));
  if (value.is_number()) {
    const double d = value.get<double>();
    if (d == std::floor(d) && std::fabs(d) < 1e6) return static_cast<domain::Day>(d);
  }
  return std::nullopt;
}

// Noon UTC of `day`: the same day in Bangkok, for the date functions that take a moment.
int64_t NoonOf(domain::Day day) { return int64_t{day} * 86'400'000 + 43'200'000; }

// Each level's name, points and target as the agencies read it. `resolved` (levels criteria
// only; may be null) holds the targets as numbers for one agency: shown in place of formulas.
json LevelRows(const PageCall& call, const domain::Framework& framework,
               const domain::Criteria& criteria, const std::vector<double>* resolved = nullptr) {
  json rows = json::array();
  for (size_t i = 0; i < framework.levels.size(); ++i) {
    std::string target;
    if (i < criteria.level_texts.size()) target = call.Pick(criteria.level_texts[i]);
    // Due dates are said even where the level's text is the seed's own words: the reporter
    // must know the day by which the milestone counts.
    std::string due;
    if (criteria.form == domain::CriteriaForm::kMilestones &&
        i < criteria.milestones.levels.size()) {
      for (const auto& m : criteria.milestones.levels[i]) {
        if (m.due)
          due += (due.empty() ? "" : "; ") + call.T("milestone.due") + " " +
                 FormatDate(NoonOf(*m.due), call.lang);
      }
    }
    if (resolved && i < resolved->size() && !std::isnan((*resolved)[i]) &&
        i < criteria.levels.targets.size()) {
      // The agency's own target: a number, never the formula it came from.
      target = (criteria.levels.targets[i].strict ? "> " : "") +
               Number((*resolved)[i], framework.decimals.result);
    }
    if (target.empty()) {
      switch (criteria.form) {
        case domain::CriteriaForm::kLevels:
          if (i < criteria.levels.targets.size() && criteria.levels.targets[i].present) {
            target = (criteria.levels.targets[i].strict ? "> " : "") +
                     criteria.levels.targets[i].expression;
          }
          break;
        case domain::CriteriaForm::kMilestones:
          if (i < criteria.milestones.levels.size()) {
            for (const auto& m : criteria.milestones.levels[i])
              target += (target.empty() ? "" : "; ") + call.Pick(m.text);
          }
          break;
        case domain::CriteriaForm::kConditions:
          if (i < criteria.conditions.levels.size()) target = criteria.conditions.levels[i];
          break;
        default:
          break;
      }
    }
    rows.push_back(
        {{"name", call.Pick(framework.levels[i].name)},
         {"points", ShortestDecimal(framework.levels[i].points)},
         {"target", (target.empty() ? "–" : target) + (due.empty() ? "" : " (" + due + ")")}});
  }
  return rows;
}

// A formula name as the agencies read it (domain::LabelOfName) in the page's language; an unknown
// name (or a formula) stays as written, without unit.
struct NameLabel {
  std::string label;
  std::string unit;
};

NameLabel LabelOf(const PageCall& call, const domain::Framework& framework, const domain::Kpi& kpi,
                  const std::string& name) {
  const auto named = domain::LabelOfName(framework, kpi, name);
  if (!named) return {name, ""};
  return {call.Pick(named->label), call.Pick(named->unit)};
}

// A group's range in words ("ตั้งแต่ 350 แต่น้อยกว่า 400"), never "350 ≤ x < 400".
std::string RangeWords(const PageCall& call, const domain::Range& range) {
  std::vector<std::string> parts;
  const auto add = [&](const std::optional<double>& bound, const char* key) {
    if (bound) parts.push_back(call.T(key) + " " + ShortestDecimal(*bound));
  };
  add(range.at_least, "doc.range_at_least");
  add(range.above, "doc.range_above");
  add(range.at_most, "doc.range_at_most");
  add(range.below, "doc.range_below");
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : call.T("doc.range_and")) + part;
  return out;
}

json CriteriaModel(const PageCall& call, const domain::Framework& framework, const domain::Kpi& kpi,
                   const domain::Criteria& criteria, const std::map<std::string, double>* known) {
  json out = json::object();
  std::optional<domain::AgencyCriteria> agency;
  if (known) agency = domain::ResolveForAgency(criteria, *known);
  if (criteria.form == domain::CriteriaForm::kGroups) {
    const std::string& by = criteria.groups.by;
    const std::string by_label = domain::IsIdentifier(by) ? LabelOf(call, framework, kpi, by).label
                                                          : call.T("doc.group_value");
    json groups = json::array();
    for (const domain::Group& g : criteria.groups.groups) {
      json group = {{"name", call.Pick(g.name)}, {"range", RangeWords(call, g.range)}};
      if (g.criteria) group["levels"] = LevelRows(call, framework, *g.criteria);
      if (agency && !agency->choices.empty() && agency->choices.front().group == &g) {
        group["chosen"] = true;
      }
      groups.push_back(group);
    }
    out["groups"] = groups;
    out["by"] = by_label;
    if (agency) {
      // The agency's own group and targets, first: "คะแนนปี 2566 ของหน่วยงาน 420.50 → กลุ่ม 3".
      json lines = json::array();
      for (const domain::AgencyCriteria::Choice& choice : agency->choices) {
        const NameLabel named = domain::IsIdentifier(choice.by)
                                    ? LabelOf(call, framework, kpi, choice.by)
                                    : NameLabel{call.T("doc.group_value"), ""};
        if (std::isnan(choice.value)) {
          lines.push_back(named.label + " " + call.T("doc.group_unknown"));
        } else {
          lines.push_back(
              named.label + " " +
              ValueWithUnit(Number(choice.value, framework.decimals.result), named.unit) + " → " +
              (choice.group ? call.Pick(choice.group->name) : call.T("doc.group_none")));
        }
      }
      out["agency_lines"] = lines;
      if (agency->criteria) {
        out["agency_levels"] = LevelRows(
            call, framework, *agency->criteria,
            agency->criteria->form == domain::CriteriaForm::kLevels ? &agency->targets : nullptr);
      }
    }
    return out;
  }
  if (criteria.form == domain::CriteriaForm::kPoints) {
    json items = json::array();
    for (const domain::PointsItem& item : criteria.points.items) {
      items.push_back({{"text", call.Pick(item.text)}, {"points", ShortestDecimal(item.points)}});
    }
    out["points"] = items;
    return out;
  }
  out["levels"] = LevelRows(
      call, framework, criteria,
      agency && criteria.form == domain::CriteriaForm::kLevels ? &agency->targets : nullptr);
  if (criteria.form == domain::CriteriaForm::kLevels &&
      criteria.levels.direction == domain::Direction::kLowerIsBetter) {
    out["lower_is_better"] = true;
  }
  return out;
}

const char* FieldKind(domain::VariableType type) {
  switch (type) {
    case domain::VariableType::kCount:
      return "count";
    case domain::VariableType::kPassFail:
      return "passfail";
    case domain::VariableType::kNumberList:
      return "list";
    case domain::VariableType::kDate:
      return "date";
    default:
      return "number";
  }
}

std::string ValueText(const json& value) {
  if (value.is_number()) return ShortestDecimal(value.get<double>());
  if (value.is_string()) return value.get<std::string>();
  return "";
}

// A number as typed by a person: spaces and thousands separators are ignored.
bool ParseTyped(std::string text, double& out) {
  text.erase(
      std::remove_if(text.begin(), text.end(), [](char ch) { return ch == ',' || ch == ' '; }),
      text.end());
  if (text.empty()) return false;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(out);
}

}  // namespace

json KpiDocModel(const PageCall& call, const domain::Framework& framework, const domain::Kpi& kpi,
                 const domain::Criteria* criteria, const std::map<std::string, double>* known) {
  const domain::KpiDocumentation& doc = kpi.doc;
  json baseline = json::array();
  for (const domain::YearEntry& y : doc.baseline) {
    baseline.push_back({{"year", y.fiscal_year},
                        {"text", call.Pick(y.text).empty() && y.value ? ShortestDecimal(*y.value)
                                                                      : call.Pick(y.text)}});
  }
  json out = {
      {"id", kpi.id},
      {"anchor", "kpi-" + HtmlId(kpi.id)},
      {"name", call.Pick(kpi.name)},
      {"unit", call.Pick(kpi.unit)},
      {"description", call.Pick(doc.description)},
      {"definitions", Texts(call, doc.definitions)},
      {"scope", call.Pick(doc.scope)},
      {"formula", call.Pick(doc.formula_text).empty() ? kpi.result : call.Pick(doc.formula_text)},
      {"data_source", call.Pick(doc.data_source)},
      {"data_collection", call.Pick(doc.data_collection)},
      {"steps", Texts(call, doc.steps)},
      {"baseline", baseline},
      {"benefit", call.Pick(doc.benefit)},
      {"monitoring", kpi.monitoring_only}};
  // A text the framework leaves empty has no heading either (the templates show a heading only
  // for a field present): no empty "ประโยชน์ที่คาดว่าจะได้รับ" under every KPI.
  for (const char* key :
       {"description", "scope", "formula", "data_source", "data_collection", "benefit"}) {
    if (out[key].get<std::string>().empty()) out.erase(key);
  }
  if (criteria) out["criteria"] = CriteriaModel(call, framework, kpi, *criteria, known);
  json subs = json::array();
  for (const domain::Kpi& sub : kpi.sub_kpis) {
    subs.push_back({{"id", sub.id},
                    {"name", call.Pick(sub.name)},
                    {"weight", ShortestDecimal(sub.weight_in_parent)}});
  }
  if (!subs.empty()) out["sub_kpis"] = subs;
  return out;
}

json VariableFields(const PageCall& call, const domain::Kpi& kpi, const json& values,
                    bool computed_read_only, const service::UploadedSources& uploaded) {
  json fields = json::array();
  for (const domain::Variable& v : kpi.variables) {
    if (v.type == domain::VariableType::kDerived) continue;
    const json value = values.is_object() && values.contains(v.id) ? values[v.id] : json();
    json field = {{"id", v.id},
                  {"field", "v_" + v.id},
                  {"name", call.Pick(v.name).empty() ? v.id : call.Pick(v.name)},
                  // null, not "", when there is none: the templates' {{#unit}} (…) shows for
                  // any string, and read "วันที่ … ()" on the review page.
                  {"unit", call.Pick(v.unit).empty() ? json(nullptr) : json(call.Pick(v.unit))},
                  {"optional", v.optional}};
    const domain::VariableSource source = domain::SourceOfVariable(kpi, v.id);
    if (computed_read_only && uploaded.Fills(source)) {
      field["computed"] = true;
      field["value"] = ValueText(value);
      if (source == domain::VariableSource::kFromAgencies) {
        const domain::FromAgencies& rule = *kpi.from_agencies;
        field["source"] = call.Pick(LocalizedText{
            "คำนวณจากผลตัวชี้วัด \"" + rule.key + "\" ของหน่วยงานอื่น (" +
                domain::PeerMeasureName(rule.measure) +
                ") เมื่อประมวลผลคะแนน ไม่ต้องกรอก คำอธิบายคะแนนจะระบุหน่วยงานที่นับและที่ไม่นับ",
            "Computed from other agencies' results of KPI \"" + rule.key + "\" (" +
                domain::PeerMeasureName(rule.measure) +
                ") when scores are computed; nothing to type. The score's explanation names "
                "the agencies counted and left out"});
      } else if (source == domain::VariableSource::kCatalog) {
        const domain::CatalogRule& rule = *kpi.catalog;
        const bool percent = rule.complete_percent_variable == v.id;
        const bool complete = rule.complete_variable == v.id;
        field["source"] = call.Pick(LocalizedText{
            std::string("คำนวณจากบัญชีข้อมูล (Data Catalog) ที่อัปโหลด: ") +
                (percent    ? "ร้อยละของชุดข้อมูลที่คำอธิบายข้อมูลครบถ้วน"
                 : complete ? "จำนวนชุดข้อมูลที่คำอธิบายข้อมูลครบถ้วนทั้ง 14 รายการ"
                            : "จำนวนชุดข้อมูลทั้งหมด") +
                " แก้ไขโดยอัปโหลดบัญชีข้อมูลใหม่ (ดูรายการชุดข้อมูลด้านล่าง)",
            std::string("Computed from the uploaded data catalog: ") +
                (percent    ? "the share of datasets whose metadata is complete"
                 : complete ? "the number of datasets with all 14 metadata items right"
                            : "the number of datasets") +
                ". Upload a new catalog to change it (the dataset list is below)"});
      } else {
        const bool on_time = kpi.cases->on_time_variable == v.id;
        field["source"] = call.Pick(
            LocalizedText{std::string("คำนวณจากบันทึกเรื่องที่อัปโหลด: จำนวนเรื่อง") +
                              (on_time ? "ที่แล้วเสร็จทันเวลา" : "ที่นับ") +
                              " แก้ไขโดยอัปโหลดบันทึกเรื่องใหม่ (ดูรายการเรื่องด้านล่าง)",
                          std::string("Computed from the uploaded case log: the number of cases ") +
                              (on_time ? "completed on time" : "counted") +
                              ". Upload a new case log to change it (the case list is below)"});
      }
      fields.push_back(field);
      continue;
    }
    field[FieldKind(v.type)] = true;
    if (v.type == domain::VariableType::kNumberList) {
      json items = json::array();
      for (int i = 0; i < v.length; ++i) {
        const json item = value.is_array() && static_cast<size_t>(i) < value.size()
                              ? value[static_cast<size_t>(i)]
                              : json();
        items.push_back({{"field", "v_" + v.id + "_" + std::to_string(i + 1)},
                         {"number", i + 1},
                         {"value", ValueText(item)}});
      }
      field["items"] = items;
    } else if (v.type == domain::VariableType::kPassFail) {
      const bool pass = (value.is_string() && value.get<std::string>() == "ผ่าน") ||
                        (value.is_number() && value.get<double>() == 1);
      const bool fail = (value.is_string() && value.get<std::string>() == "ไม่ผ่าน") ||
                        (value.is_number() && value.get<double>() == 0);
      field["pass"] = pass;
      field["fail"] = fail;
    } else if (v.type == domain::VariableType::kDate) {
      // Shown as esar's date fields show dates (15/1/2564), read back by ParseDateField.
      const auto day = DayOfValue(value);
      field["date_field"] = DateField(field["field"], field["field"], field["name"],
                                      day ? DateFieldText(NoonOf(*day)) : ValueText(value), false);
    } else {
      field["value"] = ValueText(value);
    }
    fields.push_back(field);
  }
  return fields;
}

std::string DateValueText(const json& value, Lang lang) {
  const auto day = DayOfValue(value);
  if (day) return FormatDate(NoonOf(*day), lang);
  return value.is_string() ? value.get<std::string>() : "–";
}

std::string DisplayValue(const json& v, int decimals) {
  if (v.is_number()) return Number(v.get<double>(), decimals);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + DisplayValue(x, decimals);
    return out;
  }
  return "–";
}

Result<json> ValuesFromForm(const PageCall& call, const domain::Kpi& kpi) {
  json values = json::object();
  auto bad = [&](const domain::Variable& v) {
    const std::string name = v.name.th.empty() ? v.id : v.name.th;
    const std::string name_en = v.name.en.empty() ? v.id : v.name.en;
    return Status::InvalidInput("\"" + name + "\" ต้องเป็นตัวเลข",
                                "\"" + name_en + "\" must be a number");
  };
  for (const domain::Variable& v : kpi.variables) {
    if (v.type == domain::VariableType::kDerived) continue;
    if (v.type == domain::VariableType::kNumberList) {
      json list = json::array();
      bool any = false;
      for (int i = 1; i <= v.length; ++i) {
        const std::string text = call.Field("v_" + v.id + "_" + std::to_string(i));
        double number = 0;
        if (text.empty()) {
          list.push_back(nullptr);
          continue;
        }
        if (!ParseTyped(text, number)) return bad(v);
        list.push_back(number);
        any = true;
      }
      if (!any) continue;
      for (const json& item : list) {
        if (item.is_null()) {
          return Status::InvalidInput("\"" + v.name.th + "\" ต้องกรอกให้ครบทุกช่อง",
                                      "\"" + v.name.en + "\" needs every one of its values");
        }
      }
      values[v.id] = list;
      continue;
    }
    const std::string text = call.Field("v_" + v.id);
    if (text.empty()) continue;
    if (v.type == domain::VariableType::kPassFail) {
      if (text != "ผ่าน" && text != "ไม่ผ่าน") {
        return Status::InvalidInput("\"" + v.name.th + "\" ต้องเป็น ผ่าน หรือ ไม่ผ่าน",
                                    "\"" + v.name.en + "\" must be pass or fail");
      }
      values[v.id] = text;
      continue;
    }
    if (v.type == domain::VariableType::kDate) {
      // Stored as an ISO date, which formats::ParseValue reads as its day number.
      auto moment = ParseDateField(text, "12:00");
      if (!moment) {
        const std::string name = v.name.th.empty() ? v.id : v.name.th;
        const std::string name_en = v.name.en.empty() ? v.id : v.name.en;
        return Status::InvalidInput("\"" + name + "\": " + moment.status().message_th(),
                                    "\"" + name_en + "\": " + moment.status().message_en());
      }
      values[v.id] = IsoDateInBangkok(*moment);
      continue;
    }
    double number = 0;
    if (!ParseTyped(text, number)) return bad(v);
    values[v.id] = number;
  }
  return values;
}

std::map<std::string, double> AgencyKnownValues(PageCall& call, const domain::Framework& framework,
                                                int64_t round_id, int round,
                                                const domain::Agency& agency,
                                                const domain::Kpi& kpi) {
  if (round_id == 0) {
    if (auto rounds = service::Cycle(call.db, call.clock).Rounds()) {
      for (const service::RoundSummary& r : *rounds) {
        if (r.fiscal_year == framework.fiscal_year && r.agency_kind == framework.agency_kind &&
            r.round.round == round && r.round.id > round_id) {
          round_id = r.round.id;
        }
      }
    }
  }
  std::vector<domain::Observation> observations;  // imported data included
  if (round_id != 0) {
    if (auto current =
            service::Reporting(call.db, call.clock).CurrentValuesOf(round_id, agency.code)) {
      observations = std::move(current->observations);
    }
  } else if (auto imported = service::Cycle(call.db, call.clock).ObservationsOf(agency.code)) {
    // No round yet (a framework written before its rounds open): the imported data alone, so
    // that an earlier year's value loaded by `esar import data` still chooses the group.
    observations = std::move(*imported);
  }
  // Baselines read from an earlier year's published result, as when results are computed.
  if (!service::History(call.db, call.clock).FillBaselines(framework, {agency}, observations)) {
    return {};
  }
  return domain::KnownReferences(kpi, agency.code, framework.fiscal_year, observations);
}

json WhatIfModel(PageCall& call, const domain::Framework& framework,
                 const service::RoundInfo& round, const domain::Agency& agency,
                 const std::string& kpi_id, const json& values, const std::string& this_kpi_source,
                 std::map<std::string, double>* known) {
  json out = {{"ok", false}};
  auto engine = domain::Engine::Compile(framework, round.round);
  if (!engine) {
    out["text"] = call.Message(engine.status());
    return out;
  }
  service::Reporting reporting(call.db, call.clock);
  // The same values on every KPI page of the agency, the agency's and the evaluator's alike.
  auto current = reporting.CurrentValuesOf(round.id, agency.code);
  auto typed = service::ValuesToObservations(values.dump(), agency.code, kpi_id,
                                             framework.fiscal_year, round.round);
  if (!current || !typed) {
    out["text"] = call.Message(!current ? current.status() : typed.status());
    return out;
  }
  std::vector<domain::Observation>& observations = current->observations;
  // The values given replace whatever else this KPI has for this round.
  std::erase_if(observations, [&](const domain::Observation& o) {
    return o.kpi == kpi_id && o.fiscal_year == framework.fiscal_year && o.round == round.round;
  });
  observations.insert(observations.end(), typed->begin(), typed->end());
  // Baselines read from an earlier year's published result, as when results are computed.
  auto filled =
      service::History(call.db, call.clock).FillBaselines(framework, {agency}, observations);
  if (!filled) {
    out["text"] = call.Message(filled.status());
    return out;
  }
  if (known != nullptr) {
    if (const domain::Kpi* kpi = domain::FindKpi(framework.kpis, kpi_id)) {
      *known = domain::KnownReferences(*kpi, agency.code, framework.fiscal_year, observations);
    }
  }
  // Which values the total uses: counted over the agency's other KPIs.
  std::map<std::string, int> sources;
  for (const auto& [kpi, source] : current->source) {
    if (kpi != kpi_id) sources[source]++;
  }
  std::string basis;
  for (const char* source : {"verified", "reported", "imported"}) {
    if (!sources[source]) continue;
    basis += (basis.empty() ? "" : ", ") + call.T(std::string("whatif.basis_") + source) + " " +
             std::to_string(sources[source]) + " " + call.T("whatif.basis_kpis");
  }
  out["basis"] = call.T("whatif.basis") + " " + call.T(this_kpi_source) +
                 (basis.empty() ? "" : "; " + call.T("whatif.basis_others") + " " + basis);
  const auto scores = engine->Score({agency}, observations, true);
  if (scores.empty()) {
    out["text"] = call.T("whatif.not_assigned");
    return out;
  }
  const domain::KpiScore* score = domain::FindKpiScore(scores[0].kpis, kpi_id);
  if (score) {
    // Each baseline taken from an earlier result, with where it came from, as the explanation
    // of the computed result will say it.
    domain::KpiScore baselines;
    baselines.kpi = score->kpi;
    for (const domain::TraceStep& step : score->trace) {
      if (step.kind == domain::TraceKind::kBaseline) baselines.trace.push_back(step);
    }
    if (!baselines.trace.empty())
      out["baselines"] = formats::ExplainKpi(framework, baselines, call.lang);
  }
  out["weight"] = score && score->status != domain::KpiStatus::kExempt ? score->weight : 0.0;
  const std::string total = Number(scores[0].total, framework.decimals.total);
  out["total"] = total;
  if (!score || score->status == domain::KpiStatus::kMissing) {
    json missing = json::array();
    const domain::Kpi* kpi = domain::FindKpi(framework.kpis, kpi_id);
    const auto needed = engine->InputsNeeded(agency.code, kpi_id);
    if (kpi) {
      for (const domain::Variable& v : kpi->variables) {
        if (needed.count(v.id) && !values.contains(v.id) && !v.optional &&
            v.type != domain::VariableType::kDerived)
          missing.push_back(call.Pick(v.name).empty() ? v.id : call.Pick(v.name));
      }
    }
    out["missing"] = missing;
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m.get<std::string>();
    out["text"] = call.T("whatif.incomplete") + (list.empty() ? "" : " " + list) + " — " +
                  call.T("whatif.total_now") + " " + total;
    return out;
  }
  if (score->status == domain::KpiStatus::kExempt ||
      score->status == domain::KpiStatus::kMonitoring) {
    out["text"] =
        call.T(score->status == domain::KpiStatus::kExempt ? "whatif.exempt" : "whatif.monitoring");
    out["ok"] = true;
    return out;
  }
  out["ok"] = true;
  out["result"] = Number(score->result, framework.decimals.result);
  // With the KPI's unit in reading order ("ร้อยละ 90.00").
  const domain::Kpi* scored = domain::FindKpi(framework.kpis, kpi_id);
  out["result_text"] =
      ValueWithUnit(out["result"].get<std::string>(), scored ? call.Pick(scored->unit) : "");
  out["score"] = Number(score->score, framework.decimals.score);
  out["text"] = call.T("whatif.scores") + " " + out["score"].get<std::string>() + " " +
                call.T("whatif.points") + " " + call.T("whatif.total_becomes") + " " + total;
  return out;
}

}  // namespace esar::web
