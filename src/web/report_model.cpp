#include "web/report_model.h"

#include <algorithm>
#include <map>

#include "common/thai.h"
#include "domain/engine.h"
#include "service/directory.h"
#include "service/history.h"
#include "service/reporting.h"
#include "web/kpi_view.h"

namespace esar::web {

using nlohmann::json;

FrameworkLoader ReadFramework(const Clock& clock) {
  return [&clock](storage::Database& db,
                  int64_t id) -> Result<std::shared_ptr<const service::StoredFramework>> {
    auto loaded = service::Cycle(db, clock).Framework(id);
    if (!loaded) return loaded.status();
    return std::make_shared<const service::StoredFramework>(std::move(*loaded));
  };
}

// When the round was reopened after result `result_id` was computed: "this round was reopened
// on ... for ...", shown above those results; null otherwise (a template's section over a
// string shows even when it is empty: an empty note box on every page).
nlohmann::json ReopenedNote(const PageCall& call, int64_t round_id, int64_t result_id) {
  auto reopenings = service::Cycle(call.db, call.clock).Reopenings(round_id);
  if (!reopenings || reopenings->empty()) return nullptr;
  const service::Reopening& last = reopenings->back();
  if (result_id > last.after_result) return nullptr;
  std::string note = call.T("results.reopened_note");
  for (const auto& [slot, value] :
       {std::pair<std::string, std::string>{"{1}", FormatDateTime(last.at, call.lang)},
        std::pair<std::string, std::string>{"{2}", last.reason}}) {
    const size_t at = note.find(slot);
    if (at != std::string::npos) note.replace(at, slot.size(), value);
  }
  return note;
}

// The earlier years of one agency's KPI (by key) or total ("" key) in `round`, then this year's
// `now` values, as a trend table's rows: {"years": [{"year", "result", "score", "now"}],
// "points"}; null when there is no earlier year (nothing to compare). Values with the
// framework's decimals; "points" draws the scores (0–100) as a small line, 120 × 32, beside the
// table that says the same in words (it is only a picture of it: hidden from screen readers).
nlohmann::json TrendModel(const PageCall& call, const std::vector<domain::PastResult>& past,
                const std::string& agency, const std::string& key, int round,
                const domain::Decimals& decimals, int this_year, const std::string& now_result,
                const std::string& now_score, std::optional<double> now_value) {
  json years = json::array();
  std::vector<std::optional<double>> scores;
  for (const domain::PastResult& p : domain::HistoryOf(past, agency, key)) {
    if (p.round != round || p.fiscal_year >= this_year) continue;
    scores.push_back(p.score);
    const int score_decimals = key.empty() ? decimals.total : decimals.score;
    years.push_back({{"year", FiscalYearName(p.fiscal_year, call.lang)},
                     {"result", p.result ? Number(*p.result, decimals.result) : "–"},
                     {"score", p.score ? Number(*p.score, score_decimals) : "–"},
                     {"now", false}});
  }
  if (years.empty()) return nullptr;
  years.push_back({{"year", FiscalYearName(this_year, call.lang)},
                   {"result", now_result},
                   {"score", now_score},
                   {"now", true}});
  scores.push_back(now_value);
  std::string points;
  const double step = 120.0 / static_cast<double>(scores.size() - 1);
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!scores[i]) continue;
    const double y = 30 - std::clamp(*scores[i], 0.0, 100.0) * 0.28;
    points += (points.empty() ? "" : " ") + Number(step * static_cast<double>(i), 1) + "," +
              Number(y, 1);
  }
  json out = {{"years", years}};
  if (points.find(' ') != std::string::npos) out["points"] = points;  // two points at least
  return out;
}


Result<AgencyReportData> BuildAgencyReport(PageCall& call, int64_t round_id,
                                           const std::string& code, const FrameworkLoader& load) {
  const Clock& clock_ = call.clock;
  service::Cycle cycle(call.db, clock_);
  auto round = cycle.Round(round_id);
  if (!round) return round.status();
  auto framework = load(call.db, round->framework_id);
  if (!framework) return framework.status();
  const domain::Framework& fw = (*framework)->framework;
  // Derived with the loader's copy of the framework, in the page's language only.
  auto part = service::Results(call.db, clock_)
                  .LatestAgencyPart(call.actor, round_id, service::ResultStage::kPublished, code,
                                    call.lang, *framework);
  if (!part) return part.status();
  const json& agency = part->agency;
  const service::StoredResult& result = part->result;
  // The agency and its parent only, not the whole directory (8,000 local governments).
  std::string ministry;
  if (auto self = FindAgency(call.db, clock_, code); self && !self->parent.empty()) {
    if (auto parent = FindAgency(call.db, clock_, self->parent)) ministry = call.Pick(parent->name);
  }
  // The verified values the scores came from, for the table of evaluation items.
  auto values = service::Reporting(call.db, clock_).AcceptedValues(round_id, code);
  if (!values) return values.status();
  std::map<std::string, std::map<std::string, std::vector<double>>> reported;
  for (const auto& o : *values) reported[o.kpi][o.variable] = o.values;
  // The agency's earlier years, for the trends of its KPIs (by key) and of its total.
  auto past = service::History(call.db, clock_).PastResults(fw.fiscal_year, code);
  if (!past) return past.status();

  json components = json::array();
  std::map<std::string, size_t> component_index;
  for (const domain::Component& c : fw.components) {
    component_index[c.id] = components.size();
    components.push_back({{"name", call.Pick(c.name)}, {"kpis", json::array()}});
  }
  json details = json::array();
  for (const json& k : agency["kpis"]) {
    const std::string id = k["id"];
    const domain::Kpi* kpi = domain::FindKpi(fw.kpis, id);
    if (!kpi) continue;
    const std::string status = TextOr(k, "status", "");
    // The summary table's line (components) has what it shows; the KPI's section (details) has
    // the same and its explanation, trend, values and documentation.
    json line = {
        {"id", id},
        {"anchor", "kpi-" + HtmlId(id)},
        {"name", call.Pick(kpi->name)},
        {"weight", k["weight"].is_number() ? ShortestDecimal(k["weight"].get<double>()) : ""},
        {"result", TextOr(k, "result_text", "–")},
        {"unit", call.Pick(kpi->unit)},
        {"result_text", ValueWithUnit(TextOr(k, "result_text", "–"), call.Pick(kpi->unit))},
        {"score", TextOr(k, "score_text", "–")},
        {"weighted", k["weighted"].is_number() ? Number(k["weighted"].get<double>(), 4) : "–"}};
    json row = line;
    row["status"] = call.T("kpi_status." + status);
    row["explanation"] = k.value("explanation", json::array());
    if (!kpi->key.empty()) {
      row["trend"] =
          TrendModel(call, *past, code, kpi->key, round->round, fw.decimals, fw.fiscal_year,
                     row["result"].get<std::string>(), row["score"].get<std::string>(),
                     status == "scored" && k["score"].is_number()
                         ? std::optional<double>(k["score"].get<double>())
                         : std::nullopt);
    }
    json items = json::array();
    for (const domain::Variable& v : kpi->variables) {
      if (v.type == domain::VariableType::kDerived) continue;
      const auto found = reported[id].find(v.id);
      std::string text = "–";
      if (found != reported[id].end()) {
        text.clear();
        for (double x : found->second)
          text += (text.empty() ? "" : ", ") + Number(x, fw.decimals.result);
        if (v.type == domain::VariableType::kPassFail && found->second.size() == 1)
          text = call.T(found->second[0] != 0 ? "value.pass" : "value.fail");
        if (v.type == domain::VariableType::kDate && found->second.size() == 1)
          text = DateValueText(found->second[0], call.lang);
      }
      // The value with its unit in reading order ("ร้อยละ 95.00", "12 ชุดข้อมูล").
      items.push_back({{"name", call.Pick(v.name).empty() ? v.id : call.Pick(v.name)},
                       {"value", text},
                       {"value_text", ValueWithUnit(text, call.Pick(v.unit))},
                       {"unit", call.Pick(v.unit)}});
    }
    row["items"] = std::move(items);
    row["doc"] = KpiDocModel(call, fw, *kpi, EffectiveCriteria(fw, code, *kpi));
    auto at = component_index.find(kpi->component);
    if (at == component_index.end()) {
      // A component the framework does not name: grouped under its id's usual name.
      at = component_index.emplace(kpi->component, components.size()).first;
      const std::string shown_name = kpi->component.empty()
                                         ? call.T("report.table")
                                         : UnlistedComponentName(call, kpi->component);
      components.push_back({{"name", shown_name}, {"kpis", json::array()}});
    }
    details.push_back(std::move(row));
    components[at->second]["kpis"].push_back(std::move(line));
  }
  json shown = json::array();
  for (auto& c : components) {
    if (!c["kpis"].empty()) shown.push_back(std::move(c));
  }
  const json grade = agency.value("grade", json(nullptr));
  json model = {
      {"code", code},
      {"name", agency["name"].is_object()
                   ? agency["name"].value(call.lang == Lang::kThai ? "th" : "en", std::string())
                   : std::string()},
      {"ministry", ministry},
      {"period",
       FiscalYearName(fw.fiscal_year, call.lang) + " · " + RoundName(round->round, call.lang)},
      {"total", TextOr(agency, "total_text", "")},
      {"weight", ShortestDecimal(NumberOr(agency, "scored_weight", 100.0))},
      {"grade", grade.is_string() ? grade : json(nullptr)},
      {"stage", call.T(std::string("stage.") + service::ResultStageName(result.stage))},
      {"published", result.stage == service::ResultStage::kPublished},
      {"computed_at", FormatDateTime(result.computed_at, call.lang)},
      {"components", std::move(shown)},
      {"kpis", std::move(details)},
      {"trend",
       TrendModel(call, *past, code, "", round->round, fw.decimals, fw.fiscal_year, "–",
                  TextOr(agency, "total_text", "–"),
                  agency["total"].is_number() ? std::optional<double>(agency["total"].get<double>())
                                              : std::nullopt)},
      {"reopened", ReopenedNote(call, round_id, result.id)},
      {"back", "/?round=" + std::to_string(round_id)},
      {"pdf", "/results/" + std::to_string(round_id) + "/agencies/" + code + "/report.pdf"}};
  return AgencyReportData{std::move(model), std::move(part->result), *round, std::move(*framework)};
}

}  // namespace esar::web
