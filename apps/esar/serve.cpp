#include "serve.h"

#include <malloc.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "audit_key.h"
#include "common/clock.h"
#include "security/password_hasher.h"
#include "mail/smtp.h"
#include "mail/worker.h"
#include "service/directory.h"
#include "service/notices.h"
#include "service/notify.h"
#include "storage/file_store.h"
#include "storage/migrations.h"
#include "storage/pool.h"
#include "web/api.h"
#include "web/pages.h"
#include "web/server.h"
#include "web/view.h"

namespace esar::cli {
namespace {

// How often expired sessions, idle login-throttle entries and old idempotency keys are purged.
constexpr auto kPurgeInterval = std::chrono::minutes(10);

// Runs Directory::Purge at start and every kPurgeInterval on a thread of its own, until
// destroyed. A failed purge is logged and tried again next time: nothing depends on it soon.
class PeriodicPurge {
 public:
  PeriodicPurge(storage::DatabasePool& pool, const Clock& clock, bool log)
      : thread_([this, &pool, &clock, log] { Run(pool, clock, log); }) {}
  ~PeriodicPurge() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

 private:
  void Run(storage::DatabasePool& pool, const Clock& clock, bool log) {
    std::unique_lock<std::mutex> lock(mutex_);
    do {
      lock.unlock();
      Once(pool, clock, log);
      lock.lock();
    } while (!wake_.wait_for(lock, kPurgeInterval, [this] { return stopping_; }));
  }

  static void Once(storage::DatabasePool& pool, const Clock& clock, bool log) {
    auto lease = pool.Acquire();
    Result<service::Purged> purged = lease ? service::Directory(**lease, clock).Purge()
                                           : Result<service::Purged>(lease.status());
    if (!purged) {
      std::cerr << nlohmann::json{{"ts", clock.NowMs()},
                                  {"level", "error"},
                                  {"event", "purge"},
                                  {"message", purged.status().message_en()}}
                       .dump()
                << std::endl;
      return;
    }
    if (log && purged->sessions + purged->throttle_entries + purged->idempotency_keys > 0) {
      std::cerr << nlohmann::json{{"ts", clock.NowMs()},
                                  {"level", "info"},
                                  {"event", "purge"},
                                  {"sessions", purged->sessions},
                                  {"throttle_entries", purged->throttle_entries},
                                  {"idempotency_keys", purged->idempotency_keys}}
                       .dump()
                << std::endl;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: started once the rest exists
};

// esar@<host of `public_url`>, or esar@localhost when the host is an address (a bare IP
// makes no mail domain).
std::string DefaultMailFrom(const std::string& public_url) {
  std::string host = public_url.substr(public_url.find("://") + 3);
  host = host.substr(0, host.find_first_of(":/"));
  const bool address =
      host.empty() || host.find_first_not_of("0123456789.") == std::string::npos || host[0] == '[';
  return "esar@" + (address ? std::string("localhost") : host);
}

// The relay's URL without its password, for the log.
std::string RelayForLog(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return url;
  return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

}  // namespace

int Serve(const ServeOptions& options, Lang lang) {
  const bool thai = lang == Lang::kThai;
  auto fail = [&](const Status& s) {
    std::cerr << (thai ? "esar: ข้อผิดพลาด: " : "esar: error: ") << s.ToString(thai) << "\n";
    return 2;
  };
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) {
    return fail(Status::InvalidInput("--listen ต้องอยู่ในรูป host:port", "--listen must be host:port"));
  }
  web::ServerOptions server_options;
  server_options.address = options.listen.substr(0, colon);
  try {
    const int port = std::stoi(options.listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    server_options.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return fail(Status::InvalidInput("พอร์ตไม่ถูกต้อง", "bad port in --listen"));
  }
  server_options.max_upload_bytes = static_cast<size_t>(options.max_upload_mb) << 20;
  server_options.header_timeout_ms = int64_t{options.header_timeout_s} * 1000;
  server_options.worker_threads = options.worker_threads;
  // As an operator's `ulimit -n` would: idle connections cost descriptors, not threads.
  const uint64_t descriptors = web::RaiseDescriptorLimit();
  server_options.max_connections =
      options.max_connections ? options.max_connections : web::DefaultMaxConnections(descriptors);
  auto proxy = web::TrustedProxy::Parse(options.trusted_proxy);
  if (!proxy) return fail(proxy.status());

  if (!options.smtp_url.empty()) {
    const std::string wrong = mail::CheckSmtpUrl(options.smtp_url);
    if (!wrong.empty()) {
      return fail(Status::InvalidInput("--smtp ต้องเป็น smtp://host:port หรือ smtps://host:port",
                                       "--smtp: " + wrong));
    }
  }
  if (!options.smtp_ca_file.empty()) {
    // Checked now: a wrong path would otherwise show only as every e-mail failing later.
    std::ifstream ca(options.smtp_ca_file);
    std::string first;
    if (!ca || !std::getline(ca, first)) {
      return fail(Status::InvalidInput(
          "อ่านไฟล์ --smtp-ca-file ไม่ได้: " + options.smtp_ca_file,
          "--smtp-ca-file cannot be read: " + options.smtp_ca_file));
    }
  }
  if (!options.mail_from.empty() && !service::IsValidEmail(options.mail_from)) {
    return fail(Status::InvalidInput("--mail-from ไม่ใช่ที่อยู่อีเมลที่ถูกต้อง",
                                     "--mail-from is not a valid e-mail address"));
  }
  if (!options.public_url.empty() && options.public_url.rfind("http://", 0) != 0 &&
      options.public_url.rfind("https://", 0) != 0) {
    return fail(Status::InvalidInput("--public-url ต้องขึ้นต้นด้วย http:// หรือ https://",
                                     "--public-url must start with http:// or https://"));
  }
  // libcurl's global state, before any thread starts.
  mail::CurlGlobalInit();

  auto files = storage::OpenDiskFileStore(options.data_dir);
  if (!files) return fail(files.status());
  {
    auto db = storage::Open(options.db_url);
    if (!db) return fail(db.status());
    Status migrated = storage::Migrate(**db);
    if (!migrated.ok()) return fail(migrated);
    // Every audit entry this server writes is sealed; the key is made at the first start.
    Status sealed = UseAuditSeal(**db, {options.data_dir, options.audit_key_file},
                                 KeyUse::kCreateAtFirstStart, lang);
    if (!sealed.ok()) return fail(sealed);
  }

  // Every thread started from here on inherits this mask; the signals are taken by sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // More connections than workers: a handler may hold a second lease briefly (an upload's answer).
  // Two malloc arenas instead of glibc's eight per core: with a few dozen threads, each arena keeps
  // what its threads freed, and the resident size grows with the number of threads that ever
  // handled a large result. Two cores cannot use more in parallel anyway.
  ::mallopt(M_ARENA_MAX, 2);
  // Fixed thresholds instead of glibc's moving ones (128 KB at first): a page's few hundred
  // kilobytes (an agency report, a review queue scoring its agencies) were handed back to the
  // system after each request and faulted in again by the next, ~110 page faults and 2-3 ms of
  // CPU a request (issue 9: 9.7 -> 7.0 ms for an agency report at 8,000 agencies). Blocks of
  // 4 MB and more (a computation's rows, an export) are still mapped apart and unmapped when
  // freed, each arena keeps at most 16 MB free at its top, and large answers still end with
  // malloc_trim (web/server.cpp), so the resident size stays bounded.
  ::mallopt(M_MMAP_THRESHOLD, 4 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 16 << 20);
  storage::DatabasePool pool(options.db_url, std::max<size_t>(64, 2 * options.worker_threads));
  SystemClock clock;
  // Answers and announcements tell those they concern, in the transaction that makes them.
  service::ConnectNotices(clock);
  web::Metrics metrics;
  metrics.set_log(!options.quiet);
  metrics.set_proxy(*proxy);
  // For test suites only: cheap password hashes, so that logins under sanitizers stay quick.
  security::HashStrength strength = security::HashStrength::kInteractive;
  if (const char* fast = std::getenv("ESAR_INSECURE_FAST_PASSWORD_HASHING");
      fast && std::string(fast) == "1") {
    strength = security::HashStrength::kMinimum;
  }
  // One hash per core at a time (each takes a core and 64 MiB), as many waiting briefly; more
  // are refused with 503 and Retry-After rather than queued behind a flood.
  const size_t hashes = options.hash_concurrency > 0
                            ? static_cast<size_t>(options.hash_concurrency)
                            : std::max(1u, std::thread::hardware_concurrency());
  security::PasswordHasher hasher(strength, {hashes, hashes, 1000});
  web::ApiOptions api_options;
  api_options.hasher = &hasher;
  api_options.proxy = *proxy;
  api_options.uploads.max_file_bytes = static_cast<int64_t>(server_options.max_upload_bytes);
  api_options.uploads.max_submission_bytes = int64_t{options.max_submission_mb} << 20;
  api_options.uploads.max_submission_files = options.max_submission_files;
  api_options.uploads.max_unzipped_bytes = int64_t{options.max_unzipped_mb} << 20;
  api_options.uploads.max_case_log_cases = options.max_case_log_cases;
  api_options.secure_cookies = options.secure_cookies;
  api_options.metrics_token = options.metrics_token;
  api_options.mail_sending = !options.smtp_url.empty();
  web::Api api(pool, **files, clock, metrics, api_options);
  web::Router router;
  api.Register(router);
  auto views = web::Views::Load();
  if (!views) return fail(views.status());
  web::Pages pages(pool, **files, clock, metrics, **views,
                   {&hasher, api_options.secure_cookies, api_options.uploads, *proxy,
                    api_options.mail_sending});
  PeriodicPurge purge(pool, clock, !options.quiet);
  pages.Register(router);
  auto server = web::Server::Start(server_options, router, &metrics);
  if (!server) return fail(server.status());
  std::cout << "esar: listening on http://" << server_options.address << ":" << (*server)->port()
            << std::endl;
  std::cerr << "esar: at most " << (*server)->max_connections() << " connections (" << descriptors
            << " descriptors), " << server_options.worker_threads << " workers" << std::endl;

  // The mail worker: sends the outbox through the relay (when there is one) and runs the
  // reminders and digests. Links point at --public-url, by default the address listened on.
  mail::MailWorkerOptions mail_options;
  mail_options.smtp_url = options.smtp_url;
  mail_options.mime.public_url =
      options.public_url.empty() ? "http://" + server_options.address + ":" +
                                       std::to_string((*server)->port())
                                 : options.public_url;
  mail_options.mime.from =
      options.mail_from.empty() ? DefaultMailFrom(mail_options.mime.public_url) : options.mail_from;
  mail_options.retry.first_retry_ms = int64_t{options.mail_retry_s} * 1000;
  mail_options.schedule.reminder_days = options.reminder_days;
  mail_options.schedule.digest_hour = options.digest_hour;
  mail_options.log = !options.quiet;
  mail::MailWorker mailer(pool, clock, mail_options,
                          options.smtp_url.empty()
                              ? nullptr
                              : mail::MakeSmtpSender(options.smtp_url, options.smtp_ca_file));
  if (options.smtp_url.empty()) {
    std::cerr << (thai ? "esar: ไม่ได้ตั้ง --smtp: ไม่ส่งอีเมล อีเมลรออยู่ในกล่องขาออก (/admin/outbox)"
                       : "esar: no --smtp: no e-mail is sent; it waits in the outbox (/admin/outbox)")
              << std::endl;
  } else {
    std::cerr << "esar: e-mail through " << RelayForLog(options.smtp_url) << " from "
              << mail_options.mime.from << ", links to " << mail_options.mime.public_url
              << std::endl;
  }

  int received = 0;
  sigwait(&signals, &received);
  std::cerr << (thai ? "esar: ได้รับสัญญาณหยุด กำลังปิดอย่างเรียบร้อย"
                     : "esar: stopping: finishing requests in flight")
            << std::endl;
  (*server)->Stop();
  return 0;
}

}  // namespace esar::cli
