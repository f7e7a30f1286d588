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
  int64_t idle_timeout_ms = 60'000;     // a connection with no request begun this long is closed
  // A request's header must arrive whole within this time of its first byte: a client that
  // trickles its header (slowloris) is cut instead of holding a connection for ever.
  int64_t header_timeout_ms = 10'000;
  // A request's body must arrive, and its answer be taken, within this time of its header.
  int64_t request_timeout_ms = 120'000;
  int64_t stop_grace_ms = 10'000;  // Stop() waits this long for requests in flight
  // Connections open at once; beyond it a new connection is closed at once (counted in
  // refused_connections). 0: derived from the process's descriptor limit (see
  // DefaultMaxConnections).
  size_t max_connections = 0;
  // Threads that run handlers (they block on the database and on password hashing); requests
  // wait in a queue of `max_queued_requests` when all are busy, and beyond it get 503 with
  // Retry-After. Connections themselves cost no thread: `io_threads` serve every one of them.
  size_t worker_threads = 16;
  size_t max_queued_requests = 4096;
  size_t io_threads = 2;
};

// The connection cap for a process allowed `descriptor_limit` open files: the limit less room for
// the database pool, evidence files and logs, at most 16,384 (each connection costs a few KB of
// memory while idle), at least 16.
size_t DefaultMaxConnections(uint64_t descriptor_limit);

// Raises the soft limit on open files to the hard limit (as an operator's `ulimit -n` would) and
// returns the limit in force afterwards.
uint64_t RaiseDescriptorLimit();

// Told of every response, for logs and metrics. Called from the connection's thread.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnResponse(const HttpRequest& request, int status, double milliseconds) = 0;
};

// An HTTP/1.1 server on Boost.Beast, asynchronous: a few I/O threads read and write every
// connection, and a bounded pool of worker threads runs the handlers, so an idle or slow client
// costs a descriptor and a few KB, never a thread. Keep-alive; bodies of upload routes streamed to
// their sink as they arrive. Every handler runs inside a catch-all that answers 500 with the
// request id instead of dropping the connection.
class Server {
 public:
  // Binds `options.address:port` and starts accepting on a thread of its own. Fails when the
  // address cannot be bound. `router` and `observer` (may be null) must outlive the server.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, const Router& router,
                                               RequestObserver* observer);
  ~Server();  // Stop()

  // The port bound (useful with port 0).
  uint16_t port() const;

  // The connection cap in force (ServerOptions::max_connections, or the default derived).
  size_t max_connections() const;

  // Stops accepting, lets the requests in flight finish and closes every connection; returns
  // when all are done. Safe to call more than once.
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace esar::web
