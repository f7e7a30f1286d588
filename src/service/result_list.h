#pragma once

// The list of a result's agencies as the public page shows it, however many there are (every
// local government: ~8,000): searched, filtered, sorted and paged in SQL over the result's rows
// (result_totals) and the agencies' Thai sort keys, one query for the page and one for the count.

#include <cstdint>
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

// The agencies scored in the rows of result `rows_from` (results.rows_from of the result shown:
// the caller has checked who may see it) that match `query`, one page in its order. Errors are
// the database's.
Result<ListPage> ListResultAgencies(storage::Database& db, int64_t rows_from,
                                    const ListQuery& query);

// The kinds of agency in the rows of result `rows_from` (each once, in code order): what the
// list's filter by kind offers.
Result<std::vector<std::string>> KindsInResult(storage::Database& db, int64_t rows_from);

}  // namespace esar::service
