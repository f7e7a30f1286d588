#include "common/text.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace esar {
namespace {

// ShortestDecimalTo writes whole numbers its own way: the text is fmt's all the same, which audit
// digests recorded before depend on. Whole numbers at and around its bound, negative ones, -0,
// and numbers with fractions of every size.
TEST(ShortestDecimalTest, WritesWhatFmtWritesForEveryKindOfNumber) {
  std::vector<double> numbers = {0.0,
                                 -0.0,
                                 1.0,
                                 -1.0,
                                 100.0,
                                 4.0,
                                 1e15 - 1,
                                 1e15,
                                 -1e15,
                                 1e15 + 1,
                                 1e16,
                                 9007199254740993.0,
                                 1e21,
                                 0.1,
                                 96.763,
                                 1e-5,
                                 2.5e-308,
                                 std::numeric_limits<double>::max(),
                                 std::numeric_limits<double>::denorm_min()};
  std::mt19937_64 random(20261203);
  for (int i = 0; i < 200000; ++i) {
    const double whole = static_cast<double>(
        static_cast<int64_t>(random() % 4'000'000'000'000'000ULL) - 2'000'000'000'000'000LL);
    numbers.push_back(whole / static_cast<double>(int64_t{1} << (random() % 24)));
    numbers.push_back(
        std::ldexp(static_cast<double>(random() >> 11), static_cast<int>(random() % 200) - 100));
  }
  char out[kShortestDecimalMax];
  size_t whole_numbers = 0;
  for (double n : numbers) {
    if (std::trunc(n) == n) ++whole_numbers;
    ASSERT_EQ(std::string(out, ShortestDecimalTo(n, out)), fmt::format("{}", n)) << n;
  }
  EXPECT_GT(whole_numbers, numbers.size() / 10);  // the fast path was taken
}

TEST(FormatDecimalTest, RoundsHalfAwayFromZeroOnTheShortestDecimal) {
  EXPECT_EQ(FormatDecimal(96.7625, 3), "96.763");
  EXPECT_EQ(FormatDecimal(2.675, 2), "2.68");  // the double is 2.67499999..., people mean 2.675
  EXPECT_EQ(FormatDecimal(99.519230769, 2), "99.52");
  EXPECT_EQ(FormatDecimal(-1.005, 2), "-1.01");
  EXPECT_EQ(FormatDecimal(99.995, 2), "100.00");
  EXPECT_EQ(FormatDecimal(0.0004, 3), "0.000");
  EXPECT_EQ(FormatDecimal(-0.0004, 3), "0.000");  // no "-0.000"
  EXPECT_EQ(FormatDecimal(472.35, 2), "472.35");
  EXPECT_EQ(FormatDecimal(94.13499999999999, 2), "94.14");  // the sum of 94.135's parts
  EXPECT_EQ(FormatDecimal(0.1 + 0.2, 17 - 8), "0.300000000");
  EXPECT_EQ(FormatDecimal(6, 0), "6");
  EXPECT_EQ(FormatDecimal(9.5, 0), "10");
  EXPECT_EQ(FormatDecimal(1e15, 2), "1000000000000000.00");
  EXPECT_EQ(FormatDecimal(std::numeric_limits<double>::quiet_NaN(), 2), "-");
}

TEST(Utf8Test, AcceptsThaiAndRefusesBrokenSequences) {
  EXPECT_TRUE(IsValidUtf8("สำนักงานคณะกรรมการกฤษฎีกา"));
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_FALSE(IsValidUtf8("\xE0\xB8"));          // truncated Thai letter
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("abc\xFF"));
}

TEST(LocalizedTextTest, FallsBackToTheOtherLanguage) {
  LocalizedText t{"ร้อยละ", ""};
  EXPECT_EQ(t.Pick(Lang::kEnglish), "ร้อยละ");
  LocalizedText u{"", "percent"};
  EXPECT_EQ(u.Pick(Lang::kThai), "percent");
}

}  // namespace
}  // namespace esar
