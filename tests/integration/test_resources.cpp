// Agents, phone numbers and calls through the REST API: validation, conflicts, pagination, filters.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "support/daemon_process.hpp"

using namespace va::test;
using nlohmann::json;

namespace {
json example(const std::string& name) {
    std::ifstream in(std::string(VA_SOURCE_DIR) + "/examples/agents/" + name);
    return json::parse(in);
}

bool has_detail(const HttpResult& r, const std::string& field) {
    auto body = r.json();
    for (auto& d : body["error"]["details"])
        if (d["field"] == field) return true;
    return false;
}
}  // namespace

TEST_CASE("agents: create, read, replace, merge, validate and delete") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    auto created = api.post("/api/v1/agents", example("receptionist.json"));
    REQUIRE(created.status == 201);
    auto agent = created.json();
    std::string id = agent["id"];
    CHECK(id.rfind("agt_", 0) == 0);
    CHECK(agent["version"] == 1);
    CHECK(agent["definition"]["first_message"] == example("receptionist.json")["first_message"]);
    CHECK(api.post("/api/v1/agents", example("appointment-reminder.json")).status == 201);

    CHECK(api.get("/api/v1/agents/" + id).json()["name"] == "receptionist");
    CHECK(api.get("/api/v1/agents?name=receptionist").json()["items"][0]["id"] == id);
    CHECK(api.get("/api/v1/agents?name=nobody").json()["items"].empty());
    auto dup = api.post("/api/v1/agents", example("receptionist.json"));
    CHECK(dup.status == 409);
    CHECK(dup.json()["error"]["code"] == "conflict");

    auto invalid = api.post("/api/v1/agents", {{"name", "Bad Name"}, {"tts", {{"provider", "espeak-ng"}, {"rate", 9000}}},
                                               {"colour", "blue"}});
    CHECK(invalid.status == 422);
    CHECK(invalid.json()["error"]["code"] == "unprocessable");
    CHECK(has_detail(invalid, "/name"));
    CHECK(has_detail(invalid, "/tts/rate"));
    CHECK(has_detail(invalid, "/colour"));
    CHECK(api.post("/api/v1/agents", json::object()).status == 422);

    auto def = example("receptionist.json");
    def["first_message"] = "Welcome!";
    auto replaced = api.put("/api/v1/agents/" + id, def);
    REQUIRE(replaced.status == 200);
    CHECK(replaced.json()["version"] == 2);
    CHECK(replaced.json()["definition"]["first_message"] == "Welcome!");

    auto merged = api.patch("/api/v1/agents/" + id, {{"first_message", "Hi"}, {"description", nullptr}});
    REQUIRE(merged.status == 200);
    CHECK(merged.json()["version"] == 3);
    CHECK(merged.json()["definition"]["first_message"] == "Hi");
    CHECK_FALSE(merged.json()["definition"].contains("description"));
    CHECK(merged.json()["definition"]["system_prompt"] == def["system_prompt"]);

    auto broken = api.patch("/api/v1/agents/" + id, {{"max_call_s", 1}});
    CHECK(broken.status == 422);
    CHECK(has_detail(broken, "/max_call_s"));
    CHECK(api.get("/api/v1/agents/" + id).json()["version"] == 3);  // unchanged
    auto rename_clash = api.patch("/api/v1/agents/" + id, {{"name", "appointment-reminder"}});
    CHECK(rename_clash.status == 409);

    CHECK(api.del("/api/v1/agents/" + id).status == 204);
    CHECK(api.get("/api/v1/agents/" + id).status == 404);
    CHECK(api.del("/api/v1/agents/" + id).status == 404);
}

TEST_CASE("agents: pagination walks every agent once") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    std::set<std::string> created;
    for (int i = 0; i < 7; ++i) {
        auto r = api.post("/api/v1/agents", {{"name", "agent-" + std::to_string(i)}});
        REQUIRE(r.status == 201);
        created.insert(r.json()["id"].get<std::string>());
    }
    std::vector<std::size_t> sizes;
    std::set<std::string> seen;
    std::string path = "/api/v1/agents?limit=3";
    while (true) {
        auto page = api.get(path).json();
        sizes.push_back(page["items"].size());
        for (auto& a : page["items"]) CHECK(seen.insert(a["id"].get<std::string>()).second);
        if (page["next_cursor"].is_null()) break;
        path = "/api/v1/agents?limit=3&cursor=" + page["next_cursor"].get<std::string>();
    }
    CHECK(sizes == std::vector<std::size_t>{3, 3, 1});
    CHECK(seen == created);
    for (const char* bad : {"0", "501", "abc", "-3"}) {
        auto r = api.get(std::string("/api/v1/agents?limit=") + bad);
        CHECK(r.status == 400);
        CHECK(has_detail(r, "limit"));
    }
}

TEST_CASE("phones: E.164, providers, uniqueness and assignment") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    std::string agent = api.post("/api/v1/agents", {{"name", "a"}}).json()["id"];
    auto bad_number = api.post("/api/v1/phones", {{"number", "5551234"}, {"provider", "twilio"}});
    CHECK(bad_number.status == 400);
    CHECK(has_detail(bad_number, "number"));
    auto bad_provider = api.post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "vonage"}});
    CHECK(bad_provider.status == 400);
    CHECK(has_detail(bad_provider, "provider"));
    auto missing_agent = api.post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "twilio"}, {"agent_id", "agt_nope"}});
    CHECK(missing_agent.status == 400);
    CHECK(has_detail(missing_agent, "agent_id"));

    auto created = api.post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "twilio"}, {"label", "main"}});
    REQUIRE(created.status == 201);
    std::string id = created.json()["id"];
    CHECK(created.json()["agent_id"].is_null());
    CHECK(api.post("/api/v1/phones", {{"number", "+15551234567"}, {"provider", "exotel"}}).status == 409);

    auto assigned = api.patch("/api/v1/phones/" + id, {{"agent_id", agent}});
    REQUIRE(assigned.status == 200);
    CHECK(assigned.json()["agent_id"] == agent);
    CHECK(api.patch("/api/v1/phones/" + id, {{"number", "+15550000000"}}).status == 400);
    auto unassigned = api.patch("/api/v1/phones/" + id, {{"agent_id", nullptr}});
    CHECK(unassigned.json()["agent_id"].is_null());
    CHECK(unassigned.json()["label"] == "main");
    CHECK(api.get("/api/v1/phones").json()["items"].size() == 1);
    CHECK(api.del("/api/v1/phones/" + id).status == 204);
    CHECK(api.get("/api/v1/phones/" + id).status == 404);
}

TEST_CASE("calls: empty lists, filters validated, unknown ids") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    auto list = api.get("/api/v1/calls");
    REQUIRE(list.status == 200);
    CHECK(list.json()["items"].empty());
    CHECK(list.json()["next_cursor"].is_null());
    CHECK(api.get("/api/v1/calls?status=completed&direction=inbound&since=2026-01-01T00:00:00Z&until=2030-01-01T00:00:00Z")
              .status == 200);
    auto bad_since = api.get("/api/v1/calls?since=yesterday");
    CHECK(bad_since.status == 400);
    CHECK(has_detail(bad_since, "since"));
    CHECK(has_detail(api.get("/api/v1/calls?status=happy"), "status"));
    CHECK(has_detail(api.get("/api/v1/calls?direction=sideways"), "direction"));
    CHECK(api.get("/api/v1/calls/call_nope").status == 404);
    CHECK(api.get("/api/v1/calls/call_nope/transcript").status == 404);
}
