#include "web/zip_check.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace esar::web {
namespace {

// A ZIP archive written here, byte by byte, so that a test can make it lie.
struct ZipEntry {
  std::string name;
  std::string content;
  bool deflate = true;
  int64_t declared_size = -1;  // the uncompressed size written in the headers (-1: the true one)
  uint16_t flags = 0;
  uint16_t method = 0;  // 0: stored or deflate as `deflate` says; else written as is
  bool listed = true;   // false: left out of the central directory
};

void Put16(std::string& out, uint32_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}
void Put32(std::string& out, uint32_t v) {
  Put16(out, v & 0xffff);
  Put16(out, v >> 16);
}

std::string RawDeflate(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string MakeZip(const std::vector<ZipEntry>& entries) {
  std::string body, central;
  for (const ZipEntry& e : entries) {
    const std::string data = e.deflate ? RawDeflate(e.content) : e.content;
    const uint16_t method = e.method ? e.method : (e.deflate ? 8 : 0);
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(e.content.data()), static_cast<uInt>(e.content.size())));
    const uint32_t size =
        static_cast<uint32_t>(e.declared_size >= 0 ? e.declared_size : static_cast<int64_t>(e.content.size()));
    const uint32_t offset = static_cast<uint32_t>(body.size());
    Put32(body, 0x04034b50);
    Put16(body, 20);
    Put16(body, e.flags);
    Put16(body, method);
    Put32(body, 0);  // time, date
    Put32(body, crc);
    Put32(body, static_cast<uint32_t>(data.size()));
    Put32(body, size);
    Put16(body, static_cast<uint32_t>(e.name.size()));
    Put16(body, 0);
    body += e.name + data;
    if (!e.listed) continue;
    Put32(central, 0x02014b50);
    Put16(central, 20);
    Put16(central, 20);
    Put16(central, e.flags);
    Put16(central, method);
    Put32(central, 0);
    Put32(central, crc);
    Put32(central, static_cast<uint32_t>(data.size()));
    Put32(central, size);
    Put16(central, static_cast<uint32_t>(e.name.size()));
    Put32(central, 0);  // extra and comment lengths
    Put32(central, 0);  // disk, internal attributes
    Put32(central, 0);  // external attributes
    Put32(central, offset);
    central += e.name;
  }
  std::string out = body + central;
  const auto listed = static_cast<uint32_t>(
      std::count_if(entries.begin(), entries.end(), [](const ZipEntry& e) { return e.listed; }));
  Put32(out, 0x06054b50);
  Put32(out, 0);
  Put16(out, listed);
  Put16(out, listed);
  Put32(out, static_cast<uint32_t>(central.size()));
  Put32(out, static_cast<uint32_t>(body.size()));
  Put16(out, 0);
  return out;
}

class ZipCheckTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }

  Status Check(const std::string& bytes, ZipBounds bounds = {}) {
    std::ofstream(path_, std::ios::binary) << bytes;
    return CheckZipExpansion(path_, bounds);
  }

  std::string path_ = ::testing::TempDir() + "zip_check_" + std::to_string(::getpid()) + ".zip";
};

const std::string kContentTypes =
    "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
    "content-types\"/>";

TEST_F(ZipCheckTest, AnOrdinaryOfficeFilePasses) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "<w:p>รายงานผลการดำเนินงาน " + std::to_string(i) + "</w:p>";
  const std::string zip = MakeZip({{"[Content_Types].xml", kContentTypes},
                                   {"word/document.xml", text},
                                   {"word/media/image1.png", std::string(3000, '\x89'), false}});
  std::ofstream(path_, std::ios::binary) << zip;
  EXPECT_TRUE(LooksLikeZip(path_));
  EXPECT_TRUE(CheckZipExpansion(path_, {}).ok());
}

TEST_F(ZipCheckTest, TooLargeOnceOpenedIsRefusedFromTheDeclaredSizes) {
  ZipBounds bounds;
  bounds.max_uncompressed_bytes = 4 << 20;
  bounds.max_ratio = 1000;
  const Status s =
      Check(MakeZip({{"[Content_Types].xml", kContentTypes},
                     {"word/document.xml", std::string(5 << 20, '\0')}}),
            bounds);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message_en().find("expands to more than 4.0 MB"), std::string::npos) << s.message_en();
  EXPECT_NE(s.message_th().find("เมื่อแตกออก"), std::string::npos);
}

TEST_F(ZipCheckTest, AnAbsurdRatioIsRefusedButASmallExpansionIsNot) {
  // 3 MB of zeros deflate to a few KB: over 100:1 and over the 1 MB floor.
  const Status s = Check(MakeZip({{"word/document.xml", std::string(3 << 20, '\0')}}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message_en().find("more than 100 times"), std::string::npos) << s.message_en();
  // 512 KB of zeros: as compressed, but harmless under the floor.
  EXPECT_TRUE(Check(MakeZip({{"word/document.xml", std::string(512 << 10, '\0')}})).ok());
}

TEST_F(ZipCheckTest, AnArchiveThatDeclaresLessThanItHoldsIsCaughtWhileInflating) {
  ZipEntry lying{"word/document.xml", std::string(8 << 20, 'a')};
  lying.declared_size = 1000;
  ZipBounds bounds;
  bounds.max_ratio = 1'000'000;  // only the inflation can tell
  const Status s = Check(MakeZip({{"[Content_Types].xml", kContentTypes}, lying}), bounds);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message_en().find("holds more data than it declares"), std::string::npos)
      << s.message_en();
  ZipEntry stored{"a.bin", std::string(5000, 'x'), false};
  stored.declared_size = 10;
  EXPECT_FALSE(Check(MakeZip({stored})).ok());
}

TEST_F(ZipCheckTest, DamagedEncryptedAndOddArchivesAreRefusedWithAMessage) {
  const std::string good = MakeZip({{"[Content_Types].xml", kContentTypes},
                                    {"word/document.xml", std::string(10000, 'b')}});
  ZipEntry encrypted{"word/document.xml", "secret"};
  encrypted.flags = 1;
  ZipEntry bzip2{"word/document.xml", "x", false};
  bzip2.method = 12;
  std::string overlapping = good;
  // The second entry's local header offset (the last field before its name in the central
  // directory) pointed at the first entry: two entries sharing data.
  const size_t second = overlapping.rfind("word/document.xml");
  for (int i = 1; i <= 4; ++i) overlapping[second - static_cast<size_t>(i)] = '\0';
  std::string corrupt = good;
  corrupt[corrupt.find("word/document.xml") + 20] ^= 0x55;  // inside the deflated data
  for (const auto& [label, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"empty", ""},
           {"not a zip", "%PDF-1.4 not a zip at all"},
           {"cut in half", good.substr(0, good.size() / 2)},
           {"no end record", good.substr(0, good.size() - 22)},
           {"end record only", good.substr(good.size() - 22)},
           {"an encrypted entry", MakeZip({encrypted})},
           {"bzip2", MakeZip({bzip2})},
           {"a local header pointing elsewhere", overlapping},
           {"corrupt deflate data", corrupt}}) {
    const Status s = Check(bytes);
    EXPECT_FALSE(s.ok()) << label;
    EXPECT_FALSE(s.message_th().empty()) << label;
    EXPECT_FALSE(s.message_en().empty()) << label;
  }
  EXPECT_TRUE(Check(good).ok());
}

TEST_F(ZipCheckTest, DamageAnywhereGivesAnAnswerNeverACrash) {
  // Every byte of a small archive (headers, sizes, offsets, data, the end record) set in turn to
  // values a hostile file would use; under the sanitizers this proves no read goes astray.
  const std::string good = MakeZip({{"[Content_Types].xml", kContentTypes},
                                    {"word/document.xml", std::string(3000, 'c')},
                                    {"word/media/a.png", std::string(700, '\x89'), false}});
  ZipBounds bounds;
  bounds.max_uncompressed_bytes = 1 << 20;
  int refused = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (const int value : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      if (static_cast<unsigned char>(good[i]) == value) continue;
      std::string damaged = good;
      damaged[i] = static_cast<char>(value);
      const Status s = Check(damaged, bounds);
      if (!s.ok()) {
        ++refused;
        ASSERT_FALSE(s.message_th().empty()) << i;
        ASSERT_FALSE(s.message_en().empty()) << i;
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_TRUE(Check(good, bounds).ok());
}

TEST_F(ZipCheckTest, EntriesHiddenFromTheDirectoryAreRefused) {
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 100'000; ++i) {
    x = x * 1103515245u + 12345u;
    noise += static_cast<char>(x >> 24);
  }
  ZipEntry hidden{"word/hidden.xml", noise, false};
  hidden.listed = false;
  const Status unlisted =
      Check(MakeZip({{"[Content_Types].xml", kContentTypes}, hidden, {"word/document.xml", "x"}}));
  ASSERT_FALSE(unlisted.ok());
  EXPECT_NE(unlisted.message_en().find("the directory does not list"), std::string::npos)
      << unlisted.message_en();
  // An end record counting one entry less than the directory holds.
  std::string short_count = MakeZip({{"[Content_Types].xml", kContentTypes}, {"word/document.xml", "y"}});
  short_count[short_count.size() - 14] = 1;  // entries on this disk
  short_count[short_count.size() - 12] = 1;  // entries in all
  const Status counted = Check(short_count);
  ASSERT_FALSE(counted.ok());
  EXPECT_NE(counted.message_en().find("holds more than it counts"), std::string::npos)
      << counted.message_en();
}

TEST_F(ZipCheckTest, TooManyEntriesAreRefusedBeforeAnyIsRead) {
  std::vector<ZipEntry> many;
  for (int i = 0; i < 50; ++i) many.push_back({"f" + std::to_string(i), "x", false});
  ZipBounds bounds;
  bounds.max_entries = 49;
  const Status s = Check(MakeZip(many), bounds);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message_en().find("50 entries"), std::string::npos) << s.message_en();
  bounds.max_entries = 50;
  EXPECT_TRUE(Check(MakeZip(many), bounds).ok());
}

}  // namespace
}  // namespace esar::web
