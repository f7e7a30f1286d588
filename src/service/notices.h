#pragma once

// Who hears of an answer or an announcement (issue 13 §3-4). Questions and Announcements call a
// listener inside the transaction that answers or posts (so that they need not know of e-mail);
// these functions are what `esar serve` connects there, so the notice and its e-mail land with
// the answer or announcement, or not at all.

#include "common/clock.h"
#include "common/status.h"
#include "service/announcements.h"
#include "service/questions.h"
#include "storage/database.h"

namespace esar::service {

// The asker of `answered` gets "question.answered" in their list and by e-mail (the asker only:
// not the rest of the agency; nobody for a question imported from a letter, or an asker no
// longer active). Inside the caller's transaction on `db`.
Status TellAnswered(storage::Database& db, const Clock& clock, const QuestionInfo& answered);

// Every active reporter and approver of the agencies of `posted`'s kind gets
// "announcement.posted" in their list and, unless they turned the "announcements" topic off, by
// e-mail. Inside the caller's transaction on `db`. Returns how many users were told.
Result<int> TellAnnounced(storage::Database& db, const Clock& clock,
                          const AnnouncementInfo& posted);

// Sets the answer and post listeners of this process to TellAnswered and TellAnnounced with
// `clock` (which must outlive every later answer and post). Called once at start, before any
// thread answers or posts.
void ConnectNotices(const Clock& clock);

}  // namespace esar::service
