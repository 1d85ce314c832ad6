// The ElevenLabs clients (stream-input WebSocket and HTTP stream) against the protocol-faithful fake.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/audio/vad.hpp"
#include "providers/common/ws_client.hpp"
#include "providers/common/http_speech.hpp"
#include "providers/elevenlabs/tts.hpp"
#include "providers/fake/elevenlabs_fake.hpp"
#include "support/eventually.hpp"

using namespace va;
using va::fake::ElevenLabsFake;
using va::test::eventually;
using nlohmann::json;

namespace {

elevenlabs::Settings settings_for(const ElevenLabsFake& fake, const std::string& transport) {
    elevenlabs::Settings s;
    s.api_key = "xi-fake-key";
    s.base_url = fake.base_url();
    s.ws_url = fake.ws_url();
    s.transport = transport;
    s.chunk_schedule = {50};
    return s;
}

std::unique_ptr<TtsClient> client(const elevenlabs::Settings& s) {
    auto c = elevenlabs::tts_factory(s)->create(json{{"tts", {{"provider", "elevenlabs"}, {"voice", "voice-1"}}}});
    REQUIRE(c);
    return std::move(c).value();
}

// Speech is there: more than half a second of audio, well above silence.
void check_speech(const TtsAudio& audio, int rate) {
    CHECK(audio.format.sample_rate == rate);
    CHECK(audio.format.encoding == Encoding::pcm16);
    CHECK(audio.samples.size() > std::size_t(rate / 2));
    CHECK(level_dbfs(audio.samples) > -40.0);
}

}  // namespace

TEST_CASE("elevenlabs: output formats follow the carrier so nothing is resampled") {
    CHECK(elevenlabs::output_format(kTwilioFormat) == "ulaw_8000");
    CHECK(elevenlabs::output_format({Encoding::pcm16, 8000, 1}) == "pcm_8000");
    CHECK(elevenlabs::output_format({Encoding::pcm16, 16000, 1}) == "pcm_16000");
    CHECK(elevenlabs::output_format({Encoding::pcm16, 24000, 1}) == "pcm_24000");
    CHECK(elevenlabs::parse_output_format("ulaw_8000")->encoding == Encoding::mulaw);
    CHECK(!elevenlabs::parse_output_format("mp3_44100_128"));
}

TEST_CASE("elevenlabs: one warm stream-input connection per call speaks sentence after sentence") {
    ElevenLabsFake fake({});
    auto tts = client(settings_for(fake, "websocket"));
    tts->set_output(kTwilioFormat);  // the media connected: the stream opens now, before any text
    for (int i = 0; i < 50 && fake.streams().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(fake.streams().size() == 1);
    auto first = tts->synthesize("Hello, thanks for calling.");
    REQUIRE(first);
    check_speech(*first, 8000);
    auto second = tts->synthesize("How can I help you today?");
    REQUIRE(second);
    check_speech(*second, 8000);
    tts.reset();  // hang-up: {"text":""} ends the stream
    for (int i = 0; i < 100 && fake.streams()[0].closed_with.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto streams = fake.streams();
    REQUIRE(streams.size() == 1);
    auto& s = streams[0];
    CHECK(s.output_format == "ulaw_8000");
    CHECK(s.auth_in_header);
    CHECK(s.query.find("model_id=eleven_flash_v2_5") != std::string::npos);
    CHECK(s.chunk_schedule == std::vector<int>{50});
    CHECK(s.texts == std::vector<std::string>{"Hello, thanks for calling. ", "How can I help you today? "});
    CHECK(s.flushes == 2);
    CHECK(s.end_of_input);
    CHECK(s.closed_with == "1000");
    CHECK(s.violations.empty());
}

TEST_CASE("elevenlabs: the fake closes a quiet stream after its inactivity timeout, the client's keep-alives avoid it") {
    SECTION("closed by the service") {
        ElevenLabsFake fake({});
        std::mutex m;
        std::condition_variable cv;
        int code = -1;
        std::string reason;
        WsClientCallbacks cb;
        cb.on_closed = [&](int c, std::string r, std::optional<Error>) {
            std::lock_guard lock(m);
            code = c;
            reason = r;
            cv.notify_all();
        };
        auto raw = WsClient::connect({fake.ws_url() + "/v1/text-to-speech/v/stream-input?output_format=pcm_16000&inactivity_timeout=1",
                                      {{"xi-api-key", "xi-fake-key"}}, 2000, 0},
                                     cb);
        raw->send_text(R"({"text":" "})");
        std::unique_lock lock(m);
        REQUIRE(cv.wait_for(lock, std::chrono::seconds(4), [&] { return code != -1; }));
        CHECK(code == 1008);
        CHECK(reason.rfind("Have not received a new text input within the timeout of 1 seconds", 0) == 0);
    }
    SECTION("kept alive") {
        ElevenLabsFake fake({});
        auto s = settings_for(fake, "websocket");
        s.inactivity_timeout_s = 2;  // keep-alive every second
        auto tts = client(s);
        tts->set_output({Encoding::pcm16, 16000, 1});
        // Three keep-alives, a second apart, take longer than the 2 s inactivity timeout: the stream outlived it
        // because of them.
        REQUIRE(eventually([&] { return !fake.streams().empty() && fake.streams()[0].keepalives >= 3; }));
        auto streams = fake.streams();
        REQUIRE(streams.size() == 1);
        CHECK(streams[0].closed_with.empty());
        auto later = tts->synthesize("Still here.");
        REQUIRE(later);
        CHECK(fake.streams().size() == 1);
    }
}

TEST_CASE("elevenlabs: faults on the stream come back as errors of the right kind") {
    ElevenLabsFake fake({});
    auto tts = client(settings_for(fake, "websocket"));
    tts->set_output(kTwilioFormat);
    fake.push_fault({ElevenLabsFake::Fault::status, 500, "", 0});
    auto failed = tts->synthesize("This one fails.");
    REQUIRE(!failed);
    CHECK(failed.error().transient());
    CHECK(failed.error().provider == "elevenlabs");
    fake.push_fault({ElevenLabsFake::Fault::drop_mid_stream, 0, "", 0});
    auto cut = tts->synthesize("This one is cut off halfway through the sentence.");
    // What arrived before the drop is kept (half a sentence is still speech); the next sentence gets a new connection.
    REQUIRE(cut);
    auto whole = tts->synthesize("This one is cut off halfway through the sentence.");
    REQUIRE(whole);
    CHECK(!cut->samples.empty());
    CHECK(cut->samples.size() < whole->samples.size());
    auto fine = tts->synthesize("And this one is fine.");
    REQUIRE(fine);
    check_speech(*fine, 8000);
    CHECK(fake.streams().size() == 3);  // each failure closed its stream; the next sentence opened a new one
}

TEST_CASE("elevenlabs: a wrong key is refused") {
    ElevenLabsFake fake({});
    for (const char* transport : {"websocket", "http"}) {
        auto s = settings_for(fake, transport);
        s.api_key = "xi-wrong";
        auto tts = client(s);
        tts->set_output(kTwilioFormat);
        auto r = tts->synthesize("Hello.");
        INFO(transport);
        REQUIRE(!r);
        CHECK(r.error().code == ErrorCode::unauthenticated);
        CHECK(r.error().message.find("xi-wrong") == std::string::npos);
    }
}

TEST_CASE("elevenlabs: the HTTP stream speaks in the carrier's format and maps every scripted fault") {
    ElevenLabsFake fake({});
    auto tts = client(settings_for(fake, "http"));
    tts->set_output({Encoding::pcm16, 16000, 1});
    auto ok = tts->synthesize("Your table is booked.");
    REQUIRE(ok);
    check_speech(*ok, 16000);
    CHECK(fake.http_texts() == std::vector<std::string>{"Your table is booked."});

    fake.push_fault({ElevenLabsFake::Fault::status, 401, "quota_exceeded", 0});
    auto quota = tts->synthesize("Hello.");
    REQUIRE(!quota);
    CHECK(quota.error().code == ErrorCode::quota);
    CHECK(quota.error().message.find("exceeds your quota") != std::string::npos);

    fake.push_fault({ElevenLabsFake::Fault::status, 429, "", 0});
    auto busy = tts->synthesize("Hello.");
    REQUIRE(!busy);
    CHECK(busy.error().code == ErrorCode::rate_limited);

    fake.push_fault({ElevenLabsFake::Fault::status, 422, "", 0});
    auto invalid = tts->synthesize("Hello.");
    REQUIRE(!invalid);
    CHECK(!invalid.error().transient());
    CHECK(invalid.error().message.find("body") != std::string::npos);

    fake.push_fault({ElevenLabsFake::Fault::slow_first_byte, 0, "", 400});
    auto slow = tts->synthesize("Slowly now.");
    REQUIRE(slow);
    check_speech(*slow, 16000);
}

namespace {

// What a streamed sentence delivered, and what the fake was doing when its first chunk arrived.
struct Heard {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<std::size_t> chunks;  // samples per chunk, in order
    int fake_in_flight_at_first = -1;
    std::optional<Status> done;
    int after_cancel = 0;
    bool cancelled = false;
};

TtsSink sink_into(Heard& heard, const ElevenLabsFake& fake) {
    return {[&heard, &fake](TtsAudio chunk) {
                std::lock_guard lock(heard.mutex);
                if (heard.cancelled) ++heard.after_cancel;
                if (heard.chunks.empty()) heard.fake_in_flight_at_first = fake.in_flight();
                heard.chunks.push_back(chunk.size());
                heard.cv.notify_all();
            },
            [&heard](Status outcome) {
                std::lock_guard lock(heard.mutex);
                if (heard.cancelled) ++heard.after_cancel;
                heard.done = std::move(outcome);
                heard.cv.notify_all();
            }};
}

ElevenLabsFake::Options real_time_tones() {
    ElevenLabsFake::Options o;
    o.tones = true;
    o.realtime_factor = 1;  // a 1.8 s sentence takes 1.8 s to send: long enough to see it arrive in pieces
    return o;
}

}  // namespace

// Before, synthesize() returned only with the whole sentence, holding a worker for as long as the service talked.
TEST_CASE("elevenlabs: over HTTP a sentence's audio reaches the call piece by piece while the service still sends") {
    ElevenLabsFake fake(real_time_tones());
    auto tts = client(settings_for(fake, "http"));
    tts->set_output({Encoding::pcm16, 16000, 1});
    REQUIRE(tts->streams());
    Heard heard;
    auto stream = tts->speak("Your table for two is booked.", sink_into(heard, fake));
    std::unique_lock lock(heard.mutex);
    REQUIRE(heard.cv.wait_for(lock, std::chrono::seconds(60), [&] { return heard.done.has_value(); }));
    CHECK(*heard.done);
    CHECK(heard.fake_in_flight_at_first == 1);  // the first audio came while the rest was still on its way
    CHECK(heard.chunks.size() > 2);
    std::size_t total = 0;
    for (auto n : heard.chunks) total += n;
    CHECK(total == 29 * 60 * 16);  // 60 ms of tone per character at 16 kHz, all of it
}

TEST_CASE("elevenlabs: a cancelled HTTP sentence stops on the wire and delivers nothing more") {
    ElevenLabsFake fake(real_time_tones());
    auto tts = client(settings_for(fake, "http"));
    tts->set_output({Encoding::pcm16, 16000, 1});
    Heard heard;
    auto stream = tts->speak("This sentence is interrupted by the caller.", sink_into(heard, fake));
    {
        std::unique_lock lock(heard.mutex);
        REQUIRE(heard.cv.wait_for(lock, std::chrono::seconds(60), [&] { return !heard.chunks.empty(); }));
    }
    stream->cancel();
    {
        std::lock_guard lock(heard.mutex);
        heard.cancelled = true;
    }
    REQUIRE(eventually([&] { return fake.in_flight() == 0; }, std::chrono::seconds(30)));
    CHECK(fake.audio_bytes_sent() < std::size_t(43 * 60 * 16 * 2));  // the fake stopped short of the sentence
    std::lock_guard lock(heard.mutex);
    CHECK(heard.after_cancel == 0);
    CHECK_FALSE(heard.done.has_value());
}

// A provider's answer is untrusted: before, every byte it sent queued for the call's pacer, however many.
TEST_CASE("elevenlabs: a sentence whose audio runs past the per-sentence bound is cut off there with an error") {
    ElevenLabsFake::Options o;
    o.tones = true;
    o.tone_ms_per_char = 40000;  // "Hello there." is 12 characters: 480 s of tone, past the 300 s bound
    ElevenLabsFake fake(o);
    auto tts = client(settings_for(fake, "http"));
    tts->set_output({Encoding::pcm16, 8000, 1});
    Heard heard;
    auto stream = tts->speak("Hello there.", sink_into(heard, fake));
    std::unique_lock lock(heard.mutex);
    REQUIRE(heard.cv.wait_for(lock, std::chrono::seconds(120), [&] { return heard.done.has_value(); }));
    REQUIRE_FALSE(*heard.done);
    CHECK(heard.done->error().code == ErrorCode::too_large);
    std::size_t total = 0;
    for (auto n : heard.chunks) total += n;
    CHECK(total == std::size_t(8000) * kMaxSentenceAudioSeconds);
}
