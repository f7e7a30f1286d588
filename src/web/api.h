#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "security/crypto.h"
#include "security/password_hasher.h"
#include "storage/file_store.h"
#include "storage/pool.h"
#include "web/auth.h"
#include "web/http.h"
#include "web/server.h"

namespace esar::web {

// Counters for GET /metrics (Prometheus text format), and a JSON log line per request on
// standard error. Thread-safe.
class Metrics final : public RequestObserver {
 public:
  void OnResponse(const HttpRequest& request, int status, double milliseconds) override;
  void CountSubmission() { submissions_++; }
  void CountUpload() { uploads_++; }
  std::string Text() const;
  void set_log(bool log) { log_ = log; }
  // Whose X-Forwarded-For names the client in the log line (set before serving).
  void set_proxy(const TrustedProxy& proxy) { proxy_ = proxy; }
  // Writes an error line about `request` to standard error (even with the access log off).
  void LogError(const HttpRequest& request, const std::string& message);

 private:
  static constexpr std::array<double, 10> kBucketsMs = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000};
  std::atomic<int64_t> by_class_[6] = {};  // index status / 100
  std::atomic<int64_t> buckets_[kBucketsMs.size() + 1] = {};
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> sum_micros_{0};
  std::atomic<int64_t> submissions_{0};
  std::atomic<int64_t> uploads_{0};
  std::atomic<bool> log_{true};
  TrustedProxy proxy_;
  std::mutex log_mutex_;
};

// What evidence uploads may come to (esar serve's --max-upload-mb, --max-submission-mb,
// --max-submission-files, --max-unzipped-mb; docs/operations.md).
struct UploadLimits {
  int64_t max_file_bytes = 20 << 20;                // one file
  int64_t max_submission_bytes = int64_t{50} << 20;  // all the files of one submission
  int64_t max_submission_files = 20;                // counting replaced files (they are kept)
  int64_t max_unzipped_bytes = int64_t{100} << 20;   // an office file (ZIP) once opened
  int64_t max_case_log_cases = 200'000;  // cases in one uploaded case log (each verdict is kept)
};

struct ApiOptions {
  // Every password hash and check goes through it (bounded; see password_hasher.h). Required.
  security::PasswordHasher* hasher = nullptr;
  TrustedProxy proxy;  // who may name the client (the login throttle's address)
  UploadLimits uploads;
  bool secure_cookies = false;  // add Secure to the session cookie (served over TLS)
  // GET /metrics: "" serves it to loopback peers only (not forwarded by a proxy); otherwise
  // only to requests with "Authorization: Bearer <metrics_token>".
  std::string metrics_token;
  // True when the server's mail worker sends the outbox (--smtp given): GET /api/v1/outbox says
  // so, since without it e-mail only waits.
  bool mail_sending = false;
};

// The REST API under /api/v1, plus /healthz and /metrics. Handlers borrow a database connection
// from the pool for the request, authenticate the caller (session cookie, with a CSRF token on
// every unsafe method, or an API token), call the services and answer JSON; every failure has
// the shape {"error": {"code", "message_th", "message_en", "details"}}.
class Api {
 public:
  Api(storage::DatabasePool& pool, storage::FileStore& files, const Clock& clock, Metrics& metrics,
      ApiOptions options)
      : pool_(pool), files_(files), clock_(clock), metrics_(metrics), options_(options) {}

  // Adds every route to `router`.
  void Register(Router& router);

 private:
  storage::DatabasePool& pool_;
  storage::FileStore& files_;
  const Clock& clock_;
  Metrics& metrics_;
  ApiOptions options_;

  // Published agency results, the most read answers: published results never change, and anyone
  // may read them, so the answer is kept for a second (a newer publication shows within it).
  struct CachedAnswer {
    int64_t expires_at = 0;
    std::string body;
  };
  std::mutex cache_mutex_;
  std::unordered_map<std::string, CachedAnswer> published_;  // guarded by cache_mutex_
};

}  // namespace esar::web
