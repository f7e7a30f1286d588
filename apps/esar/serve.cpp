#include "serve.h"

#include <malloc.h>
#include <pthread.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "common/clock.h"
#include "storage/file_store.h"
#include "storage/migrations.h"
#include "storage/pool.h"
#include "web/api.h"
#include "web/pages.h"
#include "web/server.h"
#include "web/view.h"

namespace esar::cli {

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

  {
    auto db = storage::Open(options.db_url);
    if (!db) return fail(db.status());
    Status migrated = storage::Migrate(**db);
    if (!migrated.ok()) return fail(migrated);
  }
  auto files = storage::OpenDiskFileStore(options.data_dir);
  if (!files) return fail(files.status());

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
  storage::DatabasePool pool(options.db_url, std::max<size_t>(64, 2 * options.worker_threads));
  SystemClock clock;
  web::Metrics metrics;
  metrics.set_log(!options.quiet);
  web::ApiOptions api_options;
  api_options.max_upload_bytes = static_cast<int64_t>(server_options.max_upload_bytes);
  api_options.secure_cookies = options.secure_cookies;
  // For test suites only: cheap password hashes, so that logins under sanitizers stay quick.
  if (const char* fast = std::getenv("ESAR_INSECURE_FAST_PASSWORD_HASHING");
      fast && std::string(fast) == "1") {
    api_options.hash_strength = security::HashStrength::kMinimum;
  }
  web::Api api(pool, **files, clock, metrics, api_options);
  web::Router router;
  api.Register(router);
  auto views = web::Views::Load();
  if (!views) return fail(views.status());
  web::Pages pages(
      pool, **files, clock, metrics, **views,
      {api_options.hash_strength, api_options.secure_cookies, api_options.max_upload_bytes});
  pages.Register(router);
  auto server = web::Server::Start(server_options, router, &metrics);
  if (!server) return fail(server.status());
  std::cout << "esar: listening on http://" << server_options.address << ":" << (*server)->port()
            << std::endl;
  std::cerr << "esar: at most " << (*server)->max_connections() << " connections ("
            << descriptors << " descriptors), " << server_options.worker_threads << " workers"
            << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  std::cerr << (thai ? "esar: ได้รับสัญญาณหยุด กำลังปิดอย่างเรียบร้อย"
                     : "esar: stopping: finishing requests in flight")
            << std::endl;
  (*server)->Stop();
  return 0;
}

}  // namespace esar::cli
