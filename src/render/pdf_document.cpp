#include "render/pdf_document.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <unordered_map>

namespace esar::render {

namespace {

constexpr double kPageWidth = 595.276;  // A4 in points
constexpr double kPageHeight = 841.890;
constexpr double kMm = 72.0 / 25.4;
constexpr double kTop = 25 * kMm;
constexpr double kBottom = 20 * kMm;
constexpr double kLeft = 30 * kMm;
constexpr double kRight = 20 * kMm;
constexpr double kCellPadX = 4;
constexpr double kCellPadY = 2;

// cairo's stream callback: the PDF's bytes appended to a string.
cairo_status_t AppendBytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// A PDF date (ISO 8601, UTC) for cairo's metadata.
std::string IsoDate(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

// The layouts already made on this thread, kept from one document to the next. Shaping and
// breaking text is about half of a PDF's cost (perf on `esar report agency --all`: pango's
// shaping and line breaking ~40%, the score's data ~6%), and a round's reports repeat most of
// their texts: labels, level names, targets, the framework's KPI texts, "หน้า 3 จาก 36". A
// layout is the same whoever draws it, so the second report draws the first one's.
//
// Bounded: two generations, each of at most kMaxEntries layouts and kMaxTextBytes of text;
// when the newer is full, the older is dropped (a document still drawing one of its layouts
// holds its own reference). The context is the thread's too: pango's default font map is per
// thread, and a layout belongs to the context it was made in.
class LayoutCache {
 public:
  static constexpr size_t kMaxEntries = kLayoutCacheGeneration;
  static constexpr size_t kMaxTextBytes = kLayoutCacheGenerationBytes;

  LayoutCache() {
    context_ = pango_font_map_create_context(pango_cairo_font_map_get_default());
    // Points as pango's units (a PDF page is measured in points), and unhinted metrics so
    // that the widths measured are those drawn at any zoom.
    pango_cairo_context_set_resolution(context_, 72);
    cairo_font_options_t* font_options = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(font_options, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(font_options, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(context_, font_options);
    cairo_font_options_destroy(font_options);
  }
  ~LayoutCache() {
    Clear(newer_);
    Clear(older_);
    g_object_unref(context_);
  }
  LayoutCache(const LayoutCache&) = delete;
  LayoutCache& operator=(const LayoutCache&) = delete;

  PangoContext* context() const { return context_; }

  // The layout kept under `key` (a reference the caller owns), or nullptr.
  PangoLayout* Find(const std::string& key) {
    if (auto it = newer_.map.find(key); it != newer_.map.end()) {
      ++hits_;
      return static_cast<PangoLayout*>(g_object_ref(it->second));
    }
    auto it = older_.map.find(key);
    if (it == older_.map.end()) {
      ++misses_;
      return nullptr;
    }
    ++hits_;
    // Still in use: moved to the newer generation, so that it outlives the older one.
    PangoLayout* layout = it->second;
    older_.text_bytes -= key.size();
    older_.map.erase(it);
    Keep(key, layout);
    return static_cast<PangoLayout*>(g_object_ref(layout));
  }

  // Keeps `layout` under `key`, taking over one reference to it.
  void Put(const std::string& key, PangoLayout* layout) { Keep(key, layout); }

  LayoutCacheStats Stats() const {
    return {newer_.map.size() + older_.map.size(), newer_.text_bytes + older_.text_bytes, hits_,
            misses_};
  }

 private:
  struct Generation {
    std::unordered_map<std::string, PangoLayout*> map;
    size_t text_bytes = 0;
  };

  static void Clear(Generation& g) {
    for (auto& [key, layout] : g.map) g_object_unref(layout);
    g.map.clear();
    g.text_bytes = 0;
  }

  void Keep(const std::string& key, PangoLayout* layout) {
    if (newer_.map.size() >= kMaxEntries || newer_.text_bytes + key.size() > kMaxTextBytes) {
      Clear(older_);
      std::swap(older_, newer_);
    }
    auto [it, added] = newer_.map.emplace(key, layout);
    if (!added) {  // cannot happen (Find looked first); keep the references balanced anyway
      g_object_unref(layout);
      return;
    }
    newer_.text_bytes += key.size();
  }

  PangoContext* context_ = nullptr;
  Generation newer_, older_;
  uint64_t hits_ = 0, misses_ = 0;
};

LayoutCache& ThreadLayouts() {
  thread_local LayoutCache cache;
  return cache;
}

}  // namespace

// What is laid out: each block's height is known when it is added; where it lands is decided
// by Finish.
struct Block {
  double height = 0;
  bool keep_with_next = false;  // a heading: never the last thing on a page
  bool page_break = false;
  bool space = false;  // dropped at the top of a page
  int header = -1;     // a table row: the block of its table's header, repeated after a break
  std::function<void(cairo_t*, double x, double y)> draw;
};

struct PdfDocument::Impl {
  DocumentOptions options;
  LayoutCache& cache = ThreadLayouts();  // the thread's; a document never changes thread
  std::vector<PangoLayout*> layouts;  // our references, alive until the blocks are drawn
  std::vector<Block> blocks;

  explicit Impl(DocumentOptions o) : options(std::move(o)) {}
  ~Impl() {
    for (PangoLayout* l : layouts) g_object_unref(l);
  }

  double Width() const { return kPageWidth - kLeft - kRight; }

  // A layout of `text` wrapped at `width` points (between words: pango asks libthai where Thai
  // words end); the thread's copy when an earlier document made the same one.
  PangoLayout* Layout(const std::string& text, double size_pt, bool bold, double width,
                      TextStyle::Align align) {
    const int pango_size = static_cast<int>(size_pt * PANGO_SCALE);
    const int pango_width = static_cast<int>(width * PANGO_SCALE);
    std::string key = options.font_family;
    key += '\x1f';
    key += std::to_string(pango_size) + (bold ? "b" : "r") + std::to_string(pango_width) +
           static_cast<char>('0' + static_cast<int>(align));
    key += '\x1f';
    key += text;
    if (PangoLayout* kept = cache.Find(key)) {
      layouts.push_back(kept);
      return kept;
    }
    PangoLayout* layout = pango_layout_new(cache.context());
    PangoFontDescription* font = pango_font_description_new();
    pango_font_description_set_family(font, options.font_family.c_str());
    pango_font_description_set_size(font, pango_size);
    pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_width(layout, pango_width);
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(layout, align == TextStyle::Align::kCenter  ? PANGO_ALIGN_CENTER
                                       : align == TextStyle::Align::kRight ? PANGO_ALIGN_RIGHT
                                                                           : PANGO_ALIGN_LEFT);
    pango_layout_set_text(layout, text.data(), static_cast<int>(text.size()));
    cache.Put(key, static_cast<PangoLayout*>(g_object_ref(layout)));
    layouts.push_back(layout);
    return layout;
  }

  static double HeightOf(PangoLayout* layout) {
    int w = 0, h = 0;
    pango_layout_get_size(layout, &w, &h);
    return static_cast<double>(h) / PANGO_SCALE;
  }

  // One block per line of `layout`, so that a paragraph may continue on the next page.
  void Lines(PangoLayout* layout, double indent, double gray, bool keep_with_next) {
    PangoLayoutIter* iter = pango_layout_get_iter(layout);
    do {
      int y0 = 0, y1 = 0;
      pango_layout_iter_get_line_yrange(iter, &y0, &y1);
      const int baseline = pango_layout_iter_get_baseline(iter);
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(iter, nullptr, &logical);
      PangoLayoutLine* line = pango_layout_iter_get_line_readonly(iter);
      const double x_offset = static_cast<double>(logical.x) / PANGO_SCALE;
      const double base = static_cast<double>(baseline - y0) / PANGO_SCALE;
      Block b;
      b.height = static_cast<double>(y1 - y0) / PANGO_SCALE;
      b.keep_with_next = keep_with_next;
      b.draw = [line, indent, x_offset, base, gray](cairo_t* cr, double x, double y) {
        cairo_set_source_rgb(cr, gray, gray, gray);
        cairo_move_to(cr, x + indent + x_offset, y + base);
        pango_cairo_show_layout_line(cr, line);
      };
      blocks.push_back(std::move(b));
    } while (pango_layout_iter_next_line(iter));
    pango_layout_iter_free(iter);
  }
};

LayoutCacheStats ThreadLayoutCacheStats() { return ThreadLayouts().Stats(); }

PdfDocument::PdfDocument(DocumentOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

PdfDocument::~PdfDocument() = default;

double PdfDocument::text_width() const { return impl_->Width(); }

void PdfDocument::Heading(const std::string& text, int level) {
  const double size = level <= 1 ? 22 : level == 2 ? 18 : 16;
  Space(level <= 1 ? 4 : 3);
  PangoLayout* layout = impl_->Layout(text, size, true, impl_->Width(), TextStyle::Align::kLeft);
  impl_->Lines(layout, 0, 0, true);
}

void PdfDocument::Paragraph(const std::string& text, const TextStyle& style) {
  if (text.empty()) return;
  const double indent = style.indent_mm * kMm;
  PangoLayout* layout =
      impl_->Layout(text, style.size_pt, style.bold, impl_->Width() - indent, style.align);
  impl_->Lines(layout, indent, style.gray, false);
}

void PdfDocument::List(const std::vector<std::string>& items, bool numbered, double size_pt) {
  int n = 0;
  for (const std::string& item : items) {
    ++n;
    const std::string mark = numbered ? std::to_string(n) + "." : "•";
    const double indent = 7 * kMm;
    PangoLayout* marker =
        impl_->Layout(mark, size_pt, false, indent, TextStyle::Align::kLeft);
    PangoLayout* body =
        impl_->Layout(item, size_pt, false, impl_->Width() - indent, TextStyle::Align::kLeft);
    const size_t first = impl_->blocks.size();
    impl_->Lines(body, indent, 0, false);
    PangoLayoutLine* mark_line = pango_layout_get_line_readonly(marker, 0);
    const double base = static_cast<double>(pango_layout_get_baseline(body)) / PANGO_SCALE;
    auto draw_line = impl_->blocks[first].draw;
    // The marker first: text is read back in the order it is drawn.
    impl_->blocks[first].draw = [draw_line, mark_line, base](cairo_t* cr, double x, double y) {
      cairo_set_source_rgb(cr, 0, 0, 0);
      cairo_move_to(cr, x + 2 * kMm, y + base);
      pango_cairo_show_layout_line(cr, mark_line);
      draw_line(cr, x, y);
    };
  }
}

void PdfDocument::AddTable(const Table& table) {
  double shares = 0;
  for (const TableColumn& c : table.columns) shares += c.share;
  if (table.columns.empty() || shares <= 0) return;
  std::vector<double> widths;
  for (const TableColumn& c : table.columns) widths.push_back(impl_->Width() * c.share / shares);
  // One row as a block: its cells laid out at their column's width, the row as tall as its
  // tallest cell.
  auto row_block = [&](const std::vector<std::string>& cells, bool header, bool bold) {
    std::vector<PangoLayout*> layouts;
    double height = 0;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string text = i < cells.size() ? cells[i] : std::string();
      const bool numeric = table.columns[i].numeric && !header;
      PangoLayout* l = impl_->Layout(text, table.size_pt, header || bold,
                                     std::max(widths[i] - 2 * kCellPadX, 10.0),
                                     numeric ? TextStyle::Align::kRight : TextStyle::Align::kLeft);
      height = std::max(height, Impl::HeightOf(l));
      layouts.push_back(l);
    }
    Block b;
    b.height = height + 2 * kCellPadY;
    const double row_height = b.height;
    b.draw = [layouts, widths, row_height, header](cairo_t* cr, double x, double y) {
      double cx = x;
      for (size_t i = 0; i < layouts.size(); ++i) {
        if (header) {
          cairo_set_source_rgb(cr, 0.90, 0.92, 0.95);
          cairo_rectangle(cr, cx, y, widths[i], row_height);
          cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
        cairo_set_line_width(cr, 0.5);
        cairo_rectangle(cr, cx, y, widths[i], row_height);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, cx + kCellPadX, y + kCellPadY);
        pango_cairo_show_layout(cr, layouts[i]);
        cx += widths[i];
      }
    };
    return b;
  };
  int header_index = -1;
  if (!table.header.empty()) {
    header_index = static_cast<int>(impl_->blocks.size());
    Block h = row_block(table.header, true, false);
    h.keep_with_next = true;
    impl_->blocks.push_back(std::move(h));
  }
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const bool bold = r < table.bold_rows.size() && table.bold_rows[r];
    Block b = row_block(table.rows[r], false, bold);
    b.header = header_index;
    impl_->blocks.push_back(std::move(b));
  }
  Space(3);
}

void PdfDocument::Chart(double height_mm, Drawing draw) {
  Block b;
  b.height = height_mm * kMm;
  const double width = impl_->Width();
  const double height = b.height;
  b.draw = [draw = std::move(draw), width, height](cairo_t* cr, double x, double y) {
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rectangle(cr, 0, 0, width, height);
    cairo_clip(cr);
    draw(cr, width, height);
    cairo_restore(cr);
  };
  impl_->blocks.push_back(std::move(b));
}

void PdfDocument::Space(double mm) {
  Block b;
  b.height = mm * kMm;
  b.space = true;
  impl_->blocks.push_back(std::move(b));
}

void PdfDocument::PageBreak() {
  Block b;
  b.page_break = true;
  impl_->blocks.push_back(std::move(b));
}

Result<std::string> PdfDocument::Finish() {
  std::vector<Block>& blocks = impl_->blocks;
  // Pagination: where each block lands, page by page.
  struct Placed {
    size_t block;
    double y;
  };
  std::vector<std::vector<Placed>> pages(1);
  const double bottom = kPageHeight - kBottom;
  double y = kTop;
  auto new_page = [&]() {
    pages.emplace_back();
    y = kTop;
  };
  for (size_t i = 0; i < blocks.size(); ++i) {
    const Block& b = blocks[i];
    if (b.page_break) {
      if (!pages.back().empty()) new_page();
      continue;
    }
    if (b.space) {
      if (pages.back().empty()) continue;
      if (y + b.height > bottom) {
        new_page();
        continue;
      }
      y += b.height;
      continue;
    }
    double need = b.height;
    if (b.keep_with_next) {
      // A heading (or a table's header) with at least the first line (row) after it.
      for (size_t j = i + 1; j < blocks.size(); ++j) {
        if (blocks[j].space || blocks[j].page_break) continue;
        need += blocks[j].height;
        if (!blocks[j].keep_with_next) break;
      }
    }
    if (y + need > bottom && !pages.back().empty()) {
      new_page();
      if (b.header >= 0) {
        pages.back().push_back({static_cast<size_t>(b.header), y});
        y += blocks[static_cast<size_t>(b.header)].height;
      }
    }
    pages.back().push_back({i, y});
    y += b.height;
  }

  std::string bytes;
  cairo_surface_t* surface =
      cairo_pdf_surface_create_for_stream(AppendBytes, &bytes, kPageWidth, kPageHeight);
  const DocumentOptions& o = impl_->options;
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, o.title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, o.author.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "esar");
  if (o.created_ms > 0) {
    const std::string date = IsoDate(o.created_ms);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, date.c_str());
  }
  cairo_t* cr = cairo_create(surface);
  const int total = static_cast<int>(pages.size());
  for (int p = 0; p < total; ++p) {
    for (const Placed& placed : pages[static_cast<size_t>(p)])
      blocks[placed.block].draw(cr, kLeft, placed.y);
    // "หน้า 2 จาก 5" at the top right, the footer line at the foot.
    const std::string number = o.page_word + " " + std::to_string(p + 1) + " " + o.of_word + " " +
                               std::to_string(total);
    PangoLayout* page_no =
        impl_->Layout(number, 12, false, impl_->Width(), TextStyle::Align::kRight);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_move_to(cr, kLeft, 10 * kMm);
    pango_cairo_show_layout(cr, page_no);
    if (!o.footer.empty()) {
      PangoLayout* footer =
          impl_->Layout(o.footer, 9, false, impl_->Width(), TextStyle::Align::kLeft);
      cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
      cairo_move_to(cr, kLeft, kPageHeight - kBottom + 3 * kMm);
      pango_cairo_show_layout(cr, footer);
    }
    cairo_show_page(cr);
  }
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS)
    return Status::Internal(std::string("cairo could not write the PDF: ") +
                            cairo_status_to_string(status));
  pages_ = total;
  return bytes;
}

}  // namespace esar::render
