// Roles per route against a real daemon: viewer reads, member writes agents, admin manages users, keys and
// numbers, owner alone creates workspaces; nobody grants more than they hold; role changes apply at once.
#include <catch2/catch.hpp>

#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using nlohmann::json;

namespace {

// The receptionist example under another name, so each step can create its own agent.
json agent_named(const std::string& name) {
    auto def = example_agent("receptionist.json");
    def["name"] = name;
    return def;
}

void check_forbidden(const HttpResult& r, const std::string& what) {
    INFO(what << " answered " << r.status << ": " << r.body);
    CHECK(r.status == 403);
    CHECK(r.json()["error"]["code"] == "forbidden");
}

}  // namespace

TEST_CASE("roles: each role gets exactly its routes") {
    // One daemon for all roles, checked in order (the demotion last): each start costs several Argon2 hashes.
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "50"}});
    Api owner(d.base_url(), d.admin_key());
    Api admin = owner.with_token(create_user_token(d, owner, "admin@example.com", "admin"));
    Api member = owner.with_token(create_user_token(d, owner, "member@example.com", "member"));
    Api viewer = owner.with_token(create_user_token(d, owner, "viewer@example.com", "viewer"));
    CHECK(viewer.get("/api/v1/auth/me").json()["role"] == "viewer");

    {
        INFO("viewer reads everything it may and writes nothing");
        auto agent = owner.post("/api/v1/agents", example_agent("receptionist.json"));
        REQUIRE(agent.status == 201);
        std::string id = agent.json()["id"];
        CHECK(viewer.get("/api/v1/agents").status == 200);
        CHECK(viewer.get("/api/v1/agents/" + id).status == 200);
        CHECK(viewer.get("/api/v1/phones").status == 200);
        CHECK(viewer.get("/api/v1/calls").status == 200);
        CHECK(viewer.get("/api/v1/workspaces").status == 200);
        check_forbidden(viewer.post("/api/v1/agents", example_agent("appointment-reminder.json")), "viewer POST agent");
        check_forbidden(viewer.put("/api/v1/agents/" + id, example_agent("receptionist.json")), "viewer PUT agent");
        check_forbidden(viewer.patch("/api/v1/agents/" + id, {{"first_message", "Hi"}}), "viewer PATCH agent");
        check_forbidden(viewer.del("/api/v1/agents/" + id), "viewer DELETE agent");
        check_forbidden(viewer.get("/api/v1/users"), "viewer GET users");
        check_forbidden(viewer.get("/api/v1/api-keys"), "viewer GET api-keys");
        // The refused writes changed nothing.
        CHECK(owner.get("/api/v1/agents/" + id).json()["version"] == 1);
    }

    {
        INFO("member writes agents but not users, keys or numbers");
        auto agent = member.post("/api/v1/agents", agent_named("by-member"));
        REQUIRE(agent.status == 201);
        std::string id = agent.json()["id"];
        CHECK(member.patch("/api/v1/agents/" + id, {{"first_message", "Hi"}}).status == 200);
        CHECK(member.put("/api/v1/agents/" + id, agent_named("by-member")).status == 200);
        check_forbidden(member.post("/api/v1/users", {{"email", "x@example.com"}, {"password", "password-x"},
                                                      {"role", "viewer"}}),
                        "member POST user");
        check_forbidden(member.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"}}),
                        "member POST phone");
        check_forbidden(member.get("/api/v1/api-keys"), "member GET api-keys");
        check_forbidden(member.post("/api/v1/api-keys", {{"name", "k"}}), "member POST api-key");
        check_forbidden(member.post("/api/v1/workspaces", {{"name", "w"}}), "member POST workspace");
        CHECK(member.del("/api/v1/agents/" + id).status == 204);
    }

    {
        INFO("admin manages users, keys and numbers, but not workspaces, owners or keys above itself");
        auto agent = admin.post("/api/v1/agents", agent_named("by-admin"));
        REQUIRE(agent.status == 201);
        std::string agent_id = agent.json()["id"];
        CHECK(admin.get("/api/v1/users").status == 200);
        auto user = admin.post("/api/v1/users", {{"email", "new@example.com"}, {"password", "password-new"},
                                                 {"role", "member"}});
        REQUIRE(user.status == 201);
        CHECK(user.json()["role"] == "member");
        std::string user_id = user.json()["id"];
        CHECK(admin.patch("/api/v1/users/" + user_id, {{"name", "New Person"}}).status == 200);
        CHECK(admin.del("/api/v1/users/" + user_id).status == 204);

        auto phone = admin.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"},
                                                   {"agent_id", agent_id}});
        REQUIRE(phone.status == 201);
        CHECK(admin.patch("/api/v1/phones/" + phone.json()["id"].get<std::string>(), {{"label", "front desk"}})
                  .status == 200);
        CHECK(admin.del("/api/v1/phones/" + phone.json()["id"].get<std::string>()).status == 204);

        auto key = admin.post("/api/v1/api-keys", {{"name", "k"}, {"role", "member"}});
        REQUIRE(key.status == 201);
        CHECK(admin.get("/api/v1/api-keys").status == 200);
        CHECK(admin.del("/api/v1/api-keys/" + key.json()["api_key"]["id"].get<std::string>()).status == 204);
        auto own_role = admin.post("/api/v1/api-keys", {{"name", "k-admin"}});
        REQUIRE(own_role.status == 201);
        CHECK(own_role.json()["api_key"]["role"] == "admin");

        check_forbidden(admin.post("/api/v1/api-keys", {{"name", "k2"}, {"role", "owner"}}), "admin POST owner key");
        check_forbidden(admin.post("/api/v1/users", {{"email", "o2@example.com"}, {"password", "password-x"},
                                                     {"role", "owner"}}),
                        "admin POST owner user");
        check_forbidden(admin.post("/api/v1/workspaces", {{"name", "agency client"}}), "admin POST workspace");
        CHECK(owner.post("/api/v1/workspaces", {{"name", "agency client"}}).status == 201);
        // An owner may create owners.
        CHECK(owner.post("/api/v1/users", {{"email", "o2@example.com"}, {"password", "password-x"}, {"role", "owner"}})
                  .status == 201);
    }

    {
        INFO("a demoted or disabled user loses access at once, whatever their token says");
        std::string member_id = user_id_by_email(admin, "member@example.com");
        REQUIRE_FALSE(member_id.empty());
        REQUIRE(admin.patch("/api/v1/users/" + member_id, {{"role", "viewer"}}).status == 200);
        check_forbidden(member.post("/api/v1/agents", agent_named("by-demoted")), "demoted member");
        CHECK(member.get("/api/v1/agents").status == 200);
        REQUIRE(admin.patch("/api/v1/users/" + member_id, {{"disabled", true}}).status == 200);
        CHECK(member.get("/api/v1/agents").status == 401);
    }
}

TEST_CASE("roles: an API key holds no more than its user's current role, and dies with its user") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "50"}});
    Api owner(d.base_url(), d.admin_key());
    Api admin = owner.with_token(create_user_token(d, owner, "admin@example.com", "admin"));
    std::string admin_id = user_id_by_email(owner, "admin@example.com");
    auto made = admin.post("/api/v1/api-keys", {{"name", "admin-script"}, {"role", "admin"}});
    REQUIRE(made.status == 201);
    Api key = owner.with_token(made.json()["key"]);
    std::string key_id = made.json()["api_key"]["id"];
    CHECK(key.get("/api/v1/users").status == 200);

    // Demoted: the key is a member's now, whatever role it was made with.
    REQUIRE(owner.patch("/api/v1/users/" + admin_id, {{"role", "member"}}).status == 200);
    CHECK(key.get("/api/v1/auth/me").json()["role"] == "member");
    check_forbidden(key.post("/api/v1/users", {{"email", "x@example.com"}, {"password", "password-x"}}),
                    "a demoted admin's key creating a user");
    check_forbidden(key.post("/api/v1/api-keys", {{"name", "again"}, {"role", "admin"}}), "a demoted admin's key");
    CHECK(key.get("/api/v1/agents").status == 200);

    // Disabled: the key stops at once and is revoked, so enabling the user again does not revive it.
    REQUIRE(owner.patch("/api/v1/users/" + admin_id, {{"disabled", true}}).status == 200);
    CHECK(key.get("/api/v1/agents").status == 401);
    REQUIRE(owner.patch("/api/v1/users/" + admin_id, {{"disabled", false}}).status == 200);
    CHECK(key.get("/api/v1/agents").status == 401);
    bool revoked = false;
    json keys = owner.get("/api/v1/api-keys").json();
    for (const auto& k : keys["items"])
        if (k["id"] == key_id) revoked = !k["revoked_at"].is_null();
    CHECK(revoked);

    // Deleted: a deleted admin's key creates nothing.
    Api admin2 = owner.with_token(create_user_token(d, owner, "admin2@example.com", "admin"));
    auto made2 = admin2.post("/api/v1/api-keys", {{"name", "admin2-script"}, {"role", "admin"}});
    REQUIRE(made2.status == 201);
    Api key2 = owner.with_token(made2.json()["key"]);
    REQUIRE(owner.del("/api/v1/users/" + user_id_by_email(owner, "admin2@example.com")).status == 204);
    auto after = key2.post("/api/v1/users", {{"email", "y@example.com"}, {"password", "password-y"}, {"role", "admin"}});
    CHECK(after.status == 401);
    CHECK(key2.post("/api/v1/api-keys", {{"name", "z"}}).status == 401);
    CHECK(user_id_by_email(owner, "y@example.com").empty());
}

TEST_CASE("roles: nobody acts on a principal above their own role (an admin cannot revoke the owner key)") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "50"}});
    Api owner(d.base_url(), d.admin_key());
    std::string owner_key_id = owner.get("/api/v1/auth/me").json()["api_key"]["id"];
    Api admin = owner.with_token(create_user_token(d, owner, "admin@example.com", "admin"));
    create_user_token(d, owner, "boss@example.com", "owner");
    std::string boss_id = user_id_by_email(owner, "boss@example.com");

    check_forbidden(admin.del("/api/v1/api-keys/" + owner_key_id), "admin revoking the owner key in admin.key");
    CHECK(owner.get("/api/v1/auth/me").status == 200);
    auto owners_member_key = owner.post("/api/v1/api-keys", {{"name", "owner-made"}, {"role", "member"}});
    REQUIRE(owners_member_key.status == 201);
    // The admin.key has no user; a key an owner user made is theirs, whatever its own role.
    Api boss = owner.with_token(create_user_token(d, owner, "boss2@example.com", "owner"));
    auto boss_key = boss.post("/api/v1/api-keys", {{"name", "boss-made"}, {"role", "member"}});
    REQUIRE(boss_key.status == 201);
    check_forbidden(admin.del("/api/v1/api-keys/" + boss_key.json()["api_key"]["id"].get<std::string>()),
                    "admin revoking an owner user's member key");
    check_forbidden(admin.patch("/api/v1/users/" + boss_id, {{"disabled", true}}), "admin disabling an owner");
    check_forbidden(admin.del("/api/v1/users/" + boss_id), "admin deleting an owner");
    check_forbidden(admin.post("/api/v1/api-keys", {{"name", "up"}, {"role", "owner"}}), "admin making an owner key");
    // Within their reach they still act: an admin revokes a member key the owner key made.
    CHECK(admin.del("/api/v1/api-keys/" + owners_member_key.json()["api_key"]["id"].get<std::string>()).status == 204);
    // And an owner revokes anything.
    CHECK(owner.del("/api/v1/api-keys/" + boss_key.json()["api_key"]["id"].get<std::string>()).status == 204);
}
