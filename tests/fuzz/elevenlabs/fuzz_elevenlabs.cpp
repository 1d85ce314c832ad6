// Fuzzes ElevenLabs stream-input messages (providers/elevenlabs/stream_message): audio, alignment, final flag and
// errors read from the WebSocket without trusting their shape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/util/encoding.hpp"
#include "providers/elevenlabs/stream_message.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto m = va::elevenlabs::parse_stream_message(text);
    if (!m) return 0;
    if (m->audio) FUZZ_CHECK(m->audio->size() <= text.size());
    FUZZ_CHECK(!(m->bad_audio && m->audio));  // broken audio is never also read as audio
    FUZZ_CHECK(m->covered_chars <= text.size());
    return 0;
}
