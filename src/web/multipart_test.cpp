#include "web/multipart.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "common/text.h"

namespace esar::web {
namespace {

const std::string kBoundary = "----esarFormBoundary7MA4YWxkTrZu0gW";

struct RecordedPart {
  PartHeaders headers;
  std::string data;
  int data_calls = 0;
  bool ended = false;
};

// Records every call; can be told to fail at a given call.
class Recorder : public MultipartParser::Handler {
 public:
  Status OnPartBegin(const PartHeaders& headers) override {
    ++calls;
    if (calls == fail_at_call) return Failure();
    parts.push_back({headers, "", 0, false});
    return Status::Ok();
  }
  Status OnPartData(std::string_view bytes) override {
    ++calls;
    EXPECT_FALSE(bytes.empty());
    EXPECT_FALSE(parts.empty());
    if (calls == fail_at_call) return Failure();
    parts.back().data.append(bytes);
    ++parts.back().data_calls;
    return Status::Ok();
  }
  Status OnPartEnd() override {
    ++calls;
    if (calls == fail_at_call) return Failure();
    EXPECT_FALSE(parts.back().ended);
    parts.back().ended = true;
    return Status::Ok();
  }
  static Status Failure() { return Status::IoError("ดิสก์เต็ม", "disk full"); }

  std::vector<RecordedPart> parts;
  int calls = 0;
  int fail_at_call = -1;
};

std::string BinaryData() {
  std::string data;
  for (int i = 0; i < 256; ++i) data += static_cast<char>(i);
  // Near misses of the delimiter, which must come through as data.
  data += "\r\n--";
  data += "\r\n--" + kBoundary.substr(0, kBoundary.size() - 1) + "X";
  data += "\r\n\r\n--\r\nx";
  data += "--" + kBoundary + "--";  // the boundary without the CRLF before it is data
  data += "\r\r\n-\r\n--" + kBoundary.substr(0, 5);
  data += "\r";  // ends with what could start the delimiter
  return data;
}

std::string TwoPartBody() {
  return "This preamble is ignored.\r\n"
         "--" +
         kBoundary +
         "\r\n"
         "Content-Disposition: form-data; name=\"title\"\r\n"
         "\r\n"
         "รายงานผลการดำเนินงาน\r\n"
         "--" +
         kBoundary +
         "\r\n"
         "Content-Disposition: form-data; name=\"evidence\"; filename=\"report.pdf\"\r\n"
         "Content-Type: application/pdf\r\n"
         "\r\n" +
         BinaryData() + "\r\n--" + kBoundary + "--\r\nThis epilogue is ignored too.\r\n";
}

// Feeds `body` in pieces of the sizes `next_size` returns, then finishes.
template <typename NextSize>
Status ParseInPieces(std::string_view body, Recorder& recorder, NextSize next_size) {
  MultipartParser parser(kBoundary, recorder);
  while (!body.empty()) {
    const size_t n = std::min(body.size(), std::max<size_t>(1, next_size()));
    if (Status s = parser.Feed(body.substr(0, n)); !s.ok()) return s;
    body.remove_prefix(n);
  }
  return parser.Finish();
}

Status ParseWhole(std::string_view body, Recorder& recorder) {
  MultipartParser parser(kBoundary, recorder);
  if (Status s = parser.Feed(body); !s.ok()) return s;
  return parser.Finish();
}

void ExpectTwoParts(const Recorder& recorder) {
  ASSERT_EQ(recorder.parts.size(), 2u);
  const RecordedPart& title = recorder.parts[0];
  EXPECT_EQ(title.headers.name, "title");
  EXPECT_FALSE(title.headers.has_filename);
  EXPECT_EQ(title.headers.filename, "");
  EXPECT_EQ(title.headers.content_type, "");
  EXPECT_EQ(title.data, "รายงานผลการดำเนินงาน");
  EXPECT_TRUE(title.ended);
  const RecordedPart& file = recorder.parts[1];
  EXPECT_EQ(file.headers.name, "evidence");
  EXPECT_TRUE(file.headers.has_filename);
  EXPECT_EQ(file.headers.filename, "report.pdf");
  EXPECT_EQ(file.headers.content_type, "application/pdf");
  ASSERT_EQ(file.headers.header_lines.size(), 2u);
  EXPECT_EQ(file.headers.header_lines[1], "Content-Type: application/pdf");
  EXPECT_EQ(file.data, BinaryData());
  EXPECT_TRUE(file.ended);
}

void ExpectInvalid(const Status& s, std::string_view english) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput) << s.message_en();
  EXPECT_FALSE(s.message_th().empty());
  EXPECT_TRUE(IsValidUtf8(s.message_th()));
  EXPECT_NE(s.message_en().find(english), std::string::npos) << s.message_en();
}

// One part with the given header lines (each without CRLF) and data.
std::string OnePart(const std::vector<std::string>& headers, const std::string& data) {
  std::string body = "--" + kBoundary + "\r\n";
  for (const std::string& h : headers) body += h + "\r\n";
  return body + "\r\n" + data + "\r\n--" + kBoundary + "--\r\n";
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (char c : s) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
    out += hex;
  }
  return out;
}

TEST(MultipartParserTest, ParsesTwoPartsFedWhole) {
  Recorder recorder;
  ASSERT_TRUE(ParseWhole(TwoPartBody(), recorder).ok());
  ExpectTwoParts(recorder);
  // Fed whole, the file's bytes arrive in one piece: nothing is copied or held back needlessly.
  EXPECT_EQ(recorder.parts[1].data_calls, 1);
}

TEST(MultipartParserTest, ParsesTwoPartsFedOneByteAtATime) {
  Recorder recorder;
  ASSERT_TRUE(ParseInPieces(TwoPartBody(), recorder, [] { return 1; }).ok());
  ExpectTwoParts(recorder);
}

TEST(MultipartParserTest, ParsesTwoPartsFedInRandomChunks) {
  std::mt19937 random(20240517);
  for (int round = 0; round < 200; ++round) {
    const int max_chunk = round % 2 == 0 ? 8 : 300;
    std::uniform_int_distribution<int> size(1, max_chunk);
    Recorder recorder;
    ASSERT_TRUE(ParseInPieces(TwoPartBody(), recorder, [&] { return size(random); }).ok());
    ExpectTwoParts(recorder);
  }
}

TEST(MultipartParserTest, BoundarySplitAtEveryPointBetweenTwoChunks) {
  const std::string body = TwoPartBody();
  for (size_t split = 0; split <= body.size(); ++split) {
    Recorder recorder;
    MultipartParser parser(kBoundary, recorder);
    ASSERT_TRUE(parser.Feed(std::string_view(body).substr(0, split)).ok()) << split;
    ASSERT_TRUE(parser.Feed(std::string_view(body).substr(split)).ok()) << split;
    ASSERT_TRUE(parser.Finish().ok()) << split;
    ExpectTwoParts(recorder);
    EXPECT_EQ(parser.part_count(), 2);
  }
}

TEST(MultipartParserTest, LargeFileStreamsThrough) {
  std::string data(1024 * 1024, 'x');
  for (size_t i = 0; i < data.size(); i += 997) data[i] = '\r';
  const std::string body =
      OnePart({"Content-Disposition: form-data; name=\"f\"; filename=\"big.bin\""}, data);
  for (size_t chunk : {size_t{65536}, size_t{1000}, size_t{7}}) {
    Recorder recorder;
    MultipartParser parser(kBoundary, recorder);
    size_t most_buffered = 0;
    for (size_t at = 0; at < body.size(); at += chunk) {
      ASSERT_TRUE(parser.Feed(std::string_view(body).substr(at, chunk)).ok());
      // Headers are held a line at a time; part data only as a possible start of the delimiter.
      EXPECT_LE(parser.buffered_bytes(), MultipartParser::kMaxHeaderBytes + 1);
      if (!recorder.parts.empty()) {
        most_buffered = std::max(most_buffered, parser.buffered_bytes());
      }
    }
    ASSERT_TRUE(parser.Finish().ok());
    ASSERT_EQ(recorder.parts.size(), 1u);
    EXPECT_EQ(recorder.parts[0].data, data);
    EXPECT_LT(most_buffered, kBoundary.size() + 4) << chunk;
  }
}

TEST(MultipartParserTest, PrefersUtf8FilenameStar) {
  const std::string thai = "รายงาน ผลการดำเนินงาน.pdf";
  const std::string body = OnePart({"Content-Disposition: form-data; name=\"evidence\"; "
                                    "filename=\"report.pdf\"; filename*=UTF-8''" +
                                    PercentEncode(thai)},
                                   "%PDF");
  Recorder recorder;
  ASSERT_TRUE(ParseWhole(body, recorder).ok());
  ASSERT_EQ(recorder.parts.size(), 1u);
  EXPECT_EQ(recorder.parts[0].headers.filename, thai);
  EXPECT_EQ(recorder.parts[0].data, "%PDF");

  // A malformed filename* (bad escape, other charset, broken UTF-8) falls back to filename.
  for (const std::string& bad : {std::string("UTF-8''%E0%B8"), std::string("UTF-8''%ZZ"),
                                 std::string("x-unknown''abc"), std::string("no-quotes")}) {
    Recorder r;
    ASSERT_TRUE(ParseWhole(OnePart({"Content-Disposition: form-data; name=\"e\"; "
                                    "filename*=" +
                                    bad + "; filename=\"plain.pdf\""},
                                   ""),
                           r)
                    .ok());
    ASSERT_EQ(r.parts.size(), 1u);
    EXPECT_EQ(r.parts[0].headers.filename, "plain.pdf") << bad;
    EXPECT_EQ(r.parts[0].data, "");
  }
}

TEST(MultipartParserTest, RawUtf8FilenameAndLanguageTag) {
  Recorder recorder;
  ASSERT_TRUE(ParseWhole(OnePart({"content-disposition: FORM-DATA; NAME=doc; "
                                  "filename*=utf-8'th'%E0%B8%81.txt"},
                                 "a"),
                         recorder)
                  .ok());
  ASSERT_EQ(recorder.parts.size(), 1u);
  EXPECT_EQ(recorder.parts[0].headers.name, "doc");
  EXPECT_EQ(recorder.parts[0].headers.filename, "ก.txt");
}

TEST(MultipartParserTest, QuotedValuesWithEscapes) {
  Recorder recorder;
  ASSERT_TRUE(ParseWhole(OnePart({"Content-Disposition: form-data; name=\"say \\\"hi\\\"; ok\"; "
                                  "filename=\"C:\\x\\y.pdf\""},
                                 "data"),
                         recorder)
                  .ok());
  ASSERT_EQ(recorder.parts.size(), 1u);
  EXPECT_EQ(recorder.parts[0].headers.name, "say \"hi\"; ok");
  // Browsers do not escape backslashes in Windows paths; they are kept.
  EXPECT_EQ(recorder.parts[0].headers.filename, "C:\\x\\y.pdf");
  EXPECT_EQ(CleanFileName(recorder.parts[0].headers.filename), "y.pdf");
}

TEST(MultipartParserTest, EmptyFormAndTransportPadding) {
  Recorder empty;
  ASSERT_TRUE(ParseWhole("--" + kBoundary + "--", empty).ok());
  EXPECT_TRUE(empty.parts.empty());

  Recorder padded;
  const std::string body = "--" + kBoundary +
                           " \t\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--" +
                           kBoundary + "--";
  ASSERT_TRUE(ParseWhole(body, padded).ok());
  ASSERT_EQ(padded.parts.size(), 1u);
  EXPECT_EQ(padded.parts[0].data, "1");
}

TEST(MultipartParserTest, MissingClosingBoundaryFailsAtFinish) {
  std::string body = TwoPartBody();
  body = body.substr(0, body.find("--" + kBoundary + "--"));
  Recorder recorder;
  MultipartParser parser(kBoundary, recorder);
  ASSERT_TRUE(parser.Feed(body).ok());
  ExpectInvalid(parser.Finish(), "closing boundary");
  ExpectInvalid(parser.Finish(), "closing boundary");  // the error stays

  Recorder none;
  MultipartParser no_boundary(kBoundary, none);
  ASSERT_TRUE(no_boundary.Feed("just some text, no boundary at all").ok());
  ExpectInvalid(no_boundary.Finish(), "no boundary");

  Recorder cut;
  MultipartParser in_headers(kBoundary, cut);
  ASSERT_TRUE(in_headers.Feed("--" + kBoundary + "\r\nContent-Disp").ok());
  ExpectInvalid(in_headers.Finish(), "closing boundary");
}

TEST(MultipartParserTest, TooManyParts) {
  auto body_with = [](int parts) {
    std::string body;
    for (int i = 0; i < parts; ++i) {
      body += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"f" +
              std::to_string(i) + "\"\r\n\r\nv\r\n";
    }
    return body + "--" + kBoundary + "--\r\n";
  };
  Recorder ok;
  ASSERT_TRUE(ParseWhole(body_with(MultipartParser::kMaxParts), ok).ok());
  EXPECT_EQ(ok.parts.size(), 100u);

  Recorder too_many;
  ExpectInvalid(ParseWhole(body_with(MultipartParser::kMaxParts + 1), too_many),
                "more than 100 parts");
  EXPECT_EQ(too_many.parts.size(), 100u);
}

TEST(MultipartParserTest, OversizedHeaders) {
  // One enormous header line, fed in pieces: fails before the line ends.
  Recorder recorder;
  MultipartParser parser(kBoundary, recorder);
  ASSERT_TRUE(parser.Feed("--" + kBoundary + "\r\nX-Padding: ").ok());
  Status s;
  int fed = 0;
  while (s.ok() && fed < 100) {
    s = parser.Feed(std::string(1024, 'a'));
    ++fed;
  }
  ExpectInvalid(s, "exceed 16 KiB");
  EXPECT_LE(fed, 17);
  ExpectInvalid(parser.Feed("more"), "exceed 16 KiB");

  // Many short header lines adding up to more than 16 KiB.
  std::vector<std::string> headers = {"Content-Disposition: form-data; name=\"a\""};
  for (int i = 0; i < 400; ++i)
    headers.push_back("X-Header-" + std::to_string(i) + ": " + std::string(40, 'v'));
  Recorder many;
  ExpectInvalid(ParseWhole(OnePart(headers, "x"), many), "exceed 16 KiB");
  EXPECT_TRUE(many.parts.empty());

  // Just under the limit is fine.
  headers.resize(1);
  headers.push_back("X-Big: " + std::string(MultipartParser::kMaxHeaderBytes - 100, 'v'));
  Recorder fits;
  EXPECT_TRUE(ParseWhole(OnePart(headers, "x"), fits).ok());
}

TEST(MultipartParserTest, NoContentDisposition) {
  Recorder recorder;
  ExpectInvalid(ParseWhole(OnePart({"Content-Type: text/plain"}, "x"), recorder),
                "no Content-Disposition");
  Recorder no_headers;
  ExpectInvalid(ParseWhole(OnePart({}, "x"), no_headers), "no Content-Disposition");
  Recorder no_name;
  ExpectInvalid(
      ParseWhole(OnePart({"Content-Disposition: form-data; filename=\"a\""}, "x"), no_name),
      "no field name");
  Recorder attachment;
  ExpectInvalid(
      ParseWhole(OnePart({"Content-Disposition: attachment; name=\"a\""}, "x"), attachment),
      "must be form-data");
  Recorder twice;
  ExpectInvalid(ParseWhole(OnePart({"Content-Disposition: form-data; name=\"a\"",
                                    "Content-Disposition: form-data; name=\"b\""},
                                   "x"),
                           twice),
                "more than one Content-Disposition");
  Recorder unterminated;
  ExpectInvalid(
      ParseWhole(OnePart({"Content-Disposition: form-data; name=\"a"}, "x"), unterminated),
      "malformed parameters");
}

TEST(MultipartParserTest, MalformedFramingAndGarbage) {
  const std::string b = "--" + kBoundary;
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {b + "garbage\r\n", "expected CRLF after the boundary"},
      {b + "-x", "expected CRLF after the boundary"},
      {b + "\rX", "expected CRLF after the boundary"},
      {b + " --", "expected CRLF after the boundary"},
      {b + "\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n" + b + "--",
       "expected CRLF after the boundary"},
      {b + "\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\n", "must end with CRLF"},
      {b + "\r\nContent-Disposition: form-data; name=a\r\n\n", "must end with CRLF"},
      {b + "\r\nContent-Disposition: form-data; name=a\r\nthe value\r\n" + b + "--",
       "is not \"Name: value\""},
      {b + "\r\n\x01\x02\x03 random bytes\r\n\r\n", "is not \"Name: value\""},
      {b + "\r\nContent-Disposition: form-data;\r\n  name=a\r\n\r\n", "folded header"},
      {b + "\r\nContent-Disposition: form-data; name=a\rb\r\n\r\n", "control character"},
  };
  for (const Case& c : cases) {
    Recorder whole;
    ExpectInvalid(ParseWhole(c.body, whole), c.error);
    Recorder bytes;
    ExpectInvalid(ParseInPieces(c.body, bytes, [] { return 1; }), c.error);
  }

  // Random bytes never crash and never succeed.
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 50; ++round) {
    std::string junk = round % 2 == 0 ? b + "\r\n" : "";
    for (int i = 0; i < 2000; ++i) junk += static_cast<char>(byte(random));
    Recorder recorder;
    EXPECT_FALSE(ParseInPieces(junk, recorder, [&] { return byte(random); }).ok());
  }
}

TEST(MultipartParserTest, HandlerErrorStopsParsing) {
  for (int fail_at = 1; fail_at <= 5; ++fail_at) {
    Recorder recorder;
    recorder.fail_at_call = fail_at;
    MultipartParser parser(kBoundary, recorder);
    Status s = parser.Feed(TwoPartBody());
    EXPECT_EQ(s.code(), StatusCode::kIoError) << fail_at;
    EXPECT_EQ(s.message_en(), "disk full");
    EXPECT_EQ(recorder.calls, fail_at);
    EXPECT_EQ(parser.Feed("more").code(), StatusCode::kIoError);
    EXPECT_EQ(parser.Finish().code(), StatusCode::kIoError);
    EXPECT_EQ(recorder.calls, fail_at);  // the handler is not called again
  }
}

TEST(MultipartParserTest, InvalidBoundaryFailsFirstCall) {
  Recorder recorder;
  MultipartParser empty("", recorder);
  ExpectInvalid(empty.Feed("--\r\n"), "empty");
  MultipartParser bad("a\r\nb", recorder);
  ExpectInvalid(bad.Finish(), "not allowed");
  EXPECT_EQ(recorder.calls, 0);
}

TEST(BoundaryFromContentTypeTest, ReadsTheBoundary) {
  auto boundary = [](std::string_view header) {
    Result<std::string> r = BoundaryFromContentType(header);
    return r.ok() ? *r : "ERROR: " + r.status().message_en();
  };
  EXPECT_EQ(boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(boundary("Multipart/Form-Data; BOUNDARY=\"----WebKit Form'()+_,-./:=?\""),
            "----WebKit Form'()+_,-./:=?");
  EXPECT_EQ(boundary("multipart/form-data;boundary=abc;charset=utf-8"), "abc");
  EXPECT_EQ(boundary("  multipart/form-data ; charset=utf-8 ; boundary=\"x y\" "), "x y");
  EXPECT_EQ(boundary("multipart/form-data; boundary=" + std::string(70, 'b')),
            std::string(70, 'b'));
}

TEST(BoundaryFromContentTypeTest, Refuses) {
  struct Case {
    std::string header;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"text/plain; boundary=abc", "not multipart/form-data"},
      {"multipart/mixed; boundary=abc", "not multipart/form-data"},
      {"", "not multipart/form-data"},
      {"multipart/form-data", "no boundary"},
      {"multipart/form-data; charset=utf-8", "no boundary"},
      {"multipart/form-data; boundary=", "empty"},
      {"multipart/form-data; boundary=\"\"", "empty"},
      {"multipart/form-data; boundary=" + std::string(71, 'b'), "longer than 70"},
      {"multipart/form-data; boundary=\"abc", "malformed parameters"},
      {"multipart/form-data; boundary=a@b", "not allowed"},
      {"multipart/form-data; boundary=\"ab \"", "ends with a space"},
  };
  for (const Case& c : cases) {
    Result<std::string> r = BoundaryFromContentType(c.header);
    ASSERT_FALSE(r.ok()) << c.header;
    ExpectInvalid(r.status(), c.error);
  }
}

TEST(CleanFileNameTest, KeepsOnlyASafeLastComponent) {
  EXPECT_EQ(CleanFileName("../../etc/passwd"), "passwd");
  EXPECT_EQ(CleanFileName("C:\\x\\y.pdf"), "y.pdf");
  EXPECT_EQ(CleanFileName("a/b\\c/d.txt"), "d.txt");
  EXPECT_EQ(CleanFileName("a\x01"
                          "b\x7f\tc\n.pdf"),
            "abc.pdf");
  EXPECT_EQ(CleanFileName("a<b>c:d\"e|f?g*h.txt"), "abcdefgh.txt");
  EXPECT_EQ(CleanFileName("r\xE0\xB8\xC3\xA9\xFF.pdf"), "r\xC3\xA9.pdf");  // broken UTF-8 dropped
  EXPECT_EQ(CleanFileName("abc\u202Efdp.exe"), "abcfdp.exe");  // right-to-left override dropped
  EXPECT_EQ(CleanFileName("  ..hidden . "), "hidden");
  EXPECT_EQ(CleanFileName(".."), "file");
  EXPECT_EQ(CleanFileName(""), "file");
  EXPECT_EQ(CleanFileName("dir/"), "file");
  EXPECT_EQ(CleanFileName("\x01\x02"), "file");
  EXPECT_EQ(CleanFileName("รายงาน ผลการดำเนินงาน.pdf"), "รายงาน ผลการดำเนินงาน.pdf");
  EXPECT_EQ(CleanFileName("/home/สมชาย/ไฟล์แนบ (1).xlsx"), "ไฟล์แนบ (1).xlsx");
}

TEST(CleanFileNameTest, CapsLongNamesOnACharacterBoundary) {
  std::string thai;
  for (int i = 0; i < 100; ++i) thai += "ก";  // 3 bytes each
  const std::string plain = CleanFileName(thai);
  EXPECT_EQ(plain.size(), 198u);
  EXPECT_TRUE(IsValidUtf8(plain));

  const std::string with_extension = CleanFileName(thai + ".pdf");
  EXPECT_LE(with_extension.size(), 200u);
  EXPECT_TRUE(IsValidUtf8(with_extension));
  EXPECT_TRUE(with_extension.ends_with("ก.pdf")) << with_extension;

  // A cut at byte 200 would separate the vowel mark ิ from its consonant: cut before both.
  std::string marks = "xxxxx";
  for (int i = 0; i < 50; ++i) marks += "กิ";
  const std::string cut = CleanFileName(marks);
  EXPECT_EQ(cut.size(), 197u);
  EXPECT_TRUE(cut.ends_with("กิ"));

  EXPECT_EQ(CleanFileName(std::string(300, 'a')), std::string(200, 'a'));
  EXPECT_EQ(CleanFileName(std::string(199, 'a') + " .. bbb"), std::string(199, 'a'));
}

}  // namespace
}  // namespace esar::web
