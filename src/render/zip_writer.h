#pragma once

// A ZIP archive built in memory, its entries stored as they are (PDFs are compressed inside
// already: deflating them again saves little and costs time). For "every agency's report of a
// round as one file". Entry names are UTF-8 (the archive says so, general purpose bit 11).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace esar::render {

class ZipWriter {
 public:
  // Adds an entry `name` holding `bytes`, dated `modified_ms` (Unix milliseconds, shown in
  // UTC). kInvalidInput for an empty name, one that is absolute or climbs out (".."), or when
  // the archive would pass 4 GiB or 65,535 entries (no ZIP64 here).
  Status Add(std::string_view name, std::string_view bytes, int64_t modified_ms);
  // The archive: the entries, then the central directory. Call once, after the last Add.
  std::string Finish();

 private:
  std::string data_;       // local headers and entries
  std::string directory_;  // the central directory's records
  uint32_t entries_ = 0;
};

}  // namespace esar::render
