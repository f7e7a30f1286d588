#include "web/zip_check.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <vector>

namespace esar::web {
namespace {

// Record signatures of the ZIP format (APPNOTE.TXT 6.3).
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr size_t kEndSize = 22, kCentralSize = 46, kLocalSize = 30;
constexpr size_t kMaxComment = 0xffff;
// A central directory this large is not an office file's (10,000 entries with long names take
// a few MB).
constexpr uint64_t kMaxCentralDirectory = 32u << 20;
// Bytes before the central directory that no entry accounts for (padding some writers leave).
constexpr uint64_t kMaxUnlistedBytes = 64u << 10;

uint16_t U16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t U32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint64_t U64(const unsigned char* p) {
  return static_cast<uint64_t>(U32(p)) | static_cast<uint64_t>(U32(p + 4)) << 32;
}

std::string Megabytes(uint64_t bytes) {
  // One decimal, rounded up, so that "over 100 MB" never reads "100.0 MB".
  const uint64_t tenths = (bytes * 10 + (1 << 20) - 1) >> 20;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MB";
}

Status Damaged(const std::string& th, const std::string& en) {
  return Status::InvalidInput("ไฟล์ Office (ZIP) เสียหายหรือผิดรูปแบบ: " + th,
                              "the office (ZIP) file is damaged or malformed: " + en);
}

Status TooLargeOpened(const ZipBounds& bounds) {
  const std::string limit = Megabytes(static_cast<uint64_t>(bounds.max_uncompressed_bytes));
  return Status::InvalidInput(
      "ไฟล์ Office นี้เมื่อแตกออกมีขนาดเกิน " + limit +
          " ซึ่งเป็นขนาดที่รับได้สูงสุด (อาจเป็น zip bomb) โปรดลดขนาดเอกสารหรือส่งเป็น PDF",
      "this office file expands to more than " + limit +
          " when opened, the most accepted (a zip bomb?): make the document smaller or send it "
          "as PDF");
}

struct Entry {
  uint16_t flags = 0;
  uint16_t method = 0;
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
  uint64_t offset = 0;  // of its local header
};

class Reader {
 public:
  explicit Reader(const std::string& path) : file_(std::fopen(path.c_str(), "rb"), &std::fclose) {
    if (file_ && std::fseek(file_.get(), 0, SEEK_END) == 0) {
      const long end = std::ftell(file_.get());
      if (end >= 0) size_ = static_cast<uint64_t>(end);
    }
  }
  bool ok() const { return file_ != nullptr; }
  uint64_t size() const { return size_; }

  // Reads exactly `n` bytes at `offset`; false when the file has fewer.
  bool ReadAt(uint64_t offset, unsigned char* out, size_t n) {
    if (offset > size_ || n > size_ - offset) return false;
    if (fseeko(file_.get(), static_cast<off_t>(offset), SEEK_SET) != 0) return false;
    return std::fread(out, 1, n, file_.get()) == n;
  }

 private:
  std::unique_ptr<FILE, int (*)(FILE*)> file_;
  uint64_t size_ = 0;
};

// Fills `entries` from the central directory, and `directory_offset` with where it starts;
// fails on anything inconsistent.
Status ReadCentralDirectory(Reader& file, const ZipBounds& bounds, std::vector<Entry>& entries,
                            uint64_t& directory_offset) {
  const uint64_t size = file.size();
  if (size < kEndSize) return Damaged("ไม่มีสารบัญของไฟล์", "no end of central directory");
  const size_t tail_size = static_cast<size_t>(std::min<uint64_t>(size, kEndSize + kMaxComment));
  std::vector<unsigned char> tail(tail_size);
  if (!file.ReadAt(size - tail_size, tail.data(), tail_size))
    return Status::IoError("อ่านไฟล์ที่อัปโหลดไม่ได้", "cannot read the uploaded file");
  // The last end record whose comment reaches exactly to the end of the file.
  size_t end = tail_size;
  for (size_t i = tail_size - kEndSize + 1; i-- > 0;) {
    if (U32(&tail[i]) == kEndOfCentralDirectory && i + kEndSize + U16(&tail[i + 20]) == tail_size) {
      end = i;
      break;
    }
  }
  if (end == tail_size) return Damaged("ไม่มีสารบัญของไฟล์", "no end of central directory");
  const unsigned char* e = &tail[end];
  uint64_t count = U16(e + 10), cd_size = U32(e + 12), cd_offset = U32(e + 16);
  if (U16(e + 4) != 0 || U16(e + 6) != 0 || U16(e + 8) != U16(e + 10))
    return Damaged("เป็นไฟล์ที่แบ่งหลายส่วน", "a multi-part archive");
  const uint64_t end_offset = size - tail_size + end;
  if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    // ZIP64: the locator stands just before the end record and points at the ZIP64 end record.
    std::array<unsigned char, 20> locator{};
    std::array<unsigned char, 56> end64{};
    if (end_offset < locator.size() ||
        !file.ReadAt(end_offset - locator.size(), locator.data(), locator.size()) ||
        U32(locator.data()) != kZip64Locator ||
        !file.ReadAt(U64(&locator[8]), end64.data(), end64.size()) ||
        U32(end64.data()) != kZip64End) {
      return Damaged("สารบัญ ZIP64 ไม่ถูกต้อง", "a broken ZIP64 end of central directory");
    }
    count = U64(&end64[32]);
    cd_size = U64(&end64[40]);
    cd_offset = U64(&end64[48]);
  }
  if (count > static_cast<uint64_t>(bounds.max_entries)) {
    return Status::InvalidInput(
        "ไฟล์ Office นี้มีไฟล์ย่อย " + std::to_string(count) + " ไฟล์ เกินกว่าที่รับได้ " +
            std::to_string(bounds.max_entries),
        "this office file holds " + std::to_string(count) + " entries, over the " +
            std::to_string(bounds.max_entries) + " accepted");
  }
  if (cd_size > kMaxCentralDirectory || cd_offset > size || cd_size > size - cd_offset)
    return Damaged("สารบัญอยู่นอกไฟล์", "the central directory lies outside the file");
  std::vector<unsigned char> cd(static_cast<size_t>(cd_size));
  if (!file.ReadAt(cd_offset, cd.data(), cd.size()))
    return Status::IoError("อ่านไฟล์ที่อัปโหลดไม่ได้", "cannot read the uploaded file");

  size_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (cd.size() - at < kCentralSize || U32(&cd[at]) != kCentralHeader)
      return Damaged("รายการในสารบัญไม่ครบ", "the central directory is cut short");
    const unsigned char* h = &cd[at];
    const size_t name = U16(h + 28), extra = U16(h + 30), comment = U16(h + 32);
    if (cd.size() - at - kCentralSize < name + extra + comment)
      return Damaged("รายการในสารบัญไม่ครบ", "the central directory is cut short");
    Entry entry;
    entry.flags = U16(h + 8);
    entry.method = U16(h + 10);
    entry.compressed = U32(h + 20);
    entry.uncompressed = U32(h + 24);
    entry.offset = U32(h + 42);
    // ZIP64 sizes: in the extra field 0x0001, in this order, those that read 0xffffffff.
    const unsigned char* x = h + kCentralSize + name;
    const unsigned char* x_end = x + extra;
    while (x_end - x >= 4) {
      const uint16_t id = U16(x), len = U16(x + 2);
      if (x_end - x - 4 < len) return Damaged("ข้อมูลเสริมของรายการผิดรูป", "a malformed extra field");
      if (id == 0x0001) {
        const unsigned char* v = x + 4;
        const unsigned char* v_end = v + len;
        for (uint64_t* field : {&entry.uncompressed, &entry.compressed, &entry.offset}) {
          if (*field != 0xffffffff) continue;
          if (v_end - v < 8) return Damaged("ข้อมูล ZIP64 ของรายการไม่ครบ", "a short ZIP64 extra field");
          *field = U64(v);
          v += 8;
        }
      }
      x += 4 + len;
    }
    entries.push_back(entry);
    at += kCentralSize + name + extra + comment;
  }
  // An end record that counts fewer entries than the directory holds would hide the others from
  // this check, not from every reader.
  if (at != cd.size())
    return Damaged("สารบัญมีรายการมากกว่าที่ระบุ", "the central directory holds more than it counts");
  directory_offset = cd_offset;
  return Status::Ok();
}

// Inflates one deflated entry, counting what comes out: more than `entry.uncompressed` fails.
Status InflateCounting(Reader& file, const Entry& entry, uint64_t data_offset, uint64_t& produced) {
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return Status::Internal("inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> cleanup(&z, &inflateEnd);
  std::vector<unsigned char> in(64 * 1024), out(256 * 1024);
  uint64_t left = entry.compressed;
  produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0) {
      if (left == 0) return Damaged("ข้อมูลที่บีบอัดจบก่อนกำหนด", "a compressed entry ends early");
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, in.size()));
      if (!file.ReadAt(data_offset + (entry.compressed - left), in.data(), n))
        return Damaged("ข้อมูลอยู่นอกไฟล์", "an entry's data lies outside the file");
      left -= n;
      z.next_in = in.data();
      z.avail_in = static_cast<uInt>(n);
    }
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END)
      return Damaged("ข้อมูลที่บีบอัดเสียหาย", "a compressed entry is corrupt");
    produced += out.size() - z.avail_out;
    if (produced > entry.uncompressed) return Status::Ok();  // the caller reports the lie
  }
  return Status::Ok();
}

}  // namespace

bool LooksLikeZip(const std::string& path) {
  Reader file(path);
  std::array<unsigned char, 4> head{};
  return file.ok() && file.ReadAt(0, head.data(), head.size()) && U32(head.data()) == kLocalHeader;
}

Status CheckZipExpansion(const std::string& path, const ZipBounds& bounds) {
  Reader file(path);
  if (!file.ok()) return Status::IoError("อ่านไฟล์ที่อัปโหลดไม่ได้", "cannot read the uploaded file");
  std::vector<Entry> entries;
  uint64_t directory_offset = 0;
  Status read = ReadCentralDirectory(file, bounds, entries, directory_offset);
  if (!read.ok()) return read;

  // What the archive says about itself.
  const uint64_t max_total = static_cast<uint64_t>(bounds.max_uncompressed_bytes);
  uint64_t declared = 0, compressed = 0;
  for (const Entry& e : entries) {
    if (e.flags & 1) {
      return Status::InvalidInput("ไฟล์ Office นี้มีส่วนที่เข้ารหัสไว้ ตรวจไม่ได้",
                                  "this office file has an encrypted entry, which cannot be checked");
    }
    if (e.method != 0 && e.method != 8) {
      return Status::InvalidInput(
          "ไฟล์ Office นี้ใช้วิธีบีบอัดที่ไม่รองรับ (" + std::to_string(e.method) + ")",
          "this office file uses an unsupported compression method (" + std::to_string(e.method) +
              ")");
    }
    if (e.uncompressed > max_total || declared > max_total - e.uncompressed)
      return TooLargeOpened(bounds);
    declared += e.uncompressed;
    // Entries' data cannot overlap: together they fit in the file (this also bounds the reading
    // below to the file's size, whatever the entries point at).
    if (e.compressed > file.size() || compressed > file.size() - e.compressed)
      return Damaged("ข้อมูลของรายการซ้อนทับกัน", "entries' data overlap or exceed the file");
    compressed += e.compressed;
  }
  const uint64_t ratio_limit = static_cast<uint64_t>(bounds.max_ratio) * file.size();
  if (declared > static_cast<uint64_t>(bounds.ratio_floor_bytes) && declared > ratio_limit) {
    return Status::InvalidInput(
        "ไฟล์ Office นี้ขนาด " + Megabytes(file.size()) + " แต่เมื่อแตกออกมีขนาด " + Megabytes(declared) +
            " (มากกว่า " + std::to_string(bounds.max_ratio) +
            " เท่า อาจเป็น zip bomb) โปรดส่งเป็น PDF",
        "this office file of " + Megabytes(file.size()) + " expands to " + Megabytes(declared) +
            " (more than " + std::to_string(bounds.max_ratio) +
            " times: a zip bomb?): send it as PDF");
  }

  // What it really holds: every entry inflated, counting, never past its declared size.
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // [local header, end of data) of each entry
  for (const Entry& e : entries) {
    std::array<unsigned char, kLocalSize> local{};
    if (!file.ReadAt(e.offset, local.data(), local.size()) || U32(local.data()) != kLocalHeader)
      return Damaged("หัวของรายการไม่ถูกต้อง", "an entry's local header is missing");
    const uint64_t data = e.offset + kLocalSize + U16(&local[26]) + U16(&local[28]);
    if (data > file.size() || e.compressed > file.size() - data)
      return Damaged("ข้อมูลอยู่นอกไฟล์", "an entry's data lies outside the file");
    uint64_t produced = e.compressed;
    if (e.method == 8) {
      Status inflated = InflateCounting(file, e, data, produced);
      if (!inflated.ok()) return inflated;
    }
    if (produced > e.uncompressed) {
      return Status::InvalidInput(
          "ไฟล์ Office นี้มีข้อมูลมากกว่าที่ระบุไว้ในตัวไฟล์ (อาจเป็น zip bomb)",
          "this office file holds more data than it declares (a zip bomb?)");
    }
    if (produced != e.uncompressed)
      return Damaged("ขนาดของรายการไม่ตรงกับที่ระบุ", "an entry's size differs from the declared one");
    // A data descriptor (flag 3) of at most 24 bytes may follow the data.
    spans.emplace_back(e.offset, data + e.compressed + ((e.flags & 8) ? 24 : 0));
  }
  // Data the directory does not list is data this check did not inflate, but a reader that walks
  // the local headers (a streaming one) would: more than a little of it is refused.
  std::sort(spans.begin(), spans.end());
  uint64_t covered = 0, reach = 0;
  for (const auto& [begin, end] : spans) {
    const uint64_t from = std::max(begin, reach), to = std::min(end, directory_offset);
    if (to > from) covered += to - from;
    reach = std::max(reach, end);
  }
  if (directory_offset > covered && directory_offset - covered > kMaxUnlistedBytes) {
    return Damaged("มีข้อมูลที่สารบัญไม่ได้ระบุไว้ " + Megabytes(directory_offset - covered),
                   Megabytes(directory_offset - covered) + " of data the directory does not list");
  }
  return Status::Ok();
}

}  // namespace esar::web
