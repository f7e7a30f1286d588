#pragma once

// Changes to a framework document that the authoring pages make, on the JSON text itself so
// that every field (also those this code does not know, added by later formats) is kept.

#include <string>

#include "common/status.h"

namespace esar::formats {

// The framework of the next fiscal year made from `document` (a framework that ParseFramework
// accepts): fiscal_year + 1; KPI ids, keys, components, criteria, documentation and assignments
// kept; every reference to an earlier year moved one year on, so that a baseline that read
// FY2566 for FY2567 reads FY2567 for FY2568 (last year's results); a reference that reads
// the result of a KPI with a key (its only reported value, or the variable its result formula
// names) and has no `from_result` gets one, pointing at that key's published result, so
// esar fills the baseline in from last year's results; year numbers (B.E. 2500-2999 or
// "FY2566") in the title, group names and level texts that name the framework's year or the
// years before it moved one year on; ISO dates in the KPIs' case rules (cut-offs, receiving
// windows) one year later, Feb 29 becoming Feb 28. kInvalidInput when `document` does not parse.
Result<std::string> NextYearDocument(const std::string& document);

}  // namespace esar::formats
