#pragma once

// Earlier fiscal years: the published results of an agency found by KPI key, and the baselines a
// framework takes from them (Reference::from_result). No I/O: the results come from the caller
// (service::History reads them from the database, the CLI from a CSV of past results).

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/engine.h"
#include "domain/model.h"

namespace esar::domain {

// Where an earlier year's result comes from.
enum class PastSource {
  kImported,   // loaded by `esar import results` (a year evaluated outside esar)
  kPublished,  // esar's own published results of that year
};

// One agency's published result of one KPI (by key), or its total, in one fiscal year and round.
struct PastResult {
  int fiscal_year = 0;  // Buddhist Era
  int round = 12;
  std::string agency;
  std::string kpi_key;  // "" = the agency's total (then `score` holds the total)
  std::optional<double> result;  // the KPI's result value (ผลการดำเนินงาน), when known
  std::optional<double> score;  // the KPI's score, or the total
  PastSource source = PastSource::kImported;
  Location where;  // the CSV line it was read from, for messages
};

// The Observation::source of a value esar filled in from an earlier year's result.
inline constexpr const char* kFilledFromPublished = "published";
inline constexpr const char* kFilledFromImported = "imported-results";

// For every agency in `agencies`, every KPI it is assigned (sub-KPIs included) and every
// reference of that KPI with `from_result`, adds to `observations` the value the reference reads
// (Reference::kpi / variable / fiscal_year / round) taken from `past`: the agency's result or
// score of the KPI with that key in that year and round. A value `observations` already has is
// kept: an imported observation overrides the earlier result. The values added carry
// Observation::source kFilledFromPublished or kFilledFromImported (esar's own published result
// wins over an imported one of the same year, should both exist). Returns how many were added;
// `kept`, when given, is set to how many `observations` already had (imported in their place).
size_t FillBaselines(const Framework& framework, const std::vector<Agency>& agencies,
                     const std::vector<PastResult>& past, std::vector<Observation>& observations,
                     size_t* kept = nullptr);

// Adds to the traces in `scores` (scored from `observations` with explanations), before each
// KPI's other steps, one TraceKind::kBaseline step per reference with `from_result` that the
// KPI read, saying where its value came from: the published or imported earlier result, or an
// imported observation in its place. KPIs without a trace are left alone.
void AnnotateBaselines(const Engine& engine, const std::vector<Observation>& observations,
                       std::vector<AgencyScore>& scores);

// The earlier results of one agency for `key` ("" = its totals), oldest year first, round 12
// before round 6 of the same year not guaranteed: sorted by (fiscal_year, round). Where esar's
// own published result and an imported one give the same year and round, the published one.
std::vector<PastResult> HistoryOf(const std::vector<PastResult>& past, const std::string& agency,
                                  const std::string& key);

}  // namespace esar::domain
