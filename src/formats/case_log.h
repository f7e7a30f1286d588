#pragma once

// Reading a case log (cases.csv and pauses.csv, issue 11 §1) and judging every case by a KPI's
// case rule, streaming: a log of ten million cases is read in blocks, never held whole. The
// input rules (docs/formats.md, "Case logs") are checked on every row; a log with any bad row is
// refused whole, every bad row named by file, line and column, in Thai and English.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/text.h"
#include "domain/cases.h"
#include "formats/xlsx_reader.h"

namespace esar::formats {

// Where the bytes of one file come from: a file on disk or text in memory (an upload, a test).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; 0 at the end. An IoError when the system refuses.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Starts again from the first byte (the log is read twice when every verdict is wanted).
  virtual Status Rewind() = 0;
};

// The file at `path`; fails (NotFound / IoError, in Thai and English) when it cannot be opened.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);
// `text`, which must outlive the source.
std::unique_ptr<ByteSource> MemorySource(std::string_view text);

// One problem with one row (or the header, or the whole file when `line` is 0).
struct CaseLogProblem {
  std::string file;
  int64_t line = 0;    // 1-based; the header is line 1
  std::string column;  // the column at fault, "" for the whole row
  std::string th;
  std::string en;

  // "cases.csv:12: คอลัมน์ received: ..." or "cases.csv:12: column received: ...".
  std::string ToString(Lang lang) const;
};

struct CaseLogLimits {
  size_t max_problems = 1000;           // problems kept (all are counted); the rest summarised
  size_t max_record_bytes = 64 * 1024;  // one CSV record, quoted line breaks included
  size_t max_case_id_bytes = 200;
  size_t buffer_bytes = 4 << 20;  // read block; at least twice max_record_bytes
};

// The outcome of reading a log: the counts when it was clean, else its problems.
struct CaseLogOutcome {
  domain::CaseTally tally;
  std::vector<CaseLogProblem> problems;  // in file and line order, at most max_problems
  int64_t problem_count = 0;             // all of them
  bool ok() const { return problem_count == 0; }
};

// Called once per case, in file order, with the row and its verdict, only when the whole log
// is clean. The record's views live only during the call.
using CaseVisitor = std::function<void(const domain::CaseRecord&, const domain::CaseVerdict&)>;

struct CaseLogInput {
  std::string cases_name;  // the names used in problems ("cases.csv")
  ByteSource* cases = nullptr;
  std::string pauses_name;
  ByteSource* pauses = nullptr;  // may be null: no pauses
};

// Called once with the final counts of a clean log, before the first CaseVisitor call.
using CaseCountsVisitor = std::function<void(const domain::CaseTally&)>;

// Reads the pauses (held in memory, grouped by case), then streams the cases once, checking
// every input rule and judging each case with `evaluator`. When the log is clean and `visit` is
// given, `counts` (if given) receives the counts, then the cases are read a second time and each
// is handed to `visit` with its verdict, so nothing is passed on before the whole log is known
// to be good. Both sources are read from their start (rewound), so a log can be judged again.
// Duplicate case ids are found from a 64-bit hash of each id and confirmed on the real ids in an
// extra pass (taken only when two hashes are equal). Memory: the pauses, 7 bytes per case, and a
// few MB of buffers. The first reading runs on two threads where there are two cores.
//
// Returns an error Status only when a file cannot be read; bad rows are in the outcome.
Result<CaseLogOutcome> JudgeCaseLog(const CaseLogInput& input,
                                    const domain::CaseEvaluator& evaluator,
                                    const CaseVisitor& visit = nullptr,
                                    const CaseLogLimits& limits = {},
                                    const CaseCountsVisitor& counts = nullptr);

// The problems as lines of text in `lang`, with "... and N more" when some were not kept.
std::string CaseLogProblemsText(const CaseLogOutcome& outcome, Lang lang);

// One case's entry in `esar cases --format json`, in the shape:
// {"case_id":…,"counted":…,"reason":…,"class":…,"standard":…,"due":…,"paused_days":…,
//  "on_time":…,"late_days":…}. `standard` is in English ("3 months") as the issue shows it.
std::string CaseVerdictJson(const domain::CaseRecord& c, const domain::CaseVerdict& v,
                            const domain::CaseEvaluator& evaluator);

// The same fields as a CSV row (header CaseVerdictCsvHeader()), for downloads.
std::string CaseVerdictCsvHeader();
std::string CaseVerdictCsv(const domain::CaseRecord& c, const domain::CaseVerdict& v,
                           const domain::CaseEvaluator& evaluator);

// The CSV text of table `table` ("cases" or "pauses") of a case log given as an XLSX workbook:
// the sheet named `table`, else the first sheet; `sheet_name` (if given) receives its name. Its
// line numbers are the sheet's row numbers (SheetToCsv), so problems name the rows people see.
// Rows shorter than the header (a spreadsheet leaves trailing empty cells out) are padded with
// empty fields, and empty cells past the header dropped. A cell of a date column (`received`,
// `completed`, `start`, `end`) holding a spreadsheet date number, as a cell formatted as a date
// stores it (45306 = 2024-01-15; a fraction is a time of day and is dropped), becomes its ISO
// date; any other text is left for the input rules to judge. kInvalidInput (Thai and English)
// when the workbook has no sheet.
Result<std::string> CaseLogSheetCsv(const XlsxWorkbook& book, std::string_view table,
                                    std::string* sheet_name = nullptr);

}  // namespace esar::formats
