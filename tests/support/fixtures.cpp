#include "support/fixtures.hpp"

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "cli/ws_client.hpp"
#include "providers/fake/speech.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <stdexcept>

namespace va::test {

using nlohmann::json;

json example_agent(const std::string& file) {
    std::string path = std::string(VA_SOURCE_DIR) + "/examples/agents/" + file;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    return json::parse(in);
}

void create_owner_user(const DaemonProcess& daemon, const std::string& email, const std::string& password) {
    auto r = Api(daemon.base_url(), daemon.admin_key())
                 .post("/api/v1/users", {{"email", email}, {"password", password}, {"role", "owner"}});
    INFO("POST /api/v1/users (owner) answered " << r.status << ": " << r.body);
    REQUIRE(r.status == 201);
}

json owner_login(const DaemonProcess& daemon, const std::string& email, const std::string& password) {
    create_owner_user(daemon, email, password);
    auto r = Api(daemon.base_url()).post("/api/v1/auth/login", {{"email", email}, {"password", password}});
    INFO("login answered " << r.status << ": " << r.body);
    REQUIRE(r.status == 200);
    return r.json();
}

std::string create_user_token(const DaemonProcess& daemon, const Api& admin, const std::string& email,
                              const std::string& role) {
    std::string password = "password-" + role;
    auto created = admin.post("/api/v1/users", {{"email", email}, {"password", password}, {"role", role}});
    INFO("POST /api/v1/users (" << role << ") answered " << created.status << ": " << created.body);
    REQUIRE(created.status == 201);
    auto login = Api(daemon.base_url()).post("/api/v1/auth/login", {{"email", email}, {"password", password}});
    INFO("login answered " << login.status << ": " << login.body);
    REQUIRE(login.status == 200);
    return login.json()["access_token"];
}

std::string user_id_by_email(const Api& admin, const std::string& email) {
    auto users = admin.get("/api/v1/users?limit=500").json();
    if (users.is_discarded() || !users.contains("items")) return "";
    for (const auto& u : users["items"])
        if (u.value("email", "") == email) return u["id"];
    return "";
}

json wait_for_call_until(const Api& api, const std::string& id, const std::function<bool(const json&)>& done) {
    json call;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
        call = api.get("/api/v1/calls/" + id).json();
        if (!call.is_discarded() && done(call)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    } while (std::chrono::steady_clock::now() < until);
    return call;
}

json wait_for_call(const Api& api, const std::string& id, const std::string& status) {
    return wait_for_call_until(api, id, [&](const json& c) { return c.value("status", "") == status; });
}

json wait_for_carrier_duration(const Api& api, const std::string& id, double duration_s) {
    return wait_for_call_until(api, id, [&](const json& c) {
        return c.value("status", "") == "completed" && c.value("duration_s", -1.0) == duration_s;
    });
}

std::string chat_call(const DaemonProcess& daemon, const Api& api, const std::string& agent,
                      const std::vector<std::string>& lines) {
    auto created = api.post("/api/v1/calls/local", {{"agent_id", agent}, {"channel", "chat"}}).json();
    REQUIRE(created.contains("media_url"));
    va::cli::WsClient chat(daemon.base_url() + created["media_url"].get<std::string>(), daemon.admin_key());
    REQUIRE(chat.read());
    for (const auto& line : lines) {
        chat.send_text(json{{"type", "text"}, {"text", line}}.dump());
        while (auto m = chat.read())
            if (json::parse(*m, nullptr, false).value("type", "") == "agent") break;
    }
    chat.send_text(R"({"type":"hangup"})");
    while (chat.read()) {
    }
    // The socket closes before the store writer has written the end; the turns were queued before it, so once
    // the call reads ended they are all there to read.
    std::string id = created["call"]["id"];
    auto ended = wait_for_call_until(api, id, [](const json& c) { return !c.value("ended_at", json()).is_null(); });
    REQUIRE_FALSE(ended.value("ended_at", json()).is_null());
    return id;
}

std::vector<std::string> turn_texts(const Api& api, const std::string& call_id) {
    std::vector<std::string> out;
    json transcript = api.get("/api/v1/calls/" + call_id + "/transcript").json();
    for (const auto& t : transcript["items"]) out.push_back(t["role"].get<std::string>() + ": " + t["text"].get<std::string>());
    return out;
}

json call_by_provider_id(const Api& api, const std::string& provider_call_id) {
    json calls = api.get("/api/v1/calls?limit=50").json();
    for (const auto& c : calls["items"])
        if (c.value("provider_call_id", "") == provider_call_id) return c;
    return nullptr;
}

std::vector<std::int16_t> espeak_pcm(const std::string& text, int rate, const std::string&) {
    auto audio = va::fake::caller_speech(text, rate);
    if (!audio) throw std::runtime_error(audio.error().message);
    return std::move(audio).value();
}

}  // namespace va::test
