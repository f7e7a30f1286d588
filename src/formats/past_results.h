#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "domain/history.h"

namespace esar::formats {

// Reads earlier years' published results from CSV (docs/formats.md §5.1), header
// fiscal_year,round,agency,kpi_key,result,score,total (columns in any order; round, result,
// score and total may be absent). A row with a KPI key gives that KPI's result and/or score (at
// least one), and may give the agency's total; a row without a key gives only the total. Checked
// row by row; the first bad row fails the whole file, naming its line, in Thai and English: a
// year that is not a Buddhist Era year, a round other than 6 or 12, an empty agency, a malformed
// key, a value that is not a number, a row with nothing to load, the same agency, key, year and
// round twice, two different totals of one agency in one year and round. Totals come out as
// rows with an empty `kpi_key` and the total in `score`, one per agency, year and round.
Result<std::vector<domain::PastResult>> ParsePastResults(const std::string& text,
                                                         const std::string& file);
// ParsePastResults on the file at `path`.
Result<std::vector<domain::PastResult>> LoadPastResults(const std::string& path);

}  // namespace esar::formats
