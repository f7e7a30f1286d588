#include "render/zip_writer.h"

#include <zlib.h>

#include <ctime>
#include <limits>

namespace esar::render {

namespace {

void Put16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}
void Put32(std::string& out, uint32_t v) {
  Put16(out, v & 0xffff);
  Put16(out, v >> 16);
}

}  // namespace

Status ZipWriter::Add(std::string_view name, std::string_view bytes, int64_t modified_ms) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) {
    return Status::InvalidInput("ชื่อแฟ้มในแฟ้ม ZIP ไม่ถูกต้อง: " + std::string(name),
                                "bad file name in the ZIP archive: " + std::string(name));
  }
  constexpr uint64_t kMax = std::numeric_limits<uint32_t>::max();
  if (data_.size() + bytes.size() + name.size() + 64 > kMax || entries_ >= 0xffff) {
    return Status::InvalidInput("แฟ้ม ZIP ใหญ่เกินไป (เกิน 4 GiB หรือ 65,535 แฟ้ม)",
                                "the ZIP archive would be too large (over 4 GiB or 65,535 files)");
  }
  // MS-DOS date and time, as ZIP keeps them.
  const std::time_t seconds = static_cast<std::time_t>(modified_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  const uint32_t dos_time = static_cast<uint32_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  const uint32_t dos_date =
      static_cast<uint32_t>((std::max(tm.tm_year - 80, 0) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
  const uint32_t size = static_cast<uint32_t>(bytes.size());
  const uint32_t offset = static_cast<uint32_t>(data_.size());
  const uint32_t name_size = static_cast<uint32_t>(name.size());
  // Local file header.
  Put32(data_, 0x04034b50);
  Put16(data_, 20);      // version needed
  Put16(data_, 0x0800);  // UTF-8 names
  Put16(data_, 0);       // stored
  Put16(data_, dos_time);
  Put16(data_, dos_date);
  Put32(data_, crc);
  Put32(data_, size);
  Put32(data_, size);
  Put16(data_, name_size);
  Put16(data_, 0);
  data_.append(name);
  data_.append(bytes);
  // Its central directory record.
  Put32(directory_, 0x02014b50);
  Put16(directory_, 0x0314);  // made by: Unix, 2.0
  Put16(directory_, 20);
  Put16(directory_, 0x0800);
  Put16(directory_, 0);
  Put16(directory_, dos_time);
  Put16(directory_, dos_date);
  Put32(directory_, crc);
  Put32(directory_, size);
  Put32(directory_, size);
  Put16(directory_, name_size);
  Put16(directory_, 0);  // extra
  Put16(directory_, 0);  // comment
  Put16(directory_, 0);  // disk
  Put16(directory_, 0);  // internal attributes
  Put32(directory_, 0100644u << 16);  // -rw-r--r--
  Put32(directory_, offset);
  directory_.append(name);
  ++entries_;
  return Status::Ok();
}

std::string ZipWriter::Finish() {
  const uint32_t directory_offset = static_cast<uint32_t>(data_.size());
  const uint32_t directory_size = static_cast<uint32_t>(directory_.size());
  std::string out = std::move(data_);
  out.append(directory_);
  Put32(out, 0x06054b50);
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, entries_);
  Put16(out, entries_);
  Put32(out, directory_size);
  Put32(out, directory_offset);
  Put16(out, 0);
  return out;
}

}  // namespace esar::render
