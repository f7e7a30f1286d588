#include "service/audit_seal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "security/crypto.h"

namespace esar::service {
namespace {

using nlohmann::json;

constexpr const char* kHeadFormat = "esar-audit-head/1";

// errno turned into a Status: the one place this file does so.
Status Errno(const std::string& what) {
  const std::string reason = std::strerror(errno);
  return Status::IoError("กุญแจหรือหัวของบันทึกการตรวจสอบ: " + what + ": " + reason,
                         "audit key or chain head: " + what + ": " + reason);
}

bool IsHex(const std::string& s, size_t size) {
  return s.size() == size && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Status WriteAll(int fd, const std::string& bytes, const std::string& path) {
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write " + path);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// An open file descriptor closed when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// The whole of a small file; NotFound when it does not exist at the moment of opening.
Result<std::string> ReadWhole(const std::string& path) {
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    if (errno == ENOENT) return Status::NotFound("ไม่มีไฟล์ " + path, "no file " + path);
    return Errno("open " + path);
  }
  std::string bytes;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(file.fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("read " + path);
    }
    if (n == 0) return bytes;
    bytes.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

Result<std::shared_ptr<const AuditSeal>> AuditSeal::Load(const std::string& key_file,
                                                         const std::string& head_file) {
  // Why the open failed is decided by its own errno, never by looking again: a server sharing
  // the data folder may link the key in between, and "missing" must not turn into "unreadable".
  auto text = ReadWhole(key_file);
  if (!text) {
    if (text.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("ไม่มีไฟล์กุญแจบันทึกการตรวจสอบ " + key_file,
                              "no audit key file " + key_file);
    }
    return Status::IoError("อ่านไฟล์กุญแจบันทึกการตรวจสอบ " + key_file + " ไม่ได้",
                           "cannot read the audit key file " + key_file);
  }
  std::string hex = std::move(*text);
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.pop_back();
  if (!IsHex(hex, 64)) {
    return Status::InvalidInput(
        "ไฟล์ " + key_file + " ไม่ใช่กุญแจบันทึกการตรวจสอบ (ต้องเป็นเลขฐานสิบหก 64 ตัว)",
        key_file + " is not an audit key (64 lowercase hex characters)");
  }
  std::string key;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    key += static_cast<char>(value);
  }
  // One key, several uses: each gets its own key derived from it, so that no value computed for
  // one use (an entry's seal) can stand for another (a backup's or the head's).
  std::shared_ptr<AuditSeal> seal(new AuditSeal());
  seal->entry_key_ = security::HmacSha256Hex(key, "esar audit entry v1");
  seal->backup_key_ = security::HmacSha256Hex(key, "esar backup v1");
  seal->head_key_ = security::HmacSha256Hex(key, "esar audit head v1");
  seal->key_id_ = security::HmacSha256Hex(key, "esar audit key id v1").substr(0, 16);
  seal->head_file_ = head_file;
  return std::shared_ptr<const AuditSeal>(std::move(seal));
}

Status AuditSeal::GenerateKeyFile(const std::string& key_file) {
  // Written whole to a file of its own, then linked in under its name, which fails when that
  // exists: a server starting at the same moment (sharing the data folder) never reads half a
  // key, and only one key is ever made.
  const std::string temp = key_file + ".tmp-" + security::RandomToken().substr(0, 12);
  {
    Fd file{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (file.fd < 0) return Errno("create " + temp);
    const std::string bytes = security::RandomBytes(32);
    std::string hex;
    for (unsigned char c : bytes) {
      static const char* kDigits = "0123456789abcdef";
      hex += kDigits[c >> 4];
      hex += kDigits[c & 15];
    }
    Status written = WriteAll(file.fd, hex + "\n", temp);
    if (written.ok() && ::fsync(file.fd) != 0) written = Errno("fsync " + temp);
    if (!written.ok()) {
      ::unlink(temp.c_str());
      return written;
    }
  }
  const int linked = ::link(temp.c_str(), key_file.c_str());
  const int link_errno = errno;
  ::unlink(temp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) {
      return Status::Conflict("มีไฟล์กุญแจบันทึกการตรวจสอบ " + key_file + " อยู่แล้ว",
                              "the audit key file " + key_file + " exists already");
    }
    errno = link_errno;
    return Errno("link " + key_file);
  }
  return Status::Ok();
}

std::string AuditSeal::SealEntry(const std::string& entry_hash) const {
  return security::HmacSha256Hex(entry_key_, entry_hash);
}

std::string AuditSeal::HeadMac(const ChainHead& head) const {
  return security::HmacSha256Hex(head_key_, std::string(kHeadFormat) + "\n" + key_id_ + "\n" +
                                                std::to_string(head.seq) + "\n" + head.hash);
}

Result<std::optional<ChainHead>> AuditSeal::ReadHead() const {
  auto text = ReadWhole(head_file_);
  if (!text) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<ChainHead>();
    return Status::IoError("อ่านไฟล์หัวของบันทึกการตรวจสอบ " + head_file_ + " ไม่ได้",
                           "cannot read the chain head file " + head_file_);
  }
  auto altered = [&](const std::string& why_th, const std::string& why_en) {
    return Status::DataLoss("ไฟล์หัวของบันทึกการตรวจสอบ " + head_file_ + " " + why_th,
                            "the chain head file " + head_file_ + " " + why_en);
  };
  json j;
  try {
    j = json::parse(*text);
  } catch (const json::exception&) {
    return altered("อ่านไม่ได้", "cannot be read");
  }
  if (!j.is_object() || j.value("format", "") != kHeadFormat || !j["seq"].is_number_integer() ||
      !j["hash"].is_string() || !j["key_id"].is_string() || !j["mac"].is_string()) {
    return altered("ไม่ใช่หัวของบันทึกการตรวจสอบ", "is not a chain head");
  }
  if (j["key_id"] != key_id_) {
    return altered("เขียนด้วยกุญแจอื่น (" + j["key_id"].get<std::string>() + ")",
                   "was written with another key (" + j["key_id"].get<std::string>() +
                       "), not this one (" + key_id_ + ")");
  }
  ChainHead head{j["seq"].get<int64_t>(), j["hash"].get<std::string>()};
  if (!security::ConstantTimeEquals(j["mac"].get<std::string>(), HeadMac(head))) {
    return altered("ถูกแก้ไขโดยไม่มีกุญแจ", "was altered without the key");
  }
  return std::optional<ChainHead>(head);
}

Status AuditSeal::AdvanceHead(const ChainHead& head) const { return WriteHead(head, true); }

Status AuditSeal::ResetHead(const ChainHead& head) const { return WriteHead(head, false); }

Status AuditSeal::WriteHead(const ChainHead& head, bool only_forward) const {
  // The lock is a file of its own: the head file itself is replaced on every write.
  const std::string lock_path = head_file_ + ".lock";
  Fd lock{::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)};
  if (lock.fd < 0) return Errno("open " + lock_path);
  while (::flock(lock.fd, LOCK_EX) != 0) {
    if (errno != EINTR) return Errno("lock " + lock_path);
  }
  if (only_forward) {
    auto current = ReadHead();
    // An unreadable or altered head is not moved: verify reports it, and an operator decides.
    if (!current) return current.status();
    if (*current && (*current)->seq >= head.seq) return Status::Ok();
  }
  const json j = {{"format", kHeadFormat},
                  {"seq", head.seq},
                  {"hash", head.hash},
                  {"key_id", key_id_},
                  {"mac", HeadMac(head)}};
  const std::string temp = head_file_ + ".tmp-" + security::RandomToken().substr(0, 12);
  {
    Fd file{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (file.fd < 0) return Errno("create " + temp);
    Status written = WriteAll(file.fd, j.dump() + "\n", temp);
    if (written.ok() && ::fsync(file.fd) != 0) written = Errno("fsync " + temp);
    if (!written.ok()) {
      ::unlink(temp.c_str());
      return written;
    }
  }
  if (::rename(temp.c_str(), head_file_.c_str()) != 0) {
    Status failed = Errno("rename " + temp);
    ::unlink(temp.c_str());
    return failed;
  }
  return Status::Ok();
}

}  // namespace esar::service
