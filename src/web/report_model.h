#pragma once

// The agency's evaluation report as a model (internal to src/web): what its page renders, what
// its PDF is laid out from, and the helpers both share with the other result pages.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/history.h"
#include "service/cycle.h"
#include "service/results.h"
#include "web/page_support.h"

namespace esar::web {

// Framework `id` as stored (a cache may keep frozen ones); kNotFound when there is none.
using FrameworkLoader =
    std::function<Result<std::shared_ptr<const service::StoredFramework>>(storage::Database&,
                                                                          int64_t id)>;

// A loader that reads the framework every time (for the command line).
FrameworkLoader ReadFramework(const Clock& clock);

struct AgencyReportData {
  nlohmann::json model;  // the page's model (agency_report.mustache), in the caller's language
  service::StoredResult result;  // the publication (or newest result the caller may see)
  service::RoundInfo round;
  std::shared_ptr<const service::StoredFramework> framework;
};

// Agency `code`'s report of round `round_id`: its newest published result as `call.actor` may
// see it (the public: published only), with the KPIs' documentation, the verified values of the
// evaluation items, each score's explanation and the agency's earlier years. kNotFound for an
// unknown round or agency, or a round without a published result.
Result<AgencyReportData> BuildAgencyReport(PageCall& call, int64_t round_id,
                                           const std::string& code, const FrameworkLoader& load);

// When the round was reopened after result `result_id` was computed: "this round was reopened
// on ... for ...", shown above those results; null otherwise (a template's section over a
// string shows even when it is empty: an empty note box on every page).
nlohmann::json ReopenedNote(const PageCall& call, int64_t round_id, int64_t result_id);

// The earlier years of one agency's KPI (by key) or total ("" key) in `round`, then this year's
// `now` values, as a trend table's rows: {"years": [{"year", "result", "score", "now"}],
// "points"}; null when there is no earlier year (nothing to compare). Values with the
// framework's decimals; "points" draws the scores (0–100) as a small line, 120 × 32, beside the
// table that says the same in words (it is only a picture of it: hidden from screen readers).
nlohmann::json TrendModel(const PageCall& call, const std::vector<domain::PastResult>& past,
                          const std::string& agency, const std::string& key, int round,
                          const domain::Decimals& decimals, int this_year,
                          const std::string& now_result, const std::string& now_score,
                          std::optional<double> now_value);

}  // namespace esar::web
