// Test support for the audio unit tests: real speech from espeak-ng, resampled to 16 kHz mono as the local
// pipeline hears it. Thread-safety: each call uses its own temporary directory.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/audio/resampler.hpp"
#include "core/audio/wav.hpp"

namespace va::test {

inline std::vector<std::int16_t> speech_16k(const std::string& text) {
    char tmpl[] = "/tmp/va-speech-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    std::string path = dir + "/s.wav";
    REQUIRE(std::system(("espeak-ng -w " + path + " '" + text + "' >/dev/null 2>&1").c_str()) == 0);
    auto wav = read_wav(path);
    std::filesystem::remove_all(dir);
    REQUIRE(wav);
    Resampler r(wav->sample_rate, 16000);
    std::vector<std::int16_t> out;
    r.process(to_mono(*wav), out);
    r.flush(out);
    return out;
}

}  // namespace va::test
