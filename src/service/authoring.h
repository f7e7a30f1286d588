#pragma once

// Framework authoring in the browser: a new fiscal year started from last year's framework,
// and a framework changed as a whole document by the editing pages, safely against a second
// editor and against a round freezing it meanwhile.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "formats/framework_form.h"
#include "service/actor.h"
#include "service/cycle.h"
#include "storage/database.h"

namespace esar::service {

class Authoring {
 public:
  Authoring(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The token an editor keeps while it edits `document`: its SHA-256 in hex. A save made from an
  // older token is refused, so that one editor never overwrites what another saved meanwhile.
  static std::string Token(const std::string& document);

  // Starts the fiscal year after framework `from_id`'s as a copy of it (formats::
  // NextYearDocument: KPI keys kept, baselines moved to last year's results); admins only,
  // audited ("framework.next_year"). The copy is version 1 of its year, not frozen.
  // kNotFound for an unknown framework; kConflict when that year already has a framework of
  // the same kind (also when two admins start it at once: one wins); kInvalidInput when the copy
  // has errors `esar check` finds.
  Result<StoredFramework> StartNextYear(const Actor& actor, int64_t from_id);

  // Saves `document` as the new content of framework `framework_id`, which the editor loaded
  // with `token`; admins only. The document must parse, keep the framework's fiscal year and
  // kind, and have no errors by `esar check` (kInvalidInput with the first, in Thai and English).
  // While the framework is not frozen it is replaced in place ("framework.edit"); once frozen,
  // the save makes the next version with its difference from this one ("framework.version").
  // kConflict when `framework_id` is not the newest version of its year any more, or when its
  // document changed since `token` (another editor saved first): nothing is saved. Audited, in
  // the same transaction, with the JSON Patch from the old document to the new one.
  Result<StoredFramework> Save(const Actor& actor, int64_t framework_id, const std::string& token,
                               const std::string& document);

  // Saves the KPI form `fields` (formats::ApplyKpiForm) on KPI or sub-KPI `kpi_id` of framework
  // `framework_id`, opened with `token`, as Save does: the same refusals (kConflict for a stale
  // token or an older version; a frozen framework makes the next version with its difference),
  // the same audit. kNotFound for an unknown framework or KPI. kInvalidInput names the form field
  // in where().json_path ("name.th", "variables.0.id", "key"), also for an error `esar check`
  // finds in the KPI after the change; an error elsewhere in the framework has an empty path.
  Result<StoredFramework> SaveKpiForm(const Actor& actor, int64_t framework_id,
                                      const std::string& token, const std::string& kpi_id,
                                      const formats::FormFields& fields);

  // Adds top-level KPI `kpi_id` to framework `framework_id` (opened with `token`), made from the
  // KPI form `fields` alone (formats::ApplyKpiForm on a KPI that has only its id: its name,
  // component, variables, documentation and criteria of the form chosen), after the framework's
  // KPIs; saved as SaveKpiForm saves (a frozen framework makes the next version). kInvalidInput
  // at field "id" for a malformed number, and as SaveKpiForm for the form; kConflict when the
  // framework has KPI `kpi_id` already, or for a stale token; kNotFound for an unknown framework.
  Result<StoredFramework> AddKpiForm(const Actor& actor, int64_t framework_id,
                                     const std::string& token, const std::string& kpi_id,
                                     const formats::FormFields& fields);

  // Adds sub-KPI `kpi_id` to KPI or sub-KPI `parent_id` of framework `framework_id` (opened with
  // `token`), made from the KPI form `fields` alone as AddKpiForm makes a KPI, its share the
  // form's "weight", its siblings' shares the form's "shares.<id>" (formats::ApplySubKpiShares);
  // a parent that had criteria of its own loses them (a composite KPI has none). Saved as
  // SaveKpiForm saves. kInvalidInput as AddKpiForm, at "shares.<id>" for a share that is not a
  // number, at "weight" when the shares do not sum to 100 (`esar check`'s sub-kpi-weights), at
  // "id" for a parent kMaxSubKpiDepth deep already; kNotFound for an unknown framework or parent;
  // kConflict as AddKpiForm.
  Result<StoredFramework> AddSubKpiForm(const Actor& actor, int64_t framework_id,
                                        const std::string& token, const std::string& parent_id,
                                        const std::string& kpi_id,
                                        const formats::FormFields& fields);

  // Removes sub-KPI `kpi_id` (with its own sub-KPIs) from framework `framework_id`, opened with
  // `token`, its siblings' shares set from "shares.<id>" of `fields`; saved as Save saves (a
  // frozen framework makes the next version; audited). kNotFound for an unknown framework or a
  // KPI that is not a sub-KPI; kInvalidInput for the parent's last sub-KPI, at "shares.<id>" for
  // a share that is not a number, at "shares" when the shares left do not sum to 100;
  // kConflict as Save.
  Result<StoredFramework> RemoveSubKpi(const Actor& actor, int64_t framework_id,
                                       const std::string& token, const std::string& kpi_id,
                                       const formats::FormFields& fields);

  // Saves the components form `fields` (formats::ApplyComponentsForm) on framework
  // `framework_id` as Save does; kInvalidInput names the field ("components.1.share"), or has
  // an empty path for a framework-wide error (a KPI left without its component).
  Result<StoredFramework> SaveComponentsForm(const Actor& actor, int64_t framework_id,
                                             const std::string& token,
                                             const formats::FormFields& fields);

  // Saves the KPIs-and-weights form `fields` (formats::ApplyAssignmentForm) for `agencies`
  // (codes of the directory; one agency, or every agency of a kind or ministry at once) on
  // framework `framework_id`, opened with `token`, as Save does: the same refusals, the same
  // audit, a frozen framework's change making the next version. Before anything is saved, each
  // agency's weights must pass `esar check`'s rule (domain::CheckAgencyWeights): kInvalidInput
  // at "weight.<kpi>" for a KPI without a weight, "component.<id>" for a component whose
  // weights miss its share, "total" for a total other than 100; and as ApplyAssignmentForm for
  // the form. kNotFound for an unknown framework or agency; kInvalidInput for no agency.
  Result<StoredFramework> SaveAssignmentForm(const Actor& actor, int64_t framework_id,
                                             const std::string& token,
                                             const std::vector<std::string>& agencies,
                                             const formats::FormFields& fields);

  // The version before `framework` of the same fiscal year and kind, or nullopt for version 1.
  Result<std::optional<StoredFramework>> PreviousVersion(const StoredFramework& framework);

 private:
  // SaveKpiForm (`add` false), AddKpiForm (`add` true, no `parent_id`) and AddSubKpiForm.
  Result<StoredFramework> SaveKpiFormAt(const Actor& actor, int64_t framework_id,
                                        const std::string& token, const std::string& kpi_id,
                                        const formats::FormFields& fields, bool add,
                                        const std::string& parent_id);

  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace esar::service
