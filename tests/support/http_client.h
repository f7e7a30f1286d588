#pragma once

// A small HTTP/1.1 client for tests on 127.0.0.1, and a helper that runs `esar serve` as a
// child process.

#include <sys/types.h>

#include <map>
#include <string>

namespace esar::testing {

struct HttpReply {
  int status = 0;                              // 0 when the request could not be made
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// One keep-alive connection to 127.0.0.1:port that remembers the session cookie and the CSRF
// token it is given, and sends them back.
class HttpClient {
 public:
  explicit HttpClient(int port) : port_(port) {}
  ~HttpClient();

  HttpReply Request(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::map<std::string, std::string>& headers = {});
  // POST /api/v1/session; remembers the cookie and the CSRF token. True on 200.
  bool Login(const std::string& username, const std::string& password);
  // A multipart/form-data upload of one file in the "file" part.
  HttpReply Upload(const std::string& target, const std::string& filename, const std::string& bytes,
                   const std::map<std::string, std::string>& fields = {});

  std::string cookie;
  std::string csrf;

 private:
  int Connect();
  int port_;
  int fd_ = -1;
};

// `esar serve` on a free port of 127.0.0.1, with the given database and a fresh data folder.
class ServerProcess {
 public:
  // Starts it and waits until it listens; port() is 0 when it did not start. `data_dir` keeps the
  // evidence files (a fresh folder when empty).
  ServerProcess(const std::string& db_url, const std::string& extra_args = "", const std::string& data_dir = "");
  ~ServerProcess();  // Stop()
  int port() const { return port_; }
  // SIGTERM and wait; returns its exit status (-1 when it was killed by a signal).
  int Stop();
  // SIGKILL and wait.
  void Kill();
  const std::string& data_dir() const { return data_dir_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string data_dir_;
};

}  // namespace esar::testing
