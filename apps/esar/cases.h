#pragma once

#include <string>

#include "common/text.h"

namespace esar::cli {

struct CasesOptions {
  std::string framework;
  std::string kpi;
  std::string agency;
  int round = 12;
  std::string cases;
  std::string pauses;           // "" = no pauses
  std::string format = "json";  // json, table, csv (one row per case) or data (data.csv rows)
  bool totals_only = false;     // json without the per-case list (the benchmark's form)
};

// `esar cases`: judges every case of a case log by the case rule of KPI `kpi` in the framework,
// for `agency` (which must be assigned the KPI, not exempt) and `round`, and prints the result.
// Exit codes: 0 printed, 1 the case log has bad rows (each printed on stderr), 2 cannot run.
int RunCases(const CasesOptions& options, Lang lang);

}  // namespace esar::cli
