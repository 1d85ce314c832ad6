#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/audio/wav.hpp"

using namespace va;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
    char tmpl[] = "/tmp/va-wav-XXXXXX";
    return fs::path(mkdtemp(tmpl));
}
}  // namespace

TEST_CASE("a stereo WAV round trips through write and read") {
    auto dir = temp_dir();
    WavData wav;
    wav.sample_rate = 8000;
    wav.channels = 2;
    for (int i = 0; i < 8000; ++i) {
        wav.samples.push_back(static_cast<std::int16_t>(i));       // left
        wav.samples.push_back(static_cast<std::int16_t>(-i));      // right
    }
    auto path = (dir / "stereo.wav").string();
    REQUIRE(write_wav(path, wav));
    auto back = read_wav(path);
    REQUIRE(back);
    CHECK(back->sample_rate == 8000);
    CHECK(back->channels == 2);
    CHECK(back->samples == wav.samples);
    CHECK(back->duration_s() == Approx(1.0));
    auto mono = to_mono(*back);
    CHECK(mono.size() == 8000);
    CHECK(mono[100] == 0);

    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    auto from_memory = read_wav_bytes(bytes.str());
    REQUIRE(from_memory);
    CHECK(from_memory->samples == wav.samples);
    fs::remove_all(dir);
}

TEST_CASE("reading garbage or a missing file is an error, not a crash") {
    CHECK_FALSE(read_wav("/nonexistent/x.wav"));
    CHECK_FALSE(read_wav_bytes("RIFF....not really a wav"));
    CHECK_FALSE(read_wav_bytes(""));
}

TEST_CASE("espeak-ng output reads as 22050 Hz mono speech") {
    auto dir = temp_dir();
    auto path = (dir / "hello.wav").string();
    std::string cmd = "espeak-ng -w " + path + " 'hello there' >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    auto wav = read_wav(path);
    REQUIRE(wav);
    CHECK(wav->sample_rate == 22050);
    CHECK(wav->channels == 1);
    CHECK(wav->duration_s() > 0.3);
    fs::remove_all(dir);
}
