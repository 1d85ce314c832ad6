// Fuzzes WAV reading (core/audio/wav, libsndfile underneath): uploaded and downloaded audio is read from memory;
// a malformed file is an error, never a crash, and what is read is self-consistent.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/audio/wav.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string bytes(reinterpret_cast<const char*>(data), size);
    auto wav = va::read_wav_bytes(bytes);
    if (!wav) return 0;
    FUZZ_CHECK(wav->channels > 0 && wav->sample_rate > 0);
    FUZZ_CHECK(wav->samples.size() % std::size_t(wav->channels) == 0);
    auto mono = va::to_mono(*wav);
    FUZZ_CHECK(mono.size() == wav->samples.size() / std::size_t(wav->channels));
    return 0;
}
