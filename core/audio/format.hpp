// Audio formats as negotiated between carriers and providers: encoding (PCM16 little-endian, G.711 mu-law or
// A-law), sample rate and channel count; with the arithmetic every buffer size and frame duration derives from.
// Value types, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <span>
#include <vector>

namespace va {

enum class Encoding { pcm16, mulaw, alaw };

struct AudioFormat {
    Encoding encoding = Encoding::pcm16;
    int sample_rate = 16000;
    int channels = 1;

    std::size_t bytes_per_sample() const { return encoding == Encoding::pcm16 ? 2 : 1; }
    std::size_t bytes_per_ms() const { return bytes_per_sample() * std::size_t(sample_rate) * channels / 1000; }
    std::size_t bytes_for_ms(int ms) const {
        return bytes_per_sample() * std::size_t(channels) * std::size_t(sample_rate) * std::size_t(ms) / 1000;
    }
    std::size_t samples_for_ms(int ms) const { return std::size_t(sample_rate) * std::size_t(ms) / 1000; }
    double duration_ms(std::size_t bytes) const {
        return double(bytes) * 1000.0 / (double(bytes_per_sample()) * channels * sample_rate);
    }
    bool operator==(const AudioFormat&) const = default;
};

const char* to_string(Encoding encoding);
std::optional<Encoding> parse_encoding(std::string_view name);  // "pcm16"/"linear16", "mulaw"/"ulaw", "alaw"
std::string describe(const AudioFormat& format);                   // "pcm16/16000/1"

inline constexpr AudioFormat kTwilioFormat{Encoding::mulaw, 8000, 1};
inline constexpr AudioFormat kLocalFormat{Encoding::pcm16, 16000, 1};

// PCM16 samples as little-endian bytes (the wire order of every carrier and provider), whatever the host's order.
std::string pcm16le_bytes(std::span<const std::int16_t> samples);
// The samples of little-endian PCM16 bytes (an odd trailing byte is ignored).
void pcm16le_samples(std::string_view bytes, std::vector<std::int16_t>& out);

// Bytes in `encoding` (PCM16 little-endian, mu-law or A-law), appended to `out` as PCM16; an odd trailing PCM16
// byte is ignored.
void decode_audio(Encoding encoding, std::string_view bytes, std::vector<std::int16_t>& out);
// PCM16 samples appended to `out` as bytes in `encoding`.
void encode_audio(Encoding encoding, std::span<const std::int16_t> samples, std::string& out);
// The byte that pads silence in `encoding` (each byte of a PCM16 zero sample is 0x00).
constexpr char silence_byte(Encoding encoding) {
    return encoding == Encoding::mulaw ? char(0xFF) : encoding == Encoding::alaw ? char(0xD5) : char(0x00);
}

}  // namespace va
