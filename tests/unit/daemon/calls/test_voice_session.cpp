// The voice session over a carrier's media stream (Twilio: mu-law 8 kHz in JSON text frames), deterministic: a fake
// connection runs the session's strand, timers and blocking work on a virtual clock, and the tone TTS speaks. What
// the agent sends on the wire is checked against what the call's recording keeps of it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iterator>

#include "core/audio/g711.hpp"
#include "core/audio/wav.hpp"
#include "core/store/store.hpp"
#include "core/util/encoding.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "daemon/calls/call_manager.hpp"
#include "providers/local/scripted_llm.hpp"
#include "providers/local/scripted_stt.hpp"
#include "providers/tone/tone_tts.hpp"
#include "providers/twilio/media_codec.hpp"
#include "support/virtual_connection.hpp"

using namespace va;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The carrier's side of the media WebSocket: keeps every message the session sends; the test moves the clock.
class CarrierConnection final : public test::VirtualConnection {
public:
    std::vector<json> sent;
    int binary = 0;  // Twilio media is JSON text: none expected

    void send_text(std::string message) override { sent.push_back(json::parse(message)); }
    void send_binary(std::string) override { ++binary; }
    void close(int, std::string) override {}
};

}  // namespace

TEST_CASE("voice session: the agent's mu-law on a Twilio call reaches the recording's agent channel decoded") {
    fs::path dir = fs::temp_directory_path() / ("va-recording-" + new_id("t"));
    {
        auto store = std::move(open_sqlite_store({":memory:", 1000, 1})).value();
        EventBus events;
        MetricsRegistry metrics;
        CallManager calls(*store, events, metrics);
        calls.add_llm("scripted", local::scripted_llm_factory());
        calls.add_tts("tone", tone::tone_tts_factory());
        calls.add_stt("scripted", local::scripted_stt_factory());
        calls.set_recordings(dir.string(), true, 0);
        Workspace ws{new_id("ws"), "w", now_ms()};
        REQUIRE(store->create_workspace(ws));
        json definition{{"name", "a"},
                        {"first_message", "Hello there, thank you for calling."},
                        {"tts", {{"provider", "tone"}}},
                        {"stt", {{"provider", "scripted"}}},
                        {"script", {{"fallback", "Sorry?"}}}};
        Agent agent{new_id("agt"), ws.id, "a", definition.dump(), 1, now_ms(), now_ms(), ""};
        REQUIRE(store->create_agent(agent));
        CallManager::CallSpec spec;
        spec.channel = "twilio";
        spec.caller_lines = {"hello"};
        auto call = calls.create_call(agent, spec);
        REQUIRE(call);
        auto handler = calls.attach_carrier_media(call->id, twilio::make_media_codec());
        REQUIRE(handler);
        auto session = std::move(handler).value();
        auto conn = std::make_shared<CarrierConnection>();
        session->on_open(conn);
        session->on_text(json{{"event", "start"}, {"start", {{"streamSid", "MZ1"}, {"callSid", "CA1"}}}}.dump());
        conn->advance(3000);  // the greeting (six words of tone: 360 ms) plays out
        session->on_text(json{{"event", "stop"}, {"streamSid", "MZ1"}}.dump());
        conn->advance(0);
        session->on_close();

        // What the caller was sent: the payloads of the media messages, in order, decoded.
        std::vector<std::int16_t> sent;
        for (const auto& m : conn->sent) {
            if (m.value("event", "") != "media") continue;
            auto bytes = base64_decode(m["media"]["payload"].get<std::string>());
            REQUIRE(bytes);
            CHECK(bytes->size() == 160);  // 20 ms frames at 8 kHz, one byte a sample
            for (char b : *bytes) sent.push_back(g711::ulaw_to_linear(std::uint8_t(b)));
        }
        CHECK(conn->binary == 0);
        REQUIRE(sent.size() >= 2000);  // 360 ms at 8 kHz is 2880 samples
        REQUIRE(std::count_if(sent.begin(), sent.end(), [](std::int16_t s) { return std::abs(s) > 4000; }) > 500);

        auto wav = read_wav(calls.recording_path(call->id));
        REQUIRE(wav);
        CHECK(wav->sample_rate == 8000);
        REQUIRE(wav->channels == 2);
        std::vector<std::int16_t> caller, agent_channel;
        for (std::size_t i = 0; i + 1 < wav->samples.size(); i += 2) {
            caller.push_back(wav->samples[i]);
            agent_channel.push_back(wav->samples[i + 1]);
        }
        CHECK(std::all_of(caller.begin(), caller.end(), [](std::int16_t s) { return s == 0; }));  // the caller sent nothing
        // The agent channel holds the sent audio sample for sample, in order. Frames are laid down at the wall
        // clock's instant of sending, so a slow machine may open gaps of silence between them (and the last frame's
        // padding is not audio): the comparison is of the samples that are not silence.
        auto sound = [](const std::vector<std::int16_t>& pcm) {
            std::vector<std::int16_t> out;
            std::copy_if(pcm.begin(), pcm.end(), std::back_inserter(out), [](std::int16_t s) { return s != 0; });
            return out;
        };
        CHECK(sound(agent_channel) == sound(sent));
        auto first = std::find_if(agent_channel.begin(), agent_channel.end(), [](std::int16_t s) { return s != 0; });
        CHECK(first - agent_channel.begin() < 8000);  // within the call's first second
    }
    fs::remove_all(dir);
}
