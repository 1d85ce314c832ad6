#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/audio/resampler.hpp"

using namespace va;

namespace {

std::vector<std::int16_t> tone(int rate, double hz, int ms, double amplitude = 8000) {
    std::vector<std::int16_t> s(std::size_t(rate) * ms / 1000);
    for (std::size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<std::int16_t>(amplitude * std::sin(2 * M_PI * hz * double(i) / rate));
    return s;
}

double rms(std::span<const std::int16_t> s) {
    double sum = 0;
    for (auto v : s) sum += double(v) * v;
    return s.empty() ? 0 : std::sqrt(sum / double(s.size()));
}

// Zero crossings per second estimate the dominant frequency of a clean tone.
double frequency(std::span<const std::int16_t> s, int rate) {
    int crossings = 0;
    for (std::size_t i = 1; i < s.size(); ++i) crossings += (s[i - 1] < 0) != (s[i] < 0);
    return crossings / 2.0 / (double(s.size()) / rate);
}

}  // namespace

TEST_CASE("matching rates pass samples through untouched") {
    Resampler r(16000, 16000);
    CHECK(r.passthrough());
    auto in = tone(16000, 440, 20);
    std::vector<std::int16_t> out;
    r.process(in, out);
    CHECK(out == in);
}

TEST_CASE("chunked resampling equals one-shot resampling (state carries across chunks)") {
    auto in = tone(22050, 440, 1000);
    Resampler whole(22050, 16000);
    std::vector<std::int16_t> one_shot;
    whole.process(in, one_shot);

    Resampler chunked(22050, 16000);
    std::vector<std::int16_t> pieces;
    for (std::size_t i = 0; i < in.size(); i += 441)  // 20 ms chunks
        chunked.process(std::span<const std::int16_t>(in).subspan(i, std::min<std::size_t>(441, in.size() - i)), pieces);
    REQUIRE(pieces.size() == one_shot.size());
    CHECK(pieces == one_shot);
}

TEST_CASE("resampling keeps length, level and pitch") {
    for (auto [from, to] : {std::pair{8000, 16000}, {16000, 8000}, {22050, 16000}, {24000, 8000}}) {
        auto in = tone(from, 440, 1000);
        Resampler r(from, to);
        std::vector<std::int16_t> out;
        r.process(in, out);
        r.flush(out);
        CHECK(std::abs(double(out.size()) - to) <= to * 0.01);
        auto middle = std::span<const std::int16_t>(out).subspan(out.size() / 4, out.size() / 2);
        CHECK(rms(middle) == Approx(8000 / std::sqrt(2.0)).epsilon(0.05));
        CHECK(frequency(middle, to) == Approx(440).epsilon(0.02));
    }
}

TEST_CASE("a tone above the new Nyquist frequency is filtered out when downsampling") {
    auto in = tone(16000, 6000, 500);
    Resampler r(16000, 8000);
    std::vector<std::int16_t> out;
    r.process(in, out);
    auto middle = std::span<const std::int16_t>(out).subspan(out.size() / 4, out.size() / 2);
    CHECK(rms(middle) < 8000 * 0.05);
}
