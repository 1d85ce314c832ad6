#include <catch2/catch.hpp>

#include <cstdlib>
#include <vector>

#include "core/audio/g711.hpp"

using namespace va;

namespace {

// Independent reference: the segment-table formulation of ITU-T G.711 (as in the widely used Sun reference code,
// which works on 14-bit mu-law and 13-bit A-law magnitudes). The implementation under test is written differently
// (16-bit bit search), so agreement over every input value is a real check.
int search(int value, const int* table, int size) {
    for (int i = 0; i < size; ++i)
        if (value <= table[i]) return i;
    return size;
}

std::uint8_t ref_ulaw(std::int16_t sample) {
    static const int seg_end[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
    int pcm = sample >> 2;
    int mask;
    if (pcm < 0) {
        pcm = -pcm;
        mask = 0x7F;
    } else {
        mask = 0xFF;
    }
    if (pcm > 8159) pcm = 8159;
    pcm += 0x84 >> 2;
    int seg = search(pcm, seg_end, 8);
    if (seg >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
    int uval = (seg << 4) | ((pcm >> (seg + 1)) & 0xF);
    return static_cast<std::uint8_t>(uval ^ mask);
}

std::uint8_t ref_alaw(std::int16_t sample) {
    static const int seg_end[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
    int pcm = sample >> 3;
    int mask;
    if (pcm >= 0) {
        mask = 0xD5;
    } else {
        mask = 0x55;
        pcm = -pcm - 1;
    }
    int seg = search(pcm, seg_end, 8);
    if (seg >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
    int aval = seg << 4;
    aval |= seg < 2 ? (pcm >> 1) & 0xF : (pcm >> seg) & 0xF;
    return static_cast<std::uint8_t>(aval ^ mask);
}

int ref_ulaw_decode(std::uint8_t code) {
    code = static_cast<std::uint8_t>(~code);
    int t = ((code & 0x0F) << 3) + 0x84;
    t <<= (code & 0x70) >> 4;
    return (code & 0x80) ? (0x84 - t) : (t - 0x84);
}

int ref_alaw_decode(std::uint8_t code) {
    code ^= 0x55;
    int t = (code & 0x0F) << 4;
    int seg = (code & 0x70) >> 4;
    if (seg == 0) t += 8;
    else if (seg == 1) t += 0x108;
    else t = (t + 0x108) << (seg - 1);
    return (code & 0x80) ? t : -t;
}

}  // namespace

TEST_CASE("mu-law decoding matches the standard formula for all 256 codes") {
    for (int c = 0; c < 256; ++c) CHECK(g711::ulaw_to_linear(static_cast<std::uint8_t>(c)) == ref_ulaw_decode(c));
    CHECK(g711::ulaw_to_linear(0xFF) == 0);
    CHECK(g711::ulaw_to_linear(0x80) == 32124);
    CHECK(g711::ulaw_to_linear(0x00) == -32124);
}

TEST_CASE("A-law decoding matches the standard formula for all 256 codes") {
    for (int c = 0; c < 256; ++c) CHECK(g711::alaw_to_linear(static_cast<std::uint8_t>(c)) == ref_alaw_decode(c));
    CHECK(g711::alaw_to_linear(0xD5) == 8);
    CHECK(g711::alaw_to_linear(0xAA) == 32256);
}

TEST_CASE("mu-law and A-law encoding agree with the reference over every 16-bit input") {
    int ulaw_mismatch = 0, alaw_mismatch = 0;
    for (int x = -32768; x <= 32767; ++x) {
        auto s = static_cast<std::int16_t>(x);
        ulaw_mismatch += g711::linear_to_ulaw(s) != ref_ulaw(s);
        alaw_mismatch += g711::linear_to_alaw(s) != ref_alaw(s);
    }
    CHECK(ulaw_mismatch == 0);
    CHECK(alaw_mismatch == 0);
}

TEST_CASE("every code survives decode then encode") {
    for (int c = 0; c < 256; ++c) {
        auto code = static_cast<std::uint8_t>(c);
        if (code != 0x7F)  // mu-law negative zero decodes to 0, which encodes as positive zero 0xFF
            CHECK(g711::linear_to_ulaw(g711::ulaw_to_linear(code)) == code);
        CHECK(g711::linear_to_alaw(g711::alaw_to_linear(code)) == code);
    }
}

TEST_CASE("buffer forms transcode whole frames") {
    std::vector<std::int16_t> pcm{0, 1000, -1000, 32767, -32768, 12345};
    std::vector<std::uint8_t> coded(pcm.size());
    std::vector<std::int16_t> back(pcm.size());
    g711::encode_ulaw(pcm, coded);
    g711::decode_ulaw(coded, back);
    for (std::size_t i = 0; i < pcm.size(); ++i) CHECK(std::abs(back[i] - pcm[i]) <= 1024);
    g711::encode_alaw(pcm, coded);
    g711::decode_alaw(coded, back);
    for (std::size_t i = 0; i < pcm.size(); ++i) CHECK(std::abs(back[i] - pcm[i]) <= 1024);
}
