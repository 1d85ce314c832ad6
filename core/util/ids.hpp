// Opaque, time-sortable identifiers ("agt_01HX..."): a prefix, 10 Crockford base32 characters of milliseconds since
// the epoch, then 16 random characters. Sorting ids sorts by creation time, which is what cursor pagination uses.
// Thread-safe: randomness comes from libsodium.
#pragma once

#include <string>
#include <string_view>

namespace va {

std::string new_id(std::string_view prefix);

// A random token of `bytes` bytes, base64url without padding (for secrets, refresh tokens, API keys).
std::string random_token(std::size_t bytes);

// A name for this process among several daemons (job leases, event origins): host-pid-random.
std::string default_instance_id();

}  // namespace va
