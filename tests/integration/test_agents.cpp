// Agents through the REST API of a real daemon: create from the example files, read, filter by name, replace,
// merge-patch, validation with one JSON pointer per bad field, conflicts, deletion and cursor pagination.
#include <catch2/catch.hpp>

#include <set>

#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using nlohmann::json;

TEST_CASE("agents: create, read, list, filter, replace, merge and delete") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    const json receptionist = example_agent("receptionist.json");

    auto created = api.post("/api/v1/agents", receptionist);
    INFO("create answered: " << created.body);
    REQUIRE(created.status == 201);
    auto agent = created.json();
    std::string id = agent["id"];
    CHECK(id.rfind("agt_", 0) == 0);
    CHECK(agent["name"] == "receptionist");
    CHECK(agent["version"] == 1);
    CHECK(agent["workspace_id"].is_string());
    CHECK(agent["created_at"].is_string());
    CHECK(agent["definition"]["first_message"] == receptionist["first_message"]);
    CHECK(agent["definition"]["tts"]["rate"] == 165);
    auto other = api.post("/api/v1/agents", example_agent("appointment-reminder.json"));
    REQUIRE(other.status == 201);

    auto fetched = api.get("/api/v1/agents/" + id);
    REQUIRE(fetched.status == 200);
    CHECK(fetched.json()["name"] == "receptionist");
    CHECK(fetched.json()["definition"]["system_prompt"] == receptionist["system_prompt"]);

    auto list = api.get("/api/v1/agents").json();
    REQUIRE(list["items"].size() == 2);
    CHECK(list["next_cursor"].is_null());
    CHECK(list["items"][0]["id"] == other.json()["id"]);  // newest first

    auto by_name = api.get("/api/v1/agents?name=receptionist").json()["items"];
    REQUIRE(by_name.size() == 1);
    CHECK(by_name[0]["id"] == id);
    CHECK(api.get("/api/v1/agents?name=nobody").json()["items"].empty());

    auto dup = api.post("/api/v1/agents", receptionist);
    CHECK(dup.status == 409);
    CHECK(dup.json()["error"]["code"] == "conflict");

    // PUT replaces the whole definition: fields left out are gone.
    json replacement = receptionist;
    replacement["first_message"] = "Welcome!";
    replacement.erase("description");
    auto replaced = api.put("/api/v1/agents/" + id, replacement);
    REQUIRE(replaced.status == 200);
    CHECK(replaced.json()["version"] == 2);
    CHECK(replaced.json()["definition"]["first_message"] == "Welcome!");
    CHECK_FALSE(replaced.json()["definition"].contains("description"));

    // PATCH merges (RFC 7386): named fields change, null removes, the rest stays.
    auto merged = api.patch("/api/v1/agents/" + id, {{"first_message", "Hi"}, {"language", nullptr},
                                                     {"tts", {{"rate", 200}}}});
    REQUIRE(merged.status == 200);
    auto def = merged.json()["definition"];
    CHECK(merged.json()["version"] == 3);
    CHECK(def["first_message"] == "Hi");
    CHECK_FALSE(def.contains("language"));
    CHECK(def["tts"]["rate"] == 200);
    CHECK(def["tts"]["voice"] == receptionist["tts"]["voice"]);
    CHECK(def["system_prompt"] == receptionist["system_prompt"]);
    CHECK(def["script"] == receptionist["script"]);
    CHECK(api.get("/api/v1/agents/" + id).json()["definition"] == def);

    // Renaming onto another agent's name conflicts.
    CHECK(api.patch("/api/v1/agents/" + id, {{"name", "appointment-reminder"}}).status == 409);

    CHECK(api.del("/api/v1/agents/" + id).status == 204);
    CHECK(api.get("/api/v1/agents/" + id).status == 404);
    CHECK(api.del("/api/v1/agents/" + id).status == 404);
    CHECK(api.put("/api/v1/agents/" + id, receptionist).status == 404);
    CHECK(api.patch("/api/v1/agents/" + id, {{"first_message", "x"}}).status == 404);
    CHECK(api.get("/api/v1/agents").json()["items"].size() == 1);
    // The name is free again.
    CHECK(api.post("/api/v1/agents", receptionist).status == 201);
}

TEST_CASE("agents: invalid definitions are 422 with one JSON pointer per bad field, and change nothing") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    json bad = example_agent("receptionist.json");
    bad["name"] = "Bad Name";
    bad["tts"]["rate"] = 9000;
    bad["colour"] = "blue";
    bad["max_call_s"] = 1;
    bad["llm"]["temperature"] = 5;
    auto invalid = api.post("/api/v1/agents", bad);
    INFO("answered: " << invalid.body);
    CHECK(invalid.status == 422);
    CHECK(invalid.json()["error"]["code"] == "unprocessable");
    for (const char* field : {"/name", "/tts/rate", "/colour", "/max_call_s", "/llm/temperature"}) {
        INFO("field " << field);
        CHECK(invalid.names_field(field));
    }
    auto no_name = api.post("/api/v1/agents", json::object());
    CHECK(no_name.status == 422);
    auto wrong_type = api.post("/api/v1/agents", {{"name", "typed"}, {"first_message", 42}});
    CHECK(wrong_type.status == 422);
    CHECK(wrong_type.names_field("/first_message"));
    auto nested_unknown = api.post("/api/v1/agents", {{"name", "nested"}, {"tts", {{"provider", "espeak-ng"},
                                                                                    {"pitchh", 3}}}});
    CHECK(nested_unknown.status == 422);
    CHECK(nested_unknown.names_field("/tts/pitchh"));
    CHECK(api.get("/api/v1/agents").json()["items"].empty());

    // A PATCH or PUT that would make a stored agent invalid is refused and leaves it as it was.
    auto created = api.post("/api/v1/agents", example_agent("receptionist.json"));
    REQUIRE(created.status == 201);
    std::string id = created.json()["id"];
    auto before = api.get("/api/v1/agents/" + id).json();
    auto broken = api.patch("/api/v1/agents/" + id, {{"first_message", "changed"}, {"max_call_s", 1}});
    CHECK(broken.status == 422);
    CHECK(broken.names_field("/max_call_s"));
    auto broken_put = api.put("/api/v1/agents/" + id, {{"name", "receptionist"}, {"tts", {{"rate", -1}}}});
    CHECK(broken_put.status == 422);
    CHECK(broken_put.names_field("/tts/rate"));
    auto after = api.get("/api/v1/agents/" + id).json();
    CHECK(after["version"] == 1);
    CHECK(after["definition"] == before["definition"]);
}

TEST_CASE("agents: pagination walks every agent exactly once") {
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
    for (int pages = 0; pages < 10; ++pages) {
        auto page = api.get(path);
        REQUIRE(page.status == 200);
        auto body = page.json();
        sizes.push_back(body["items"].size());
        for (const auto& a : body["items"]) CHECK(seen.insert(a["id"].get<std::string>()).second);
        if (body["next_cursor"].is_null()) break;
        REQUIRE(body["next_cursor"].is_string());
        path = "/api/v1/agents?limit=3&cursor=" + body["next_cursor"].get<std::string>();
    }
    CHECK(sizes == std::vector<std::size_t>{3, 3, 1});
    CHECK(seen == created);
    CHECK(api.get("/api/v1/agents?limit=500").json()["items"].size() == 7);
    CHECK(api.get("/api/v1/agents?limit=7").json()["next_cursor"].is_null());

    for (const char* bad : {"0", "501", "abc", "-3", ""}) {
        INFO("limit=" << bad);
        auto r = api.get(std::string("/api/v1/agents?limit=") + bad);
        CHECK(r.status == 400);
        CHECK(r.json()["error"]["code"] == "invalid_request");
        CHECK(r.names_field("limit"));
    }
}

TEST_CASE("agents: versions list newest first, read one, stay in their workspace, and viewers read them") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "50"}});
    Api owner(d.base_url(), d.admin_key());
    std::string key_id = owner.get("/api/v1/auth/me").json()["api_key"]["id"];
    Api member = owner.with_token(create_user_token(d, owner, "member@example.com", "member"));
    Api viewer = owner.with_token(create_user_token(d, owner, "viewer@example.com", "viewer"));
    std::string member_id = member.get("/api/v1/auth/me").json()["user"]["id"];

    json definition = example_agent("receptionist.json");
    auto created = owner.post("/api/v1/agents", definition);
    REQUIRE(created.status == 201);
    std::string id = created.json()["id"];
    json second = definition;
    second["first_message"] = "Second words";
    REQUIRE(member.put("/api/v1/agents/" + id, second).status == 200);
    REQUIRE(member.patch("/api/v1/agents/" + id, {{"first_message", "Third words"}}).status == 200);

    auto list = viewer.get("/api/v1/agents/" + id + "/versions");
    INFO("versions answered: " << list.body);
    REQUIRE(list.status == 200);
    auto items = list.json()["items"];
    REQUIRE(items.size() == 3);
    CHECK(list.json()["next_cursor"].is_null());
    CHECK(items[0]["version"] == 3);
    CHECK(items[0]["definition"]["first_message"] == "Third words");
    CHECK(items[0]["updated_by"] == member_id);
    CHECK(items[0]["updated_at"].is_string());
    CHECK(items[0]["name"] == "receptionist");
    CHECK(items[1]["version"] == 2);
    CHECK(items[2]["version"] == 1);
    CHECK(items[2]["updated_by"] == key_id);
    CHECK(items[2]["definition"] == definition);

    // Pages by version number.
    auto page = viewer.get("/api/v1/agents/" + id + "/versions?limit=2").json();
    REQUIRE(page["items"].size() == 2);
    CHECK(page["next_cursor"] == "2");
    auto rest = viewer.get("/api/v1/agents/" + id + "/versions?limit=2&cursor=2").json();
    REQUIRE(rest["items"].size() == 1);
    CHECK(rest["items"][0]["version"] == 1);
    auto bad_cursor = viewer.get("/api/v1/agents/" + id + "/versions?cursor=abc");
    CHECK(bad_cursor.status == 400);
    CHECK(bad_cursor.body.find("cursor") != std::string::npos);

    // One version; restoring is a PUT of its definition, which becomes a new version.
    auto one = viewer.get("/api/v1/agents/" + id + "/versions/1");
    REQUIRE(one.status == 200);
    CHECK(one.json()["version"] == 1);
    CHECK(one.json()["definition"] == definition);
    CHECK(viewer.get("/api/v1/agents/" + id + "/versions/9").status == 404);
    auto bad_version = viewer.get("/api/v1/agents/" + id + "/versions/first");
    CHECK(bad_version.status == 400);
    CHECK(bad_version.body.find("version") != std::string::npos);
    CHECK(viewer.put("/api/v1/agents/" + id, one.json()["definition"]).status == 403);
    auto restored = member.put("/api/v1/agents/" + id, one.json()["definition"]);
    REQUIRE(restored.status == 200);
    CHECK(restored.json()["version"] == 4);
    CHECK(viewer.get("/api/v1/agents/" + id + "/versions/4").json()["definition"] == definition);

    // Another workspace: its owner sees neither the list nor a version (404, as for the agent itself).
    auto ws_b = owner.post("/api/v1/workspaces", {{"name", "B"}});
    REQUIRE(ws_b.status == 201);
    Api owner_in_b = owner.with_header("X-Workspace-Id", ws_b.json()["id"].get<std::string>());
    auto foreign_list = owner_in_b.get("/api/v1/agents/" + id + "/versions");
    CHECK(foreign_list.status == 404);
    CHECK(foreign_list.json()["error"]["code"] == "not_found");
    CHECK(owner_in_b.get("/api/v1/agents/" + id + "/versions/1").status == 404);

    // Deleting the agent takes its versions along.
    REQUIRE(member.del("/api/v1/agents/" + id).status == 204);
    CHECK(viewer.get("/api/v1/agents/" + id + "/versions").status == 404);
    CHECK(viewer.get("/api/v1/agents/" + id + "/versions/1").status == 404);

    // The OpenAPI description lists both routes.
    auto openapi = Api(d.base_url()).get("/api/v1/openapi.json").json();
    CHECK(openapi["paths"].contains("/api/v1/agents/{id}/versions"));
    CHECK(openapi["paths"].contains("/api/v1/agents/{id}/versions/{version}"));
}
