// A phone call through every cloud protocol at once, each served by its fake and reached by configuration only:
// the Twilio fake calls in -> the daemon -> Deepgram (live recognition of the caller's espeak-ng speech) -> OpenAI
// (which calls an HTTP tool on a local server, then answers with the tool's result) -> ElevenLabs (stream-input,
// until it starts failing mid-call, when the call falls back to OpenAI's speech) -> the caller. Every key is set,
// and none of them may appear in the daemon's log, its events or its API answers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "cli/ws_client.hpp"
#include "core/audio/vad.hpp"
#include "providers/fake/deepgram_fake.hpp"
#include "providers/fake/elevenlabs_fake.hpp"
#include "providers/fake/openai_fake.hpp"
#include "providers/fake/twilio_fake.hpp"
#include "support/daemon_process.hpp"
#include "support/eventually.hpp"
#include "support/fixtures.hpp"
#include "support/http_capture_server.hpp"

using namespace va::test;
using va::fake::CallerScript;
using va::fake::DeepgramFake;
using va::fake::ElevenLabsFake;
using va::fake::OpenAiFake;
using va::fake::TwilioFake;
using nlohmann::json;

namespace {

constexpr const char* kToolSecret = "crm-secret-7d1f";

// The business's own API, which the agent's tool calls. It answers only once `release` holds (the agent's filler
// has gone to speech): slow on purpose, held by the test rather than for a fixed time a slow machine could outlast.
struct OrderApi {
    std::function<bool()> release;
    HttpCaptureServer server;  // last: stopped before `release` is destroyed

    explicit OrderApi(std::function<bool()> release_when) : release(std::move(release_when)) {
        server.route("GET", R"(/orders/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
            eventually(release, std::chrono::seconds(60));
            res.set_content(req.matches[1].str() + " has shipped and arrives on friday", "text/plain");
        });
        server.start();
    }
    // Each request as "path Authorization".
    std::vector<std::string> seen() const {
        std::vector<std::string> out;
        for (const auto& r : server.requests()) out.push_back(r.path + " " + r.header("Authorization"));
        return out;
    }
};

// Every event of the workspace, as text, collected on the client's own thread.
struct EventLog {
    va::cli::WsClient ws;
    std::mutex mutex;
    std::vector<json> events;
    std::string raw;

    EventLog(const std::string& url, const std::string& key) : ws(url, key) {
        REQUIRE(ws.read());  // subscribed
        ws.start_duplex(
            [this](va::cli::WsClient::Message m) {
                std::lock_guard lock(mutex);
                raw += m.data + "\n";
                events.push_back(json::parse(m.data, nullptr, false));
            },
            [](std::string) {});
    }
    std::vector<json> of(const std::string& type) {
        std::lock_guard lock(mutex);
        std::vector<json> out;
        for (const auto& e : events)
            if (e.is_object() && e.value("type", "") == type) out.push_back(e);
        return out;
    }
};

}  // namespace

TEST_CASE("cloud: a phone call runs on Deepgram, OpenAI with a tool, and ElevenLabs, falling back when TTS fails") {
    DeepgramFake::Options dg_options;
    dg_options.lines = {"where is my order a seventeen"};
    DeepgramFake deepgram(dg_options);
    OpenAiFake::Options oa_options;
    oa_options.replies = {{"Let me check.", "lookup_order", {{"order_id", "A17"}}},
                          {"Your order {tool_result}.", "", json::object()}};
    OpenAiFake openai(oa_options);
    ElevenLabsFake::Options el_options;
    el_options.fail_from = 2;  // the greeting is spoken, then every request fails
    ElevenLabsFake elevenlabs(el_options);
    // The filler is spoken by ElevenLabs or, once it has failed, by OpenAI's speech.
    auto filler_spoken = [&] {
        const std::string filler = "One moment.";
        for (const auto& input : openai.speech_inputs())
            if (input.find(filler) != std::string::npos) return true;
        for (const auto& stream : elevenlabs.streams())
            for (const auto& text : stream.texts)
                if (text.find(filler) != std::string::npos) return true;
        return false;
    };
    OrderApi orders(filler_spoken);
    TwilioFake twilio{TwilioFake::Options{}};

    DaemonProcess daemon{{{"VOICEAGENT_TWILIO_ACCOUNT_SID", twilio.options().account_sid},
                          {"VOICEAGENT_TWILIO_AUTH_TOKEN", twilio.options().auth_token},
                          {"VOICEAGENT_TWILIO_API_BASE_URL", twilio.base_url()},
                          {"VOICEAGENT_DEEPGRAM_API_KEY", dg_options.api_key},
                          {"VOICEAGENT_DEEPGRAM_BASE_URL", deepgram.base_url()},
                          {"VOICEAGENT_OPENAI_API_KEY", oa_options.api_key},
                          {"VOICEAGENT_OPENAI_BASE_URL", openai.base_url()},
                          {"VOICEAGENT_ELEVENLABS_API_KEY", el_options.api_key},
                          {"VOICEAGENT_ELEVENLABS_BASE_URL", elevenlabs.base_url()},
                          {"VOICEAGENT_ELEVENLABS_WS_URL", elevenlabs.ws_url()},
                          {"VOICEAGENT_TOOLS_ALLOWED_NETWORKS", "127.0.0.1"},
                          {"VOICEAGENT_TOOL_SECRET_CRM_TOKEN", kToolSecret},
                          {"VOICEAGENT_TOOL_SECRET_CRM_TOKEN_HOSTS", "127.0.0.1"}}};
    Api api(daemon.base_url(), daemon.admin_key());
    json agent = json::parse(R"({
        "name": "orders",
        "first_message": "Hello, this is the order line.",
        "system_prompt": "You answer questions about orders.",
        "llm": {"provider": "openai", "model": "gpt-4o-mini"},
        "stt": {"provider": "deepgram", "model": "nova-2"},
        "tts": {"provider": "elevenlabs", "voice": "voice-1",
                "fallbacks": [{"provider": "openai", "voice": "alloy"}, {"provider": "espeak-ng"}]},
        "tools": [{"type": "http", "name": "lookup_order", "description": "Look up an order by its id.",
                   "method": "GET", "headers": {"Authorization": "Bearer {{secret:crm_token}}"},
                   "parameters": {"type": "object", "required": ["order_id"],
                                  "properties": {"order_id": {"type": "string", "minLength": 1}}},
                   "timeout_ms": 30000, "filler": "One moment."},
                  {"type": "end_call"}]})");
    agent["tools"][0]["url"] = orders.server.url("/orders/{order_id}");
    auto created = api.post("/api/v1/agents", agent);
    INFO(created.body);
    REQUIRE(created.status == 201);
    REQUIRE(api.post("/api/v1/phones", {{"number", "+15550002222"}, {"provider", "twilio"},
                                        {"agent_id", created.json()["id"]}}).status == 201);
    EventLog events(daemon.base_url() + "/api/v1/events", daemon.admin_key());

    std::string dir = make_temp_dir("va-cloud");
    CallerScript script;
    script.turns.push_back({espeak_pcm("where is my order a seventeen", 8000, dir), "", -1, -1});
    script.hang_up_after_ms = 2500;
    auto sid = twilio.place_inbound(daemon.base_url() + "/api/v1/webhooks/twilio/voice", "+15557654321", "+15550002222", script);
    REQUIRE(sid);
    auto call = twilio.wait_for_end(*sid, std::chrono::seconds(60));
    REQUIRE(call);
    INFO("violations: " << json(call->caller.violations).dump());
    CHECK(call->caller.violations.empty());
    CHECK(call->caller.ended_by == "caller");
    CHECK(va::level_dbfs(call->caller.heard) > -40);
    // The agent spoke again after the caller's turn (the reply, its filler covering the slow tool: the order of
    // the words is checked in the transcript below). How long the silences last is for benchmarks, not for a test.
    json spans = json::array();
    for (const auto& span : call->caller.spans) spans.push_back({span.start_ms, span.end_ms});
    INFO("heard: " << spans.dump());
    REQUIRE(!call->caller.turn_end_ms.empty());
    CHECK(std::any_of(call->caller.spans.begin(), call->caller.spans.end(),
                      [&](const va::fake::HeardSpan& s) { return s.start_ms >= call->caller.turn_end_ms[0]; }));

    json stored = call_by_provider_id(api, *sid);
    REQUIRE(stored.is_object());
    std::string id = stored["id"];
    stored = wait_for_call(api, id, "completed");
    auto turns = turn_texts(api, id);
    INFO(json(turns).dump());
    REQUIRE(turns.size() >= 3);
    CHECK(turns[0] == "agent: Hello, this is the order line.");
    CHECK(turns[1] == "user: where is my order a seventeen");
    CHECK(turns[2] == "agent: Let me check. One moment. Your order A17 has shipped and arrives on friday.");

    // Deepgram heard Twilio's own mu-law and was closed gracefully at hang-up.
    auto listened = deepgram.connections();
    REQUIRE(listened.size() == 1);
    CHECK(listened[0].encoding == "mulaw");
    CHECK(listened[0].sample_rate == 8000);
    CHECK(listened[0].violations.empty());
    for (int i = 0; i < 100 && !deepgram.connections()[0].close_stream; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(deepgram.connections()[0].close_stream);

    // The tool ran once, with the secret from the daemon's configuration, and the model read its answer.
    CHECK(orders.seen() == std::vector<std::string>{std::string("/orders/A17 Bearer ") + kToolSecret});
    CHECK(openai.requests() == 2);
    json second = openai.last_request();
    const json& tool_message = second["messages"].back();
    CHECK(tool_message["role"] == "tool");
    CHECK(tool_message["content"] == "A17 has shipped and arrives on friday");

    // ElevenLabs spoke the greeting in Twilio's format, then failed; OpenAI's speech took over mid-call.
    auto streams = elevenlabs.streams();
    REQUIRE(!streams.empty());
    CHECK(streams[0].output_format == "ulaw_8000");
    CHECK(streams[0].texts.at(0) == "Hello, this is the order line. ");
    CHECK(openai.speech_requests() >= 1);
    json metrics = stored["metrics"];
    INFO(metrics.dump());
    REQUIRE(metrics["fallbacks"].size() == 1);
    CHECK(metrics["fallbacks"][0]["stage"] == "tts");
    CHECK(metrics["fallbacks"][0]["provider"] == "elevenlabs");
    CHECK(metrics["fallbacks"][0]["fallback"] == "openai");
    CHECK(metrics["providers"]["stt"] == "deepgram");
    CHECK(metrics["providers"]["tts"] == "openai");
    CHECK(metrics["tools"][0]["name"] == "lookup_order");
    CHECK(metrics["tools"][0]["ok"] == true);
    REQUIRE(metrics["turns"].size() >= 1);
    for (const char* stage : {"stt_ms", "llm_first_token_ms", "tts_first_audio_ms", "voice_to_voice_ms"})
        CHECK(metrics["turns"][0].contains(stage));
    // Measured from the end of the caller's speech to the reply's first audio, two failed ElevenLabs attempts and
    // the switch to OpenAI's speech included; how long that takes is for benchmarks, not for a test.
    CHECK(metrics["turns"][0]["voice_to_voice_ms"].get<int>() > 0);
    CHECK(metrics["turns"][0]["llm_prompt_tokens"] == 24);  // the fake reports 12 and 7 per request: two requests
    CHECK(metrics["turns"][0]["llm_completion_tokens"] == 14);
    auto errors = events.of("call:error");
    REQUIRE(!errors.empty());
    CHECK(errors[0]["data"]["stage"] == "tts");
    CHECK(!events.of("call:tool").empty());

    // No key or secret anywhere: log lines, events, API answers.
    std::string answers = api.get("/api/v1/calls/" + id).body + api.get("/api/v1/calls/" + id + "/transcript").body +
                          api.get("/api/v1/agents/orders").body;
    std::string log = daemon.log();
    std::string raw_events;
    {
        std::lock_guard lock(events.mutex);
        raw_events = events.raw;
    }
    for (const std::string& secret : {dg_options.api_key, oa_options.api_key, el_options.api_key, std::string(kToolSecret),
                                      twilio.options().auth_token}) {
        INFO(secret);
        CHECK(log.find(secret) == std::string::npos);
        CHECK(raw_events.find(secret) == std::string::npos);
        CHECK(answers.find(secret) == std::string::npos);
    }
}

TEST_CASE("cloud: va-fake serves Deepgram and ElevenLabs standalone and stops cleanly on Ctrl-C") {
    auto deepgram = run_process_interrupting({VA_FAKE_PATH, "deepgram", "--api-key", "dg-standalone", "--say", "hello"}, {},
                                             "\"listening\"", 30);
    INFO(deepgram.out << deepgram.err);
    CHECK(deepgram.interrupted);
    CHECK(deepgram.exit_code == 0);
    json line = json::parse(deepgram.out.substr(0, deepgram.out.find('\n')), nullptr, false);
    CHECK(line["listening"].get<std::string>().rfind("ws://127.0.0.1:", 0) == 0);
    CHECK(line["api_key"] == "dg-standalone");

    auto eleven = run_process_interrupting({VA_FAKE_PATH, "elevenlabs", "--api-key", "xi-standalone"}, {}, "\"listening\"", 30);
    INFO(eleven.out << eleven.err);
    CHECK(eleven.interrupted);
    CHECK(eleven.exit_code == 0);
    json el = json::parse(eleven.out.substr(0, eleven.out.find('\n')), nullptr, false);
    CHECK(el["listening"].get<std::string>().rfind("http://127.0.0.1:", 0) == 0);
    CHECK(el["ws_url"].get<std::string>().rfind("ws://127.0.0.1:", 0) == 0);
}

TEST_CASE("cloud: a recognizer refused mid-call hands over to the agent's next one, which hears the caller") {
    DeepgramFake deepgram({});  // expects its own key; the daemon is given another
    DaemonProcess daemon{{{"VOICEAGENT_DEEPGRAM_API_KEY", "dg-revoked-key"},
                          {"VOICEAGENT_DEEPGRAM_BASE_URL", deepgram.base_url()}}};
    Api api(daemon.base_url(), daemon.admin_key());
    json agent = example_agent("receptionist.json");
    json offline = agent["stt"];
    agent["stt"] = {{"provider", "deepgram"}, {"fallbacks", {offline}}};
    REQUIRE(api.post("/api/v1/agents", agent).status == 201);
    std::string dir = make_temp_dir("va-stt-fallback");
    REQUIRE(std::system(("espeak-ng -w " + dir + "/question.wav 'what are your hours' >/dev/null 2>&1").c_str()) == 0);
    auto talk = run_process({VA_VACTL_PATH, "--server", daemon.base_url(), "talk", "receptionist", "--input",
                             dir + "/question.wav", "--output", dir + "/answer.wav"},
                            {{"XDG_CONFIG_HOME", dir}, {"VOICEAGENT_DATA_DIR", daemon.data_dir()}}, "", 90);
    INFO(talk.out << talk.err);
    REQUIRE(talk.exit_code == 0);
    CHECK(talk.out.find("user: what are your hours") != std::string::npos);
    CHECK(talk.out.find("agent: We are open Monday to Friday") != std::string::npos);
    CHECK(deepgram.handshakes() == 1);  // a refused key is not retried
    json calls = api.get("/api/v1/calls?limit=5").json();
    REQUIRE(calls["items"].size() == 1);
    json stored = wait_for_call(api, calls["items"][0]["id"], "completed");
    json metrics = stored["metrics"];
    INFO(metrics.dump());
    REQUIRE(metrics["fallbacks"].size() == 1);
    CHECK(metrics["fallbacks"][0]["stage"] == "stt");
    CHECK(metrics["fallbacks"][0]["provider"] == "deepgram");
    CHECK(metrics["fallbacks"][0]["fallback"] == "pocketsphinx");
    CHECK(metrics["fallbacks"][0]["message"].get<std::string>().find("401") != std::string::npos);
    CHECK(metrics["providers"]["stt"] == "pocketsphinx");
    CHECK(daemon.log().find("dg-revoked-key") == std::string::npos);
    std::filesystem::remove_all(dir);
}
