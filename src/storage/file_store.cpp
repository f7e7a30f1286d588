#include "storage/file_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "security/crypto.h"

namespace esar::storage {
namespace {

namespace fs = std::filesystem;

// errno turned into a Status: the one place this file does so.
Status Errno(const std::string& what) {
  const std::string reason = std::strerror(errno);
  return Status::IoError("จัดเก็บไฟล์ไม่สำเร็จ (" + what + "): " + reason,
                         "file store: " + what + ": " + reason);
}

Status SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("open " + dir.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync " + dir.string());
}

bool IsSha256(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

class DiskWriter final : public FileWriter {
 public:
  DiskWriter(fs::path root, fs::path temp, int fd)
      : root_(std::move(root)), temp_(std::move(temp)), path_(temp_.string()), fd_(fd) {}
  ~DiskWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) {
      std::error_code ignored;
      fs::remove(temp_, ignored);
    }
  }

  Status Write(std::string_view bytes) override {
    hash_.Update(bytes);
    size_ += static_cast<int64_t>(bytes.size());
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("write");
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  const std::string& TemporaryPath() const override { return path_; }

  Result<StoredFile> Commit() override {
    if (::fsync(fd_) != 0) return Errno("fsync");
    ::close(fd_);
    fd_ = -1;
    StoredFile out{hash_.FinishHex(), size_};
    const fs::path dir = root_ / out.sha256.substr(0, 2);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
      return Status::IoError("สร้างโฟลเดอร์ไม่ได้: " + ec.message(),
                             "cannot create " + dir.string() + ": " + ec.message());
    if (::rename(temp_.c_str(), (dir / out.sha256).c_str()) != 0) return Errno("rename");
    committed_ = true;
    Status synced = SyncDirectory(dir);
    if (!synced.ok()) return synced;
    return out;
  }

 private:
  fs::path root_, temp_;
  std::string path_;
  int fd_;
  security::Sha256 hash_;
  int64_t size_ = 0;
  bool committed_ = false;
};

class DiskFileStore final : public FileStore {
 public:
  explicit DiskFileStore(fs::path root) : root_(std::move(root)) {}

  Result<std::unique_ptr<FileWriter>> Create() override {
    const fs::path temp = root_ / "tmp" / (security::RandomToken().substr(0, 24) + ".part");
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Errno("create " + temp.string());
    return std::unique_ptr<FileWriter>(new DiskWriter(root_, temp, fd));
  }

  Result<std::string> Read(const std::string& sha256) override {
    if (!IsSha256(sha256)) return Status::NotFound("ไม่มีไฟล์นี้", "no such file");
    std::ifstream in(root_ / sha256.substr(0, 2) / sha256, std::ios::binary);
    if (!in) return Status::NotFound("ไม่มีไฟล์นี้", "no such file");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in.good() && !in.eof()) return Errno("read " + sha256);
    std::string out = bytes.str();
    const std::string actual = security::Sha256Hex(out);
    if (actual != sha256) {
      return Status::DataLoss(
          "ไฟล์หลักฐาน " + sha256 + " ไม่ตรงกับค่า SHA-256 ที่บันทึกไว้ (ได้ " + actual +
              ") ไฟล์เสียหายหรือถูกแก้ไขบนดิสก์",
          "evidence file " + sha256 + " does not match its SHA-256 (its bytes hash to " + actual +
              "): damaged or altered on disk");
    }
    return out;
  }

  bool Exists(const std::string& sha256) override {
    return IsSha256(sha256) && fs::exists(root_ / sha256.substr(0, 2) / sha256);
  }

  Status Remove(const std::string& sha256) override {
    if (!IsSha256(sha256)) return Status::NotFound("ไม่มีไฟล์นี้", "no such file");
    const fs::path path = root_ / sha256.substr(0, 2) / sha256;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + path.string());
    return Status::Ok();
  }

 private:
  fs::path root_;
};

}  // namespace

Result<std::unique_ptr<FileStore>> OpenDiskFileStore(const std::string& directory) {
  std::error_code ec;
  fs::create_directories(fs::path(directory) / "tmp", ec);
  if (ec) {
    return Status::IoError("สร้างโฟลเดอร์เก็บไฟล์ " + directory + " ไม่ได้: " + ec.message(),
                           "cannot create the file store " + directory + ": " + ec.message());
  }
  // Leftovers of uploads that a crash interrupted.
  for (const auto& entry : fs::directory_iterator(fs::path(directory) / "tmp", ec))
    fs::remove(entry.path(), ec);
  return std::unique_ptr<FileStore>(new DiskFileStore(directory));
}

}  // namespace esar::storage
