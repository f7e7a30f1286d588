// The only file that includes Boost.Beast and Asio (slow to compile; kept out of headers).
#include "web/server.h"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <limits>
#include <list>
#include <mutex>
#include <thread>
#include <utility>  // before Boost's asio headers (g++ 12, C++20)

#include "security/crypto.h"

namespace esar::web {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr int kPollMs =
    250;  // how often the accepting thread looks for stopping and idle connections

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string RequestId(const std::string& given) {
  // A client's own id is kept when it is short and plain, so that logs can be joined.
  if (!given.empty() && given.size() <= 64 && std::all_of(given.begin(), given.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
      })) {
    return given;
  }
  return security::RandomToken().substr(0, 16);
}

}  // namespace

struct Server::Impl {
  // Asio's blocking reads wait without a timeout, so a connection waiting for its next request
  // is woken from outside: the accepting thread shuts down the read side of connections idle too
  // long, and Stop() of every idle one. A connection marks itself idle before it looks whether
  // the server is stopping, so Stop() cannot miss it.
  struct Connection {
    std::thread thread;
    int fd = -1;
    std::atomic<bool> done{false};
    std::atomic<bool> idle{false};
    std::atomic<int64_t> idle_since{0};
    std::atomic<int64_t> busy_since{0};
  };

  ServerOptions options;
  const Router* router = nullptr;
  RequestObserver* observer = nullptr;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::atomic<bool> stopping{false};
  std::thread accept_thread;
  std::mutex mutex;  // guards connections
  std::list<std::unique_ptr<Connection>> connections;

  void AcceptLoop() {
    const int listen_fd = acceptor.native_handle();
    while (!stopping) {
      pollfd ready{listen_fd, POLLIN, 0};
      const int n = ::poll(&ready, 1, kPollMs);
      Reap();
      CloseIdle(false);
      if (n <= 0 || stopping) continue;
      tcp::socket socket(io);
      beast::error_code ec;
      acceptor.accept(socket, ec);
      if (ec) continue;  // a client that gave up before we accepted it
      std::lock_guard<std::mutex> lock(mutex);
      auto connection = std::make_unique<Connection>();
      Connection* raw = connection.get();
      raw->fd = socket.native_handle();
      raw->idle_since = NowMs();
      raw->busy_since = NowMs();  // not yet idle: busy from now, not since 1970
      raw->thread = std::thread([this, raw, s = std::move(socket)]() mutable {
        Serve(std::move(s), *raw);
        raw->done = true;
      });
      connections.push_back(std::move(connection));
    }
  }

  // Joins the threads of connections that have ended.
  void Reap() {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = connections.begin(); it != connections.end();) {
      if ((*it)->done) {
        (*it)->thread.join();
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Wakes connections waiting for a request (all of them with `all`, else those idle too long),
  // and cuts those whose request has taken too long (a client that stopped sending mid-body).
  // fd is -1 once the connection has closed its socket, so a reused number is never touched.
  void CloseIdle(bool all) {
    const int64_t now = NowMs();
    std::lock_guard<std::mutex> lock(mutex);
    for (auto& c : connections) {
      if (c->done || c->fd < 0) continue;
      if (c->idle && (all || now - c->idle_since > options.idle_timeout_ms))
        ::shutdown(c->fd, SHUT_RD);
      else if (!c->idle && now - c->busy_since > options.request_timeout_ms)
        ::shutdown(c->fd, SHUT_RDWR);
    }
  }

  // Cuts every connection still open (Stop, after its grace period).
  void CloseAll() {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto& c : connections) {
      if (!c->done && c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    }
  }

  bool AllDone() {
    std::lock_guard<std::mutex> lock(mutex);
    return std::all_of(connections.begin(), connections.end(),
                       [](const auto& c) { return c->done.load(); });
  }

  static HttpRequest FromHeader(const http::request_header<>& header, const tcp::socket& socket) {
    HttpRequest request;
    request.method = std::string(header.method_string());
    request.target = std::string(header.target());
    for (const auto& field : header) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string& value = request.headers[name];
      value =
          value.empty() ? std::string(field.value()) : value + ", " + std::string(field.value());
    }
    beast::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    request.remote_address = ec ? "" : remote.address().to_string();
    request.request_id = RequestId(request.Header("x-request-id"));
    return request;
  }

  static HttpResponse Dispatch(const Handler& handler, HttpRequest& request) {
    try {
      return handler(request);
    } catch (const std::exception& e) {
      return ErrorResponse(
          Status::Internal(std::string("request ") + request.request_id + ": " + e.what()));
    } catch (...) {
      return ErrorResponse(
          Status::Internal("request " + request.request_id + ": unknown exception"));
    }
  }

  bool Send(tcp::socket& socket, const HttpRequest& request, HttpResponse response,
            unsigned version, bool keep_alive, std::chrono::steady_clock::time_point started) {
    http::response<http::string_body> res{static_cast<http::status>(response.status), version};
    res.set(http::field::server, "esar");
    res.set(http::field::content_type, response.content_type);
    res.set("X-Request-Id", request.request_id);
    res.set("X-Content-Type-Options", "nosniff");
    for (auto& [name, value] : response.headers) res.insert(name, value);
    res.body() = std::move(response.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    beast::error_code ec;
    http::write(socket, res, ec);
    if (observer) {
      try {
        observer->OnResponse(
            request, response.status,
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "esar: request %s: the log line failed: %s\n",
                     request.request_id.c_str(), e.what());
      }
    }
    return !ec;
  }

  void Serve(tcp::socket socket, Connection& self) {
    beast::flat_buffer buffer;
    while (true) {
      self.idle_since = NowMs();
      self.idle = true;
      if (stopping) break;
      http::request_parser<http::empty_body> header_parser;
      header_parser.header_limit(16 * 1024);
      // The real limits are set on the body parsers; Boost 1.74 takes a plain number here.
      header_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      beast::error_code ec;
      http::read_header(socket, buffer, header_parser, ec);
      self.busy_since = NowMs();
      self.idle = false;
      if (ec == http::error::header_limit) {
        HttpRequest too_large;
        too_large.request_id = RequestId("");
        HttpResponse answer = ErrorResponse(Status::InvalidInput(
            "ส่วนหัวของคำขอใหญ่เกิน 16 KB", "the request headers are larger than 16 KB"));
        answer.status = 431;
        Send(socket, too_large, std::move(answer), 11, false, std::chrono::steady_clock::now());
        LingeringClose(socket);
        break;
      }
      if (ec) break;
      const auto started = std::chrono::steady_clock::now();
      HttpRequest request = FromHeader(header_parser.get(), socket);
      const unsigned version = header_parser.get().version();
      bool keep_alive = header_parser.get().keep_alive() && !stopping;
      if (!ParseTarget(request.target, request.path, request.query)) {
        request.path.clear();  // partly decoded, maybe not UTF-8: not for the log
        Send(socket, request,
             ErrorResponse(Status::InvalidInput("ที่อยู่ที่ขอไม่ถูกต้อง", "malformed request target")),
             version, false, started);
        break;
      }
      Router::Match match = router->Find(request);
      if (match.upload) {
        keep_alive = ServeUpload(socket, buffer, std::move(header_parser), request, *match.upload,
                                 version, keep_alive, started);
        if (!keep_alive) break;
        continue;
      }
      // Beast checks a body limit against the declared length only while parsing the header, so
      // both the declared length and the bytes that arrive (chunked bodies) are checked here.
      const auto declared = header_parser.content_length();
      http::request_parser<http::string_body> parser{std::move(header_parser)};
      if (declared && *declared > options.max_body_bytes) ec = http::error::body_limit;
      while (!ec && !parser.is_done()) {
        http::read_some(socket, buffer, parser, ec);
        if (!ec && parser.get().body().size() > options.max_body_bytes)
          ec = http::error::body_limit;
      }
      if (ec == http::error::body_limit) {
        HttpResponse too_large = ErrorResponse(
            Status::InvalidInput("ข้อมูลที่ส่งมาใหญ่เกินไป", "the request body is too large"));
        too_large.status = 413;
        Send(socket, request, std::move(too_large), version, false, started);
        LingeringClose(socket);
        break;
      }
      if (ec) {
        if (ec != http::error::end_of_stream && ec != asio::error::eof) {
          Send(socket, request,
               ErrorResponse(Status::InvalidInput("คำขอ HTTP ไม่ถูกต้อง", "malformed HTTP request")),
               version, false, started);
        }
        break;
      }
      request.body = parser.release().body();
      HttpResponse response;
      if (match.handler) {
        response = Dispatch(*match.handler, request);
      } else if (match.path_known) {
        response = ErrorResponse(Status::InvalidInput(
            "ไม่รองรับวิธี " + request.method + " ที่ที่อยู่นี้ (ใช้ได้: " + match.allowed + ")",
            "method " + request.method + " is not allowed here (allowed: " + match.allowed + ")"));
        response.status = 405;
        response.headers.emplace_back("Allow", match.allowed);
      } else {
        response = ErrorResponse(Status::NotFound("ไม่พบหน้าที่ขอ", "no such page"));
      }
      if (!Send(socket, request, std::move(response), version, keep_alive, started) || !keep_alive)
        break;
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      self.idle = false;
      self.fd = -1;
    }
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // After refusing a request whose body is not wanted: stop sending, then read and drop what the
  // client is still sending (up to a bound) before the socket closes, so that closing does not
  // reset the connection and lose the answer.
  void LingeringClose(tcp::socket& socket) {
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    std::vector<char> sink(64 * 1024);
    size_t drained = 0;
    while (!ec && drained < options.max_upload_bytes + (1u << 20))
      drained += socket.read_some(asio::buffer(sink), ec);
  }

  // Streams an upload's body to its sink. Returns whether the connection may be kept alive.
  bool ServeUpload(tcp::socket& socket, beast::flat_buffer& buffer,
                   http::request_parser<http::empty_body>&& header_parser, HttpRequest& request,
                   const UploadStarter& starter, unsigned version, bool keep_alive,
                   std::chrono::steady_clock::time_point started) {
    std::variant<HttpResponse, std::unique_ptr<UploadSink>> begun;
    try {
      begun = starter(request);
    } catch (const std::exception& e) {
      begun = ErrorResponse(
          Status::Internal(std::string("request ") + request.request_id + ": " + e.what()));
    }
    if (auto* refused = std::get_if<HttpResponse>(&begun)) {
      // The body is not wanted. Answer, then read and drop what the client is still sending (up
      // to a bound) before closing: closing at once would reset the connection, and the client
      // could lose the answer.
      Send(socket, request, std::move(*refused), version, false, started);
      LingeringClose(socket);
      return false;
    }
    std::unique_ptr<UploadSink> sink = std::move(std::get<std::unique_ptr<UploadSink>>(begun));
    http::request_parser<http::buffer_body> parser{std::move(header_parser)};
    parser.body_limit(options.max_upload_bytes + 64 * 1024);  // room for the multipart framing
    Status transfer;
    std::vector<char> chunk(64 * 1024);
    try {
      while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        beast::error_code ec;
        http::read_some(socket, buffer, parser, ec);
        if (ec == http::error::need_buffer) ec = {};
        const size_t got = chunk.size() - parser.get().body().size;
        if (got > 0) {
          transfer = sink->Write(std::string_view(chunk.data(), got));
          if (!transfer.ok()) break;
        }
        if (ec == http::error::body_limit) {
          transfer = Status::InvalidInput("ไฟล์ใหญ่เกินกำหนด", "the upload is larger than allowed");
          break;
        }
        if (ec &&
            ec.category() == beast::http::make_error_code(http::error::bad_chunk).category()) {
          // A malformed body is the client's error, not a broken connection.
          transfer = Status::InvalidInput("คำขอ HTTP ไม่ถูกต้อง (" + ec.message() + ")",
                                          "malformed HTTP request (" + ec.message() + ")");
          break;
        }
        if (ec) {
          transfer =
              Status::IoError("การเชื่อมต่อขาดระหว่างส่งไฟล์", "the connection broke during the upload");
          break;
        }
      }
    } catch (const std::exception& e) {
      transfer = Status::Internal(std::string("request ") + request.request_id + ": " + e.what());
    }
    const bool complete = parser.is_done() && transfer.ok();
    HttpResponse response;
    try {
      response = sink->Finish(transfer);
    } catch (const std::exception& e) {
      response = ErrorResponse(
          Status::Internal(std::string("request ") + request.request_id + ": " + e.what()));
    }
    const bool reuse = keep_alive && complete;
    Send(socket, request, std::move(response), version, reuse, started);
    return reuse;
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, const Router& router,
                                              RequestObserver* observer) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->router = &router;
  impl->observer = observer;
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) {
    return Status::InvalidInput("ที่อยู่ \"" + options.address + "\" ไม่ถูกต้อง",
                                "bad address \"" + options.address + "\"");
  }
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IoError("เปิดรับการเชื่อมต่อที่ " + options.address + ":" +
                               std::to_string(options.port) + " ไม่ได้: " + ec.message(),
                           "cannot listen on " + options.address + ":" +
                               std::to_string(options.port) + ": " + ec.message());
  }
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->AcceptLoop(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  impl_->CloseIdle(true);
  // Requests in flight may finish; a client that stalls them is cut after the grace period.
  const int64_t give_up = NowMs() + impl_->options.stop_grace_ms;
  while (!impl_->AllDone() && NowMs() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    impl_->CloseIdle(true);
  }
  impl_->CloseAll();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  std::list<std::unique_ptr<Impl::Connection>> connections;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    connections.swap(impl_->connections);
  }
  for (auto& c : connections) c->thread.join();
}

}  // namespace esar::web
