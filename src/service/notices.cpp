#include "service/notices.h"

#include "service/mail_texts.h"
#include "service/notify.h"

namespace esar::service {

Status TellAnswered(storage::Database& db, const Clock& clock, const QuestionInfo& answered) {
  if (answered.asked_by == 0 || !answered.answered) return Status::Ok();
  auto told = Notifier(db, clock).Notify(
      answered.asked_by, QuestionAnsweredMessage(answered.id, answered.question, answered.answer,
                                                 answered.published, answered.number));
  return told.status();
}

Result<int> TellAnnounced(storage::Database& db, const Clock& clock,
                          const AnnouncementInfo& posted) {
  // One query for every recipient, whatever the number of agencies of the kind (every local
  // government is one kind: thousands of agencies).
  auto users = db.Query(
      "SELECT u.id FROM users u JOIN agencies a ON a.code = u.agency_code WHERE a.kind = ? AND "
      "u.active = 1 AND u.role IN ('reporter', 'approver') ORDER BY u.id",
      {posted.agency_kind});
  if (!users) return users.status();
  const Message message =
      AnnouncementPostedMessage(posted.id, posted.fiscal_year, posted.title, posted.body);
  Notifier notifier(db, clock);
  int told = 0;
  for (const storage::Row& u : *users) {
    auto d = notifier.Notify(u.Int(0), message);
    if (!d) return d.status();
    if (d->listed || d->queued) ++told;
  }
  return told;
}

void ConnectNotices(const Clock& clock) {
  Questions::SetAnswerListener([&clock](storage::Database& db, const QuestionInfo& answered) {
    return TellAnswered(db, clock, answered);
  });
  Announcements::SetPostListener([&clock](storage::Database& db, const AnnouncementInfo& posted) {
    return TellAnnounced(db, clock, posted).status();
  });
}

}  // namespace esar::service
