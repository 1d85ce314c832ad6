// Fuzzes G.711 mu-law and A-law (core/audio/g711), the codecs of carrier audio: arbitrary bytes decode, and
// decoding a code then encoding the sample gives back a code of the same sample (mu-law has two codes for zero).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/audio/g711.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> codes(data, data + size);
    std::vector<std::int16_t> pcm(size);
    std::vector<std::uint8_t> back(size);

    va::g711::decode_ulaw(codes, pcm);
    va::g711::encode_ulaw(pcm, back);
    for (std::size_t i = 0; i < size; ++i) FUZZ_CHECK(va::g711::ulaw_to_linear(back[i]) == pcm[i]);

    va::g711::decode_alaw(codes, pcm);
    va::g711::encode_alaw(pcm, back);
    for (std::size_t i = 0; i < size; ++i) FUZZ_CHECK(va::g711::alaw_to_linear(back[i]) == pcm[i]);

    // The input as PCM16 samples: encoding is total, and re-encoding a decoded code is stable.
    std::vector<std::int16_t> samples(size / 2);
    if (!samples.empty()) std::memcpy(samples.data(), data, samples.size() * 2);
    std::vector<std::uint8_t> ulaw(samples.size());
    va::g711::encode_ulaw(samples, ulaw);
    for (std::size_t i = 0; i < samples.size(); ++i)
        FUZZ_CHECK(va::g711::linear_to_ulaw(va::g711::ulaw_to_linear(ulaw[i])) == ulaw[i] ||
                   va::g711::ulaw_to_linear(ulaw[i]) == 0);
    return 0;
}
