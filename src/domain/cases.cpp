#include "domain/cases.h"

#include <algorithm>

namespace esar::domain {

// Howard Hinnant's days-from-civil algorithm (public domain description): exact for every
// Gregorian date, no tables, no time zones.
Day DayFromCivil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDay(Day day, int& y, int& m, int& d) {
  const int z = day + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// The digits of `text` as a number; -1 unless 1..`max_len` ASCII digits.
int Digits(std::string_view text, size_t min_len, size_t max_len) {
  if (text.size() < min_len || text.size() > max_len) return -1;
  int v = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

bool IsValidCivil(int y, int m, int d) {
  return m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m);
}

std::string IsoDate(Day day) {
  int y = 0, m = 0, d = 0;
  CivilFromDay(day, y, m, d);
  // By hand rather than snprintf: it is called once per case when ten million are listed.
  // Case dates lie in years 1857–2200 (the parser's range), so the year has four digits.
  std::string out(10, '-');
  out[0] = static_cast<char>('0' + y / 1000 % 10);
  out[1] = static_cast<char>('0' + y / 100 % 10);
  out[2] = static_cast<char>('0' + y / 10 % 10);
  out[3] = static_cast<char>('0' + y % 10);
  out[5] = static_cast<char>('0' + m / 10);
  out[6] = static_cast<char>('0' + m % 10);
  out[8] = static_cast<char>('0' + d / 10);
  out[9] = static_cast<char>('0' + d % 10);
  return out;
}

std::optional<Day> ParseIsoDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  const int y = Digits(t.substr(0, 4), 4, 4);
  const int m = Digits(t.substr(5, 2), 2, 2);
  const int d = Digits(t.substr(8, 2), 2, 2);
  if (y < 1900 || y > 2200 || !IsValidCivil(y, m, d)) return std::nullopt;
  return DayFromCivil(y, m, d);
}

std::optional<Day> ParseCaseDate(std::string_view t) {
  if (t.size() == 10 && t[4] == '-') return ParseIsoDate(t);
  const size_t s1 = t.find('/');
  if (s1 == std::string_view::npos) return std::nullopt;
  const size_t s2 = t.find('/', s1 + 1);
  if (s2 == std::string_view::npos) return std::nullopt;
  const int d = Digits(t.substr(0, s1), 1, 2);
  const int m = Digits(t.substr(s1 + 1, s2 - s1 - 1), 1, 2);
  const int be = Digits(t.substr(s2 + 1), 4, 4);
  if (d < 0 || m < 0 || be < 2400 || be > 2700) return std::nullopt;
  const int y = be - 543;
  if (!IsValidCivil(y, m, d)) return std::nullopt;
  return DayFromCivil(y, m, d);
}

Day EndOfMonths(Day start, int months) {
  int y = 0, m = 0, d = 0;
  CivilFromDay(start, y, m, d);
  const int index = (m - 1) + months;  // months counted from January of year y
  const int ty = y + index / 12;
  const int tm = index % 12 + 1;
  // The month that bears the start's day number: the period ends the day before it. A month
  // without that day (31 Jan + 1 month: February has no 31st) ends the period on its last day.
  if (d <= DaysInMonth(ty, tm)) return DayFromCivil(ty, tm, d) - 1;
  return DayFromCivil(ty, tm, DaysInMonth(ty, tm));
}

Day EndOfDays(Day start, int days) { return start + days - 1; }

const char* CaseFieldName(CaseField field) {
  switch (field) {
    case CaseField::kSections:
      return "sections";
    case CaseField::kMaps:
      return "maps";
    case CaseField::kMapsComplex:
      return "maps_complex";
    case CaseField::kAnnexPages:
      return "annex_pages";
  }
  return "";
}

bool CaseCondition::Holds(int value) const {
  if (value < 0) return false;
  const double v = value;
  if (at_least && !(v >= *at_least)) return false;
  if (above && !(v > *above)) return false;
  if (at_most && !(v <= *at_most)) return false;
  if (below && !(v < *below)) return false;
  return true;
}

std::string CaseStandard::ToString(Lang lang) const {
  const std::string n = std::to_string(amount);
  if (lang == Lang::kThai) return n + (months ? " เดือน" : " วัน");
  return n + (months ? (amount == 1 ? " month" : " months") : (amount == 1 ? " day" : " days"));
}

const char* PauseReasonName(PauseReason reason) {
  switch (reason) {
    case PauseReason::kRia:
      return "ria";
    case PauseReason::kCommittee:
      return "committee";
    case PauseReason::kOutside:
      return "outside";
  }
  return "";
}

std::optional<PauseReason> ParsePauseReason(std::string_view text) {
  if (text == "ria") return PauseReason::kRia;
  if (text == "committee") return PauseReason::kCommittee;
  if (text == "outside") return PauseReason::kOutside;
  return std::nullopt;
}

std::string CaseReasonCode(CaseReason reason, int round) {
  switch (reason) {
    case CaseReason::kNone:
      return "";
    case CaseReason::kKind:
      return "kind";
    case CaseReason::kSpecialCategory:
      return "special_category";
    case CaseReason::kUnclassified:
      return "unclassified";
    case CaseReason::kOutsideWindow:
      return "outside_window";
    case CaseReason::kAfterCutoff:
      return "after_cutoff";
    case CaseReason::kPending:
      return "pending";
    case CaseReason::kBacklogRound:
      return "backlog_round" + std::to_string(round);
    case CaseReason::kBacklog:
      return "backlog";
  }
  return "";
}

void CaseTally::Add(const CaseVerdict& v) {
  ++cases;
  ++by_reason[static_cast<int>(v.reason)];
  if (v.counted) {
    ++counted;
    if (v.on_time) ++on_time;
  }
}

std::optional<double> CaseTally::Result() const {
  if (counted == 0) return std::nullopt;
  return static_cast<double>(on_time) * 100.0 / static_cast<double>(counted);
}

int PausedDays(std::span<PauseSpan> pauses, const bool excluded[3], Day from, Day to) {
  if (to < from || pauses.empty()) return 0;
  // Clip first, then merge: the union of clipped intervals is the clipped union.
  size_t n = 0;
  for (PauseSpan& p : pauses) {
    if (!excluded[static_cast<int>(p.reason)]) continue;
    const Day s = std::max(p.start, from);
    const Day e = std::min(p.end, to);
    if (e < s) continue;
    pauses[n++] = PauseSpan{p.reason, s, e};
  }
  if (n == 0) return 0;
  std::sort(pauses.begin(), pauses.begin() + static_cast<std::ptrdiff_t>(n),
            [](const PauseSpan& a, const PauseSpan& b) { return a.start < b.start; });
  int64_t days = 0;
  Day cur_s = pauses[0].start, cur_e = pauses[0].end;
  for (size_t i = 1; i < n; ++i) {
    if (pauses[i].start <= cur_e) {  // overlapping (both ends included): one interval
      cur_e = std::max(cur_e, pauses[i].end);
    } else {
      days += static_cast<int64_t>(cur_e) - cur_s + 1;
      cur_s = pauses[i].start;
      cur_e = pauses[i].end;
    }
  }
  days += static_cast<int64_t>(cur_e) - cur_s + 1;
  return static_cast<int>(days);
}

Result<CaseEvaluator> CaseEvaluator::Create(const CaseRule& rule, int round) {
  if (round != 6 && round != 12) {
    return Status::InvalidInput("รอบต้องเป็น 6 หรือ 12", "the round must be 6 or 12");
  }
  CaseEvaluator ev;
  ev.rule_ = rule;
  ev.round_ = round;
  bool found = false;
  for (const CaseCutoff& c : rule.cutoffs) {
    if (c.round == round) {
      ev.cutoff_ = c.date;
      found = true;
    }
  }
  if (!found) {
    return Status::InvalidInput(
        "กรอบการประเมินไม่ได้กำหนดวันตัดยอดเรื่องเสร็จของรอบ " + std::to_string(round) + " เดือน",
        "the framework states no completion cut-off for the " + std::to_string(round) +
            "-month round");
  }
  if (rule.classes.empty() && !rule.backlog) {
    return Status::InvalidInput("เกณฑ์นับเรื่องไม่มีประเภทเรื่อง (classes) จึงนับเรื่องใดไม่ได้",
                                "the case rule has no classes, so no case could ever count");
  }
  for (const CaseClass& c : rule.classes) {
    std::optional<CaseWindow> w;
    for (const CaseWindow& cw : c.windows) {
      if (std::find(cw.rounds.begin(), cw.rounds.end(), round) != cw.rounds.end()) w = cw;
    }
    ev.windows_.push_back(w);
  }
  for (PauseReason r : rule.pauses_not_counted) ev.pause_excluded_[static_cast<int>(r)] = true;
  ev.backlog_this_round_ =
      rule.backlog && std::find(rule.backlog->rounds.begin(), rule.backlog->rounds.end(), round) !=
                          rule.backlog->rounds.end();
  return ev;
}

bool CaseEvaluator::KindCounted(std::string_view kind) const {
  for (const std::string& k : rule_.kinds) {
    if (k == kind) return true;
  }
  return false;
}

bool CaseEvaluator::BacklogKind(std::string_view kind) const {
  for (const std::string& k : rule_.backlog->kinds) {
    if (k == kind) return true;
  }
  return false;
}

bool CaseEvaluator::CategoryExcluded(int category) const {
  for (const int c : rule_.excluded_categories) {
    if (c == category) return true;
  }
  return false;
}

CaseVerdict CaseEvaluator::Evaluate(const CaseRecord& c, std::span<PauseSpan> pauses) const {
  CaseVerdict v;
  v.backlog = c.backlog;
  const bool done_by_cutoff = c.completed != kNoDay && c.completed <= cutoff_;
  if (c.backlog) {
    // Backlog cases stand outside the classes and windows: the kinds the backlog rule names
    // (when there is one), the same categories excluded, no standard and no due date.
    const bool kind_ok = rule_.backlog ? BacklogKind(c.kind) : KindCounted(c.kind);
    if (!kind_ok) {
      v.reason = CaseReason::kKind;
    } else if (CategoryExcluded(c.special_category)) {
      v.reason = CaseReason::kSpecialCategory;
    } else if (!rule_.backlog) {
      v.reason = CaseReason::kBacklog;
    } else if (!backlog_this_round_) {
      v.reason = CaseReason::kBacklogRound;
    } else {
      v.counted = true;
      v.on_time = done_by_cutoff;
    }
    return v;
  }
  if (!KindCounted(c.kind)) {
    v.reason = CaseReason::kKind;
    return v;
  }
  if (CategoryExcluded(c.special_category)) {
    v.reason = CaseReason::kSpecialCategory;
    return v;
  }
  // The longest standard among the classes matched, compared by the day it ends (months and
  // days mix); on a tie the first class in the framework's order.
  Day base_due = kNoDay;
  for (size_t i = 0; i < rule_.classes.size(); ++i) {
    const CaseClass& k = rule_.classes[i];
    bool match = true;
    for (const CaseCondition& cond : k.when) {
      int value = 0;
      switch (cond.field) {
        case CaseField::kSections:
          value = c.sections;
          break;
        case CaseField::kMaps:
          value = c.maps;
          break;
        case CaseField::kMapsComplex:
          value = c.maps_complex;
          break;
        case CaseField::kAnnexPages:
          value = c.annex_pages;
          break;
      }
      if (!cond.Holds(value)) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    const Day end = k.standard.months ? EndOfMonths(c.received, k.standard.amount)
                                      : EndOfDays(c.received, k.standard.amount);
    if (base_due == kNoDay || end > base_due) {
      base_due = end;
      v.class_index = static_cast<int>(i);
    }
  }
  if (v.class_index < 0) {
    v.reason = CaseReason::kUnclassified;
    return v;
  }
  const Day clip_end = c.completed != kNoDay ? std::min(c.completed, cutoff_) : cutoff_;
  v.paused_days = PausedDays(pauses, pause_excluded_, c.received, clip_end);
  v.due = base_due + v.paused_days;
  const std::optional<CaseWindow>& w = windows_[static_cast<size_t>(v.class_index)];
  if (!w || c.received < w->from || c.received > w->to) {
    v.reason = CaseReason::kOutsideWindow;
  } else if (c.received > cutoff_) {
    v.reason = CaseReason::kAfterCutoff;
  } else if (!done_by_cutoff && v.due > cutoff_) {
    v.reason = CaseReason::kPending;
  } else {
    v.counted = true;
    v.on_time = done_by_cutoff && c.completed <= v.due;
    if (!v.on_time) v.late_days = (done_by_cutoff ? c.completed : cutoff_) - v.due;
  }
  return v;
}

}  // namespace esar::domain
