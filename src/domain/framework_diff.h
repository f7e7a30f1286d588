#pragma once

// What changed between two versions of a framework, in words a person reads ("ตัวชี้วัด 3:
// เป้าหมายขั้นสูง 95 → 97"), not JSON paths: shown on the framework page beside each version
// made after a round froze the one before.

#include <string>
#include <vector>

#include "common/text.h"
#include "domain/model.h"

namespace esar::domain {

// One difference, in Thai and in English. `kpi` is the KPI it concerns ("" for the framework's
// own settings, components and assignments), so a page can list changes under their KPI.
struct FrameworkChange {
  std::string kpi;
  LocalizedText text;
};

// The differences from `before` to `after`, in a stable order: the framework's settings, its
// components, then KPI by KPI in `after`'s order (KPIs removed come after those kept), then the
// assignments' weights, targets and exemptions per agency and KPI. Sub-KPIs are compared with
// their parent's. Empty when the two mean the same (documents differing only in formatting or
// key order give no change). Pure: no I/O, the same inputs give the same list.
std::vector<FrameworkChange> DiffFrameworks(const Framework& before, const Framework& after);

}  // namespace esar::domain
