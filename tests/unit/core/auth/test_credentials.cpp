#include <catch2/catch.hpp>

#include <set>

#include "core/auth/api_key.hpp"
#include "core/auth/password.hpp"
#include "core/auth/rate_limiter.hpp"
#include "core/auth/roles.hpp"

using namespace va;

TEST_CASE("passwords hash with Argon2id and verify") {
    auto h1 = hash_password("correct horse battery");
    auto h2 = hash_password("correct horse battery");
    REQUIRE(h1);
    REQUIRE(h2);
    CHECK(h1->rfind("$argon2id$", 0) == 0);
    CHECK(*h1 != *h2);  // salted
    CHECK(verify_password("correct horse battery", *h1));
    CHECK(verify_password("correct horse battery", *h2));
    CHECK_FALSE(verify_password("correct horse batterz", *h1));
    CHECK_FALSE(verify_password("", *h1));
    CHECK_FALSE(verify_password("x", ""));
    CHECK_FALSE(verify_password("x", "$argon2id$garbage"));
}

TEST_CASE("password policy bounds length and names the field") {
    CHECK(check_password_policy("12345678"));
    auto short_pw = check_password_policy("1234567");
    REQUIRE_FALSE(short_pw);
    CHECK(short_pw.error().details.at(0).field == "password");
    CHECK_FALSE(check_password_policy(std::string(1025, 'x')));
}

TEST_CASE("API keys are random, prefixed and hashed") {
    std::set<std::string> keys;
    for (int i = 0; i < 50; ++i) {
        auto k = generate_api_key();
        CHECK(k.key.rfind("vak_", 0) == 0);
        CHECK(k.key.size() == 4 + 43);
        CHECK(k.key.rfind(k.prefix, 0) == 0);
        CHECK(k.prefix.size() == 12);
        CHECK(k.hash == hash_api_key(k.key));
        CHECK(k.hash.size() == 64);
        CHECK(k.hash.find(k.key.substr(4)) == std::string::npos);
        keys.insert(k.key);
    }
    CHECK(keys.size() == 50);
    CHECK(looks_like_api_key("vak_abc"));
    CHECK_FALSE(looks_like_api_key("eyJhbGciOi"));
    CHECK_FALSE(looks_like_api_key("vak_"));
}

TEST_CASE("roles parse and order") {
    CHECK(parse_role("owner") == Role::owner);
    CHECK(parse_role("viewer") == Role::viewer);
    CHECK_FALSE(parse_role("root"));
    CHECK_FALSE(parse_role("Admin"));
    CHECK(role_allows(Role::owner, Role::admin));
    CHECK(role_allows(Role::member, Role::member));
    CHECK_FALSE(role_allows(Role::viewer, Role::member));
    CHECK_FALSE(role_allows(Role::admin, Role::owner));
    for (auto r : {Role::viewer, Role::member, Role::admin, Role::owner}) CHECK(parse_role(to_string(r)) == r);
}

TEST_CASE("rate limiter allows a burst, then asks to wait, and refills over time") {
    RateLimiter limiter(3, 6);  // 3 at once, one more every 10 s
    std::int64_t t = 1'000'000;
    CHECK(limiter.acquire("ip", t) == 0);
    CHECK(limiter.acquire("ip", t) == 0);
    CHECK(limiter.acquire("ip", t) == 0);
    int wait = limiter.acquire("ip", t);
    CHECK(wait >= 9);
    CHECK(wait <= 10);
    CHECK(limiter.acquire("other", t) == 0);  // keys are independent
    CHECK(limiter.acquire("ip", t + 5'000) > 0);
    CHECK(limiter.acquire("ip", t + 10'001) == 0);
    CHECK(limiter.acquire("ip", t + 10'002) > 0);
    limiter.reset("ip");
    CHECK(limiter.acquire("ip", t + 10'003) == 0);
    // Long idle: pruned and back to a full burst.
    CHECK(limiter.acquire("ip", t + 3'600'000) == 0);
    CHECK(limiter.acquire("ip", t + 3'600'000) == 0);
}
