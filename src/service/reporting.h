#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "service/actor.h"
#include "service/cycle.h"
#include "storage/database.h"

namespace esar::service {

enum class SubmissionStatus { kDraft, kApproved, kSubmitted, kReturned, kAccepted };
const char* SubmissionStatusName(SubmissionStatus status);

// What an agency reports for one KPI in one round. `values_json` is a JSON object from variable
// name to a number, a list of numbers, or "ผ่าน"/"ไม่ผ่าน" (pass/fail).
struct Report {
  std::string kpi;
  std::string values_json = "{}";
  std::string explanation;  // คำชี้แจงประกอบผลการดำเนินงาน
  std::string problems;  // ปัญหา อุปสรรค
  std::string remarks;
};

struct EvidenceInfo {
  int64_t id = 0;
  std::string name;
  std::string media_type;
  int64_t size = 0;
  std::string sha256;
  int64_t uploaded_by = 0;
  int64_t uploaded_at = 0;
  std::optional<int64_t> replaced_by;  // a newer file took its place; the old one is kept
};

struct ReviewInfo {
  int64_t id = 0;
  int revision = 0;
  int64_t evaluator = 0;
  std::string decision;  // "accepted" or "returned"
  std::string verified_json;
  std::string comment;
  int64_t at = 0;
  std::map<int64_t, std::string> evidence_notes;  // evidence id -> note
};

// An approver's comment on sending a draft back to the agency's reporter.
struct SendBackInfo {
  int revision = 0;  // the revision the send-back made
  int64_t by = 0;    // the approver's user id
  std::string comment;
  int64_t at = 0;
};

struct SubmissionView {
  int64_t id = 0;
  int64_t round_id = 0;
  std::string agency;
  SubmissionStatus status = SubmissionStatus::kDraft;
  int revision = 0;
  Report report;
  int64_t updated_at = 0;
  std::vector<EvidenceInfo> evidence;
  std::vector<ReviewInfo> reviews;
  std::vector<SendBackInfo> send_backs;  // oldest first
  bool sent_back = false;  // the current revision is an approver's send-back, not yet reworked
};

// One line of a list of submissions: no values, files or reviews.
struct SubmissionSummary {
  int64_t id = 0;
  int64_t round_id = 0;
  std::string agency;
  std::string agency_name_th;
  std::string agency_name_en;
  std::string agency_kind;
  std::string ministry;  // the agency's parent
  std::string ministry_name_th;  // the parent's names ("" without a parent)
  std::string ministry_name_en;
  std::string kpi;
  SubmissionStatus status = SubmissionStatus::kDraft;
  int revision = 0;
  int64_t updated_at = 0;
  int64_t deadline = 0;    // the agency's: the later of its extension and the round's
  bool sent_back = false;  // a draft an approver sent back, not yet reworked
  int64_t evidence_files = 0;  // files attached to it (every revision's)
};

// The order of a queue. Ties are broken by agency code, then KPI, so pages never overlap.
enum class QueueSort {
  kUpdated,   // oldest change first (what waits longest on top)
  kAgency,    // by agency code, then KPI (the API's documented order)
  kName,      // by the agency's Thai name in Thai dictionary order (agencies.sort_key)
  kMinistry,  // by the parent's Thai name in Thai order (agencies without one last), then name
  kStatus,    // by where it stands in the workflow: draft, approved, submitted, returned, accepted
  kDeadline,  // by the agency's deadline (its extension counted), earliest first
  kEvidence,  // by the number of evidence files, fewest first
  kKpi,       // by KPI number as people read it (2 before 10, 4 before 4.1 before 4.2), then code
};

// Which submissions a queue shows, in what order; empty strings and 0 match everything.
struct QueueFilter {
  int64_t round_id = 0;
  std::string status;  // a SubmissionStatusName
  std::string ministry;  // the agency's parent (ministry or province) code
  std::string kind;
  std::string q;  // part of the agency's code, Thai or English name (Latin letters in any case)
  bool overdue = false;  // past the agency's deadline and not yet submitted
  int64_t now = 0;       // for `overdue`
  QueueSort sort = QueueSort::kUpdated;
  bool descending = false;  // the order reversed (ties still by code, then KPI)
  int64_t limit = 50;
  int64_t offset = 0;
};

struct QueuePage {
  std::vector<SubmissionSummary> items;
  int64_t total = 0;  // how many match, over all pages
};

// What one agency owes for one reportable (leaf) KPI of a framework in a round.
struct KpiDuty {
  std::string kpi;      // the reportable KPI: a top-level KPI, or a sub-KPI of a composite one
  std::string top_kpi;  // the top-level KPI holding it (itself when top-level)
  double weight = 0;    // the top-level KPI's weight for the agency (0 for monitoring)
  bool monitoring = false;
  bool exempt = false;          // the framework exempts the agency from it...
  LocalizedText exempt_reason;  // ...for this reason (may be empty)
  bool in_round = true;         // false when it counts only in other rounds...
  std::vector<int> rounds;      // ...these
  // True when the agency reports it in this round (and it counts in "submitted x/y").
  bool Reportable() const { return !exempt && in_round; }
};

// Every KPI `framework` assigns to `agency`, reportable in `round` or not (exempt, or counting
// only in another round), in framework order; sub-KPIs stand in for their composite KPI.
std::vector<KpiDuty> KpiDuties(const domain::Framework& framework, int round,
                               const std::string& agency);

// KpiDuties for many agencies of one framework and round: the assignment rules are indexed by
// agency once, so each agency costs the rules that name it (a cycle of 7,850 agencies, each with
// a rule of its own, is not read 7,850 times over). `framework` must outlive it.
class KpiDutyResolver {
 public:
  KpiDutyResolver(const domain::Framework& framework, int round);
  std::vector<KpiDuty> For(const std::string& agency) const;
  // The indexes of the assignment rules that apply to `agency`, in framework order: agencies
  // with the same rules have the same duties (what a caller over thousands of agencies, most of
  // them under one rule, can work out once per set of rules).
  std::vector<size_t> Rules(const std::string& agency) const;

 private:
  const domain::Framework& framework_;
  int round_;
  std::vector<size_t> for_all_;                                  // rules naming "*"
  std::map<std::string, std::vector<size_t>> for_agency_;        // rules naming the agency
};

// The values a KPI page scores an agency's round with, the same on every page: per KPI the
// verified values of its accepted submission, else the values last reported (any other
// status), else the imported data (`source` says which for each KPI that has values).
struct CurrentValues {
  std::vector<domain::Observation> observations;  // imported data included
  std::map<std::string, std::string> source;      // KPI id -> "verified", "reported", "imported"
};

struct ReviewInput {
  std::string verified_json;  // "" = the values as reported
  std::string comment;
  std::map<int64_t, std::string> evidence_notes;
};

// What one submission's evidence may come to. Every file recorded for it counts, replaced ones
// too: they are kept (nothing reported is deleted), so replacing must not bypass the bound.
struct EvidenceQuota {
  int64_t max_bytes = int64_t{50} << 20;
  int64_t max_files = 20;
};

// The reporting workflow of one round: draft → approved (inside the agency) → submitted →
// returned (back to the agency) or accepted (by an evaluator). Every change is a new revision;
// nothing reported is edited in place. Every change is audited.
class Reporting {
 public:
  Reporting(storage::Database& db, const Clock& clock)
      : db_(db), clock_(clock), cycle_(db, clock) {}

  // Saves a draft (a new revision) for the actor's own agency; reporters only. Allowed while the
  // KPI is new, a draft, approved (it goes back to draft) or returned, and while reporting is
  // open for the agency (Cycle::CheckReportingOpen; kConflict otherwise). The KPI must be
  // reportable by the agency in the round (not exempt, counted in this round) and the values
  // must name its reported variables with values of their types.
  Result<SubmissionView> SaveDraft(const Actor& actor, int64_t round_id, const std::string& agency,
                                   const Report& report);
  // SaveDraft for several KPIs at once (an uploaded template), under the same rules, in one
  // transaction: every draft is saved, or none (the first refusal is returned). Returns the
  // drafts in the order of `reports`.
  Result<std::vector<SubmissionView>> SaveDrafts(const Actor& actor, int64_t round_id,
                                                 const std::string& agency,
                                                 const std::vector<Report>& reports);
  // SaveDraft's write for a caller that saves a draft together with rows of its own (an
  // uploaded case log), inside the caller's transaction, which must hold the round's lock
  // (Cycle::LockRound) and have checked that reporting is open for the agency, who asks and
  // the report (CheckReport). kConflict when the report is submitted or accepted. Returns the
  // submission's id and the revision saved.
  Result<std::pair<int64_t, int>> SaveDraftLockedForCaller(const Actor& actor, int64_t round_id,
                                                           const std::string& agency,
                                                           const Report& report);
  // The current revision's report of the agency's KPI in the round (values and texts), its
  // status and revision; nullopt when nothing was reported yet. No permission check: for a
  // caller that has made its own.
  struct Current {
    Report report;
    SubmissionStatus status = SubmissionStatus::kDraft;
    int64_t submission_id = 0;
    int revision = 0;
  };
  Result<std::optional<Current>> CurrentReport(int64_t round_id, const std::string& agency,
                                               const std::string& kpi);
  // draft → approved; the agency's approvers only.
  Result<SubmissionView> Approve(const Actor& actor, int64_t submission_id);
  // draft or approved → draft with a comment saying what to change, for the agency's reporter
  // (the revision's status is "sent_back"); the agency's approvers only, while reporting is
  // open for the agency. kInvalidInput without a comment.
  Result<SubmissionView> SendBack(const Actor& actor, int64_t submission_id,
                                  const std::string& comment);
  // approved → submitted; the agency's reporters or approvers, while reporting is open for the
  // agency (before its deadline, the round neither closed early nor with results).
  Result<SubmissionView> Submit(const Actor& actor, int64_t submission_id);
  // submitted → returned with a comment; evaluators only, before the round has results. The
  // agency's reporters are told (notification list and e-mail) in the same transaction.
  Result<SubmissionView> Return(const Actor& actor, int64_t submission_id,
                                const ReviewInput& review);
  // submitted → accepted with the verified values; evaluators only, before the round has results.
  // The agency's reporters and approvers are told (accepted, or accepted with corrected values
  // when the verified values differ from those reported) in the same transaction.
  Result<SubmissionView> Accept(const Actor& actor, int64_t submission_id,
                                const ReviewInput& review);

  // Records an evidence file (already stored by its SHA-256) for a draft or returned submission;
  // the agency's reporters only, while reporting is open for the agency. With `replaces`, that
  // file is marked replaced and kept. A file that would take the submission past `quota`
  // (checked under the submission's lock, so uploads in parallel cannot pass it together) is
  // refused with kConflict and nothing recorded.
  Result<EvidenceInfo> AddEvidence(const Actor& actor, int64_t submission_id,
                                   const EvidenceInfo& file,
                                   std::optional<int64_t> replaces = std::nullopt,
                                   const EvidenceQuota& quota = {});

  // AddEvidence for a KPI that may have no report yet (a file attached before the first save):
  // in one transaction, the agency's submission of `kpi` in the round, made as an empty draft
  // (a revision audited as any save) when there is none, and the file recorded in it. The same
  // rules as SaveDraft for the KPI (reportable by the agency in the round, reporting open) and
  // as AddEvidence for the file (a draft or returned submission, the quota). Returns the
  // submission's id and the file; nothing is made when refused.
  Result<std::pair<int64_t, EvidenceInfo>> AddEvidenceToKpi(const Actor& actor, int64_t round_id,
                                                            const std::string& agency,
                                                            const std::string& kpi,
                                                            const EvidenceInfo& file,
                                                            const EvidenceQuota& quota = {});

  // Removes an evidence file attached by mistake from a draft: the agency's reporters only, while
  // reporting is open for the agency and the submission is a draft (kConflict once approved,
  // submitted, returned or accepted: what an approver or evaluator has seen stays). The file
  // leaves the submission (its views, the queue's count, its download) but its record and bytes
  // stay in the store, and the removal is audited ("evidence.remove", with the file's name,
  // size and SHA-256). kNotFound for no such file or one removed already. Returns the file
  // removed.
  Result<EvidenceInfo> RemoveEvidence(const Actor& actor, int64_t evidence_id);
  // Ok when a submission in `status` may have evidence removed (a draft); else RemoveEvidence's
  // kConflict, in Thai and English.
  static Status CheckEvidenceRemovable(SubmissionStatus status);

  // kConflict, with a message in Thai and English, when one more file of `size` bytes would take
  // a submission holding `files` files of `bytes` bytes past `quota`; else Ok.
  static Status CheckEvidenceQuota(const EvidenceQuota& quota, int64_t files, int64_t bytes,
                                   int64_t size);

  // An evidence file's record and the agency whose submission it belongs to: for the agency's
  // users, evaluators and admins (the same as the submission).
  Result<std::pair<EvidenceInfo, std::string>> Evidence(const Actor& actor, int64_t evidence_id);

  // The submission an evidence file (not removed) belongs to, for those who may see it (Get);
  // kNotFound when there is no such file or it was removed.
  Result<SubmissionView> SubmissionOfEvidence(const Actor& actor, int64_t evidence_id);

  // One submission: its agency's users, evaluators and admins.
  Result<SubmissionView> Get(const Actor& actor, int64_t submission_id);
  // Get for several submissions at once, in the order of `ids`, read in a few queries whatever
  // their number (a page of a queue): kNotFound when one of them does not exist,
  // kPermissionDenied when the actor may not see one.
  Result<std::vector<SubmissionView>> GetMany(const Actor& actor, const std::vector<int64_t>& ids);
  // The submissions of a round the actor may see (an agency's own, or all for evaluators/admins).
  Result<std::vector<SubmissionView>> List(const Actor& actor, int64_t round_id);

  // The submissions matching `filter` that the actor may see (an agency's users: their own
  // agency's only), in `filter.sort` order, a page at a time: filtered, searched, sorted and
  // paged in SQL (one query for the page, one for the count), however many there are.
  Result<QueuePage> Queue(const Actor& actor, const QueueFilter& filter);

  // The values the KPI pages of `agency` score its round with (see CurrentValues): imported
  // data, replaced KPI by KPI by what the agency reported and, once accepted, by the verified
  // values.
  Result<CurrentValues> CurrentValuesOf(int64_t round_id, const std::string& agency);
  // The same for each of `agencies` (a page's few dozen) in four queries, whatever their number:
  // one entry per agency asked for, empty for one without values. With `only_kpis`, the values
  // of those KPIs only (domain::KpisReadToScore gives those a few KPIs' scores read).
  Result<std::map<std::string, CurrentValues>> CurrentValuesOf(
      int64_t round_id, const std::vector<std::string>& agencies,
      const std::set<std::string>* only_kpis = nullptr);

  // The verified values of every accepted submission of a round, as observations.
  // With `agency`, that agency's only.
  Result<std::vector<domain::Observation>> AcceptedValues(int64_t round_id,
                                                          const std::string& agency = "");

 private:
  Result<SubmissionView> Load(int64_t submission_id);
  // The submissions of `ids` (those that exist), in the order of `ids`, in five queries.
  Result<std::vector<SubmissionView>> LoadMany(const std::vector<int64_t>& ids);
  // One draft of SaveDrafts, inside its transaction (the round locked, reporting open for the
  // agency, the report checked): a new revision, audited. Returns the submission's id.
  Result<int64_t> SaveDraftLocked(const Actor& actor, int64_t round_id, const std::string& agency,
                                  const Report& report, int64_t now);
  // The evidence record of AddEvidence(ToKpi), inside the caller's transaction holding the
  // round's lock with reporting checked open: the submission's state and quota checked under its
  // lock, the file inserted (`replaces` marked), audited. Returns the new evidence id.
  Result<int64_t> AddEvidenceLocked(const Actor& actor, int64_t submission_id,
                                    const EvidenceInfo& file, std::optional<int64_t> replaces,
                                    const EvidenceQuota& quota, int64_t now);
  // One evidence file of a submission as its views give it (kInternal when it is not there).
  Result<EvidenceInfo> EvidenceOf(int64_t submission_id, int64_t evidence_id);
  // The values of `sql`'s rows (agency, KPI, values JSON) as observations of the round's year.
  Result<std::vector<domain::Observation>> ValuesOfRound(int64_t round_id, const std::string& sql,
                                                         const std::vector<storage::Value>& params);
  // Who may make a transition when: the agency while reporting is open for it, or evaluators
  // before the round has results.
  enum class Gate { kAgency, kReview };
  // Moves a submission from one of `from` to `to` as a new revision (status `revision_status`,
  // "" = `to`'s name, with `comment`), checking the round's state under its lock.
  Status Transition(const Actor& actor, int64_t submission_id,
                    std::initializer_list<SubmissionStatus> from, SubmissionStatus to,
                    const std::string& action, const ReviewInput* review, Gate gate,
                    const std::string& revision_status = "", const std::string& comment = "");

  // Inside Transition's transaction, after a review of `submission_id` moved it to `to`
  // (returned or accepted): tells the agency (returned: its reporters, with the evaluator's
  // comment; accepted, or accepted with corrected values: its reporters and approvers).
  Status TellReview(int64_t submission_id, int64_t round_id, const std::string& agency,
                    SubmissionStatus to, const ReviewInput& review);

  storage::Database& db_;
  const Clock& clock_;
  Cycle cycle_;
};

// Checks `report` against `framework` as a report of `agency` in round `round` (6 or 12): the
// KPI is reportable, assigned and not exempt (the refusal gives the framework's reason), counted
// in this round, the values name its variables with values of their types and ranges, the texts
// are UTF-8 and at most 64 KB.
Status CheckReport(const domain::Framework& framework, const std::string& agency,
                   const Report& report, int round);

// Reported values (a JSON object, see Report) as observations of `kpi`; fails on a value that
// is not a number, a list of numbers, or pass/fail.
Result<std::vector<domain::Observation>> ValuesToObservations(const std::string& values_json,
                                                              const std::string& agency,
                                                              const std::string& kpi,
                                                              int fiscal_year, int round);

}  // namespace esar::service
