#pragma once

// Password hashing, tokens and digests, all on libsodium.

#include <string>
#include <string_view>

#include "common/status.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace esar::security {

// How much work a password hash costs: kInteractive for people (libsodium's interactive
// limits, ~64 MiB), kMinimum only for tests.
enum class HashStrength { kInteractive, kMinimum };

// An argon2id hash of `password` in libsodium's self-describing string form. Fails only when the
// machine lacks the memory.
Result<std::string> HashPassword(std::string_view password,
                                 HashStrength strength = HashStrength::kInteractive);

// True when `password` matches `hash` (from HashPassword); false for anything else, including a
// malformed hash. Takes the same time whatever the first wrong byte.
bool VerifyPassword(std::string_view hash, std::string_view password);

// 32 random bytes as 64 lowercase hex characters: session ids, API tokens, CSRF tokens.
std::string RandomToken();

// The SHA-256 of `bytes`, as 64 lowercase hex characters.
std::string Sha256Hex(std::string_view bytes);

// A SHA-256 computed piece by piece (for files streamed to disk, and a result's 30 MB of rows
// for its audit digest). OpenSSL's, which uses the processor's SHA instructions where it has
// them: libsodium's portable one took 88 ms for 32 MB where OpenSSL's took 23 ms (issue 9).
class Sha256 {
 public:
  Sha256();  // throws std::bad_alloc when OpenSSL cannot make its context
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  ~Sha256();
  void Update(std::string_view bytes);
  // The digest as hex; the object must not be updated afterwards.
  std::string FinishHex();

 private:
  evp_md_ctx_st* context_;  // OpenSSL's EVP_MD_CTX, owned; null once moved from
};

// The HMAC-SHA-256 of `message` under `key` (any length; libsodium hashes longer keys), as 64
// lowercase hex characters.
std::string HmacSha256Hex(std::string_view key, std::string_view message);

// An HMAC-SHA-256 computed piece by piece (for backups written line by line).
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  void Update(std::string_view bytes);
  // The MAC as hex; the object must not be updated afterwards.
  std::string FinishHex();

 private:
  alignas(64) unsigned char state_[512];
};

// `size` random bytes (for keys).
std::string RandomBytes(size_t size);

// True when `a` and `b` are equal, compared in time that does not depend on where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace esar::security
