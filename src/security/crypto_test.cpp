#include "security/crypto.h"

#include <gtest/gtest.h>

namespace esar::security {
namespace {

TEST(PasswordTest, VerifiesTheRightPasswordOnly) {
  auto hash = HashPassword("รหัสผ่าน-2567", HashStrength::kMinimum);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "รหัสผ่าน-2567"));
  EXPECT_FALSE(VerifyPassword(*hash, "รหัสผ่าน-2568"));
  EXPECT_FALSE(VerifyPassword("not a hash", "x"));
  EXPECT_FALSE(VerifyPassword("", ""));
  auto again = HashPassword("รหัสผ่าน-2567", HashStrength::kMinimum);
  EXPECT_NE(*hash, *again);  // salted
}

// RFC 4231, test cases 1 and 2.
TEST(HmacSha256Test, MatchesTheStandardVectorsWholeAndInPieces) {
  EXPECT_EQ(HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  HmacSha256 pieces("Jefe");
  pieces.Update("what do ya want ");
  pieces.Update("for nothing?");
  EXPECT_EQ(pieces.FinishHex(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_NE(HmacSha256Hex("Jefe", "x"), HmacSha256Hex("Jeff", "x"));
}

TEST(TokenTest, TokensAreLongAndDifferent) {
  const std::string a = RandomToken(), b = RandomToken();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
}

TEST(Sha256Test, MatchesTheStandardVectorsWholeAndInPieces) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 pieces;
  pieces.Update("a");
  pieces.Update("bc");
  EXPECT_EQ(pieces.FinishHex(), Sha256Hex("abc"));
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// FIPS 180-2's long vector (a million 'a'), fed in uneven pieces, carried on by a moved-to hash:
// what a result's audit digest and a streamed upload do.
TEST(Sha256Test, AMovedHashGoesOnWithTheLongStandardVector) {
  Sha256 first;
  const std::string chunk(999, 'a');
  size_t fed = 0;
  for (; fed + chunk.size() <= 500'000; fed += chunk.size()) first.Update(chunk);
  Sha256 second(std::move(first));
  Sha256 third;
  third = std::move(second);
  third.Update(std::string(1'000'000 - fed, 'a'));
  EXPECT_EQ(third.FinishHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(Sha256Hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace esar::security
