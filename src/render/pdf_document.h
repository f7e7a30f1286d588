#pragma once

// A paginated A4 document drawn with pango (shaping, Thai line breaking through libthai) and
// cairo (PDF with the fonts embedded as subsets). Content is added as blocks, measured at once,
// and paginated only when the document is finished, so that every page can say "page n of N":
// cairo cannot go back to a page once it is shown. Paragraphs break between lines; a table row
// is never split, and a table's header row is repeated at the top of a page it continues on.
//
// Not thread-safe: one document per thread (pango's default font map is per thread). Each thread
// keeps the layouts it made, bounded, for its next documents (a round's reports repeat most of
// their texts), so a document must be made and finished on one thread.

#include <cairo.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace esar::render {

// The look of a run of text. Sizes in points; 16 pt is the body of a Thai official document.
struct TextStyle {
  double size_pt = 16;
  bool bold = false;
  double indent_mm = 0;  // from the left margin
  double gray = 0;       // 0 black ... 1 white
  enum class Align { kLeft, kCenter, kRight } align = Align::kLeft;
};

// One column of a table: its share of the text width and whether its cells are figures (right
// aligned).
struct TableColumn {
  double share = 1;
  bool numeric = false;
};

// A table: a header row (may be empty: no header) and rows of cells, one per column.
struct Table {
  std::vector<TableColumn> columns;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> bold_rows;  // by row index; absent or false: regular
  double size_pt = 14;
};

// Draws a chart into the rectangle (0, 0, width, height) in points, origin top left.
using Drawing = std::function<void(cairo_t* cr, double width, double height)>;

struct DocumentOptions {
  std::string title;          // PDF metadata and nothing else
  std::string author;         // PDF metadata
  std::string footer;         // printed small at the foot of every page (the verify line)
  std::string page_word;      // "หน้า" / "Page"
  std::string of_word;        // "จาก" / "of"
  std::string font_family = "Laksaman";
  int64_t created_ms = 0;     // the PDF's creation date (the result's time: reproducible bytes)
};

// What the calling thread's layout cache holds (see PdfDocument): layouts kept (at most
// 2 x kLayoutCacheGeneration) and the bytes of their texts and keys (at most 2 x
// kLayoutCacheGenerationBytes), and since the thread began, layouts found and made.
inline constexpr size_t kLayoutCacheGeneration = 4096;
inline constexpr size_t kLayoutCacheGenerationBytes = size_t{1} << 20;
struct LayoutCacheStats {
  size_t layouts = 0;
  size_t text_bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
};
LayoutCacheStats ThreadLayoutCacheStats();

class PdfDocument {
 public:
  // A4 portrait with the margins of a Thai official document (top 25 mm, left 30 mm, right
  // 20 mm, bottom 20 mm), the page number at the foot.
  explicit PdfDocument(DocumentOptions options);
  ~PdfDocument();
  PdfDocument(const PdfDocument&) = delete;
  PdfDocument& operator=(const PdfDocument&) = delete;

  // A heading (bold, larger); kept on the page of what follows it.
  void Heading(const std::string& text, int level);
  // A paragraph, broken into lines at the text width (Thai between words); it may continue on
  // the next page between two lines. An empty text adds nothing.
  void Paragraph(const std::string& text, const TextStyle& style = {});
  // Items each with a bullet ("•") or their number ("1.") when `numbered`.
  void List(const std::vector<std::string>& items, bool numbered, double size_pt = 16);
  // A table whose rows are never split across pages; its header row repeats on each page.
  void AddTable(const Table& table);
  // A vector drawing `height_mm` tall across the text width, kept whole on one page.
  void Chart(double height_mm, Drawing draw);
  // Vertical space; dropped at the top of a page.
  void Space(double mm);
  // The next block starts a new page.
  void PageBreak();

  // The text width in points, for charts that lay themselves out.
  double text_width() const;

  // Paginates and draws everything. Returns the PDF's bytes, or kInternal when cairo fails
  // (out of memory, a font that cannot be embedded). Call once.
  Result<std::string> Finish();

  // The number of pages Finish produced (0 before).
  int pages() const { return pages_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int pages_ = 0;
};

}  // namespace esar::render
