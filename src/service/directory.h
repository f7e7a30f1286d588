#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "domain/model.h"
#include "security/crypto.h"
#include "security/password_hasher.h"
#include "service/actor.h"
#include "service/result_list.h"
#include "storage/database.h"

namespace esar::service {

struct NewUser {
  std::string username;  // 3–64 characters: letters, digits, . _ -
  std::string display_name;
  std::string password;  // at least 10 characters
  Role role = Role::kReporter;
  std::string agency;  // required for reporters and approvers, empty otherwise
  std::string email;   // "" for none; else it must pass IsValidEmail (service/notify.h)
  Lang language = Lang::kThai;  // of the e-mail and notifications the user gets
};

// A user as an admin's list shows it.
struct UserInfo {
  int64_t id = 0;
  std::string username;
  std::string display_name;
  Role role = Role::kReporter;
  std::string agency;
  bool active = true;
};

// A user as the admin's page for that user shows it (/admin/users/{id}).
struct UserDetail {
  UserInfo info;
  std::string email;  // "" for none
  Lang language = Lang::kThai;
  int64_t created_at = 0;
  // A digest of what the admin's forms change (name, role, agency, address, active): the form
  // carries it back, so that a change made meanwhile by someone else is not overwritten.
  std::string version;
};

// What an admin changes of a user (Directory::EditUser). The username stays: it is how the user
// logs in and how the audit log and others' records name them.
struct UserEdit {
  std::string display_name;  // at most 200 bytes, no control characters
  Role role = Role::kReporter;
  std::string agency;  // required for reporters and approvers, empty otherwise
  std::string email;   // "" for none; else it must pass IsValidEmail
  std::string version;  // UserDetail::version of the user the form was made from
};

// One agency as the admin's form sends it (Directory::SaveAgency).
struct AgencyForm {
  std::string code;     // 1–64 characters: Latin letters, digits, . _ - ; fixed once added
  std::string name_th;  // required, at most 300 bytes, no control characters
  std::string name_en;  // at most 300 bytes, no control characters
  std::string kind;     // required: 1–64 characters, lowercase Latin letters, digits, _
  std::string parent;   // "" or another agency's code (its ministry or province)
  std::string version;  // Directory::AgencyVersion of the agency the form was made from ("" to add)
  std::string email;    // "" for none; else it must pass IsValidEmail (at most 254 bytes)
};

struct Session {
  std::string token;  // given to the browser in an HttpOnly cookie; only its hash is stored
  std::string csrf_token;
  int64_t expires_at = 0;
  Actor actor;
};

// True for a name that can be a user's: 3–64 characters, Latin letters, digits, . _ -
bool IsValidUsername(const std::string& name);

enum class TokenScope { kRead, kFull };
const char* TokenScopeName(TokenScope scope);  // "read", "full"

struct NewApiToken {
  std::string name;
  TokenScope scope = TokenScope::kFull;
  int64_t lifetime_ms = 0;  // 0: the default (Directory::kDefaultTokenLifetimeMs)
};

// A token as its owner's list shows it (never the token itself: only its hash is kept).
struct ApiTokenInfo {
  int64_t id = 0;
  std::string name;
  TokenScope scope = TokenScope::kFull;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  int64_t last_used_at = 0;  // 0: never used
  int64_t revoked_at = 0;    // 0: not revoked
};

struct CreatedApiToken {
  ApiTokenInfo info;
  std::string token;  // shown once
};

// What Directory::Purge removed.
struct Purged {
  int64_t sessions = 0;
  int64_t throttle_entries = 0;
  int64_t idempotency_keys = 0;
};

// Agencies, users, sessions and API tokens (logging in itself is service/login.h).
class Directory {
 public:
  static constexpr int64_t kSessionLifetimeMs = 8LL * 3600 * 1000;
  // How long a login-throttle entry is kept after its last attempt (and after its wait ends),
  // and how long an answer is kept for its Idempotency-Key: a retry after a day is a new request.
  static constexpr int64_t kThrottleRetentionMs = 24LL * 3600 * 1000;
  static constexpr int64_t kIdempotencyRetentionMs = 24LL * 3600 * 1000;
  static constexpr int64_t kDefaultTokenLifetimeMs = 90LL * 24 * 3600 * 1000;
  static constexpr int64_t kMaxTokenLifetimeMs = 365LL * 24 * 3600 * 1000;

  // `hasher` is needed only by the operations that hash passwords (CreateUser, ChangePassword);
  // they fail with kInternal without one.
  Directory(storage::Database& db, const Clock& clock,
            security::PasswordHasher* hasher = nullptr)
      : db_(db), clock_(clock), hasher_(hasher) {}

  // Adds or updates agencies (by code). Admins only. Parents must exist in the list or already.
  // An agency whose e-mail address is unset (a file without the column) keeps the stored one;
  // a set one must be "" or pass IsValidEmail (kInvalidInput naming the agency's line).
  Status UpsertAgencies(const Actor& actor, const std::vector<domain::Agency>& agencies);
  Result<std::vector<domain::Agency>> Agencies();
  // One agency by code, or kNotFound (in Thai and English).
  Result<domain::Agency> FindAgency(const std::string& code);
  // The agencies of `codes` that exist (a page's few dozen), in one query, in no set order.
  Result<std::vector<domain::Agency>> FindAgencies(const std::vector<std::string>& codes);
  // A digest of what the agency form changes: the form carries it back, so that a change made
  // meanwhile by someone else (the form or a CSV import) is not overwritten.
  static std::string AgencyVersion(const domain::Agency& agency);
  // Adds (`adding`) or edits one agency from the admin's form; admins only (not a read-only
  // token). Refusals name the form field they concern in where().json_path ("code", "name_th",
  // "name_en", "kind", "parent"), in Thai and English: kInvalidInput for a bad value, a parent
  // that does not exist, is the agency itself or belongs to it (a loop), a code taken when
  // adding; kConflict naming no field for a stale `version` when editing;
  // kNotFound for an unknown code when editing. Audited in the same transaction as
  // "agency.add" / "agency.edit" on the directory ("agencies"), each changed value before ->
  // after with the agency's code; an edit that changes nothing writes nothing.
  Status SaveAgency(const Actor& actor, const AgencyForm& form, bool adding);
  // The agencies others belong to (ministries, provinces), in Thai order of their Thai names:
  // what a filter by parent offers. One query, without reading every agency.
  Result<std::vector<domain::Agency>> Parents();
  // The kinds of agency there are (each once, in code order): what a filter by kind offers.
  Result<std::vector<std::string>> Kinds();

  // Which agencies of the directory, in what order, which page; empty strings match everything.
  struct AgencyQuery {
    std::string q;       // part of the code, the Thai or English name, or the parent's names
    std::string kind;    // the agency's kind
    std::string parent;  // the parent's code (ministry or province)
    bool by_name = false;  // by the agency's Thai name; else by the parent's, then the agency's
    bool descending = false;
    int64_t limit = 50;
    int64_t offset = 0;
  };
  struct AgencyPage {
    std::vector<domain::Agency> items;
    std::vector<LocalizedText> parent_names;  // each item's parent's names ({} if none)
    int64_t total = 0;                                 // how many match, over all pages
  };
  // The agencies matching `query`, one page in its order (Thai dictionary order by the sort
  // keys; ties by code), searched, filtered, sorted and paged in SQL: one query for the page and
  // its count, however many agencies there are (every local government: ~8,000). Admins only.
  Result<AgencyPage> ListAgencies(const Actor& actor, const AgencyQuery& query);
  // The same page found in `index` (ResultListIndex::BuildDirectory, built at the current
  // DirectoryVersion), then only its agencies read: what the admin's page uses, kept between
  // requests, so that a deep page or a search does not sort or scan the directory in SQL.
  Result<AgencyPage> ListAgencies(const Actor& actor, const AgencyQuery& query,
                                  const ResultListIndex& index);

  // Creates a user; admins only (the command line acts as the system admin). Returns its id.
  // With an e-mail address, the user's contact is stored and an "account created" message is
  // put in the outbox in the same transaction (kInvalidInput for an address IsValidEmail
  // refuses).
  Result<int64_t> CreateUser(const Actor& actor, const NewUser& user);
  // Every user, by username; admins only.
  Result<std::vector<UserInfo>> Users(const Actor& actor);
  // User `id` with their address and the version its forms carry; admins only. kNotFound (Thai
  // and English) for an unknown id.
  Result<UserDetail> User(const Actor& actor, int64_t id);
  // Changes user `id`'s name, role, agency and e-mail address as `edit` says; admins only (not
  // through a read-only token). Refusals name the form field they concern in where().json_path
  // ("display_name", "role", "agency", "email"): kInvalidInput for a bad value (a reporter or
  // approver without an agency, an agency that does not exist, a bad address, a name too long
  // or with control characters), or an admin changing their own role (they would lock
  // themselves out); kConflict, naming no field, when `edit.version` is not the user's version
  // (changed meanwhile); kNotFound for an unknown id. What changed is audited in one
  // transaction: "user.edit" (name, role, agency: before -> after) and "contact.address" for the
  // address; nothing changed, nothing written. A new role or agency applies to the user's next
  // request: their sessions and tokens act as the user is now (ActorOf).
  Status EditUser(const Actor& actor, int64_t id, const UserEdit& edit);
  // Disables (`active` false) or enables user `id`; admins only, never oneself, `version` as
  // EditUser's (kConflict when stale). A disabled user cannot log in, open the reset link or
  // use their API tokens (ActorOf refuses them), and their sessions are deleted here, so that
  // whoever is logged in as them is out at their next request; their tokens are kept, refused,
  // and work again if the user is enabled. Setting the state the user is in already is Ok and
  // writes nothing; else audited ("user.disable" / "user.enable", active before -> after).
  Status SetUserActive(const Actor& actor, int64_t id, bool active, const std::string& version);

  // A new session for `user_id`, whose password the caller has just checked (Logins::Login);
  // kUnauthenticated when the user is gone or inactive.
  Result<Session> OpenSession(int64_t user_id);

  // The actor of a live session, or kUnauthenticated.
  Result<Session> FindSession(const std::string& token);
  Status Logout(const std::string& token);

  // Changes the actor's password (checking the old one) and ends every session and revokes every
  // API token of the user: whatever the old password let in is shut. Not through a token.
  Status ChangePassword(const Actor& actor, const std::string& old_password,
                        const std::string& new_password);

  // A token for machine clients, acting as `actor` within `token.scope` until it expires (at
  // most kMaxTokenLifetimeMs); shown once, only its hash is kept. Logged-in users only, and
  // never through a token (a stolen token cannot make itself another).
  Result<CreatedApiToken> CreateApiToken(const Actor& actor, const NewApiToken& token);
  // The actor's own tokens, newest first, revoked and expired ones too. Not through a token.
  Result<std::vector<ApiTokenInfo>> ApiTokens(const Actor& actor);
  // Revokes the actor's own token `id` (kNotFound for anyone else's); revoking twice keeps the
  // first time. Not through a token.
  Result<ApiTokenInfo> RevokeApiToken(const Actor& actor, int64_t id);
  // The actor a live token acts as (by_token set, read_only for scope 'read'), or
  // kUnauthenticated for an unknown, revoked or expired one. Notes its use (at most once a
  // minute, so that reads do not all write).
  Result<Actor> FindApiToken(const std::string& token);

  // Deletes what has run its course: expired sessions, login-throttle entries idle for
  // kThrottleRetentionMs, and idempotency keys older than kIdempotencyRetentionMs.
  Result<Purged> Purge();

 private:
  Result<Actor> ActorOf(int64_t user_id);

  storage::Database& db_;
  const Clock& clock_;
  security::PasswordHasher* hasher_;
};

}  // namespace esar::service
