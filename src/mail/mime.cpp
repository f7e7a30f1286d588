#include "mail/mime.h"

#include <ctime>
#include <string>

namespace esar::mail {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                       static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// True when `text` can stand in a header as it is: printable ASCII, no "=?" that a reader would
// take for an encoded word.
bool PlainHeader(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return text.find("=?") == std::string_view::npos;
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Text with CRLF line ends (what SMTP carries), whatever it had.
std::string Crlf(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') continue;
    if (text[i] == '\n') out += "\r\n";
    else out += text[i];
  }
  return out;
}

std::string RfcDate(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

}  // namespace

std::string Base64Lines(std::string_view bytes) {
  const std::string flat = Base64(bytes);
  std::string out;
  for (size_t i = 0; i < flat.size(); i += 76) out += flat.substr(i, 76) + "\r\n";
  return out;
}

std::string EncodeHeaderText(std::string_view text) {
  if (PlainHeader(text) && text.size() <= 900) return std::string(text);
  // "=?UTF-8?B?" + base64 + "?=" is at most 75 characters with 45 bytes of text (60 of base64).
  constexpr size_t kChunk = 45;
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = std::min(text.size(), at + kChunk);
    // Back up to a character's first byte: an encoded word must hold whole characters.
    while (end < text.size() && end > at &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(text.substr(at, end - at)) + "?=";
    at = end;
  }
  return out;
}

std::string AbsoluteLink(const std::string& public_url, const std::string& link) {
  if (link.empty()) return "";
  std::string base = public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + link;
}

std::string BuildMime(const service::OutboxItem& mail, const MimeSettings& settings,
                      int64_t now_ms) {
  const bool thai = mail.language == Lang::kThai;
  const std::string url = AbsoluteLink(settings.public_url, mail.link);
  const std::string open_label = thai ? "เปิดในระบบ e-SAR" : "Open in e-SAR";
  const std::string footer = thai ? "อีเมลฉบับนี้ส่งจากระบบ e-SAR โดยอัตโนมัติ โปรดอย่าตอบกลับ"
                                  : "This e-mail was sent by e-SAR automatically; please do not "
                                    "reply.";
  std::string text = mail.body;
  if (!url.empty()) text += "\n\n" + open_label + ":\n" + url;
  text += "\n\n-- \n" + footer + "\n";

  std::string html = "<!DOCTYPE html>\n<html lang=\"" + std::string(thai ? "th" : "en") +
                     "\">\n<head><meta charset=\"utf-8\"><title>" + EscapeHtml(mail.subject) +
                     "</title></head>\n<body style=\"font-family: sans-serif; line-height: "
                     "1.6\">\n";
  // Paragraphs are separated by blank lines; single line breaks stay breaks.
  size_t start = 0;
  const std::string& body = mail.body;
  while (start <= body.size()) {
    size_t end = body.find("\n\n", start);
    if (end == std::string::npos) end = body.size();
    std::string paragraph = EscapeHtml(body.substr(start, end - start));
    std::string with_breaks;
    for (const char c : paragraph) {
      if (c == '\n') with_breaks += "<br>\n";
      else with_breaks += c;
    }
    if (!with_breaks.empty()) html += "<p>" + with_breaks + "</p>\n";
    start = end + 2;
  }
  if (!url.empty()) {
    html += "<p><a href=\"" + EscapeHtml(url) + "\">" + EscapeHtml(open_label) + "</a></p>\n";
  }
  html += "<hr>\n<p style=\"color: #555; font-size: 90%\">" + EscapeHtml(footer) +
          "</p>\n</body>\n</html>\n";

  const size_t at = settings.from.find('@');
  const std::string domain = at == std::string::npos ? "esar.invalid" : settings.from.substr(at + 1);
  const std::string boundary =
      "esar-" + std::to_string(mail.id) + "-" + std::to_string(mail.created_at) + "-alt";
  std::string out;
  out += "From: e-SAR <" + settings.from + ">\r\n";
  out += "To: <" + mail.address + ">\r\n";
  out += "Subject: " + EncodeHeaderText(mail.subject) + "\r\n";
  out += "Date: " + RfcDate(now_ms) + "\r\n";
  out += "Message-ID: <esar-outbox-" + std::to_string(mail.id) + "-" +
         std::to_string(mail.created_at) + "@" + domain + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Language: " + std::string(thai ? "th" : "en") + "\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "X-Esar-Kind: " + mail.kind + "\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  out += Base64Lines(Crlf(text));
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/html; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  out += Base64Lines(Crlf(html));
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace esar::mail
