#include "security/crypto.h"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace esar::security {
namespace {

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init fails only when no source of randomness exists: nothing can work then.
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  });
}

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, size);
  out.pop_back();
  return out;
}

static_assert(sizeof(crypto_hash_sha256_state) <= 256, "Sha256::state_ is too small");
static_assert(sizeof(crypto_auth_hmacsha256_state) <= 512, "HmacSha256::state_ is too small");

}  // namespace

Result<std::string> HashPassword(std::string_view password, HashStrength strength) {
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  const bool minimum = strength == HashStrength::kMinimum;
  if (crypto_pwhash_str_alg(
          out, password.data(), password.size(),
          minimum ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE,
          minimum ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE,
          crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal("argon2id ran out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  EnsureSodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

std::string RandomToken() {
  EnsureSodium();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  return Hex(bytes, sizeof bytes);
}

std::string Sha256Hex(std::string_view bytes) {
  EnsureSodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return Hex(digest, sizeof digest);
}

Sha256::Sha256() {
  EnsureSodium();
  crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_));
}

void Sha256::Update(std::string_view bytes) {
  crypto_hash_sha256_update(reinterpret_cast<crypto_hash_sha256_state*>(state_),
                            reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string Sha256::FinishHex() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_), digest);
  return Hex(digest, sizeof digest);
}

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  HmacSha256 mac(key);
  mac.Update(message);
  return mac.FinishHex();
}

HmacSha256::HmacSha256(std::string_view key) {
  EnsureSodium();
  crypto_auth_hmacsha256_init(reinterpret_cast<crypto_auth_hmacsha256_state*>(state_),
                              reinterpret_cast<const unsigned char*>(key.data()), key.size());
}

void HmacSha256::Update(std::string_view bytes) {
  crypto_auth_hmacsha256_update(reinterpret_cast<crypto_auth_hmacsha256_state*>(state_),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                bytes.size());
}

std::string HmacSha256::FinishHex() {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(reinterpret_cast<crypto_auth_hmacsha256_state*>(state_), mac);
  return Hex(mac, sizeof mac);
}

std::string RandomBytes(size_t size) {
  EnsureSodium();
  std::string out(size, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace esar::security
