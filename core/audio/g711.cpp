#include "core/audio/g711.hpp"

#include <array>

namespace va::g711 {

namespace {

constexpr int kUlawBias = 0x84;   // 132: shifts the segment boundaries so the encoding is piecewise logarithmic

constexpr std::int16_t ulaw_decode_formula(std::uint8_t code) {
    code = static_cast<std::uint8_t>(~code);
    int sign = code & 0x80;
    int exponent = (code >> 4) & 0x07;
    int mantissa = code & 0x0F;
    int magnitude = ((mantissa << 3) + kUlawBias) << exponent;
    magnitude -= kUlawBias;
    return static_cast<std::int16_t>(sign ? -magnitude : magnitude);
}

constexpr std::int16_t alaw_decode_formula(std::uint8_t code) {
    code ^= 0x55;
    int sign = code & 0x80;
    int exponent = (code >> 4) & 0x07;
    int mantissa = code & 0x0F;
    int magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
    return static_cast<std::int16_t>(sign ? magnitude : -magnitude);
}

template <std::int16_t (*F)(std::uint8_t)>
constexpr std::array<std::int16_t, 256> make_table() {
    std::array<std::int16_t, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = F(static_cast<std::uint8_t>(i));
    return t;
}

constexpr auto kUlawTable = make_table<ulaw_decode_formula>();
constexpr auto kAlawTable = make_table<alaw_decode_formula>();

}  // namespace

std::uint8_t linear_to_ulaw(std::int16_t sample) {
    // G.711 mu-law works on 14-bit magnitudes: drop the two low bits first (arithmetic shift, as the standard's
    // reference does, so negative values round toward minus infinity before the sign is taken).
    int pcm = sample >> 2;
    int mask = 0xFF;
    if (pcm < 0) {
        pcm = -pcm;
        mask = 0x7F;
    }
    if (pcm > 8159) pcm = 8159;
    pcm += kUlawBias >> 2;
    int segment = 0;
    while (segment < 8 && pcm >= (0x40 << segment)) ++segment;
    if (segment == 8) return static_cast<std::uint8_t>(0x7F ^ mask);
    int code = (segment << 4) | ((pcm >> (segment + 1)) & 0x0F);
    return static_cast<std::uint8_t>(code ^ mask);
}

std::int16_t ulaw_to_linear(std::uint8_t code) { return kUlawTable[code]; }

std::uint8_t linear_to_alaw(std::int16_t sample) {
    int pcm = sample;
    int sign = pcm >= 0 ? 0x80 : 0x00;
    if (!sign) pcm = -pcm - 1;  // one's complement keeps -32768 in range
    if (pcm > 32767) pcm = 32767;
    std::uint8_t code;
    if (pcm < 256) {
        code = static_cast<std::uint8_t>(pcm >> 4);
    } else {
        int exponent = 7;
        for (int mask = 0x4000; (pcm & mask) == 0 && exponent > 1; mask >>= 1) --exponent;
        code = static_cast<std::uint8_t>((exponent << 4) | ((pcm >> (exponent + 3)) & 0x0F));
    }
    return static_cast<std::uint8_t>((code | sign) ^ 0x55);
}

std::int16_t alaw_to_linear(std::uint8_t code) { return kAlawTable[code]; }

void encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = linear_to_ulaw(in[i]);
}
void decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = kUlawTable[in[i]];
}
void encode_alaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = linear_to_alaw(in[i]);
}
void decode_alaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = kAlawTable[in[i]];
}

}  // namespace va::g711
