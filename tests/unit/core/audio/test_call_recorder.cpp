#include <catch2/catch.hpp>

#include <filesystem>

#include "core/audio/call_recorder.hpp"
#include "core/audio/wav.hpp"

using namespace va;

namespace {

std::vector<std::int16_t> tone(std::size_t n, std::int16_t level) { return std::vector<std::int16_t>(n, level); }

}  // namespace

TEST_CASE("call recorder: caller left, agent right, aligned on the call's clock") {
    auto dir = std::filesystem::temp_directory_path() / "va-recorder-test";
    std::filesystem::create_directories(dir);
    std::string path = (dir / "call.wav").string();
    auto rec = CallRecorder::open(path, 8000);
    REQUIRE(rec);
    // The caller streams 20 ms frames continuously for 3 s (arrival times jitter by a few ms).
    for (int i = 1; i <= 150; ++i) {
        (*rec)->caller(tone(160, i > 50 && i <= 100 ? 1000 : 0), i * 20 + (i % 3));
        if (i == 75) (*rec)->agent(tone(8000, 2000), 1500);  // a second of agent speech sent at 1.5 s
        REQUIRE((*rec)->flush(i * 20));
    }
    REQUIRE((*rec)->close(3000));
    auto wav = read_wav(path);
    REQUIRE(wav);
    CHECK(wav->channels == 2);
    CHECK(wav->sample_rate == 8000);
    CHECK(wav->duration_s() == Approx(3.0).margin(0.03));
    auto left = [&](double s) { return wav->samples[std::size_t(s * 8000) * 2]; };
    auto right = [&](double s) { return wav->samples[std::size_t(s * 8000) * 2 + 1]; };
    CHECK(left(0.5) == 0);
    CHECK(left(1.5) == 1000);  // the caller spoke from 1.0 s to 2.0 s
    CHECK(left(2.5) == 0);
    CHECK(right(1.2) == 0);
    CHECK(right(2.0) == 2000);  // the agent from 1.5 s to 2.5 s
    CHECK(right(2.7) == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("call recorder: a real gap in the caller's stream stays a gap") {
    auto dir = std::filesystem::temp_directory_path() / "va-recorder-gap";
    std::filesystem::create_directories(dir);
    std::string path = (dir / "call.wav").string();
    auto rec = CallRecorder::open(path, 8000);
    REQUIRE(rec);
    (*rec)->caller(tone(800, 500), 100);   // 0.0 - 0.1 s
    (*rec)->caller(tone(800, 700), 2100);  // nothing for 1.9 s, then 2.0 - 2.1 s
    REQUIRE((*rec)->close(2100));
    auto wav = read_wav(path);
    REQUIRE(wav);
    CHECK(wav->samples[std::size_t(0.05 * 8000) * 2] == 500);
    CHECK(wav->samples[std::size_t(1.0 * 8000) * 2] == 0);
    CHECK(wav->samples[std::size_t(2.05 * 8000) * 2] == 700);
    std::filesystem::remove_all(dir);
}

TEST_CASE("call recorder: the file stops at its size limit, and stays a valid WAV") {
    auto dir = std::filesystem::temp_directory_path() / "va-recorder-limit";
    std::filesystem::create_directories(dir);
    std::string path = (dir / "call.wav").string();
    auto rec = CallRecorder::open(path, 8000, 44 + 4 * 8000);  // a second of stereo audio
    REQUIRE(rec);
    bool stopped = false;
    for (int i = 1; i <= 250 && !stopped; ++i) {  // 5 s of 20 ms frames
        (*rec)->caller(tone(160, 1000), i * 20);
        auto s = (*rec)->flush(i * 20);
        if (!s) {
            CHECK(s.error().code == ErrorCode::too_large);
            stopped = true;
        }
    }
    CHECK(stopped);
    CHECK_FALSE((*rec)->close(5000));  // what would go beyond is not written
    CHECK(std::filesystem::file_size(path) <= 44 + 4 * 8000);
    auto wav = read_wav(path);
    REQUIRE(wav);
    CHECK(wav->duration_s() == Approx(1.0).margin(0.01));
    std::filesystem::remove_all(dir);
}
