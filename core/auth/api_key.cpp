#include "core/auth/api_key.hpp"

#include "core/util/encoding.hpp"
#include "core/util/ids.hpp"

namespace va {

NewApiKey generate_api_key() {
    NewApiKey k;
    k.key = "vak_" + random_token(32);
    k.prefix = k.key.substr(0, 12);
    k.hash = hash_api_key(k.key);
    return k;
}

std::string hash_api_key(std::string_view key) { return hex_encode(sha256(key)); }

bool looks_like_api_key(std::string_view token) { return token.size() > 4 && token.substr(0, 4) == "vak_"; }

}  // namespace va
