// Calls whose agent thinks with an OpenAI-compatible server (the fake, by configuration): a chat call streams
// the reply's tokens, a voice call speaks it sentence by sentence, a tool call ends the call, and a failing server
// becomes a call:error and a spoken apology instead of silence. The key never reaches a log line.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <thread>

#include "cli/ws_client.hpp"
#include "providers/fake/openai_fake.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using va::cli::WsClient;
using va::fake::OpenAiFake;
using nlohmann::json;

namespace {

json openai_agent(const std::string& name) {
    return {{"name", name},
            {"first_message", "Hello."},
            {"system_prompt", "You are a test agent."},
            {"llm", {{"provider", "openai"}, {"model", "fake-model"}}},
            {"stt", {{"provider", "scripted"}}},
            {"tts", {{"provider", "tone"}}},
            {"tools", {{{"type", "end_call"}, {"description", "End the call."}}}}};
}

// Reads text messages until one of `type` (null when the socket closes first); records every type seen, and the
// streamed text of agent_delta messages.
json read_until(WsClient& ws, const std::string& type, std::vector<std::string>& seen, std::string* deltas = nullptr) {
    while (auto m = ws.read_message()) {
        if (m->binary) continue;
        json j = json::parse(m->data, nullptr, false);
        seen.push_back(j.value("type", ""));
        if (deltas && seen.back() == "agent_delta") *deltas += j.value("text", "");
        if (seen.back() == type) return j;
    }
    return nullptr;
}

}  // namespace

TEST_CASE("openai: a chat call streams the model's reply, and an end_call tool ends the call") {
    OpenAiFake::Options o;
    o.replies = {{"We are open from nine to five.", "", json::object()},
                 {"Goodbye!", "end_call", json::object()}};
    OpenAiFake fake(o);
    DaemonProcess d{{{"VOICEAGENT_OPENAI_API_KEY", o.api_key}, {"VOICEAGENT_OPENAI_BASE_URL", fake.base_url()}}};
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", openai_agent("oa")).status == 201);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "oa"}, {"channel", "chat"}}).json();
    WsClient chat(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    std::vector<std::string> seen;
    REQUIRE(read_until(chat, "listening", seen).is_object());
    chat.send_text(R"({"type":"text","text":"when are you open?"})");
    std::string deltas;
    auto agent = read_until(chat, "agent", seen, &deltas);
    REQUIRE(agent.is_object());
    CHECK(agent["text"] == "We are open from nine to five.");
    // Streamed before the whole reply (pieces that arrive together may come as one delta).
    CHECK(std::count(seen.begin(), seen.end(), "agent_delta") >= 1);
    CHECK(deltas == "We are open from nine to five.");
    json sent = fake.last_request();
    CHECK(sent["messages"][0]["content"] == "You are a test agent.");
    CHECK(sent["messages"].back()["content"] == "when are you open?");
    CHECK(sent["tools"][0]["function"]["name"] == "end_call");
    REQUIRE(read_until(chat, "listening", seen).is_object());
    chat.send_text(R"({"type":"text","text":"thanks, bye"})");
    auto end = read_until(chat, "end", seen);
    REQUIRE(end.is_object());
    CHECK(end["reason"] == "agent_end_call");
}

TEST_CASE("openai: a voice call speaks the model's reply, and a failing server gets an apology and a call:error") {
    OpenAiFake::Options o;
    o.replies = {{"Sure. I can help with that. What day works for you?", "", json::object()}};
    OpenAiFake fake(o);
    DaemonProcess d{{{"VOICEAGENT_OPENAI_API_KEY", o.api_key}, {"VOICEAGENT_OPENAI_BASE_URL", fake.base_url()}}};
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", openai_agent("ov")).status == 201);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "ov"}, {"channel", "local"},
                                                    {"caller_lines", {"book me in", "and again"}}}).json();
    std::string id = created["call"]["id"];
    WsClient events(d.base_url() + "/api/v1/events?call_id=" + id, d.admin_key());
    REQUIRE(events.read());  // subscribed
    WsClient media(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    std::vector<std::string> seen;
    REQUIRE(read_until(media, "listening", seen).is_object());
    auto talk = [&] {
        std::string silence(640 * 20, '\0'), voice(640, '\0');
        for (int i = 0; i < 320; ++i) {
            auto s = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 300.0 * i / 16000.0));
            std::memcpy(voice.data() + 2 * i, &s, 2);
        }
        for (int f = 0; f < 20; ++f) {
            media.send_binary(std::string(640, '\0'));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        for (int f = 0; f < 30; ++f) {
            media.send_binary(voice);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        for (int f = 0; f < 60; ++f) {
            media.send_binary(std::string(640, '\0'));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    };
    talk();
    auto agent = read_until(media, "agent", seen);
    REQUIRE(agent.is_object());
    CHECK(agent["text"] == "Sure. I can help with that. What day works for you?");
    REQUIRE(read_until(media, "listening", seen).is_object());
    // Now the server fails, past its retries: the caller hears an apology, not silence.
    for (int i = 0; i < 3; ++i) fake.push_fault({OpenAiFake::Fault::status, 503, "0", "", "", 0, {}});
    talk();
    auto apology = read_until(media, "agent", seen);
    REQUIRE(apology.is_object());
    CHECK(apology["text"] == "Sorry, I am having trouble answering right now.");
    media.send_text(R"({"type":"hangup"})");
    read_until(media, "end", seen);
    bool error_event = false;
    while (auto text = events.read()) {
        json e = json::parse(*text);
        if (e["type"] == "call:error") error_event = e["data"]["message"].get<std::string>().find("503") != std::string::npos;
        if (e["type"] == "call:ended") break;
    }
    CHECK(error_event);
    auto call = wait_for_call(api, id, "completed");
    CHECK(call["metrics"]["turns"][0].contains("llm_first_token_ms"));
    // The key is a secret: never in the daemon's log.
    CHECK(d.log().find(o.api_key) == std::string::npos);
}
