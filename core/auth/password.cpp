#include "core/auth/password.hpp"

#include <sodium.h>

#include <mutex>

namespace va {

namespace {
void sodium_ready() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) std::abort();
    });
}
}  // namespace

Status check_password_policy(const std::string& password, const PasswordPolicy& policy) {
    if (password.size() < policy.min_length)
        return invalid_field("password", "must be at least " + std::to_string(policy.min_length) + " characters");
    if (password.size() > policy.max_length)
        return invalid_field("password", "must be at most " + std::to_string(policy.max_length) + " characters");
    return Ok{};
}

Result<std::string> hash_password(const std::string& password) {
    sodium_ready();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return make_error(ErrorCode::internal, "password hashing ran out of memory");
    return std::string(out);
}

bool verify_password(const std::string& password, const std::string& hash) {
    sodium_ready();
    if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace va
