#include "mail/smtp.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>

namespace esar::mail {
namespace {

struct Upload {
  const std::string* data;
  size_t at = 0;
};

size_t ReadMessage(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const size_t room = size * count;
  const size_t n = std::min(room, up->data->size() - up->at);
  std::memcpy(buffer, up->data->data() + up->at, n);
  up->at += n;
  return n;
}

// Keeps the relay's last answer line: curl's own error says little ("Failed sending data").
int Trace(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) return 0;
  std::string line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (!line.empty()) *static_cast<std::string*>(user) = line;
  return 0;
}

class CurlSmtpSender final : public MailSender {
 public:
  CurlSmtpSender(std::string url, std::string ca_file)
      : url_(std::move(url)), ca_file_(std::move(ca_file)) {}

  SendOutcome Send(const std::string& from, const std::string& to,
                   const std::string& message) override {
    SendOutcome out;
    CURL* curl = curl_easy_init();
    if (!curl) {
      out.answer = "curl_easy_init failed";
      return out;
    }
    Upload up{&message};
    std::string last;
    char error[CURL_ERROR_SIZE] = {0};
    struct curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
    const std::string mail_from = "<" + from + ">";
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    // STARTTLS whenever the relay offers it; smtps:// URLs are TLS from the start anyway.
    curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
    // The certificate is always checked (curl's default, stated so that nobody turns it off):
    // with TRY, a failed handshake fails the send rather than going on in clear.
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!ca_file_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadMessage);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for timeouts
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, Trace);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &last);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);  // needed for the trace; it prints nothing
    const CURLcode code = curl_easy_perform(curl);
    long response = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (code == CURLE_OK) {
      out.accepted = true;
      out.answer = last;
      return out;
    }
    out.permanent = response >= 500 && response < 600;
    const std::string why = error[0] ? error : curl_easy_strerror(code);
    out.answer = last.empty() || (response == 0) ? why : last + " (" + why + ")";
    return out;
  }

 private:
  std::string url_;
  std::string ca_file_;  // "" = the system's certificate authorities
};

}  // namespace

std::unique_ptr<MailSender> MakeSmtpSender(const std::string& url, const std::string& ca_file) {
  return std::make_unique<CurlSmtpSender>(url, ca_file);
}

void CurlGlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }

std::string CheckSmtpUrl(const std::string& url) {
  const bool smtp = url.rfind("smtp://", 0) == 0, smtps = url.rfind("smtps://", 0) == 0;
  if (!smtp && !smtps) return "the relay must be smtp://host:port or smtps://host:port";
  const std::string rest = url.substr(smtp ? 7 : 8);
  if (rest.empty() || rest[0] == '/' || rest[0] == ':') return "the relay URL has no host";
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20) return "the relay URL has a space or control character";
  }
  return "";
}

}  // namespace esar::mail
