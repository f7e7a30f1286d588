#include "common/thai.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace esar {
namespace {

// 30 Sep 2024 10:30 in Bangkok is 03:30 UTC.
constexpr int64_t kSep30At1030 = 1727667000000;

// Issue 12 §4: "ร้อยละ 90.00", not "90.00 ร้อยละ"; other units after the number.
TEST(ThaiUnits, PercentComesBeforeTheNumberOtherUnitsAfter) {
  EXPECT_EQ(ValueWithUnit("90.00", "ร้อยละ"), "ร้อยละ 90.00");
  EXPECT_EQ(ValueWithUnit("180", "เรื่อง"), "180 เรื่อง");
  EXPECT_EQ(ValueWithUnit("90.00", "percent"), "90.00 percent");
  EXPECT_EQ(ValueWithUnit("90.00", ""), "90.00");
  EXPECT_EQ(ValueWithUnit("–", "ร้อยละ"), "–");
}

TEST(ThaiDates, BuddhistEraDateAndTime) {
  EXPECT_EQ(FormatDate(kSep30At1030, Lang::kThai), "30 ก.ย. 2567");
  EXPECT_EQ(FormatDateTime(kSep30At1030, Lang::kThai), "30 ก.ย. 2567 10:30 น.");
  EXPECT_EQ(FormatDate(kSep30At1030, Lang::kEnglish), "30 Sept 2024");
}

TEST(ThaiDates, TheDayIsBangkoksNotUtcs) {
  // 17:30 UTC on 30 Sep is already 1 Oct in Bangkok.
  const int64_t late = kSep30At1030 + 14LL * 3600 * 1000;
  EXPECT_EQ(FormatDate(late, Lang::kThai), "1 ต.ค. 2567");
  EXPECT_EQ(IsoDateInBangkok(late), "2024-10-01");
  EXPECT_EQ(IsoTimeInBangkok(late), "00:30");
}

TEST(ThaiDates, ParsesFieldsInBangkokTime) {
  auto at = ParseBangkokDateTime("2024-09-30", "10:30");
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(*at, kSep30At1030);
  auto end_of_day = ParseBangkokDateTime("2024-09-30", "");
  ASSERT_TRUE(end_of_day.ok());
  EXPECT_EQ(IsoTimeInBangkok(*end_of_day), "23:59");
  EXPECT_FALSE(ParseBangkokDateTime("2024-02-30", "").ok());
  EXPECT_FALSE(ParseBangkokDateTime("30/09/2567", "").ok());
  EXPECT_FALSE(ParseBangkokDateTime("2024-09-30", "25:00").ok());
  EXPECT_EQ(ParseBangkokDateTime("2024-13-01", "").status().message_th(),
            "วันที่ต้องอยู่ในรูป ปปปป-ดด-วว (ค.ศ.)");
}

TEST(ThaiDates, DateFieldTakesBuddhistEraDates) {
  auto at = ParseDateField("30/9/2567", "10:30");
  ASSERT_TRUE(at.ok()) << at.status().message_en();
  EXPECT_EQ(*at, kSep30At1030);
  // Two-digit day and month, Thai digits, other separators, spaces around: the same moment.
  for (const char* same : {"30/09/2567", " 30/9/2567 ", "๓๐/๙/๒๕๖๗", "30-9-2567", "30.09.2567",
                           "2024-09-30"}) {
    auto again = ParseDateField(same, "10:30");
    ASSERT_TRUE(again.ok()) << same << ": " << again.status().message_en();
    EXPECT_EQ(*again, kSep30At1030) << same;
  }
  // What the field shows reads back as the same day.
  EXPECT_EQ(DateFieldText(kSep30At1030), "30/9/2567");
  EXPECT_EQ(DateFieldText(kSep30At1030 + 14LL * 3600 * 1000), "1/10/2567");  // Bangkok's day
  auto end_of_day = ParseDateField(DateFieldText(kSep30At1030), "");
  ASSERT_TRUE(end_of_day.ok());
  EXPECT_EQ(IsoDateInBangkok(*end_of_day), "2024-09-30");
  EXPECT_EQ(IsoTimeInBangkok(*end_of_day), "23:59");
  // 29 February exists in 2567 (2024) and not in 2566 (2023).
  EXPECT_TRUE(ParseDateField("29/2/2567", "").ok());
  EXPECT_EQ(ParseDateField("29/2/2566", "").status().message_th(), "ไม่มีวันที่ 29/2/2566 ในปฏิทิน");
}

TEST(ThaiDates, DateFieldSaysWhatIsWrongInThaiAndEnglish) {
  // A Common Era year: told which Buddhist Era year is meant.
  auto ce = ParseDateField("30/9/2024", "");
  ASSERT_FALSE(ce.ok());
  EXPECT_EQ(ce.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(ce.status().message_th(), "ปี 2024 เป็นปี ค.ศ. กรุณาใช้ปี พ.ศ. (2024 + 543 = 2567)");
  EXPECT_EQ(ce.status().message_en(),
            "the year 2024 is a Common Era year: use the Buddhist Era year (2024 + 543 = 2567)");
  auto none = ParseDateField("31/9/2567", "");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message_en(), "there is no such date as 31/9/2567");
  // The browser's mm/dd/yyyy is not taken for a day that does not exist.
  EXPECT_FALSE(ParseDateField("9/30/2567", "").ok());
  for (const char* bad : {"", "30/9", "30/9/67", "30/9/25670", "3O/9/2567", "30//2567",
                          "100/9/2567", "30/9/2567/1", "0/9/2567", "30/0/2567", "30/13/2567",
                          "30 ก.ย. 2567"}) {
    auto parsed = ParseDateField(bad, "");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidInput) << bad;
    EXPECT_FALSE(parsed.status().message_th().empty());
    EXPECT_FALSE(parsed.status().message_en().empty());
  }
  EXPECT_EQ(ParseDateField("30 ก.ย. 2567", "").status().message_th(),
            "วันที่ต้องอยู่ในรูป วัน/เดือน/ปี พ.ศ. เช่น 30/9/2567");
  EXPECT_FALSE(ParseDateField(std::string(100000, '1'), "").ok());  // long input refused
  EXPECT_FALSE(ParseDateField("30/9/2567", "16.30").ok());
}

TEST(ThaiDates, DaysLeftCountsCalendarDays) {
  const int64_t day = 24LL * 3600 * 1000;
  EXPECT_EQ(DaysLeft(kSep30At1030 + 3 * day, kSep30At1030, Lang::kThai), "เหลือ 3 วัน");
  EXPECT_EQ(DaysLeft(kSep30At1030 + 3 * day, kSep30At1030, Lang::kEnglish), "3 days left");
  EXPECT_EQ(DaysLeft(kSep30At1030 + 3600 * 1000, kSep30At1030, Lang::kThai), "ครบกำหนดวันนี้");
  EXPECT_EQ(DaysLeft(kSep30At1030 - 2 * day, kSep30At1030, Lang::kThai), "เลยกำหนด 2 วัน");
  EXPECT_EQ(DaysLeft(kSep30At1030 - day, kSep30At1030, Lang::kEnglish), "1 day overdue");
}

TEST(ThaiDates, FiscalYearsAndRounds) {
  EXPECT_EQ(FiscalYearName(2567, Lang::kThai), "ปีงบประมาณ พ.ศ. 2567");
  EXPECT_EQ(FiscalYearName(2567, Lang::kEnglish), "fiscal year 2024 (B.E. 2567)");
  EXPECT_EQ(RoundName(12, Lang::kThai), "รอบ 12 เดือน");
}

TEST(ThaiCollation, SortsAsAThaiDictionary) {
  // Leading vowels (เ แ โ ใ ไ) are skipped for order: เกษตร sorts under ก, before ข.
  std::vector<std::string> names = {"กระทรวงแรงงาน", "ขอนแก่น", "เกษตรและสหกรณ์",
                                    "กรมบัญชีกลาง",    "ไปรษณีย์", "บางกอก"};
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return ThaiSortKey(a) < ThaiSortKey(b);
  });
  const std::vector<std::string> expected = {"กรมบัญชีกลาง", "กระทรวงแรงงาน", "เกษตรและสหกรณ์",
                                             "ขอนแก่น",     "บางกอก",        "ไปรษณีย์"};
  EXPECT_EQ(names, expected);
  // Plain byte order would put every word with a leading vowel after all the others.
  EXPECT_GT(std::string("เกษตรและสหกรณ์"), std::string("ขอนแก่น"));
}

TEST(ThaiWords, SplitsThaiAtDictionaryWordBoundaries) {
  // Thai has no spaces between words: ICU's dictionary finds "รายงาน" inside "การรายงาน".
  const std::vector<std::string> words = ThaiWords("การรายงานปี 2563");
  EXPECT_NE(std::find(words.begin(), words.end(), "รายงาน"), words.end());
  EXPECT_NE(std::find(words.begin(), words.end(), "การ"), words.end());
  EXPECT_NE(std::find(words.begin(), words.end(), "2563"), words.end());
  // A word is whole: "งาน" is not a word of "รายงาน".
  const std::vector<std::string> report = ThaiWords("รายงาน");
  EXPECT_EQ(report, std::vector<std::string>{"รายงาน"});
}

TEST(ThaiWords, LeavesOutSpacesAndPunctuationAndFoldsLatinCase) {
  const std::vector<std::string> words = ThaiWords("  ระบบ e-SAR, (PMQA 4.0)!  ");
  EXPECT_NE(std::find(words.begin(), words.end(), "sar"), words.end());
  EXPECT_NE(std::find(words.begin(), words.end(), "pmqa"), words.end());
  EXPECT_NE(std::find(words.begin(), words.end(), "ระบบ"), words.end());
  for (const std::string& w : words) {
    EXPECT_EQ(w.find_first_of(" ,()!-"), std::string::npos) << w;
  }
  EXPECT_TRUE(ThaiWords("").empty());
  EXPECT_TRUE(ThaiWords(" ... ").empty());
  // Bytes that are not UTF-8 do not stop it: what decodes is still split.
  EXPECT_FALSE(ThaiWords(std::string("รายงาน\xff\xfe")).empty());
}

}  // namespace
}  // namespace esar
