#include "security/crypto.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cassert>
#include <mutex>
#include <new>
#include <stdexcept>
#include <utility>

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

static_assert(sizeof(crypto_auth_hmacsha256_state) <= 512, "HmacSha256::state_ is too small");

// OpenSSL's SHA-256, looked up once: given EVP_sha256(), OpenSSL 3 looks the implementation up in
// its providers at every EVP_DigestInit_ex, which took a 64-byte hash (a session token's) from
// 0.15 to 0.35 us here. Kept for the process's life.
const EVP_MD* Sha256Method() {
  static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return fetched ? fetched : EVP_sha256();
}

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
  Sha256 hash;
  hash.Update(bytes);
  return hash.FinishHex();
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  // An EVP context fails to be made or initialised only when memory is short.
  if (!context_ || EVP_DigestInit_ex(context_, Sha256Method(), nullptr) != 1) {
    EVP_MD_CTX_free(context_);
    throw std::bad_alloc();
  }
}

Sha256::Sha256(Sha256&& other) noexcept : context_(std::exchange(other.context_, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(context_);
    context_ = std::exchange(other.context_, nullptr);
  }
  return *this;
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_); }

void Sha256::Update(std::string_view bytes) {
  // Fails only on a context that was never initialised, which the constructor rules out.
  const int updated = EVP_DigestUpdate(context_, bytes.data(), bytes.size());
  assert(updated == 1);
  (void)updated;
}

std::string Sha256::FinishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const int finished = EVP_DigestFinal_ex(context_, digest, &size);
  assert(finished == 1 && size == crypto_hash_sha256_BYTES);
  (void)finished;
  return Hex(digest, size);
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
