#include "service/report_digest.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "security/crypto.h"
#include "storage/result_rows.h"

namespace esar::service {

namespace {

// A stored number as the digest reads it: the shortest text that reads back as the same double
// (both backends return the same double, so the same text), "null" for NULL.
void AppendValue(std::string& out, const storage::Row& row, size_t i, bool real) {
  if (row.IsNull(i)) {
    out += "null";
  } else if (real) {
    char buffer[32];
    const auto done = std::to_chars(buffer, buffer + sizeof buffer, row.Real(i));
    out.append(buffer, done.ptr);
  } else {
    out += row.Text(i);
  }
  out += '|';
}

// The statements reading result `rows_from`'s totals and KPI rows, each to go on with more
// conditions.
std::string TotalsOf(const storage::Database& db, int64_t rows_from) {
  return "SELECT agency_code, total, grade, scored_weight, status FROM " +
         storage::ResultRowsSource(db, "result_totals", rows_from) + " WHERE result_id = ?";
}
std::string KpisOf(const storage::Database& db, int64_t rows_from) {
  return "SELECT agency_code, kpi, parent_kpi, status, result, score, level, weight, weighted "
         "FROM " +
         storage::ResultRowsSource(db, "result_kpis", rows_from) + " WHERE result_id = ?";
}

// The text hashed for one agency: a version tag (a later change of the recipe cannot match an
// earlier digest by accident), the publication, the agency's total line, then its KPI lines in
// KPI order.
std::string Opening(int64_t result_id, const storage::Row& total) {
  std::string text = "esar-report-v1\n" + std::to_string(result_id) + "\n";
  AppendValue(text, total, 0, false);
  AppendValue(text, total, 1, true);
  AppendValue(text, total, 2, false);
  AppendValue(text, total, 3, true);
  AppendValue(text, total, 4, false);
  text += '\n';
  return text;
}

std::string KpiLine(const storage::Row& k) {
  std::string text;
  for (size_t i = 1; i <= 3; ++i) AppendValue(text, k, i, false);
  AppendValue(text, k, 4, true);
  AppendValue(text, k, 5, true);
  AppendValue(text, k, 6, false);
  AppendValue(text, k, 7, true);
  AppendValue(text, k, 8, true);
  text += '\n';
  return text;
}

// The KPI lines in byte order of the KPI id (the line starts with it, then '|'), whatever the
// database's collation: the same digest on SQLite and on PostgreSQL, and after a restore from
// one to the other.
void AppendKpis(std::string& text, std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  for (const std::string& l : lines) text += l;
}

}  // namespace

Result<std::string> PublishedRowsDigest(storage::Database& db, int64_t result_id,
                                        int64_t rows_from, const std::string& agency) {
  std::string text;
  Status read = db.ReadSnapshot([&]() -> Status {
    auto total = db.Query(TotalsOf(db, rows_from) + " AND agency_code = ?", {rows_from, agency});
    if (!total) return total.status();
    if (total->empty()) {
      return Status::NotFound("ไม่มีผลของหน่วยงาน " + agency + " ในผลการประเมินนี้",
                              "agency " + agency + " is not in this result");
    }
    text = Opening(result_id, (*total)[0]);
    auto kpis = db.Query(KpisOf(db, rows_from) + " AND agency_code = ?", {rows_from, agency});
    if (!kpis) return kpis.status();
    std::vector<std::string> lines;
    for (const storage::Row& k : *kpis) lines.push_back(KpiLine(k));
    AppendKpis(text, std::move(lines));
    return Status::Ok();
  });
  if (!read.ok()) return read;
  return security::Sha256Hex(text);
}

Result<std::map<std::string, PublishedReport>> PublishedDigests(storage::Database& db) {
  std::map<std::string, PublishedReport> out;
  Status read = db.ReadSnapshot([&]() -> Status {
    auto publications = db.Query(
        "SELECT r.id, COALESCE(r.rows_from, r.id), r.framework_id, r.round, r.computed_at, "
        "o.id FROM results r JOIN rounds o ON o.framework_id = r.framework_id AND o.round = "
        "r.round WHERE r.stage = 'published' ORDER BY r.id");
    if (!publications) return publications.status();
    std::map<int64_t, int64_t> newest;  // round id -> its newest publication
    for (const storage::Row& p : *publications) newest[p.Int(5)] = p.Int(0);
    for (const storage::Row& p : *publications) {
      const int64_t id = p.Int(0), rows_from = p.Int(1);
      auto totals = db.Query(TotalsOf(db, rows_from), {rows_from});
      if (!totals) return totals.status();
      std::unordered_map<std::string, std::vector<std::string>> lines;  // by agency
      {
        auto kpis = db.Query(KpisOf(db, rows_from), {rows_from});
        if (!kpis) return kpis.status();
        for (const storage::Row& k : *kpis) lines[k.Text(0)].push_back(KpiLine(k));
      }
      for (const storage::Row& t : *totals) {
        const std::string agency = t.Text(0);
        std::string text = Opening(id, t);
        AppendKpis(text, std::move(lines[agency]));
        out[security::Sha256Hex(text)] =
            PublishedReport{id,       rows_from, p.Int(5), p.Int(2), static_cast<int>(p.Int(3)),
                            p.Int(4), agency,    newest[p.Int(5)] == id};
      }
    }
    return Status::Ok();
  });
  if (!read.ok()) return read;
  return out;
}

}  // namespace esar::service
