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

std::string pcm16le_bytes(std::span<const std::int16_t> samples) {
    std::string bytes(samples.size() * 2, '\0');
    for (std::size_t i = 0; i < samples.size(); ++i) {
        auto u = std::uint16_t(samples[i]);
        bytes[2 * i] = char(u & 0xff);
        bytes[2 * i + 1] = char(u >> 8);
    }
    return bytes;
}

void pcm16le_samples(std::string_view bytes, std::vector<std::int16_t>& out) {
    out.resize(bytes.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = std::int16_t(std::uint16_t(std::uint8_t(bytes[2 * i])) | std::uint16_t(std::uint8_t(bytes[2 * i + 1])) << 8);
}

}  // namespace va
