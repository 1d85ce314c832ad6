// Fuzzes the Exotel AgentStream codec (providers/exotel/media_codec): a call's WebSocket messages, one per line;
// the first byte picks the rate of the stream URL (8000, 16000 or 24000 Hz).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "providers/exotel/media_codec.hpp"
#include "tests/fuzz/media_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static constexpr int rates[] = {8000, 16000, 24000};
    auto codec = va::exotel::make_media_codec(rates[data[0] % 3]);
    va::fuzz::run_media_codec(*codec, std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    return 0;
}
