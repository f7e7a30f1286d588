#pragma once

// The web interface: HTML pages rendered on the server for every role, working without
// JavaScript (every action is a form that posts and redirects); htmx adds the live what-if
// line, a small script adds upload progress and charts. Thai first, English on request.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "security/crypto.h"
#include "service/actor.h"
#include "service/cycle.h"
#include "service/result_list.h"
#include "service/report_digest.h"
#include "storage/file_store.h"
#include "storage/pool.h"
#include "web/api.h"
#include "web/auth.h"
#include "web/http.h"
#include "web/report_model.h"
#include "web/report_pdf.h"
#include "web/view.h"

namespace esar::web {

struct PageCall;

struct PageOptions {
  security::PasswordHasher* hasher = nullptr;  // every password hash and check; required
  bool secure_cookies = false;
  UploadLimits uploads;
  TrustedProxy proxy;  // who may name the client (the login throttle's address)
  bool mail_sending = false;  // the mail worker has a relay (--smtp): the outbox page says so
};

class Pages {
 public:
  // `views` must outlive the pages; so must the pool, store, clock and metrics.
  Pages(storage::DatabasePool& pool, storage::FileStore& files, const Clock& clock,
        Metrics& metrics, const Views& views, PageOptions options)
      : pool_(pool),
        files_(files),
        clock_(clock),
        metrics_(metrics),
        views_(views),
        options_(options) {}

  // Adds every page, form action and /static/ file to `router`.
  void Register(Router& router);

 private:
  using PageHandler = std::function<HttpResponse(PageCall&)>;
  // Wraps `handler`: borrows a connection, finds the session and language, sends the public
  // to the login page when `roles` is not empty and an unlisted role to a 403 page, checks the
  // CSRF field of every POST from a session, and turns anything thrown into a 500 page.
  Handler Page(std::vector<service::Role> roles, PageHandler handler);

  // Everyone (pages_public.cpp).
  HttpResponse PublicResults(PageCall& call);
  HttpResponse AgencyReport(PageCall& call);
  HttpResponse Dashboard(PageCall& call);
  // The glossary of the evaluation's words (issue 12 §7), for everyone.
  HttpResponse Glossary(PageCall& call);
  // The dashboard built afresh from the rows; `*model` is set to the model it rendered (left
  // null when it answered an error).
  HttpResponse BuildDashboard(PageCall& call, nlohmann::json* model);
  // The report files (pages_reports.cpp): an agency's report as PDF, every agency's of a
  // round as one ZIP, each as a page's download (errors as pages) and under /api/v1 (errors as
  // the API's JSON); /verify/{hash} answers whether a PDF's digest is a published result.
  HttpResponse AgencyReportPdf(PageCall& call, bool api);
  HttpResponse RoundReportsZip(PageCall& call, bool api);
  HttpResponse Verify(PageCall& call, bool api);
  // The national annual report of a fiscal year (?year=, ?round=): the page, and its PDF or XLSX.
  HttpResponse NationalReport(PageCall& call);
  HttpResponse NationalReportFile(PageCall& call, bool xlsx, bool api);
  // Every published agency's rows by digest, derived again after each new publication; null on
  // a database error.
  std::shared_ptr<const std::map<std::string, service::PublishedReport>> Digests(
      storage::Database& db);
  // FrozenFramework as a FrameworkLoader, for the report builders.
  FrameworkLoader Loader();
  HttpResponse LoginForm(PageCall& call);
  // POST /login: not wrapped by Page(), so that no connection is held while the password is
  // checked (service::Logins takes its own, briefly, before and after).
  HttpResponse Login(HttpRequest& request);
  HttpResponse Logout(PageCall& call);
  HttpResponse PasswordForm(PageCall& call);
  HttpResponse ChangePassword(PageCall& call);
  HttpResponse RevokeToken(PageCall& call);
  HttpResponse PasswordPage(PageCall& call, const std::string& error, int status);
  HttpResponse SwitchLanguage(PageCall& call);
  // Forgotten passwords (pages_reset.cpp): the form asking for a link and its answer (the same
  // whether or not the name exists), and the page the link opens, setting a new password.
  HttpResponse ForgotForm(PageCall& call);
  HttpResponse RequestReset(PageCall& call);
  HttpResponse ForgotPage(PageCall& call, const nlohmann::json& extra, int status);
  HttpResponse ResetForm(PageCall& call);
  HttpResponse ResetPassword(PageCall& call);
  HttpResponse ResetPage(PageCall& call, const std::string& token, const std::string& error,
                         int status);
  HttpResponse StaticFile(HttpRequest& request) const;

  // Agencies' reporters and approvers (pages_agency.cpp).
  HttpResponse AgencyHome(PageCall& call);
  HttpResponse KpiForm(PageCall& call);
  HttpResponse SaveKpi(PageCall& call);
  HttpResponse WhatIfLine(PageCall& call);
  HttpResponse ApproveOrSubmit(PageCall& call);
  // POST /agency/rounds/{round}/submit-all (approvers): the agency's drafts (not sent back) and
  // approved reports of the round listed with their values for a confirmation; with confirm=yes
  // and the listed ids (s_<id>) each approved if need be and submitted. A list that changed
  // since it was shown (sent twice) is refused with 409 and nothing sent.
  HttpResponse SubmitAll(PageCall& call);
  HttpResponse AgencyResults(PageCall& call);
  HttpResponse FileAppeal(PageCall& call);
  UploadStarter EvidenceForm();
  // POST /agency/rounds/{round}/kpis/{kpi}/evidence: the KPI form's upload when nothing is saved
  // yet (MakeKpiEvidenceUpload: the file makes the draft), answered as EvidenceForm's.
  UploadStarter KpiEvidenceForm();
  // POST /agency/evidence/{id}/remove (the agency's reporters): without confirm=yes, a page
  // naming the file and asking to confirm; with it, the file taken out of the draft
  // (Reporting::RemoveEvidence: kept in the store and the audit log) and back to the KPI's page.
  // A report no longer a draft is refused (409) with nothing removed.
  HttpResponse RemoveEvidence(PageCall& call);
  // Case logs (pages_cases.cpp): the upload form of a KPI computed from case records (through
  // the API's streamed upload; a refused log's problems listed on a page), and the case list.
  UploadStarter CaseLogForm();
  HttpResponse CaseLogList(PageCall& call);
  // Data catalogs (pages_catalogs.cpp): the upload form of a KPI whose variables a catalog
  // fills (through the API's streamed upload; a refused file's message shown beside the form
  // again), and the dataset page of one upload.
  UploadStarter CatalogForm();
  HttpResponse CatalogList(PageCall& call);
  // What a page form's upload does with the API's answer (FormUpload).
  struct FormUploadSpec {
    std::string fallback;   // where to return when ?back= is absent or not a path on this site
    std::string done;       // the flash message's key after a 201
    std::string unchanged;  // after a 200 ("" when the API never answers 200)
    std::string anchor;     // appended to the redirect ("#case-log"), or ""
    bool own_agency = false;  // the API path's {agency} is the signed-in user's agency
    // A refusal the form answers itself (a case log's bad rows, a catalog's fault beside its
    // form): the page, or nullopt for the error page. `status` is the API's HTTP status,
    // `details` its error's details (null when none), `error` the refusal.
    std::function<std::optional<HttpResponse>(PageCall& call, int status,
                                              const nlohmann::json& details, const Status& error,
                                              const std::string& back)>
        refused;
  };
  // A page form's upload through the API's streamed upload `api` (one builder for every upload
  // form: evidence, announcement files, case logs): the CSRF token from the query string (a
  // form cannot send a header), then a redirect to ?back= (a path on this site, else
  // spec.fallback) with done=<key> and spec.anchor, or spec.refused's page, or the error page
  // with the API's status and message.
  UploadStarter FormUpload(UploadStarter api, FormUploadSpec spec);
  // POST /agency/rounds/{round}/template: the agency's filled XLSX template from the home
  // page's form (multipart, field "file"; the body bounded as every form's, the file read by
  // service::Spreadsheets::UploadTemplate with its limits). Answers a page listing the drafts
  // saved with links to them, or (400) one listing every bad cell by sheet, row and column in
  // Thai and English with nothing saved, or the error page (a file refused whole, no reporter).
  HttpResponse UploadTemplate(PageCall& call);

  // Questions and answers, announcements (pages_qa.cpp). The public Q&A of every cycle, and of
  // one cycle with Thai search (?q=).
  HttpResponse QaIndex(PageCall& call);
  HttpResponse QaCycle(PageCall& call);
  // An agency's own questions and the form to ask one.
  HttpResponse AgencyQuestions(PageCall& call);
  HttpResponse AskQuestion(PageCall& call);
  // The central office's questions to answer (?state=waiting by default; evaluators read the
  // same list at /review/questions, without answering), one question's answer form, and the
  // answer (with publish=yes to publish it).
  HttpResponse AdminQuestions(PageCall& call);
  HttpResponse AdminQuestion(PageCall& call);
  HttpResponse AnswerQuestion(PageCall& call);
  // The central office's announcements: post one, attach files to one.
  HttpResponse AdminAnnouncements(PageCall& call);
  HttpResponse PostAnnouncement(PageCall& call);
  // One announcement's editor: its title and text, its files (each removable), and deleting it
  // (with a confirmation box ticked).
  HttpResponse AnnouncementEditor(PageCall& call);
  HttpResponse AnnouncementEditorPage(PageCall& call, const std::string& error, int status);
  HttpResponse EditAnnouncement(PageCall& call);
  HttpResponse DeleteAnnouncement(PageCall& call);
  HttpResponse RemoveAnnouncementFile(PageCall& call);
  UploadStarter AnnouncementFileForm();
  // The announcements to the actor's kind of agency, newest first, as the agency home page and
  // its own list show them (the newest `limit`).
  nlohmann::json AnnouncementsModel(PageCall& call, int64_t limit);

  // Everyone logged in: the notification list (pages_mail.cpp), and the e-mail preferences on
  // the account page.
  HttpResponse Notifications(PageCall& call);
  HttpResponse MarkNotificationsRead(PageCall& call);
  HttpResponse SavePreferences(PageCall& call);
  // The central office's outbox: sent, waiting, failed with the relay's answer; resend.
  HttpResponse OutboxPage(PageCall& call);
  HttpResponse ResendMail(PageCall& call);

  // Evaluators (pages_review.cpp).
  HttpResponse Queue(PageCall& call);
  HttpResponse ReviewForm(PageCall& call);
  HttpResponse Review(PageCall& call);
  // POST /review/accept-many: the queue's selected reports (fields s_<id>) listed with their
  // values and scores for a confirmation; with confirm=yes each accepted as reported, unless one
  // no longer awaits review (409, nothing accepted). Evaluators only (the service checks).
  HttpResponse AcceptMany(PageCall& call);
  HttpResponse AppealsList(PageCall& call);
  HttpResponse DecideAppeal(PageCall& call);

  // The central office (pages_admin.cpp).
  HttpResponse AdminHome(PageCall& call);
  HttpResponse AgenciesPage(PageCall& call);
  HttpResponse ImportAgencies(PageCall& call);
  // One agency added (/admin/agencies/add) or edited (/admin/agencies/{code}/edit) by a form:
  // code, Thai and English names, kind, parent; errors beside the field. `error` and the form
  // as sent when it comes back refused; else the agency as stored (or a blank form).
  HttpResponse AgencyEditor(PageCall& call);
  HttpResponse AgencyEditorWith(PageCall& call, const Status& error);
  HttpResponse SaveAgency(PageCall& call);
  // One agency's KPIs and weights (/admin/agencies/{code}/kpis, pages_assign.cpp): every
  // top-level KPI of its kind's framework ticked when assigned, with its weight, by component
  // with the sums checked by `esar check`'s rule; "check" shows the sums, "save" writes the
  // assignment rules (service::Authoring::SaveAssignmentForm). `error` as AgencyEditorWith.
  HttpResponse AgencyKpis(PageCall& call);
  HttpResponse AgencyKpisWith(PageCall& call, const Status& error);
  HttpResponse SaveAgencyKpis(PageCall& call);
  // The same form for every agency of a kind at once, or of a kind under one ministry
  // (/admin/assignments?kind=K&parent=P; without a kind, the choice of both): "review" lists
  // the agencies it will change, each with its KPIs now and after, and "save" (sent from that
  // list, which it carries) writes one rule naming them; 409 when the agencies differ from
  // those the list showed.
  HttpResponse GroupKpis(PageCall& call);
  HttpResponse SaveGroupKpis(PageCall& call);
  HttpResponse UsersPage(PageCall& call);
  HttpResponse CreateUser(PageCall& call);
  // One user (/admin/users/{id}): their name, role, agency and e-mail address as a form (errors
  // beside the field), the account disabled or enabled, a password reset link sent to the
  // address. `error` (a refusal to show, with `http` its status) and the form as sent when it
  // comes back; else the user as stored.
  HttpResponse UserPage(PageCall& call);
  HttpResponse UserPageWith(PageCall& call, const Status& error);
  HttpResponse SaveUser(PageCall& call);
  HttpResponse SetUserActive(PageCall& call);
  HttpResponse SendResetLink(PageCall& call);
  HttpResponse FrameworksPage(PageCall& call);
  HttpResponse ImportFramework(PageCall& call);
  HttpResponse FrameworkPage(PageCall& call);
  // POST: the next fiscal year's framework started from this one (service::Authoring).
  HttpResponse StartNextYear(PageCall& call);
  // The KPI editor (pages_authoring.cpp): the KPI's fields as a form, its JSON below; a POST
  // with `kpi_json` saves the JSON, any other the form (service::Authoring).
  HttpResponse KpiEditor(PageCall& call);
  HttpResponse SaveKpiDefinition(PageCall& call);
  // A sub-KPI's removal: the confirmation (what goes, the shares its siblings keep), and its
  // POST (service::Authoring::RemoveSubKpi), back to the confirmation with the reason refused.
  HttpResponse RemoveSubKpiPage(PageCall& call);
  HttpResponse RemoveSubKpi(PageCall& call);
  // The components form on the framework page: its model, and its POST.
  nlohmann::json ComponentsModel(PageCall& call, const service::StoredFramework& stored);
  HttpResponse SaveComponents(PageCall& call);
  HttpResponse RoundsPage(PageCall& call);
  HttpResponse OpenRound(PageCall& call);
  // POST /admin/rounds/{id}/dates: the round's start (while ahead) and deadline changed.
  HttpResponse ChangeRoundDates(PageCall& call);
  HttpResponse ExtendDeadline(PageCall& call);
  HttpResponse RemoveExtension(PageCall& call);
  // Closing reporting early (after a confirmation stating what is missing) and reopening a
  // closed round with a reason and a new deadline.
  HttpResponse CloseRound(PageCall& call);
  HttpResponse ReopenRound(PageCall& call);
  HttpResponse ResultsAdmin(PageCall& call);
  // Puts into `model` the table of `result`'s agencies (the page the request's round, q, sort,
  // dir and page ask for, with its sort links, aria-sort and pager). Errors are the database's.
  Status ResultsAdminTable(PageCall& call, const service::StoredResult& result, nlohmann::json* model);
  // The audit trail (pages_audit.cpp): ?agency=, ?user=, ?kind= (service::AuditKinds), ?from=
  // and ?to= (dates as the date field takes them, `to` included), ?before= (the older page).
  HttpResponse AuditTrail(PageCall& call);
  // Compute, close the appeal window, finalize or publish: a confirmation page stating what the
  // round lacks, then (with confirm=yes) the step.
  HttpResponse ResultsAction(PageCall& call);

  std::mutex dashboards_mutex_;
  // Dashboard models by language, the versions of what they read, and period (see Dashboard).
  std::unordered_map<std::string, std::shared_ptr<const nlohmann::json>>
      dashboards_;  // guarded by dashboards_mutex_

  std::mutex digests_mutex_;
  int64_t digests_head_ = -1;  // the publications digests_ was derived from; guarded
  std::shared_ptr<const std::map<std::string, service::PublishedReport>> digests_;  // guarded

  // The list index of result rows `rows_from` (0: of the whole directory) at directory version
  // `version` (service::DirectoryVersion), built on first use and kept while both stay: a list
  // page then reads its 50 rows only. Errors are the database's.
  Result<std::shared_ptr<const service::ResultListIndex>> ListIndex(storage::Database& db,
                                                                    int64_t rows_from,
                                                                    int64_t version);
  // What the lists' filters offer from the directory: its parents (Directory::Parents, in Thai
  // order) and its kinds (Directory::Kinds).
  struct DirectoryFilters {
    std::vector<domain::Agency> parents;
    std::vector<std::string> kinds;
  };
  // The directory's filters at directory version `version` (service::DirectoryVersion), kept
  // while it stays: every list and queue page offers them, and reading them took 3 ms on
  // PostgreSQL at 8,000 agencies. Errors are the database's.
  Result<std::shared_ptr<const DirectoryFilters>> CachedFilters(storage::Database& db,
                                                                int64_t version);

  std::mutex lists_mutex_;
  // By (rows_from, directory version); guarded by lists_mutex_.
  std::map<std::pair<int64_t, int64_t>, std::shared_ptr<const service::ResultListIndex>> lists_;
  // The filters at filters_version_; guarded by lists_mutex_.
  std::shared_ptr<const DirectoryFilters> filters_;
  int64_t filters_version_ = -1;

  // Framework `id` as stored, parsed; a frozen one (every round's: it cannot change) is kept, so
  // that a page of a result does not parse its framework again on every request.
  Result<std::shared_ptr<const service::StoredFramework>> FrozenFramework(storage::Database& db,
                                                                          int64_t id);

  std::mutex frameworks_mutex_;
  std::unordered_map<int64_t, std::shared_ptr<const service::StoredFramework>>
      frameworks_;  // guarded by frameworks_mutex_; frozen frameworks only

  storage::DatabasePool& pool_;
  storage::FileStore& files_;
  const Clock& clock_;
  Metrics& metrics_;
  const Views& views_;
  PageOptions options_;
};

}  // namespace esar::web
