// Streamed answers (HttpResponse::stream) through the real server on 127.0.0.1: chunk framing,
// keep-alive after them, a producer failing midway (the body must not look complete), HTTP/1.0;
// and the Server-Timing header every answer carries.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "web/http.h"
#include "web/server.h"

namespace esar::web {
namespace {

// A producer of `pieces` numbered lines, one per call, with an empty piece after the first;
// at piece `fail_at` it fails (or throws, with `throw_instead`).
BodyProducer Lines(int pieces, int fail_at, bool throw_instead) {
  auto next = std::make_shared<int>(0);
  auto gave_empty = std::make_shared<bool>(false);
  return [=](std::string& out) {
    if (*next == 1 && !*gave_empty) {
      *gave_empty = true;
      return StreamStep::kMore;
    }
    const int i = (*next)++;
    if (i == fail_at) {
      if (throw_instead) throw std::runtime_error("the source went away");
      return StreamStep::kFailed;
    }
    out = "line " + std::to_string(i) + " " + std::string(200, 'x') + "\n";
    return i + 1 == pieces ? StreamStep::kDone : StreamStep::kMore;
  };
}

std::string Expected(int pieces) {
  std::string all;
  for (int i = 0; i < pieces; ++i)
    all += "line " + std::to_string(i) + " " + std::string(200, 'x') + "\n";
  return all;
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/stream", [](HttpRequest& request) {
      HttpResponse r;
      r.content_type = "text/plain; charset=utf-8";
      const int pieces = std::stoi(request.query["n"]);
      const int fail_at = request.query.count("fail") ? std::stoi(request.query["fail"]) : -1;
      r.stream = Lines(pieces, fail_at, request.query.count("throw") > 0);
      return r;
    });
    router_.Add("GET", "/plain",
                [](HttpRequest&) { return JsonResponse(200, "{\"plain\":true}"); });
    router_.Add("GET", "/slow", [](HttpRequest&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kSlowHandlerMs));
      return JsonResponse(200, "{}");
    });
    ServerOptions options;
    options.port = 0;
    options.worker_threads = 2;
    auto started = Server::Start(options, router_, nullptr);
    ASSERT_TRUE(started.ok()) << started.status().message_en();
    server_ = std::move(*started);
  }

  int Connect() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(server_->port());
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return fd;
  }

  static void Send(int fd, const std::string& text) {
    ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  }

  // Reads until `done(received)` or the connection ends; `closed` tells which.
  static std::string ReadUntil(int fd, const std::function<bool(const std::string&)>& done,
                               bool& closed) {
    std::string received;
    char buffer[16384];
    closed = false;
    while (!done(received)) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      received.append(buffer, static_cast<size_t>(n));
    }
    return received;
  }

  // The body of a chunked answer `raw` (header included); `complete` when its last chunk came.
  static std::string Dechunk(const std::string& raw, bool& complete) {
    complete = false;
    size_t at = raw.find("\r\n\r\n");
    if (at == std::string::npos) return "";
    at += 4;
    std::string body;
    while (true) {
      const size_t line_end = raw.find("\r\n", at);
      if (line_end == std::string::npos) return body;
      const size_t size = std::stoul(raw.substr(at, line_end - at), nullptr, 16);
      if (size == 0) {
        complete = raw.compare(line_end, 4, "\r\n\r\n") == 0;
        return body;
      }
      if (line_end + 2 + size + 2 > raw.size()) return body;
      body += raw.substr(line_end + 2, size);
      at = line_end + 2 + size + 2;
    }
  }

  static bool EndsChunked(const std::string& received) {
    return received.size() >= 5 && received.compare(received.size() - 5, 5, "0\r\n\r\n") == 0;
  }

  // The status line and headers of the answer to `request`, sent on a connection of its own.
  std::string HeadOf(const std::string& request) {
    const int fd = Connect();
    Send(fd, request);
    bool closed = false;
    const std::string raw = ReadUntil(
        fd, [](const std::string& r) { return r.find("\r\n\r\n") != std::string::npos; }, closed);
    ::close(fd);
    return raw.substr(0, raw.find("\r\n\r\n"));
  }

  static constexpr int kSlowHandlerMs = 25;
  Router router_;
  std::unique_ptr<Server> server_;
};

TEST_F(StreamTest, PiecesArriveAsChunksAndTheConnectionServesTheNextRequest) {
  const int fd = Connect();
  Send(fd, "GET /stream?n=500 HTTP/1.1\r\nHost: t\r\n\r\n");
  bool closed = false;
  const std::string raw = ReadUntil(fd, EndsChunked, closed);
  ASSERT_FALSE(closed);
  EXPECT_NE(raw.find("Transfer-Encoding: chunked"), std::string::npos) << raw.substr(0, 300);
  EXPECT_EQ(raw.find("Content-Length"), std::string::npos);
  bool complete = false;
  EXPECT_EQ(Dechunk(raw, complete), Expected(500));
  EXPECT_TRUE(complete);
  // Keep-alive: the same connection answers again.
  Send(fd, "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::string next = ReadUntil(
      fd, [](const std::string& r) { return r.find("{\"plain\":true}") != std::string::npos; },
      closed);
  EXPECT_FALSE(closed);
  EXPECT_EQ(next.rfind("HTTP/1.1 200", 0), 0u) << next;
  ::close(fd);
}

TEST_F(StreamTest, AFailureMidwayCutsTheConnectionWithoutALastChunk) {
  for (const std::string how : {"", "&throw=1"}) {
    const int fd = Connect();
    Send(fd, "GET /stream?n=100&fail=40" + how + " HTTP/1.1\r\nHost: t\r\n\r\n");
    bool closed = false;
    const std::string raw = ReadUntil(fd, EndsChunked, closed);
    EXPECT_TRUE(closed) << how;
    bool complete = true;
    EXPECT_EQ(Dechunk(raw, complete), Expected(40)) << how;
    EXPECT_FALSE(complete) << how;
    ::close(fd);
  }
}

TEST_F(StreamTest, Http10GetsTheBodyUnframedAndThenTheEnd) {
  const int fd = Connect();
  Send(fd, "GET /stream?n=50 HTTP/1.0\r\n\r\n");
  bool closed = false;
  const std::string raw = ReadUntil(
      fd, [](const std::string&) { return false; }, closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(raw.find("chunked"), std::string::npos);
  const size_t body = raw.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(raw.substr(body + 4), Expected(50));
  ::close(fd);
}

TEST_F(StreamTest, EveryAnswerTellsTheServersTimeInServerTiming) {
  const std::regex with_app(
      R"(\r\nServer-Timing: app;dur=([0-9]+\.[0-9]{2}), total;dur=([0-9]+\.[0-9]{2}))");
  std::smatch found;
  // A handler's answer: its own time, and the total from the header read, which includes it.
  const std::string slow = HeadOf("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(std::regex_search(slow, found, with_app)) << slow;
  const double app = std::stod(found[1]), total = std::stod(found[2]);
  EXPECT_GE(app, kSlowHandlerMs);
  EXPECT_GE(total, app);
  // A streamed answer: the times up to its header.
  const std::string streamed = HeadOf("GET /stream?n=3 HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(std::regex_search(streamed, found, with_app)) << streamed;
  EXPECT_GE(std::stod(found[2]), std::stod(found[1]));
  // Answered without a handler (no such page): the total alone.
  const std::string missing = HeadOf("GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(missing.rfind("HTTP/1.1 404", 0), 0u) << missing;
  EXPECT_TRUE(std::regex_search(
      missing, std::regex(R"(\r\nServer-Timing: total;dur=[0-9]+\.[0-9]{2}(\r|$))")))
      << missing;
}

TEST_F(StreamTest, ManyStreamsAtOnceAllComplete) {
  // More streams than workers: each piece waits its turn, none is refused halfway.
  std::vector<std::thread> clients;
  std::atomic<int> complete_bodies{0};
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&] {
      const int fd = Connect();
      Send(fd, "GET /stream?n=300 HTTP/1.1\r\nHost: t\r\n\r\n");
      bool closed = false, complete = false;
      const std::string raw = ReadUntil(fd, EndsChunked, closed);
      if (Dechunk(raw, complete) == Expected(300) && complete) ++complete_bodies;
      ::close(fd);
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(complete_bodies.load(), 12);
}

}  // namespace
}  // namespace esar::web
