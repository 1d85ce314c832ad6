// Pipeline tests of the local audio session, deterministic: a fake connection runs the session's strand, timers and
// blocking work on a virtual clock, and zero-cost providers (scripted recognition, scripted LLM, tone TTS) stand in
// for speech. Each test states the sequence of messages the client must see for given inputs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/store/store.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "daemon/calls/call_manager.hpp"
#include "providers/local/scripted_stt.hpp"
#include "providers/local/scripted_llm.hpp"
#include "providers/tone/tone_tts.hpp"
#include "support/virtual_connection.hpp"

using namespace va;
using nlohmann::json;

namespace {

class FakeConnection final : public test::VirtualConnection {
public:
    std::vector<json> messages;       // text frames, in order
    std::vector<std::string> log;     // "agent_audio" runs and message types, in order
    std::size_t audio_frames = 0;
    bool closed = false;
    std::string close_reason;

    void send_text(std::string message) override {
        auto m = json::parse(message);
        messages.push_back(m);
        log.push_back(m.value("type", ""));
    }
    void send_binary(std::string message) override {
        CHECK(message.size() == 640);  // always whole 20 ms frames
        ++audio_frames;
        if (log.empty() || log.back() != "audio") log.push_back("audio");
    }
    void close(int, std::string reason) override {
        closed = true;
        close_reason = std::move(reason);
    }
};

struct Harness {
    std::unique_ptr<Store> store = std::move(open_sqlite_store({":memory:", 1000, 1})).value();
    EventBus events;
    MetricsRegistry metrics;
    CallManager calls{*store, events, metrics};
    std::shared_ptr<FakeConnection> conn = std::make_shared<FakeConnection>();
    std::unique_ptr<http::WsHandler> session;
    std::string call_id;
    std::string workspace_id;

    Harness(json agent, std::vector<std::string> caller_lines, const CallerMediaLimits& limits = {}) {
        calls.set_media_limits(limits);
        calls.add_llm("scripted", local::scripted_llm_factory());
        calls.add_tts("tone", tone::tone_tts_factory());
        calls.add_stt("scripted", local::scripted_stt_factory());
        Workspace ws{new_id("ws"), "w", now_ms()};
        REQUIRE(store->create_workspace(ws));
        workspace_id = ws.id;
        agent["tts"] = {{"provider", "tone"}};
        Agent a{new_id("agt"), ws.id, agent.value("name", "a"), agent.dump(), 1, now_ms(), now_ms(), ""};
        REQUIRE(store->create_agent(a));
        auto call = calls.create_local_call(a, "local", json::object(), std::move(caller_lines));
        REQUIRE(call);
        call_id = call->id;
        auto handler = calls.attach_media(ws.id, call_id);
        REQUIRE(handler);
        session = std::move(handler).value();
        session->on_open(conn);
        conn->advance(0);
    }

    // Feeds caller audio in 20 ms frames, letting virtual time run with it.
    void speak_frames(int ms, double amplitude) {
        std::string frame(640, '\0');
        for (int t = 0; t < ms; t += 20) {
            for (int i = 0; i < 320; ++i) {
                auto s = static_cast<std::int16_t>(amplitude * std::sin(2 * M_PI * 300.0 * (t * 16 + i) / 16000.0));
                std::memcpy(frame.data() + 2 * i, &s, 2);
            }
            session->on_binary(frame);
            conn->advance(20);
        }
    }
    void talk(int ms) { speak_frames(ms, 8000); }
    // `ms` of loud caller audio in 20 ms frames, all at once: no virtual time passes.
    void flood(int ms) {
        std::string frame(640, '\0');
        for (int i = 0; i < 320; ++i) {
            std::int16_t s = i % 40 < 20 ? 8000 : -8000;
            std::memcpy(frame.data() + 2 * i, &s, 2);
        }
        for (int t = 0; t < ms; t += 20) session->on_binary(frame);
        conn->drain();
    }
    void silence(int ms) { speak_frames(ms, 0); }

    // Sessions queue their writes; read once the writer has applied them.
    std::vector<CallTurn> turns() {
        calls.writer().drain();
        return store->list_turns(call_id).value();
    }
    // The n-th text message of `type` the client received (null when there is none).
    json message(const std::string& type, int n = 0) {
        for (const auto& m : conn->messages)
            if (m.value("type", "") == type && n-- == 0) return m;
        return nullptr;
    }
    Call call() {
        calls.writer().drain();
        return store->get_call(workspace_id, call_id).value();
    }
};

// The tone TTS plays 60 ms per word: this greeting lasts 2.4 s.
const std::string kGreeting =
    "Hello there and thank you for calling the clinic where we are always happy to help with bookings and "
    "questions about our opening hours and services so please tell me what you need today and I will do my best";

json agent_with(json extra) {
    json a = {{"name", "a"},
              {"first_message", kGreeting},
              {"stt", {{"provider", "scripted"}, {"endpointing_ms", 300}}},
              {"interruption", {{"enabled", true}, {"min_speech_ms", 200}}},
              {"silence", {{"timeout_ms", 3000}, {"reprompt", "Are you there?"}, {"max_reprompts", 1}}},
              {"script",
               {{"intents", {{{"name", "hours"}, {"keywords", {"hours"}}, {"reply", "We open at nine. We close at six."}},
                             {{"name", "bye"}, {"keywords", {"bye"}}, {"reply", "Goodbye!"}, {"tool", {{"name", "end_call"}}}}}},
                {"fallback", "Sorry?"}}}};
    if (extra.is_object()) a.update(extra);
    return a;
}

}  // namespace

TEST_CASE("audio session: a normal turn") {
    Harness h(agent_with(json::object()), {"what are your hours"});
    h.silence(3000);  // the greeting plays out while the caller is quiet
    CHECK(h.conn->log == std::vector<std::string>{"start", "audio", "agent", "listening"});
    h.silence(400);
    h.talk(600);
    h.silence(1500);
    // Interim words arrive while the caller speaks (a word per 300 ms piece in simulated recognition).
    std::vector<std::string> expected{"start", "audio", "agent", "listening", "interim", "interim", "interim",
                                      "user", "audio", "agent", "listening"};
    CHECK(h.conn->log == expected);
    CHECK(h.message("interim")["text"] == "what");
    CHECK(h.message("interim", 2)["text"] == "what are your");
    CHECK(h.message("user")["text"] == "what are your hours");
    CHECK(h.message("user")["source"] == "simulated");
    CHECK(h.message("agent", 1)["text"] == "We open at nine. We close at six.");
    auto turns = h.turns();
    REQUIRE(turns.size() == 3);
    CHECK(turns[1].role == "user");
    CHECK_FALSE(turns[2].interrupted);
}

TEST_CASE("audio session: barge-in clears, drops the rest and keeps what was heard") {
    Harness h(agent_with(json::object()), {"what are your hours"});
    h.silence(600);  // part of the greeting has played
    CHECK(h.conn->audio_frames > 10);
    h.talk(600);  // the caller talks over it
    REQUIRE(std::find(h.conn->log.begin(), h.conn->log.end(), "clear") != h.conn->log.end());
    auto frames_at_clear = h.conn->audio_frames;
    h.silence(200);
    CHECK(h.conn->audio_frames == frames_at_clear);  // the interrupted turn's audio never resumes
    h.silence(1500);
    // The first interim word already interrupts the agent.
    std::vector<std::string> expected{"start", "audio", "interim", "clear", "interim", "interim",
                                      "user", "audio", "agent", "listening"};
    CHECK(h.conn->log == expected);
    auto turns = h.turns();
    REQUIRE(turns.size() == 3);
    CHECK(turns[0].role == "agent");
    CHECK(turns[0].interrupted);
    CHECK(turns[0].text.size() < kGreeting.size());
    CHECK_FALSE(turns[0].text.empty());
    CHECK(kGreeting.rfind(turns[0].text, 0) == 0);
    CHECK(turns[1].text == "what are your hours");
    CHECK(turns[2].text == "We open at nine. We close at six.");
}

// A barge-in announces each turn once: the agent's cut reply (as interrupted), then the caller's words. It used to
// announce the cut reply twice, once as if the reply had been said whole.
TEST_CASE("audio session: a barge-in publishes one call:transcript for the cut reply and one for the caller's words") {
    Harness h(agent_with(json::object()), {"what are your hours"});
    std::vector<json> transcripts;  // the final ones: interim words are announced as they come
    auto id = h.events.subscribe(h.workspace_id, h.call_id, [&](const CallEvent& e) {
        if (e.type == "call:transcript" && e.data.value("final", false)) transcripts.push_back(e.data);
    });
    h.silence(600);  // part of the greeting has played
    h.talk(600);     // the caller talks over it
    h.silence(1500);
    h.events.unsubscribe(id);
    REQUIRE(transcripts.size() == 3);
    CHECK(transcripts[0]["role"] == "agent");
    CHECK(transcripts[0].value("interrupted", false));
    CHECK(h.turns().at(0).text == transcripts[0]["text"]);
    CHECK(transcripts[1]["role"] == "user");
    CHECK(transcripts[1]["text"] == "what are your hours");
    CHECK(transcripts[2]["role"] == "agent");
    CHECK(transcripts[2]["text"] == "We open at nine. We close at six.");
    CHECK_FALSE(transcripts[2].value("interrupted", false));
}

TEST_CASE("audio session: a backchannel does not interrupt") {
    Harness h(agent_with({{"interruption", {{"enabled", true}, {"min_speech_ms", 5000}}}}), {"okay"});
    h.silence(300);
    h.talk(200);  // "okay" while the greeting plays
    h.silence(3000);
    std::vector<std::string> expected{"start", "audio", "interim", "audio", "agent", "listening"};
    CHECK(h.conn->log == expected);
    auto turns = h.turns();
    REQUIRE(turns.size() == 1);  // the greeting alone: "okay" is no turn
    CHECK_FALSE(turns[0].interrupted);
    CHECK(turns[0].text == kGreeting);
}

TEST_CASE("audio session: interim words interrupt before the speech is long enough for the VAD to") {
    Harness h(agent_with({{"interruption", {{"enabled", true}, {"min_speech_ms", 5000}}}}), {"stop please"});
    h.silence(300);
    h.talk(100);  // far shorter than min_speech_ms: only the words can interrupt
    std::vector<std::string> expected{"start", "audio", "interim", "clear"};
    CHECK(h.conn->log == expected);
    CHECK(h.message("interim")["text"] == "stop");
    h.silence(1500);
    CHECK(h.message("user")["text"] == "stop please");
    auto turns = h.turns();
    REQUIRE(turns.size() >= 2);
    CHECK(turns[0].interrupted);
}

TEST_CASE("audio session: silence brings a reprompt, then a hang-up") {
    Harness h(agent_with(json::object()), {});
    h.silence(3000);  // greeting
    h.silence(3500);  // timeout: reprompt
    h.silence(4000);  // timeout again: max_reprompts reached
    std::vector<std::string> expected{"start", "audio", "agent", "listening", "audio", "agent", "listening", "end"};
    CHECK(h.conn->log == expected);
    CHECK(h.message("agent", 1)["text"] == "Are you there?");
    CHECK(h.conn->closed);
    CHECK(h.conn->close_reason == "silence_timeout");
    h.session->on_close();
    CHECK(h.call().end_reason == "silence_timeout");
    CHECK(h.call().status == "completed");
}

TEST_CASE("audio session: the end_call tool ends the call after the goodbye is played") {
    Harness h(agent_with(json::object()), {"bye"});
    h.silence(3000);
    h.talk(500);
    h.silence(2000);
    std::vector<std::string> expected{"start", "audio", "agent", "listening", "interim", "user", "audio", "agent", "end"};
    CHECK(h.conn->log == expected);
    CHECK(h.conn->close_reason == "agent_end_call");
    h.session->on_close();
    auto call = h.call();
    CHECK(call.end_reason == "agent_end_call");
    auto metrics = json::parse(call.metrics);
    REQUIRE(metrics["turns"].size() == 1);
    CHECK(metrics["turns"][0].contains("voice_to_voice_ms"));
}

TEST_CASE("audio session: caller audio running ahead of the clock is dropped beyond the allowance and counted") {
    Harness h(agent_with(json::object()), {"what are your hours"});
    h.silence(3000);  // real time: all of it is taken
    h.flood(60'000);  // a minute of audio in no time: the 2 s allowance is taken, the rest dropped
    CHECK(std::count(h.conn->log.begin(), h.conn->log.end(), "user") <= 1);
    h.session->on_text(R"({"type":"hangup"})");
    h.session->on_close();
    auto metrics = json::parse(h.call().metrics);
    INFO(metrics.dump());
    CHECK(metrics["caller_audio"]["admitted_ms"] == 5000);
    CHECK(metrics["caller_audio"]["dropped_ms"] == 58'000);
}

TEST_CASE("audio session: the per-call audio cap ends the call") {
    CallerMediaLimits limits;
    limits.max_call_audio_bytes = 2 * 32000;  // 2 s at 16 kHz
    Harness h(agent_with(json::object()), {}, limits);
    h.silence(3000);
    CHECK(h.conn->closed);
    CHECK(h.conn->close_reason == "caller_audio_limit");
    h.session->on_close();
    CHECK(h.call().end_reason == "caller_audio_limit");
}

TEST_CASE("audio session: oversized messages, long marks and floods of junk get a bounded number of errors") {
    CallerMediaLimits limits;
    limits.max_message_bytes = 4096;
    Harness h(agent_with(json::object()), {}, limits);
    h.session->on_binary(std::string(4098, '\0'));
    REQUIRE(h.message("error").is_object());
    CHECK(h.message("error")["message"].get<std::string>().find("over the limit") != std::string::npos);
    h.session->on_text(json{{"type", "mark"}, {"name", std::string(300, 'm')}}.dump());
    CHECK(h.message("error", 1)["message"].get<std::string>().find("mark name") != std::string::npos);
    CHECK(h.message("mark").is_null());  // not echoed
    for (int i = 0; i < 500; ++i) h.session->on_text(R"({"type":"dance"})");
    h.conn->drain();
    CHECK(std::count(h.conn->log.begin(), h.conn->log.end(), "error") == 20);
    h.session->on_text(R"({"type":"mark","name":"still-here"})");
    CHECK(h.message("mark")["name"] == "still-here");  // the call goes on
}
