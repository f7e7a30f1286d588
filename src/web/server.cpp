// The only file that includes Boost.Beast and Asio (slow to compile; kept out of headers).
#include "web/server.h"

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>  // before Boost's asio headers (g++ 12, C++20)

#include "security/crypto.h"

namespace esar::web {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kUploadChunk = 64 * 1024;
// After refusing a body: how much of it is read and dropped, and for how long, before closing.
constexpr int64_t kLingerMs = 5'000;
constexpr size_t kTrimAfterBytes = 1u << 20;
constexpr auto kTrimAfterTime = std::chrono::milliseconds(200);

// Hands what is free in glibc's malloc arenas back to the system. Not under AddressSanitizer,
// whose allocator replaces glibc's: there glibc's arenas hold nothing, and its trim crashed on
// them (a SEGV reading address 8 in mtrim, with 32 clients uploading at once in the crash test).
void ReturnFreedMemory() {
#ifndef __SANITIZE_ADDRESS__
  ::malloc_trim(0);
#endif
}

// The Server-Timing header (W3C Server Timing) of an answer ready now: `app`, the handler's own
// time on its worker, when one ran; `total`, from the request's header read to now (the body,
// waiting for a worker, the handler). What a client measures beyond `total` was spent on the
// network, in the client or waiting to be scheduled: the split that tells a slow page from a
// stalled machine. For a streamed answer, the times up to its header.
std::string ServerTiming(std::optional<double> app_ms, double total_ms) {
  char text[96];
  const int length =
      app_ms ? std::snprintf(text, sizeof text, "app;dur=%.2f, total;dur=%.2f", *app_ms, total_ms)
             : std::snprintf(text, sizeof text, "total;dur=%.2f", total_ms);
  return std::string(text, static_cast<size_t>(std::clamp(length, 0, int{sizeof text} - 1)));
}

double MillisecondsSince(Clock::time_point then) {
  return std::chrono::duration<double, std::milli>(Clock::now() - then).count();
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

HttpResponse Refusal(int status, const std::string& th, const std::string& en) {
  HttpResponse r = ErrorResponse(Status::InvalidInput(th, en));
  r.status = status;
  return r;
}

HttpResponse Dispatch(const Handler& handler, HttpRequest& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    return ErrorResponse(
        Status::Internal(std::string("request ") + request.request_id + ": " + e.what()));
  } catch (...) {
    return ErrorResponse(Status::Internal("request " + request.request_id + ": unknown exception"));
  }
}

// A fixed set of threads taking jobs from a bounded queue. Thread-safe.
class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
      threads_.emplace_back([this] { Run(); });
  }
  ~WorkerPool() { Stop(); }

  // Queues `job`; false (and `job` dropped) when the queue is full or the pool stopped.
  bool Submit(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopped_ || jobs_.size() >= max_queued_) return false;
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
  }

  // Queues `job` whatever the queue's length (false only once the pool stopped): the next step
  // of a request already accepted, which must not be refused halfway through its answer.
  bool SubmitContinuation(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopped_) return false;
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
  }

  // Runs the jobs already queued, then joins the threads. Safe to call more than once.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  void Run() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return stopped_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopped and drained
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;  // guarded by mutex_
  bool stopped_ = false;                    // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace

size_t DefaultMaxConnections(uint64_t descriptor_limit) {
  constexpr uint64_t kReserved = 256;  // database pool, evidence files, logs, the listener
  if (descriptor_limit <= kReserved + 16) return 16;
  return static_cast<size_t>(std::min<uint64_t>(descriptor_limit - kReserved, 16'384));
}

uint64_t RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<uint64_t>::max() : limit.rlim_cur;
}

struct Server::Impl {
  class Session;

  ServerOptions options;
  size_t max_connections = 0;
  const Router* router = nullptr;
  RequestObserver* observer = nullptr;
  // Declared before the I/O context: sessions still queued in it when it is destroyed remove
  // themselves from here.
  std::mutex mutex;  // guards sessions
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> busy{0};  // requests between their header and their answer's last byte
  std::atomic<int64_t> refused{0};
  std::atomic<int64_t> last_accept_error_log{0};
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_pause{io};
  std::unique_ptr<WorkerPool> workers;
  std::vector<std::thread> io_threads;

  size_t OpenConnections() {
    std::lock_guard<std::mutex> lock(mutex);
    return sessions.size();
  }

  // One connection. Its handlers run on its strand, one at a time; a handler's work runs on the
  // worker pool and comes back to the strand to answer.
  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(Impl& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {
      beast::error_code ec;
      const auto remote = stream_.socket().remote_endpoint(ec);
      remote_address_ = ec ? "" : remote.address().to_string();
    }

    void Start() { WaitForRequest(); }

    // From Stop(): closes the connection now if it waits for a request; else after its answer.
    void CloseIfIdle() {
      asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
        if (self->idle_) self->Close();
      });
    }
    // From Stop(), after the grace period: cuts the connection whatever it is doing.
    void Cut() {
      asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
    }

   private:
    // Waits, up to the idle timeout, for the first byte of the next request.
    void WaitForRequest() {
      idle_ = true;
      if (server_.stopping) return Close();
      if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
      stream_.expires_after(std::chrono::milliseconds(server_.options.idle_timeout_ms));
      stream_.async_read_some(buffer_.prepare(1024),
                              [self = shared_from_this()](beast::error_code ec, size_t n) {
                                self->buffer_.commit(n);
                                if (ec) return self->Close();
                                self->ReadHeader();
                              });
    }

    void ReadHeader() {
      idle_ = false;
      header_parser_.emplace();
      header_parser_->header_limit(kHeaderLimit);
      // The real limits are set on the body parsers; Boost 1.74 takes a plain number here.
      header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
      stream_.expires_after(std::chrono::milliseconds(server_.options.header_timeout_ms));
      http::async_read_header(
          stream_, buffer_, *header_parser_,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
    }

    void OnHeader(beast::error_code ec) {
      started_ = Clock::now();
      app_ms_.reset();
      if (ec == http::error::header_limit) {
        request_ = HttpRequest();
        request_.request_id = RequestId("");
        return Answer(
            Refusal(431, "ส่วนหัวของคำขอใหญ่เกิน 16 KB", "the request headers are larger than 16 KB"),
            AfterAnswer::kLinger);
      }
      if (ec) return Close();  // the client left, or trickled its header past the timeout
      ++server_.busy;
      counted_busy_ = true;
      FillRequest();
      const auto& header = header_parser_->get();
      version_ = header.version();
      keep_alive_ = header.keep_alive() && !server_.stopping;
      deadline_ = Clock::now() + std::chrono::milliseconds(server_.options.request_timeout_ms);
      if (!ParseTarget(request_.target, request_.path, request_.query)) {
        request_.path.clear();  // partly decoded, maybe not UTF-8: not for the log
        return Answer(
            ErrorResponse(Status::InvalidInput("ที่อยู่ที่ขอไม่ถูกต้อง", "malformed request target")),
            AfterAnswer::kClose);
      }
      match_ = server_.router->Find(request_);
      if (match_.upload) return StartUpload();
      // Beast checks a body limit against the declared length only while parsing the header, so
      // both the declared length and the bytes that arrive (chunked bodies) are checked here.
      const auto declared = header_parser_->content_length();
      body_parser_.emplace(std::move(*header_parser_));
      header_parser_.reset();
      if (declared && *declared > server_.options.max_body_bytes) return RefuseTooLarge();
      ReadBody();
    }

    void FillRequest() {
      const auto& header = header_parser_->get();
      request_ = HttpRequest();
      request_.method = std::string(header.method_string());
      request_.target = std::string(header.target());
      for (const auto& field : header) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        std::string& value = request_.headers[name];
        value =
            value.empty() ? std::string(field.value()) : value + ", " + std::string(field.value());
      }
      request_.remote_address = remote_address_;
      request_.request_id = RequestId(request_.Header("x-request-id"));
    }

    void ReadBody() {
      if (body_parser_->is_done()) return RunHandler();
      stream_.expires_at(deadline_);
      http::async_read_some(
          stream_, buffer_, *body_parser_,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
    }

    void OnBody(beast::error_code ec) {
      if (!ec && body_parser_->get().body().size() > server_.options.max_body_bytes)
        ec = http::error::body_limit;
      if (ec == http::error::body_limit) return RefuseTooLarge();
      if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
          ec == asio::error::eof || ec == asio::error::connection_reset ||
          ec == asio::error::operation_aborted) {
        return Close();
      }
      if (ec) {
        return Answer(
            ErrorResponse(Status::InvalidInput("คำขอ HTTP ไม่ถูกต้อง", "malformed HTTP request")),
            AfterAnswer::kClose);
      }
      ReadBody();
    }

    void RefuseTooLarge() {
      keep_alive_ = false;
      Answer(Refusal(413, "ข้อมูลที่ส่งมาใหญ่เกินไป", "the request body is too large"),
             AfterAnswer::kLinger);
    }

    // Runs the route's handler (or answers 404/405) on a worker, then answers on the strand.
    void RunHandler() {
      request_.body = body_parser_->release().body();
      body_parser_.reset();
      if (!match_.handler) {
        HttpResponse response;
        if (match_.path_known) {
          response = ErrorResponse(Status::InvalidInput(
              "ไม่รองรับวิธี " + request_.method + " ที่ที่อยู่นี้ (ใช้ได้: " + match_.allowed + ")",
              "method " + request_.method + " is not allowed here (allowed: " + match_.allowed +
                  ")"));
          response.status = 405;
          response.headers.emplace_back("Allow", match_.allowed);
        } else {
          response = ErrorResponse(Status::NotFound("ไม่พบหน้าที่ขอ", "no such page"));
        }
        return Answer(std::move(response), AfterAnswer::kKeepAlive);
      }
      OnWorker([](Session& self) { return Dispatch(*self.match_.handler, self.request_); },
               AfterAnswer::kKeepAlive);
    }

    // Runs `work` on a worker thread and answers with what it returns; 503 at once when every
    // worker is busy and the queue is full.
    template <typename Work>
    void OnWorker(Work work, int after) {
      auto self = shared_from_this();
      const bool queued = server_.workers->Submit([self, work, after] {
        const auto began = Clock::now();
        HttpResponse response = work(*self);
        const double app_ms = MillisecondsSince(began);
        // A heavy request (computing a round, a large answer) leaves megabytes freed in this
        // thread's malloc arena, which glibc keeps; hand them back to the system at once so that
        // the resident size follows the work in hand, not the largest ever done. After the
        // answer is on its way: the trim takes a while over a large heap, and the answer needs
        // none of that memory.
        const bool trim =
            response.body.size() > kTrimAfterBytes || Clock::now() - began > kTrimAfterTime;
        asio::post(self->stream_.get_executor(),
                   [self, after, app_ms, r = std::move(response)]() mutable {
                     self->app_ms_ = app_ms;
                     self->Answer(std::move(r), after);
                   });
        if (trim) ReturnFreedMemory();
      });
      if (!queued) RefuseOverloaded();
    }

    // Every worker busy and the queue full: 503 with Retry-After, and the body left unread.
    void RefuseOverloaded() {
      HttpResponse busy = ErrorResponse(Status::IoError(
          "เซิร์ฟเวอร์มีงานค้างมาก โปรดลองใหม่ในอีกครู่", "the server is overloaded: try again shortly"));
      busy.status = 503;
      busy.headers.emplace_back("Retry-After", "1");
      keep_alive_ = false;
      Answer(std::move(busy), AfterAnswer::kLinger);
    }

    // ---- uploads: the starter and Finish run on a worker; the body's pieces go to the sink as
    // they arrive ----
    void StartUpload() {
      upload_parser_.emplace(std::move(*header_parser_));
      header_parser_.reset();
      // Room for the multipart framing around the file.
      upload_parser_->body_limit(server_.options.max_upload_bytes + 64 * 1024);
      auto self = shared_from_this();
      const bool queued = server_.workers->Submit([self] {
        std::variant<HttpResponse, std::unique_ptr<UploadSink>> begun;
        try {
          begun = (*self->match_.upload)(self->request_);
        } catch (const std::exception& e) {
          begun = ErrorResponse(Status::Internal(std::string("request ") +
                                                 self->request_.request_id + ": " + e.what()));
        }
        asio::post(self->stream_.get_executor(), [self, b = std::move(begun)]() mutable {
          if (auto* refused = std::get_if<HttpResponse>(&b)) {
            // The body is not wanted: answer, then drop what the client is still sending.
            self->keep_alive_ = false;
            return self->Answer(std::move(*refused), AfterAnswer::kLinger);
          }
          self->sink_ = std::move(std::get<std::unique_ptr<UploadSink>>(b));
          self->chunk_.resize(kUploadChunk);
          self->ReadUploadPiece();
        });
      });
      if (!queued) RefuseOverloaded();
    }

    void ReadUploadPiece() {
      if (upload_parser_->is_done()) return FinishUpload(Status::Ok());
      upload_parser_->get().body().data = chunk_.data();
      upload_parser_->get().body().size = chunk_.size();
      stream_.expires_at(deadline_);
      http::async_read_some(
          stream_, buffer_, *upload_parser_,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnUploadPiece(ec); });
    }

    void OnUploadPiece(beast::error_code ec) {
      if (ec == http::error::need_buffer) ec = {};
      const size_t got = chunk_.size() - upload_parser_->get().body().size;
      Status transfer;
      if (got > 0) {
        try {
          transfer = sink_->Write(std::string_view(chunk_.data(), got));
        } catch (const std::exception& e) {
          transfer =
              Status::Internal(std::string("request ") + request_.request_id + ": " + e.what());
        }
        if (!transfer.ok()) return FinishUpload(transfer);
      }
      if (ec == http::error::body_limit) {
        return FinishUpload(
            Status::InvalidInput("ไฟล์ใหญ่เกินกำหนด", "the upload is larger than allowed"));
      }
      if (ec && ec.category() == http::make_error_code(http::error::bad_chunk).category()) {
        // A malformed body is the client's error, not a broken connection.
        return FinishUpload(Status::InvalidInput("คำขอ HTTP ไม่ถูกต้อง (" + ec.message() + ")",
                                                 "malformed HTTP request (" + ec.message() + ")"));
      }
      if (ec) {
        return FinishUpload(
            Status::IoError("การเชื่อมต่อขาดระหว่างส่งไฟล์", "the connection broke during the upload"));
      }
      ReadUploadPiece();
    }

    void FinishUpload(Status transfer) {
      const bool complete = upload_parser_->is_done() && transfer.ok();
      if (!complete) keep_alive_ = false;
      OnWorker(
          [transfer](Session& self) -> HttpResponse {
            // The sink goes here, on the worker, before the answer is written: a refused
            // upload's temporary file is gone by the time the client reads the refusal.
            HttpResponse answer;
            try {
              answer = self.sink_->Finish(transfer);
            } catch (const std::exception& e) {
              answer = ErrorResponse(Status::Internal(std::string("request ") +
                                                      self.request_.request_id + ": " + e.what()));
            }
            self.sink_.reset();
            return answer;
          },
          complete ? AfterAnswer::kKeepAlive : AfterAnswer::kClose);
    }

    // ---- answering ----
    // The last guard against header injection: a header carrying raw data (a CR LF from a
    // stored name, say) is never sent; the request gets a 500 whose message names the header.
    // Empty when every header of `response` may be sent.
    std::optional<HttpResponse> UnsafeHeaderRefusal(const HttpResponse& response) const {
      for (const auto& [name, value] : response.headers) {
        if (IsSafeHeaderValue(name) && IsSafeHeaderValue(value) &&
            IsSafeHeaderValue(response.content_type))
          continue;
        return ErrorResponse(Status::Internal("request " + request_.request_id +
                                              ": refused to send an unsafe " + name + " header"));
      }
      return std::nullopt;
    }

    enum AfterAnswer { kKeepAlive, kClose, kLinger };

    // The headers every answer carries, then `response`'s own: one place for buffered and
    // streamed answers alike.
    template <typename Message>
    void SetHeaders(const HttpResponse& response, Message& message) const {
      message.set(http::field::server, "esar");
      message.set(http::field::content_type, response.content_type);
      message.set("X-Request-Id", request_.request_id);
      message.set("X-Content-Type-Options", "nosniff");
      message.set("Server-Timing", ServerTiming(app_ms_, MillisecondsSince(started_)));
      for (const auto& [name, value] : response.headers) message.insert(name, value);
    }

    void Answer(HttpResponse response, int after) {
      if (closed_) return;
      if (response.stream) return AnswerStreamed(std::move(response), after);
      if (auto unsafe = UnsafeHeaderRefusal(response)) response = std::move(*unsafe);
      const bool keep = after == kKeepAlive && keep_alive_ && !server_.stopping;
      auto res = std::make_shared<http::response<http::string_body>>(
          static_cast<http::status>(response.status), version_ ? version_ : 11);
      SetHeaders(response, *res);
      res->body() = std::move(response.body);
      res->keep_alive(keep);
      res->prepare_payload();
      const int status = response.status;
      stream_.expires_after(std::chrono::milliseconds(server_.options.request_timeout_ms));
      http::async_write(
          stream_, *res,
          [self = shared_from_this(), res, keep, after, status](beast::error_code ec, size_t) {
            self->Observe(status);
            self->EndRequest();
            if (ec) return self->Close();
            if (after == kLinger) return self->Linger();
            if (!keep) return self->Close();
            self->sink_.reset();
            self->upload_parser_.reset();
            self->WaitForRequest();
          });
    }

    // ---- streamed answers: the header, then each piece as the producer gives it (produced on a
    // worker, written from the strand), then the last chunk ----
    void AnswerStreamed(HttpResponse response, int after) {
      if (auto unsafe = UnsafeHeaderRefusal(response)) return Answer(std::move(*unsafe), after);
      // HTTP/1.0 has no chunks: the end of the body is the end of the connection.
      chunked_ = version_ != 10;
      stream_keep_ = chunked_ && after == kKeepAlive && keep_alive_ && !server_.stopping;
      stream_status_ = response.status;
      stream_after_ = after;
      stream_bytes_ = 0;
      producer_ = std::move(response.stream);
      auto header = std::make_shared<http::response<http::empty_body>>(
          static_cast<http::status>(response.status), version_ ? version_ : 11);
      SetHeaders(response, *header);
      header->keep_alive(stream_keep_);
      if (chunked_) header->chunked(true);
      auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*header);
      stream_.expires_after(std::chrono::milliseconds(server_.options.request_timeout_ms));
      http::async_write_header(
          stream_, *serializer,
          [self = shared_from_this(), header, serializer](beast::error_code ec, size_t) {
            if (ec) return self->EndStream(false);
            self->ProduceNext();
          });
    }

    // Asks the producer for the next piece on a worker, and writes it from the strand.
    void ProduceNext() {
      auto self = shared_from_this();
      const bool queued = server_.workers->SubmitContinuation([self] {
        auto piece = std::make_shared<std::string>();
        StreamStep step = StreamStep::kFailed;
        try {
          step = self->producer_(*piece);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "esar: request %s: the answer failed midway: %s\n",
                       self->request_.request_id.c_str(), e.what());
        } catch (...) {
          std::fprintf(stderr, "esar: request %s: the answer failed midway\n",
                       self->request_.request_id.c_str());
        }
        self->stream_bytes_ += piece->size();
        // As after any large answer, hand the freed memory back (see OnWorker).
        if (step != StreamStep::kMore && self->stream_bytes_ > kTrimAfterBytes) ReturnFreedMemory();
        asio::post(self->stream_.get_executor(),
                   [self, piece, step]() { self->WritePiece(piece, step); });
      });
      if (!queued) asio::post(stream_.get_executor(), [self] { self->EndStream(false); });
    }

    void WritePiece(const std::shared_ptr<std::string>& piece, StreamStep step) {
      if (closed_) return EndStream(false);
      if (step == StreamStep::kFailed) return EndStream(false);
      auto next = [self = shared_from_this(), piece, step](beast::error_code ec, size_t) {
        if (ec) return self->EndStream(false);
        if (step == StreamStep::kMore) return self->ProduceNext();
        self->FinishStream();
      };
      if (piece->empty()) {
        // Nothing to frame (an empty chunk would end the body): go on at once.
        return asio::post(stream_.get_executor(),
                          [next]() mutable { next(beast::error_code{}, 0); });
      }
      stream_.expires_after(std::chrono::milliseconds(server_.options.request_timeout_ms));
      if (chunked_) {
        asio::async_write(stream_, http::make_chunk(asio::buffer(*piece)), std::move(next));
      } else {
        asio::async_write(stream_, asio::buffer(*piece), std::move(next));
      }
    }

    void FinishStream() {
      if (!chunked_) return EndStream(true);
      stream_.expires_after(std::chrono::milliseconds(server_.options.request_timeout_ms));
      asio::async_write(
          stream_, http::make_chunk_last(),
          [self = shared_from_this()](beast::error_code ec, size_t) { self->EndStream(!ec); });
    }

    // The streamed answer is over: complete (then as after any answer) or cut.
    void EndStream(bool complete) {
      producer_ = nullptr;
      Observe(stream_status_);
      EndRequest();
      if (!complete || !stream_keep_) return Close();
      if (stream_after_ == kLinger) return Linger();
      sink_.reset();
      upload_parser_.reset();
      WaitForRequest();
    }

    void Observe(int status) {
      if (!server_.observer) return;
      try {
        server_.observer->OnResponse(request_, status, MillisecondsSince(started_));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "esar: request %s: the log line failed: %s\n",
                     request_.request_id.c_str(), e.what());
      }
    }

    void EndRequest() {
      if (counted_busy_) {
        counted_busy_ = false;
        --server_.busy;
      }
    }

    // After refusing a request whose body is not wanted: stop sending, then read and drop what
    // the client is still sending (up to a bound, for a few seconds) before the socket closes,
    // so that closing does not reset the connection and lose the answer.
    void Linger() {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      chunk_.resize(kUploadChunk);
      lingered_ = 0;
      stream_.expires_after(std::chrono::milliseconds(kLingerMs));
      LingerRead();
    }

    void LingerRead() {
      stream_.async_read_some(
          asio::buffer(chunk_), [self = shared_from_this()](beast::error_code ec, size_t n) {
            self->lingered_ += n;
            if (ec || self->lingered_ > self->server_.options.max_upload_bytes + (1u << 20)) {
              return self->Close();
            }
            self->LingerRead();
          });
    }

    void Close() {
      if (closed_) return;
      closed_ = true;
      idle_ = false;
      EndRequest();
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.close();
    }

    Impl& server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::string remote_address_;
    std::optional<http::request_parser<http::empty_body>> header_parser_;
    std::optional<http::request_parser<http::string_body>> body_parser_;
    std::optional<http::request_parser<http::buffer_body>> upload_parser_;
    std::unique_ptr<UploadSink> sink_;
    std::vector<char> chunk_;
    HttpRequest request_;
    Router::Match match_;
    unsigned version_ = 11;
    BodyProducer producer_;  // of the streamed answer in progress
    bool chunked_ = true;
    bool stream_keep_ = false;
    int stream_status_ = 200;
    int stream_after_ = kKeepAlive;
    std::atomic<size_t> stream_bytes_{0};  // written by workers, one at a time
    bool keep_alive_ = false;
    bool idle_ = false;
    bool closed_ = false;
    bool counted_busy_ = false;
    size_t lingered_ = 0;
    Clock::time_point started_ = Clock::now();
    std::optional<double> app_ms_;  // the handler's time on its worker, for Server-Timing
    Clock::time_point deadline_ = Clock::now();

   public:
    ~Session() {
      EndRequest();
      std::lock_guard<std::mutex> lock(server_.mutex);
      server_.sessions.erase(this);
    }
  };

  void Accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (stopping) return;
      if (ec) {
        // Out of descriptors (or memory): waiting is the only cure, so the accepting pauses
        // instead of spinning on the same error; a message at most once a second.
        // Accept's errors are errno values; compared as numbers, since comparing with Boost
        // 1.74's error enums trips UBSan's vptr check on its static error categories.
        const int code = ec.value();
        const bool exhausted =
            code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM;
        if (exhausted) {
          const int64_t now =
              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
                  .count();
          if (now - last_accept_error_log.exchange(now) >= 1000) {
            std::fprintf(stderr, "esar: cannot accept connections: %s (%zu open)\n",
                         ec.message().c_str(), OpenConnections());
          }
          accept_pause.expires_after(std::chrono::milliseconds(100));
          accept_pause.async_wait([this](beast::error_code) {
            if (!stopping) Accept();
          });
          return;
        }
        return Accept();  // a client that gave up before we accepted it
      }
      auto session = std::make_shared<Session>(*this, std::move(socket));
      bool admitted = false;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (sessions.size() < max_connections) {
          sessions.emplace(session.get(), session);
          admitted = true;
        }
      }
      if (admitted) {
        session->Start();
      } else {
        refused++;
        const int64_t now =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
                .count();
        if (now - last_accept_error_log.exchange(now) >= 1000) {
          std::fprintf(stderr, "esar: %zu connections open (the cap): refusing new ones\n",
                       max_connections);
        }
        // Never registered: its destructor's erase finds nothing, and it closes here.
      }
      Accept();
    });
  }

  std::vector<std::shared_ptr<Session>> LiveSessions() {
    std::vector<std::shared_ptr<Session>> out;
    std::lock_guard<std::mutex> lock(mutex);
    for (auto& [raw, weak] : sessions)
      if (auto s = weak.lock()) out.push_back(std::move(s));
    return out;
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
  impl->max_connections =
      options.max_connections ? options.max_connections : DefaultMaxConnections([] {
        rlimit limit{};
        if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return uint64_t{1024};
        return static_cast<uint64_t>(limit.rlim_cur);
      }());
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
  impl->workers = std::make_unique<WorkerPool>(options.worker_threads, options.max_queued_requests);
  impl->Accept();
  for (size_t i = 0; i < std::max<size_t>(options.io_threads, 1); ++i) {
    Impl* raw = impl.get();
    impl->io_threads.emplace_back([raw] {
      // A handler that throws ends only itself: the loop goes on with the others.
      while (true) {
        try {
          raw->io.run();
          return;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "esar: an I/O handler failed: %s\n", e.what());
        }
      }
    });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

size_t Server::max_connections() const { return impl_->max_connections; }

void Server::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  Impl& s = *impl_;
  asio::post(s.io, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_pause.cancel();
  });
  for (auto& session : s.LiveSessions()) session->CloseIfIdle();
  // Requests in flight may finish; a client that stalls them is cut after the grace period.
  const auto give_up = Clock::now() + std::chrono::milliseconds(s.options.stop_grace_ms);
  while (s.busy > 0 && Clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& session : s.LiveSessions()) session->Cut();
  // Handlers still running finish (their answers go nowhere), then the loop ends.
  s.workers->Stop();
  const auto settle = Clock::now() + std::chrono::seconds(2);
  while (s.OpenConnections() > 0 && Clock::now() < settle)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  s.io.stop();
  for (auto& t : s.io_threads)
    if (t.joinable()) t.join();
}

}  // namespace esar::web
