// The speaker on a virtual clock: every frame's instant is checked exactly, with TTS providers the test drives.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/audio/g711.hpp"
#include "core/pipeline/speaker.hpp"
#include "core/pipeline/virtual_executor.hpp"

using namespace va;

namespace {

constexpr int kRate = 8000;
constexpr std::size_t kChunk = 160;  // 20 ms at 8 kHz
const AudioFormat kTransport{Encoding::pcm16, kRate, 1};

TtsAudio audio_ms(int ms, std::int16_t level = 1000) {
    return TtsAudio{kTransport, std::vector<std::int16_t>(std::size_t(kRate) * std::size_t(ms) / 1000, level), {}};
}

// A streaming service the test plays: each sentence's sink is kept, and the test sends its audio when it likes.
class DrivenTts final : public TtsClient {
public:
    struct Request {
        std::string sentence;
        TtsSink sink;
        bool cancelled = false;
    };
    class Stream final : public TtsStream {
    public:
        explicit Stream(std::shared_ptr<Request> r) : m_request(std::move(r)) {}
        void cancel() override { m_request->cancelled = true; }

    private:
        std::shared_ptr<Request> m_request;
    };

    Result<TtsAudio> synthesize(const std::string& sentence) override { return synthesize_streamed(*this, sentence); }
    bool streams() const override { return true; }
    std::unique_ptr<TtsStream> speak(const std::string& sentence, TtsSink sink) override {
        requests.push_back(std::make_shared<Request>(Request{sentence, std::move(sink), false}));
        return std::make_unique<Stream>(requests.back());
    }
    std::string name() const override { return m_name; }

    explicit DrivenTts(std::string name = "driven") : m_name(std::move(name)) {}
    std::vector<std::shared_ptr<Request>> requests;

private:
    std::string m_name;
};

// A blocking synthesizer: `ms` of audio per sentence, or the errors it is told to give first.
class WholeTts final : public TtsClient {
public:
    explicit WholeTts(int ms, std::vector<Error> errors = {}) : m_ms(ms), m_errors(std::move(errors)) {}
    Result<TtsAudio> synthesize(const std::string& sentence) override {
        said.push_back(sentence);
        if (!m_errors.empty()) {
            Error e = m_errors.front();
            m_errors.erase(m_errors.begin());
            return e;
        }
        return audio_ms(m_ms);
    }
    std::string name() const override { return "whole"; }
    std::vector<std::string> said;

private:
    int m_ms;
    std::vector<Error> m_errors;
};

struct Frame {
    std::int64_t at;
    std::size_t real;
    std::int64_t late;
    std::string wire;
};

struct Harness {
    std::shared_ptr<VirtualExecutor> clock = std::make_shared<VirtualExecutor>();
    std::vector<Frame> frames;
    int done = 0;
    std::vector<std::string> failures, providers;
    std::vector<std::size_t> fallbacks;
    int first_audio = 0;
    std::unique_ptr<Speaker> speaker;

    explicit Harness(AudioFormat transport = kTransport) {
        SpeakerEvents e;
        e.frame = [this](std::string_view wire, std::size_t real, std::int64_t late) {
            frames.push_back({clock->now_ms() - 1000, real, late, std::string(wire)});
        };
        e.done = [this] { ++done; };
        e.failed = [this](const Error& error) { failures.push_back(error.message); };
        e.fallback = [this](std::size_t next, const Error&) { fallbacks.push_back(next); };
        e.provider = [this](const std::string& name) { providers.push_back(name); };
        e.first_audio = [this] { ++first_audio; };
        speaker = std::make_unique<Speaker>(clock, std::move(e), transport, kChunk);
    }
};

}  // namespace

TEST_CASE("speaker: a streamed sentence's first chunk plays the moment it arrives, then one chunk every 20 ms") {
    Harness h;
    auto tts = std::make_unique<DrivenTts>();
    auto* driven = tts.get();
    h.speaker->use(std::move(tts));
    h.speaker->start_reply();
    h.speaker->add_sentence("Hello there.");
    h.clock->run();
    REQUIRE(driven->requests.size() == 1);
    CHECK(driven->requests[0]->sentence == "Hello there.");
    h.clock->advance(250);  // the service takes 250 ms to its first audio
    CHECK(h.frames.empty());
    driven->requests[0]->sink.on_audio(audio_ms(60));
    h.clock->run();
    REQUIRE(h.frames.size() == 1);
    CHECK(h.frames[0].at == 250);
    CHECK(h.frames[0].late == 0);
    CHECK(h.first_audio == 1);
    h.clock->advance(40);
    REQUIRE(h.frames.size() == 3);
    CHECK(h.frames[1].at == 270);
    CHECK(h.frames[2].at == 290);
    // The service sends the rest while the first part plays; the pacer never falls behind its clock.
    driven->requests[0]->sink.on_audio(audio_ms(40));
    driven->requests[0]->sink.on_done(Ok{});
    h.clock->advance(20);
    REQUIRE(driven->requests.size() == 1);  // the responder has no second sentence yet: the LLM is still writing
    h.speaker->add_sentence("How are you?");
    h.speaker->end_text();
    h.clock->run();
    REQUIRE(driven->requests.size() == 2);
    driven->requests[1]->sink.on_audio(audio_ms(20));
    driven->requests[1]->sink.on_done(Ok{});
    h.clock->advance(200);
    REQUIRE(h.frames.size() == 6);
    for (std::size_t i = 1; i < h.frames.size(); ++i) CHECK(h.frames[i].at - h.frames[i - 1].at == 20);
    for (const auto& f : h.frames) CHECK(f.late == 0);
    CHECK(h.done == 1);
    CHECK_FALSE(h.speaker->active());
    CHECK(h.speaker->played_samples() == 6 * kChunk);
}

// The responder split the LLM's text once; the speaker says its sentences as given. Only a whole text said at once
// (a greeting) is split here.
TEST_CASE("speaker: a streamed reply's sentences are said as given, and only say() splits a text") {
    Harness h;
    auto tts = std::make_unique<WholeTts>(20);
    auto* whole = tts.get();
    h.speaker->use(std::move(tts));
    h.speaker->start_reply();
    h.speaker->add_sentence("It costs 3. 5 dollars!");  // a splitter would make two of it
    h.speaker->add_sentence("");                         // nothing to say: not a sentence
    h.speaker->add_sentence("Bye.");
    h.speaker->end_text();
    h.clock->advance(200);
    CHECK(whole->said == std::vector<std::string>{"It costs 3. 5 dollars!", "Bye."});
    CHECK(h.done == 1);
    h.speaker->say("Hello there. How can I help? Ask");
    h.clock->advance(200);
    CHECK(whole->said == std::vector<std::string>{"It costs 3. 5 dollars!", "Bye.", "Hello there.", "How can I help?", "Ask"});
    CHECK(h.done == 2);
}

TEST_CASE("speaker: a chunk goes out whole while more is coming, and only the reply's last one is padded") {
    Harness h;
    h.speaker->use(std::make_unique<WholeTts>(30));  // 30 ms per sentence: a chunk and a half
    h.speaker->say("One. Two.");
    h.clock->advance(200);
    REQUIRE(h.frames.size() == 3);  // 60 ms of speech in three 20 ms chunks
    CHECK(h.frames[0].real == kChunk);
    CHECK(h.frames[1].real == kChunk);
    CHECK(h.frames[2].real == kChunk);
    CHECK(h.done == 1);

    h.speaker->say("Three.");
    h.clock->advance(200);
    REQUIRE(h.frames.size() == 5);
    CHECK(h.frames[3].real == kChunk);
    CHECK(h.frames[4].real == kChunk / 2);  // the last one: half speech, half silence
    CHECK(h.done == 2);
}

TEST_CASE("speaker: stop cancels the sentence on the wire and nothing of it plays afterwards") {
    Harness h;
    auto tts = std::make_unique<DrivenTts>();
    auto* driven = tts.get();
    h.speaker->use(std::move(tts));
    h.speaker->say("A long answer. With a second sentence.");
    h.clock->run();
    driven->requests[0]->sink.on_audio(audio_ms(200));
    h.clock->advance(50);
    std::size_t played = h.frames.size();
    CHECK(played == 3);
    CHECK(h.speaker->played_fraction() > 0);
    h.speaker->stop();
    CHECK(driven->requests[0]->cancelled);
    // Whatever the provider had already posted, and anything it sends late, is dropped with the reply.
    driven->requests[0]->sink.on_audio(audio_ms(100));
    driven->requests[0]->sink.on_done(Ok{});
    h.clock->advance(500);
    CHECK(h.frames.size() == played);
    CHECK(h.done == 0);
    CHECK(driven->requests.size() == 1);  // the second sentence was never asked for
    CHECK_FALSE(h.speaker->active());
}

TEST_CASE("speaker: a transient failure is retried once by the same provider") {
    Harness h;
    auto tts = std::make_unique<WholeTts>(20, std::vector<Error>{make_error(ErrorCode::unavailable, "busy")});
    auto* whole = tts.get();
    h.speaker->use(std::move(tts));
    h.speaker->say("Hi.");
    h.clock->advance(100);
    CHECK(whole->said == std::vector<std::string>{"Hi.", "Hi."});
    CHECK(h.frames.size() == 1);
    CHECK(h.failures.empty());
    CHECK(h.fallbacks.empty());
    CHECK(h.done == 1);
}

TEST_CASE("speaker: a provider that fails for good hands the same sentence to the next, and the caller hears no long silence") {
    Harness h;
    auto first = std::make_unique<DrivenTts>("first");
    auto* failing = first.get();
    DrivenTts* next = nullptr;
    h.speaker->use(std::move(first), 2, [&](std::size_t choice) -> Result<std::unique_ptr<TtsClient>> {
        CHECK(choice == 1);
        auto tts = std::make_unique<DrivenTts>("second");
        next = tts.get();
        return std::unique_ptr<TtsClient>(std::move(tts));
    });
    h.speaker->say("Your table is booked.");
    h.clock->run();
    h.clock->advance(300);  // the first service answers 401 after 300 ms
    failing->requests[0]->sink.on_done(make_error(ErrorCode::unauthenticated, "bad key"));
    h.clock->run();
    CHECK(h.fallbacks == std::vector<std::size_t>{1});
    REQUIRE(next != nullptr);
    REQUIRE(next->requests.size() == 1);
    CHECK(next->requests[0]->sentence == "Your table is booked.");
    h.clock->advance(200);  // and the next one's first audio 200 ms later
    next->requests[0]->sink.on_audio(audio_ms(40));
    next->requests[0]->sink.on_done(Ok{});
    h.clock->advance(100);
    REQUIRE(h.frames.size() == 2);
    CHECK(h.frames[0].at == 500);
    CHECK(h.frames[0].at < 1500);  // the fallback's budget: no silence over 1.5 s
    CHECK(h.providers == std::vector<std::string>{"first", "second"});
    CHECK(h.failures.empty());
    CHECK(h.done == 1);
}

TEST_CASE("speaker: with no provider left the sentence is skipped and the reply still ends") {
    Harness h;
    h.speaker->use(std::make_unique<WholeTts>(20, std::vector<Error>{make_error(ErrorCode::quota, "no credit")}));
    h.speaker->say("Nobody can say this.");
    h.clock->advance(100);
    CHECK(h.frames.empty());
    CHECK(h.failures == std::vector<std::string>{"no credit"});
    CHECK(h.done == 1);
}

TEST_CASE("speaker: a reply with nothing to say is done at once, and text said before a provider waits for it") {
    Harness h;
    h.speaker->start_reply();
    h.speaker->end_text();
    CHECK(h.done == 1);
    h.speaker->say("Goodbye.");
    h.clock->advance(100);
    CHECK(h.frames.empty());
    h.speaker->use(std::make_unique<WholeTts>(20));
    h.clock->advance(100);
    CHECK(h.frames.size() == 1);
    CHECK(h.done == 2);
}

TEST_CASE("speaker: audio at another rate is resampled to the transport's") {
    Harness h;
    auto tts = std::make_unique<DrivenTts>();
    auto* driven = tts.get();
    h.speaker->use(std::move(tts));
    h.speaker->say("Hi.");
    h.clock->run();
    driven->requests[0]->sink.on_audio(TtsAudio{AudioFormat{Encoding::pcm16, 16000, 1}, std::vector<std::int16_t>(3200, 1000), {}});
    driven->requests[0]->sink.on_done(Ok{});
    h.clock->advance(200);
    std::size_t real = 0;
    for (const auto& f : h.frames) real += f.real;
    CHECK(real >= 1500);  // 200 ms at 8 kHz, give or take the filter's delay
    CHECK(real <= 1700);
    CHECK(h.done == 1);
}

TEST_CASE("speaker: mu-law from the provider reaches a mu-law transport byte for byte, the last frame padded with mu-law silence") {
    Harness h(kTwilioFormat);
    auto tts = std::make_unique<DrivenTts>();
    auto* driven = tts.get();
    h.speaker->use(std::move(tts));
    h.speaker->say("Hi.");
    h.clock->run();
    // 0x7F is mu-law's negative zero: it decodes to 0, which encodes as 0xFF, so a round trip would change it.
    std::string wire;
    for (std::size_t i = 0; i < 400; ++i) wire += i % 3 == 0 ? char(0x7F) : char(i);
    driven->requests[0]->sink.on_audio(TtsAudio{kTwilioFormat, {}, wire.substr(0, 250)});
    driven->requests[0]->sink.on_audio(TtsAudio{kTwilioFormat, {}, wire.substr(250)});
    driven->requests[0]->sink.on_done(Ok{});
    h.clock->advance(200);
    REQUIRE(h.frames.size() == 3);
    std::string sent;
    for (const auto& f : h.frames) {
        CHECK(f.wire.size() == kChunk);  // one byte a sample
        sent += f.wire;
    }
    CHECK(h.frames[2].real == 80);
    CHECK(sent == wire + std::string(80, char(0xFF)));
    CHECK(h.speaker->played_samples() == 400);
    CHECK(h.done == 1);
}

TEST_CASE("speaker: PCM at another rate is resampled and encoded once for a mu-law transport") {
    Harness h(kTwilioFormat);
    auto tts = std::make_unique<DrivenTts>();
    auto* driven = tts.get();
    h.speaker->use(std::move(tts));
    h.speaker->say("Hi.");
    h.clock->run();
    driven->requests[0]->sink.on_audio(TtsAudio{AudioFormat{Encoding::pcm16, 16000, 1}, std::vector<std::int16_t>(3200, 1000), {}});
    driven->requests[0]->sink.on_done(Ok{});
    h.clock->advance(200);
    REQUIRE(h.frames.size() >= 5);
    std::size_t real = 0;
    for (const auto& f : h.frames) {
        CHECK(f.wire.size() == kChunk);
        real += f.real;
    }
    CHECK(real >= 1500);  // 200 ms at 8 kHz, give or take the filter's delay
    CHECK(real <= 1700);
    // A frame from the middle is mu-law of the level (past the filter's edges, within a companding step).
    for (char code : h.frames[3].wire) {
        CHECK(g711::ulaw_to_linear(std::uint8_t(code)) > 900);
        CHECK(g711::ulaw_to_linear(std::uint8_t(code)) < 1100);
    }
    const Frame& last = h.frames.back();
    CHECK(last.wire.substr(last.real) == std::string(kChunk - last.real, char(0xFF)));
    CHECK(h.done == 1);
}

TEST_CASE("speaker: PCM at the transport's rate goes out as its little-endian bytes") {
    Harness h;
    auto tts = std::make_unique<DrivenTts>();
    auto* driven = tts.get();
    h.speaker->use(std::move(tts));
    h.speaker->say("Hi.");
    h.clock->run();
    std::vector<std::int16_t> samples(100);
    for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = std::int16_t(int(i) * 300 - 15000);
    driven->requests[0]->sink.on_audio(TtsAudio{kTransport, samples, {}});
    driven->requests[0]->sink.on_done(Ok{});
    h.clock->advance(100);
    REQUIRE(h.frames.size() == 1);
    CHECK(h.frames[0].real == 100);
    CHECK(h.frames[0].wire == pcm16le_bytes(samples) + std::string(2 * (kChunk - 100), '\0'));
}
