// API keys for scripts: "vak_" followed by 32 random bytes in base64url. The key is shown once; the store keeps
// its SHA-256 (keys carry 256 bits of entropy, so a fast hash is enough) and a short prefix for listings.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace va {

struct NewApiKey {
    std::string key;     // the secret, to show once
    std::string prefix;  // "vak_" + first 8 characters, safe to display
    std::string hash;    // hex SHA-256 of key
};

NewApiKey generate_api_key();
std::string hash_api_key(std::string_view key);
bool looks_like_api_key(std::string_view token);

}  // namespace va
