// Password hashing with Argon2id (libsodium's crypto_pwhash_str, interactive limits by default). Hashing is
// deliberately slow (tens of milliseconds): call it off the I/O threads. Thread-safe.
#pragma once

#include <string>

#include "core/util/result.hpp"

namespace va {

struct PasswordPolicy {
    std::size_t min_length = 8;
    std::size_t max_length = 1024;
};

// Checks the policy; invalid_request naming the field "password" when it fails.
Status check_password_policy(const std::string& password, const PasswordPolicy& policy = {});

Result<std::string> hash_password(const std::string& password);
bool verify_password(const std::string& password, const std::string& hash);

}  // namespace va
