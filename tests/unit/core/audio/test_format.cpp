// The byte helpers every encoding change goes through: decode_audio, encode_audio and the silence padding.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/audio/format.hpp"
#include "core/audio/g711.hpp"

using namespace va;

TEST_CASE("format: decode_audio appends PCM16 from little-endian bytes, mu-law and A-law") {
    std::vector<std::int16_t> out{42};
    decode_audio(Encoding::pcm16, std::string("\x34\x12\xff\xff\x00\x80\x07", 7), out);  // the odd byte is ignored
    CHECK(out == std::vector<std::int16_t>{42, 0x1234, -1, -32768});

    out.clear();
    decode_audio(Encoding::mulaw, std::string("\x00\x7f\xff\x80", 4), out);
    CHECK(out == std::vector<std::int16_t>{g711::ulaw_to_linear(0x00), 0, 0, g711::ulaw_to_linear(0x80)});

    out.clear();
    decode_audio(Encoding::alaw, std::string("\xd5\x55", 2), out);
    CHECK(out == std::vector<std::int16_t>{g711::alaw_to_linear(0xD5), g711::alaw_to_linear(0x55)});
}

TEST_CASE("format: encode_audio appends bytes in the encoding") {
    std::vector<std::int16_t> samples{0x1234, -1, 0, 1000};
    std::string out = "x";
    encode_audio(Encoding::pcm16, samples, out);
    CHECK(out == std::string("x\x34\x12\xff\xff\x00\x00\xe8\x03", 9));
    CHECK(out.substr(1) == pcm16le_bytes(samples));

    out.clear();
    encode_audio(Encoding::mulaw, samples, out);
    REQUIRE(out.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(std::uint8_t(out[i]) == g711::linear_to_ulaw(samples[i]));

    out.clear();
    encode_audio(Encoding::alaw, samples, out);
    REQUIRE(out.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(std::uint8_t(out[i]) == g711::linear_to_alaw(samples[i]));
}

TEST_CASE("format: a mu-law round trip is not the identity, which is why G.711 audio is passed on as it came") {
    // Negative zero (0x7F) decodes to 0, and 0 encodes as positive zero (0xFF).
    std::vector<std::int16_t> pcm;
    decode_audio(Encoding::mulaw, std::string(1, '\x7f'), pcm);
    std::string again;
    encode_audio(Encoding::mulaw, pcm, again);
    CHECK(again == std::string(1, '\xff'));
}

TEST_CASE("format: silence pads with each encoding's zero") {
    CHECK(silence_byte(Encoding::mulaw) == char(0xFF));
    CHECK(silence_byte(Encoding::alaw) == char(0xD5));
    CHECK(silence_byte(Encoding::pcm16) == char(0x00));
    std::vector<std::int16_t> pcm;
    decode_audio(Encoding::mulaw, std::string(1, silence_byte(Encoding::mulaw)), pcm);
    decode_audio(Encoding::alaw, std::string(1, silence_byte(Encoding::alaw)), pcm);
    for (auto s : pcm) CHECK(std::abs(s) <= 8);
}
