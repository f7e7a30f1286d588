#pragma once

// Handing a message to an SMTP relay. libcurl's SMTP: Debian-packaged, well kept, it speaks
// ESMTP with STARTTLS (certificate checked) and AUTH from the URL's user and password, and it
// is one handle per message with no daemon of its own. Only this file and smtp.cpp see curl.

#include <memory>
#include <string>

namespace esar::mail {

// What the relay said.
struct SendOutcome {
  bool accepted = false;
  // The relay refused for good (a 5xx answer): trying again will not help.
  bool permanent = false;
  // The relay's last answer ("250 2.0.0 Ok: queued", "550 5.1.1 no such user") or why no
  // answer came ("Couldn't connect to server").
  std::string answer;
};

// Sends one message; an interface so that the worker can be tested without a relay.
class MailSender {
 public:
  virtual ~MailSender() = default;
  // Hands `message` (MIME, CRLF line ends) to the relay for `to`, from `from`. Blocks for at
  // most about a minute. Thread-compatible: one call at a time per sender.
  virtual SendOutcome Send(const std::string& from, const std::string& to,
                           const std::string& message) = 0;
};

// A sender to `url`: "smtp://host:port" (STARTTLS when the relay offers it, plain otherwise:
// libcurl's CURLOPT_USE_SSL = CURLUSESSL_TRY), "smtps://host:port" (TLS from the start);
// "smtp://user:password@host:port" to log in. Whenever TLS is used the relay's certificate and
// host name are checked, against the certificate authorities of `ca_file` (PEM; CURLOPT_CAINFO)
// or the system's when it is "": a relay that offers STARTTLS with a certificate that fails the
// check gets nothing (the send fails with curl's TLS error; it never falls back to plain text).
// curl_global_init must have run (CurlGlobalInit) before the first one is made.
std::unique_ptr<MailSender> MakeSmtpSender(const std::string& url,
                                           const std::string& ca_file = "");

// Initializes libcurl for the process (not thread-safe: call once at start, before threads).
void CurlGlobalInit();

// Ok-or-not check of a relay URL: "smtp://" or "smtps://" with a host. Returns "" when fine,
// else what is wrong (English).
std::string CheckSmtpUrl(const std::string& url);

}  // namespace esar::mail
