#include "core/audio/format.hpp"

namespace va {

const char* to_string(Encoding encoding) {
    switch (encoding) {
        case Encoding::pcm16: return "pcm16";
        case Encoding::mulaw: return "mulaw";
        case Encoding::alaw: return "alaw";
    }
    return "pcm16";
}

std::optional<Encoding> parse_encoding(std::string_view name) {
    if (name == "pcm16" || name == "linear16" || name == "pcm_s16le") return Encoding::pcm16;
    if (name == "mulaw" || name == "ulaw" || name == "audio/x-mulaw") return Encoding::mulaw;
    if (name == "alaw" || name == "audio/x-alaw") return Encoding::alaw;
    return std::nullopt;
}

std::string describe(const AudioFormat& format) {
    return std::string(to_string(format.encoding)) + "/" + std::to_string(format.sample_rate) + "/" +
           std::to_string(format.channels);
}

}  // namespace va
