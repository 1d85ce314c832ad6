// The Deepgram client against the protocol-faithful fake: real WebSockets on loopback, espeak-ng speech.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/audio/g711.hpp"
#include "providers/deepgram/live_stt.hpp"
#include "providers/fake/deepgram_fake.hpp"
#include "providers/fake/speech.hpp"
#include "support/eventually.hpp"

using namespace va;
using va::fake::DeepgramFake;
using va::test::eventually;

namespace {

class Events {
public:
    void add(SttEvent e) {
        std::lock_guard lock(m_mutex);
        m_events.push_back(std::move(e));
        m_cv.notify_all();
    }
    // Waits (up to `ms`) for an event that satisfies `pred`; the events so far.
    template <class P>
    bool wait_for(P pred, int ms = 8000) {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, std::chrono::milliseconds(ms), [&] {
            for (const auto& e : m_events)
                if (pred(e)) return true;
            return false;
        });
    }
    std::vector<SttEvent> all() {
        std::lock_guard lock(m_mutex);
        return m_events;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<SttEvent> m_events;
};

deepgram::Settings settings_for(const DeepgramFake& fake) {
    deepgram::Settings s;
    s.api_key = "dg-fake-key";
    s.base_url = fake.base_url();
    s.endpointing_ms = 300;
    return s;
}

std::vector<std::int16_t> silence(int rate, int ms) { return std::vector<std::int16_t>(std::size_t(rate) * ms / 1000, 0); }

// Pushes audio in 20 ms frames, `pace` times faster than real time. With `wire`, each frame also carries `wire`'s
// bytes for the same samples, as a mu-law carrier delivers them.
void stream(StreamingRecognizer& stt, const std::vector<std::int16_t>& audio, int rate, int pace = 4,
            const std::string* wire = nullptr) {
    std::size_t frame = std::size_t(rate / 50);
    for (std::size_t at = 0; at < audio.size(); at += frame) {
        std::size_t n = std::min(frame, audio.size() - at);
        stt.push({std::span(audio).subspan(at, n), wire ? std::string_view(*wire).substr(at, n) : std::string_view()});
        std::this_thread::sleep_for(std::chrono::milliseconds(20 / pace));
    }
}

std::vector<std::int16_t> speech(const std::string& text, int rate) {
    auto audio = va::fake::caller_speech(text, rate);
    REQUIRE(audio);
    return *audio;
}

bool is(const SttEvent& e, SttEvent::Kind k) { return e.kind == k; }

}  // namespace

TEST_CASE("deepgram: the carrier's mu-law goes to the service as it came, not decoded and encoded again") {
    DeepgramFake::Options options;
    options.lines = {"book a table"};
    DeepgramFake fake(options);
    auto stt = deepgram::make_live_stt(settings_for(fake));
    Events events;
    stt->start(kTwilioFormat, [&](SttEvent e) { events.add(std::move(e)); });
    // The PCM of each frame is silence and only the wire bytes hold the words: a client that encoded the PCM again
    // would send silence, and the fake would hear nobody.
    auto words = speech("book a table", 8000);
    std::vector<std::int16_t> audio = silence(8000, 300);
    audio.insert(audio.end(), words.begin(), words.end());
    auto tail = silence(8000, 1500);
    audio.insert(audio.end(), tail.begin(), tail.end());
    std::string wire(audio.size(), '\0');
    g711::encode_ulaw(audio, std::span(reinterpret_cast<std::uint8_t*>(wire.data()), wire.size()));
    std::vector<std::int16_t> quiet(audio.size(), 0);
    stream(*stt, quiet, 8000, 4, &wire);
    REQUIRE(events.wait_for([](const SttEvent& e) { return e.kind == SttEvent::Kind::final && !e.text.empty(); }));
    auto all = events.all();
    auto final = std::find_if(all.begin(), all.end(), [](const SttEvent& e) { return e.kind == SttEvent::Kind::final && !e.text.empty(); });
    CHECK(final->text == "book a table");
    CHECK(fake.connections().at(0).audio_bytes == wire.size());
    stt->close();
}

TEST_CASE("deepgram: a caller's line arrives as interim words, a speech_final result and an UtteranceEnd") {
    DeepgramFake::Options options;
    options.lines = {"what are your opening hours today"};
    DeepgramFake fake(options);
    auto stt = deepgram::make_live_stt(settings_for(fake));
    Events events;
    stt->start(kTwilioFormat, [&](SttEvent e) { events.add(std::move(e)); });
    auto words = speech("what are your opening hours today", 8000);
    stream(*stt, silence(8000, 300), 8000);
    stream(*stt, words, 8000);
    stream(*stt, silence(8000, 1500), 8000);
    REQUIRE(events.wait_for([](const SttEvent& e) { return is(e, SttEvent::Kind::utterance_end); }));
    auto all = events.all();
    REQUIRE(!all.empty());
    CHECK(all.front().kind == SttEvent::Kind::speech_started);
    auto final = std::find_if(all.begin(), all.end(), [](const SttEvent& e) { return is(e, SttEvent::Kind::final); });
    REQUIRE(final != all.end());
    CHECK(final->text == "what are your opening hours today");
    CHECK(final->speech_final);
    CHECK(std::any_of(all.begin(), final, [](const SttEvent& e) { return is(e, SttEvent::Kind::interim) && !e.text.empty(); }));
    stt->close();
    for (int i = 0; i < 100 && !fake.connections().at(0).close_stream; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto c = fake.connections().at(0);
    CHECK(c.encoding == "mulaw");  // Twilio's own encoding goes through as it is
    CHECK(c.sample_rate == 8000);
    CHECK(c.query.find("interim_results=true") != std::string::npos);
    CHECK(c.query.find("utterance_end_ms=1000") != std::string::npos);
    CHECK(c.query.find("vad_events=true") != std::string::npos);
    CHECK(c.query.find("endpointing=300") != std::string::npos);
    CHECK(c.close_stream);
    CHECK(c.violations.empty());
}

TEST_CASE("deepgram: Finalize at the end of a turn flushes the words at once, and PCM goes as linear16") {
    DeepgramFake::Options options;
    options.lines = {"book a table for two"};
    DeepgramFake fake(options);
    auto s = settings_for(fake);
    s.endpointing_ms = 3000;  // the service alone would wait long
    auto stt = deepgram::make_live_stt(s);
    Events events;
    stt->start(AudioFormat{Encoding::pcm16, 16000, 1}, [&](SttEvent e) { events.add(std::move(e)); });
    stream(*stt, silence(16000, 200), 16000);
    stream(*stt, speech("book a table for two", 16000), 16000);
    stream(*stt, silence(16000, 200), 16000);
    stt->finalize();
    REQUIRE(events.wait_for([](const SttEvent& e) { return is(e, SttEvent::Kind::final); }, 3000));
    auto all = events.all();
    auto final = std::find_if(all.begin(), all.end(), [](const SttEvent& e) { return is(e, SttEvent::Kind::final); });
    CHECK(final->from_finalize);
    CHECK(final->text == "book a table for two");
    auto c = fake.connections().at(0);
    CHECK(c.encoding == "linear16");
    CHECK(c.sample_rate == 16000);
    CHECK(c.finalizes == 1);
}

TEST_CASE("deepgram: a refused key fails the stream at once, without retrying") {
    DeepgramFake fake({});
    auto s = settings_for(fake);
    s.api_key = "wrong-key";
    auto stt = deepgram::make_live_stt(s);
    Events events;
    stt->start(kTwilioFormat, [&](SttEvent e) { events.add(std::move(e)); });
    REQUIRE(events.wait_for([](const SttEvent& e) { return is(e, SttEvent::Kind::failed); }, 5000));
    auto failed = events.all().back();
    CHECK(failed.error.code == ErrorCode::unauthenticated);
    CHECK(failed.error.message.find("401") != std::string::npos);
    CHECK(failed.error.message.find("wrong-key") == std::string::npos);
    // A retry would come before the failure is reported (a refused handshake that may be retried is, up to
    // max_reconnects, and only then fails), and closing the client ends its connection attempts: one handshake.
    CHECK(fake.handshakes() == 1);
    stt->close();
    stt.reset();
    CHECK(fake.handshakes() == 1);
}

TEST_CASE("deepgram: refused handshakes (429, 500, 503) are retried and the stream opens") {
    for (int status : {429, 500, 503}) {
        DeepgramFake::Options options;
        options.lines = {"hello there"};
        options.refuse_status = status;
        options.refuse_count = 1;
        DeepgramFake fake(options);
        auto stt = deepgram::make_live_stt(settings_for(fake));
        Events events;
        stt->start(kTwilioFormat, [&](SttEvent e) { events.add(std::move(e)); });
        stream(*stt, speech("hello there", 8000), 8000);
        stream(*stt, silence(8000, 600), 8000);
        INFO(status);
        REQUIRE(events.wait_for([](const SttEvent& e) { return is(e, SttEvent::Kind::final); }));
        CHECK(fake.handshakes() == 2);
    }
}

TEST_CASE("deepgram: a connection dropped mid-utterance is reopened and the whole utterance is sent again") {
    DeepgramFake::Options options;
    options.lines = {"i would like to change my booking to friday"};
    options.drop_after_speech_ms = 600;
    options.error_mid_stream = true;
    DeepgramFake fake(options);
    auto stt = deepgram::make_live_stt(settings_for(fake));
    Events events;
    stt->start(kTwilioFormat, [&](SttEvent e) { events.add(std::move(e)); });
    auto words = speech("i would like to change my booking to friday", 8000);
    stream(*stt, silence(8000, 300), 8000, 1);  // real time: the drop happens while audio still flows
    stream(*stt, words, 8000, 1);
    stream(*stt, silence(8000, 800), 8000, 1);
    REQUIRE(events.wait_for([](const SttEvent& e) { return is(e, SttEvent::Kind::final); }));
    auto final = events.all();
    auto it = std::find_if(final.begin(), final.end(), [](const SttEvent& e) { return is(e, SttEvent::Kind::final); });
    CHECK(it->text == "i would like to change my booking to friday");
    CHECK(std::none_of(final.begin(), final.end(), [](const SttEvent& e) { return is(e, SttEvent::Kind::failed); }));
    auto connections = fake.connections();
    REQUIRE(connections.size() == 2);
    CHECK(connections[0].closed_with.find("NET-0000") != std::string::npos);
    // The second connection heard the utterance from its start, not just what came after the drop.
    REQUIRE(connections[1].utterance_ms.size() == 1);
    int spoken_ms = int(words.size() / 8);
    CHECK(connections[1].utterance_ms[0] >= spoken_ms - 400);
}

TEST_CASE("deepgram: KeepAlive keeps a quiet stream open, and without it NET-0001 ends it") {
    SECTION("keep-alives") {
        DeepgramFake::Options options;
        options.idle_limit_ms = 1500;
        DeepgramFake fake(options);
        auto s = settings_for(fake);
        s.keepalive_ms = 500;
        auto stt = deepgram::make_live_stt(s);
        Events events;
        stt->start(kTwilioFormat, [&](SttEvent e) { events.add(std::move(e)); });
        std::vector<std::int16_t> none;
        stt->push({none, {}});  // never a zero-length frame
        // Four keep-alives, half a second apart at the soonest, take longer than the fake's idle limit: the
        // connection outlived it because of them.
        REQUIRE(eventually([&] { return !fake.connections().empty() && fake.connections().at(0).keepalives >= 4; }));
        auto c = fake.connections().at(0);
        CHECK(c.closed_with.empty());
        CHECK(c.violations.empty());
        CHECK(events.all().empty());
    }
    SECTION("no keep-alives") {
        DeepgramFake::Options options;
        options.idle_limit_ms = 700;
        DeepgramFake fake(options);
        auto s = settings_for(fake);
        s.keepalive_ms = 60000;
        s.max_reconnects = 1;
        auto stt = deepgram::make_live_stt(s);
        Events events;
        stt->start(kTwilioFormat, [&](SttEvent e) { events.add(std::move(e)); });
        REQUIRE(events.wait_for([](const SttEvent& e) { return is(e, SttEvent::Kind::failed); }, 6000));
        CHECK(events.all().back().error.message.find("NET-0001") != std::string::npos);
        CHECK(fake.handshakes() == 2);  // reopened once, then given up
    }
}

TEST_CASE("deepgram: the listen URL carries the agent's model, language and the transport's encoding") {
    deepgram::Settings s;
    s.model = "nova-3";
    s.language = "en-IN";
    auto url = deepgram::listen_url(s, AudioFormat{Encoding::pcm16, 8000, 1});
    CHECK(url.rfind("wss://api.deepgram.com/v1/listen?model=nova-3&encoding=linear16&sample_rate=8000", 0) == 0);
    CHECK(url.find("language=en-IN") != std::string::npos);
    auto factory = deepgram::live_stt_factory({});
    CHECK(!factory->create(nlohmann::json::object()));  // no key: a clear error, not a call that fails later
}
