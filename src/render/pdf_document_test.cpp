#include "render/pdf_document.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace esar::render {
namespace {

DocumentOptions Options() {
  DocumentOptions o;
  o.title = "ทดสอบ";
  o.footer = "ตรวจสอบได้ที่ /verify/abc";
  o.page_word = "หน้า";
  o.of_word = "จาก";
  o.created_ms = 1700000000000;  // fixed: the bytes can be compared
  return o;
}

// A document of Thai paragraphs, a list and a table: the texts a report repeats.
std::string Report(const std::string& agency) {
  PdfDocument doc(Options());
  doc.Heading("รายงานผลการประเมิน " + agency, 1);
  doc.Paragraph("ที่ นั้น นี่ ทั้ง มั้ง บุหรี่ · A วันที่ ผลการดำเนินงานตามประเด็นการประเมิน");
  doc.List({"เป้าหมายขั้นต้น (50): 60", "เป้าหมายขั้นสูง (100): 80"}, true);
  Table t;
  t.columns = {{0.6, false}, {0.4, true}};
  t.header = {"ประเด็นการประเมิน", "ผลการดำเนินงาน"};
  for (int i = 0; i < 40; ++i) t.rows.push_back({"ตัวชี้วัด " + std::to_string(i), agency});
  doc.AddTable(t);
  auto bytes = doc.Finish();
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

TEST(PdfDocumentTest, ASecondDocumentDrawsTheFirstOnesLayoutsAndGivesTheSameBytes) {
  // On a thread of its own, so that the cache starts empty whatever ran before.
  std::thread([] {
    const std::string first = Report("กรมทดสอบ");
    const LayoutCacheStats after_first = ThreadLayoutCacheStats();
    EXPECT_GT(after_first.misses, 40u) << "the first document's texts are new";
    EXPECT_GE(after_first.hits, 39u) << "the agency's 40 cells are laid out once";
    const std::string other = Report("สำนักงานอื่น");
    const LayoutCacheStats after_other = ThreadLayoutCacheStats();
    // Everything but the agency's own cells and heading came from the cache.
    EXPECT_GT(after_other.hits - after_first.hits, after_first.misses / 2);
    EXPECT_LE(after_other.misses - after_first.misses, 3u);
    const std::string again = Report("กรมทดสอบ");
    const LayoutCacheStats after_again = ThreadLayoutCacheStats();
    EXPECT_EQ(after_again.misses, after_other.misses) << "every layout of a document seen before is kept";
    ASSERT_GT(first.size(), 1000u);
    EXPECT_EQ(first.substr(0, 5), "%PDF-");
    EXPECT_EQ(again, first) << "a document drawn from kept layouts is the same PDF";
    EXPECT_NE(other, first);
  }).join();
}

TEST(PdfDocumentTest, TheSameTextAtAnotherSizeOrWeightIsLaidOutAgain) {
  std::thread([] {
    PdfDocument doc(Options());
    doc.Paragraph("คะแนนการประเมิน");
    TextStyle small;
    small.size_pt = 14;
    doc.Paragraph("คะแนนการประเมิน", small);
    TextStyle bold;
    bold.bold = true;
    doc.Paragraph("คะแนนการประเมิน", bold);
    doc.Paragraph("คะแนนการประเมิน");  // the first again
    const LayoutCacheStats stats = ThreadLayoutCacheStats();
    EXPECT_EQ(stats.misses, 3u);
    EXPECT_EQ(stats.hits, 1u);
    ASSERT_TRUE(doc.Finish().ok());
  }).join();
}

TEST(PdfDocumentTest, TheCacheStaysBoundedHoweverManyTextsAThreadLaysOut) {
  std::thread([] {
    const size_t texts = 3 * kLayoutCacheGeneration + 17;
    for (size_t done = 0; done < texts;) {
      PdfDocument doc(Options());
      for (int i = 0; i < 500 && done < texts; ++i, ++done)
        doc.Paragraph("ข้อความที่ " + std::to_string(done) + " " + std::string(done % 300, 'x'));
      ASSERT_TRUE(doc.Finish().ok());
    }
    const LayoutCacheStats stats = ThreadLayoutCacheStats();
    EXPECT_GE(stats.misses, texts);
    EXPECT_LE(stats.layouts, 2 * kLayoutCacheGeneration);
    EXPECT_LE(stats.text_bytes, 2 * kLayoutCacheGenerationBytes);
    EXPECT_GT(stats.layouts, 0u);
  }).join();
}

}  // namespace
}  // namespace esar::render
