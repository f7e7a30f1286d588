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
  // The page is found first from what the indexes hold (the sort keys, the totals), skipping
  // `offset` rows without reading names; only its rows are then read whole. By name, the
  // agencies' sort-key index drives it (CROSS JOIN keeps SQLite's loops in that order;
  // PostgreSQL plans it as the inner join it is).
  std::string inner_from = " FROM result_totals t";
  std::string keys, inner_order, outer_order;
  switch (query.sort) {
    case ListSort::kName:
      inner_from = " FROM agencies a CROSS JOIN result_totals t";
      where += " AND t.agency_code = a.code";
      keys = "a.code AS code, a.sort_key AS k1, a.sort_key AS k2";
      inner_order = "a.sort_key" + dir + ", a.code" + dir;
      outer_order = "pg.k1" + dir + ", pg.code" + dir;
      break;
    case ListSort::kParent:
      inner_from =
          " FROM result_totals t JOIN agencies a ON a.code = t.agency_code "
          "LEFT JOIN agencies p ON p.code = t.parent";
      keys = "t.agency_code AS code, p.sort_key AS k1, a.sort_key AS k2";
      inner_order = "p.sort_key" + dir + " NULLS LAST, a.sort_key, a.code";
      outer_order = "pg.k1" + dir + " NULLS LAST, pg.k2, pg.code";
      break;
    case ListSort::kScore: {
      // In the order of the covering index result_totals_score (a missing total lowest), read
      // forwards or backwards: no sort at all.
      const std::string nulls = query.descending ? " NULLS LAST" : " NULLS FIRST";
      keys = "t.agency_code AS code, t.total AS k1, t.total AS k2";
      inner_order = "t.total" + dir + nulls + ", t.agency_code" + dir;
      outer_order = "pg.k1" + dir + nulls + ", pg.code" + dir;
      break;
    }
  }
  std::vector<storage::Value> paged = params;
  paged.emplace_back(query.limit);
  paged.emplace_back(query.offset);
  paged.emplace_back(rows_from);
  auto rows = db.Query(
      with +
          "SELECT t.agency_code, a.name_th, a.name_en, t.kind, t.parent, p.name_th, p.name_en, " +
          "t.total, t.grade, pg.n FROM (SELECT " + keys + ", " +
          (searching ? "COUNT(*) OVER ()" : "0") + " AS n" + inner_from + where + " ORDER BY " +
          inner_order +
          " LIMIT ? OFFSET ?) pg JOIN result_totals t ON t.result_id = ? AND t.agency_code = "
          "pg.code JOIN agencies a ON a.code = t.agency_code LEFT JOIN agencies p ON p.code = "
          "t.parent ORDER BY " +
          outer_order,
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
