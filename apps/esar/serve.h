#pragma once

#include <string>
#include <vector>

#include "common/text.h"

namespace esar::cli {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 = any free port
  std::string db_url;
  std::string data_dir = "esar-data";  // evidence files, the audit key and the chain head
  std::string audit_key_file;          // "" = DATA_DIR/audit.key, created at the first start
  int max_upload_mb = 20;
  int max_submission_mb = 50;     // all the evidence of one submission (replaced files too)
  int max_submission_files = 20;  // likewise, in files
  int64_t max_case_log_cases = 200'000;  // cases in one uploaded case log
  int max_unzipped_mb = 100;      // an office file (ZIP) once opened
  std::string metrics_token;      // "" = /metrics for loopback peers only
  size_t max_connections = 0;  // 0: derived from the descriptor limit (web::DefaultMaxConnections)
  size_t worker_threads = 16;  // threads that run handlers
  int header_timeout_s = 10;   // a request's header must arrive within this
  bool quiet = false;           // no access log lines
  bool secure_cookies = false;  // served over TLS (e.g. behind a TLS proxy): cookies get Secure
  // The reverse proxy (one address or several, comma-separated) whose X-Forwarded-For names the
  // client; "" = none: the connection's address is the client's.
  std::string trusted_proxy;
  // Password hashes run at once (64 MiB each); 0 = one per core.
  int hash_concurrency = 0;
  // E-mail. Without a relay nothing is sent: e-mail waits in the outbox (the admins' outbox page
  // says so) and the reminder schedule still fills the notification lists.
  std::string smtp_url;    // smtp://host:port or smtps://host:port
  // A PEM file of the certificate authorities the relay's TLS certificate is checked against
  // (an internal CA); "" = the system's (/etc/ssl/certs). Must be readable at start.
  std::string smtp_ca_file;
  std::string mail_from;   // "" = esar@<the public URL's host>
  std::string public_url;  // "" = http://<listen address>: links in e-mail
  int mail_retry_s = 60;   // the first wait before a retry (doubling, at most an hour)
  std::vector<int> reminder_days = {7, 3, 1};
  int digest_hour = 8;
};

// Runs the server until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish
// and closes the database. Prints "esar: listening on http://HOST:PORT" once it accepts.
// Returns the process's exit code.
int Serve(const ServeOptions& options, Lang lang);

}  // namespace esar::cli
