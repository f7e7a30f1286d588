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

}  // namespace

Status History::ImportResults(const Actor& actor, const std::vector<domain::PastResult>& results) {
  if (!actor.Is(Role::kAdmin))
    return Denied(actor, "นำเข้าผลการประเมินปีก่อน", "import earlier results");
  std::set<std::pair<int, int>> years;
  for (const domain::PastResult& p : results) years.insert({p.fiscal_year, p.round});
  const int64_t now = clock_.NowMs();
  return db_.Transaction([&]() -> Status {
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
}

Result<std::vector<domain::PastResult>> History::Published(int before_year,
                                                           const std::string& agency_code) {
  auto rows = db_.Query(
      "SELECT ra.agency_code, ra.document, f.fiscal_year, ra.round, f.id, f.document "
      "FROM result_agencies ra JOIN frameworks f ON f.id = ra.framework_id "
      "WHERE ra.stage = 'published' AND (? = 0 OR f.fiscal_year < ?) "
      "AND (? = '' OR ra.agency_code = ?) ORDER BY ra.result_id",
      {int64_t{before_year}, int64_t{before_year}, agency_code, agency_code});
  if (!rows) return rows.status();
  // Each framework's keys by KPI id, parsed once.
  std::map<int64_t, std::map<std::string, std::string>> keys;
  // The newest publication of a year and round wins (a round published again after a reopening).
  std::map<std::tuple<std::string, std::string, int, int>, domain::PastResult> found;
  for (const storage::Row& r : *rows) {
    const int64_t framework_id = r.Int(4);
    auto known = keys.find(framework_id);
    if (known == keys.end()) {
      std::map<std::string, std::string> by_id;
      auto fw = formats::ParseFramework(r.Text(5), "framework " + std::to_string(framework_id));
      if (fw) {
        std::function<void(const std::vector<domain::Kpi>&)> walk =
            [&](const std::vector<domain::Kpi>& kpis) {
              for (const domain::Kpi& k : kpis) {
                if (!k.key.empty()) by_id[k.id] = k.key;
                walk(k.sub_kpis);
              }
            };
        walk(fw->kpis);
      }
      known = keys.emplace(framework_id, std::move(by_id)).first;
    }
    domain::PastResult base;
    base.agency = r.Text(0);
    base.fiscal_year = static_cast<int>(r.Int(2));
    base.round = static_cast<int>(r.Int(3));
    base.source = domain::PastSource::kPublished;
    const json part = json::parse(r.Text(1), nullptr, false);
    if (part.is_discarded() || !part.contains("agency")) continue;
    const json& agency = part["agency"];
    if (agency.contains("total") && agency["total"].is_number()) {
      domain::PastResult total = base;
      total.score = agency["total"].get<double>();
      found[{base.agency, "", base.fiscal_year, base.round}] = total;
    }
    std::function<void(const json&)> walk = [&](const json& kpis) {
      if (!kpis.is_array()) return;
      for (const json& k : kpis) {
        if (k.contains("sub_kpis")) walk(k["sub_kpis"]);
        const auto key = known->second.find(k.value("id", ""));
        if (key == known->second.end() || k.value("status", "") != "scored") continue;
        domain::PastResult p = base;
        p.kpi_key = key->second;
        if (k.contains("result") && k["result"].is_number()) p.result = k["result"].get<double>();
        if (k.contains("score") && k["score"].is_number()) p.score = k["score"].get<double>();
        found[{p.agency, p.kpi_key, p.fiscal_year, p.round}] = p;
      }
    };
    walk(agency.contains("kpis") ? agency["kpis"] : json());
  }
  std::vector<domain::PastResult> out;
  out.reserve(found.size());
  for (auto& [k, p] : found) out.push_back(std::move(p));
  return out;
}

Result<std::vector<domain::PastResult>> History::PastResults(int before_year,
                                                             const std::string& agency) {
  auto rows = db_.Query(
      "SELECT fiscal_year, round, agency_code, kpi_key, result, score FROM past_results "
      "WHERE (? = 0 OR fiscal_year < ?) AND (? = '' OR agency_code = ?)",
      {int64_t{before_year}, int64_t{before_year}, agency, agency});
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
  auto published = Published(before_year, agency);
  if (!published) return published.status();
  out.insert(out.end(), published->begin(), published->end());
  return out;
}

Result<size_t> History::FillBaselines(const domain::Framework& framework,
                                      const std::vector<domain::Agency>& agencies,
                                      std::vector<domain::Observation>& observations) {
  bool any = false;
  std::function<void(const std::vector<domain::Kpi>&)> walk =
      [&](const std::vector<domain::Kpi>& kpis) {
        for (const domain::Kpi& k : kpis) {
          for (const domain::Reference& ref : k.references) any = any || ref.from_result;
          walk(k.sub_kpis);
        }
      };
  walk(framework.kpis);
  if (!any) return size_t{0};  // nothing to read: most frameworks
  // One agency (a KPI page's what-if line): only its own results are read.
  auto past = PastResults(framework.fiscal_year, agencies.size() == 1 ? agencies[0].code : "");
  if (!past) return past.status();
  return domain::FillBaselines(framework, agencies, *past, observations);
}

}  // namespace esar::service
