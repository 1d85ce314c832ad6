// Chat calls end to end: vactl chat, the media WebSocket protocol and its bad input, live events in order,
// hang-up from the API, and the stored transcript.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/client.hpp"
#include "cli/ws_client.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using va::cli::WsClient;
using nlohmann::json;

namespace {

json receptionist() { return example_agent("receptionist.json"); }

// Reads messages until one of `type` arrives (returned) or the connection closes (null).
json read_until(WsClient& ws, const std::string& type, std::vector<json>* seen = nullptr) {
    while (auto text = ws.read()) {
        json m = json::parse(*text);
        if (seen) seen->push_back(m);
        if (m.value("type", "") == type) return m;
    }
    return nullptr;
}

std::string ws_url(const DaemonProcess& d, const std::string& path) { return d.base_url() + path; }

}  // namespace

TEST_CASE("chat: vactl chat holds a conversation and the transcript is stored") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", receptionist()).status == 201);
    std::string config_home = make_temp_dir("va-chat");
    auto chat = run_process({VA_VACTL_PATH, "--server", d.base_url(), "chat", "receptionist"},
                            {{"XDG_CONFIG_HOME", config_home}, {"VOICEAGENT_DATA_DIR", d.data_dir()}},
                            "what are your hours\ncan I cancel my appointment\nthank you goodbye\n");
    std::filesystem::remove_all(config_home);
    INFO(chat.err);
    REQUIRE(chat.exit_code == 0);
    CHECK(chat.out.find("agent: Hello, thank you for calling Bright Smile Dental.") == 0);
    CHECK(chat.out.find("agent: We are open Monday to Friday") != std::string::npos);
    CHECK(chat.out.find("agent: No problem, I have cancelled your appointment.") != std::string::npos);
    CHECK(chat.out.find("agent: Thank you for calling Bright Smile Dental. Goodbye!") != std::string::npos);
    CHECK(chat.err.find("call ended: agent_end_call") != std::string::npos);

    auto calls = api.get("/api/v1/calls").json()["items"];
    REQUIRE(calls.size() == 1);
    CHECK(calls[0]["channel"] == "chat");
    CHECK(calls[0]["status"] == "completed");
    CHECK(calls[0]["end_reason"] == "agent_end_call");
    CHECK(calls[0]["metrics"]["turns"].size() == 3);
    auto turns = api.get("/api/v1/calls/" + calls[0]["id"].get<std::string>() + "/transcript").json()["items"];
    REQUIRE(turns.size() == 7);
    std::vector<std::string> roles;
    for (auto& t : turns) roles.push_back(t["role"]);
    CHECK(roles == std::vector<std::string>{"agent", "user", "agent", "user", "agent", "user", "agent"});
    CHECK(turns[1]["text"] == "what are your hours");
    for (std::size_t i = 0; i < turns.size(); ++i) CHECK(turns[i]["seq"] == i + 1);
}

TEST_CASE("chat: events arrive in order on the event WebSocket") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", receptionist()).status == 201);
    WsClient events(ws_url(d, "/api/v1/events"), d.admin_key());
    REQUIRE(read_until(events, "subscribed").is_object());

    auto created = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "chat"}});
    REQUIRE(created.status == 201);
    std::string call_id = created.json()["call"]["id"];
    CHECK(created.json()["call"]["status"] == "queued");
    {
        WsClient media(ws_url(d, created.json()["media_url"]), d.admin_key());
        std::vector<json> seen;
        REQUIRE(read_until(media, "listening", &seen).is_object());
        CHECK(seen.front()["type"] == "start");
        media.send_text(R"({"type":"text","text":"goodbye"})");
        auto end = read_until(media, "end");
        REQUIRE(end.is_object());
        CHECK(end["reason"] == "agent_end_call");
    }
    std::vector<std::string> sequence;
    while (sequence.size() < 8) {
        auto text = events.read();
        REQUIRE(text);
        json e = json::parse(*text);
        CHECK(e["call_id"] == call_id);
        std::string entry = e["type"];
        if (e["type"] == "call:transcript") entry += ":" + e["data"]["role"].get<std::string>();
        if (e["type"] == "call:status") entry += ":" + e["data"]["status"].get<std::string>();
        sequence.push_back(entry);
    }
    CHECK(sequence == std::vector<std::string>{"call:status:queued", "call:started", "call:status:in-progress",
                                               "call:transcript:agent", "call:transcript:user", "call:transcript:agent",
                                               "call:status:completed", "call:ended"});
}

TEST_CASE("chat: bad input over the media WebSocket gets clear errors and the call goes on") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", receptionist()).status == 201);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "chat"}}).json();
    std::string media_url = created["media_url"];

    // Authentication and ownership come before the upgrade.
    CHECK_THROWS_AS(WsClient(ws_url(d, media_url), "garbage"), va::cli::CliError);
    CHECK(api.with_token("").get(media_url).status == 404);  // not an upgrade: no such HTTP route
    CHECK_THROWS_AS(WsClient(ws_url(d, "/media/local/call_missing"), d.admin_key()), va::cli::CliError);

    WsClient media(ws_url(d, media_url), d.admin_key());
    REQUIRE(read_until(media, "listening").is_object());
    try {
        WsClient second(ws_url(d, media_url), d.admin_key());
        FAIL("a second media connection was accepted");
    } catch (const va::cli::CliError& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find("409") != std::string::npos);
    }
    for (const char* bad : {"not json", "[1,2]", R"({"type":5})", R"({"type":"dance"})", R"({"type":"text"})",
                            R"({"type":"text","text":""})"}) {
        media.send_text(bad);
        auto error = read_until(media, "error");
        REQUIRE(error.is_object());
        CHECK_FALSE(error["message"].get<std::string>().empty());
    }
    media.send_text(R"({"type":"text","text":"what are your hours"})");
    auto reply = read_until(media, "agent");
    REQUIRE(reply.is_object());
    CHECK(reply["text"].get<std::string>().find("We are open") == 0);

    // Hang-up from the API ends the call with its reason.
    CHECK(api.post("/api/v1/calls/" + created["call"]["id"].get<std::string>() + "/hangup", json::object()).status == 202);
    auto end = read_until(media, "end");
    REQUIRE(end.is_object());
    CHECK(end["reason"] == "api_hangup");
    CHECK_FALSE(media.read());  // closed by the daemon
    json call;
    for (int i = 0; i < 50; ++i) {  // the end is stored when the session sees the close
        call = api.get("/api/v1/calls/" + created["call"]["id"].get<std::string>()).json();
        if (call["status"] == "completed") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(call["status"] == "completed");
    CHECK(call["end_reason"] == "api_hangup");
    CHECK_THROWS_AS(WsClient(ws_url(d, media_url), d.admin_key()), va::cli::CliError);  // ended calls stay ended
}

TEST_CASE("chat: creating calls validates input, and a vanished caller completes the call") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", receptionist()).status == 201);
    CHECK(api.post("/api/v1/calls/local", {{"agent_id", "nobody"}, {"channel", "chat"}}).status == 400);
    CHECK(api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "fax"}}).status == 400);
    CHECK(api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"variables", "x"}}).status == 400);
    CHECK(api.post("/api/v1/calls/local", {{"channel", "chat"}}).status == 400);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "chat"}}).json();
    std::string id = created["call"]["id"];
    {
        WsClient media(ws_url(d, created["media_url"]), d.admin_key());
        REQUIRE(read_until(media, "listening").is_object());
    }  // the client goes away without hanging up
    json call;
    for (int i = 0; i < 100; ++i) {
        call = api.get("/api/v1/calls/" + id).json();
        if (call["status"] == "completed") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(call["status"] == "completed");
    CHECK(call["end_reason"] == "caller_disconnected");
    // A call that never connected is canceled by a hang-up.
    auto never = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "chat"}}).json();
    CHECK(api.post("/api/v1/calls/" + never["call"]["id"].get<std::string>() + "/hangup", json::object()).status == 202);
    CHECK(api.get("/api/v1/calls/" + never["call"]["id"].get<std::string>()).json()["status"] == "canceled");
}
