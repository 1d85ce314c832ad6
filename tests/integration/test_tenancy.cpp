// Workspace isolation (object-level authorization) against a real daemon: nothing of workspace B is visible or
// writable from workspace A, not even its existence (404, never 403), and lists never leak across.
#include <catch2/catch.hpp>

#include <utility>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using nlohmann::json;

namespace {

void check_not_found(const HttpResult& r, const std::string& what) {
    INFO(what << " answered " << r.status << ": " << r.body);
    CHECK(r.status == 404);
    CHECK(r.json()["error"]["code"] == "not_found");
}

}  // namespace

TEST_CASE("tenancy: nothing of workspace B is visible or writable from workspace A") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "50"}});
    Api owner(d.base_url(), d.admin_key());
    std::string a_id = owner.get("/api/v1/auth/me").json()["workspace"]["id"];
    auto ws_b = owner.post("/api/v1/workspaces", {{"name", "B"}});
    REQUIRE(ws_b.status == 201);
    std::string b_id = ws_b.json()["id"];
    CHECK(b_id != a_id);
    CHECK(ws_b.json()["name"] == "B");
    Api owner_in_b = owner.with_header("X-Workspace-Id", b_id);
    CHECK(owner_in_b.get("/api/v1/auth/me").json()["workspace"]["id"] == b_id);

    // B's objects, created by the owner acting there.
    auto b_admin = owner_in_b.post("/api/v1/users", {{"email", "b-admin@example.com"}, {"password", "password-b"},
                                                     {"role", "admin"}});
    REQUIRE(b_admin.status == 201);
    CHECK(b_admin.json()["workspace_id"] == b_id);
    std::string b_user = b_admin.json()["id"];
    auto b_agent = owner_in_b.post("/api/v1/agents", example_agent("receptionist.json"));
    REQUIRE(b_agent.status == 201);
    CHECK(b_agent.json()["workspace_id"] == b_id);
    std::string agent = b_agent.json()["id"];
    auto b_phone = owner_in_b.post("/api/v1/phones", {{"number", "+15550002222"}, {"provider", "exotel"},
                                                      {"agent_id", agent}});
    REQUIRE(b_phone.status == 201);
    std::string phone = b_phone.json()["id"];
    auto b_key = owner_in_b.post("/api/v1/api-keys", {{"name", "b-key"}, {"role", "admin"}});
    REQUIRE(b_key.status == 201);
    std::string key_id = b_key.json()["api_key"]["id"];
    CHECK(b_key.json()["api_key"]["workspace_id"] == b_id);

    // B's admin, logged in, really lives in B.
    auto b_login = Api(d.base_url()).post("/api/v1/auth/login", {{"email", "b-admin@example.com"},
                                                                 {"password", "password-b"}});
    REQUIRE(b_login.status == 200);
    Api b_admin_api = owner.with_token(b_login.json()["access_token"]);
    CHECK(b_admin_api.get("/api/v1/auth/me").json()["workspace"]["id"] == b_id);
    CHECK(b_admin_api.get("/api/v1/agents/" + agent).status == 200);

    // An admin of A: the highest non-owner role, so any leak would show here.
    Api a_admin = owner.with_token(create_user_token(d, owner, "a-admin@example.com", "admin"));
    std::vector<std::pair<std::string, std::string>> probes{
        {"GET", "/api/v1/agents/" + agent},          {"DELETE", "/api/v1/agents/" + agent},
        {"GET", "/api/v1/phones/" + phone},          {"DELETE", "/api/v1/phones/" + phone},
        {"GET", "/api/v1/users/" + b_user},          {"DELETE", "/api/v1/users/" + b_user},
        {"DELETE", "/api/v1/api-keys/" + key_id},    {"GET", "/api/v1/workspaces/" + b_id},
        {"GET", "/api/v1/calls/call_made_up"},       {"GET", "/api/v1/calls/call_made_up/transcript"},
    };
    for (const auto& [method, path] : probes) check_not_found(a_admin.raw(method, path, "", ""), method + " " + path);
    check_not_found(a_admin.put("/api/v1/agents/" + agent, example_agent("receptionist.json")), "PUT B's agent");
    check_not_found(a_admin.patch("/api/v1/agents/" + agent, {{"first_message", "x"}}), "PATCH B's agent");
    check_not_found(a_admin.patch("/api/v1/phones/" + phone, {{"label", "x"}}), "PATCH B's phone");
    check_not_found(a_admin.patch("/api/v1/users/" + b_user, {{"name", "x"}}), "PATCH B's user");

    // Assigning B's agent to a number of A is refused exactly as an agent that does not exist is: the body names
    // an object the caller cannot see, so it is bad input (400 naming agent_id), the same answer for both.
    auto cross = a_admin.post("/api/v1/phones", {{"number", "+15550003333"}, {"provider", "twilio"},
                                                 {"agent_id", agent}});
    INFO("cross-workspace assignment answered " << cross.status << ": " << cross.body);
    CHECK(cross.status == 400);
    CHECK(cross.names_field("agent_id"));
    auto none = a_admin.post("/api/v1/phones", {{"number", "+15550003333"}, {"provider", "twilio"},
                                                {"agent_id", "agt_made_up"}});
    CHECK(none.status == 400);
    CHECK(none.json()["error"] == cross.json()["error"]);
    auto a_phone = a_admin.post("/api/v1/phones", {{"number", "+15550004444"}, {"provider", "twilio"}});
    REQUIRE(a_phone.status == 201);
    auto cross_patch = a_admin.patch("/api/v1/phones/" + a_phone.json()["id"].get<std::string>(),
                                     {{"agent_id", agent}});
    INFO("cross-workspace reassignment answered " << cross_patch.status << ": " << cross_patch.body);
    CHECK(cross_patch.status == 400);
    CHECK(cross_patch.json()["error"] == cross.json()["error"]);

    // Lists never include B's objects; the same name may exist in both workspaces.
    CHECK(a_admin.get("/api/v1/agents").json()["items"].empty());
    CHECK(a_admin.get("/api/v1/agents?name=receptionist").json()["items"].empty());
    CHECK(a_admin.post("/api/v1/agents", example_agent("receptionist.json")).status == 201);
    auto a_agents = a_admin.get("/api/v1/agents").json()["items"];
    REQUIRE(a_agents.size() == 1);
    CHECK(a_agents[0]["id"] != agent);
    auto a_phones = a_admin.get("/api/v1/phones").json()["items"];
    REQUIRE(a_phones.size() == 1);
    CHECK(a_phones[0]["number"] == "+15550004444");
    auto a_users = a_admin.get("/api/v1/users?limit=500").json();
    for (const auto& u : a_users["items"]) CHECK(u["workspace_id"] == a_id);
    auto a_keys = a_admin.get("/api/v1/api-keys?limit=500").json();
    for (const auto& k : a_keys["items"]) CHECK(k["workspace_id"] == a_id);
    auto a_workspaces = a_admin.get("/api/v1/workspaces").json()["items"];
    REQUIRE(a_workspaces.size() == 1);
    CHECK(a_workspaces[0]["id"] == a_id);
    CHECK(a_admin.get("/api/v1/calls").json()["items"].empty());

    // A non-owner naming another workspace gets 404, naming its own is fine; the owner sees both.
    check_not_found(a_admin.with_header("X-Workspace-Id", b_id).get("/api/v1/agents"), "non-owner X-Workspace-Id");
    CHECK(a_admin.with_header("X-Workspace-Id", a_id).get("/api/v1/agents").status == 200);
    check_not_found(b_admin_api.with_header("X-Workspace-Id", a_id).get("/api/v1/agents"), "B admin naming A");
    CHECK(owner.get("/api/v1/workspaces").json()["items"].size() == 2);
    check_not_found(owner.with_header("X-Workspace-Id", "ws_missing").get("/api/v1/agents"), "unknown workspace");

    // B's objects survived every attempt.
    CHECK(owner_in_b.get("/api/v1/agents/" + agent).json()["version"] == 1);
    CHECK(owner_in_b.get("/api/v1/phones/" + phone).json()["label"] == b_phone.json()["label"]);
    CHECK(owner_in_b.get("/api/v1/users/" + b_user).status == 200);
    CHECK(Api(d.base_url(), b_key.json()["key"]).get("/api/v1/agents").status == 200);
}
