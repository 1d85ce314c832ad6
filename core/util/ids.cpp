#include "core/util/ids.hpp"

#include <sodium.h>
#include <unistd.h>

#include <array>
#include <mutex>

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"

namespace va {

namespace {
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

std::string new_id(std::string_view prefix) {
    // Monotonic within the process (as ULIDs are): ids made in the same millisecond increment the random part
    // instead of drawing a new one, so creation order and id order always agree.
    static std::mutex mutex;
    static std::uint64_t last_ms = 0;
    static std::array<std::uint8_t, 16> last_random{};
    std::array<std::uint8_t, 16> digits{};
    std::uint64_t ms = static_cast<std::uint64_t>(now_ms());
    {
        std::lock_guard lock(mutex);
        if (ms <= last_ms) {
            ms = last_ms;
            digits = last_random;
            for (int i = 15; i >= 0; --i) {
                if (++digits[i] < 32) break;
                digits[i] = 0;
            }
        } else {
            unsigned char random[16];
            randombytes_buf(random, sizeof random);
            for (int i = 0; i < 16; ++i) digits[i] = random[i] & 31;
            // Leave headroom so increments within one millisecond never wrap.
            digits[0] &= 15;
        }
        last_ms = ms;
        last_random = digits;
    }
    std::string id(prefix);
    id += '_';
    char time_part[10];
    for (int i = 9; i >= 0; --i) {
        time_part[i] = kCrockford[ms & 31];
        ms >>= 5;
    }
    id.append(time_part, 10);
    for (auto d : digits) id += kCrockford[d];
    return id;
}

std::string random_token(std::size_t bytes) {
    std::string raw(bytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    return base64url_encode(raw);
}

std::string default_instance_id() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return std::string(host[0] ? host : "worker") + "-" + std::to_string(getpid()) + "-" + new_id("w").substr(2);
}

}  // namespace va
