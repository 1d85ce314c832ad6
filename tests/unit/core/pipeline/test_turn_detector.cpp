// The turn detector on a virtual clock, with recognizers the test plays: tone bursts are the caller's speech (the
// VAD hears energy, not words), so each turn's start and end fall on known instants.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/pipeline/turn_detector.hpp"
#include "core/pipeline/virtual_executor.hpp"

using namespace va;

namespace {

constexpr int kRate = 8000;
const AudioFormat kTwilio{Encoding::mulaw, kRate, 1};

// An utterance recognizer that knows what the caller says: interim words grow with the pieces it is given.
class ScriptStt final : public UtteranceRecognizer {
public:
    explicit ScriptStt(std::vector<std::string> lines) : m_lines(std::move(lines)) {}
    std::string name() const override { return "script"; }
    int sample_rate() const override { return 16000; }  // asks for resampled audio, as pocketsphinx does
    bool cheap() const override { return true; }
    void push(std::span<const std::int16_t> samples) override {
        ++m_pieces;
        pushed += samples.size();
    }
    std::string partial() override { return m_next < m_lines.size() ? m_lines[m_next].substr(0, m_pieces * 2) : ""; }
    Result<Transcript> finish() override {
        m_pieces = 0;
        return Transcript{m_next < m_lines.size() ? m_lines[m_next++] : "", 0.9, "script"};
    }
    void reset() override { m_pieces = 0; }
    std::size_t pushed = 0;

private:
    std::vector<std::string> m_lines;
    std::size_t m_next = 0, m_pieces = 0;
};

// A streaming service the test plays: events come from a thread of "its own", as a real service's do.
class DrivenStream final : public StreamingRecognizer {
public:
    explicit DrivenStream(std::string name, std::vector<std::string>* log = nullptr) : m_name(std::move(name)), m_log(log) {}
    std::string name() const override { return m_name; }
    void start(const AudioFormat& transport, std::function<void(SttEvent)> on_event) override {
        format = transport;
        m_on_event = std::move(on_event);
    }
    void push(const CallerAudio& audio) override {
        samples += audio.pcm.size();
        wire.append(audio.wire);
    }
    void finalize() override { ++finalizes; }
    void close() override {
        closed = true;
        if (m_log) m_log->push_back("closed:" + m_name);
    }
    void emit(SttEvent e) { emit_with(m_on_event, std::move(e)); }
    static void emit_with(const std::function<void(SttEvent)>& on_event, SttEvent e) {
        std::thread([&] { on_event(e); }).join();
    }
    std::function<void(SttEvent)> callback() const { return m_on_event; }
    AudioFormat format;
    std::size_t samples = 0;
    std::string wire;
    int finalizes = 0;
    bool closed = false;

private:
    std::string m_name;
    std::vector<std::string>* m_log;
    std::function<void(SttEvent)> m_on_event;
};

struct Heard {
    std::string text;
    std::int64_t speech_end, at;
};

struct Harness {
    std::shared_ptr<VirtualExecutor> clock = std::make_shared<VirtualExecutor>(0);
    std::vector<std::string> log;  // events in order
    std::vector<std::string> interims;
    std::vector<Heard> heard;
    std::vector<std::string> failures;
    int longest_speech = 0;
    std::unique_ptr<TurnDetector> turns;

    explicit Harness(int max_utterance_ms = 30000) {
        TurnEvents e;
        e.speech_started = [this] { log.push_back("speech@" + std::to_string(clock->now_ms())); };
        e.speaking = [this](int ms, std::int64_t) { longest_speech = std::max(longest_speech, ms); };
        e.interim = [this](const std::string& text) { interims.push_back(text); };
        e.heard = [this](const Result<Transcript>& t, std::int64_t end, std::int64_t at) {
            heard.push_back({t ? t->text : "error", end, at});
            log.push_back("heard");
        };
        e.fallback = [this](std::size_t next, const Error&) { log.push_back("fallback:" + std::to_string(next)); };
        e.provider = [this](const std::string& name) { log.push_back("provider:" + name); };
        e.failed = [this](const Error& error) { failures.push_back(error.message); };
        turns = std::make_unique<TurnDetector>(clock, std::move(e), kTwilio, VadOptions{}, max_utterance_ms);
    }

    // `ms` of the caller, 20 ms frames in real time on the virtual clock: a tone when `loud`, else silence.
    void caller(int ms, bool loud, const std::string* wire = nullptr) {
        for (int t = 0; t < ms; t += 20) {
            std::vector<std::int16_t> frame(kRate / 50, 0);
            if (loud)
                for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = std::int16_t(i % 16 < 8 ? 6000 : -6000);
            std::string_view bytes = wire ? std::string_view(*wire).substr(0, frame.size()) : std::string_view();
            clock->advance(20);  // a frame arrives when its 20 ms are over
            turns->hear({frame, bytes});
        }
    }
};

}  // namespace

TEST_CASE("turn detector: an utterance recognizer hears each utterance, with interim words, and ends the turn when the VAD does") {
    Harness h;
    auto stt = std::make_unique<ScriptStt>(std::vector<std::string>{"book a table for two"});
    auto* script = stt.get();
    h.turns->use(std::move(stt));
    h.caller(600, false);
    h.caller(900, true);
    CHECK(h.turns->busy());
    CHECK_FALSE(h.interims.empty());  // interim words while the caller still speaks
    CHECK(h.heard.empty());
    h.caller(1000, false);
    REQUIRE(h.heard.size() == 1);
    CHECK(h.heard[0].text == "book a table for two");
    // The turn ends 500 ms (the VAD's endpointing) after the speech did, at 600 + 900 + 500.
    CHECK(h.heard[0].speech_end == 2000);
    CHECK(h.log.front() == "provider:script");
    CHECK(h.log[1].rfind("speech@", 0) == 0);
    CHECK(h.longest_speech >= 800);
    CHECK_FALSE(h.turns->busy());
    // The recognizer got the utterance resampled to its 16 kHz, including the audio before the VAD decided.
    CHECK(script->pushed > std::size_t(16000) * 14 / 10);
}

TEST_CASE("turn detector: utterances heard before the recognizer exists are recognized once it does") {
    Harness h;
    h.caller(600, false);
    h.caller(500, true);
    h.caller(700, false);
    CHECK(h.heard.empty());
    h.turns->use(std::make_unique<ScriptStt>(std::vector<std::string>{"hello"}));
    h.clock->run();
    REQUIRE(h.heard.size() == 1);
    CHECK(h.heard[0].text == "hello");
}

TEST_CASE("turn detector: speech that never pauses is cut at the utterance limit") {
    Harness h(1000);
    h.turns->use(std::make_unique<ScriptStt>(std::vector<std::string>{"one", "two"}));
    h.caller(600, false);
    h.caller(2500, true);
    CHECK(h.heard.size() == 2);
}

TEST_CASE("turn detector: a streaming recognizer gets the carrier's bytes as they came, a Finalize when the VAD hears the caller stop, and its final ends the turn") {
    Harness h;
    auto stream = std::make_unique<DrivenStream>("stream");
    auto* driven = stream.get();
    h.turns->use(std::move(stream));
    CHECK(driven->format.encoding == Encoding::mulaw);
    std::string wire(kRate / 50, '\x7f');
    h.caller(600, false, &wire);
    h.caller(700, true, &wire);
    h.caller(600, false, &wire);
    CHECK(driven->samples == std::size_t(kRate) * 1900 / 1000);
    CHECK(driven->wire.size() == driven->samples);
    CHECK(driven->finalizes == 1);
    CHECK(h.heard.empty());  // the service decides: nothing yet
    driven->emit({SttEvent::Kind::interim, "what are", false, false, 0.5, {}});
    driven->emit({SttEvent::Kind::final, "what are your hours", false, true, 0.9, {}});
    h.clock->run();
    CHECK(h.interims == std::vector<std::string>{"what are"});
    REQUIRE(h.heard.size() == 1);
    CHECK(h.heard[0].text == "what are your hours");
    CHECK(h.heard[0].speech_end == 1800);  // when the VAD heard the caller stop, not when the final came
}

TEST_CASE("turn detector: a stream that fails for good hands over to the chain's next recognizer, and with none left the call is told") {
    Harness h;
    auto first = std::make_unique<DrivenStream>("first", &h.log);
    auto* failing = first.get();
    DrivenStream* next = nullptr;
    h.turns->use(std::move(first), 2, [&](std::size_t choice) -> Result<std::unique_ptr<SttClient>> {
        CHECK(choice == 1);
        auto s = std::make_unique<DrivenStream>("second");
        next = s.get();
        return std::unique_ptr<SttClient>(std::move(s));
    });
    auto stale = failing->callback();  // the service's thread may still call it after the stream is replaced
    failing->emit({SttEvent::Kind::failed, "", false, false, 0, make_error(ErrorCode::unauthenticated, "bad key")});
    h.clock->run();
    REQUIRE(next != nullptr);
    CHECK(h.log == std::vector<std::string>{"provider:first", "fallback:1", "closed:first", "provider:second"});
    // The replaced stream's late events are ignored; the new one's count.
    DrivenStream::emit_with(stale, {SttEvent::Kind::final, "stale words", true, false, 1, {}});
    next->emit({SttEvent::Kind::final, "fresh words", true, false, 1, {}});
    h.clock->run();
    REQUIRE(h.heard.size() == 1);
    CHECK(h.heard[0].text == "fresh words");
    next->emit({SttEvent::Kind::failed, "", false, false, 0, make_error(ErrorCode::quota, "no credit")});
    h.clock->run();
    CHECK(h.failures == std::vector<std::string>{"no credit"});
}

TEST_CASE("turn detector: after close nothing more is reported") {
    Harness h;
    auto stream = std::make_unique<DrivenStream>("stream");
    auto* driven = stream.get();
    h.turns->use(std::move(stream));
    h.turns->close();
    CHECK(driven->closed);
    driven->emit({SttEvent::Kind::final, "too late", true, false, 1, {}});
    h.clock->run();
    CHECK(h.heard.empty());
}

TEST_CASE("turn detector: a recognizer far behind the caller gets no more pieces: the utterance that does not fit is dropped whole and reported") {
    Harness h;
    h.caller(600, false);
    // No recognizer yet (as while one is being built, or a worker pool that is saturated): pieces queue up. Five
    // utterances of 6 s are over 100 pieces of 300 ms; the fifth does not fit.
    auto talk = [&h] {  // 6 s of speech with the short gaps of syllables (a steady tone would become the floor)
        for (int t = 0; t < 6000; t += 300) {
            h.caller(260, true);
            h.caller(40, false);
        }
        h.caller(700, false);
    };
    for (int i = 0; i < 5; ++i) talk();
    REQUIRE(h.heard.size() == 1);
    CHECK(h.heard[0].text == "error");  // the refusal, reported once
    h.turns->use(std::make_unique<ScriptStt>(std::vector<std::string>{"one", "two", "three", "four", "five"}));
    h.clock->run();
    REQUIRE(h.heard.size() == 5);
    CHECK(h.heard[1].text == "one");
    CHECK(h.heard[4].text == "four");
    // Caught up: the next utterance is heard, and the recognizer never saw a piece of the dropped one.
    talk();
    REQUIRE(h.heard.size() == 6);
    CHECK(h.heard[5].text == "five");
}
