#include <catch2/catch.hpp>

#include <cstdint>
#include <thread>
#include <vector>

#include "core/audio/format.hpp"
#include "core/audio/ring_buffer.hpp"

using namespace va;

TEST_CASE("ring buffer stores what fits and reads in order across the wrap") {
    RingBuffer<std::int16_t> ring(5);
    std::vector<std::int16_t> in{1, 2, 3, 4};
    CHECK(ring.write(in) == 4);
    std::vector<std::int16_t> out(3);
    CHECK(ring.read(out) == 3);
    CHECK(out == std::vector<std::int16_t>{1, 2, 3});
    std::vector<std::int16_t> more{5, 6, 7, 8, 9};
    CHECK(ring.write(more) == 4);  // one slot still holds 4: only four fit
    CHECK(ring.size() == 5);
    CHECK(ring.free_space() == 0);
    std::vector<std::int16_t> all(10);
    CHECK(ring.read(all) == 5);
    CHECK(std::vector<std::int16_t>(all.begin(), all.begin() + 5) == std::vector<std::int16_t>{4, 5, 6, 7, 8});
    CHECK(ring.size() == 0);
}

TEST_CASE("ring buffer clear drops queued items") {
    RingBuffer<std::uint8_t> ring(16);
    std::vector<std::uint8_t> in(10, 7);
    ring.write(in);
    ring.clear();
    CHECK(ring.size() == 0);
    std::vector<std::uint8_t> out(4);
    CHECK(ring.read(out) == 0);
}

TEST_CASE("ring buffer hands every item from one thread to another in order") {
    RingBuffer<int> ring(64);
    constexpr int kCount = 100000;
    std::thread producer([&] {
        int next = 0;
        while (next < kCount) {
            int chunk[7];
            int n = 0;
            for (; n < 7 && next + n < kCount; ++n) chunk[n] = next + n;
            next += static_cast<int>(ring.write(std::span<const int>(chunk, n)));
        }
    });
    int expected = 0;
    bool ordered = true;
    std::vector<int> out(13);
    while (expected < kCount) {
        auto n = ring.read(out);
        for (std::size_t i = 0; i < n; ++i) ordered &= out[i] == expected++;
    }
    producer.join();
    CHECK(ordered);
}

TEST_CASE("audio format arithmetic") {
    CHECK(kTwilioFormat.bytes_for_ms(20) == 160);
    CHECK(kLocalFormat.bytes_for_ms(20) == 640);
    CHECK(AudioFormat{Encoding::pcm16, 8000, 1}.bytes_for_ms(20) == 320);
    CHECK(kLocalFormat.duration_ms(32000) == Approx(1000.0));
    CHECK(parse_encoding("ulaw") == Encoding::mulaw);
    CHECK_FALSE(parse_encoding("opus"));
    CHECK(describe(kTwilioFormat) == "mulaw/8000/1");
}
