#include "formats/framework_edit.h"

#include <nlohmann/json.hpp>

#include "domain/model.h"
#include "formats/framework_json.h"
#include "formats/json_input.h"

namespace esar::formats {
namespace {

using nlohmann::json;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `text` with every standalone four-digit year in [from - 9, from] moved one year on ("2566" and
// "FY2566" both; "125667" untouched): the years a framework of `from` speaks of as its own or
// its baselines'.
std::string ShiftYears(const std::string& text, int from) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i]) || (i > 0 && IsDigit(text[i - 1]))) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && IsDigit(text[j])) ++j;
    const std::string digits = text.substr(i, j - i);
    if (digits.size() == 4) {
      const int year = std::stoi(digits);
      if (year >= from - 9 && year <= from) {
        out += std::to_string(year + 1);
        i = j;
        continue;
      }
    }
    out += digits;
    i = j;
  }
  return out;
}

// A text field (a string, or {"th", "en"}) with its years shifted.
void ShiftText(json& text, int from) {
  if (text.is_string()) {
    text = ShiftYears(text.get<std::string>(), from);
  } else if (text.is_object()) {
    for (auto& [lang, value] : text.items()) {
      if (value.is_string()) value = ShiftYears(value.get<std::string>(), from);
    }
  }
}

// The level texts and group names of criteria (nested in groups) with their years shifted.
void ShiftCriteriaTexts(json& criteria, int from) {
  if (!criteria.is_object()) return;
  if (criteria.contains("texts") && criteria["texts"].is_array()) {
    for (json& t : criteria["texts"]) ShiftText(t, from);
  }
  if (criteria.contains("groups") && criteria["groups"].is_array()) {
    for (json& g : criteria["groups"]) {
      if (g.contains("name")) ShiftText(g["name"], from);
      if (g.contains("criteria")) ShiftCriteriaTexts(g["criteria"], from);
    }
  }
}

// An ISO date ("2024-03-31") one year later; Feb 29 becomes Feb 28. Other text unchanged.
std::string ShiftIsoDate(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return text;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!IsDigit(text[i])) return text;
  }
  std::string out = std::to_string(std::stoi(text.substr(0, 4)) + 1) + text.substr(4);
  if (out.substr(5) == "02-29") out = out.substr(0, 5) + "02-28";
  return out;
}

// Every ISO date inside `value` (a KPI's case rule: cut-offs, receiving windows) one year later: the copy's dates fall in its own fiscal year.
void ShiftDates(json& value) {
  if (value.is_string()) {
    value = ShiftIsoDate(value.get<std::string>());
  } else if (value.is_array() || value.is_object()) {
    for (auto& item : value) ShiftDates(item);
  }
}

// The variable a KPI's result is, when it is one reported value: its result formula when that
// is a bare name, else its only variable that is not derived. "" otherwise.
std::string ResultVariable(const domain::Kpi& kpi) {
  if (!kpi.result.empty()) {
    for (const domain::Variable& v : kpi.variables) {
      if (v.id == kpi.result) return v.id;
    }
    return "";
  }
  std::string only;
  int count = 0;
  for (const domain::Variable& v : kpi.variables) {
    if (v.type == domain::VariableType::kDerived) continue;
    only = v.id;
    ++count;
  }
  return count == 1 ? only : "";
}

void MoveKpi(json& kpi_json, const domain::Kpi& kpi, const domain::Framework& fw, int from) {
  if (kpi_json.contains("references") && kpi_json["references"].is_array()) {
    for (json& ref : kpi_json["references"]) {
      if (!ref.is_object() || !ref.contains("fiscal_year") || !ref["fiscal_year"].is_number())
        continue;
      const int year = ref["fiscal_year"].get<int>();
      ref["fiscal_year"] = year + 1;
      if (ref.contains("from_result")) continue;
      const std::string target_id = ref.value("kpi", "");
      const domain::Kpi* target = target_id.empty() ? &kpi : domain::FindKpi(fw.kpis, target_id);
      if (target == nullptr || target->key.empty() || !domain::IsValidKpiKey(target->key)) continue;
      if (ref.value("variable", "") != ResultVariable(*target)) continue;
      ref["from_result"] = {{"key", target->key}, {"read", "result"}};
    }
  }
  // Criteria keep their dates: a target is a formula, and "2024-02-29" is arithmetic there.
  if (kpi_json.contains("criteria")) ShiftCriteriaTexts(kpi_json["criteria"], from);
  if (kpi_json.contains("cases")) ShiftDates(kpi_json["cases"]);
  if (kpi_json.contains("sub_kpis") && kpi_json["sub_kpis"].is_array()) {
    for (json& sub : kpi_json["sub_kpis"]) {
      const domain::Kpi* parsed = domain::FindKpi(kpi.sub_kpis, sub.value("id", ""));
      if (parsed != nullptr) MoveKpi(sub, *parsed, fw, from);
    }
  }
}

}  // namespace

Result<std::string> NextYearDocument(const std::string& document) {
  auto framework = ParseFramework(document, "framework.json");
  if (!framework) return framework.status();
  auto parsed = ParseJsonBody(document);
  if (!parsed) return parsed.status();
  json doc = std::move(*parsed);
  const int from = framework->fiscal_year;
  doc["fiscal_year"] = from + 1;
  if (doc.contains("title")) ShiftText(doc["title"], from);
  if (doc.contains("kpis") && doc["kpis"].is_array()) {
    for (json& k : doc["kpis"]) {
      const domain::Kpi* kpi = domain::FindKpi(framework->kpis, k.value("id", ""));
      if (kpi != nullptr) MoveKpi(k, *kpi, *framework, from);
    }
  }
  // Agencies' own targets in the assignments are criteria too.
  if (doc.contains("assignments") && doc["assignments"].is_array()) {
    for (json& rule : doc["assignments"]) {
      if (!rule.is_object() || !rule.contains("kpis") || !rule["kpis"].is_array()) continue;
      for (json& k : rule["kpis"]) {
        if (k.is_object() && k.contains("criteria")) ShiftCriteriaTexts(k["criteria"], from);
      }
    }
  }
  return doc.dump(2);
}

}  // namespace esar::formats
