#include "web/auth.h"

#include <gtest/gtest.h>

namespace esar::web {
namespace {

HttpRequest From(const std::string& peer, std::map<std::string, std::string> headers = {}) {
  HttpRequest r;
  r.method = "POST";
  r.remote_address = peer;
  r.headers = std::move(headers);
  return r;
}

TEST(TrustedProxyTest, ParsesAddressesAndRefusesAnythingElse) {
  EXPECT_TRUE(TrustedProxy::Parse("").ok());
  EXPECT_TRUE(TrustedProxy::Parse("").value().empty());
  EXPECT_TRUE(TrustedProxy::Parse("127.0.0.1, ::1").ok());
  EXPECT_EQ(TrustedProxy::Parse("localhost").status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(TrustedProxy::Parse("127.0.0.1,10.0.0.300").status().code(),
            StatusCode::kInvalidInput);
}

TEST(TrustedProxyTest, BelievesOnlyTheProxyAndOnlyTheEntryItAppended) {
  const TrustedProxy proxy = *TrustedProxy::Parse("127.0.0.1");
  // From the proxy: the last entry (what it appended), not what the client claimed first.
  EXPECT_EQ(proxy.ClientAddress(From("127.0.0.1", {{"x-forwarded-for", "1.2.3.4, 203.0.113.9"}})),
            "203.0.113.9");
  EXPECT_EQ(proxy.ClientAddress(From("::ffff:127.0.0.1", {{"x-forwarded-for", "2001:db8::1"}})),
            "2001:db8::1");
  // Garbage or nothing: the proxy's own address, never the garbage.
  EXPECT_EQ(proxy.ClientAddress(From("127.0.0.1", {{"x-forwarded-for", "evil"}})), "127.0.0.1");
  EXPECT_EQ(proxy.ClientAddress(From("127.0.0.1")), "127.0.0.1");
  // From anyone else the header means nothing.
  EXPECT_EQ(proxy.ClientAddress(From("198.51.100.4", {{"x-forwarded-for", "203.0.113.9"}})),
            "198.51.100.4");
  EXPECT_EQ(TrustedProxy().ClientAddress(From("127.0.0.1", {{"x-forwarded-for", "203.0.113.9"}})),
            "127.0.0.1");
  EXPECT_EQ(proxy.Host(From("127.0.0.1", {{"host", "127.0.0.1:8080"},
                                          {"x-forwarded-host", "esar.example.go.th"}})),
            "esar.example.go.th");
  EXPECT_EQ(proxy.Host(From("198.51.100.4", {{"host", "127.0.0.1:8080"},
                                             {"x-forwarded-host", "evil.example"}})),
            "127.0.0.1:8080");
}

TEST(CheckSameSiteTest, RefusesOtherSitesAndLetsScriptsThrough) {
  const TrustedProxy none;
  bool vouched = true;
  EXPECT_TRUE(CheckSameSite(From("127.0.0.1", {{"host", "esar.test:8080"}}), none, &vouched).ok());
  EXPECT_FALSE(vouched);  // a script: nothing said either way
  EXPECT_TRUE(CheckSameSite(From("127.0.0.1", {{"host", "esar.test:8080"},
                                               {"origin", "http://esar.test:8080"}}),
                            none, &vouched)
                  .ok());
  EXPECT_TRUE(vouched);
  // Default ports and case do not matter.
  EXPECT_TRUE(CheckSameSite(From("127.0.0.1", {{"host", "ESAR.test:443"},
                                               {"origin", "https://esar.test"}}),
                            none)
                  .ok());
  for (const auto& [header, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"origin", "https://evil.example"},
           {"origin", "null"},
           {"origin", "http://esar.test:8081"},
           {"origin", "http://esar.test:8080@evil.example"},
           {"referer", "https://evil.example/esar.test:8080/login"}}) {
    EXPECT_EQ(CheckSameSite(From("127.0.0.1", {{"host", "esar.test:8080"}, {header, value}}), none)
                  .code(),
              StatusCode::kPermissionDenied)
        << header << ": " << value;
  }
  // Behind the trusted proxy the host is the one the browser asked for.
  const TrustedProxy proxy = *TrustedProxy::Parse("127.0.0.1");
  EXPECT_TRUE(CheckSameSite(From("127.0.0.1", {{"host", "127.0.0.1:8080"},
                                               {"x-forwarded-host", "esar.example.go.th"},
                                               {"origin", "https://esar.example.go.th"}}),
                            proxy)
                  .ok());
}

}  // namespace
}  // namespace esar::web
