// Questions and answers (issue 13 §4, seed 004) and announcements (§3): the public Q&A of each
// cycle with Thai search, an agency's questions, the central office's answers and
// announcements.

#include <algorithm>
#include <map>
#include <set>

#include "common/thai.h"
#include "formats/qa_json.h"
#include "service/announcements.h"
#include "service/cycle.h"
#include "service/questions.h"
#include "web/evidence_upload.h"
#include "web/kpi_view.h"
#include "web/page_support.h"
#include "web/pages.h"

namespace esar::web {

using nlohmann::json;
using service::QuestionInfo;

namespace {

// The kind of agency as the interface names it ("จังหวัด"), or its code when the catalog has
// no name for it.
std::string KindName(const PageCall& call, const std::string& kind) {
  const std::string key = "kind." + kind;
  const std::string& name = call.T(key);
  return name == key ? kind : name;
}

// "ปีงบประมาณ พ.ศ. 2563 - 2564" / "fiscal years 2020 - 2021 (B.E. 2563 - 2564)", or one year.
std::string YearsName(const PageCall& call, int from, int through) {
  if (through <= from) return FiscalYearName(from, call.lang);
  if (call.lang == Lang::kThai) {
    return "ปีงบประมาณ พ.ศ. " + std::to_string(from) + " - " + std::to_string(through);
  }
  return "fiscal years " + std::to_string(from - 543) + " - " + std::to_string(through - 543) +
         " (B.E. " + std::to_string(from) + " - " + std::to_string(through) + ")";
}

// The public address of a cycle's Q&A.
std::string CycleHref(int fiscal_year, const std::string& kind) {
  return "/qa/" + std::to_string(fiscal_year) + "/" + kind;
}

// Where a question stands, as a tag: waiting, answered (not public), or published as number N.
json StateTag(const PageCall& call, const QuestionInfo& q) {
  if (!q.answered) return {{"label", call.T("qa.state.waiting")}, {"class", "warn"}};
  if (!q.published) return {{"label", call.T("qa.state.answered")}, {"class", "info"}};
  return {{"label", call.T("qa.state.published") + " " + std::to_string(q.number)},
          {"class", "ok"}};
}

// Text broken into paragraphs at its line breaks, for templates (escaped there).
json Paragraphs(const std::string& text) {
  json out = json::array();
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
    start = end + 1;
  }
  return out;
}

json QuestionModel(const PageCall& call, const QuestionInfo& q) {
  json m = {{"id", q.id},
            {"number", q.number},
            {"question", Paragraphs(q.question)},
            {"answer", Paragraphs(q.answer)},
            {"answered", q.answered},
            {"published", q.published},
            {"kpi", q.kpi.empty() ? json(nullptr) : json(q.kpi)},
            {"cycle", KindName(call, q.agency_kind) + " · " +
                          YearsName(call, q.fiscal_year, q.through_year)},
            {"asked_at", FormatDateTime(q.asked_at, call.lang)},
            {"state", StateTag(call, q)}};
  if (q.answered) m["answered_at"] = FormatDateTime(q.answered_at, call.lang);
  if (!q.agency.empty()) {
    m["agency"] = q.agency;
    m["agency_name"] = call.lang == Lang::kEnglish && !q.agency_name_en.empty()
                           ? q.agency_name_en
                           : q.agency_name_th;
  }
  if (q.published) m["public_href"] = CycleHref(q.fiscal_year, q.agency_kind) + "#q" +
                                      std::to_string(q.number);
  return m;
}

// The fiscal year of a form or path, or 0 when it is not a Buddhist Era year.
int YearParam(const std::string& text) {
  const int64_t year = ParseId(text);
  return year >= 2400 && year <= 2800 ? static_cast<int>(year) : 0;
}

}  // namespace

HttpResponse Pages::QaIndex(PageCall& call) {
  auto cycles = service::Questions(call.db, clock_).PublishedCycles();
  if (!cycles) return ErrorPage(call, cycles.status());
  json list = json::array();
  for (const service::QaCycle& c : *cycles) {
    list.push_back({{"href", CycleHref(c.fiscal_year, c.agency_kind)},
                    {"title", KindName(call, c.agency_kind) + " · " +
                                  YearsName(call, c.fiscal_year, c.through_year)},
                    {"count", c.published}});
  }
  return RenderPage(call, "qa_index", {{"cycles", list}, {"has_cycles", !list.empty()}},
                    call.T("qa.title"));
}

HttpResponse Pages::QaCycle(PageCall& call) {
  const int year = YearParam(call.request.params.at("year"));
  const std::string kind = call.request.params.at("kind");
  if (!year || !formats::IsValidAgencyKind(kind)) {
    return ErrorPage(call, Status::NotFound("ไม่มีรอบการประเมินนี้", "no such cycle"));
  }
  service::Questions questions(call.db, clock_);
  const std::string q = call.Query("q");
  auto all = questions.Published(year, kind);
  if (!all) return ErrorPage(call, all.status());
  int through = year;
  int64_t as_of = 0;
  for (const QuestionInfo& item : *all) {
    through = std::max(through, item.through_year);
    as_of = std::max(as_of, item.answered_at);
  }
  json model = {{"q", q},
                {"kind", KindName(call, kind)},
                {"years", YearsName(call, year, through)},
                {"action", CycleHref(year, kind)},
                {"has_any", !all->empty()}};
  if (as_of) model["as_of"] = FormatDate(as_of, call.lang);
  int status = 200;
  std::vector<QuestionInfo> shown;
  if (q.empty()) {
    shown = std::move(*all);
  } else {
    auto found = questions.Published(year, kind, q);
    if (!found) {
      model["error"] = call.Message(found.status());
      status = 400;
    } else {
      shown = std::move(*found);
      model["searched"] = true;
      model["found"] = call.T("qa.found") + " " + std::to_string(shown.size()) + " " +
                       call.T("qa.items");
    }
  }
  json items = json::array();
  for (const QuestionInfo& item : shown) items.push_back(QuestionModel(call, item));
  model["items"] = items;
  model["has_items"] = !items.empty();
  return RenderPage(call, "qa_cycle", model,
                    call.T("qa.title") + " · " + KindName(call, kind) + " " +
                        YearsName(call, year, through),
                    status);
}

json Pages::AnnouncementsModel(PageCall& call, int64_t limit) {
  json list = json::array();
  auto found = service::Announcements(call.db, clock_).List(call.actor, 0, "", limit);
  if (!found) return list;
  for (const service::AnnouncementInfo& a : *found) {
    json files = json::array();
    for (const service::AnnouncementFile& f : a.files) {
      files.push_back({{"name", f.name}, {"href", AnnouncementFileJson(f)["href"]}});
    }
    list.push_back({{"id", a.id},
                    {"title", a.title},
                    {"body", Paragraphs(a.body)},
                    {"cycle", KindName(call, a.agency_kind) + " · " +
                                  FiscalYearName(a.fiscal_year, call.lang)},
                    {"at", FormatDateTime(a.posted_at, call.lang)},
                    {"files", files},
                    {"has_files", !files.empty()}});
  }
  return list;
}

HttpResponse Pages::AgencyQuestions(PageCall& call) {
  auto agency = FindAgency(call.db, clock_, call.actor.agency);
  if (!agency) return ErrorPage(call, agency.status());
  service::Questions questions(call.db, clock_);
  auto years = questions.AskableYears(agency->kind);
  if (!years) return ErrorPage(call, years.status());
  const int chosen_year = YearParam(call.Field("fiscal_year"));
  json year_options = json::array();
  // The KPIs of each askable year's newest framework, each id once (newest year's name).
  json kpis = json::array();
  std::set<std::string> seen;
  service::Cycle cycle(call.db, clock_);
  for (int y : *years) {
    year_options.push_back(
        {{"value", y}, {"label", FiscalYearName(y, call.lang)}, {"selected", y == chosen_year}});
    auto framework = cycle.LatestFramework(y, agency->kind);
    if (!framework) continue;
    for (const domain::Kpi& k : framework->framework.kpis) {
      auto add = [&](const domain::Kpi& kpi) {
        if (!seen.insert(kpi.id).second) return;
        kpis.push_back({{"value", kpi.id},
                        {"label", kpi.id + " " + call.Pick(kpi.name)},
                        {"selected", kpi.id == call.Field("kpi")}});
      };
      add(k);
      for (const domain::Kpi& sub : k.sub_kpis) add(sub);
    }
  }
  auto mine = questions.List(call.actor, {0, "", "", 200, 0});
  if (!mine) return ErrorPage(call, mine.status());
  json list = json::array();
  for (const QuestionInfo& q : mine->items) list.push_back(QuestionModel(call, q));
  json model = {{"years", year_options},
                {"kpis", kpis},
                {"kind", KindName(call, agency->kind)},
                {"questions", list},
                {"has_questions", !list.empty()},
                {"text", call.Field("question")},
                {"announcements", AnnouncementsModel(call, 50)}};
  model["has_announcements"] = !model["announcements"].empty();
  if (call.form.count("_error")) model["error"] = call.Field("_error");
  return RenderPage(call, "agency_questions", model, call.T("qa.agency_title"),
                    call.form.count("_error") ? 400 : 200);
}

HttpResponse Pages::AskQuestion(PageCall& call) {
  const int year = YearParam(call.Field("fiscal_year"));
  auto asked = service::Questions(call.db, clock_)
                   .Ask(call.actor, year, call.Field("kpi"), call.Field("question"));
  if (!asked) {
    if (asked.status().code() != StatusCode::kInvalidInput) return ErrorPage(call, asked.status());
    call.form["_error"] = call.Message(asked.status());
    return AgencyQuestions(call);
  }
  return Redirect("/agency/questions?done=asked#q" + std::to_string(asked->id));
}

HttpResponse Pages::AdminQuestions(PageCall& call) {
  std::string state = call.Query("state");
  if (state.empty()) state = "waiting";
  const std::vector<std::string> states = {"waiting", "answered", "published", "all"};
  if (std::find(states.begin(), states.end(), state) == states.end()) state = "waiting";
  // The office answers at /admin/questions; evaluators read the same list at /review/questions
  // (the questions agencies ask about what they report), without the answer form.
  const bool office = call.actor.Is(service::Role::kAdmin) &&
                      call.request.path.rfind("/admin/", 0) == 0;
  const std::string base = office ? "/admin/questions" : "/review/questions";
  const int64_t page = PageNumber(call.Query("page"));
  constexpr int64_t kPerPage = 50;
  service::QuestionFilter filter;
  filter.state = state == "all" ? "" : state;
  filter.limit = kPerPage;
  filter.offset = (page - 1) * kPerPage;
  auto found = service::Questions(call.db, clock_).List(call.actor, filter);
  if (!found) return ErrorPage(call, found.status());
  json items = json::array();
  for (const QuestionInfo& q : found->items) {
    json m = QuestionModel(call, q);
    if (office) m["href"] = "/admin/questions/" + std::to_string(q.id);
    items.push_back(m);
  }
  json tabs = json::array();
  for (const std::string& s : states) {
    tabs.push_back({{"href", base + "?state=" + s},
                    {"label", call.T("qa.filter." + s)},
                    {"current", s == state}});
  }
  json model = {{"items", items},
                {"has_items", !items.empty()},
                {"tabs", tabs},
                {"office", office},
                {"count", call.T("qa.count") + " " + std::to_string(found->total)}};
  if (page > 1) {
    model["prev"] = base + "?state=" + state + "&page=" + std::to_string(page - 1);
  }
  if (page * kPerPage < found->total) {
    model["next"] = base + "?state=" + state + "&page=" + std::to_string(page + 1);
  }
  return RenderPage(call, "admin_questions", model,
                    call.T(office ? "qa.admin_title" : "qa.review_title"));
}

HttpResponse Pages::AdminQuestion(PageCall& call) {
  auto q = service::Questions(call.db, clock_).Get(call.actor, ParseId(call.request.params.at("id")));
  if (!q) return ErrorPage(call, q.status());
  json model = QuestionModel(call, *q);
  model["action"] = "/admin/questions/" + std::to_string(q->id);
  model["text"] = call.form.count("answer") ? call.Field("answer") : q->answer;
  model["publish_checked"] = call.form.count("answer") ? call.Field("publish") == "yes"
                                                       : (q->published || !q->answered);
  if (call.form.count("_error")) model["error"] = call.Field("_error");
  return RenderPage(call, "admin_question", model, call.T("qa.answer_title"),
                    call.form.count("_error") ? 400 : 200);
}

HttpResponse Pages::AnswerQuestion(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  auto answered = service::Questions(call.db, clock_)
                      .Answer(call.actor, id, call.Field("answer"), call.Field("publish") == "yes");
  if (!answered) {
    if (answered.status().code() != StatusCode::kInvalidInput)
      return ErrorPage(call, answered.status());
    call.form["_error"] = call.Message(answered.status());
    return AdminQuestion(call);
  }
  return Redirect(std::string("/admin/questions?state=") +
                  (answered->published ? "published" : "answered") + "&done=answered");
}

HttpResponse Pages::AdminAnnouncements(PageCall& call) {
  // Every kind of agency the directory knows, and those the catalog names.
  std::set<std::string> kinds = {"department", "province", "public_organization"};
  auto rows = call.db.Query("SELECT DISTINCT kind FROM agencies WHERE kind <> ''");
  if (!rows) return ErrorPage(call, rows.status());
  for (const storage::Row& r : *rows) kinds.insert(r.Text(0));
  const std::string chosen_kind = call.Field("agency_kind");
  json kind_options = json::array();
  for (const std::string& k : kinds) {
    kind_options.push_back({{"value", k},
                            {"label", KindName(call, k)},
                            {"selected", k == (chosen_kind.empty() ? "department" : chosen_kind)}});
  }
  const int year = YearParam(call.Field("fiscal_year"));
  json list = AnnouncementsModel(call, 100);
  for (json& a : list) {
    const std::string id = std::to_string(a["id"].get<int64_t>());
    a["upload_url"] = "/admin/announcements/" + id + "/files?csrf=" + UrlEncode(call.csrf) +
                      "&back=" + UrlEncode("/admin/announcements");
    a["upload_api"] = "/api/v1/announcements/" + id + "/files";
    a["edit_url"] = "/admin/announcements/" + id;
  }
  json model = {{"kinds", kind_options},
                {"year", year ? year : service::FiscalYearAt(clock_.NowMs())},
                {"title_text", call.Field("title")},
                {"body_text", call.Field("body")},
                {"announcements", list},
                {"has_announcements", !list.empty()}};
  if (call.form.count("_error")) model["error"] = call.Field("_error");
  return RenderPage(call, "admin_announcements", model, call.T("announce.title"),
                    call.form.count("_error") ? 400 : 200);
}

HttpResponse Pages::PostAnnouncement(PageCall& call) {
  auto posted = service::Announcements(call.db, clock_)
                    .Post(call.actor, YearParam(call.Field("fiscal_year")),
                          call.Field("agency_kind"), call.Field("title"), call.Field("body"));
  if (!posted) {
    if (posted.status().code() != StatusCode::kInvalidInput) return ErrorPage(call, posted.status());
    call.form["_error"] = call.Message(posted.status());
    return AdminAnnouncements(call);
  }
  return Redirect("/admin/announcements?done=posted#a" + std::to_string(posted->id));
}

HttpResponse Pages::AnnouncementEditor(PageCall& call) {
  return AnnouncementEditorPage(call, "", 200);
}

HttpResponse Pages::AnnouncementEditorPage(PageCall& call, const std::string& error, int status) {
  const int64_t id = ParseId(call.request.params.at("id"));
  auto a = service::Announcements(call.db, clock_).Get(call.actor, id);
  if (!a) return ErrorPage(call, a.status());
  json files = json::array();
  for (const service::AnnouncementFile& f : a->files) {
    files.push_back({{"id", f.id}, {"name", f.name}, {"href", AnnouncementFileJson(f)["href"]}});
  }
  const bool again = call.form.count("title") > 0;
  json model = {{"id", a->id},
                {"cycle", KindName(call, a->agency_kind) + " · " +
                              FiscalYearName(a->fiscal_year, call.lang)},
                {"title_text", again ? call.Field("title") : a->title},
                {"body_text", again ? call.Field("body") : a->body},
                {"files", files},
                {"has_files", !files.empty()}};
  if (!error.empty()) model["error"] = error;
  return RenderPage(call, "admin_announcement", model, call.T("announce.edit_title"), status);
}

HttpResponse Pages::EditAnnouncement(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  auto edited = service::Announcements(call.db, clock_)
                    .Edit(call.actor, id, call.Field("title"), call.Field("body"));
  if (!edited) {
    if (edited.status().code() == StatusCode::kNotFound) return ErrorPage(call, edited.status());
    return AnnouncementEditorPage(call, call.Message(edited.status()),
                                  HttpStatusOf(edited.status().code()));
  }
  return Redirect("/admin/announcements?done=announcement_edited#a" + std::to_string(id));
}

HttpResponse Pages::DeleteAnnouncement(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  if (call.Field("confirm") != "yes") {
    return AnnouncementEditorPage(call, call.T("announce.confirm_needed"), 400);
  }
  Status s = service::Announcements(call.db, clock_).Delete(call.actor, id);
  if (!s.ok()) return ErrorPage(call, s);
  return Redirect("/admin/announcements?done=announcement_deleted");
}

HttpResponse Pages::RemoveAnnouncementFile(PageCall& call) {
  service::Announcements announcements(call.db, clock_);
  auto file = announcements.File(call.actor, ParseId(call.request.params.at("id")));
  if (!file) return ErrorPage(call, file.status());
  Status s = announcements.RemoveFile(call.actor, file->id);
  if (!s.ok()) return ErrorPage(call, s);
  return Redirect("/admin/announcements/" + std::to_string(file->announcement_id) +
                  "?done=file_removed");
}

UploadStarter Pages::AnnouncementFileForm() {
  FormUploadSpec spec;
  spec.fallback = "/admin/announcements";
  spec.done = "attached";
  return FormUpload(MakeAnnouncementUpload(pool_, files_, clock_, metrics_, options_.uploads),
                    std::move(spec));
}

}  // namespace esar::web
