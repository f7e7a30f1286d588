#pragma once

// The words of every message esar sends (notification list and e-mail), in Thai and English, in
// one place: what each says is reviewed here, apart from when it is sent (the use cases). Dates
// are Buddhist Era in Bangkok time in Thai. Each function returns a Message whose link is the
// page the reader acts on.

#include <cstdint>
#include <string>

#include "service/notify.h"

namespace esar::service {

// The round as people name it: "ปีงบประมาณ พ.ศ. 2567 รอบ 12 เดือน" / "fiscal year 2024 (B.E.
// 2567), 12-month round".
LocalizedText RoundTitle(int fiscal_year, int round);

// "account.created": to a new user with an address; says their username and role, and that the
// first password comes from the central office; links to the login page.
Message AccountCreatedMessage(const std::string& username, const std::string& role);

// "report.returned": to the agency's reporters, with the evaluator's comment.
Message ReportReturnedMessage(const LocalizedText& round_title, const std::string& kpi,
                              const std::string& comment, int64_t round_id);
// "report.accepted": to the agency's reporters and approvers.
Message ReportAcceptedMessage(const LocalizedText& round_title, const std::string& kpi,
                              int64_t round_id);
// "report.corrected": accepted, with values the evaluator corrected (the verified values differ
// from those reported), or an appeal upheld with corrected values; to reporters and approvers.
Message ReportCorrectedMessage(const LocalizedText& round_title, const std::string& kpi,
                               const std::string& comment, int64_t round_id);
// "results.preliminary": to the agencies' reporters and approvers: results computed, appeals
// open until `appeal_deadline`.
Message PreliminaryResultsMessage(const LocalizedText& round_title, int64_t appeal_deadline,
                                  int64_t round_id);
// "appeal.decided": to the agency's reporters and approvers.
Message AppealDecidedMessage(const LocalizedText& round_title, const std::string& kpi,
                             bool upheld, const std::string& reason, int64_t round_id);
// "results.published": to the agencies' reporters and approvers.
Message ResultsPublishedMessage(const LocalizedText& round_title, int64_t round_id,
                                const std::string& agency);
// "deadline.reminder": to an agency's reporters and approvers, `days` before `deadline`, with
// the number of KPIs not yet submitted. Topic kTopicReminders.
Message DeadlineReminderMessage(const LocalizedText& round_title, int64_t deadline, int days,
                                int64_t kpis_missing, int64_t round_id);
// "review.digest": to an evaluator, once a day, what waits in the queue. Topic kTopicDigest;
// e-mail only (the queue itself is the list).
Message ReviewDigestMessage(int64_t awaiting_review, int64_t open_appeals);
// "question.answered": to the user who asked question `id`, when the central office answers it
// or changes its answer; quotes both and says whether the answer is on the public Q&A (with its
// number). Links to the agency's questions page at the question.
Message QuestionAnsweredMessage(int64_t id, const std::string& question, const std::string& answer,
                                bool published, int number);
// "announcement.posted": to the reporters and approvers of the agencies an announcement is for;
// its title and text (written by the office in one language, shown as written in both). Topic
// kTopicAnnouncements; links to the agency's home page at the announcement. Lands once per
// user (dedup key "announcement:<id>").
Message AnnouncementPostedMessage(int64_t id, int fiscal_year, const std::string& title,
                                  const std::string& body);
// "password.reset": the link to set a new password (valid for an hour, once). E-mail only. Its
// link is the reset page without a token: the mail worker adds one as it sends
// (PasswordResets::IssueLink), so that no usable link waits in the outbox.
Message PasswordResetMessage();
// The reset page's link carrying `token`, as the e-mail gives it.
std::string ResetLink(const std::string& token);

}  // namespace esar::service
