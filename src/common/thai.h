#pragma once

// Thai conventions for people: Buddhist Era dates in Bangkok time, fiscal years and rounds as
// Thai civil servants name them, and Thai dictionary order. Dates and order come from ICU.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/text.h"

namespace esar {

// "30 ก.ย. 2567" (Buddhist Era) or "30 Sep 2024", the day in Bangkok of `ms` since the epoch.
std::string FormatDate(int64_t ms, Lang lang);
// "30 ก.ย. 2567 10:30 น." or "30 Sep 2024 10:30".
std::string FormatDateTime(int64_t ms, Lang lang);
// "ปีงบประมาณ พ.ศ. 2567" or "fiscal year 2024 (B.E. 2567)"; `fiscal_year` is Buddhist Era.
std::string FiscalYearName(int fiscal_year, Lang lang);
// A value with its unit in the order people read it: "ร้อยละ 90.00" (Thai says "percent" before
// the number), "180 เรื่อง" and "90.00 percent" after it; the value alone when the unit is empty
// or there is no value ("–").
std::string ValueWithUnit(const std::string& value, const std::string& unit);
// "รอบ 12 เดือน" or "12-month round".
std::string RoundName(int round, Lang lang);
// How long until `deadline_ms` in Bangkok calendar days: "เหลือ 3 วัน", "ครบกำหนดวันนี้",
// "เลยกำหนด 2 วัน" (or "3 days left", "due today", "2 days overdue").
std::string DaysLeft(int64_t deadline_ms, int64_t now_ms, Lang lang);
// Whole Bangkok calendar days from `now_ms` to `deadline_ms` (negative once past).
int64_t CalendarDaysUntil(int64_t deadline_ms, int64_t now_ms);

// A date ("2024-09-30", as an HTML date field sends it) and a time ("16:30", or "" for 23:59)
// in Bangkok as ms since the epoch; an error in Thai and English when either is malformed.
Result<int64_t> ParseBangkokDateTime(std::string_view date, std::string_view time);
// A date as people type it in esar's date fields, with a time, in Bangkok as ms since the
// epoch. The date is day/month/Buddhist Era year ("30/9/2567": one or two digits for the day and
// the month, four for the year; Thai digits too; '/', '-' or '.' between; spaces around
// ignored), or "2024-09-30" as API clients and older forms send it. The time is "16:30", or ""
// for 23:59. kInvalidInput in Thai and English saying what is wrong and how to write it: the
// form ("30/9/2567"), a year that looks like the Common Era's (2024: "use 2567"), a date the
// calendar does not have (31/9/2567), a malformed time.
Result<int64_t> ParseDateField(std::string_view date, std::string_view time);
// The Bangkok date of `ms` as esar's date fields show it: "30/9/2567" (Buddhist Era).
std::string DateFieldText(int64_t ms);

// The Bangkok date of `ms` as "2024-09-30" and its time as "16:30", for HTML fields.
std::string IsoDateInBangkok(int64_t ms);
std::string IsoTimeInBangkok(int64_t ms);

// A key whose byte order is Thai dictionary order (ICU's Thai collation): sorting by it sorts
// names as a Thai reader expects (leading vowels ignored, tone marks secondary).
std::string ThaiSortKey(std::string_view utf8);

// The words of `utf8` as ICU's Thai word breaker finds them (Thai is written without spaces
// between words, so a dictionary decides where they end: "การรายงาน" is "การ" + "รายงาน"), in
// order, repeats kept, Latin letters lowercased (as with all letters with case), spaces and
// punctuation left out. Searching by whole words of this list finds "รายงาน" in "การรายงาน"
// without finding "งาน" inside "รายงาน". Invalid UTF-8 yields the words of what decodes.
std::vector<std::string> ThaiWords(std::string_view utf8);

}  // namespace esar
