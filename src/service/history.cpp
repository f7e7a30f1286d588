#include "service/history.h"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "common/text.h"
#include "formats/framework_json.h"
#include "service/audit.h"

namespace esar::service {
namespace {

using nlohmann::json;

// A value as stored: its shortest decimal text, NULL when there is none. Text rather than a
// floating-point column, so that the audit digest of the table is the same on both backends
// (they print doubles differently) and what was imported is what is read back.
storage::Value Stored(const std::optional<double>& v) {
  return v ? storage::Value{ShortestDecimal(*v)} : storage::Value{};
}

std::optional<double> Read(const storage::Row& row, size_t column) {
  if (row.IsNull(column)) return std::nullopt;
  return std::stod(row.Text(column));
}

// The conditions of `filter` on the columns named (past_results' own, or a publication's
// framework, result and rows), as " AND ..." with their values appended to `params`; "" when it
// matches everything.
std::string Conditions(const History::PastFilter& filter, const std::string& year_column,
                       const std::string& round_column, const std::string& agency_column,
                       std::vector<storage::Value>& params) {
  std::string sql;
  if (filter.before_year) {
    sql += " AND " + year_column + " < ?";
    params.emplace_back(int64_t{filter.before_year});
  }
  if (filter.year) {
    sql += " AND " + year_column + " = ?";
    params.emplace_back(int64_t{filter.year});
  }
  if (filter.round) {
    sql += " AND " + round_column + " = ?";
    params.emplace_back(int64_t{filter.round});
  }
  std::vector<std::string> agencies = filter.agencies;
  if (!filter.agency.empty()) agencies.push_back(filter.agency);
  if (!agencies.empty()) {
    sql += " AND " + agency_column + " IN (" + storage::Placeholders(agencies.size()) + ")";
    params.insert(params.end(), agencies.begin(), agencies.end());
  }
  return sql;
}

}  // namespace

Status History::ImportResults(const Actor& actor, const std::vector<domain::PastResult>& results) {
  if (!actor.Is(Role::kAdmin))
    return Denied(actor, "นำเข้าผลการประเมินปีก่อน", "import earlier results");
  std::set<std::pair<int, int>> years;
  for (const domain::PastResult& p : results) years.insert({p.fiscal_year, p.round});
  const int64_t now = clock_.NowMs();
  Status stored = db_.Transaction([&]() -> Status {
    json before = json::array();
    json after = json::array();
    for (const auto& [year, round] : years) {
      auto count =
          db_.Query("SELECT COUNT(*) FROM past_results WHERE fiscal_year = ? AND round = ?",
                    {int64_t{year}, int64_t{round}});
      if (!count) return count.status();
      before.push_back({{"fiscal_year", year}, {"round", round}, {"rows", (*count)[0].Int(0)}});
      Status s = db_.Execute("DELETE FROM past_results WHERE fiscal_year = ? AND round = ?",
                             {int64_t{year}, int64_t{round}});
      if (!s.ok()) return s;
    }
    std::map<std::pair<int, int>, int64_t> counts;
    std::set<std::string> known;
    auto agencies = db_.Query("SELECT code FROM agencies");
    if (!agencies) return agencies.status();
    for (const storage::Row& r : *agencies) known.insert(r.Text(0));
    for (const domain::PastResult& p : results) {
      if (!known.count(p.agency)) {
        return Status::InvalidInput(
            "ไม่มีหน่วยงาน \"" + p.agency + "\" ในระบบ (นำเข้ารายชื่อหน่วยงานก่อน)",
            "no agency \"" + p.agency + "\" in esar (import the agencies first)", p.where);
      }
      Status s = db_.Execute(
          "INSERT INTO past_results (fiscal_year, round, agency_code, kpi_key, result, score) "
          "VALUES (?, ?, ?, ?, ?, ?)",
          {int64_t{p.fiscal_year}, int64_t{p.round}, p.agency, p.kpi_key, Stored(p.result),
           Stored(p.score)});
      if (!s.ok()) return s;
      ++counts[{p.fiscal_year, p.round}];
    }
    for (const auto& [year_round, n] : counts) {
      after.push_back(
          {{"fiscal_year", year_round.first}, {"round", year_round.second}, {"rows", n}});
    }
    return AuditLog(db_).Append(actor, now, "results.import", "past_results",
                                json{{"years", before}}.dump(), json{{"years", after}}.dump());
  });
  if (stored.ok()) db_.VacuumAfterBulkLoad("past_results", results.size());
  return stored;
}

Result<std::vector<domain::PastResult>> History::Published(const PastFilter& filter) {
  // The rows a publication shows are its final result's (results.rows_from); a KPI's key is kept
  // with its rows (result_kpis.kpi_key).
  std::vector<storage::Value> totals_params;
  auto totals = db_.Query(
      "SELECT t.agency_code, t.total, f.fiscal_year, r.round FROM results r "
      "JOIN frameworks f ON f.id = r.framework_id "
      "JOIN result_totals t ON t.result_id = COALESCE(r.rows_from, r.id) "
      "WHERE r.stage = 'published'" +
          Conditions(filter, "f.fiscal_year", "r.round", "t.agency_code", totals_params) +
          " AND t.total IS NOT NULL ORDER BY r.id",
      totals_params);
  if (!totals) return totals.status();
  std::vector<storage::Value> kpis_params;
  auto kpis = db_.Query(
      "SELECT k.agency_code, k.kpi_key, k.result, k.score, f.fiscal_year, r.round FROM results r "
      "JOIN frameworks f ON f.id = r.framework_id "
      "JOIN result_kpis k ON k.result_id = COALESCE(r.rows_from, r.id) "
      "WHERE r.stage = 'published'" +
          Conditions(filter, "f.fiscal_year", "r.round", "k.agency_code", kpis_params) +
          " AND k.kpi_key <> '' AND k.status = 'scored' ORDER BY r.id",
      kpis_params);
  if (!kpis) return kpis.status();
  // The newest publication of a year and round wins (a round published again after a reopening).
  std::map<std::tuple<std::string, std::string, int, int>, domain::PastResult> found;
  for (const storage::Row& r : *totals) {
    domain::PastResult total;
    total.agency = r.Text(0);
    total.fiscal_year = static_cast<int>(r.Int(2));
    total.round = static_cast<int>(r.Int(3));
    total.source = domain::PastSource::kPublished;
    total.score = r.Real(1);
    found[{total.agency, "", total.fiscal_year, total.round}] = total;
  }
  for (const storage::Row& r : *kpis) {
    domain::PastResult p;
    p.agency = r.Text(0);
    p.kpi_key = r.Text(1);
    p.fiscal_year = static_cast<int>(r.Int(4));
    p.round = static_cast<int>(r.Int(5));
    p.source = domain::PastSource::kPublished;
    if (!r.IsNull(2)) p.result = r.Real(2);
    if (!r.IsNull(3)) p.score = r.Real(3);
    found[{p.agency, p.kpi_key, p.fiscal_year, p.round}] = p;
  }
  std::vector<domain::PastResult> out;
  out.reserve(found.size());
  for (auto& [k, p] : found) out.push_back(std::move(p));
  return out;
}

Result<std::vector<domain::PastResult>> History::PastResults(const PastFilter& filter) {
  std::vector<storage::Value> params;
  auto rows = db_.Query(
      "SELECT fiscal_year, round, agency_code, kpi_key, result, score FROM past_results "
      "WHERE 1 = 1" +
          Conditions(filter, "fiscal_year", "round", "agency_code", params),
      params);
  if (!rows) return rows.status();
  std::vector<domain::PastResult> out;
  for (const storage::Row& r : *rows) {
    domain::PastResult p;
    p.fiscal_year = static_cast<int>(r.Int(0));
    p.round = static_cast<int>(r.Int(1));
    p.agency = r.Text(2);
    p.kpi_key = r.Text(3);
    p.result = Read(r, 4);
    p.score = Read(r, 5);
    p.source = domain::PastSource::kImported;
    out.push_back(std::move(p));
  }
  auto published = Published(filter);
  if (!published) return published.status();
  out.insert(out.end(), published->begin(), published->end());
  return out;
}

Result<std::set<std::string>> History::KeysWithResults(int year, int round) {
  auto rows = db_.Query(
      "SELECT DISTINCT kpi_key FROM past_results WHERE fiscal_year = ? AND round = ? AND "
      "kpi_key <> '' UNION SELECT DISTINCT k.kpi_key FROM results r JOIN frameworks f ON f.id = "
      "r.framework_id JOIN result_kpis k ON k.result_id = COALESCE(r.rows_from, r.id) WHERE "
      "r.stage = 'published' AND f.fiscal_year = ? AND r.round = ? AND k.kpi_key <> '' AND "
      "k.status = 'scored'",
      {int64_t{year}, int64_t{round}, int64_t{year}, int64_t{round}});
  if (!rows) return rows.status();
  std::set<std::string> keys;
  for (const storage::Row& r : *rows) keys.insert(r.Text(0));
  return keys;
}

// Up to this many agencies, FillBaselines reads only theirs; beyond, every agency's (a
// computation of the whole round reads them all anyway, and a list of thousands of codes would
// cost more than it saves).
constexpr size_t kAgenciesReadApart = 500;

Result<size_t> History::FillBaselines(const domain::Framework& framework,
                                      const std::vector<domain::Agency>& agencies,
                                      std::vector<domain::Observation>& observations,
                                      size_t* kept) {
  auto past = BaselineSources(framework, agencies);
  if (!past) return past.status();
  return domain::FillBaselines(framework, agencies, *past, observations, kept);
}

Result<std::vector<domain::PastResult>> History::BaselineSources(
    const domain::Framework& framework, const std::vector<domain::Agency>& agencies) {
  std::set<std::pair<int, int>> read;  // the (fiscal year, round) the references read
  std::function<void(const std::vector<domain::Kpi>&)> walk =
      [&](const std::vector<domain::Kpi>& kpis) {
        for (const domain::Kpi& k : kpis) {
          for (const domain::Reference& ref : k.references) {
            if (ref.from_result) read.insert({ref.fiscal_year, ref.round});
          }
          walk(k.sub_kpis);
        }
      };
  walk(framework.kpis);
  if (read.empty()) return std::vector<domain::PastResult>();  // most frameworks
  PastFilter filter;
  filter.before_year = framework.fiscal_year;
  if (read.size() == 1) {  // the usual case: one earlier year and round (FY2566, 12 months)
    filter.year = read.begin()->first;
    filter.round = read.begin()->second;
  }
  // A page's agencies (a KPI page's what-if line, a queue's page): only their own results are
  // read, not every agency's.
  if (agencies.size() <= kAgenciesReadApart) {
    for (const domain::Agency& a : agencies) filter.agencies.push_back(a.code);
  }
  return PastResults(filter);
}

}  // namespace esar::service
