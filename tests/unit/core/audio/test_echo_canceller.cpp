#include <catch2/catch.hpp>

#include "unit/core/audio/speech.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "core/audio/echo_canceller.hpp"
#include "core/audio/resampler.hpp"
#include "core/audio/wav.hpp"

using namespace va;
using va::test::speech_16k;

namespace {


double energy(std::span<const std::int16_t> s) {
    double e = 0;
    for (auto v : s) e += double(v) * v;
    return e / double(std::max<std::size_t>(1, s.size()));
}

// The room: the speaker's sound reaches the microphone 40 ms later, attenuated, with a weaker reflection, over a
// little microphone noise.
std::vector<std::int16_t> room(const std::vector<std::int16_t>& played, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> hiss(0.0, 30.0);
    std::vector<std::int16_t> mic(played.size());
    for (std::size_t i = 0; i < played.size(); ++i) {
        double v = hiss(rng);
        if (i >= 640) v += 0.5 * played[i - 640];
        if (i >= 1600) v += 0.2 * played[i - 1600];
        mic[i] = static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
    }
    return mic;
}

}  // namespace

TEST_CASE("the echo canceller removes the agent's voice picked up from the speaker") {
    auto agent = speech_16k("Thanks for calling the clinic. We are open from nine to five on weekdays, "
                            "and on Saturday mornings. How can I help you today?");
    auto mic = room(agent, 3);
    EchoCanceller aec(16000);
    REQUIRE(aec.frame_size() == 320);
    std::vector<std::int16_t> cleaned(agent.size() / 320 * 320);
    for (std::size_t i = 0; i + 320 <= agent.size(); i += 320)
        aec.process(std::span(mic).subspan(i, 320), std::span(agent).subspan(i, 320), std::span(cleaned).subspan(i, 320));
    auto reduction_db = [&](std::size_t from, std::size_t to) {
        return 10 * std::log10(energy(std::span(mic).subspan(from, to - from)) /
                               energy(std::span(cleaned).subspan(from, to - from)));
    };
    REQUIRE(cleaned.size() > 6 * 16000);
    // speexdsp's filter adapts over a few seconds of speech: from the third second the echo is at least 15 dB
    // down, and by the last second at least 20 dB.
    CHECK(reduction_db(3 * 16000, cleaned.size()) >= 15.0);
    CHECK(reduction_db(cleaned.size() - 16000, cleaned.size()) >= 20.0);
}

TEST_CASE("the echo canceller keeps the caller's own speech") {
    auto agent = speech_16k("Thanks for calling the clinic. We are open from nine to five on weekdays.");
    auto caller = speech_16k("I want to book an appointment");
    auto mic = room(agent, 5);
    // The caller talks over the agent near the end (double talk, as in a barge-in).
    std::size_t at = agent.size() - caller.size() - 1600;
    for (std::size_t i = 0; i < caller.size(); ++i)
        mic[at + i] = static_cast<std::int16_t>(std::clamp(int(mic[at + i]) + int(caller[i]), -32768, 32767));
    EchoCanceller aec(16000);
    std::vector<std::int16_t> cleaned(agent.size() / 320 * 320);
    for (std::size_t i = 0; i + 320 <= agent.size(); i += 320)
        aec.process(std::span(mic).subspan(i, 320), std::span(agent).subspan(i, 320), std::span(cleaned).subspan(i, 320));
    std::size_t end = std::min(cleaned.size(), at + caller.size());
    double caller_energy = energy(std::span(caller).subspan(0, end - at));
    double kept = energy(std::span(cleaned).subspan(at, end - at));
    INFO("caller energy " << caller_energy << " kept " << kept);
    // Most of the caller's voice survives (within 6 dB) while the echo is removed around it.
    CHECK(kept >= caller_energy / 4);
}
