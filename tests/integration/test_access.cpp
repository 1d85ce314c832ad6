// Roles per route and workspace isolation (object-level authorization) against a real daemon.
#include <catch2/catch.hpp>

#include <fstream>

#include "support/daemon_process.hpp"

using namespace va::test;
using nlohmann::json;

namespace {

json receptionist() {
    std::ifstream in(std::string(VA_SOURCE_DIR) + "/examples/agents/receptionist.json");
    return json::parse(in);
}

// Creates a user with `role` through `admin` and returns an access token for them.
std::string user_token(const DaemonProcess& d, const Api& admin, const std::string& email, const std::string& role) {
    auto created = admin.post("/api/v1/users", {{"email", email}, {"password", "password-" + role}, {"role", role}});
    REQUIRE(created.status == 201);
    auto login = Api(d.base_url()).post("/api/v1/auth/login", {{"email", email}, {"password", "password-" + role}});
    REQUIRE(login.status == 200);
    return login.json()["access_token"];
}

}  // namespace

TEST_CASE("roles: each role gets exactly its routes") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "50"}});
    Api owner(d.base_url(), d.admin_key());
    Api admin = owner.with_token(user_token(d, owner, "admin@example.com", "admin"));
    Api member = owner.with_token(user_token(d, owner, "member@example.com", "member"));
    Api viewer = owner.with_token(user_token(d, owner, "viewer@example.com", "viewer"));

    // viewer: reads only
    CHECK(viewer.get("/api/v1/agents").status == 200);
    CHECK(viewer.get("/api/v1/calls").status == 200);
    CHECK(viewer.get("/api/v1/phones").status == 200);
    auto denied = viewer.post("/api/v1/agents", receptionist());
    CHECK(denied.status == 403);
    CHECK(denied.json()["error"]["code"] == "forbidden");
    CHECK(viewer.get("/api/v1/users").status == 403);

    // member: agents, not users, keys or numbers
    auto agent = member.post("/api/v1/agents", receptionist());
    REQUIRE(agent.status == 201);
    std::string agent_id = agent.json()["id"];
    CHECK(member.patch("/api/v1/agents/" + agent_id, {{"first_message", "Hi"}}).status == 200);
    CHECK(viewer.patch("/api/v1/agents/" + agent_id, {{"first_message", "Hi"}}).status == 403);
    CHECK(viewer.del("/api/v1/agents/" + agent_id).status == 403);
    CHECK(member.post("/api/v1/users", {{"email", "x@example.com"}, {"password", "password-x"}}).status == 403);
    CHECK(member.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"}}).status == 403);
    CHECK(member.get("/api/v1/api-keys").status == 403);
    CHECK(member.post("/api/v1/api-keys", {{"name", "k"}}).status == 403);

    // admin: users, keys, numbers; not workspaces, not owners, not keys above itself
    CHECK(admin.get("/api/v1/users").status == 200);
    CHECK(admin.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"}, {"agent_id", agent_id}}).status == 201);
    CHECK(admin.post("/api/v1/api-keys", {{"name", "k"}, {"role", "member"}}).status == 201);
    CHECK(admin.post("/api/v1/api-keys", {{"name", "k2"}, {"role", "owner"}}).status == 403);
    CHECK(admin.post("/api/v1/users", {{"email", "o2@example.com"}, {"password", "password-x"}, {"role", "owner"}}).status == 403);
    CHECK(admin.post("/api/v1/workspaces", {{"name", "agency client"}}).status == 403);
    CHECK(owner.post("/api/v1/workspaces", {{"name", "agency client"}}).status == 201);

    // A demoted user loses access at once, whatever their token says.
    auto users = admin.get("/api/v1/users?limit=500").json()["items"];
    std::string member_id;
    for (auto& u : users)
        if (u["email"] == "member@example.com") member_id = u["id"];
    REQUIRE(admin.patch("/api/v1/users/" + member_id, {{"role", "viewer"}}).status == 200);
    CHECK(member.post("/api/v1/agents", json{{"name", "another"}}).status == 403);
    REQUIRE(admin.patch("/api/v1/users/" + member_id, {{"disabled", true}}).status == 200);
    CHECK(member.get("/api/v1/agents").status == 401);
}

TEST_CASE("tenancy: nothing of workspace B is visible or writable from workspace A") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "50"}});
    Api owner(d.base_url(), d.admin_key());
    auto ws_b = owner.post("/api/v1/workspaces", {{"name", "B"}});
    REQUIRE(ws_b.status == 201);
    std::string b_id = ws_b.json()["id"];
    Api owner_in_b = owner.with_header("X-Workspace-Id", b_id);

    // Objects in B, created by the owner acting there.
    auto b_admin = owner_in_b.post("/api/v1/users", {{"email", "b-admin@example.com"}, {"password", "password-b"}, {"role", "admin"}});
    REQUIRE(b_admin.status == 201);
    CHECK(b_admin.json()["workspace_id"] == b_id);
    auto b_agent = owner_in_b.post("/api/v1/agents", receptionist());
    REQUIRE(b_agent.status == 201);
    std::string agent = b_agent.json()["id"];
    auto b_phone = owner_in_b.post("/api/v1/phones", {{"number", "+15550002222"}, {"provider", "exotel"}, {"agent_id", agent}});
    REQUIRE(b_phone.status == 201);
    std::string phone = b_phone.json()["id"];
    auto b_key = owner_in_b.post("/api/v1/api-keys", {{"name", "b-key"}, {"role", "admin"}});
    REQUIRE(b_key.status == 201);
    std::string key = b_key.json()["api_key"]["id"];
    std::string b_user = b_admin.json()["id"];

    // An admin of A.
    Api a_admin = owner.with_token(user_token(d, owner, "a-admin@example.com", "admin"));
    for (auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/api/v1/agents/" + agent}, {"DELETE", "/api/v1/agents/" + agent},
             {"GET", "/api/v1/phones/" + phone}, {"DELETE", "/api/v1/phones/" + phone},
             {"GET", "/api/v1/users/" + b_user}, {"DELETE", "/api/v1/users/" + b_user},
             {"DELETE", "/api/v1/api-keys/" + key}, {"GET", "/api/v1/workspaces/" + b_id},
             {"GET", "/api/v1/calls/call_unknown"}, {"GET", "/api/v1/calls/call_unknown/transcript"}}) {
        INFO(method << " " << path);
        auto r = a_admin.raw(method, path, "", "");
        CHECK(r.status == 404);
        CHECK(r.json()["error"]["code"] == "not_found");
    }
    CHECK(a_admin.put("/api/v1/agents/" + agent, receptionist()).status == 404);
    CHECK(a_admin.patch("/api/v1/agents/" + agent, {{"first_message", "x"}}).status == 404);
    CHECK(a_admin.patch("/api/v1/phones/" + phone, {{"label", "x"}}).status == 404);
    CHECK(a_admin.patch("/api/v1/users/" + b_user, {{"name", "x"}}).status == 404);
    // Assigning B's agent to A's number is refused as if it did not exist.
    auto cross = a_admin.post("/api/v1/phones", {{"number", "+15550003333"}, {"provider", "twilio"}, {"agent_id", agent}});
    CHECK(cross.status == 400);
    CHECK(cross.json()["error"]["details"][0]["field"] == "agent_id");
    // Lists never include B's objects.
    CHECK(a_admin.get("/api/v1/agents").json()["items"].empty());
    CHECK(a_admin.get("/api/v1/phones").json()["items"].empty());
    CHECK(a_admin.get("/api/v1/workspaces").json()["items"].size() == 1);
    CHECK(a_admin.get("/api/v1/agents?name=receptionist").json()["items"].empty());
    // A non-owner naming another workspace gets 404; the owner sees both.
    CHECK(a_admin.with_header("X-Workspace-Id", b_id).get("/api/v1/agents").status == 404);
    CHECK(owner.get("/api/v1/workspaces").json()["items"].size() == 2);
    CHECK(owner.with_header("X-Workspace-Id", "ws_missing").get("/api/v1/agents").status == 404);
    // B's objects are intact.
    CHECK(owner_in_b.get("/api/v1/agents/" + agent).status == 200);
    CHECK(owner_in_b.get("/api/v1/phones/" + phone).status == 200);
}
