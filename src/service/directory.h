#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "domain/model.h"
#include "security/crypto.h"
#include "service/actor.h"
#include "storage/database.h"

namespace esar::service {

struct NewUser {
  std::string username;  // 3–64 characters: letters, digits, . _ -
  std::string display_name;
  std::string password;  // at least 10 characters
  Role role = Role::kReporter;
  std::string agency;  // required for reporters and approvers, empty otherwise
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

struct Session {
  std::string token;  // given to the browser in an HttpOnly cookie; only its hash is stored
  std::string csrf_token;
  int64_t expires_at = 0;
  Actor actor;
};

// Agencies, users, logins, sessions and API tokens.
class Directory {
 public:
  static constexpr int64_t kSessionLifetimeMs = 8LL * 3600 * 1000;
  static constexpr int64_t kThrottleWindowMs = 15LL * 60 * 1000;
  static constexpr int kMaxFailuresPerAccount = 5;
  static constexpr int kMaxFailuresPerAddress = 20;

  Directory(storage::Database& db, const Clock& clock,
            security::HashStrength strength = security::HashStrength::kInteractive)
      : db_(db), clock_(clock), strength_(strength) {}

  // Adds or updates agencies (by code). Admins only. Parents must exist in the list or already.
  Status UpsertAgencies(const Actor& actor, const std::vector<domain::Agency>& agencies);
  Result<std::vector<domain::Agency>> Agencies();

  // Creates a user; admins only (the command line acts as the system admin). Returns its id.
  Result<int64_t> CreateUser(const Actor& actor, const NewUser& user);
  // Every user, by username; admins only.
  Result<std::vector<UserInfo>> Users(const Actor& actor);

  // Logs in. Wrong names and wrong passwords fail alike. After kMaxFailuresPerAccount failures
  // for one account, or kMaxFailuresPerAddress from one address, within kThrottleWindowMs,
  // every attempt fails with kTooManyRequests until the window passes.
  Result<Session> Login(const std::string& username, const std::string& password,
                        const std::string& address);

  // The actor of a live session, or kUnauthenticated.
  Result<Session> FindSession(const std::string& token);
  Status Logout(const std::string& token);

  Status ChangePassword(const Actor& actor, const std::string& old_password,
                        const std::string& new_password);

  // A token for machine clients, acting as `actor`; shown once, only its hash is kept.
  Result<std::string> CreateApiToken(const Actor& actor, const std::string& name);
  Result<Actor> FindApiToken(const std::string& token);

 private:
  Result<Actor> ActorOf(int64_t user_id);
  Status CheckThrottle(const std::string& username, const std::string& address);
  // A hash of this directory's strength that matches no password, checked for unknown names.
  const std::string& DummyHash();

  storage::Database& db_;
  const Clock& clock_;
  security::HashStrength strength_;
};

}  // namespace esar::service
