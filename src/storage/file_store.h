#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace esar::storage {

struct StoredFile {
  std::string sha256;
  int64_t size = 0;
};

// A file being written: hashed as it is written, visible only once committed.
class FileWriter {
 public:
  virtual ~FileWriter() = default;  // aborts unless committed
  virtual Status Write(std::string_view bytes) = 0;
  // The path of the bytes written so far (for content sniffing before commit).
  virtual const std::string& TemporaryPath() const = 0;
  // Makes the file durable and findable by its SHA-256; the same content twice is one file.
  virtual Result<StoredFile> Commit() = 0;
};

// Evidence files, named by their SHA-256.
class FileStore {
 public:
  virtual ~FileStore() = default;
  virtual Result<std::unique_ptr<FileWriter>> Create() = 0;
  // The file's bytes, or kNotFound; kDataLoss when they no longer hash to `sha256` (damaged or
  // altered on disk): bytes that are not what was stored are never handed out.
  virtual Result<std::string> Read(const std::string& sha256) = 0;
  virtual bool Exists(const std::string& sha256) = 0;
  // Deletes the file if it is there (a restore that failed takes back the files it wrote).
  virtual Status Remove(const std::string& sha256) = 0;
};

// Files under `directory` (created if missing): content in ab/abcdef..., written to tmp/ first,
// fsynced and renamed, so a crash leaves either the whole file or none.
Result<std::unique_ptr<FileStore>> OpenDiskFileStore(const std::string& directory);

}  // namespace esar::storage
