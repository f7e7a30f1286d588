#pragma once

// Data catalogs in the server (issue 11 §3): an agency's reporter uploads its data catalog (the
// CKAN package_search JSON export or a CSV of CKAN fields, formats/catalog.h) for a KPI whose
// variables the catalog fills (the framework's `catalog` rule) in a round. esar checks every
// dataset against the 14 mandatory metadata items, keeps each dataset's faults, and saves the
// counts (datasets, complete, share complete) as a new draft of the KPI's report, so they enter
// scoring like typed values and go through approval, submission and review as any report does.
// The file is read as a stream (twice: once to check it, once to keep its datasets), so a
// catalog of any length within the upload limit is held one dataset at a time. A malformed
// file is refused whole with its line (and JSON path), and nothing is stored. Uploads are data
// uploads of kind "catalog" (data_files.h); a new one replaces the last, both kept.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "formats/catalog.h"
#include "service/actor.h"
#include "service/data_files.h"
#include "storage/database.h"

namespace esar::service {

// What one catalog upload may come to (the upload size limit, --max-upload-mb, bounds the file).
struct CatalogOptions {
  int64_t max_file_bytes = 20 << 20;
  formats::CatalogLimits limits;  // per dataset: bytes, JSON depth
};

// The outcome of an accepted upload.
struct CatalogUploadOutcome {
  DataUpload upload;
  // True when the file was that of the current upload and its draft still stood: nothing new
  // was stored, `upload` is that upload.
  bool unchanged = false;
};

// Which datasets a list shows: "" all, "complete", "incomplete"; in which order: "" file
// order, "title" Thai dictionary order of the titles (then file order).
struct CatalogDatasetFilter {
  std::string status;
  std::string sort;
  int64_t limit = 50;  // 1 - 500
  int64_t offset = 0;
};

struct CatalogDatasetPage {
  std::vector<formats::CatalogDataset> items;  // faults rebuilt from the codes kept
  int64_t total = 0;                           // matching, over all pages
};

class Catalogs {
 public:
  Catalogs(storage::Database& db, const Clock& clock, CatalogOptions options = {})
      : db_(db), clock_(clock), options_(options) {}

  // Uploads the data catalog of `kpi` for `agency` in round `round_id`: `files` holds exactly
  // one file of role "catalog" (JSON or CSV, told apart by content). Reporters of the agency
  // only (Denied); the KPI must have a catalog rule naming at least one variable and be
  // reportable by the agency in the round, the report new, a draft, approved or returned
  // (kConflict when submitted or accepted) and reporting open for the agency (kConflict). A
  // malformed catalog is kInvalidInput naming the line (and JSON path) in Thai and English, as
  // is a catalog without any dataset or a file over the size limit; nothing is kept then.
  // Otherwise the file is kept, every dataset's faults stored, and the counts saved as a new
  // draft revision (other values and the texts kept), in one transaction. Uploading the file of
  // the current upload again while its draft stands stores nothing (`unchanged`).
  Result<CatalogUploadOutcome> Upload(const Actor& actor, int64_t round_id,
                                      const std::string& agency, const std::string& kpi,
                                      const std::vector<PendingFile>& files);

  // A page of upload `upload_id`'s datasets matching `filter`, in its order; for those who may
  // see the upload (DataFiles::Get) and only for a catalog upload (kNotFound otherwise).
  // kInvalidInput for an unknown status or order, or a bad page.
  Result<CatalogDatasetPage> Datasets(const Actor& actor, int64_t upload_id,
                                      const CatalogDatasetFilter& filter);
  // Every dataset of the upload matching `status` (as the filter), in file order, one at a time
  // (a catalog is never held whole): for downloads. As Datasets allows.
  Status EachDataset(const Actor& actor, int64_t upload_id, const std::string& status,
                     const std::function<Status(const formats::CatalogDataset&)>& each);

  // Upload `id` when `actor` may see it and it is a data catalog; kNotFound otherwise.
  Result<DataUpload> Get(const Actor& actor, int64_t id);

 private:
  storage::Database& db_;
  const Clock& clock_;
  CatalogOptions options_;
};

}  // namespace esar::service
