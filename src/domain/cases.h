#pragma once

// KPIs computed from case records (issue 11 §1, seed 002 KPIs 1 and 2): the rule as plain data
// (which kinds count, classes with a condition and a standard time, receiving windows per round,
// cut-offs, excluded categories, pause reasons not counted, backlog cases) and the evaluator that
// gives each case its verdict. No files here: src/formats reads the rule and the case log.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/text.h"

namespace esar::domain {

// A calendar date as the number of days since 1970-01-01 (proleptic Gregorian). Case dates are
// whole days without a time zone, so day arithmetic is integer arithmetic.
using Day = int32_t;
inline constexpr Day kNoDay = INT32_MIN;    // "no date" (not completed, no due date)
inline constexpr Day kOpenEnd = INT32_MAX;  // a pause still running

// The day number of year `y`, month `m` (1–12), day `d` (1–31); the date must be valid.
Day DayFromCivil(int y, int m, int d);
// The year, month and day of `day`.
void CivilFromDay(Day day, int& y, int& m, int& d);
// True when (y, m, d) names a real Gregorian date.
bool IsValidCivil(int y, int m, int d);
// "2024-04-14".
std::string IsoDate(Day day);
// Parses "2024-01-15" (exactly so, year 1900–2200); nullopt otherwise.
std::optional<Day> ParseIsoDate(std::string_view text);
// Parses a date as the case log may write it: ISO "2024-01-15" with a year from 1900 to 2200,
// or day/month/Buddhist-Era year "15/1/2567" (one or two digits for day and month, a four-digit
// year from 2400 to 2700). Nothing else: no two-digit years, no spaces. nullopt when it is not
// such a date or the date does not exist (31/2/2567).
std::optional<Day> ParseCaseDate(std::string_view text);

// The last day of a period of `months` months that starts on `start` (day 1 of the period), as
// the Civil and Commercial Code section 193/5 counts months: the day before the day of the
// `months`-th following month that bears the start's day number, or that month's last day when
// it has no such day. 15 Jan 2024 + 3 → 14 Apr 2024; 31 Jan 2024 + 1 → 29 Feb 2024.
Day EndOfMonths(Day start, int months);
// The last day of a period of `days` days starting on `start` as day 1: start + days − 1.
Day EndOfDays(Day start, int days);

// The numbers of a case a class condition can test.
enum class CaseField { kSections, kMaps, kMapsComplex, kAnnexPages };
const char* CaseFieldName(CaseField field);  // "sections", "maps", "maps_complex", "annex_pages"

struct CaseCondition {
  CaseField field = CaseField::kSections;
  std::optional<double> at_least, above, at_most, below;  // as domain::Range
  bool Holds(int value) const;  // false for a value that is not stated (−1)
};

// A standard time: `amount` months or days.
struct CaseStandard {
  int amount = 0;
  bool months = true;
  std::string ToString(Lang lang) const;  // "3 months" / "53 days"; "3 เดือน" / "53 วัน"
};

struct CaseWindow {
  std::vector<int> rounds;  // the rounds (6, 12) in which this window applies
  Day from = 0;             // received from this day ...
  Day to = 0;               // ... to this day, both included
};

// A size class: cases matching every condition (none = every case) have this standard time and
// count when received inside the class's window for the round.
struct CaseClass {
  std::string id;
  LocalizedText name;
  std::vector<CaseCondition> when;
  CaseStandard standard;
  std::vector<CaseWindow> windows;
};

struct CaseCutoff {
  int round = 12;
  Day date = 0;  // completions count up to this day, included
};

// How backlog cases (received before the fiscal year, already past their standard) count:
// only in `rounds`, only of `kinds`, with no standard: on time when completed by the cut-off.
struct CaseBacklogRule {
  std::vector<int> rounds;
  std::vector<std::string> kinds;
};

enum class PauseReason : uint8_t { kRia, kCommittee, kOutside };
const char* PauseReasonName(PauseReason reason);  // "ria", "committee", "outside"
// The reason named `text`, or nullopt.
std::optional<PauseReason> ParsePauseReason(std::string_view text);

// The whole rule of one KPI, as the framework states it.
struct CaseRule {
  std::vector<std::string> kinds;               // the kinds of case the KPI counts
  std::vector<int> excluded_categories;         // special categories (1–6) never counted
  std::vector<PauseReason> pauses_not_counted;  // their days move the due date later
  std::vector<CaseClass> classes;
  std::vector<CaseCutoff> cutoffs;
  std::optional<CaseBacklogRule> backlog;  // absent: backlog cases are never counted
  // The KPI's variables the counts fill in, so that the result enters scoring like a typed
  // value; empty when the framework names none.
  std::string on_time_variable;
  std::string counted_variable;
};

// One row of cases.csv. The views point into the reader's buffer and live only during the call.
struct CaseRecord {
  std::string_view case_id;
  std::string_view kind;
  int sections = -1;  // −1 = not stated (not a law): no size class
  int maps = 0;
  int maps_complex = 0;
  int annex_pages = 0;
  int special_category = 0;
  Day received = 0;
  Day completed = kNoDay;
  bool backlog = false;
};

// One pause of a case (pauses.csv), both ends included; `end` kOpenEnd while still paused.
struct PauseSpan {
  PauseReason reason = PauseReason::kRia;
  Day start = 0;
  Day end = kOpenEnd;
};

// Why a case is not counted, in the order they are checked (the first that applies is given).
enum class CaseReason : uint8_t {
  kNone,             // counted
  kKind,             // a kind the KPI does not count
  kSpecialCategory,  // one of the excluded special categories
  kUnclassified,     // matches no class
  kOutsideWindow,    // received outside its class's window for the round
  kAfterCutoff,      // received after the round's cut-off
  kPending,          // open at the cut-off and still inside its time
  kBacklogRound,     // a backlog case in a round where backlog does not count ("backlog_round6")
  kBacklog,          // a backlog case in a KPI that counts none
};
// The reason's code in the JSON ("outside_window", "backlog_round6" for round 6); "" for kNone.
std::string CaseReasonCode(CaseReason reason, int round);

struct CaseVerdict {
  bool counted = false;
  CaseReason reason = CaseReason::kNone;
  int class_index = -1;  // into CaseRule::classes; −1 when unclassified or a backlog case
  Day due = kNoDay;      // the last day of its standard after pauses; kNoDay without a class
  int paused_days = 0;   // days of not-counted pauses up to completion or the cut-off
  bool on_time = false;  // counted and completed by both the cut-off and the due date
  int late_days = 0;     // counted and late: completion (or the cut-off if open) − due
  bool backlog = false;
};

// Counts over the cases seen: the KPI's result is on_time ÷ counted × 100.
struct CaseTally {
  int64_t cases = 0;
  int64_t counted = 0;
  int64_t on_time = 0;
  int64_t by_reason[9] = {};  // indexed by CaseReason

  void Add(const CaseVerdict& v);
  // on_time × 100 ÷ counted, unrounded; nullopt when no case is counted.
  std::optional<double> Result() const;
};

// A CaseRule bound to one round: the cut-off found, each class's window for the round picked.
// Evaluate is const and allocation-free, so one evaluator serves any number of cases.
class CaseEvaluator {
 public:
  // Fails (in Thai and English) when the rule states no cut-off for `round`, `round` is not 6
  // or 12, or the rule has no class and no backlog rule (nothing could ever count).
  static Result<CaseEvaluator> Create(const CaseRule& rule, int round);

  // The verdict of `c` with its pauses (any order, any reason; they are reordered in place).
  // Pauses with a reason the rule does not exclude are ignored; the others are merged where
  // they overlap and clipped to the days from registration to the earlier of completion and
  // the cut-off, so the verdict does not depend on when the log was exported.
  CaseVerdict Evaluate(const CaseRecord& c, std::span<PauseSpan> pauses) const;

  const CaseRule& rule() const { return rule_; }
  int round() const { return round_; }
  Day cutoff() const { return cutoff_; }

 private:
  CaseEvaluator() = default;
  bool KindCounted(std::string_view kind) const;
  bool BacklogKind(std::string_view kind) const;
  bool CategoryExcluded(int category) const;

  CaseRule rule_;
  int round_ = 12;
  Day cutoff_ = 0;
  bool backlog_this_round_ = false;
  std::vector<std::optional<CaseWindow>> windows_;  // per class, for this round
  bool pause_excluded_[3] = {false, false, false};
};

// The number of days in the union of `pauses` whose reason is excluded (`excluded`, indexed by
// PauseReason), each clipped to [from, to]; 0 when to < from. Reorders `pauses`.
int PausedDays(std::span<PauseSpan> pauses, const bool excluded[3], Day from, Day to);

}  // namespace esar::domain
