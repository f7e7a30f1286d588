#include "service/actor.h"

namespace esar::service {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kEvaluator:
      return "evaluator";
    case Role::kReporter:
      return "reporter";
    case Role::kApprover:
      return "approver";
    case Role::kPublic:
      return "public";
  }
  return "public";
}

Result<Role> ParseRole(const std::string& name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "evaluator") return Role::kEvaluator;
  if (name == "reporter") return Role::kReporter;
  if (name == "approver") return Role::kApprover;
  return Status::InvalidInput("บทบาท \"" + name + "\" ไม่มีอยู่ (admin, evaluator, reporter, approver)",
                              "no role \"" + name + "\" (admin, evaluator, reporter, approver)");
}

Status Denied(const Actor& actor, const std::string& what_th, const std::string& what_en) {
  if (actor.role == Role::kPublic) {
    return Status::Unauthenticated("ต้องเข้าสู่ระบบก่อนจึงจะ" + what_th + "ได้",
                                   "log in first to " + what_en);
  }
  return Status::PermissionDenied(
      "บัญชี " + actor.username + " (" + RoleName(actor.role) + ") ไม่มีสิทธิ์" + what_th,
      "account " + actor.username + " (" + RoleName(actor.role) + ") may not " + what_en);
}

}  // namespace esar::service
