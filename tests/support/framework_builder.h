#pragma once

// Helpers for tests: frameworks written as JSON text, observations in one line, and scoring a
// single KPI for a single agency "A".

#include <string>
#include <vector>

#include "domain/engine.h"
#include "domain/model.h"

namespace esar::testing {

// The framework in `json`; a parse failure fails the current test and returns an empty one.
domain::Framework FrameworkFromJson(const std::string& json);

// A framework (FY2567, levels 50/75/100) whose only KPI is `kpi_json` (id "k"), given to agency
// "A" with weight 100. `extra` is spliced into the top-level object (e.g. "\"below_basic\":...,").
domain::Framework SingleKpiFramework(const std::string& kpi_json, const std::string& extra = "");

domain::Observation Obs(const std::string& variable, double value, int fiscal_year = 2567,
                        const std::string& kpi = "k", const std::string& agency = "A",
                        int round = 12);
domain::Observation ObsList(const std::string& variable, std::vector<double> values,
                            int fiscal_year = 2567, const std::string& kpi = "k",
                            const std::string& agency = "A");

// Scores agency "A" (or `agencies`) of `framework` in round `round`, with traces.
std::vector<domain::AgencyScore> ScoreAll(const domain::Framework& framework,
                                          const std::vector<domain::Observation>& data,
                                          const std::vector<std::string>& agencies = {"A"},
                                          int round = 12);

// The KPI "k" of agency "A" for a single-KPI framework built from `kpi_json`.
domain::KpiScore ScoreKpi(const std::string& kpi_json, const std::vector<domain::Observation>& data,
                          const std::string& extra = "");

// The PMQA 4.0 KPI of seed 002 (id "k"): four groups chosen by the FY2566 score s, with targets
// 275 / s / 350, 350 / s / s × 1.10, 400 / s / s × 1.02 and 445 / (s + 445) / 2 / s.
extern const char* const kPmqaGroupsKpi;

// A levels KPI "k" with one number variable "r" and these targets (JSON array text).
std::string LevelsKpi(const std::string& targets, const std::string& more = "");

}  // namespace esar::testing
