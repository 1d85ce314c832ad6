#include "core/audio/format.hpp"

#include "core/audio/g711.hpp"

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

void decode_audio(Encoding encoding, std::string_view bytes, std::vector<std::int16_t>& out) {
    std::size_t at = out.size();
    if (encoding == Encoding::pcm16) {
        out.resize(at + bytes.size() / 2);
        for (std::size_t i = 0; i < bytes.size() / 2; ++i)
            out[at + i] = std::int16_t(std::uint16_t(std::uint8_t(bytes[2 * i])) |
                                       std::uint16_t(std::uint8_t(bytes[2 * i + 1])) << 8);
        return;
    }
    out.resize(at + bytes.size());
    auto in = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    if (encoding == Encoding::mulaw) g711::decode_ulaw(in, std::span(out).subspan(at));
    else g711::decode_alaw(in, std::span(out).subspan(at));
}

void encode_audio(Encoding encoding, std::span<const std::int16_t> samples, std::string& out) {
    std::size_t at = out.size();
    if (encoding == Encoding::pcm16) {
        out.resize(at + samples.size() * 2);
        for (std::size_t i = 0; i < samples.size(); ++i) {
            auto u = std::uint16_t(samples[i]);
            out[at + 2 * i] = char(u & 0xff);
            out[at + 2 * i + 1] = char(u >> 8);
        }
        return;
    }
    out.resize(at + samples.size());
    auto to = std::span(reinterpret_cast<std::uint8_t*>(out.data()) + at, samples.size());
    if (encoding == Encoding::mulaw) g711::encode_ulaw(samples, to);
    else g711::encode_alaw(samples, to);
}

}  // namespace va
