#pragma once

// Checking an agency's data catalog against the 14 mandatory metadata items of the Thai
// government data catalog standard (issue 11 §3): the CKAN `package_search` JSON export
// (`result.results`) or a CSV with one dataset per row and CKAN field names as headers. Streaming:
// one dataset is held at a time, so a catalog of any length is checked in bounded memory.
// The items, their Thai labels and allowed values are our own table (catalog.cpp), derived from
// the ckanext-thai_gdc 2.1.0 scheming schema (docs/formats.md §15 says what was taken and why).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/text.h"
#include "formats/case_log.h"  // ByteSource

namespace esar::formats {

// One mandatory metadata item.
struct CatalogField {
  std::string name;      // the CKAN field name ("maintainer_email")
  std::string label_th;  // "อีเมลผู้ติดต่อ"
  std::string label_en;  // "Contact Email"
  bool multiple = false;              // several values allowed (objective, data_format)
  std::vector<std::string> choices;   // allowed values; empty = free text
  std::string other_choice;           // the value meaning "other" ("อื่นๆ"), "" when none
  std::string other_field;            // the field that must then be filled ("license_id_other")
  bool email = false;                 // must be a well-formed e-mail address
};

// The 14 items in the standard's order: the schema's 13 required fields, then owner_org.
const std::vector<CatalogField>& CatalogFields();

enum class CatalogFaultKind {
  kMissing,       // absent or empty
  kNotAChoice,    // a value outside the allowed values
  kOtherMissing,  // "other" chosen but the `..._other` field empty
  kBadEmail,      // not a well-formed e-mail address
  kNotText,       // a JSON value of the wrong type (an object where text is expected)
};

// What is wrong with one item of one dataset.
struct CatalogFault {
  const CatalogField* field = nullptr;
  CatalogFaultKind kind = CatalogFaultKind::kMissing;
  std::string value;  // the offending value (shortened), "" for kMissing

  // "อีเมลผู้ติดต่อ (maintainer_email): "abc" ไม่ใช่ที่อยู่อีเมลที่ถูกต้อง" / English likewise.
  std::string Text(Lang lang) const;
};

// One dataset of the catalog and its faults; complete when there are none.
struct CatalogDataset {
  int64_t index = 0;     // 0-based position in the catalog
  int64_t line = 0;      // the line where it starts (CSV: its row; JSON: its opening brace)
  std::string name;      // CKAN `name` (URL slug), may be ""
  std::string title;     // `title`, may be ""
  std::vector<CatalogFault> faults;
  bool complete() const { return faults.empty(); }
};

// The catalog's counts: the variables a framework can use.
struct CatalogSummary {
  int64_t datasets = 0;
  int64_t complete = 0;
  // complete ÷ datasets × 100, unrounded; 0 for an empty catalog.
  double CompletePercent() const;
};

struct CatalogLimits {
  size_t max_dataset_bytes = 1 << 20;  // one dataset's JSON object or one CSV record
  int max_depth = 32;                  // JSON nesting
  size_t buffer_bytes = 1 << 16;       // read block
};

// Called once per dataset, in file order, while the file is read; the dataset lives only during
// the call. Datasets already passed on stay passed on when a later part turns out malformed, so a
// caller that stores them must do so in a transaction it drops on error.
using CatalogVisitor = std::function<void(const CatalogDataset&)>;

// Reads the catalog from `source` (named `file` in messages): JSON when its first byte after an
// optional UTF-8 byte order mark and white space is '{', else CSV. Checks every dataset and hands
// it to `visit` (if given). Returns the counts, or InvalidInput naming the line (and, for JSON,
// the path) in Thai and English when the file is malformed: broken JSON or UTF-8, no
// `result.results` array, a dataset that is not an object, nesting deeper than max_depth, a
// dataset or CSV record larger than max_dataset_bytes, a CSV quote left open, a CSV without
// any of the 14 fields in its header, or a row with more fields than the header. An IoError when
// the source cannot be read.
Result<CatalogSummary> CheckCatalog(ByteSource& source, const std::string& file,
                                    const CatalogVisitor& visit = nullptr,
                                    const CatalogLimits& limits = {});

// The code of a fault kind in JSON and CSV: missing, not_a_choice, other_missing, bad_email,
// not_text.
const char* CatalogFaultCode(CatalogFaultKind kind);
// The fault kind CatalogFaultCode gives `code` for, or nullopt (reading faults kept as codes).
std::optional<CatalogFaultKind> CatalogFaultKindOf(std::string_view code);
// The item among CatalogFields() with this CKAN field name, or nullptr.
const CatalogField* FindCatalogField(std::string_view name);

// One dataset as a JSON object: {"index":0,"line":3,"name":…,"title":…,"complete":false,
// "faults":[{"field":"maintainer_email","kind":"bad_email","value":"x@","th":…,"en":…}]}.
std::string CatalogDatasetJson(const CatalogDataset& d);

// The same as a CSV row (with a UTF-8 BOM'd header from CatalogCsvHeader), the faults joined by
// "; " in `lang`, for downloads.
std::string CatalogCsvHeader(Lang lang);
std::string CatalogDatasetCsv(const CatalogDataset& d, Lang lang);

// True when `s` is a well-formed e-mail address: one '@', a local part of printable ASCII without
// spaces, a domain of dot-separated labels (letters, digits, '-', not at a label's ends) whose
// last label is at least two letters.
bool IsWellFormedEmail(std::string_view s);

}  // namespace esar::formats
