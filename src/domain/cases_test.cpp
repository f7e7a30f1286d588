// The case-record rule of issue 11 §1 (seed 002 KPIs 1 and 2), one test per class, window,
// pause, category, backlog and round rule. Every expected date and count below was worked out by
// hand from the calendar; the arithmetic is in the comments.
#include "domain/cases.h"

#include <gtest/gtest.h>

#include <vector>

namespace esar::domain {
namespace {

Day D(int y, int m, int d) { return DayFromCivil(y, m, d); }

CaseWindow Window(std::vector<int> rounds, Day from, Day to) {
  return {std::move(rounds), from, to};
}

CaseClass Class(std::string id, std::vector<CaseCondition> when, int amount, bool months,
                std::vector<CaseWindow> windows) {
  CaseClass c;
  c.id = std::move(id);
  c.when = std::move(when);
  c.standard = {amount, months};
  c.windows = std::move(windows);
  return c;
}

CaseCondition Between(CaseField f, double lo, std::optional<double> hi) {
  CaseCondition c;
  c.field = f;
  c.at_least = lo;
  c.at_most = hi;
  return c;
}

// Seed 002 KPI 1, FY2567, as examples/ocs-2567/framework.json states it.
CaseRule Kpi1() {
  CaseRule r;
  r.kinds = {"act", "royal_decree", "ministerial_regulation"};
  r.excluded_categories = {1, 2, 3, 4, 5, 6};
  r.pauses_not_counted = {PauseReason::kRia, PauseReason::kCommittee, PauseReason::kOutside};
  r.cutoffs = {{6, D(2024, 3, 31)}, {12, D(2024, 9, 30)}};
  const auto w3 = Window({6, 12}, D(2023, 7, 1), D(2024, 6, 30));
  const auto w4 = Window({6, 12}, D(2023, 6, 1), D(2024, 5, 31));
  const auto w6 = Window({6, 12}, D(2023, 4, 1), D(2024, 3, 31));
  const auto w8 = Window({6, 12}, D(2023, 2, 1), D(2024, 1, 31));
  const auto w12 = Window({6, 12}, D(2022, 10, 1), D(2023, 9, 30));
  using F = CaseField;
  r.classes = {
      Class("short", {Between(F::kSections, 1, 10)}, 3, true, {w3}),
      Class("medium", {Between(F::kSections, 11, 20)}, 6, true, {w6}),
      Class("long", {Between(F::kSections, 21, std::nullopt)}, 12, true, {w12}),
      Class("maps", {Between(F::kMaps, 1, 1)}, 4, true, {w4}),
      Class("maps_many", {Between(F::kMaps, 2, std::nullopt)}, 6, true, {w6}),
      Class("maps_complex", {Between(F::kMapsComplex, 1, std::nullopt)}, 8, true, {w8}),
      Class("annex_1", {Between(F::kAnnexPages, 1, 1)}, 4, true, {w4}),
      Class("annex_2_10", {Between(F::kAnnexPages, 2, 10)}, 6, true, {w6}),
      Class("annex_11", {Between(F::kAnnexPages, 11, std::nullopt)}, 8, true, {w8}),
  };
  r.backlog = CaseBacklogRule{{12}, {"act", "royal_decree", "ministerial_regulation", "opinion"}};
  return r;
}

// Seed 002 KPI 2: opinions, 53 days, no pause excluded, no backlog, a window per round.
CaseRule Kpi2() {
  CaseRule r;
  r.kinds = {"opinion"};
  r.excluded_categories = {1, 2, 3, 4, 5, 6};
  r.cutoffs = {{6, D(2024, 3, 31)}, {12, D(2024, 9, 30)}};
  r.classes = {Class(
      "opinion", {}, 53, false,
      {Window({6}, D(2023, 8, 1), D(2024, 1, 31)), Window({12}, D(2023, 8, 1), D(2024, 7, 31))})};
  return r;
}

CaseRecord Law(int sections, Day received, Day completed = kNoDay) {
  CaseRecord c;
  c.case_id = "x";
  c.kind = "act";
  c.sections = sections;
  c.received = received;
  c.completed = completed;
  return c;
}

CaseVerdict Judge(const CaseRule& rule, int round, const CaseRecord& c,
                  std::vector<PauseSpan> pauses = {}) {
  auto ev = CaseEvaluator::Create(rule, round);
  EXPECT_TRUE(ev.ok());
  return ev->Evaluate(c, pauses);
}

TEST(CaseDatesTest, MonthsEndAsTheCivilCodeCounts) {
  // The examples.
  EXPECT_EQ(IsoDate(EndOfMonths(D(2024, 1, 15), 3)), "2024-04-14");
  EXPECT_EQ(IsoDate(EndOfMonths(D(2024, 1, 31), 1)), "2024-02-29");   // February has no 31st
  EXPECT_EQ(IsoDate(EndOfMonths(D(2023, 11, 30), 3)), "2024-02-29");  // nor a 30th
  EXPECT_EQ(IsoDate(EndOfMonths(D(2024, 3, 1), 1)), "2024-03-31");    // 1 Apr − 1 day
  // Not a leap year: 31 Jan 2023 + 1 month ends on 28 Feb.
  EXPECT_EQ(IsoDate(EndOfMonths(D(2023, 1, 31), 1)), "2023-02-28");
  // Across a year: 15 Oct 2022 + 12 months → 15 Oct 2023 − 1 day.
  EXPECT_EQ(IsoDate(EndOfMonths(D(2022, 10, 15), 12)), "2023-10-14");
  // 31 Dec 2023 + 3 months: March has a 31st → 30 Mar 2024.
  EXPECT_EQ(IsoDate(EndOfMonths(D(2023, 12, 31), 3)), "2024-03-30");
  // 30 Aug 2023 + 6 months: February 2024 has no 30th → its last day.
  EXPECT_EQ(IsoDate(EndOfMonths(D(2023, 8, 30), 6)), "2024-02-29");
}

TEST(CaseDatesTest, DaysCountRegistrationAsDayOne) {
  // 1 Aug 2023 is day 1; day 53 is 1 Aug + 52 = 31 Aug (+30) then 22 Sep (+22).
  EXPECT_EQ(IsoDate(EndOfDays(D(2023, 8, 1), 53)), "2023-09-22");
  EXPECT_EQ(IsoDate(EndOfDays(D(2024, 1, 1), 1)), "2024-01-01");
}

TEST(CaseDatesTest, ReadsIsoAndThaiDatesInRangeOnly) {
  EXPECT_EQ(ParseCaseDate("2024-01-15"), D(2024, 1, 15));
  EXPECT_EQ(ParseCaseDate("15/1/2567"), D(2024, 1, 15));  // 2567 − 543 = 2024
  EXPECT_EQ(ParseCaseDate("05/01/2567"), D(2024, 1, 5));
  EXPECT_EQ(ParseCaseDate("29/2/2567"), D(2024, 2, 29));  // 2024 is a leap year
  EXPECT_EQ(ParseCaseDate("1900-01-01"), D(1900, 1, 1));
  EXPECT_EQ(ParseCaseDate("2200-12-31"), D(2200, 12, 31));
  EXPECT_EQ(ParseCaseDate("1/1/2400"), D(1857, 1, 1));
  EXPECT_EQ(ParseCaseDate("31/12/2700"), D(2157, 12, 31));
  for (const char* bad : {"",          "15/1/67",     "15/1/24",     "2024-1-15",  "2024/01/15",
                          "31/2/2567", "29/2/2566",   "1899-12-31",  "2201-01-01", "1/1/2399",
                          "1/1/2701",  " 2024-01-15", "2024-01-15 ", "15-1-2567",  "15/1/2567/1",
                          "1/13/2567", "0/1/2567",    "2024-02-30",  "๑๕/๑/๒๕๖๗",  "15/1/+567"}) {
    EXPECT_FALSE(ParseCaseDate(bad).has_value()) << bad;
  }
}

TEST(CaseClassTest, SizeClassesByNumberOfSections) {
  // Received 15 Jan 2024: 3 months → 14 Apr 2024; 6 → 14 Jul 2024; 12 → 14 Jan 2025.
  const Day r = D(2024, 1, 15);
  const CaseRule rule = Kpi1();
  auto v = Judge(rule, 12, Law(1, r));
  EXPECT_EQ(rule.classes[static_cast<size_t>(v.class_index)].id, "short");
  EXPECT_EQ(IsoDate(v.due), "2024-04-14");
  v = Judge(rule, 12, Law(10, r));
  EXPECT_EQ(rule.classes[static_cast<size_t>(v.class_index)].id, "short");
  v = Judge(rule, 12, Law(11, r));
  EXPECT_EQ(rule.classes[static_cast<size_t>(v.class_index)].id, "medium");
  EXPECT_EQ(IsoDate(v.due), "2024-07-14");
  v = Judge(rule, 12, Law(20, r));
  EXPECT_EQ(rule.classes[static_cast<size_t>(v.class_index)].id, "medium");
  v = Judge(rule, 12, Law(21, D(2023, 1, 15)));
  EXPECT_EQ(rule.classes[static_cast<size_t>(v.class_index)].id, "long");
  EXPECT_EQ(IsoDate(v.due), "2024-01-14");
}

TEST(CaseClassTest, MapsAndAnnexesGiveTheirStandards) {
  const Day r = D(2023, 10, 10);  // + 4 months → 9 Feb 2024; + 6 → 9 Apr 2024; + 8 → 9 Jun 2024
  const CaseRule rule = Kpi1();
  auto id = [&](const CaseVerdict& v) {
    return v.class_index < 0 ? std::string("-")
                             : rule.classes[static_cast<size_t>(v.class_index)].id;
  };
  CaseRecord c = Law(-1, r);  // not stated: no size class
  c.maps = 1;
  auto v = Judge(rule, 12, c);
  EXPECT_EQ(id(v), "maps");
  EXPECT_EQ(IsoDate(v.due), "2024-02-09");
  c.maps = 2;
  v = Judge(rule, 12, c);
  EXPECT_EQ(id(v), "maps_many");
  EXPECT_EQ(IsoDate(v.due), "2024-04-09");
  c.maps_complex = 1;
  v = Judge(rule, 12, c);
  EXPECT_EQ(id(v), "maps_complex");
  EXPECT_EQ(IsoDate(v.due), "2024-06-09");
  c = Law(-1, r);
  c.annex_pages = 1;
  EXPECT_EQ(id(Judge(rule, 12, c)), "annex_1");
  c.annex_pages = 2;
  EXPECT_EQ(id(Judge(rule, 12, c)), "annex_2_10");
  c.annex_pages = 10;
  EXPECT_EQ(id(Judge(rule, 12, c)), "annex_2_10");
  c.annex_pages = 11;
  v = Judge(rule, 12, c);
  EXPECT_EQ(id(v), "annex_11");
  EXPECT_EQ(IsoDate(v.due), "2024-06-09");
}

TEST(CaseClassTest, TheLongestMatchingStandardWinsAndTiesGoToTheFirstClass) {
  const CaseRule rule = Kpi1();
  auto id = [&](const CaseVerdict& v) {
    return rule.classes[static_cast<size_t>(v.class_index)].id;
  };
  CaseRecord c = Law(5, D(2023, 10, 10));  // short, 3 months
  c.annex_pages = 11;                      // and 8 months: the 8 months win
  EXPECT_EQ(id(Judge(rule, 12, c)), "annex_11");
  c = Law(25, D(2023, 1, 10));  // long, 12 months, beats complex maps' 8
  c.maps_complex = 1;
  EXPECT_EQ(id(Judge(rule, 12, c)), "long");
  c = Law(15, D(2023, 10, 10));  // medium 6 months and annex 2–10 pages 6 months: a tie
  c.annex_pages = 5;
  EXPECT_EQ(id(Judge(rule, 12, c)), "medium");
}

TEST(CaseClassTest, NoClassIsUnclassified) {
  const CaseRule rule = Kpi1();
  auto v = Judge(rule, 12, Law(-1, D(2024, 1, 15)));  // sections not stated, no map or annex
  EXPECT_FALSE(v.counted);
  EXPECT_EQ(v.reason, CaseReason::kUnclassified);
  EXPECT_EQ(v.due, kNoDay);
  v = Judge(rule, 12, Law(0, D(2024, 1, 15)));  // 0 sections is below the short class
  EXPECT_EQ(v.reason, CaseReason::kUnclassified);
}

TEST(CaseWindowTest, EachClassHasItsOwnReceivingWindow) {
  const CaseRule rule = Kpi1();
  // Short laws: received 1 Jul 2023 – 30 Jun 2024.
  EXPECT_EQ(Judge(rule, 12, Law(5, D(2023, 6, 30), D(2023, 7, 5))).reason,
            CaseReason::kOutsideWindow);
  EXPECT_TRUE(Judge(rule, 12, Law(5, D(2023, 7, 1), D(2023, 7, 5))).counted);
  EXPECT_TRUE(Judge(rule, 12, Law(5, D(2024, 6, 30), D(2024, 9, 1))).counted);
  EXPECT_EQ(Judge(rule, 12, Law(5, D(2024, 7, 1), D(2024, 7, 5))).reason,
            CaseReason::kOutsideWindow);
  // Medium: 1 Apr 2023 – 31 Mar 2024; long: 1 Oct 2022 – 30 Sep 2023.
  EXPECT_EQ(Judge(rule, 12, Law(15, D(2023, 3, 31), D(2023, 5, 1))).reason,
            CaseReason::kOutsideWindow);
  EXPECT_TRUE(Judge(rule, 12, Law(15, D(2023, 4, 1), D(2023, 5, 1))).counted);
  EXPECT_TRUE(Judge(rule, 12, Law(25, D(2022, 10, 1), D(2023, 5, 1))).counted);
  EXPECT_EQ(Judge(rule, 12, Law(25, D(2023, 10, 1), D(2024, 5, 1))).reason,
            CaseReason::kOutsideWindow);
  // 4 months: 1 Jun 2023 – 31 May 2024; 8 months: 1 Feb 2023 – 31 Jan 2024.
  CaseRecord c = Law(-1, D(2023, 5, 31), D(2023, 6, 5));
  c.maps = 1;
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kOutsideWindow);
  c.received = D(2023, 6, 1);
  EXPECT_TRUE(Judge(rule, 12, c).counted);
  c = Law(-1, D(2023, 1, 31), D(2023, 3, 1));
  c.maps_complex = 1;
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kOutsideWindow);
  c.received = D(2023, 2, 1);
  EXPECT_TRUE(Judge(rule, 12, c).counted);
  c.received = D(2024, 2, 1);
  c.completed = D(2024, 3, 1);
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kOutsideWindow);
}

TEST(CaseWindowTest, WindowsMayDifferPerRound) {
  const CaseRule rule = Kpi2();
  CaseRecord c = Law(-1, D(2024, 2, 1));
  c.kind = "opinion";
  c.completed = D(2024, 3, 20);
  // Round 6 takes opinions received 1 Aug 2023 – 31 Jan 2024, round 12 to 31 Jul 2024.
  EXPECT_EQ(Judge(rule, 6, c).reason, CaseReason::kOutsideWindow);
  auto v = Judge(rule, 12, c);
  EXPECT_TRUE(v.counted);
  // Day 53 from 1 Feb 2024: 1 Feb + 52 days = 29 Feb (+28) then 24 Mar (+24).
  EXPECT_EQ(IsoDate(v.due), "2024-03-24");
  EXPECT_TRUE(v.on_time);
  c.completed = D(2024, 3, 25);
  v = Judge(rule, 12, c);
  EXPECT_FALSE(v.on_time);
  EXPECT_EQ(v.late_days, 1);
  c.received = D(2023, 7, 31);
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kOutsideWindow);
  c.received = D(2024, 1, 31);
  EXPECT_TRUE(Judge(rule, 6, c).counted);
}

TEST(CaseRoundTest, CutoffsDecideAfterCutoffPendingAndLate) {
  const CaseRule rule = Kpi1();
  // Round 6 (cut-off 31 Mar 2024). A short law received 1 Apr 2024 is inside its window
  // (to 30 Jun 2024) but after the cut-off.
  EXPECT_EQ(Judge(rule, 6, Law(5, D(2024, 4, 1), D(2024, 4, 5))).reason, CaseReason::kAfterCutoff);
  // ... and counts in round 12.
  EXPECT_TRUE(Judge(rule, 12, Law(5, D(2024, 4, 1), D(2024, 4, 5))).on_time);
  // Received 1 Feb 2024, due 30 Apr 2024 (1 May − 1), open on 31 Mar: still inside its time.
  EXPECT_EQ(Judge(rule, 6, Law(5, D(2024, 2, 1))).reason, CaseReason::kPending);
  // Completed after the cut-off, due after it: pending too (the round does not see it).
  EXPECT_EQ(Judge(rule, 6, Law(5, D(2024, 2, 1), D(2024, 4, 10))).reason, CaseReason::kPending);
  // Completed by the cut-off: counted and on time.
  auto v = Judge(rule, 6, Law(5, D(2024, 2, 1), D(2024, 3, 15)));
  EXPECT_TRUE(v.counted);
  EXPECT_TRUE(v.on_time);
  // Received 15 Dec 2023, due 14 Mar 2024, open on 31 Mar: late by 31 Mar − 14 Mar = 17 days.
  v = Judge(rule, 6, Law(5, D(2023, 12, 15)));
  EXPECT_TRUE(v.counted);
  EXPECT_FALSE(v.on_time);
  EXPECT_EQ(v.late_days, 17);
  // The same case completed 20 Apr 2024, after the cut-off: still late by 17 in round 6 ...
  v = Judge(rule, 6, Law(5, D(2023, 12, 15), D(2024, 4, 20)));
  EXPECT_EQ(v.late_days, 17);
  // ... and in round 12 late by 20 Apr − 14 Mar = 37 days.
  v = Judge(rule, 12, Law(5, D(2023, 12, 15), D(2024, 4, 20)));
  EXPECT_EQ(v.late_days, 37);
  // Completed on the due date itself: on time.
  EXPECT_TRUE(Judge(rule, 6, Law(5, D(2023, 12, 15), D(2024, 3, 14))).on_time);
  EXPECT_FALSE(Judge(rule, 6, Law(5, D(2023, 12, 15), D(2024, 3, 15))).on_time);
}

TEST(CaseRoundTest, AnEvaluatorNeedsTheRoundsCutoff) {
  CaseRule rule = Kpi1();
  rule.cutoffs = {{12, D(2024, 9, 30)}};
  auto ev = CaseEvaluator::Create(rule, 6);
  ASSERT_FALSE(ev.ok());
  EXPECT_NE(ev.status().message_en().find("6-month"), std::string::npos);
  EXPECT_NE(ev.status().message_th().find("6 เดือน"), std::string::npos);
  EXPECT_FALSE(CaseEvaluator::Create(rule, 9).ok());
}

TEST(CasePauseTest, ExcludedPausesMoveTheDueDate) {
  const CaseRule rule = Kpi1();
  // Received 15 Jan 2024, short: 14 Apr 2024. RIA 1–10 Feb = 10 days → 24 Apr 2024.
  CaseRecord c = Law(5, D(2024, 1, 15), D(2024, 4, 20));
  auto v = Judge(rule, 12, c, {{PauseReason::kRia, D(2024, 2, 1), D(2024, 2, 10)}});
  EXPECT_EQ(v.paused_days, 10);
  EXPECT_EQ(IsoDate(v.due), "2024-04-24");
  EXPECT_TRUE(v.on_time);  // late by 6 days without the pause
  EXPECT_FALSE(Judge(rule, 12, c).on_time);
  // Each reason counts: committee and outside too.
  for (PauseReason r : {PauseReason::kCommittee, PauseReason::kOutside}) {
    EXPECT_EQ(Judge(rule, 12, c, {{r, D(2024, 2, 1), D(2024, 2, 10)}}).paused_days, 10);
  }
}

TEST(CasePauseTest, OverlappingPausesAreMerged) {
  const CaseRule rule = Kpi1();
  CaseRecord c = Law(5, D(2024, 1, 15), D(2024, 4, 20));
  // RIA 1–10 Feb and committee 5–14 Feb: one span 1–14 Feb, 14 days → due 28 Apr.
  auto v = Judge(rule, 12, c,
                 {{PauseReason::kCommittee, D(2024, 2, 5), D(2024, 2, 14)},
                  {PauseReason::kRia, D(2024, 2, 1), D(2024, 2, 10)}});
  EXPECT_EQ(v.paused_days, 14);
  EXPECT_EQ(IsoDate(v.due), "2024-04-28");
  // Spans sharing a day (1–10 and 10–12 Feb) count that day once: 12 days.
  v = Judge(rule, 12, c,
            {{PauseReason::kRia, D(2024, 2, 1), D(2024, 2, 10)},
             {PauseReason::kOutside, D(2024, 2, 10), D(2024, 2, 12)}});
  EXPECT_EQ(v.paused_days, 12);
  // A pause inside another adds nothing.
  v = Judge(rule, 12, c,
            {{PauseReason::kRia, D(2024, 2, 1), D(2024, 2, 10)},
             {PauseReason::kOutside, D(2024, 2, 3), D(2024, 2, 4)}});
  EXPECT_EQ(v.paused_days, 10);
}

TEST(CasePauseTest, PausesCountOnlyFromRegistrationToCompletionOrCutoff) {
  const CaseRule rule = Kpi1();
  CaseRecord c = Law(5, D(2024, 1, 15), D(2024, 4, 20));
  // 10–16 Jan: only 15 and 16 Jan are after registration → 2 days.
  EXPECT_EQ(Judge(rule, 12, c, {{PauseReason::kRia, D(2024, 1, 10), D(2024, 1, 16)}}).paused_days,
            2);
  // 18 Apr – 30 May: only 18–20 Apr, up to completion → 3 days.
  EXPECT_EQ(Judge(rule, 12, c, {{PauseReason::kRia, D(2024, 4, 18), D(2024, 5, 30)}}).paused_days,
            3);
  // Wholly after completion: nothing.
  EXPECT_EQ(Judge(rule, 12, c, {{PauseReason::kRia, D(2024, 5, 1), D(2024, 5, 30)}}).paused_days,
            0);
  // After the due date but before completion it still counts: completed 20 May, outside 1–10 May
  // → due 24 Apr, late 26 days (36 without the pause).
  c.completed = D(2024, 5, 20);
  auto v = Judge(rule, 12, c, {{PauseReason::kOutside, D(2024, 5, 1), D(2024, 5, 10)}});
  EXPECT_EQ(IsoDate(v.due), "2024-04-24");
  EXPECT_EQ(v.late_days, 26);
  EXPECT_EQ(Judge(rule, 12, c).late_days, 36);
}

TEST(CasePauseTest, AnOpenPauseEndsAtTheCutoffWhateverTheExportDate) {
  const CaseRule rule = Kpi1();
  const CaseRecord c = Law(5, D(2024, 1, 15));  // open
  // Round 6: 20–31 Mar is 12 days → due 26 Apr, after the cut-off: pending.
  auto v = Judge(rule, 6, c, {{PauseReason::kCommittee, D(2024, 3, 20), kOpenEnd}});
  EXPECT_EQ(v.paused_days, 12);
  EXPECT_EQ(IsoDate(v.due), "2024-04-26");
  EXPECT_EQ(v.reason, CaseReason::kPending);
  // A log exported later, with the pause ended on 1 Dec 2024, gives the same verdict.
  auto later = Judge(rule, 6, c, {{PauseReason::kCommittee, D(2024, 3, 20), D(2024, 12, 1)}});
  EXPECT_EQ(later.paused_days, 12);
  EXPECT_EQ(later.reason, CaseReason::kPending);
  // Round 12: 20 Mar – 30 Sep = 12 + 30 + 31 + 30 + 31 + 31 + 30 = 195 days; 14 Apr + 195 =
  // 26 Oct 2024, after the cut-off: pending.
  v = Judge(rule, 12, c, {{PauseReason::kCommittee, D(2024, 3, 20), kOpenEnd}});
  EXPECT_EQ(v.paused_days, 195);
  EXPECT_EQ(IsoDate(v.due), "2024-10-26");
  EXPECT_EQ(v.reason, CaseReason::kPending);
}

TEST(CasePauseTest, AKpiThatExcludesNoPauseIgnoresThem) {
  const CaseRule rule = Kpi2();
  CaseRecord c = Law(-1, D(2023, 8, 1), D(2023, 9, 25));  // due 22 Sep 2023
  c.kind = "opinion";
  auto v = Judge(rule, 12, c, {{PauseReason::kRia, D(2023, 8, 2), D(2023, 8, 20)}});
  EXPECT_EQ(v.paused_days, 0);
  EXPECT_EQ(IsoDate(v.due), "2023-09-22");
  EXPECT_EQ(v.late_days, 3);
}

TEST(CaseCategoryTest, KindsAndSpecialCategoriesAreNotCountedInThatOrder) {
  const CaseRule rule = Kpi1();
  CaseRecord c = Law(5, D(2024, 1, 15), D(2024, 2, 1));
  for (int cat = 1; cat <= 6; ++cat) {
    c.special_category = cat;
    EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kSpecialCategory) << cat;
  }
  c.special_category = 0;
  EXPECT_TRUE(Judge(rule, 12, c).counted);
  for (const char* k : {"royal_decree", "ministerial_regulation"}) {
    c.kind = k;
    EXPECT_TRUE(Judge(rule, 12, c).counted) << k;
  }
  c.kind = "opinion";  // KPI 1 does not count opinions (except as backlog)
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kKind);
  c.special_category = 2;  // kind is checked first
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kKind);
}

TEST(CaseReasonTest, ReasonsComeInTheStatedOrder) {
  const CaseRule rule = Kpi1();
  // Special category before unclassified.
  CaseRecord c = Law(-1, D(2024, 1, 15));
  c.special_category = 4;
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kSpecialCategory);
  // Unclassified before outside the window (received long before any window).
  EXPECT_EQ(Judge(rule, 12, Law(-1, D(2020, 1, 1))).reason, CaseReason::kUnclassified);
  // Outside the window before after the cut-off: a short law received 1 Jul 2024 in round 6.
  EXPECT_EQ(Judge(rule, 6, Law(5, D(2024, 7, 1))).reason, CaseReason::kOutsideWindow);
  // After the cut-off before pending: received 1 Apr 2024, open, in round 6.
  EXPECT_EQ(Judge(rule, 6, Law(5, D(2024, 4, 1))).reason, CaseReason::kAfterCutoff);
  EXPECT_EQ(CaseReasonCode(CaseReason::kBacklogRound, 6), "backlog_round6");
  EXPECT_EQ(CaseReasonCode(CaseReason::kOutsideWindow, 12), "outside_window");
}

TEST(CaseBacklogTest, BacklogCountsOnlyInKpi1sTwelveMonthRound) {
  const CaseRule rule = Kpi1();
  CaseRecord c = Law(-1, D(2022, 5, 1), D(2024, 5, 1));  // no size: backlog needs no class
  c.backlog = true;
  auto v = Judge(rule, 12, c);
  EXPECT_TRUE(v.counted);
  EXPECT_TRUE(v.on_time);  // completed by 30 Sep 2024
  EXPECT_EQ(v.due, kNoDay);
  EXPECT_EQ(v.class_index, -1);
  c.completed = D(2024, 10, 1);  // after the cut-off: still open then, late
  v = Judge(rule, 12, c);
  EXPECT_TRUE(v.counted);
  EXPECT_FALSE(v.on_time);
  EXPECT_EQ(v.late_days, 0);
  c.completed = kNoDay;
  EXPECT_FALSE(Judge(rule, 12, c).on_time);
  // Round 6: not counted.
  EXPECT_EQ(Judge(rule, 6, c).reason, CaseReason::kBacklogRound);
  // Opinions count as backlog of KPI 1 (seed 002 item 5); other kinds do not.
  c.kind = "opinion";
  EXPECT_TRUE(Judge(rule, 12, c).counted);
  c.kind = "treaty";
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kKind);
  c.kind = "act";
  c.special_category = 5;
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kSpecialCategory);
}

TEST(CaseBacklogTest, AKpiWithoutABacklogRuleCountsNone) {
  const CaseRule rule = Kpi2();
  CaseRecord c = Law(-1, D(2023, 5, 1), D(2024, 1, 1));
  c.backlog = true;
  c.kind = "opinion";
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kBacklog);
  EXPECT_EQ(Judge(rule, 6, c).reason, CaseReason::kBacklog);
  c.kind = "act";
  EXPECT_EQ(Judge(rule, 12, c).reason, CaseReason::kKind);
}

TEST(CaseTallyTest, ResultIsOnTimeOverCountedUnrounded) {
  CaseTally t;
  EXPECT_FALSE(t.Result().has_value());
  CaseVerdict on_time{true, CaseReason::kNone, 0, 0, 0, true, 0, false};
  CaseVerdict late{true, CaseReason::kNone, 0, 0, 0, false, 3, false};
  CaseVerdict pending{false, CaseReason::kPending, 0, 0, 0, false, 0, false};
  t.Add(on_time);
  t.Add(on_time);
  t.Add(late);
  t.Add(pending);
  EXPECT_EQ(t.cases, 4);
  EXPECT_EQ(t.counted, 3);
  EXPECT_EQ(t.on_time, 2);
  EXPECT_EQ(t.by_reason[static_cast<int>(CaseReason::kPending)], 1);
  EXPECT_DOUBLE_EQ(*t.Result(), 200.0 / 3.0);  // 66.666…, not rounded
}

}  // namespace
}  // namespace esar::domain
