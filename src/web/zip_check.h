#pragma once

// Office files (DOCX, XLSX, and any other ZIP container) are checked before they are kept: a
// small file can expand to an absurd size when opened (a "zip bomb": 510 KB of DOCX holding
// 500 MB of zeros), and whoever opens the evidence later (an evaluator's office suite, an
// indexer) pays for it.

#include <cstdint>
#include <string>

#include "common/status.h"

namespace esar::web {

struct ZipBounds {
  int64_t max_uncompressed_bytes = 100 << 20;  // all entries together
  int64_t max_ratio = 100;            // uncompressed total : file size, above ratio_floor_bytes
  int64_t ratio_floor_bytes = 1 << 20;  // below this total, no ratio is absurd
  int64_t max_entries = 10'000;
};

// True when the file at `path` starts like a ZIP archive ("PK\3\4").
bool LooksLikeZip(const std::string& path);

// Checks the ZIP archive at `path` against `bounds`. Reads the central directory (ZIP64 too),
// adds up the uncompressed sizes it declares, then inflates every entry counting what comes out,
// so an archive that declares less than it holds is caught too (inflation stops at the declared
// size, never beyond the bound). Returns Ok, or InvalidInput in Thai and English: too large
// when opened, too compressed, too many entries, an encrypted entry or one compressed by another
// method than stored/deflate, more than 64 KB of data the directory does not list (a streaming
// reader would find it), or a damaged archive. Reads the file about once, never more.
Status CheckZipExpansion(const std::string& path, const ZipBounds& bounds);

}  // namespace esar::web
