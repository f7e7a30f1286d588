#include "service/result_list.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <tuple>

#include "storage/result_rows.h"

namespace esar::service {
namespace {

// Latin letters in lower case, everything else as it is: what LIKE (SQLite) and ILIKE
// (PostgreSQL) fold for the names esar holds (Thai has no case).
std::string Fold(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

Result<std::shared_ptr<const ResultListIndex>> ResultListIndex::Build(storage::Database& db,
                                                                      int64_t rows_from) {
  auto rows = db.Query(
      "SELECT t.agency_code, t.kind, t.parent, t.total, a.sort_key, a.name_th, a.name_en, "
      "p.sort_key, p.code, p.name_th, p.name_en FROM " +
          storage::ResultRowsSource(db, "result_totals", rows_from) +
          " t JOIN agencies a ON a.code = t.agency_code LEFT JOIN agencies p ON p.code = "
          "t.parent WHERE t.result_id = ?",
      {rows_from});
  if (!rows) return rows.status();
  return FromRows(*rows);
}

Result<std::shared_ptr<const ResultListIndex>> ResultListIndex::BuildDirectory(
    storage::Database& db) {
  auto rows = db.Query(
      "SELECT a.code, a.kind, COALESCE(a.parent, ''), NULL, a.sort_key, a.name_th, a.name_en, "
      "p.sort_key, p.code, p.name_th, p.name_en FROM agencies a LEFT JOIN agencies p ON p.code = "
      "a.parent");
  if (!rows) return rows.status();
  return FromRows(*rows);
}

std::shared_ptr<const ResultListIndex> ResultListIndex::FromRows(const storage::Rows& rows) {
  auto index = std::make_shared<ResultListIndex>();
  index->entries_.reserve(rows.size());
  for (const storage::Row& r : rows) {
    Entry e;
    e.code = r.Text(0);
    e.kind = r.Text(1);
    e.parent = r.Text(2);
    if (!r.IsNull(3)) e.total = r.Real(3);
    e.name_key = r.Text(4);
    e.has_parent_key = !r.IsNull(7);
    e.parent_key = r.Text(7);
    e.own_text = Fold(e.code + "\n" + r.Text(5) + "\n" + r.Text(6));
    if (!r.IsNull(8)) e.parent_text = Fold(r.Text(8) + "\n" + r.Text(9) + "\n" + r.Text(10));
    index->entries_.push_back(std::move(e));
  }
  const std::vector<Entry>& es = index->entries_;
  std::vector<uint32_t> all(es.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint32_t>(i);
  // The orders of ListResultAgencies' SQL. Sort keys are bytes compared as unsigned, as both
  // databases compare BLOB/bytea; codes as bytes too (ties only: codes are unique).
  auto by_name = [&](uint32_t x, uint32_t y) {
    return std::tie(es[x].name_key, es[x].code) < std::tie(es[y].name_key, es[y].code);
  };
  index->by_name_ = all;
  std::sort(index->by_name_.begin(), index->by_name_.end(), by_name);
  // By parent: agencies without one last either way, the names ascending within a parent.
  auto by_parent = [&](bool descending) {
    return [&, descending](uint32_t x, uint32_t y) {
      const Entry& a = es[x];
      const Entry& b = es[y];
      if (a.has_parent_key != b.has_parent_key) return a.has_parent_key;
      if (a.has_parent_key && a.parent_key != b.parent_key)
        return descending ? a.parent_key > b.parent_key : a.parent_key < b.parent_key;
      return by_name(x, y);
    };
  };
  index->by_parent_ = all;
  std::sort(index->by_parent_.begin(), index->by_parent_.end(), by_parent(false));
  index->by_parent_desc_ = all;
  std::sort(index->by_parent_desc_.begin(), index->by_parent_desc_.end(), by_parent(true));
  // By score, a missing total lowest; read backwards for best first (as the index is).
  index->by_score_ = all;
  std::sort(index->by_score_.begin(), index->by_score_.end(), [&](uint32_t x, uint32_t y) {
    const Entry& a = es[x];
    const Entry& b = es[y];
    if (a.total.has_value() != b.total.has_value()) return !a.total.has_value();
    if (a.total && *a.total != *b.total) return *a.total < *b.total;
    return a.code < b.code;
  });
  for (const Entry& e : es) {
    if (!e.kind.empty()) index->kinds_.push_back(e.kind);
  }
  std::sort(index->kinds_.begin(), index->kinds_.end());
  index->kinds_.erase(std::unique(index->kinds_.begin(), index->kinds_.end()), index->kinds_.end());
  return index;
}

ResultListIndex::Slice ResultListIndex::Find(const ListQuery& query) const {
  const std::vector<uint32_t>* order = &by_parent_;
  bool backwards = false;
  switch (query.sort) {
    case ListSort::kName:
      order = &by_name_;
      backwards = query.descending;
      break;
    case ListSort::kParent:
      order = query.descending ? &by_parent_desc_ : &by_parent_;
      break;
    case ListSort::kScore:
      order = &by_score_;
      backwards = query.descending;
      break;
  }
  const std::string needle = Fold(query.q);
  // Thai text in UTF-8 starts nearly every character with the same byte, which a plain find
  // matches first over and over: a skip table is several times faster over 8,000 names.
  const std::boyer_moore_horspool_searcher searcher(needle.begin(), needle.end());
  auto contains = [&](const std::string& text) {
    return std::search(text.begin(), text.end(), searcher) != text.end();
  };
  Slice out;
  const size_t n = order->size();
  for (size_t i = 0; i < n; ++i) {
    const Entry& e = entries_[(*order)[backwards ? n - 1 - i : i]];
    if (!query.kind.empty() && e.kind != query.kind) continue;
    if (!query.parent.empty() && e.parent != query.parent) continue;
    if (!needle.empty() && !contains(e.own_text) && !contains(e.parent_text)) continue;
    if (out.total >= query.offset && out.total < query.offset + query.limit) {
      out.codes.push_back(e.code);
    }
    ++out.total;
  }
  return out;
}

Result<int64_t> DirectoryVersion(storage::Database& db) {
  auto rows = db.Query("SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE entity = 'agencies'");
  if (!rows) return rows.status();
  return (*rows)[0].Int(0);
}

Result<ListPage> ListResultAgencies(storage::Database& db, int64_t rows_from,
                                    const ListQuery& query, const ResultListIndex& index) {
  const ResultListIndex::Slice slice = index.Find(query);
  ListPage page;
  page.total = slice.total;
  if (slice.codes.empty()) return page;
  std::string in;
  std::vector<storage::Value> params = {rows_from};
  for (const std::string& code : slice.codes) {
    in += in.empty() ? "?" : ", ?";
    params.emplace_back(code);
  }
  auto rows = db.Query(
      "SELECT t.agency_code, a.name_th, a.name_en, t.kind, t.parent, p.name_th, p.name_en, "
      "t.total, t.grade FROM " +
          storage::ResultRowsSource(db, "result_totals", rows_from) +
          " t JOIN agencies a ON a.code = t.agency_code LEFT JOIN agencies p ON p.code = "
          "t.parent WHERE t.result_id = ? AND t.agency_code IN (" +
          in + ")",
      params);
  if (!rows) return rows.status();
  std::map<std::string, ListedAgency> by_code;
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
    by_code.emplace(a.code, std::move(a));
  }
  for (const std::string& code : slice.codes) {
    auto found = by_code.find(code);
    if (found != by_code.end()) page.items.push_back(std::move(found->second));
  }
  return page;
}

Result<ListPage> ListResultAgencies(storage::Database& db, int64_t rows_from,
                                    const ListQuery& query) {
  // Conditions on the result's rows only, so that counting reads one index (the primary key,
  // or result_totals_by_parent with a filter) and never the rows with their inputs.
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
    where += " AND (t.agency_code IN (SELECT code FROM m) OR t.parent IN (SELECT code FROM m))";
  }
  // A search reads the directory once: the page query counts its matches too (COUNT OVER),
  // and only a page past the end needs the count alone. Otherwise the count reads one index.
  const bool searching = !query.q.empty();
  const std::string totals = storage::ResultRowsSource(db, "result_totals", rows_from);
  const std::string count_sql = with + "SELECT COUNT(*) FROM " + totals + " t" + where;
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
  std::string inner_from = " FROM " + totals + " t";
  std::string keys, inner_order, outer_order;
  switch (query.sort) {
    case ListSort::kName:
      inner_from = " FROM agencies a CROSS JOIN " + totals + " t";
      where += " AND t.agency_code = a.code";
      keys = "a.code AS code, a.sort_key AS k1, a.sort_key AS k2";
      inner_order = "a.sort_key" + dir + ", a.code" + dir;
      outer_order = "pg.k1" + dir + ", pg.code" + dir;
      break;
    case ListSort::kParent:
      inner_from = " FROM " + totals +
                   " t JOIN agencies a ON a.code = t.agency_code LEFT JOIN agencies p ON p.code "
                   "= t.parent";
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
          inner_order + " LIMIT ? OFFSET ?) pg JOIN " + totals +
          " t ON t.result_id = ? AND t.agency_code = pg.code JOIN agencies a ON a.code = "
          "t.agency_code LEFT JOIN agencies p ON p.code = t.parent ORDER BY " +
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
  auto rows = db.Query("SELECT DISTINCT kind FROM " +
                           storage::ResultRowsSource(db, "result_totals", rows_from) +
                           " WHERE result_id = ? AND kind <> '' ORDER BY kind",
                       {rows_from});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (const storage::Row& r : *rows) out.push_back(r.Text(0));
  return out;
}

}  // namespace esar::service
