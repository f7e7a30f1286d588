#include "web/view.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "web/page_support.h"

namespace esar::web {
namespace {

using nlohmann::json;

const Views& TheViews() {
  static const auto views = [] {
    auto loaded = Views::Load();
    EXPECT_TRUE(loaded.ok()) << loaded.status().message_en();
    return std::move(*loaded);
  }();
  return *views;
}

TEST(Views, EveryTemplateAndTheCatalogLoad) {
  const Views& views = TheViews();
  EXPECT_EQ(views.Message("nav.login", Lang::kThai), "เข้าสู่ระบบ");
  EXPECT_EQ(views.Message("nav.login", Lang::kEnglish), "Log in");
  EXPECT_EQ(views.Message("no.such.key", Lang::kThai), "no.such.key");
}

TEST(Views, EscapesWhatItIsGiven) {
  const std::string html = TheViews().Render(
      "error", {{"message", "<script>alert('x')</script> & \"q\""}, {"status", 400}}, Lang::kThai);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&amp;"), std::string::npos);
  EXPECT_NE(html.find("ทำรายการไม่สำเร็จ"), std::string::npos);  // {{t.error.title}}
}

TEST(Views, ListsComeWithHasAndNullHidesASection) {
  const std::string empty = TheViews().Render(
      "agency_home", {{"agency", "x"}, {"rounds", json::array()}}, Lang::kEnglish);
  EXPECT_NE(empty.find("No reporting round is open"), std::string::npos);
  const std::string grade = TheViews().Render(
      "agency_results",
      {{"results",
        {{{"period", "p"}, {"total", "81.250"}, {"grade", nullptr}, {"kpis", json::array()}}}}},
      Lang::kEnglish);
  EXPECT_NE(grade.find("81.250"), std::string::npos);
  EXPECT_EQ(grade.find(" · null"), std::string::npos);
}

// Partials are written into their pages at load and parsed pages are kept and lent out: the same
// page rendered again, and by several threads at once, gives the same HTML, each partial filled
// from its own section's values.
TEST(Views, PartialsRenderInTheirSectionsAgainAndFromSeveralThreads) {
  const json model = {
      {"from", {{"id", "audit-from"}, {"name", "from"}, {"label", "From"}, {"value", "1/10/2566"}}},
      {"to", {{"id", "audit-to"}, {"name", "to"}, {"label", "To"}, {"value", ""}}},
      {"kinds", json::array()}};
  const std::string first = TheViews().Render("admin_audit", model, Lang::kEnglish);
  EXPECT_NE(first.find("<label for=\"audit-from\">From</label><input id=\"audit-from\" "
                       "name=\"from\" type=\"text\" class=\"date\""),
            std::string::npos);
  EXPECT_NE(first.find("value=\"1/10/2566\""), std::string::npos);
  EXPECT_NE(first.find("<label for=\"audit-to\">To</label>"), std::string::npos);
  EXPECT_EQ(first.find("{{"), std::string::npos);
  EXPECT_EQ(TheViews().Render("admin_audit", model, Lang::kEnglish), first);
  std::vector<std::string> rendered(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < rendered.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 20; ++n)
        rendered[i] = TheViews().Render("admin_audit", model, Lang::kEnglish);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& html : rendered) EXPECT_EQ(html, first);
}

TEST(Views, StaticFilesAreCompressedAndAddressedByContent) {
  const StaticAsset* css = TheViews().Asset("esar.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_FALSE(css->gzipped.empty());
  EXPECT_LT(css->gzipped.size(), css->bytes.size());
  EXPECT_EQ(css->url.rfind("/static/esar.css?v=", 0), 0u);
  EXPECT_NE(TheViews().Asset("htmx.min.js"), nullptr);
  EXPECT_NE(TheViews().Asset("chart.umd.min.js"), nullptr);
  EXPECT_EQ(TheViews().Asset("../etc/passwd"), nullptr);
}

TEST(PageSupport, FormsDecodeAndDropBrokenText) {
  auto form = ParseUrlEncoded("a=1&b=%E0%B8%81+x&c=&bad=%FF&&=z");
  EXPECT_EQ(form["a"], "1");
  EXPECT_EQ(form["b"], "ก x");
  EXPECT_EQ(form["c"], "");
  EXPECT_EQ(form.count("bad"), 0u);
  EXPECT_EQ(form.count(""), 0u);
}

TEST(PageSupport, RedirectsStayOnThisSite) {
  EXPECT_EQ(SafeNext("/agency?x=1"), "/agency?x=1");
  EXPECT_EQ(SafeNext("//evil.example/"), "/");
  EXPECT_EQ(SafeNext("/\\evil.example/"), "/");
  EXPECT_EQ(SafeNext("https://evil.example/"), "/");
  EXPECT_EQ(SafeNext("/a\r\nSet-Cookie: x"), "/");
}

TEST(PageSupport, NoHeaderCarriesRawText) {
  auto location = [](const HttpResponse& r) {
    for (const auto& [name, value] : r.headers)
      if (name == "Location") return value;
    return std::string();
  };
  // Whatever a redirect is given, its Location has no CR, LF, space or non-ASCII byte.
  const HttpResponse r = Redirect("/agency/rounds/1/kpis/1\r\nSet-Cookie: x=1?done=saved");
  EXPECT_EQ(location(r), "/agency/rounds/1/kpis/1%0D%0ASet-Cookie:%20x=1?done=saved");
  EXPECT_TRUE(IsSafeHeaderValue(location(r)));
  // An address already encoded passes unchanged; Thai is encoded as UTF-8.
  EXPECT_EQ(location(Redirect("/login?next=%2Fagency%3Fx%3D1")), "/login?next=%2Fagency%3Fx%3D1");
  EXPECT_EQ(location(Redirect("/x/ก#kpi-1")), "/x/%E0%B8%81#kpi-1");
  EXPECT_EQ(EncodeUriReference("a\"<>\\^`{|}\x7f\x01 b"), "a%22%3C%3E%5C%5E%60%7B%7C%7D%7F%01%20b");
  // A download's file name cannot end the header or the parameter.
  EXPECT_EQ(AttachmentDisposition("รายงาน 1.pdf"),
            "attachment; "
            "filename*=UTF-8''%E0%B8%A3%E0%B8%B2%E0%B8%A2%E0%B8%87%E0%B8%B2%E0%B8%99%201.pdf");
  EXPECT_EQ(AttachmentDisposition("a\r\nX: y;\"'.pdf"),
            "attachment; filename*=UTF-8''a%0D%0AX%3A%20y%3B%22%27.pdf");
  EXPECT_TRUE(IsSafeHeaderValue(AttachmentDisposition(std::string("\0\r\n\xff", 4))));
  EXPECT_FALSE(IsSafeHeaderValue("a\r\nb"));
  EXPECT_FALSE(IsSafeHeaderValue(std::string("a\0b", 3)));
  EXPECT_FALSE(IsSafeHeaderValue("ก"));
  EXPECT_TRUE(IsSafeHeaderValue("text/html; charset=utf-8\t"));
}

TEST(PageSupport, LoopbackAddressesAreTold) {
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(IsLoopbackAddress(yes)) << yes;
  for (const char* no :
       {"", "10.0.0.1", "128.0.0.1", "127.0.0", "127.0.0.1.5", "127..0.1", "127.0.0.1000",
        "127.0.0.x", "::2", "::ffff:10.0.0.1", "1127.0.0.1", "fe80::1", "0:0:0:0:0:0:0:2"})
    EXPECT_FALSE(IsLoopbackAddress(no)) << no;
}

TEST(PageSupport, NumbersHaveThousandsSeparatorsAndTheFrameworksDecimals) {
  EXPECT_EQ(Number(1234567.891, 2), "1,234,567.89");
  EXPECT_EQ(Number(-1234.5, 1), "-1,234.5");
  EXPECT_EQ(Number(81.25, 3), "81.250");
  EXPECT_EQ(Number(999, 0), "999");
}

TEST(PageSupport, MultipartFormsKeepFilesAndNames) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n"
      "Content-Type: text/csv\r\n\r\ncode,name_th\r\nX,ก\r\n--b--\r\n";
  auto form = ParseMultipartForm(body, "multipart/form-data; boundary=b");
  ASSERT_TRUE(form.ok()) << form.status().message_en();
  EXPECT_EQ((*form)["csrf"], "tok");
  EXPECT_EQ((*form)["file"], "code,name_th\r\nX,ก");
  EXPECT_EQ((*form)["file.name"], "a.csv");
  EXPECT_FALSE(ParseMultipartForm(body, "text/plain").ok());
}

// A file's bytes are kept as sent (an XLSX is a ZIP, not text); a text field must be UTF-8.
TEST(PageSupport, MultipartFilesMayBeBinaryTextFieldsMayNot) {
  const std::string zip("PK\x03\x04\xff\xfe\x00\x80", 8);
  const std::string file_part =
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.xlsx\"\r\n\r\n" + zip +
      "\r\n--b--\r\n";
  auto form = ParseMultipartForm(file_part, "multipart/form-data; boundary=b");
  ASSERT_TRUE(form.ok()) << form.status().message_en();
  EXPECT_EQ((*form)["file"], zip);
  const std::string text_part =
      "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n" + zip + "\r\n--b--\r\n";
  auto refused = ParseMultipartForm(text_part, "multipart/form-data; boundary=b");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message_en().find("\"note\" is not UTF-8"), std::string::npos)
      << refused.status().message_en();
}

}  // namespace
}  // namespace esar::web
