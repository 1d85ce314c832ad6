// Fuzzes the Twilio Media Streams codec (providers/twilio/media_codec): a call's WebSocket messages, one per line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "providers/twilio/media_codec.hpp"
#include "tests/fuzz/media_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto codec = va::twilio::make_media_codec();
    va::fuzz::run_media_codec(*codec, std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
