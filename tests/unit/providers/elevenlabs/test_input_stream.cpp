// The stream-input WebSocket client streaming sentence by sentence (providers/elevenlabs/input_stream.hpp) against
// the protocol-faithful fake. Before, a sentence on this transport blocked a thread until its whole audio had come,
// which was buffered without bound and played only then.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "providers/common/http_speech.hpp"
#include "providers/elevenlabs/input_stream.hpp"
#include "providers/fake/elevenlabs_fake.hpp"
#include "support/eventually.hpp"

using namespace va;
using va::fake::ElevenLabsFake;
using va::test::eventually;
using namespace std::chrono_literals;

namespace {

// Timeouts far beyond the expected time (the suite runs under sanitizers on a busy machine): completion comes from
// the alignment or isFinal, never from the quiet time running out while a test looks elsewhere.
elevenlabs::Settings settings_for(const ElevenLabsFake& fake) {
    elevenlabs::Settings s;
    s.api_key = "xi-fake-key";
    s.base_url = fake.base_url();
    s.ws_url = fake.ws_url();
    s.voice = "voice-1";
    s.chunk_schedule = {50};
    s.timeout_ms = 120000;
    s.quiet_ms = 120000;
    return s;
}

// What a sentence delivered, and whether anything came after the test cancelled it.
struct Heard {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::size_t> chunks;  // samples per chunk, in order
    std::size_t total = 0;
    std::optional<Status> done;
    bool cancelled = false;
    int after_cancel = 0;
    int after_done = 0;

    TtsSink sink() {
        return {[this](TtsAudio chunk) {
                    std::lock_guard lock(mutex);
                    if (cancelled) ++after_cancel;
                    if (done) ++after_done;
                    chunks.push_back(chunk.size());
                    total += chunk.size();
                    cv.notify_all();
                },
                [this](Status outcome) {
                    std::lock_guard lock(mutex);
                    if (cancelled || done) ++after_cancel;
                    done = std::move(outcome);
                    cv.notify_all();
                }};
    }
    bool wait_done() {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, 120s, [&] { return done.has_value(); });
    }
    std::size_t chunk_count() {
        std::lock_guard lock(mutex);
        return chunks.size();
    }
};

ElevenLabsFake::Options held_tones() {
    ElevenLabsFake::Options o;
    o.tones = true;              // 60 ms of tone per character, in 200 ms audio messages
    o.hold_after_chunks = 1;     // each sentence waits after its first message until the test releases it
    return o;
}

}  // namespace

TEST_CASE("elevenlabs stream-input: a sentence's first audio reaches the call while the service still holds the rest") {
    ElevenLabsFake fake(held_tones());
    auto tts = elevenlabs::websocket_tts(settings_for(fake));
    tts->set_output({Encoding::pcm16, 16000, 1});
    REQUIRE(tts->streams());
    Heard heard;
    auto stream = tts->speak("Your table for two is booked.", heard.sink());  // returns at once
    REQUIRE(eventually([&] { return heard.chunk_count() > 0 && fake.held() == 1; }, 60s));
    // The fake is still holding everything after its first message: the audio came piece by piece, not whole.
    const std::size_t whole = 30 * 60 * 16 * 2;  // bytes: 60 ms of tone per character (and the trailing space) at 16 kHz
    CHECK(fake.audio_bytes_sent() < whole);
    {
        std::lock_guard lock(heard.mutex);
        CHECK_FALSE(heard.done.has_value());
    }
    fake.release();
    REQUIRE(heard.wait_done());
    std::lock_guard lock(heard.mutex);
    CHECK(*heard.done);
    CHECK(heard.chunks.size() > 2);
    CHECK(heard.total == whole / 2);  // every sample, in order, and nothing after on_done
    CHECK(heard.after_done == 0);
    CHECK(heard.after_cancel == 0);
}

TEST_CASE("elevenlabs stream-input: a cancelled sentence stops on the wire, delivers nothing more, and the next one is spoken on a fresh connection") {
    ElevenLabsFake fake(held_tones());
    auto tts = elevenlabs::websocket_tts(settings_for(fake));
    tts->set_output({Encoding::pcm16, 16000, 1});
    Heard heard;
    auto stream = tts->speak("This sentence is interrupted by the caller.", heard.sink());
    REQUIRE(eventually([&] { return heard.chunk_count() > 0 && fake.held() == 1; }, 60s));
    stream->cancel();
    {
        std::lock_guard lock(heard.mutex);
        heard.cancelled = true;
    }
    // The fake sees the stream end while it still holds the rest of the sentence.
    REQUIRE(eventually([&] { return fake.in_flight() == 0 && !fake.streams().empty() && fake.streams()[0].closed_by_client; }, 60s));
    const std::size_t sent_when_closed = fake.audio_bytes_sent();
    CHECK(sent_when_closed < std::size_t(44 * 60 * 16 * 2));  // short of the sentence
    fake.release();
    // A new connection is already warm for the next sentence.
    REQUIRE(eventually([&] { return fake.streams().size() == 2; }, 60s));
    Heard next;
    auto again = tts->speak("Yes?", next.sink());
    REQUIRE(next.wait_done());
    {
        std::lock_guard lock(next.mutex);
        CHECK(*next.done);
        CHECK(next.total == 5 * 60 * 16);
    }
    // Past the gate, only the new sentence went out: nothing more of the cancelled one.
    CHECK(fake.audio_bytes_sent() == sent_when_closed + 5 * 60 * 16 * 2);
    std::lock_guard lock(heard.mutex);
    CHECK(heard.after_cancel == 0);
    CHECK_FALSE(heard.done.has_value());
    auto streams = fake.streams();
    REQUIRE(streams.size() == 2);
    CHECK(streams[0].texts == std::vector<std::string>{"This sentence is interrupted by the caller. "});
    CHECK(streams[1].texts == std::vector<std::string>{"Yes? "});
    CHECK(streams[1].violations.empty());
}

TEST_CASE("elevenlabs stream-input: a sentence whose audio runs past the per-sentence bound is cut off with too_large") {
    ElevenLabsFake::Options o;
    o.tones = true;
    o.tone_ms_per_char = 40000;  // "Hello there. " is 13 characters: 520 s of tone, its last letters past 300 s
    o.realtime_factor = 100;     // paced, as the service sends, rather than piling up in the fake's send queue
    ElevenLabsFake fake(o);
    auto tts = elevenlabs::websocket_tts(settings_for(fake));
    tts->set_output(kTwilioFormat);
    Heard heard;
    auto stream = tts->speak("Hello there.", heard.sink());
    REQUIRE(heard.wait_done());
    {
        std::lock_guard lock(heard.mutex);
        INFO("samples " << heard.total << ", the fake's close: " << fake.streams()[0].closed_with);
        REQUIRE_FALSE(*heard.done);
        CHECK(heard.done->error().code == ErrorCode::too_large);
        CHECK(heard.done->error().provider == "elevenlabs");
        CHECK(heard.total == std::size_t(8000) * kMaxSentenceAudioSeconds);
    }
    // The rest is refused on the wire too: the connection that carried it is closed.
    CHECK(eventually([&] { return fake.streams()[0].closed_by_client; }, 60s));
}

TEST_CASE("elevenlabs stream-input: what the service sends wrong fails the sentence with a clear error") {
    ElevenLabsFake::Options o;
    o.tones = true;
    ElevenLabsFake fake(o);
    auto tts = elevenlabs::websocket_tts(settings_for(fake));
    tts->set_output(kTwilioFormat);
    auto say = [&](const std::string& text) {
        Heard heard;
        auto stream = tts->speak(text, heard.sink());
        REQUIRE(heard.wait_done());
        std::lock_guard lock(heard.mutex);
        return std::make_pair(*heard.done, heard.total);
    };

    fake.push_fault({ElevenLabsFake::Fault::not_json, 0, "", 0});
    auto [garbled, garbled_audio] = say("One.");
    REQUIRE_FALSE(garbled);
    CHECK(garbled.error().provider == "elevenlabs");
    CHECK(garbled.error().code == ErrorCode::unavailable);
    CHECK(garbled.error().message.find("not a JSON object") != std::string::npos);
    CHECK(garbled_audio == 0);

    fake.push_fault({ElevenLabsFake::Fault::bad_base64, 0, "", 0});
    auto [broken, broken_audio] = say("Two.");
    REQUIRE_FALSE(broken);
    CHECK(broken.error().provider == "elevenlabs");
    CHECK(broken.error().message.find("not base64") != std::string::npos);

    fake.push_fault({ElevenLabsFake::Fault::status, 500, "", 0});
    auto [server, server_audio] = say("Three.");
    REQUIRE_FALSE(server);
    CHECK(server.error().transient());
    CHECK(server.error().message.find("internal server error") != std::string::npos);

    auto [fine, fine_audio] = say("Four.");
    CHECK(fine);
    CHECK(fine_audio == 6 * 60 * 8);  // each failure closed its connection; this one spoke on a new one

    fake.push_fault({ElevenLabsFake::Fault::status, 401, "quota_exceeded", 0});
    auto [quota, quota_audio] = say("Five.");
    REQUIRE_FALSE(quota);
    CHECK(quota.error().code == ErrorCode::quota);
    CHECK(quota.error().message.find("exceeds your quota") != std::string::npos);
    // A permanent error: the next sentence fails at once, without knocking on the service again.
    auto [again, again_audio] = say("Six.");
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::quota);
    CHECK(fake.streams().size() == 4);
    CHECK(fake.requests() == 5);
}
