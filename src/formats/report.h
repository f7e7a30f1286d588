#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/text.h"
#include "domain/check.h"
#include "domain/engine.h"
#include "domain/model.h"

namespace esar::formats {

// Everything a report of scores needs; all pointers must be set and outlive the call.
struct ScoreReport {
  const domain::Framework* framework = nullptr;
  const std::vector<domain::Agency>* agencies = nullptr;
  const std::vector<domain::AgencyScore>* scores = nullptr;
  int round = 12;
};

// The scores as JSON: {"fiscal_year", "round", "agencies": [{"code", "name", "total", "grade",
// "kpis": [{"id", "result", "score", "weight", "weighted", "status", ...}]}]}. Numbers are at
// full precision (null where there is none); "*_text" fields hold them as published, with the
// framework's decimals. With `with_trace`, each KPI also carries "explanation": its trace as
// sentences in `lang`.
nlohmann::json ScoresJson(const ScoreReport& report, bool with_trace, Lang lang);

// One row per agency × KPI: agency,agency_name,kpi,status,result,score,weight,weighted,level,
// group,total,grade — numbers with the framework's decimals.
std::string ScoresCsv(const ScoreReport& report, Lang lang);

// A table for people: each agency's total and grade, then its KPIs.
std::string ScoresTable(const ScoreReport& report, Lang lang);

// The reasoning behind `agency`'s score, in `lang`: for every KPI (or only `kpi_filter` when it
// is not empty) the result, the group and targets, the points reached, the weight applied.
std::string ExplainAgency(const ScoreReport& report, const domain::AgencyScore& agency,
                          const std::string& kpi_filter, Lang lang);

// The trace of one KPI as sentences in `lang`.
std::vector<std::string> ExplainKpi(const domain::Framework& framework, const domain::KpiScore& kpi,
                                    Lang lang);

// `esar check`'s findings, one per line: "ข้อผิดพลาด: file /path: message".
std::string FindingsText(const std::vector<domain::Finding>& findings, Lang lang);

}  // namespace esar::formats
