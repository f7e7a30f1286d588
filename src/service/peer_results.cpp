#include "service/peer_results.h"

#include <functional>
#include <limits>
#include <set>
#include <string>

#include "storage/result_rows.h"

namespace esar::service {
namespace {

domain::KpiStatus StatusOf(const std::string& s) {
  if (s == "scored") return domain::KpiStatus::kScored;
  if (s == "exempt") return domain::KpiStatus::kExempt;
  if (s == "monitoring") return domain::KpiStatus::kMonitoring;
  return domain::KpiStatus::kMissing;
}

}  // namespace

Result<std::vector<domain::PeerResult>> PeerResultsFor(storage::Database& db,
                                                       const domain::Framework& framework,
                                                       const std::string& agency_kind, int round) {
  std::vector<domain::PeerResult> out;
  std::set<std::string> keys;
  std::function<void(const std::vector<domain::Kpi>&)> walk =
      [&](const std::vector<domain::Kpi>& kpis) {
        for (const domain::Kpi& k : kpis) {
          if (k.from_agencies) keys.insert(k.from_agencies->key);
          walk(k.sub_kpis);
        }
      };
  walk(framework.kpis);
  if (keys.empty()) return out;
  // The newest result of each other kind's framework of the year; a publication shares the
  // rows of the final result it publishes (rows_from).
  auto newest = db.Query(
      "SELECT COALESCE(r.rows_from, r.id) FROM results r JOIN frameworks f ON f.id = "
      "r.framework_id WHERE r.id IN (SELECT MAX(r2.id) FROM results r2 JOIN frameworks f2 ON "
      "f2.id = r2.framework_id WHERE f2.fiscal_year = ? AND r2.round = ? AND f2.agency_kind <> ? "
      "GROUP BY f2.agency_kind)",
      {int64_t{framework.fiscal_year}, int64_t{round}, agency_kind});
  if (!newest) return newest.status();
  std::string placeholders;
  std::vector<storage::Value> key_params;
  for (const std::string& k : keys) {
    placeholders += placeholders.empty() ? "?" : ", ?";
    key_params.emplace_back(k);
  }
  for (const storage::Row& result : *newest) {
    std::vector<storage::Value> params = {result.Int(0)};
    params.insert(params.end(), key_params.begin(), key_params.end());
    Status s = db.QueryEach(
        "SELECT k.agency_code, t.kind, t.parent, k.kpi_key, k.status, k.result, k.level FROM " +
            storage::ResultRowsSource(db, "result_kpis", result.Int(0)) + " k JOIN " +
            storage::ResultRowsSource(db, "result_totals", result.Int(0)) +
            " t ON t.result_id = k.result_id AND t.agency_code = k.agency_code WHERE "
            "k.result_id = ? AND k.kpi_key IN (" +
            placeholders + ") ORDER BY k.agency_code",
        params, [&](const storage::Row& r) {
          domain::PeerResult p;
          p.agency = r.Text(0);
          p.kind = r.Text(1);
          p.parent = r.Text(2);
          p.kpi_key = r.Text(3);
          p.status = StatusOf(r.Text(4));
          p.result = r.IsNull(5) ? std::numeric_limits<double>::quiet_NaN() : r.Real(5);
          p.level = static_cast<int>(r.Int(6));
          out.push_back(std::move(p));
          return Status::Ok();
        });
    if (!s.ok()) return s;
  }
  return out;
}

}  // namespace esar::service
