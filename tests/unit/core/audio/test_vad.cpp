#include <catch2/catch.hpp>

#include "unit/core/audio/speech.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "core/audio/resampler.hpp"
#include "core/audio/vad.hpp"
#include "core/audio/wav.hpp"

using namespace va;
using va::test::speech_16k;

namespace {

// White noise whose RMS level is `db` dBFS.
std::vector<std::int16_t> noise(int ms, double db, unsigned seed = 7) {
    std::mt19937 rng(seed);
    double rms = 32768.0 * std::pow(10.0, db / 20.0);
    std::normal_distribution<double> dist(0.0, rms);
    std::vector<std::int16_t> out(std::size_t(16 * ms));
    for (auto& s : out) s = static_cast<std::int16_t>(std::clamp(dist(rng), -32768.0, 32767.0));
    return out;
}

std::vector<std::int16_t> mix(std::vector<std::int16_t> a, const std::vector<std::int16_t>& b) {
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
        a[i] = static_cast<std::int16_t>(std::clamp(int(a[i]) + int(b[i]), -32768, 32767));
    return a;
}

struct Events {
    std::vector<std::int64_t> starts, ends;
};

Events run(Vad& vad, const std::vector<std::int16_t>& audio) {
    Events e;
    for (std::size_t i = 0; i < audio.size(); i += 320) {  // 20 ms chunks, as the transports deliver them
        auto chunk = std::span<const std::int16_t>(audio).subspan(i, std::min<std::size_t>(320, audio.size() - i));
        auto ev = vad.process(chunk);
        if (ev == Vad::Event::speech_start) e.starts.push_back(vad.last_event_ms());
        if (ev == Vad::Event::speech_end) e.ends.push_back(vad.last_event_ms());
    }
    return e;
}

}  // namespace

TEST_CASE("vad: digital silence and steady noise at several levels never count as speech") {
    for (double db : {-90.0, -60.0, -45.0, -35.0, -25.0}) {
        Vad vad;
        auto audio = db <= -90 ? std::vector<std::int16_t>(16 * 4000, 0) : noise(4000, db);
        auto e = run(vad, audio);
        INFO("noise at " << db << " dBFS");
        CHECK(e.starts.empty());
        CHECK_FALSE(vad.speaking());
    }
}

TEST_CASE("vad: one utterance of real speech is found in silence and in noise") {
    auto speech = speech_16k("I want to book an appointment for tomorrow");
    const int lead_ms = 1500, tail_ms = 1500;
    const auto speech_ms = std::int64_t(speech.size() / 16);
    for (double noise_db : {-90.0, -55.0, -45.0, -38.0}) {
        std::vector<std::int16_t> audio(std::size_t(16 * lead_ms), 0);
        audio.insert(audio.end(), speech.begin(), speech.end());
        audio.resize(audio.size() + std::size_t(16 * tail_ms), 0);
        if (noise_db > -90) audio = mix(audio, noise(int(audio.size() / 16), noise_db));
        Vad vad;
        auto e = run(vad, audio);
        INFO("noise at " << noise_db << " dBFS, starts " << e.starts.size() << " ends " << e.ends.size());
        REQUIRE(e.starts.size() == 1);
        REQUIRE(e.ends.size() == 1);
        CHECK(e.starts[0] >= lead_ms - 100);
        CHECK(e.starts[0] <= lead_ms + 300);
        CHECK(e.ends[0] >= lead_ms + speech_ms - 400);
        CHECK(e.ends[0] <= lead_ms + speech_ms + 200);
    }
}

TEST_CASE("vad: two utterances separated by a pause longer than end_ms are two turns") {
    auto a = speech_16k("what are your hours");
    auto b = speech_16k("thank you goodbye");
    std::vector<std::int16_t> audio(16 * 1000, 0);
    audio.insert(audio.end(), a.begin(), a.end());
    audio.resize(audio.size() + 16 * 1200, 0);
    audio.insert(audio.end(), b.begin(), b.end());
    audio.resize(audio.size() + 16 * 1000, 0);
    Vad vad;
    auto e = run(vad, audio);
    CHECK(e.starts.size() == 2);
    CHECK(e.ends.size() == 2);
}

TEST_CASE("vad: a click shorter than start_ms does not start speech") {
    std::vector<std::int16_t> audio(16 * 1000, 0);
    for (int i = 0; i < 16 * 30; ++i) audio[std::size_t(16 * 500 + i)] = static_cast<std::int16_t>(i % 2 ? 20000 : -20000);
    Vad vad;
    CHECK(run(vad, audio).starts.empty());
    CHECK(level_dbfs(std::vector<std::int16_t>(100, 0)) == -90.0);
    CHECK(level_dbfs(std::vector<std::int16_t>(100, 32767)) == Approx(0.0).margin(0.01));
}
