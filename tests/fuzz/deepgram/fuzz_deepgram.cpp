// Fuzzes Deepgram live-recognition messages (providers/deepgram/listen_message): what the /v1/listen WebSocket
// sends is read without trusting its shape; spans convert to byte counts within bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "providers/deepgram/listen_message.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto m = va::deepgram::parse_listen_message(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!m) return 0;
    if (m->end_s) {
        for (std::size_t per_ms : {8u, 16u, 32u, 48u})
            FUZZ_CHECK(va::deepgram::settled_bytes(*m->end_s, per_ms, 1'000'000) <= 1'000'000);
    }
    if (m->type == va::deepgram::ListenMessage::Type::error) FUZZ_CHECK(!m->description.empty());
    return 0;
}
