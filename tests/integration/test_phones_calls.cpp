// Phone numbers and calls through the REST API of a real daemon: E.164 and provider validation, uniqueness,
// assignment to agents, and the call list's filters (calls cannot be created over REST without a carrier, so the
// call routes are checked empty and with unknown ids).
#include <catch2/catch.hpp>

#include <utility>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using nlohmann::json;

TEST_CASE("phones: E.164, providers, uniqueness, assignment and deletion") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    auto agent_r = api.post("/api/v1/agents", example_agent("receptionist.json"));
    REQUIRE(agent_r.status == 201);
    std::string agent = agent_r.json()["id"];

    for (const char* number : {"5551234", "+1555", "+1234567890123456", "+1-555-123-4567", "+0abc1234567", ""}) {
        INFO("number " << number);
        auto r = api.post("/api/v1/phones", {{"number", number}, {"provider", "twilio"}});
        CHECK(r.status == 400);
        CHECK(r.json()["error"]["code"] == "invalid_request");
        CHECK(r.names_field("number"));
    }
    auto bad_provider = api.post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "vonage"}});
    CHECK(bad_provider.status == 400);
    CHECK(bad_provider.names_field("provider"));
    auto no_provider = api.post("/api/v1/phones", {{"number", "+15551234567"}});
    CHECK(no_provider.status == 400);
    CHECK(no_provider.names_field("provider"));
    auto missing_agent = api.post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "twilio"},
                                                     {"agent_id", "agt_nope"}});
    // A body naming an agent the workspace does not have is bad input: 400 naming agent_id.
    CHECK(missing_agent.status == 400);
    CHECK(missing_agent.names_field("agent_id"));
    CHECK(api.get("/api/v1/phones").json()["items"].empty());  // nothing was half-created

    auto created = api.post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "twilio"}, {"label", "main"}});
    REQUIRE(created.status == 201);
    auto phone = created.json();
    std::string id = phone["id"];
    CHECK(phone["number"] == "+15551234567");
    CHECK(phone["provider"] == "twilio");
    CHECK(phone["label"] == "main");
    CHECK(phone["agent_id"].is_null());
    CHECK(api.get("/api/v1/phones/" + id).json() == phone);

    // Unique across the instance, whatever the provider.
    auto dup = api.post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "exotel"}});
    CHECK(dup.status == 409);
    CHECK(dup.json()["error"]["code"] == "conflict");
    std::string ws_b = api.post("/api/v1/workspaces", {{"name", "B"}}).json()["id"];
    CHECK(api.with_header("X-Workspace-Id", ws_b)
              .post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "exotel"}})
              .status == 409);

    auto assigned = api.patch("/api/v1/phones/" + id, {{"agent_id", agent}});
    REQUIRE(assigned.status == 200);
    CHECK(assigned.json()["agent_id"] == agent);
    CHECK(assigned.json()["label"] == "main");
    // An agent of another workspace cannot be assigned.
    auto b_agent = api.with_header("X-Workspace-Id", ws_b).post("/api/v1/agents", example_agent("receptionist.json"));
    REQUIRE(b_agent.status == 201);
    // ... answered as an agent that does not exist is, so nothing tells it exists elsewhere.
    auto foreign = api.patch("/api/v1/phones/" + id, {{"agent_id", b_agent.json()["id"]}});
    CHECK(foreign.status == 400);
    CHECK(foreign.json()["error"] == missing_agent.json()["error"]);
    CHECK(api.get("/api/v1/phones/" + id).json()["agent_id"] == agent);
    // The number itself cannot be changed.
    CHECK(api.patch("/api/v1/phones/" + id, {{"number", "+15550000000"}}).status == 400);

    auto unassigned = api.patch("/api/v1/phones/" + id, {{"agent_id", nullptr}});
    REQUIRE(unassigned.status == 200);
    CHECK(unassigned.json()["agent_id"].is_null());
    CHECK(unassigned.json()["label"] == "main");

    auto second = api.post("/api/v1/phones", {{"number", "+919876543210"}, {"provider", "exotel"},
                                              {"agent_id", agent}});
    REQUIRE(second.status == 201);
    auto list = api.get("/api/v1/phones").json();
    REQUIRE(list["items"].size() == 2);
    CHECK(list["items"][0]["number"] == "+919876543210");  // newest first
    CHECK(list["next_cursor"].is_null());

    CHECK(api.del("/api/v1/phones/" + id).status == 204);
    CHECK(api.get("/api/v1/phones/" + id).status == 404);
    CHECK(api.del("/api/v1/phones/" + id).status == 404);
    CHECK(api.patch("/api/v1/phones/" + id, {{"label", "x"}}).status == 404);
    // Deleted, the number is free again.
    CHECK(api.post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "exotel"}}).status == 201);
}

TEST_CASE("calls: empty lists, validated filters and unknown ids") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    auto list = api.get("/api/v1/calls");
    REQUIRE(list.status == 200);
    CHECK(list.json()["items"].is_array());
    CHECK(list.json()["items"].empty());
    CHECK(list.json()["next_cursor"].is_null());

    auto agent = api.post("/api/v1/agents", example_agent("receptionist.json")).json()["id"].get<std::string>();
    for (const std::string& query : std::vector<std::string>{
             "status=completed", "direction=inbound", "agent_id=" + agent, "since=2026-01-01T00:00:00Z",
             "until=2030-01-01T00:00:00.000Z", "since=2026-01-01T00:00:00Z&until=2030-01-01T00:00:00Z&limit=5",
             "campaign_id=cmp_none"}) {
        INFO("?" << query);
        auto r = api.get("/api/v1/calls?" + query);
        CHECK(r.status == 200);
        CHECK(r.json()["items"].empty());
    }

    for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
             {"since=yesterday", "since"},
             {"since=2026-13-45T00:00:00Z", "since"},
             {"until=tomorrow", "until"},
             {"status=happy", "status"},
             {"direction=sideways", "direction"},
             {"limit=0", "limit"}}) {
        INFO("?" << query);
        auto r = api.get("/api/v1/calls?" + query);
        CHECK(r.status == 400);
        CHECK(r.json()["error"]["code"] == "invalid_request");
        CHECK(r.names_field(field));
    }

    for (const char* path : {"/api/v1/calls/call_nope", "/api/v1/calls/call_nope/transcript", "/api/v1/calls/x"}) {
        INFO(path);
        auto r = api.get(path);
        CHECK(r.status == 404);
        CHECK(r.json()["error"]["code"] == "not_found");
    }
}
