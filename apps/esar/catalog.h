#pragma once

#include <string>

#include "common/text.h"

namespace esar::cli {

struct CatalogOptions {
  std::string catalog;          // the CKAN package_search JSON export or a CSV
  std::string format = "table";  // table, json, csv (one row per dataset) or data (data.csv rows)
  // For --format data: the framework whose KPI names the catalog variables, and who reports.
  std::string framework;
  std::string kpi;
  std::string agency;
  int round = 12;
};

// `esar catalog check`: checks every dataset of an agency's data catalog against the 14
// mandatory metadata items and prints each dataset's faults and the counts, or (--format data)
// the data.csv rows of the KPI's catalog variables. The file is read twice: once to make sure it
// is well formed (nothing is printed from a malformed file), once to print.
// Exit codes: 0 printed, 2 cannot run (a malformed file, a missing option; on stderr).
int RunCatalogCheck(const CatalogOptions& options, Lang lang);

}  // namespace esar::cli
