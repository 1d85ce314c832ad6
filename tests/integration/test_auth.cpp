// Every auth flow against a real daemon: bootstrap (closed while a key exists), login, refresh rotation and reuse detection, logout, token
// checks (missing, garbage, tampered, alg none, expired), API keys and login rate limiting.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "core/util/encoding.hpp"
#include "support/daemon_process.hpp"
#include "support/eventually.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using nlohmann::json;

namespace {

HttpResult login(const Api& api, const std::string& email, const std::string& password) {
    return api.post("/api/v1/auth/login", {{"email", email}, {"password", password}});
}

// A token's three dot-separated parts.
struct JwtParts {
    std::string header, payload, signature;
};

JwtParts split_jwt(const std::string& token) {
    auto first = token.find('.'), second = token.rfind('.');
    REQUIRE(first != std::string::npos);
    REQUIRE(second != first);
    return {token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1)};
}

std::string sign_hs256(const std::string& secret, const json& header, const json& payload) {
    std::string input = va::base64url_encode(header.dump()) + "." + va::base64url_encode(payload.dump());
    return input + "." + va::base64url_encode(va::hmac_sha256(secret, input));
}

}  // namespace

TEST_CASE("auth: bootstrap is closed while the owner key exists, and its user logs in, rotates and reuse-detects refresh "
          "tokens, logs out") {
    DaemonProcess d;
    Api api(d.base_url());
    // No user exists yet, but admin.key does: behind a proxy on this host every request is loopback, so bootstrap
    // would hand ownership to anyone. The owner key creates the first user instead.
    auto early = api.post("/api/v1/auth/bootstrap", {{"email", "x@example.com"}, {"password", "password-2"}});
    CHECK(early.status == 409);
    CHECK(early.json()["error"]["code"] == "conflict");
    auto boot = owner_login(d);
    CHECK(boot["user"]["role"] == "owner");
    CHECK(boot["token_type"] == "Bearer");
    CHECK(boot["access_token"].is_string());
    CHECK(boot["refresh_token"].is_string());
    auto second = api.post("/api/v1/auth/bootstrap", {{"email", "x@example.com"}, {"password", "password-2"}});
    CHECK(second.status == 409);
    CHECK(second.json()["error"]["code"] == "conflict");

    // Emails are case-insensitive.
    auto ok = login(api, "OWNER@example.com", "owner-password");
    REQUIRE(ok.status == 200);
    auto tokens = ok.json();
    CHECK(tokens["expires_in"] == 900);
    CHECK(tokens["user"]["email"] == "owner@example.com");
    auto me = api.with_token(tokens["access_token"]).get("/api/v1/auth/me");
    REQUIRE(me.status == 200);
    CHECK(me.json()["kind"] == "user");
    CHECK(me.json()["role"] == "owner");
    CHECK(me.json()["user"]["email"] == "owner@example.com");
    CHECK(me.json()["workspace"]["id"] == boot["user"]["workspace_id"]);

    // A bad password and an unknown account are indistinguishable.
    auto bad = login(api, "owner@example.com", "wrong-password");
    auto unknown = login(api, "nobody@example.com", "wrong-password");
    CHECK(bad.status == 401);
    CHECK(unknown.status == 401);
    CHECK(bad.json()["error"]["code"] == "unauthenticated");
    CHECK(bad.json()["error"]["message"] == unknown.json()["error"]["message"]);

    // Rotation: the new refresh token works, the old one stops working.
    std::string r1 = tokens["refresh_token"];
    auto rotated = api.post("/api/v1/auth/refresh", {{"refresh_token", r1}});
    REQUIRE(rotated.status == 200);
    std::string r2 = rotated.json()["refresh_token"];
    CHECK(r2 != r1);
    CHECK(api.with_token(rotated.json()["access_token"]).get("/api/v1/auth/me").status == 200);
    auto rotated_again = api.post("/api/v1/auth/refresh", {{"refresh_token", r2}});
    REQUIRE(rotated_again.status == 200);
    std::string r3 = rotated_again.json()["refresh_token"];

    // Reuse: presenting r1 (already rotated) revokes the whole family, so the newest token r3 dies too.
    CHECK(api.post("/api/v1/auth/refresh", {{"refresh_token", r1}}).status == 401);
    CHECK(api.post("/api/v1/auth/refresh", {{"refresh_token", r3}}).status == 401);

    // Another login is another family, untouched by that revocation; logout revokes it.
    auto fresh = login(api, "owner@example.com", "owner-password").json();
    CHECK(api.post("/api/v1/auth/logout", {{"refresh_token", fresh["refresh_token"]}}).status == 204);
    CHECK(api.post("/api/v1/auth/refresh", {{"refresh_token", fresh["refresh_token"]}}).status == 401);
    CHECK(api.post("/api/v1/auth/refresh", {{"refresh_token", "vrt_garbage"}}).status == 401);
}

TEST_CASE("auth: missing, garbage, tampered and alg-none credentials are refused with a JSON error") {
    const std::string secret(40, 'q');
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_JWT_SECRET", secret}});
    Api api(d.base_url());
    auto boot = owner_login(d);
    std::string token = boot["access_token"];
    REQUIRE(api.with_token(token).get("/api/v1/agents").status == 200);

    auto missing = api.get("/api/v1/agents");
    CHECK(missing.status == 401);
    CHECK(missing.json()["error"]["code"] == "unauthenticated");
    CHECK(missing.headers.count("www-authenticate") == 1);
    for (const std::string& bad : {std::string("garbage"), std::string("vak_not-a-real-key"), std::string("a.b.c")}) {
        INFO("token " << bad);
        auto r = api.with_token(bad).get("/api/v1/agents");
        CHECK(r.status == 401);
        CHECK(r.json()["error"]["code"] == "unauthenticated");
    }
    CHECK(api.with_header("Authorization", "Basic dXNlcjpwYXNz").get("/api/v1/agents").status == 401);
    CHECK(api.with_header("Authorization", "Bearer").get("/api/v1/agents").status == 401);

    // Tampered claims with the original signature.
    auto parts = split_jwt(token);
    json payload = json::parse(*va::base64url_decode(parts.payload));
    json escalated = payload;
    escalated["role"] = "owner";
    escalated["wid"] = "ws_other";
    std::string tampered = parts.header + "." + va::base64url_encode(escalated.dump()) + "." + parts.signature;
    CHECK(api.with_token(tampered).get("/api/v1/agents").status == 401);
    // A flipped signature character.
    std::string flipped = token;
    flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
    CHECK(api.with_token(flipped).get("/api/v1/agents").status == 401);
    // alg none, with and without a signature part.
    std::string none_header = va::base64url_encode(R"({"alg":"none","typ":"JWT"})");
    CHECK(api.with_token(none_header + "." + parts.payload + ".").get("/api/v1/agents").status == 401);
    CHECK(api.with_token(none_header + "." + parts.payload + "." + parts.signature).get("/api/v1/agents").status ==
          401);
    // Signed with another secret.
    CHECK(api.with_token(sign_hs256(std::string(40, 'x'), {{"alg", "HS256"}, {"typ", "JWT"}}, payload))
              .get("/api/v1/agents")
              .status == 401);
    // Long expired but correctly signed: refused for its expiry, while the same claims with a future exp pass,
    // which shows the refusal is the expiry and not the signing.
    json old = payload;
    old["iat"] = 1000000000;
    old["nbf"] = 1000000000;
    old["exp"] = 1000000900;
    auto expired = api.with_token(sign_hs256(secret, {{"alg", "HS256"}, {"typ", "JWT"}}, old)).get("/api/v1/agents");
    CHECK(expired.status == 401);
    CHECK(expired.json()["error"]["code"] == "unauthenticated");
    old["exp"] = 4000000000;
    CHECK(api.with_token(sign_hs256(secret, {{"alg", "HS256"}, {"typ", "JWT"}}, old)).get("/api/v1/agents").status ==
          200);
}

TEST_CASE("auth: an access token stops working once its lifetime is over") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_ACCESS_TTL_S", "1"}});
    Api api(d.base_url());
    auto boot = owner_login(d);
    CHECK(boot["expires_in"] == 1);
    Api owner = api.with_token(boot["access_token"]);
    REQUIRE(owner.get("/api/v1/auth/me").status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    auto late = owner.get("/api/v1/auth/me");
    INFO("answer after expiry: " << late.body);
    CHECK(late.status == 401);
    CHECK(late.json()["error"]["code"] == "unauthenticated");
    // The refresh token outlives it and yields a working access token.
    auto refreshed = api.post("/api/v1/auth/refresh", {{"refresh_token", boot["refresh_token"]}});
    REQUIRE(refreshed.status == 200);
    CHECK(api.with_token(refreshed.json()["access_token"]).get("/api/v1/auth/me").status == 200);
}

TEST_CASE("auth: API keys from admin.key and from the API, revocation is immediate") {
    DaemonProcess d;
    std::string admin_key = d.admin_key();
    REQUIRE(admin_key.rfind("vak_", 0) == 0);
    CHECK(d.log().find(admin_key) == std::string::npos);  // the key itself is never logged
    Api owner(d.base_url(), admin_key);
    auto me = owner.get("/api/v1/auth/me");
    REQUIRE(me.status == 200);
    CHECK(me.json()["kind"] == "api_key");
    CHECK(me.json()["role"] == "owner");
    CHECK(me.json()["api_key"]["prefix"].is_string());

    auto created = owner.post("/api/v1/api-keys", {{"name", "ci"}, {"role", "member"}});
    REQUIRE(created.status == 201);
    std::string key = created.json()["key"];
    std::string id = created.json()["api_key"]["id"];
    CHECK(key.rfind("vak_", 0) == 0);
    CHECK(created.json()["api_key"]["role"] == "member");
    CHECK(created.json()["api_key"]["revoked_at"].is_null());
    CHECK_FALSE(created.json()["api_key"].contains("key_hash"));
    Api member(d.base_url(), key);
    CHECK(member.get("/api/v1/agents").status == 200);
    auto member_me = member.get("/api/v1/auth/me").json();
    CHECK(member_me["kind"] == "api_key");
    CHECK(member_me["role"] == "member");

    // The default role is the caller's.
    auto defaulted = owner.post("/api/v1/api-keys", {{"name", "default-role"}});
    REQUIRE(defaulted.status == 201);
    CHECK(defaulted.json()["api_key"]["role"] == "owner");

    auto listed = owner.get("/api/v1/api-keys").json();
    CHECK(listed["items"].size() == 3);
    CHECK(listed.dump().find(key) == std::string::npos);  // the secret is shown only once
    CHECK(owner.del("/api/v1/api-keys/" + id).status == 204);
    auto revoked = member.get("/api/v1/agents");
    CHECK(revoked.status == 401);
    CHECK(revoked.json()["error"]["code"] == "unauthenticated");
    CHECK(owner.post("/api/v1/api-keys", {{"name", "bad"}, {"role", "root"}}).status == 400);
}

TEST_CASE("auth: login attempts are rate limited with Retry-After") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "3"}, {"VOICEAGENT_AUTH_LOGIN_PER_MINUTE", "1"}});
    Api api(d.base_url());
    create_owner_user(d);
    for (int i = 0; i < 3; ++i) {
        INFO("attempt " << i + 1);
        CHECK(login(api, "owner@example.com", "wrong-pass").status == 401);
    }
    auto limited = login(api, "owner@example.com", "wrong-pass");
    CHECK(limited.status == 429);
    CHECK(limited.json()["error"]["code"] == "rate_limited");
    REQUIRE(limited.headers.count("retry-after") == 1);
    CHECK(std::stoi(limited.headers["retry-after"]) >= 1);
    // The right password does not get through the limit either: guessing cannot continue by alternating.
    CHECK(login(api, "owner@example.com", "owner-password").status == 429);
    // Other routes are not affected.
    CHECK(api.get("/healthz").status == 200);
    CHECK(Api(d.base_url(), d.admin_key()).get("/api/v1/agents").status == 200);
}

TEST_CASE("auth: with every key revoked and no user, bootstrap reopens, and it validates its input and names the field") {
    DaemonProcess d;
    Api api(d.base_url());
    Api owner_key(d.base_url(), d.admin_key());
    std::string key_id = owner_key.get("/api/v1/auth/me").json()["api_key"]["id"];
    REQUIRE(owner_key.del("/api/v1/api-keys/" + key_id).status == 204);
    auto unknown = api.post("/api/v1/auth/bootstrap", {{"email", "a@example.com"}, {"password", "long-enough"},
                                                       {"workspace_id", "ws_other"}});
    CHECK(unknown.status == 400);
    CHECK(unknown.names_field("workspace_id"));
    auto short_pw = api.post("/api/v1/auth/bootstrap", {{"email", "a@example.com"}, {"password", "short"}});
    CHECK(short_pw.status == 400);
    CHECK(short_pw.names_field("password"));
    auto bad_email = api.post("/api/v1/auth/bootstrap", {{"email", "nope"}, {"password", "long-enough"}});
    CHECK(bad_email.status == 400);
    CHECK(bad_email.names_field("email"));
    auto wrong_type = api.post("/api/v1/auth/bootstrap", {{"email", 5}, {"password", "long-enough"}});
    CHECK(wrong_type.status == 400);
    CHECK(wrong_type.names_field("email"));
    // None of those created anything: a valid bootstrap still works.
    CHECK(api.post("/api/v1/auth/bootstrap", {{"email", "a@example.com"}, {"password", "long-enough"}}).status == 201);
}

TEST_CASE("auth: X-Forwarded-For is believed only from server.trusted_proxies (login limits, bootstrap)") {
    // Each attempt names another account, so only the per-address bucket can say 429.
    auto attempts_until_limited = [](const Api& api, const std::vector<std::string>& forwarded_for) {
        for (std::size_t i = 0; i < forwarded_for.size(); ++i) {
            auto r = api.with_header("X-Forwarded-For", forwarded_for[i])
                         .post("/api/v1/auth/login", {{"email", "n" + std::to_string(i) + "@example.com"},
                                                      {"password", "wrong-pass"}});
            if (r.status == 429) return int(i) + 1;
        }
        return 0;
    };
    std::vector<std::string> rotating{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"};
    {
        INFO("no trusted proxies: a client rotating X-Forwarded-For is still one address");
        DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "3"}, {"VOICEAGENT_AUTH_LOGIN_PER_MINUTE", "1"}});
        Api api(d.base_url());
        CHECK(attempts_until_limited(api, rotating) == 4);
        // Nor does a forged header make a remote request look local, or a local one remote.
        auto boot = api.with_header("X-Forwarded-For", "203.0.113.9")
                        .post("/api/v1/auth/bootstrap", {{"email", "a@example.com"}, {"password", "long-enough"}});
        CHECK(boot.status == 409);
    }
    {
        INFO("this loopback proxy trusted: each forwarded client has its own bucket, and is not local");
        DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "3"},
                            {"VOICEAGENT_AUTH_LOGIN_PER_MINUTE", "1"},
                            {"VOICEAGENT_SERVER_TRUSTED_PROXIES", "127.0.0.1, ::1"}});
        Api api(d.base_url());
        CHECK(attempts_until_limited(api, rotating) == 0);
        // One client behind the proxy, forging entries on the left, is still limited by its real address.
        CHECK(attempts_until_limited(api, {"1.1.1.1, 198.51.100.7", "1.1.1.2, 198.51.100.7", "198.51.100.7",
                                           "1.1.1.3,198.51.100.7"}) == 4);
        auto boot = api.with_header("X-Forwarded-For", "203.0.113.9")
                        .post("/api/v1/auth/bootstrap", {{"email", "a@example.com"}, {"password", "long-enough"}});
        CHECK(boot.status == 403);
        // The access log names the forwarded client (logs are flushed at least every second).
        CHECK(eventually([&] { return d.log().find("198.51.100.7") != std::string::npos; }));
    }
    {
        INFO("another address trusted: headers from here are not believed");
        DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "3"},
                            {"VOICEAGENT_AUTH_LOGIN_PER_MINUTE", "1"},
                            {"VOICEAGENT_SERVER_TRUSTED_PROXIES", "10.9.9.9"}});
        CHECK(attempts_until_limited(Api(d.base_url()), rotating) == 4);
    }
}
