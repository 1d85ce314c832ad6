// The caller media guard on a virtual clock: audio faster than real time is cut to real time plus the allowance,
// idle time does not bank, the per-call byte cap holds, oversized messages and key-press floods are dropped, and
// errors are answered a bounded number of times.
#include <catch2/catch.hpp>

#include <string>

#include "core/pipeline/caller_media_guard.hpp"

using namespace va;

TEST_CASE("caller media guard: a flood is cut to real time plus the allowance") {
    CallerMediaLimits limits;  // 2 s ahead
    CallerMediaGuard guard(limits);
    guard.start(16000, 600'000, 1000);
    // 100 MiB arriving within the same millisecond: only the 2 s allowance is taken.
    std::size_t taken = 0;
    for (int i = 0; i < 1600; ++i) taken += guard.admit_audio(32768, 1000);
    CHECK(taken == 32000);
    CHECK(guard.first_drop());
    CHECK_FALSE(guard.first_drop());  // logged once per call
    // 1.5 s later: 1.5 s more, however much is offered.
    CHECK(guard.admit_audio(1'000'000, 2500) == 24000);
    CHECK(guard.metrics()["admitted_ms"] == 3500);
    CHECK(guard.metrics()["dropped_ms"].get<std::int64_t>() > 3'000'000);
}

TEST_CASE("caller media guard: real-time audio passes whole, with jitter and partial frames") {
    CallerMediaGuard guard(CallerMediaLimits{});
    guard.start(8000, 600'000, 0);
    std::size_t taken = 0, offered = 0;
    // Ten minutes of 20 ms frames, each arriving up to 30 ms late, some two at once.
    for (std::int64_t i = 1; i <= 30'000; ++i) {
        std::int64_t at = i * 20 + (i % 7 == 0 ? 30 : 0);
        taken += guard.admit_audio(160, at);
        offered += 160;
    }
    CHECK(taken == offered);
    CHECK_FALSE(guard.first_drop());
    // A stall of 1.5 s delivered at once passes too (within the allowance).
    CHECK(guard.admit_audio(12000, 600'000 + 1500) == 12000);
    // A frame that only partly fits is cut: the head is taken.
    CallerMediaGuard tight(CallerMediaLimits{100});
    tight.start(8000, 600'000, 0);
    CHECK(tight.admit_audio(1000, 0) == 800);
    CHECK(tight.admit_audio(160, 10) == 80);
}

TEST_CASE("caller media guard: idle time does not bank beyond the allowance") {
    CallerMediaGuard guard(CallerMediaLimits{});
    guard.start(16000, 600'000, 0);
    // A minute of nothing, then a burst: 2 s, not a minute.
    CHECK(guard.admit_audio(16000 * 60, 60'000) == 32000);
}

TEST_CASE("caller media guard: the per-call byte cap, explicit or from the call's length") {
    CallerMediaLimits limits;
    limits.max_call_audio_bytes = 64000;  // 2 s at 16 kHz
    CallerMediaGuard guard(limits);
    guard.start(16000, 600'000, 0);
    std::size_t taken = 0;
    for (std::int64_t t = 0; t <= 5000; t += 20) taken += guard.admit_audio(320, t);
    CHECK(taken == 32000);
    CHECK(guard.audio_exhausted());
    // From the call's length: 10 s plus the 2 s allowance.
    CallerMediaGuard derived(CallerMediaLimits{});
    derived.start(8000, 10'000, 0);
    CHECK(derived.max_samples() == 12 * 8000);
    std::size_t sum = 0;
    for (std::int64_t t = 0; t <= 60'000; t += 20) sum += derived.admit_audio(160, t);
    CHECK(sum == 12 * 8000);
    CHECK(derived.audio_exhausted());
}

TEST_CASE("caller media guard: oversized messages, long marks, key-press floods and error floods") {
    CallerMediaLimits limits;
    limits.max_message_bytes = 1000;
    CallerMediaGuard guard(limits);
    guard.start(8000, 600'000, 0);
    CHECK(guard.admit_message(1000));
    CHECK_FALSE(guard.admit_message(1001));
    CHECK(guard.metrics()["dropped_messages"] == 1);
    CHECK(guard.mark_fits(256));
    CHECK_FALSE(guard.mark_fits(257));
    int pressed = 0;
    for (int i = 0; i < 100; ++i) pressed += guard.admit_dtmf(0);
    CHECK(pressed == 10);  // the burst
    CHECK(guard.admit_dtmf(200));  // 5 per second: one more after 200 ms
    CHECK_FALSE(guard.admit_dtmf(200));
    CHECK(guard.metrics()["dropped_dtmf"] == 91);
    CHECK(CallerMediaGuard::dtmf_valid("5"));
    CHECK(CallerMediaGuard::dtmf_valid("#"));
    CHECK_FALSE(CallerMediaGuard::dtmf_valid(""));
    CHECK_FALSE(CallerMediaGuard::dtmf_valid("12"));
    CHECK_FALSE(CallerMediaGuard::dtmf_valid(std::string(100000, '1')));
    CHECK_FALSE(CallerMediaGuard::dtmf_valid("x"));
    int answered = 0;
    std::string last;
    for (int i = 0; i < 1000; ++i)
        if (auto text = guard.report_error("unknown event \"" + std::string(100'000, 'x') + "\"")) {
            ++answered;
            CHECK(text->size() < 300);  // cut short: it may quote what the caller sent
            last = *text;
        }
    CHECK(answered == 20);
    CHECK(last.find("not reported") != std::string::npos);
    CHECK(guard.metrics()["errors"] == 1000);
}
