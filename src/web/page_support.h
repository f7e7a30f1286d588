#pragma once

// What every page handler shares (internal to src/web): the request as a page sees it — who
// asks, in which language, the form sent — and the ways to answer: a page in the layout, a
// redirect, an error page.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/text.h"
#include "domain/model.h"
#include "service/actor.h"
#include "storage/database.h"
#include "web/http.h"
#include "web/view.h"

namespace esar::web {

inline constexpr const char* kLangCookie = "esar_lang";

struct PageCall {
  HttpRequest& request;
  storage::Database& db;
  const Clock& clock;
  const Views& views;
  service::Actor actor;
  std::string csrf;  // the session's CSRF token; "" for the public
  Lang lang = Lang::kThai;
  std::map<std::string, std::string> form;  // the fields of a POSTed urlencoded form

  // A message of the catalog in the caller's language.
  const std::string& T(const std::string& key) const { return views.Message(key, lang); }
  const std::string& Pick(const LocalizedText& text) const { return text.Pick(lang); }
  const std::string& Message(const Status& status) const {
    return lang == Lang::kThai ? status.message_th() : status.message_en();
  }
  // The form field, or "" when absent.
  std::string Field(const std::string& name) const;
  // The query parameter, or "" when absent.
  std::string Query(const std::string& name) const;
};

// `template_name` rendered with `model` inside the layout (navigation for the caller's role,
// the language switch, the flash message named by ?done=), with `title` as the page's title.
HttpResponse RenderPage(PageCall& call, const std::string& template_name, nlohmann::json model,
                        const std::string& title, int status = 200);
// A piece of a page without the layout, for htmx.
HttpResponse RenderFragment(PageCall& call, const std::string& template_name,
                            const nlohmann::json& model);
// 303 See Other to `location` (a path on this site). Whatever `location` holds, the header
// carries it through EncodeUriReference: raw text (a CR LF, a space, Thai) is percent-encoded.
HttpResponse Redirect(const std::string& location);
// The error page for `status`, with the HTTP status it maps to.
HttpResponse ErrorPage(PageCall& call, const Status& status);

// application/x-www-form-urlencoded (and query strings): '+' is a space, %XX a byte.
std::map<std::string, std::string> ParseUrlEncoded(std::string_view body);
std::string UrlEncode(std::string_view text);
// The fields of a multipart/form-data body (a form with a file input): each field's bytes by
// name, and a file's name (as CleanFileName leaves it) under "<field>.name". Text fields must be
// UTF-8 (InvalidInput otherwise); a file's bytes are kept as sent (binary, e.g. an XLSX), for
// its handler to check.
Result<std::map<std::string, std::string>> ParseMultipartForm(std::string_view body,
                                                              std::string_view content_type);
// `next` when it is a path on this site ("/agency"), else "/": never an open redirect.
std::string SafeNext(const std::string& next);

// A number as the framework prints it: `decimals` places, thousands separated ("1,234.50").
std::string Number(double value, int decimals);

// Field `key` of `object` when it is a string (or a number), else `fallback`: stored result
// documents hold null for what does not apply (no result, no grade).
std::string TextOr(const nlohmann::json& object, const char* key, const std::string& fallback);
double NumberOr(const nlohmann::json& object, const char* key, double fallback);

// A positive id in decimal ("17"), or 0 for anything else.
int64_t ParseId(const std::string& text);

// The highest ?page= a page list accepts (as the API's pagination): with at most a few hundred
// items a page, offsets stay far from overflowing.
inline constexpr int64_t kMaxPageNumber = 1'000'000;

// A ?page= value: 1 for an absent or malformed one, kMaxPageNumber for a larger number (however
// many digits it has), else the number.
int64_t PageNumber(const std::string& text);

// The model of one date field (templates/part_date_field: a text field that takes and shows
// "30/9/2567", read back with ParseDateField): its HTML id, form name, label and value
// (DateFieldText of a moment, what was typed when a form comes back with an error, or "").
nlohmann::json DateField(const std::string& id, const std::string& name,
                         const std::string& label, const std::string& value,
                         bool required = true);

// An id-safe form of `text` for HTML id attributes ("4.1" -> "4-1").
std::string HtmlId(std::string text);

// The name of a component a framework's KPIs name without listing it in `components` (so without
// a name of its own): the usual name of the OPDC's components ("performance" → "องค์ประกอบที่ 1
// การประเมินประสิทธิภาพ (Performance Base)"), else the id as written.
std::string UnlistedComponentName(const PageCall& call, const std::string& id);

}  // namespace esar::web
