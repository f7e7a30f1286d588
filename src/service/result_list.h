#pragma once

// The list of a result's agencies as the public page shows it, however many there are (every
// local government: ~8,000): searched, filtered, sorted and paged over the result's rows
// (result_totals) and the agencies' Thai sort keys. The pages find a page in a list index kept in
// memory (ResultListIndex) and read its rows only; the same list in SQL (ListResultAgencies
// without an index) defines the order and matches the index is tested against.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace esar::service {

enum class ListSort {
  kParent,  // by the parent's Thai name (ministry or province; none last), then the agency's
  kName,    // by the agency's Thai name, in Thai dictionary order
  kScore,   // by total, a missing one the lowest (last when descending); ties by code
};

// Which agencies of a result, in what order, which page; empty strings match everything.
struct ListQuery {
  std::string q;       // part of the code, the Thai or English name, or the parent's name
  std::string kind;    // the agency's kind at computation time
  std::string parent;  // the parent's code at computation time (ministry or province)
  ListSort sort = ListSort::kParent;
  bool descending = false;  // the order reversed (the parent order's ties stay by name)
  int64_t limit = 50;
  int64_t offset = 0;
};

// One agency of a result's list.
struct ListedAgency {
  std::string code;
  std::string name_th, name_en;  // from the directory now
  std::string kind, parent;      // at computation time
  std::string parent_name_th, parent_name_en;
  std::optional<double> total;  // none when nothing was scored
  int grade = -1;               // index into the framework's grades, -1 for none
};

struct ListPage {
  std::vector<ListedAgency> items;
  int64_t total = 0;  // how many match, over all pages
};

// The order and the filter fields of every agency of one result's rows, in memory: a list page is
// then found without a query (sorting and skipping thousands of rows joined with the directory
// cost PostgreSQL 6-10 ms a deep page, a search 12-17 ms, however indexed), and only its rows
// are read. It derives from the result's rows (which never change once written) and the
// directory's names, kinds, parents and sort keys, so it is good while DirectoryVersion stays
// the same: a cache keys it on both (Pages does).
class ResultListIndex {
 public:
  // Reads the rows of result `rows_from` with their agencies' and parents' names and sort keys
  // (one query) and orders them every way the list sorts. Errors are the database's.
  static Result<std::shared_ptr<const ResultListIndex>> Build(storage::Database& db,
                                                              int64_t rows_from);
  // The same over the whole directory (every agency, its kind and parent as they are now, no
  // totals): what the admin's list of agencies pages through (Directory::ListAgencies).
  static Result<std::shared_ptr<const ResultListIndex>> BuildDirectory(storage::Database& db);

  // The codes of the agencies of `query`'s page, in its order, and how many match in all;
  // the same agencies and order as ListResultAgencies' SQL gives.
  struct Slice {
    std::vector<std::string> codes;
    int64_t total = 0;
  };
  Slice Find(const ListQuery& query) const;

  // The kinds of agency in the rows (each once, in code order), as KindsInResult.
  const std::vector<std::string>& kinds() const { return kinds_; }

 private:
  // Builds from rows of: code, kind, parent, total, sort key, Thai and English names, the
  // parent's sort key, code, Thai and English names.
  static std::shared_ptr<const ResultListIndex> FromRows(const storage::Rows& rows);

  struct Entry {
    std::string code, kind, parent;
    std::optional<double> total;
    std::string name_key, parent_key;  // ICU sort keys (bytes); parent_key empty when none
    bool has_parent_key = false;
    std::string own_text, parent_text;  // code and names, folded for search ("\n" between)
  };
  std::vector<Entry> entries_;
  // Positions in entries_ in each order: by name, by parent (ascending and descending parent,
  // names ascending within), by score (a missing total lowest).
  std::vector<uint32_t> by_name_, by_parent_, by_parent_desc_, by_score_;
  std::vector<std::string> kinds_;
};

// The directory's version: the newest audit entry of the agencies (every change to them is
// audited under "agencies": Directory::UpsertAgencies). What is read from the directory can be
// kept while it stays. One index lookup (audit_log_entity). Errors are the database's.
Result<int64_t> DirectoryVersion(storage::Database& db);

// The rows of the agencies `index` finds for `query` in result `rows_from` (one query for the
// page's rows), as ListResultAgencies returns them. `index` must have been built from
// `rows_from` at the current DirectoryVersion.
Result<ListPage> ListResultAgencies(storage::Database& db, int64_t rows_from,
                                    const ListQuery& query, const ResultListIndex& index);

// The agencies scored in the rows of result `rows_from` (results.rows_from of the result shown:
// the caller has checked who may see it) that match `query`, one page in its order, in SQL (one
// query for the page and one for the count): the reference ResultListIndex is checked against
// (a deep page or a search costs PostgreSQL 6-17 ms this way). Errors are the database's.
Result<ListPage> ListResultAgencies(storage::Database& db, int64_t rows_from,
                                    const ListQuery& query);

// The kinds of agency in the rows of result `rows_from` (each once, in code order): what the
// list's filter by kind offers (ResultListIndex::kinds gives the same from memory).
Result<std::vector<std::string>> KindsInResult(storage::Database& db, int64_t rows_from);

}  // namespace esar::service
