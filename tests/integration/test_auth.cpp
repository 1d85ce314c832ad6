// Every auth flow against a real daemon: bootstrap, login, refresh rotation and reuse, logout, token checks,
// API keys and login rate limiting.
#include <catch2/catch.hpp>

#include "core/util/encoding.hpp"
#include "support/daemon_process.hpp"

using namespace va::test;
using nlohmann::json;

namespace {

json bootstrap(const DaemonProcess& d, const std::string& email = "owner@example.com") {
    auto r = Api(d.base_url()).post("/api/v1/auth/bootstrap", {{"email", email}, {"password", "owner-password"}});
    REQUIRE(r.status == 201);
    return r.json();
}

}  // namespace

TEST_CASE("auth: bootstrap once, then log in, rotate and reuse-detect refresh tokens") {
    DaemonProcess d;
    Api api(d.base_url());
    auto boot = bootstrap(d);
    CHECK(boot["user"]["role"] == "owner");
    CHECK(boot["token_type"] == "Bearer");
    CHECK(api.post("/api/v1/auth/bootstrap", {{"email", "x@example.com"}, {"password", "password-2"}}).status == 409);

    auto login = api.post("/api/v1/auth/login", {{"email", "OWNER@example.com"}, {"password", "owner-password"}});
    REQUIRE(login.status == 200);
    auto tokens = login.json();
    CHECK(tokens["expires_in"] == 900);
    auto me = api.with_token(tokens["access_token"]).get("/api/v1/auth/me");
    REQUIRE(me.status == 200);
    CHECK(me.json()["kind"] == "user");
    CHECK(me.json()["user"]["email"] == "owner@example.com");

    auto bad = api.post("/api/v1/auth/login", {{"email", "owner@example.com"}, {"password", "wrong-password"}});
    auto unknown = api.post("/api/v1/auth/login", {{"email", "nobody@example.com"}, {"password", "wrong-password"}});
    CHECK(bad.status == 401);
    CHECK(unknown.status == 401);
    CHECK(bad.json()["error"]["message"] == unknown.json()["error"]["message"]);

    // Rotation: the old refresh token stops working, the new one works.
    std::string r1 = tokens["refresh_token"];
    auto rotated = api.post("/api/v1/auth/refresh", {{"refresh_token", r1}});
    REQUIRE(rotated.status == 200);
    std::string r2 = rotated.json()["refresh_token"];
    CHECK(r2 != r1);
    CHECK(api.with_token(rotated.json()["access_token"]).get("/api/v1/auth/me").status == 200);

    // Reuse of r1 (already rotated) revokes the whole family: r2 dies too.
    auto reuse = api.post("/api/v1/auth/refresh", {{"refresh_token", r1}});
    CHECK(reuse.status == 401);
    CHECK(api.post("/api/v1/auth/refresh", {{"refresh_token", r2}}).status == 401);

    // Logout revokes.
    auto fresh = api.post("/api/v1/auth/login", {{"email", "owner@example.com"}, {"password", "owner-password"}}).json();
    CHECK(api.post("/api/v1/auth/logout", {{"refresh_token", fresh["refresh_token"]}}).status == 204);
    CHECK(api.post("/api/v1/auth/refresh", {{"refresh_token", fresh["refresh_token"]}}).status == 401);
    CHECK(api.post("/api/v1/auth/refresh", {{"refresh_token", "vrt_garbage"}}).status == 401);
}

TEST_CASE("auth: bad, tampered, alg-none and expired access tokens are refused") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_JWT_SECRET", std::string(40, 'q')}});
    Api api(d.base_url());
    auto boot = bootstrap(d);
    std::string token = boot["access_token"];
    REQUIRE(api.with_token(token).get("/api/v1/agents").status == 200);

    auto missing = api.get("/api/v1/agents");
    CHECK(missing.status == 401);
    CHECK(missing.json()["error"]["code"] == "unauthenticated");
    CHECK(api.raw("GET", "/api/v1/agents", "", "").headers.count("www-authenticate") == 1);
    CHECK(api.with_token("garbage").get("/api/v1/agents").status == 401);
    CHECK(api.with_token("vak_not-a-real-key").get("/api/v1/agents").status == 401);
    CHECK(api.with_header("Authorization", "Basic dXNlcjpwYXNz").get("/api/v1/agents").status == 401);

    auto first = token.find('.'), second = token.rfind('.');
    json payload = json::parse(*va::base64url_decode(token.substr(first + 1, second - first - 1)));
    payload["role"] = "owner";
    payload["wid"] = "ws_other";
    std::string tampered = token.substr(0, first + 1) + va::base64url_encode(payload.dump()) + token.substr(second);
    CHECK(api.with_token(tampered).get("/api/v1/agents").status == 401);
    std::string none = va::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                       token.substr(first + 1, second - first - 1) + ".";
    CHECK(api.with_token(none).get("/api/v1/agents").status == 401);

    // The daemon tolerates 30 s of clock skew, so expiry is checked with a token whose exp is long past, signed
    // with the configured secret (the only way to have one without waiting).
    json old_payload = payload;
    old_payload["role"] = "owner";
    old_payload["wid"] = boot["user"]["workspace_id"];
    old_payload["iat"] = 1000000000;
    old_payload["nbf"] = 1000000000;
    old_payload["exp"] = 1000000900;
    std::string input = va::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + va::base64url_encode(old_payload.dump());
    std::string expired = input + "." + va::base64url_encode(va::hmac_sha256(std::string(40, 'q'), input));
    auto refused = api.with_token(expired).get("/api/v1/agents");
    CHECK(refused.status == 401);
    CHECK(refused.json()["error"]["message"] == "token expired");
    // Same claims with a fresh exp are accepted: the rejection above was the expiry, not the forging.
    old_payload["exp"] = 4000000000;
    input = va::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + va::base64url_encode(old_payload.dump());
    std::string valid = input + "." + va::base64url_encode(va::hmac_sha256(std::string(40, 'q'), input));
    CHECK(api.with_token(valid).get("/api/v1/agents").status == 200);
}

TEST_CASE("auth: API keys from admin.key and from the API; revocation is immediate") {
    DaemonProcess d;
    std::string admin_key = d.admin_key();
    REQUIRE(admin_key.rfind("vak_", 0) == 0);
    CHECK(d.log().find(admin_key) == std::string::npos);  // the key is never logged
    CHECK(d.log().find("admin.key") != std::string::npos);  // its path is
    Api owner(d.base_url(), admin_key);
    auto me = owner.get("/api/v1/auth/me");
    REQUIRE(me.status == 200);
    CHECK(me.json()["kind"] == "api_key");
    CHECK(me.json()["role"] == "owner");

    auto created = owner.post("/api/v1/api-keys", {{"name", "ci"}, {"role", "member"}});
    REQUIRE(created.status == 201);
    std::string key = created.json()["key"];
    std::string id = created.json()["api_key"]["id"];
    CHECK(created.json()["api_key"]["role"] == "member");
    CHECK_FALSE(created.json()["api_key"].contains("key_hash"));
    Api member(d.base_url(), key);
    CHECK(member.get("/api/v1/agents").status == 200);
    CHECK(member.get("/api/v1/auth/me").json()["role"] == "member");
    auto listed = owner.get("/api/v1/api-keys").json();
    CHECK(listed["items"].size() == 2);
    CHECK(listed.dump().find(key) == std::string::npos);  // never shown again
    CHECK(owner.del("/api/v1/api-keys/" + id).status == 204);
    CHECK(member.get("/api/v1/agents").status == 401);
    CHECK(owner.post("/api/v1/api-keys", {{"name", "bad"}, {"role", "root"}}).status == 400);
}

TEST_CASE("auth: login attempts are rate limited per address and account") {
    DaemonProcess d(Env{{"VOICEAGENT_AUTH_LOGIN_BURST", "3"}, {"VOICEAGENT_AUTH_LOGIN_PER_MINUTE", "1"}});
    Api api(d.base_url());
    bootstrap(d);
    for (int i = 0; i < 3; ++i)
        CHECK(api.post("/api/v1/auth/login", {{"email", "owner@example.com"}, {"password", "wrong-pass"}}).status == 401);
    auto limited = api.post("/api/v1/auth/login", {{"email", "owner@example.com"}, {"password", "owner-password"}});
    CHECK(limited.status == 429);
    REQUIRE(limited.headers.count("retry-after") == 1);
    CHECK(std::stoi(limited.headers["retry-after"]) >= 1);
    CHECK(limited.json()["error"]["code"] == "rate_limited");
    CHECK(api.get("/healthz").status == 200);
}

TEST_CASE("auth: bootstrap validates its input and names the field") {
    DaemonProcess d;
    Api api(d.base_url());
    auto short_pw = api.post("/api/v1/auth/bootstrap", {{"email", "a@example.com"}, {"password", "short"}});
    CHECK(short_pw.status == 400);
    CHECK(short_pw.json()["error"]["details"][0]["field"] == "password");
    auto bad_email = api.post("/api/v1/auth/bootstrap", {{"email", "nope"}, {"password", "long-enough"}});
    CHECK(bad_email.status == 400);
    CHECK(bad_email.json()["error"]["details"][0]["field"] == "email");
    auto wrong_type = api.post("/api/v1/auth/bootstrap", {{"email", 5}, {"password", "long-enough"}});
    CHECK(wrong_type.status == 400);
    CHECK(wrong_type.json()["error"]["details"][0]["reason"] == "must be a string");
}
