#include "service/mail_texts.h"

#include "common/thai.h"
#include "service/password_reset.h"

namespace esar::service {
namespace {

std::string KpiPath(int64_t round_id, const std::string& kpi) {
  return "/agency/rounds/" + std::to_string(round_id) + "/kpis/" + kpi;
}

// A comment quoted on its own paragraph, or nothing.
std::string Quoted(const std::string& label, const std::string& comment) {
  return comment.empty() ? std::string() : "\n\n" + label + "\n" + comment;
}

// A role as the pages name it (templates/messages.json "role.*").
LocalizedText RoleTitle(const std::string& role) {
  if (role == "admin") return {"ผู้ดูแลระบบ (ส่วนกลาง)", "central office admin"};
  if (role == "evaluator") return {"ผู้ประเมิน", "evaluator"};
  if (role == "approver") return {"ผู้อนุมัติ", "approver"};
  if (role == "reporter") return {"ผู้รายงาน", "reporter"};
  return {role, role};
}

}  // namespace

LocalizedText RoundTitle(int fiscal_year, int round) {
  return {FiscalYearName(fiscal_year, Lang::kThai) + " " + RoundName(round, Lang::kThai),
          FiscalYearName(fiscal_year, Lang::kEnglish) + ", " + RoundName(round, Lang::kEnglish)};
}

Message AccountCreatedMessage(const std::string& username, const std::string& role) {
  Message m;
  m.kind = "account.created";
  m.subject = {"บัญชีผู้ใช้ e-SAR ของท่านพร้อมใช้งาน", "Your e-SAR account is ready"};
  m.body = {"สำนักงาน ก.พ.ร. ได้สร้างบัญชีผู้ใช้ในระบบ e-SAR ให้ท่านแล้ว\n\nชื่อผู้ใช้: " + username +
                "\nบทบาท: " + RoleTitle(role).th + "\n\nรหัสผ่านแรกจะได้รับจากผู้ดูแลระบบ เข้าสู่ระบบได้ตามลิงก์ด้านล่าง",
            "The Office of the Public Sector Development Commission has made you an account in "
            "e-SAR.\n\nUsername: " +
                username + "\nRole: " + RoleTitle(role).en +
                "\n\nYour first password comes from the administrator; log in at the link below."};
  m.link = "/login";
  return m;
}

Message ReportReturnedMessage(const LocalizedText& round_title, const std::string& kpi,
                              const std::string& comment, int64_t round_id) {
  Message m;
  m.kind = "report.returned";
  m.subject = {"รายงานตัวชี้วัดที่ " + kpi + " ถูกส่งกลับให้แก้ไข",
               "The report of KPI " + kpi + " was returned for changes"};
  m.body = {"ผู้ประเมินส่งรายงานตัวชี้วัดที่ " + kpi + " (" + round_title.th +
                ") กลับให้หน่วยงานแก้ไขและส่งใหม่" + Quoted("ความเห็นของผู้ประเมิน:", comment),
            "An evaluator returned the report of KPI " + kpi + " (" + round_title.en +
                ") to your agency to change and submit again." +
                Quoted("The evaluator's comment:", comment)};
  m.link = KpiPath(round_id, kpi);
  return m;
}

Message ReportAcceptedMessage(const LocalizedText& round_title, const std::string& kpi,
                              int64_t round_id) {
  Message m;
  m.kind = "report.accepted";
  m.subject = {"รายงานตัวชี้วัดที่ " + kpi + " ผ่านการตรวจสอบแล้ว",
               "The report of KPI " + kpi + " was accepted"};
  m.body = {"ผู้ประเมินรับรายงานตัวชี้วัดที่ " + kpi + " (" + round_title.th +
                ") ตามค่าที่หน่วยงานรายงาน",
            "An evaluator accepted the report of KPI " + kpi + " (" + round_title.en +
                ") with the values your agency reported."};
  m.link = KpiPath(round_id, kpi);
  return m;
}

Message ReportCorrectedMessage(const LocalizedText& round_title, const std::string& kpi,
                               const std::string& comment, int64_t round_id) {
  Message m;
  m.kind = "report.corrected";
  m.subject = {"ผลการดำเนินงานตัวชี้วัดที่ " + kpi + " ได้รับการปรับแก้",
               "The values of KPI " + kpi + " were corrected"};
  m.body = {"ผู้ประเมินรับรายงานตัวชี้วัดที่ " + kpi + " (" + round_title.th +
                ") โดยปรับแก้ค่าที่ใช้ประเมิน ดูค่าที่ผ่านการตรวจสอบได้ที่หน้ารายงาน" +
                Quoted("ความเห็นของผู้ประเมิน:", comment),
            "An evaluator accepted the report of KPI " + kpi + " (" + round_title.en +
                ") with corrected values; the verified values are on the report's page." +
                Quoted("The evaluator's comment:", comment)};
  m.link = KpiPath(round_id, kpi);
  return m;
}

Message PreliminaryResultsMessage(const LocalizedText& round_title, int64_t appeal_deadline,
                                  int64_t round_id) {
  Message m;
  m.kind = "results.preliminary";
  m.subject = {"ผลการประเมินเบื้องต้น " + round_title.th + " ยื่นอุทธรณ์ได้ถึง " +
                   FormatDate(appeal_deadline, Lang::kThai),
               "Preliminary results, " + round_title.en + ": appeals until " +
                   FormatDate(appeal_deadline, Lang::kEnglish)};
  m.body = {"สำนักงาน ก.พ.ร. ประมวลผลการประเมินเบื้องต้นของ " + round_title.th +
                " แล้ว หากหน่วยงานเห็นว่าคะแนนตัวชี้วัดใดไม่ถูกต้อง ยื่นอุทธรณ์พร้อมเหตุผลได้ถึง " +
                FormatDateTime(appeal_deadline, Lang::kThai),
            "The preliminary results of " + round_title.en +
                " are ready. If a KPI's score is wrong, your agency may appeal with its reasons "
                "until " +
                FormatDateTime(appeal_deadline, Lang::kEnglish) + " (Bangkok time)."};
  m.link = "/agency/results";
  m.dedup_key = "results.preliminary:r" + std::to_string(round_id) + ":" +
                std::to_string(appeal_deadline);
  return m;
}

Message AppealDecidedMessage(const LocalizedText& round_title, const std::string& kpi,
                             bool upheld, const std::string& reason, int64_t round_id) {
  (void)round_id;
  Message m;
  m.kind = "appeal.decided";
  m.subject = {std::string("ผลการพิจารณาอุทธรณ์ตัวชี้วัดที่ ") + kpi + ": " +
                   (upheld ? "รับอุทธรณ์" : "ไม่รับอุทธรณ์"),
               "Appeal on KPI " + kpi + ": " + (upheld ? "upheld" : "rejected")};
  m.body = {std::string("อุทธรณ์คะแนนตัวชี้วัดที่ ") + kpi + " (" + round_title.th + ") ได้รับการพิจารณาแล้ว: " +
                (upheld ? "รับอุทธรณ์" : "ไม่รับอุทธรณ์") + Quoted("เหตุผล:", reason),
            "The appeal on the score of KPI " + kpi + " (" + round_title.en + ") was decided: " +
                (upheld ? "upheld" : "rejected") + "." + Quoted("Reason:", reason)};
  m.link = "/agency/results";
  return m;
}

Message ResultsPublishedMessage(const LocalizedText& round_title, int64_t round_id,
                                const std::string& agency) {
  Message m;
  m.kind = "results.published";
  m.subject = {"เผยแพร่ผลการประเมิน " + round_title.th + " แล้ว",
               "Results published: " + round_title.en};
  m.body = {"สำนักงาน ก.พ.ร. เผยแพร่ผลการประเมินของ " + round_title.th +
                " แล้ว รายงานผลการประเมินของหน่วยงานเปิดดูได้ตามลิงก์ด้านล่าง",
            "The Office of the Public Sector Development Commission has published the results "
            "of " +
                round_title.en + ". Your agency's evaluation report is at the link below."};
  m.link = "/results/" + std::to_string(round_id) + "/agencies/" + agency;
  return m;
}

Message DeadlineReminderMessage(const LocalizedText& round_title, int64_t deadline, int days,
                                int64_t kpis_missing, int64_t round_id) {
  Message m;
  m.kind = "deadline.reminder";
  m.topic = kTopicReminders;
  const std::string n = std::to_string(days);
  const std::string missing = std::to_string(kpis_missing);
  m.subject = {"อีก " + n + " วันครบกำหนดส่งรายงาน " + round_title.th,
               n + (days == 1 ? " day" : " days") + " left to report: " + round_title.en};
  m.body = {"หน่วยงานยังไม่ได้ส่งรายงาน " + missing + " ตัวชี้วัด ของ " + round_title.th +
                " กำหนดส่งคือ " + FormatDateTime(deadline, Lang::kThai),
            "Your agency has not yet submitted " + missing +
                (kpis_missing == 1 ? " KPI" : " KPIs") + " of " + round_title.en +
                ". The deadline is " + FormatDateTime(deadline, Lang::kEnglish) +
                " (Bangkok time)."};
  (void)round_id;
  m.link = "/agency";
  return m;
}

Message ReviewDigestMessage(int64_t awaiting_review, int64_t open_appeals) {
  Message m;
  m.kind = "review.digest";
  m.topic = kTopicDigest;
  m.in_list = false;
  const std::string waiting = std::to_string(awaiting_review);
  const std::string appeals = std::to_string(open_appeals);
  m.subject = {"งานรอตรวจ: รายงาน " + waiting + " รายการ อุทธรณ์ " + appeals + " เรื่อง",
               "Waiting for you: " + waiting + " reports, " + appeals + " appeals"};
  m.body = {"สรุปงานที่รอผู้ประเมินวันนี้\n\nรายงานที่ส่งแล้วรอตรวจ: " + waiting +
                " รายการ\nอุทธรณ์ที่รอวินิจฉัย: " + appeals + " เรื่อง",
            "What waits for evaluators today\n\nReports submitted, waiting for review: " +
                waiting + "\nAppeals waiting for a decision: " + appeals};
  m.link = "/review?status=submitted";
  return m;
}

Message QuestionAnsweredMessage(int64_t id, const std::string& question, const std::string& answer,
                                bool published, int number) {
  Message m;
  m.kind = "question.answered";
  m.subject = {"สำนักงาน ก.พ.ร. ตอบคำถามของหน่วยงานท่านแล้ว",
               "The central office answered your agency's question"};
  const std::string n = std::to_string(number);
  m.body = {"คำถาม:\n" + question + "\n\nคำตอบ:\n" + answer +
                (published ? "\n\nคำตอบนี้เผยแพร่ในหน้าถาม-ตอบสาธารณะเป็นข้อที่ " + n : ""),
            "Question:\n" + question + "\n\nAnswer:\n" + answer +
                (published ? "\n\nThis answer is on the public Q&A as number " + n + "." : "")};
  m.link = "/agency/questions#q" + std::to_string(id);
  return m;
}

Message AnnouncementPostedMessage(int64_t id, int fiscal_year, const std::string& title,
                                  const std::string& body) {
  Message m;
  m.kind = "announcement.posted";
  m.topic = kTopicAnnouncements;
  m.subject = {"ประกาศจากสำนักงาน ก.พ.ร.: " + title, "Announcement from the central office: " + title};
  m.body = {"ประกาศสำหรับ" + FiscalYearName(fiscal_year, Lang::kThai) + "\n\n" + body,
            "An announcement for " + FiscalYearName(fiscal_year, Lang::kEnglish) + "\n\n" + body};
  m.link = "/agency#a" + std::to_string(id);
  m.dedup_key = "announcement:" + std::to_string(id);
  return m;
}

std::string ResetLink(const std::string& token) { return "/password/reset?token=" + token; }

Message PasswordResetMessage() {
  Message m;
  m.kind = kPasswordResetKind;
  m.in_list = false;
  m.subject = {"ตั้งรหัสผ่านใหม่สำหรับ e-SAR", "Set a new e-SAR password"};
  m.body = {"มีคำขอตั้งรหัสผ่านใหม่สำหรับบัญชีของท่าน ลิงก์ด้านล่างใช้ได้ครั้งเดียวภายใน 1 ชั่วโมง "
            "หากท่านไม่ได้ขอ ไม่ต้องทำอะไร รหัสผ่านเดิมยังใช้ได้",
            "Someone asked to set a new password for your account. The link below works once, "
            "within one hour. If it was not you, do nothing: your password stays as it is."};
  // The token is added by the worker as it sends (PasswordResets::IssueLink): the outbox keeps
  // only the page's address.
  m.link = "/password/reset";
  return m;
}

}  // namespace esar::service
