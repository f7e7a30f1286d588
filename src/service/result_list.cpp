#include "service/result_list.h"

namespace esar::service {

Result<ListPage> ListResultAgencies(storage::Database& db, int64_t rows_from,
                                    const ListQuery& query) {
  // Conditions on the result's rows only, so that counting reads one covering index
  // (result_totals_list, migration 11) and never the rows with their inputs.
  std::string with, where = " WHERE t.result_id = ?";
  std::vector<storage::Value> params;
  if (!query.q.empty()) {
    // The agencies whose code or name matches, found once: an agency is listed when it matches
    // or its parent (ministry, province) does. LIKE folds Latin letters on SQLite, ILIKE on
    // PostgreSQL; Thai has no case.
    const char* like = db.dialect() == storage::Dialect::kPostgres ? "ILIKE" : "LIKE";
    with = std::string("WITH m AS MATERIALIZED (SELECT code FROM agencies WHERE code ") + like +
           " ? ESCAPE '\\' OR name_th " + like + " ? ESCAPE '\\' OR name_en " + like +
           " ? ESCAPE '\\') ";
    const std::string pattern = storage::ContainsPattern(query.q);
    for (int i = 0; i < 3; ++i) params.emplace_back(pattern);
  }
  params.emplace_back(rows_from);
  if (!query.kind.empty()) {
    where += " AND t.kind = ?";
    params.emplace_back(query.kind);
  }
  if (!query.parent.empty()) {
    where += " AND t.parent = ?";
    params.emplace_back(query.parent);
  }
  if (!query.q.empty()) {
    where +=
        " AND (t.agency_code IN (SELECT code FROM m) OR t.parent IN (SELECT code FROM m))";
  }
  // A search reads the directory once: the page query counts its matches too (COUNT OVER),
  // and only a page past the end needs the count alone. Otherwise the count reads one index.
  const bool searching = !query.q.empty();
  const std::string count_sql = with + "SELECT COUNT(*) FROM result_totals t" + where;
  std::optional<int64_t> total;
  if (!searching) {
    auto counted = db.Query(count_sql, params);
    if (!counted) return counted.status();
    total = (*counted)[0].Int(0);
  }
  const std::string dir = query.descending ? " DESC" : "";
  // By name, the agencies' sort-key index drives the page (CROSS JOIN keeps SQLite's loops in
  // that order; PostgreSQL plans it as the inner join it is), so a page reads its rows only.
  std::string from =
      " FROM result_totals t JOIN agencies a ON a.code = t.agency_code "
      "LEFT JOIN agencies p ON p.code = t.parent";
  std::string order;
  switch (query.sort) {
    case ListSort::kName:
      from =
          " FROM agencies a CROSS JOIN result_totals t LEFT JOIN agencies p ON p.code = t.parent";
      where += " AND t.agency_code = a.code";
      order = "a.sort_key" + dir + ", a.code" + dir;
      break;
    case ListSort::kParent:
      order = "p.sort_key" + dir + " NULLS LAST, a.sort_key, a.code";
      break;
    case ListSort::kScore:
      // In the order of the covering index result_totals_score (a missing total lowest), read
      // forwards or backwards: no sort at all.
      order = "t.total" + dir + (query.descending ? " NULLS LAST" : " NULLS FIRST") +
              ", t.agency_code" + dir;
      break;
  }
  std::vector<storage::Value> paged = params;
  paged.emplace_back(query.limit);
  paged.emplace_back(query.offset);
  auto rows = db.Query(with +
                           "SELECT t.agency_code, a.name_th, a.name_en, t.kind, t.parent, "
                           "p.name_th, p.name_en, t.total, t.grade" +
                           (searching ? ", COUNT(*) OVER ()" : "") +
                           from + where + " ORDER BY " + order + " LIMIT ? OFFSET ?",
                       paged);
  if (!rows) return rows.status();
  if (searching && !rows->empty()) total = (*rows)[0].Int(9);
  if (!total) {
    auto counted = db.Query(count_sql, params);
    if (!counted) return counted.status();
    total = (*counted)[0].Int(0);
  }
  ListPage page;
  page.total = *total;
  page.items.reserve(rows->size());
  for (const storage::Row& r : *rows) {
    ListedAgency a;
    a.code = r.Text(0);
    a.name_th = r.Text(1);
    a.name_en = r.Text(2);
    a.kind = r.Text(3);
    a.parent = r.Text(4);
    a.parent_name_th = r.Text(5);
    a.parent_name_en = r.Text(6);
    if (!r.IsNull(7)) a.total = r.Real(7);
    a.grade = r.IsNull(8) ? -1 : static_cast<int>(r.Int(8));
    page.items.push_back(std::move(a));
  }
  return page;
}

Result<std::vector<std::string>> KindsInResult(storage::Database& db, int64_t rows_from) {
  auto rows = db.Query(
      "SELECT DISTINCT kind FROM result_totals WHERE result_id = ? AND kind <> '' ORDER BY kind",
      {rows_from});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (const storage::Row& r : *rows) out.push_back(r.Text(0));
  return out;
}

}  // namespace esar::service
