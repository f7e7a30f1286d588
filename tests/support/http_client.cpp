#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tests/support/run_esar.h"

namespace esar::testing {
namespace {

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads one response: framed by Content-Length, or chunked (a streamed answer). False when the
// connection ends before the response does (a stream cut short has no last chunk).
bool ReadReply(int fd, HttpReply& reply) {
  std::string data;
  char buf[65536];
  size_t header_end = std::string::npos;
  while (header_end == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
    header_end = data.find("\r\n\r\n");
  }
  std::string head = data.substr(0, header_end);
  reply.status = std::atoi(head.substr(9, 3).c_str());
  size_t length = 0;
  size_t line_start = head.find("\r\n") + 2;
  while (line_start < head.size()) {
    size_t line_end = head.find("\r\n", line_start);
    if (line_end == std::string::npos) line_end = head.size();
    const std::string line = head.substr(line_start, line_end - line_start);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      reply.headers[name] = value;
      if (name == "content-length") length = std::strtoul(value.c_str(), nullptr, 10);
    }
    line_start = line_end + 2;
  }
  const auto encoding = reply.headers.find("transfer-encoding");
  if (encoding != reply.headers.end() && encoding->second.find("chunked") != std::string::npos) {
    std::string rest = data.substr(header_end + 4);
    auto more = [&]() {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      rest.append(buf, static_cast<size_t>(n));
      return true;
    };
    reply.body.clear();
    while (true) {
      size_t line_end;
      while ((line_end = rest.find("\r\n")) == std::string::npos) {
        if (!more()) return false;
      }
      const size_t size = std::strtoul(rest.substr(0, line_end).c_str(), nullptr, 16);
      rest.erase(0, line_end + 2);
      while (rest.size() < size + 2) {
        if (!more()) return false;
      }
      reply.body.append(rest, 0, size);
      rest.erase(0, size + 2);
      if (size == 0) return true;  // the last chunk (esar sends no trailers)
    }
  }
  reply.body = data.substr(header_end + 4);
  while (reply.body.size() < length) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    reply.body.append(buf, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

int HttpClient::Connect() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpReply HttpClient::Request(const std::string& method, const std::string& target,
                              const std::string& body,
                              const std::map<std::string, std::string>& headers) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!cookie.empty()) request += "Cookie: esar_session=" + cookie + "\r\n";
  if (!csrf.empty()) request += "X-CSRF-Token: " + csrf + "\r\n";
  bool typed = false;
  for (const auto& [name, value] : headers) {
    request += name + ": " + value + "\r\n";
    typed = typed || name == "Content-Type";
  }
  if (!typed && !body.empty()) request += "Content-Type: application/json\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  HttpReply reply;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0) fd_ = Connect();
    if (fd_ < 0) return reply;
    if (SendAll(fd_, request) && ReadReply(fd_, reply)) {
      if (reply.headers["connection"] == "close") {
        ::close(fd_);
        fd_ = -1;
      }
      return reply;
    }
    ::close(fd_);  // the server closed an idle keep-alive connection: try once on a new one
    fd_ = -1;
    reply = HttpReply{};
  }
  return reply;
}

bool HttpClient::Login(const std::string& username, const std::string& password) {
  cookie.clear();
  csrf.clear();
  HttpReply r = Request("POST", "/api/v1/session",
                        nlohmann::json{{"username", username}, {"password", password}}.dump());
  if (r.status != 200) return false;
  const std::string& set = r.headers["set-cookie"];
  const size_t eq = set.find('='), semi = set.find(';');
  cookie = set.substr(eq + 1, semi - eq - 1);
  csrf = nlohmann::json::parse(r.body)["csrf_token"];
  return true;
}

HttpReply HttpClient::Upload(const std::string& target, const std::string& filename,
                             const std::string& bytes,
                             const std::map<std::string, std::string>& fields) {
  const std::string boundary = "esar-test-boundary-7MA4YWxkTrZu0gW";
  std::string body;
  for (const auto& [name, value] : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" +
            value + "\r\n";
  }
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
          filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes + "\r\n--" +
          boundary + "--\r\n";
  return Request("POST", target, body,
                 {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
}

ServerProcess::ServerProcess(const std::string& db_url, const std::string& extra_args,
                             const std::string& data_dir) {
  data_dir_ = data_dir.empty() ? MakeTempDir() : data_dir;
  int out[2];
  if (::pipe(out) != 0) return;
  pid_ = ::fork();
  if (pid_ == 0) {
    // Die with the test: a test that crashes must not leave a server holding ctest's pipes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    const std::string command = std::string("exec '") + ESAR_BINARY +
                                "' serve --quiet --listen 127.0.0.1:0 --db '" + db_url +
                                "' --data-dir '" + data_dir_ + "/files' " + extra_args;
    ::setenv("ESAR_INSECURE_FAST_PASSWORD_HASHING", "1", 1);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  FILE* stream = ::fdopen(out[0], "r");
  char line[256];
  if (stream && std::fgets(line, sizeof line, stream)) {
    const char* colon = std::strrchr(line, ':');
    if (colon && std::strstr(line, "listening")) port_ = std::atoi(colon + 1);
  }
  if (stream) std::fclose(stream);
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop();
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace esar::testing
