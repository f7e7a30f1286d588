#include "domain/expression.h"

#include <gtest/gtest.h>

#include <cmath>

namespace esar::domain {
namespace {

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() {
    scope_.AddScalar("s", 0);
    scope_.AddScalar("done", 1);
    scope_.AddList("pillars", {2, 3, 4, 5, 6, 7, 8});
  }
  Result<Expression> Compile(const std::string& text) {
    return Expression::Compile(text, scope_, slots_);
  }

  Scope scope_;
  double slots_[9] = {400, 207, 3, 4, 4, 4, 3, 3, 2};
};

TEST_F(ExpressionTest, EvaluatesOverTheCurrentSlots) {
  auto e = Compile("s * 1.02");
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->Evaluate(), 408);
  slots_[0] = 450;
  EXPECT_DOUBLE_EQ(e->Evaluate(), 459);
  EXPECT_FALSE(e->constant());
  EXPECT_EQ(e->names_used(), std::vector<std::string>{"s"});
}

TEST_F(ExpressionTest, ListNamesStandForAllTheirValues) {
  EXPECT_DOUBLE_EQ(Compile("count_ge(3, pillars)")->Evaluate(), 6);
  EXPECT_DOUBLE_EQ(Compile("count_ge(4, pillars)")->Evaluate(), 3);
  EXPECT_DOUBLE_EQ(Compile("min(pillars)")->Evaluate(), 2);
  EXPECT_DOUBLE_EQ(Compile("count_ge(4, pillars) >= 3 && min(pillars) >= 3")->Evaluate(), 0);
  EXPECT_DOUBLE_EQ(Compile("count_lt(3, pillars)")->Evaluate(), 1);
}

TEST_F(ExpressionTest, ConstantsAreFoldedAndNumbersWithExponentsRead) {
  auto e = Compile("(275 + 445) / 2");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->constant());
  EXPECT_DOUBLE_EQ(e->Evaluate(), 360);
  EXPECT_DOUBLE_EQ(Compile("1.5e2 + s")->Evaluate(), 550);
}

TEST_F(ExpressionTest, RefusesWhatItCannotReadWithAClearMessage) {
  auto unknown = Compile("s + pmqa");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message_en().find("unknown name \"pmqa\""), std::string::npos);
  EXPECT_NE(unknown.status().message_th().find("ไม่รู้จักชื่อ"), std::string::npos);
  EXPECT_FALSE(Compile("s = 5").ok());  // assignment would overwrite data
  EXPECT_FALSE(Compile("s += 5").ok());
  EXPECT_FALSE(Compile("system(1)").ok());  // unknown function
  EXPECT_FALSE(Compile("คะแนน + 1").ok());  // not an ASCII name
  EXPECT_FALSE(Compile("(s + ").ok());
  EXPECT_FALSE(Compile("pillars").ok());           // a list is not one number
  EXPECT_FALSE(Compile("sum(pillars * 2)").ok());  // would double only the last value
  EXPECT_FALSE(Compile("max(1 + pillars)").ok());
  EXPECT_TRUE(Compile("max( pillars ) + count_ge(3,pillars)").ok());
  EXPECT_FALSE(Compile("").ok());
  EXPECT_FALSE(Compile(std::string(5000, '1')).ok());
  EXPECT_TRUE(Compile("s == 400 && done != 0 && s <= 500 && s >= 1").ok());
}

TEST_F(ExpressionTest, DivisionByZeroGivesNaN) {
  slots_[1] = 0;
  EXPECT_TRUE(std::isnan(Compile("s / done")->Evaluate()));
}

}  // namespace
}  // namespace esar::domain
