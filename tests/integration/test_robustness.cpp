// Nothing a member or a provider sends may stop or freeze the daemon (issue 13): JSON nested past 64 levels in a
// REST body or a media message, an LLM stream with fields of the wrong type, and an intent pattern that made a
// backtracking engine run for minutes. Each gets a clean refusal or error, and /healthz keeps answering.
#include <catch2/catch.hpp>

#include <string>

#include "cli/ws_client.hpp"
#include "providers/fake/openai_fake.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using va::cli::WsClient;
using va::fake::OpenAiFake;
using nlohmann::json;

namespace {

// Text of JSON nested `depth` levels deep (as text: building it as a value would itself overflow the stack).
std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

json read_until(WsClient& ws, const std::string& type) {
    while (auto text = ws.read()) {
        json m = json::parse(*text, nullptr, false);
        if (m.is_object() && m.value("type", "") == type) return m;
    }
    return nullptr;
}

bool healthy(const Api& api) { return api.get("/healthz").status == 200; }

}  // namespace

TEST_CASE("robustness: JSON nested deeper than 64 levels is a 400 naming the limit, and the daemon lives") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", example_agent("receptionist.json")).status == 201);
    for (std::size_t depth : {65u, 300000u}) {
        INFO("depth " << depth);
        auto call = api.raw("POST", "/api/v1/calls/local",
                            R"({"agent_id":"receptionist","channel":"chat","variables":{"v":)" + nested(depth) + "}}",
                            "application/json");
        CHECK(call.status == 400);
        CHECK(call.json()["error"]["code"] == "invalid_request");
        CHECK(call.json()["error"]["message"].get<std::string>().find("JSON nested deeper than 64 levels") !=
              std::string::npos);
        auto agent = api.raw("POST", "/api/v1/agents", R"({"name":"deep","script":)" + nested(depth) + "}",
                             "application/json");
        CHECK(agent.status == 400);
        CHECK(agent.json()["error"]["message"].get<std::string>().find("nested deeper than 64") != std::string::npos);
        CHECK(healthy(api));
    }
    // 64 levels in all is within the limit: the call is created.
    auto within = api.raw("POST", "/api/v1/calls/local",
                          R"({"agent_id":"receptionist","channel":"chat","variables":{"v":)" + nested(62) + "}}",
                          "application/json");
    CHECK(within.status / 100 == 2);
}

TEST_CASE("robustness: a deeply nested media message closes the call with a reason, and the daemon lives") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", example_agent("receptionist.json")).status == 201);
    // Each channel gets a message it reads: the voice channel a mark whose name is nested (daemons before the limit
    // dumped that name to echo it, and overflowed the stack), the chat channel a text line.
    for (auto [channel, member] : {std::pair{"local", R"({"type":"mark","name":)"},
                                   std::pair{"chat", R"({"type":"text","text":)"}}) {
        INFO(channel);
        auto created = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", channel}}).json();
        WsClient media(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
        media.send_text(member + nested(300000) + "}");
        auto error = read_until(media, "error");
        REQUIRE(error.is_object());
        // Required: a daemon that answered otherwise may keep the socket open, and the reads below would wait.
        REQUIRE(error["message"] == "JSON nested deeper than 64 levels");
        while (media.read()) {
        }
        CHECK(media.close_reason() == "JSON nested deeper than 64 levels");
        auto call = wait_for_call(api, created["call"]["id"], "completed");
        CHECK(call["end_reason"] == "protocol_error");
        CHECK(healthy(api));
    }
}

TEST_CASE("robustness: an LLM stream with wrongly typed fields fails the turn, and the call and daemon go on") {
    OpenAiFake::Options o;
    o.replies = {{"We are open from nine to five.", "", json::object()}};
    OpenAiFake fake(o);
    DaemonProcess d{{{"VOICEAGENT_OPENAI_API_KEY", o.api_key}, {"VOICEAGENT_OPENAI_BASE_URL", fake.base_url()}}};
    Api api(d.base_url(), d.admin_key());
    json agent{{"name", "oa"},
               {"system_prompt", "You are a test agent."},
               {"llm", {{"provider", "openai"}, {"model", "fake-model"}}}};
    REQUIRE(api.post("/api/v1/agents", agent).status == 201);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "oa"}, {"channel", "chat"}}).json();
    WsClient chat(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    REQUIRE(read_until(chat, "listening").is_object());
    for (const char* chunk : {R"({"choices":[{"delta":{"tool_calls":[{"index":"zero","function":{"name":"x"}}]}}]})",
                              R"({"choices":5})", R"({"choices":[{"delta":[]}]})",
                              R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":5}}]}}]})"}) {
        INFO(chunk);
        OpenAiFake::Fault f;
        f.kind = OpenAiFake::Fault::raw_chunk;
        f.chunk = chunk;
        fake.push_fault(f);
        chat.send_text(R"({"type":"text","text":"when are you open?"})");
        auto error = read_until(chat, "error");
        REQUIRE(error.is_object());
        CHECK(error["message"].get<std::string>().find("could not answer") != std::string::npos);
        REQUIRE(read_until(chat, "listening").is_object());
        CHECK(healthy(api));
    }
    // The same call answers once the server behaves.
    chat.send_text(R"({"type":"text","text":"when are you open?"})");
    auto reply = read_until(chat, "agent");
    REQUIRE(reply.is_object());
    CHECK(reply["text"] == "We are open from nine to five.");
}

TEST_CASE("robustness: an intent pattern with catastrophic backtracking neither freezes the call nor /healthz") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    json agent{{"name", "redos"},
               {"llm", {{"provider", "scripted"}}},
               {"script", {{"fallback", "Sorry, I did not get that."},
                           {"intents", {{{"name", "as"}, {"pattern", "^(a+)+$"}, {"reply", "All a."}}}}}}};
    REQUIRE(api.post("/api/v1/agents", agent).status == 201);
    // A pattern RE2 cannot run in linear time is refused when the agent is saved, naming the field.
    json backref = agent;
    backref["name"] = "backref";
    backref["script"]["intents"][0]["pattern"] = "(a)\\1";
    auto refused = api.post("/api/v1/agents", backref);
    CHECK(refused.status == 422);
    CHECK(refused.names_field("/script/intents/0/pattern"));

    auto created = api.post("/api/v1/calls/local", {{"agent_id", "redos"}, {"channel", "chat"}}).json();
    WsClient chat(d.base_url() + created["media_url"].get<std::string>(), d.admin_key());
    REQUIRE(read_until(chat, "listening").is_object());
    // std::regex needed 2^40 steps for this line, on the I/O thread: every call and /healthz stood still.
    chat.send_text(R"({"type":"text","text":")" + std::string(40, 'a') + "b\"}");
    CHECK(healthy(api));
    auto reply = read_until(chat, "agent");
    REQUIRE(reply.is_object());
    CHECK(reply["text"] == "Sorry, I did not get that.");
    chat.send_text(R"({"type":"text","text":")" + std::string(40, 'a') + "\"}");
    auto matched = read_until(chat, "agent");
    REQUIRE(matched.is_object());
    CHECK(matched["text"] == "All a.");
    CHECK(healthy(api));
}
