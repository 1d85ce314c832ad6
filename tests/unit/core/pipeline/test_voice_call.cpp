// Whole calls on a virtual clock: the VoiceCall with a port the test plays (transport, record, LLM), recognizers
// that know what the caller says, and a TTS whose audio is as long as its text. Tone bursts are the caller's
// speech. Every behaviour of a voice call is checked at exact instants, without a daemon or a socket.
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/pipeline/sentences.hpp"
#include "core/pipeline/virtual_executor.hpp"
#include "core/pipeline/voice_call.hpp"

using namespace va;
using nlohmann::json;

namespace {

constexpr int kRate = 8000;
const AudioFormat kTransport{Encoding::pcm16, kRate, 1};

// 10 ms of audio per character (a sentence of 50 characters is half a second), or a failure. Each sentence it is
// asked for is noted in `said`.
class TextTts final : public TtsClient {
public:
    TextTts(std::string name, bool fails, std::vector<std::string>& said)
        : m_name(std::move(name)), m_fails(fails), m_said(said) {}
    Result<TtsAudio> synthesize(const std::string& sentence) override {
        m_said.push_back(sentence);
        if (m_fails) return make_error(ErrorCode::unauthenticated, m_name + ": bad key");
        return TtsAudio{kTransport, std::vector<std::int16_t>(sentence.size() * kRate / 100, 1000), {}};
    }
    bool cheap() const override { return true; }
    std::string name() const override { return m_name; }

private:
    std::string m_name;
    bool m_fails;
    std::vector<std::string>& m_said;
};

class LinesStt final : public UtteranceRecognizer {
public:
    explicit LinesStt(std::vector<std::string> lines) : m_lines(std::move(lines)) {}
    std::string name() const override { return "lines"; }
    int sample_rate() const override { return 0; }
    bool cheap() const override { return true; }
    void push(std::span<const std::int16_t>) override {}
    Result<Transcript> finish() override { return Transcript{m_next < m_lines.size() ? m_lines[m_next++] : "", 1, "lines"}; }
    void reset() override {}

private:
    std::vector<std::string> m_lines;
    std::size_t m_next = 0;
};

// One question to the LLM, answered as the daemon's responder answers: each token as text, each sentence once as
// a token completes it (the responder's splitter), and the rest of the text as the last sentence before the answer.
struct Asked {
    std::string text, source;
    AnswerSink sink;
    SentenceSplitter sentences;

    void token(const std::string& t) {
        sink.text(t);
        for (const auto& sentence : sentences.push(t)) sink.sentence(sentence);
    }
    void done(Answer answer) {
        if (auto rest = sentences.flush(); !rest.empty()) sink.sentence(rest);
        sink.done(std::move(answer));
    }
};

class TestPort final : public CallPort {
public:
    std::shared_ptr<VirtualExecutor> clock;
    std::vector<std::int64_t> frames;  // when each went out
    int clears = 0;
    bool carries_marks = true;
    std::vector<std::string> marks, controls, events;
    std::vector<json> transcripts;  // the data of each call:transcript
    std::vector<std::string> said;  // each sentence the TTS was asked for
    std::vector<json> turns;  // role, text, interrupted
    std::vector<json> turn_metrics;
    json metrics = json::object();
    std::vector<Asked> asked;
    int cancels = 0;
    std::string ended, handed_over;
    std::optional<CallClose> closed;  // how the transport was told to close
    std::vector<std::string> caller_lines;
    bool stt_unavailable = false;  // building the recognizer fails
    std::vector<bool> tts_fails{false};

    explicit TestPort(std::shared_ptr<VirtualExecutor> c) : clock(std::move(c)) {}

    void send_frame(std::string_view, std::size_t, std::int64_t) override { frames.push_back(clock->now_ms()); }
    void send_clear() override { ++clears; }
    bool send_mark(const std::string& name) override {
        marks.push_back(name);
        return carries_marks;
    }
    void send_control(const json& m) override { controls.push_back(m.value("type", "")); }
    void publish(const std::string& event, const json& data) override {
        if (event == "call:transcript") transcripts.push_back(data);
        events.push_back(event + (data.value("interrupted", false) ? "+interrupted" : "") +
                         (data.value("backchannel", false) ? "+backchannel" : ""));
    }
    void store_turn(const std::string& role, const std::string& text, std::int64_t, std::int64_t, bool interrupted,
                    const std::string&) override {
        turns.push_back({{"role", role}, {"text", text}, {"interrupted", interrupted}});
    }
    void record_turn(const json& m) override { turn_metrics.push_back(m); }
    json& call_metrics() override { return metrics; }
    void ask(const std::string& text, std::int64_t, std::int64_t, const std::string& source, AnswerSink sink) override {
        Asked question;
        question.text = text;
        question.source = source;
        question.sink = std::move(sink);
        asked.push_back(std::move(question));
    }
    void cancel_answer() override { ++cancels; }
    void end(const std::string& reason, CallClose close) override {
        if (!ended.empty()) return;
        ended = reason;
        closed = close;
    }
    void hand_over(const std::string& reason, const std::string&) override { handed_over = reason; }
    Result<std::unique_ptr<TtsClient>> make_tts(std::size_t choice) override {
        return std::unique_ptr<TtsClient>(std::make_unique<TextTts>("tts" + std::to_string(choice), tts_fails.at(choice), said));
    }
    Result<std::unique_ptr<SttClient>> make_stt(std::size_t) override {
        if (stt_unavailable) return make_error(ErrorCode::unauthenticated, "stt: bad key");
        return std::unique_ptr<SttClient>(std::make_unique<LinesStt>(caller_lines));
    }

    // The LLM answers the last question with `text`, in one piece, and ends its answer.
    void answer(const std::string& text, std::string end_reason = {}) {
        REQUIRE(!asked.empty());
        asked.back().token(text);
        Answer a;
        a.end_reason = std::move(end_reason);
        asked.back().done(a);
    }
    std::size_t count(const std::string& event) const { return std::size_t(std::count(events.begin(), events.end(), event)); }
};

struct Call {
    std::shared_ptr<VirtualExecutor> clock = std::make_shared<VirtualExecutor>(0);
    TestPort port{clock};
    json agent;
    Conversation conversation;
    std::unique_ptr<VoiceCall> call;

    explicit Call(json a, std::vector<std::string> caller_lines = {}, std::size_t tts_chain = 1)
        : agent(std::move(a)), conversation(agent, json::object()) {
        port.caller_lines = std::move(caller_lines);
        port.tts_fails.resize(tts_chain, false);
        VoiceCallOptions o;
        o.call_id = "test";
        o.transport = kTransport;
        o.chunk_samples = kRate / 50;
        o.tts_chain.assign(tts_chain, "tts");
        call = std::make_unique<VoiceCall>(clock, port, agent, conversation, o);
    }
    void start() {
        call->start();
        clock->run();
    }
    // A caller turn: a moment of quiet (the VAD learns the noise floor), 600 ms of speech, 600 ms of quiet.
    void turn() {
        caller(300, false);
        caller(600, true);
        caller(600, false);
    }
    // `ms` of the caller in 20 ms frames: a tone when `loud`, else silence (the clock moves with it).
    void caller(int ms, bool loud) {
        for (int t = 0; t < ms; t += 20) {
            std::vector<std::int16_t> frame(kRate / 50, 0);
            if (loud)
                for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = std::int16_t(i % 16 < 8 ? 6000 : -6000);
            clock->advance(20);
            call->hear({frame, {}});
        }
    }
};

json agent_with(json extra = json::object()) {
    json a{{"name", "test"}, {"system_prompt", "You help."}};
    if (extra.is_object()) a.update(extra);
    return a;
}

}  // namespace

TEST_CASE("voice call: the greeting plays, the caller's turn goes to the LLM, and its answer is spoken as it streams") {
    Call c(agent_with({{"first_message", "Hello, how can I help?"}}), {"what are your hours"});
    c.start();
    CHECK(c.call->state() == CallState::replying);
    CHECK(c.port.frames.size() == 1);  // the greeting's first chunk goes out at once
    c.caller(300, false);              // 22 characters: 220 ms of greeting
    CHECK(c.call->state() == CallState::listening);
    CHECK(c.port.frames.size() == 11);  // 220 ms in 20 ms chunks
    CHECK(c.port.turns.at(0) == json{{"role", "agent"}, {"text", "Hello, how can I help?"}, {"interrupted", false}});
    CHECK(c.port.said == std::vector<std::string>{"Hello, how can I help?"});
    c.turn();
    REQUIRE(c.port.asked.size() == 1);
    CHECK(c.port.asked[0].text == "what are your hours");
    std::size_t before = c.port.frames.size();
    c.port.asked[0].token("We open at nine. ");  // the first sentence plays while the model writes the second
    c.clock->run();
    CHECK(c.port.frames.size() == before + 1);
    c.caller(100, false);
    c.port.answer("And close at five.");
    c.caller(600, false);
    CHECK(c.call->state() == CallState::listening);
    CHECK(c.port.turns.back()["text"] == "We open at nine. And close at five.");
    CHECK(c.conversation.history().back().content == "We open at nine. And close at five.");
    CHECK(c.port.said == std::vector<std::string>{"Hello, how can I help?", "We open at nine.", "And close at five."});
    // The model's first token came 100 ms after the caller's speech ended (when the test played it), and the first
    // sentence's audio and first frame at that same instant: nothing waits for the rest of the answer.
    REQUIRE(c.port.turn_metrics.size() == 1);
    const json& m = c.port.turn_metrics[0];
    CHECK(m["stt_ms"] == 0);
    CHECK(m["llm_first_token_ms"] == 100);
    CHECK(m["tts_first_audio_ms"] == 100);
    CHECK(m["voice_to_voice_ms"] == 100);
    CHECK(c.port.marks == std::vector<std::string>{"reply-1", "reply-2"});  // one after each reply
}

// The responder splits the LLM's text into sentences once, and the call says exactly those: the speaker does not
// split the tokens a second time (it used to, and the responder's sentences went unused).
TEST_CASE("voice call: a streamed reply is split once: the TTS is asked for the responder's sentences, and text alone says nothing") {
    Call c(agent_with(), {"what are your hours"});
    c.start();
    c.turn();
    REQUIRE(c.port.asked.size() == 1);
    AnswerSink& sink = c.port.asked[0].sink;
    sink.text("We open at 9. We close at 5.");  // the reply's text, for the record: nothing in it is said
    c.clock->advance(100);
    CHECK(c.port.said.empty());
    CHECK(c.port.frames.empty());
    sink.sentence("We open at 9. We close at 5.");  // the responder's one sentence (it may judge as it likes)
    c.clock->run();
    CHECK(c.port.said == std::vector<std::string>{"We open at 9. We close at 5."});
    CHECK(c.port.frames.size() == 1);  // its first chunk plays at once
    sink.done(Answer{});
    c.clock->advance(1000);  // 28 characters: 280 ms
    CHECK(c.port.said == std::vector<std::string>{"We open at 9. We close at 5."});
    CHECK(c.port.frames.size() == 14);
    CHECK(c.port.turns.back()["text"] == "We open at 9. We close at 5.");
    CHECK(c.call->state() == CallState::listening);
}

TEST_CASE("voice call: barge-in stops the agent, clears the carrier, and keeps only what the caller heard") {
    Call c(agent_with(), {"tell me everything", "stop"});
    c.start();
    c.turn();
    REQUIRE(c.port.asked.size() == 1);
    std::string reply = "This is a long answer that takes several seconds to say out loud, sentence by sentence.";
    c.port.answer(reply);
    c.caller(400, false);  // 400 ms of a ~900 ms reply played
    std::size_t played = c.port.frames.size();
    c.caller(400, true);  // the caller talks over it: 300 ms of speech interrupts
    CHECK(c.port.clears == 1);
    CHECK(c.port.cancels == 1);
    CHECK(c.call->state() == CallState::listening);
    CHECK(c.port.frames.size() == played + 15);  // 300 ms more of the reply, until the VAD's minimum speech
    const json& cut = c.port.turns.back();
    CHECK(cut["interrupted"] == true);
    std::string heard = cut["text"];
    CHECK(!heard.empty());
    CHECK(heard.size() < reply.size());
    CHECK(reply.rfind(heard, 0) == 0);  // a prefix of the reply, at a word's end
    CHECK(c.conversation.history().back().content == heard);
    std::size_t after = c.port.frames.size();
    c.caller(1000, false);
    CHECK(c.port.frames.size() == after);  // nothing of the old reply plays afterwards
    REQUIRE(c.port.asked.size() == 2);
    CHECK(c.port.asked[1].text == "stop");
}

// The cut reply is announced once, as interrupted (it used to be announced a second time as if said whole).
TEST_CASE("voice call: a barge-in announces the cut reply once, as interrupted, with the words the caller heard") {
    Call c(agent_with(), {"tell me everything", "stop"});
    c.start();
    c.turn();
    c.port.answer("This is a long answer that takes several seconds to say out loud, sentence by sentence.");
    c.caller(400, false);
    c.caller(400, true);  // the caller talks over it
    REQUIRE(c.port.clears == 1);
    REQUIRE(c.port.transcripts.size() == 1);
    const json& cut = c.port.transcripts[0];
    CHECK(cut["role"] == "agent");
    CHECK(cut["final"] == true);
    CHECK(cut["interrupted"] == true);
    CHECK(cut["text"] == c.port.turns.back()["text"]);
    CHECK(c.port.count("call:transcript+interrupted") == 1);
    CHECK(c.port.count("call:transcript") == 0);
}

TEST_CASE("voice call: a backchannel while the agent talks does not interrupt it") {
    Call c(agent_with({{"interruption", {{"min_speech_ms", 5000}}}}), {"go on", "okay"});
    c.start();
    c.turn();
    // 2.5 s of speech: the caller's "okay" and the VAD's end of it both fall inside it.
    c.port.answer(std::string(230, 'a') + " and so on.");
    c.caller(100, false);
    c.caller(200, true);  // "okay"
    c.caller(600, false);
    CHECK(c.port.clears == 0);
    CHECK(c.call->state() == CallState::replying);
    REQUIRE(c.port.transcripts.size() == 1);
    CHECK(c.port.transcripts[0] == json{{"role", "user"}, {"text", "okay"}, {"final", true}, {"backchannel", true}});
    CHECK(c.port.asked.size() == 1);  // "okay" is no turn of the conversation
    CHECK(c.port.turns.empty());      // and the agent's reply goes on
}

TEST_CASE("voice call: silence brings the reprompt, and after the last one the call ends") {
    Call c(agent_with({{"silence", {{"timeout_ms", 1000}, {"max_reprompts", 1}, {"reprompt", "Still there?"}}}}));
    c.start();
    CHECK(c.call->state() == CallState::listening);
    c.clock->advance(999);
    CHECK(c.port.frames.empty());
    c.clock->advance(1);
    CHECK(c.port.frames.size() == 1);  // the reprompt, exactly at the timeout
    c.clock->advance(200);              // 12 characters: 120 ms
    CHECK(c.port.frames.size() == 6);
    CHECK(c.port.said == std::vector<std::string>{"Still there?"});
    CHECK(c.call->state() == CallState::listening);
    CHECK(c.port.ended.empty());
    c.clock->advance(1000);
    CHECK(c.port.ended == "silence_timeout");
    CHECK(c.port.closed == CallClose::normal);
}

TEST_CASE("voice call: end_call ends the call once the carrier says the last words were heard, or after 2 s") {
    SECTION("the mark comes back") {
        Call c(agent_with(), {"bye"});
        c.start();
        c.turn();
        c.port.answer("Goodbye!", "agent_end_call");
        c.clock->advance(200);
        CHECK(c.call->state() == CallState::closing);
        CHECK(c.port.ended.empty());
        c.caller(600, true);  // caller words while the last ones play out start no turn
        c.caller(600, false);
        CHECK(c.port.asked.size() == 1);
        CHECK(c.call->mark(c.port.marks.back()));
        CHECK(c.port.ended == "agent_end_call");
    }
    SECTION("the carrier never echoes it") {
        Call c(agent_with(), {"bye"});
        c.start();
        c.turn();
        c.port.answer("Goodbye!", "agent_end_call");
        c.clock->advance(80);  // the last frame
        CHECK(c.port.ended.empty());
        c.clock->advance(2000);
        CHECK(c.port.ended == "agent_end_call");
    }
    SECTION("a transport without marks ends at once") {
        Call c(agent_with(), {"bye"});
        c.port.carries_marks = false;
        c.start();
        c.turn();
        c.port.answer("Goodbye!", "agent_end_call");
        c.clock->advance(200);
        CHECK(c.port.ended == "agent_end_call");
    }
}

TEST_CASE("voice call: transfer_call hands the caller over after the agent's last words") {
    Call c(agent_with(), {"a person please"});
    c.start();
    c.turn();
    c.port.answer("Connecting you now.", "transferred:+15551234567");
    c.clock->advance(300);
    CHECK(c.port.handed_over.empty());
    CHECK(c.call->mark(c.port.marks.back()));
    CHECK(c.port.handed_over == "transferred:+15551234567");
    CHECK(c.call->state() == CallState::handing_over);
}

TEST_CASE("voice call: a key press is a caller turn, and interrupts the agent") {
    Call c(agent_with({{"first_message", "Press 1 for sales or 2 for support, at any time you like."}}));
    c.start();
    c.clock->advance(100);
    c.call->dtmf("2");
    CHECK(c.port.clears == 1);
    CHECK(c.port.cancels == 1);
    CHECK(c.call->state() == CallState::replying);  // the answer to "2" is on its way
    REQUIRE(c.port.turns.size() == 1);
    CHECK(c.port.turns[0]["interrupted"] == true);
    CHECK(c.port.turns[0]["text"] == "Press 1 for sales");  // 100 ms of 57 characters' 570 ms, to the word's end
    REQUIRE(c.port.asked.size() == 1);
    CHECK(c.port.asked[0].text == "2");
    CHECK(c.port.asked[0].source == "dtmf");
    CHECK(c.port.count("call:dtmf") == 1);
}

TEST_CASE("voice call: the daemon's goodbye cuts off the agent, cannot be talked over, and ends the call once heard") {
    Call c(agent_with({{"interruption", {{"min_speech_ms", 100}}}}), {"tell me a story"});
    c.start();
    c.turn();
    c.port.answer("Once upon a time there was a very long story that nobody will hear the end of.");
    c.clock->advance(100);
    c.call->drain("We are closing now, goodbye.");
    CHECK(c.call->state() == CallState::goodbye);
    CHECK(c.port.clears == 1);  // the story stops
    c.caller(200, true);        // the caller talks (enough to interrupt a reply): the goodbye goes on
    CHECK(c.port.clears == 1);
    CHECK(c.call->state() == CallState::goodbye);
    c.clock->advance(400);
    CHECK(c.call->state() == CallState::closing);
    CHECK(c.call->mark(c.port.marks.back()));
    CHECK(c.port.ended == "daemon_shutdown");
    CHECK(c.port.asked.size() == 1);
}

TEST_CASE("voice call: a TTS provider that fails hands the greeting to the next one without a long silence") {
    Call c(agent_with({{"first_message", "Hello there."}}), {}, 2);
    c.port.tts_fails = {true, false};
    c.start();
    c.clock->run();
    REQUIRE(!c.port.frames.empty());
    CHECK(c.port.frames.front() == 0);  // the next provider is built and speaks at once: no silence at all
    CHECK(c.port.said == std::vector<std::string>{"Hello there.", "Hello there."});  // the same sentence, by each
    CHECK(c.port.count("call:error") == 1);
    REQUIRE(c.port.metrics["fallbacks"].size() == 1);
    const json& fallback = c.port.metrics["fallbacks"][0];
    CHECK(fallback["stage"] == "tts");
    CHECK(fallback["provider"] == "tts0");
    CHECK(fallback["fallback"] == "tts");
    CHECK(fallback["message"] == "tts0: bad key");
    CHECK(c.port.metrics["providers"]["tts"] == "tts1");
}

TEST_CASE("voice call: a hang-up mid-reply stores the part the caller heard") {
    Call c(agent_with(), {"hello"});
    c.start();
    c.turn();
    const std::string reply = "A reply long enough to be cut off by the caller hanging up in the middle of it.";
    c.port.answer(reply);
    c.clock->advance(300);
    c.call->ended();
    CHECK(c.call->state() == CallState::ended);
    const json& last = c.port.turns.back();
    CHECK(last["role"] == "agent");
    CHECK(last["interrupted"] == true);
    std::string heard = last["text"];
    CHECK(heard == "A reply long enough to be cut off");  // 300 ms of its 810, to the word's end
    REQUIRE(c.port.transcripts.size() == 1);
    CHECK(c.port.transcripts[0] == json{{"role", "agent"}, {"text", heard}, {"final", true}, {"interrupted", true}});
    std::size_t frames = c.port.frames.size();
    c.clock->advance(2000);
    CHECK(c.port.frames.size() == frames);
}

TEST_CASE("voice call: a provider failure closes the transport as a failure, a normal end as normal") {
    SECTION("no recognizer can be built: provider_error, closed as a failure") {
        Call c(agent_with({{"first_message", "Hello."}}));
        c.port.stt_unavailable = true;
        c.start();
        CHECK(c.port.ended == "provider_error");
        CHECK(c.port.closed == CallClose::failure);
        CHECK(c.port.count("call:error") == 1);
        CHECK(c.port.frames.empty());  // nobody greets a caller the call cannot hear
    }
    SECTION("end_call: the reason the agent gave, closed as normal") {
        Call c(agent_with(), {"bye"});
        c.port.carries_marks = false;
        c.start();
        c.turn();
        c.port.answer("Goodbye!", "agent_end_call");
        c.clock->advance(200);
        CHECK(c.port.ended == "agent_end_call");
        CHECK(c.port.closed == CallClose::normal);
    }
}
