#pragma once

// E-mail as MIME (RFC 2045-2049, 5322): the outbox's plain-text message made into a
// multipart/alternative message with a UTF-8 text part and an HTML part, its Thai subject
// encoded (RFC 2047), its link made absolute with the server's public address. No I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "service/notify.h"

namespace esar::mail {

// Where links point and who the mail is from.
struct MimeSettings {
  std::string from;        // the envelope and From: address ("esar@example.go.th")
  std::string public_url;  // "https://esar.example.go.th" (no trailing slash needed)
};

// `text` as RFC 2047 encoded words ("=?UTF-8?B?...?="), each at most 75 characters and never
// splitting a UTF-8 character, joined by CRLF and a space (a folded header); plain ASCII
// without specials is returned as it is.
std::string EncodeHeaderText(std::string_view text);

// `bytes` in base64, lines of at most 76 characters ending in CRLF.
std::string Base64Lines(std::string_view bytes);

// The absolute address of esar path `link` under `public_url` ("" when `link` is "").
std::string AbsoluteLink(const std::string& public_url, const std::string& link);

// The whole message for `mail` (headers and body, CRLF line ends) as it is handed to the relay,
// sent at `now_ms`. Its Message-ID is derived from the outbox row (id and creation time), so a
// message sent again after a crash carries the same id and a mailbox can tell the two apart.
std::string BuildMime(const service::OutboxItem& mail, const MimeSettings& settings,
                      int64_t now_ms);

}  // namespace esar::mail
