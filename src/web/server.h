#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "web/http.h"

namespace esar::web {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;                 // 0 = any free port (see Server::port)
  size_t max_body_bytes = 1u << 20;     // JSON and form bodies
  size_t max_upload_bytes = 20u << 20;  // upload routes (streamed, never held whole)
  int64_t idle_timeout_ms = 60'000;     // a keep-alive connection idle this long is closed
  int64_t request_timeout_ms =
      120'000;                     // a request (reading, handling, answering) is cut after this
  int64_t stop_grace_ms = 10'000;  // Stop() waits this long for requests in flight
};

// Told of every response, for logs and metrics. Called from the connection's thread.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnResponse(const HttpRequest& request, int status, double milliseconds) = 0;
};

// An HTTP/1.1 server on Boost.Beast: a thread per connection, keep-alive, bodies of upload routes
// streamed to their sink as they arrive. Every handler runs inside a catch-all that answers 500
// with the request id instead of dropping the connection.
class Server {
 public:
  // Binds `options.address:port` and starts accepting on a thread of its own. Fails when the
  // address cannot be bound. `router` and `observer` (may be null) must outlive the server.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, const Router& router,
                                               RequestObserver* observer);
  ~Server();  // Stop()

  // The port bound (useful with port 0).
  uint16_t port() const;

  // Stops accepting, lets the requests in flight finish and closes every connection; returns
  // when all are done. Safe to call more than once.
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace esar::web
