#include "common/thai.h"

#include <unicode/brkiter.h>
#include <unicode/calendar.h>
#include <unicode/coll.h>
#include <unicode/locid.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>
#include <unicode/ubrk.h>
#include <unicode/unistr.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <vector>

namespace esar {
namespace {

constexpr int64_t kBangkokOffsetMs = 7LL * 3600 * 1000;  // Thailand keeps UTC+7, no summer time
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

// ICU formatters are not safe to share between threads; each thread keeps its own.
struct Formatters {
  std::unique_ptr<icu::SimpleDateFormat> date_th, date_en, time_th, time_en;
  std::unique_ptr<icu::Collator> thai;

  Formatters() {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Locale thai_buddhist("th_TH@calendar=buddhist");
    const icu::Locale english("en_GB");
    auto make = [&](const char* pattern, const icu::Locale& locale) {
      auto f = std::make_unique<icu::SimpleDateFormat>(icu::UnicodeString::fromUTF8(pattern),
                                                       locale, status);
      f->adoptTimeZone(icu::TimeZone::createTimeZone("Asia/Bangkok"));
      return f;
    };
    date_th = make("d MMM y", thai_buddhist);
    date_en = make("d MMM y", english);
    time_th = make("HH:mm 'น.'", thai_buddhist);
    time_en = make("HH:mm", english);
    thai.reset(icu::Collator::createInstance(icu::Locale("th"), status));
    if (U_FAILURE(status)) thai.reset();
  }
};

Formatters& Icu() {
  thread_local Formatters formatters;
  return formatters;
}

std::string Format(icu::SimpleDateFormat* format, int64_t ms) {
  if (!format) return std::to_string(ms);
  icu::UnicodeString out;
  format->format(static_cast<UDate>(ms), out);
  std::string utf8;
  out.toUTF8String(utf8);
  return utf8;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp + (mp < 10 ? 3 : -9);
  y = yoe + era * 400 + (m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

bool ReadNumber(std::string_view text, int64_t& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

std::string FormatDate(int64_t ms, Lang lang) {
  Formatters& f = Icu();
  return Format(lang == Lang::kThai ? f.date_th.get() : f.date_en.get(), ms);
}

std::string FormatDateTime(int64_t ms, Lang lang) {
  Formatters& f = Icu();
  return FormatDate(ms, lang) + " " +
         Format(lang == Lang::kThai ? f.time_th.get() : f.time_en.get(), ms);
}

std::string FiscalYearName(int fiscal_year, Lang lang) {
  if (lang == Lang::kThai) return "ปีงบประมาณ พ.ศ. " + std::to_string(fiscal_year);
  return "fiscal year " + std::to_string(fiscal_year - 543) + " (B.E. " +
         std::to_string(fiscal_year) + ")";
}

std::string ValueWithUnit(const std::string& value, const std::string& unit) {
  if (unit.empty() || value.empty() || value == "–" || value == "-") return value;
  static const std::string kPercent = "ร้อยละ";
  if (unit.compare(0, kPercent.size(), kPercent) == 0) return unit + " " + value;
  return value + " " + unit;
}

std::string RoundName(int round, Lang lang) {
  if (lang == Lang::kThai) return "รอบ " + std::to_string(round) + " เดือน";
  return std::to_string(round) + "-month round";
}

int64_t CalendarDaysUntil(int64_t deadline_ms, int64_t now_ms) {
  return FloorDiv(deadline_ms + kBangkokOffsetMs, kDayMs) -
         FloorDiv(now_ms + kBangkokOffsetMs, kDayMs);
}

std::string DaysLeft(int64_t deadline_ms, int64_t now_ms, Lang lang) {
  const bool thai = lang == Lang::kThai;
  if (deadline_ms < now_ms) {
    const int64_t late = std::max<int64_t>(-CalendarDaysUntil(deadline_ms, now_ms), 0);
    if (late == 0) return thai ? "เลยกำหนดแล้ว" : "past the deadline";
    return thai ? "เลยกำหนด " + std::to_string(late) + " วัน"
                : std::to_string(late) + (late == 1 ? " day overdue" : " days overdue");
  }
  const int64_t days = CalendarDaysUntil(deadline_ms, now_ms);
  if (days == 0) return thai ? "ครบกำหนดวันนี้" : "due today";
  return thai ? "เหลือ " + std::to_string(days) + " วัน"
              : std::to_string(days) + (days == 1 ? " day left" : " days left");
}

Result<int64_t> ParseBangkokDateTime(std::string_view date, std::string_view time) {
  int64_t y = 0, m = 0, d = 0, hh = 23, mm = 59;
  const bool date_ok = date.size() == 10 && date[4] == '-' && date[7] == '-' &&
                       ReadNumber(date.substr(0, 4), y) && ReadNumber(date.substr(5, 2), m) &&
                       ReadNumber(date.substr(8, 2), d) && m >= 1 && m <= 12 && d >= 1 && d <= 31 &&
                       y >= 1900 && y <= 9999;
  if (!date_ok) {
    return Status::InvalidInput("วันที่ต้องอยู่ในรูป ปปปป-ดด-วว (ค.ศ.)", "the date must be YYYY-MM-DD");
  }
  int64_t check_y = 0, check_m = 0, check_d = 0;
  CivilFromDays(DaysFromCivil(y, m, d), check_y, check_m, check_d);
  if (check_m != m || check_d != d)
    return Status::InvalidInput("ไม่มีวันที่นี้ในปฏิทิน", "no such date in the calendar");
  if (!time.empty()) {
    const bool time_ok = time.size() == 5 && time[2] == ':' && ReadNumber(time.substr(0, 2), hh) &&
                         ReadNumber(time.substr(3, 2), mm) && hh <= 23 && mm <= 59;
    if (!time_ok) return Status::InvalidInput("เวลาต้องอยู่ในรูป ชช:นน", "the time must be HH:MM");
  }
  return (DaysFromCivil(y, m, d) * 24 * 60 + hh * 60 + mm) * 60 * 1000 - kBangkokOffsetMs;
}

namespace {

// `text` with Thai digits (๐-๙, U+0E50-U+0E59: E0 B9 90-99 in UTF-8) as ASCII digits and the
// spaces around it dropped.
std::string AsciiDigits(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0xE0 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xB9 &&
        static_cast<unsigned char>(text[i + 2]) >= 0x90 &&
        static_cast<unsigned char>(text[i + 2]) <= 0x99) {
      out.push_back(static_cast<char>('0' + (static_cast<unsigned char>(text[i + 2]) - 0x90)));
      i += 2;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  const size_t first = out.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of(" \t") - first + 1);
}

Status DateFormError() {
  return Status::InvalidInput("วันที่ต้องอยู่ในรูป วัน/เดือน/ปี พ.ศ. เช่น 30/9/2567",
                              "the date must be day/month/Buddhist Era year, e.g. 30/9/2567");
}

}  // namespace

Result<int64_t> ParseDateField(std::string_view date, std::string_view time) {
  // Anything longer than "๓๐/๑๒/๒๕๖๗" with spaces is no date: refused before it is copied.
  if (date.size() > 64) return DateFormError();
  const std::string text = AsciiDigits(date);
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    return ParseBangkokDateTime(text, time);
  }
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == '/' || c == '-' || c == '.') {
      parts.emplace_back();
    } else if (c >= '0' && c <= '9') {
      parts.back().push_back(c);
    } else {
      return DateFormError();
    }
  }
  int64_t d = 0, m = 0, y = 0;
  if (parts.size() != 3 || parts[0].empty() || parts[0].size() > 2 || parts[1].empty() ||
      parts[1].size() > 2 || parts[2].size() != 4 || !ReadNumber(parts[0], d) ||
      !ReadNumber(parts[1], m) || !ReadNumber(parts[2], y)) {
    return DateFormError();
  }
  if (y < 2400) {
    // 2024 is this century's Common Era year; a Buddhist Era year is 543 more.
    const std::string be = std::to_string(y + 543);
    return Status::InvalidInput(
        "ปี " + parts[2] + " เป็นปี ค.ศ. กรุณาใช้ปี พ.ศ. (" + parts[2] + " + 543 = " + be + ")",
        "the year " + parts[2] + " is a Common Era year: use the Buddhist Era year (" + parts[2] +
            " + 543 = " + be + ")");
  }
  const int64_t ce = y - 543;
  int64_t check_y = 0, check_m = 0, check_d = 0;
  if (m >= 1 && m <= 12 && d >= 1 && d <= 31) {
    CivilFromDays(DaysFromCivil(ce, m, d), check_y, check_m, check_d);
  }
  if (check_m != m || check_d != d) {
    const std::string shown = std::to_string(d) + "/" + std::to_string(m) + "/" + parts[2];
    return Status::InvalidInput("ไม่มีวันที่ " + shown + " ในปฏิทิน",
                                "there is no such date as " + shown);
  }
  char iso[16];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", static_cast<int>(ce), static_cast<int>(m),
                static_cast<int>(d));
  return ParseBangkokDateTime(iso, time);
}

std::string DateFieldText(int64_t ms) {
  int64_t y = 0, m = 0, d = 0;
  CivilFromDays(FloorDiv(ms + kBangkokOffsetMs, kDayMs), y, m, d);
  return std::to_string(d) + "/" + std::to_string(m) + "/" + std::to_string(y + 543);
}

std::string IsoDateInBangkok(int64_t ms) {
  int64_t y = 0, m = 0, d = 0;
  CivilFromDays(FloorDiv(ms + kBangkokOffsetMs, kDayMs), y, m, d);
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(m),
                static_cast<int>(d));
  return out;
}

std::string IsoTimeInBangkok(int64_t ms) {
  const int64_t minutes = FloorDiv(ms + kBangkokOffsetMs, 60 * 1000) % (24 * 60);
  char out[8];
  std::snprintf(out, sizeof out, "%02d:%02d", static_cast<int>(minutes / 60),
                static_cast<int>(minutes % 60));
  return out;
}

std::string ThaiSortKey(std::string_view utf8) {
  Formatters& f = Icu();
  if (!f.thai) return std::string(utf8);
  const icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  std::string key(64, '\0');
  int32_t needed = f.thai->getSortKey(text, reinterpret_cast<uint8_t*>(key.data()),
                                      static_cast<int32_t>(key.size()));
  if (needed > static_cast<int32_t>(key.size())) {
    key.resize(static_cast<size_t>(needed));
    needed = f.thai->getSortKey(text, reinterpret_cast<uint8_t*>(key.data()), needed);
  }
  key.resize(static_cast<size_t>(needed > 0 ? needed - 1 : 0));  // without the final NUL
  return key;
}

std::vector<std::string> ThaiWords(std::string_view utf8) {
  std::vector<std::string> words;
  UErrorCode status = U_ZERO_ERROR;
  // A breaker per call: ICU's break iterators are not thread-safe, and ICU caches the rules and
  // dictionary behind createWordInstance, so making one is cheap next to breaking a text.
  std::unique_ptr<icu::BreakIterator> breaker(
      icu::BreakIterator::createWordInstance(icu::Locale("th"), status));
  if (U_FAILURE(status) || !breaker) return words;
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  text.foldCase();
  breaker->setText(text);
  int32_t start = breaker->first();
  for (int32_t end = breaker->next(); end != icu::BreakIterator::DONE;
       start = end, end = breaker->next()) {
    // Rule status below UBRK_WORD_NONE_LIMIT: spaces and punctuation, not words.
    if (breaker->getRuleStatus() < UBRK_WORD_NONE_LIMIT) continue;
    std::string word;
    text.tempSubStringBetween(start, end).toUTF8String(word);
    words.push_back(std::move(word));
  }
  return words;
}

}  // namespace esar
