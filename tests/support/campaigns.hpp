// Test support for campaigns against the Twilio fake: the daemon's settings for the fake, a short outbound agent and
// its caller number, campaign creation, CSV import, progress polling, and what the fake dialled.
// Thread-safety: the Catch thread's.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "providers/fake/twilio_fake.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

namespace va::test {

using va::fake::TwilioFake;
using nlohmann::json;

inline TwilioFake::Options fake_options() {
    TwilioFake::Options o;
    o.ring_ms = 30;
    o.script.hang_up_after_ms = 200;  // the callee hears the greeting, then hangs up
    o.script.first_wait_ms = 4000;
    return o;
}

inline Env daemon_env(const TwilioFake& fake) {
    return {{"VOICEAGENT_TWILIO_ACCOUNT_SID", fake.options().account_sid},
            {"VOICEAGENT_TWILIO_AUTH_TOKEN", fake.options().auth_token},
            {"VOICEAGENT_TWILIO_API_BASE_URL", fake.base_url()},
            {"VOICEAGENT_JOBS_LEASE_MS", "2000"},
            {"VOICEAGENT_RECORDINGS_ENABLED", "false"}};
}

// A short outbound agent: its greeting names the person from the contact's variables.
inline void add_agent(const Api& api) {
    json a = example_agent("appointment-reminder.json");
    a["name"] = "reminder";
    a["first_message"] = "Hi {{first_name}}.";
    a["variables"] = {{"first_name", "there"}};
    a["stt"] = {{"provider", "scripted"}, {"script", json::array()}, {"endpointing_ms", 500}};
    auto created = api.post("/api/v1/agents", a);
    INFO(created.body);
    REQUIRE(created.status == 201);
    auto phone = api.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"}});
    INFO(phone.body);
    REQUIRE(phone.status == 201);
}

inline json create_campaign(const Api& api, json extra) {
    json body{{"name", "test campaign"}, {"agent_id", "reminder"}, {"from", "+15550001111"}};
    if (extra.is_object()) body.update(extra);
    auto created = api.post("/api/v1/campaigns", body);
    INFO(created.body);
    REQUIRE(created.status == 201);
    return created.json();
}

inline json import_csv(const Api& api, const std::string& id, const std::string& csv) {
    auto imported = api.raw("POST", "/api/v1/campaigns/" + id + "/contacts", csv, "text/csv");
    INFO(imported.body);
    REQUIRE(imported.status == 200);
    return imported.json();
}

inline json progress(const Api& api, const std::string& id) {
    auto p = api.get("/api/v1/campaigns/" + id + "/progress");
    REQUIRE(p.status == 200);
    return p.json();
}

inline json wait_for_status(const Api& api, const std::string& id, const std::string& status, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    json p;
    while (std::chrono::steady_clock::now() < deadline) {
        p = progress(api, id);
        if (p["status"] == status) return p;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL("campaign " << id << " did not reach " << status << ": " << p.dump());
    return p;
}

inline std::vector<json> all_contacts(const Api& api, const std::string& id) {
    std::vector<json> out;
    std::string cursor;
    while (true) {
        auto page = api.get("/api/v1/campaigns/" + id + "/contacts?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor));
        REQUIRE(page.status == 200);
        json body = page.json();
        for (auto& c : body["items"]) out.push_back(c);
        if (!body["next_cursor"].is_string()) return out;
        cursor = body["next_cursor"];
    }
}

inline std::map<std::string, int> dials_per_number(const TwilioFake& fake) {
    std::map<std::string, int> out;
    for (const auto& c : fake.calls()) ++out[c.to];
    return out;
}

inline std::string number(int i) { return "+1415555" + std::to_string(1000 + i); }

}  // namespace va::test
