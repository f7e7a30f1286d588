#pragma once

// HTTP as the handlers see it: plain structs, no networking library. The server (server.cpp,
// the only file that includes Boost.Beast) fills an HttpRequest and sends the HttpResponse.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace esar::web {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // as sent: "/api/v1/rounds/1/submissions?page=2"
  std::string path;                            // the target without its query, percent-decoded
  std::map<std::string, std::string> query;    // percent-decoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::map<std::string, std::string> params;   // from the route pattern: {id} -> "7"
  std::string body;
  std::string remote_address;
  std::string request_id;
  bool tls = false;

  // The header's value, or "" when absent.
  const std::string& Header(const std::string& lower_name) const;
  // The cookie's value, or "" when absent.
  std::string Cookie(const std::string& name) const;
};

// What a body producer says after each call (see HttpResponse::stream).
enum class StreamStep {
  kMore,    // `out` holds the next piece (it may be empty); call again
  kDone,    // `out` holds the last piece (it may be empty): the body is complete
  kFailed,  // the body cannot be finished: the connection is cut, so the client sees an
            // incomplete answer (no last chunk) rather than a complete-looking wrong one
};

// Produces a body piece by piece, appending each to `out` (given empty). Called on a worker
// thread, one call at a time, never after kDone or kFailed; it may read the database (borrow a
// connection per call rather than hold one while the client reads). An exception counts as
// kFailed.
using BodyProducer = std::function<StreamStep(std::string& out)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is `stream`'s pieces instead of `body` (which is ignored), sent as they
  // come with chunked transfer coding (HTTP/1.0: unframed, then the connection closes), so that
  // a large answer is never held whole in memory. The status and headers go first, so the
  // handler must have refused whatever it can refuse before returning one.
  BodyProducer stream;
};

// Receives an upload's body piece by piece, as it arrives; never the whole of it at once.
class UploadSink {
 public:
  virtual ~UploadSink() = default;
  // The next piece of the body; an error stops the upload (the response comes from Finish).
  virtual Status Write(std::string_view bytes) = 0;
  // Called once: after the last piece with Ok, or with the error that stopped the upload (a
  // Write's, the body too large, the connection lost). Returns the response to send.
  virtual HttpResponse Finish(const Status& transfer) = 0;
};

using Handler = std::function<HttpResponse(HttpRequest&)>;
// For uploads: sees the request's headers (its body is empty) and either answers at once
// (refusing it: not logged in, too large, ...) or returns the sink that takes the body.
using UploadStarter =
    std::function<std::variant<HttpResponse, std::unique_ptr<UploadSink>>(HttpRequest&)>;

// Routes by method and path pattern ("/api/v1/submissions/{id}/approve").
class Router {
 public:
  void Add(const std::string& method, const std::string& pattern, Handler handler);
  void AddUpload(const std::string& method, const std::string& pattern, UploadStarter starter);

  struct Match {
    const Handler* handler = nullptr;
    const UploadStarter* upload = nullptr;
    bool path_known = false;  // some route has this path, with another method (405)
    std::string allowed;      // those methods, for the Allow header
  };
  // Finds the route for `request` and fills its params. When no route has the request's path,
  // the fallback (if set) answers it: the pages answer an unknown address with a page.
  Match Find(HttpRequest& request) const;
  // The handler for addresses no route has (in place of the server's own JSON 404).
  void SetFallback(Handler handler) { fallback_ = std::move(handler); }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" segments capture
    Handler handler;
    UploadStarter upload;
  };
  std::vector<Route> routes_;
  Handler fallback_;
};

// Percent-decodes `in` into `out` ('+' as a space when `plus_is_space`, as in query strings and
// forms); false for a malformed escape, invalid UTF-8 or a NUL.
bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space);

// Splits `target` into path and query, percent-decoding both; false for a malformed target.
bool ParseTarget(const std::string& target, std::string& path,
                 std::map<std::string, std::string>& query);

// `uri` made safe to send as a Location header: every byte that may not appear in a URI
// (control characters such as CR and LF, space, non-ASCII, '"', '<', '>', '\\', '^', '`', '{',
// '|', '}') is percent-encoded; '%' and the URI delimiters are kept, so an address already
// encoded passes unchanged. Data never reaches a header as it came.
std::string EncodeUriReference(std::string_view uri);

// A Content-Disposition value that downloads a file named `name` (UTF-8): RFC 6266 with the name
// percent-encoded in filename* (RFC 8187), so no byte of it can end the header or the parameter.
std::string AttachmentDisposition(std::string_view name);

// True when `value` may be sent as a header field value as it is: visible ASCII, spaces and tabs
// only (no CR, LF, NUL or other control character, nothing above 0x7E).
bool IsSafeHeaderValue(std::string_view value);

// True for an address of this machine's loopback: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z (as the
// server writes a peer's address).
bool IsLoopbackAddress(std::string_view address);

// A JSON body {"error": {"code", "message_th", "message_en", "details"}} with the HTTP status
// that `status` maps to (400, 401, 403, 404, 409, 429, 500, ...).
HttpResponse ErrorResponse(const Status& status, const std::string& details_json = "null");
HttpResponse JsonResponse(int http_status, const std::string& json);
int HttpStatusOf(StatusCode code);

}  // namespace esar::web
