#include "web/request_params.h"

#include <gtest/gtest.h>

#include <string>

namespace esar::web {
namespace {

HttpRequest WithId(const std::string& id) {
  HttpRequest r;
  r.params["id"] = id;
  return r;
}

// Only a whole positive number names an item; anything else is "not found", never 0 or a part.
TEST(RequestParams, APathIdIsAWholePositiveNumber) {
  auto good = PathId(WithId("42"), "id");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  for (const std::string bad : {"0", "-3", "7x", "", " 7", "99999999999999999999", "๗"}) {
    auto id = PathId(WithId(bad), "id");
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_EQ(id.status().code(), StatusCode::kNotFound) << bad;
  }
}

// Absent or empty gives the fallback; outside the range or not a number is refused with a
// message naming the parameter and the range, in Thai and English.
TEST(RequestParams, AQueryNumberIsBoundedAndNamed) {
  HttpRequest r;
  EXPECT_EQ(*QueryNumber(r, "limit", 50, 1, 500), 50);
  r.query["limit"] = "";
  EXPECT_EQ(*QueryNumber(r, "limit", 50, 1, 500), 50);
  r.query["limit"] = "500";
  EXPECT_EQ(*QueryNumber(r, "limit", 50, 1, 500), 500);
  for (const std::string bad : {"0", "501", "1e2", "ten", "-1"}) {
    r.query["limit"] = bad;
    auto v = QueryNumber(r, "limit", 50, 1, 500);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidInput) << bad;
    EXPECT_NE(v.status().message_en().find("\"limit\" must be a whole number from 1 to 500"),
              std::string::npos)
        << v.status().message_en();
    EXPECT_NE(v.status().message_th().find("\"limit\" ต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 500"),
              std::string::npos)
        << v.status().message_th();
  }
  EXPECT_EQ(QueryText(r, "verdict"), "");
  r.query["verdict"] = "late";
  EXPECT_EQ(QueryText(r, "verdict"), "late");
}

// A download name's part keeps letters, digits, '-' and '_' only, and is at most 64 bytes,
// whatever an agency code or a KPI key holds (quotes, CR LF, Thai).
TEST(RequestParams, AFileNamePartCannotBreakItsHeader) {
  EXPECT_EQ(SafeFileName("OPDC-01_a"), "OPDC-01_a");
  EXPECT_EQ(SafeFileName("a\"b\r\nc/d.e"), "a_b__c_d_e");
  const std::string thai = SafeFileName("กพร");
  EXPECT_EQ(thai, std::string(9, '_'));
  EXPECT_EQ(SafeFileName(std::string(1000, 'x')).size(), 64u);
}

}  // namespace
}  // namespace esar::web
