#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "storage/database.h"

namespace esar::service {

enum class Role { kPublic, kAdmin, kEvaluator, kReporter, kApprover };

const char* RoleName(Role role);  // "public", "admin", "evaluator", "reporter", "approver"
Result<Role> ParseRole(const std::string& name);  // the four that can log in

// Who asks: a logged-in user, the public (no login), or the command line acting as the system.
struct Actor {
  int64_t user_id = 0;  // 0 for the public and the system
  Role role = Role::kPublic;
  std::string agency;    // reporters and approvers belong to one agency
  std::string username;  // "system" for the command line
  // Acting through an API token rather than a login: such an actor never manages tokens or the
  // password; `read_only` for a token of scope 'read' (reads only).
  bool by_token = false;
  bool read_only = false;

  static Actor Public() { return {}; }
  static Actor System() { return {0, Role::kAdmin, "", "system"}; }
  bool Is(Role r) const { return role == r; }
  bool OfAgency(const std::string& code) const {
    return (role == Role::kReporter || role == Role::kApprover) && agency == code;
  }
};

// The actor as a reference to the users table: NULL for the system and the public.
inline storage::Value UserRef(const Actor& actor) {
  return actor.user_id ? storage::Value{actor.user_id} : storage::Value{};
}

// The refusal every use case gives when `actor` may not do `what_th` / `what_en`.
Status Denied(const Actor& actor, const std::string& what_th, const std::string& what_en);

}  // namespace esar::service
