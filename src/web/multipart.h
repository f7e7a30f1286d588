#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace esar::web {

// The boundary parameter of a Content-Type header such as
// `multipart/form-data; boundary="----WebKitFormBoundaryX"`. The type and the parameter name
// match case-insensitively; the value may be a token or a quoted string. Fails (InvalidInput,
// in Thai and English) when the type is not multipart/form-data, there is no boundary, or the
// boundary is empty, longer than 70 characters, or holds a character RFC 2046 does not allow.
Result<std::string> BoundaryFromContentType(std::string_view content_type);

// What the headers of one part of a multipart/form-data body say.
struct PartHeaders {
  // The `name` parameter of Content-Disposition: the form field. Raw bytes as sent.
  std::string name;
  // The file name the browser sent: `filename*` (RFC 5987, UTF-8) when present and well-formed,
  // otherwise `filename`. Raw and untrusted (may hold a path): pass it through CleanFileName
  // before showing or storing it. Empty when the part is not a file.
  std::string filename;
  // True when the part carried `filename` or `filename*` at all, even an empty one (a file
  // input left empty sends filename=""), i.e. the part is a file rather than a text field.
  bool has_filename = false;
  // The part's Content-Type value, trimmed, or "" when the part has none.
  std::string content_type;
  // Every header line of the part as received, without its CRLF.
  std::vector<std::string> header_lines;
};

// A streaming multipart/form-data parser (RFC 7578 over RFC 2046): the body is fed in chunks
// of any size, down to one byte, and part data is handed to a Handler as it arrives, so an
// upload of any size needs only O(boundary length + one part's headers) bytes of memory.
//
// Strict about the framing: header lines end with CRLF, a boundary is followed by CRLF (after
// optional spaces or tabs) or by "--" when it closes the body, header lines are `Name: value`
// (no obsolete line folding), every part has exactly one `Content-Disposition: form-data` with a
// `name`. Limits: kMaxHeaderBytes of headers per part, kMaxParts parts. The preamble before the
// first boundary and the epilogue after the closing one are ignored. Any violation gives
// Status InvalidInput in Thai and English naming the part; the total size of the body is the
// caller's to limit.
//
// Not thread-safe; one parser per body. After the first error every call returns that error.
class MultipartParser {
 public:
  // Receives the parts in order. For each part: OnPartBegin once, OnPartData zero or more times
  // with consecutive, non-empty pieces of the part's bytes (chunking unrelated to how the body
  // was fed), then OnPartEnd once the part's closing boundary has been seen. A part cut off by
  // an error gets no OnPartEnd. A non-ok Status from any method stops the parser: Feed returns
  // that Status unchanged and the parser calls the handler no more.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual Status OnPartBegin(const PartHeaders& headers) = 0;
    virtual Status OnPartData(std::string_view bytes) = 0;
    virtual Status OnPartEnd() = 0;
  };

  static constexpr size_t kMaxHeaderBytes = 16 * 1024;  // per part, counting each line's CRLF
  static constexpr int kMaxParts = 100;

  // `boundary` as BoundaryFromContentType returns it (without the leading "--"). `handler` must
  // outlive the parser. An invalid boundary makes the first Feed or Finish fail.
  MultipartParser(std::string boundary, Handler& handler);
  MultipartParser(const MultipartParser&) = delete;
  MultipartParser& operator=(const MultipartParser&) = delete;

  // Parses the next `chunk` of the body, calling the handler for what it completes. Bytes that
  // might begin a boundary are held back until the next call decides. Returns the first
  // framing error or handler error; ok otherwise (including for anything after the closing
  // boundary, which is ignored).
  Status Feed(std::string_view chunk);

  // Call after the last chunk. Ok when the closing boundary has been seen; otherwise
  // InvalidInput (the body was cut short or held no boundary at all), or the earlier error.
  Status Finish();

  // Parts begun so far.
  int part_count() const { return part_count_; }
  // Bytes held between calls: less than the delimiter (boundary + 4) in a part's data, at most
  // kMaxHeaderBytes + 1 in its headers. For tests and monitoring.
  size_t buffered_bytes() const { return buffer_.size(); }

 private:
  enum class State { kPreamble, kAfterBoundary, kHeaders, kBody, kEpilogue, kFailed };

  Status Drain();
  Status ScanData(std::string_view data, size_t* consumed, bool* found);
  Status HeaderLine(std::string_view line);
  Status EndOfHeaders();
  size_t StepSize(std::string_view chunk) const;
  Status Fail(Status error);
  Status Malformed(const std::string& th, const std::string& en) const;

  std::string delimiter_;  // CRLF "--" boundary
  Handler& handler_;
  State state_ = State::kPreamble;
  Status error_;        // the first error, returned again by every later call
  std::string buffer_;  // unconsumed input; bounded, see Drain()
  bool saw_padding_ = false;
  int part_count_ = 0;
  size_t header_bytes_ = 0;
  PartHeaders current_;
};

// A safe name for showing or storing an uploaded file: the last path component (split on '/'
// and '\'), without control characters (U+0000-001F, U+007F-009F), bidirectional override
// characters (U+202A-202E, U+2066-2069), the characters <>:"|?* or bytes that are not valid
// UTF-8; leading dots and spaces and trailing dots and spaces removed; capped at 200 bytes on a
// character boundary that does not separate a combining mark from its letter, keeping a short
// extension (".pdf": a dot and up to 15 ASCII letters or digits) when the stem is cut. "file"
// when nothing is left. Thai names pass intact.
std::string CleanFileName(std::string_view name);

}  // namespace esar::web
