#include <catch2/catch.hpp>

#include "core/auth/password.hpp"

using namespace va;

TEST_CASE("password: hashes are Argon2id, salted, and verify") {
    auto h1 = hash_password("correct horse battery");
    auto h2 = hash_password("correct horse battery");
    REQUIRE(h1);
    REQUIRE(h2);
    CHECK(h1->rfind("$argon2id$", 0) == 0);
    CHECK(h1->find("correct horse") == std::string::npos);
    CHECK(*h1 != *h2);  // a fresh salt each time
    CHECK(verify_password("correct horse battery", *h1));
    CHECK(verify_password("correct horse battery", *h2));
}

TEST_CASE("password: wrong passwords and broken hashes do not verify") {
    auto h = hash_password("correct horse battery");
    REQUIRE(h);
    CHECK_FALSE(verify_password("correct horse batterz", *h));
    CHECK_FALSE(verify_password("Correct horse battery", *h));
    CHECK_FALSE(verify_password("correct horse battery ", *h));
    CHECK_FALSE(verify_password("", *h));
    CHECK_FALSE(verify_password("x", ""));
    CHECK_FALSE(verify_password("x", "$argon2id$garbage"));
    CHECK_FALSE(verify_password("x", std::string(4096, '$')));  // longer than any real hash
    std::string truncated = h->substr(0, h->size() - 4);
    CHECK_FALSE(verify_password("correct horse battery", truncated));
}

TEST_CASE("password: bytes beyond ASCII and embedded NULs are part of the password") {
    const std::string with_nul("pass\0word-1", 11);
    auto h = hash_password(with_nul);
    REQUIRE(h);
    CHECK(verify_password(with_nul, *h));
    CHECK_FALSE(verify_password("pass", *h));
    auto u = hash_password("pässwörd-ünïcode");
    REQUIRE(u);
    CHECK(verify_password("pässwörd-ünïcode", *u));
    CHECK_FALSE(verify_password("passwords-unicode", *u));
}

TEST_CASE("password: the policy bounds the length and names the field") {
    CHECK(check_password_policy("12345678"));
    CHECK(check_password_policy(std::string(1024, 'x')));
    auto too_short = check_password_policy("1234567");
    REQUIRE_FALSE(too_short);
    CHECK(too_short.error().code == ErrorCode::invalid_request);
    REQUIRE(too_short.error().details.size() == 1);
    CHECK(too_short.error().details[0].field == "password");
    CHECK(too_short.error().message.find("at least 8") != std::string::npos);
    auto too_long = check_password_policy(std::string(1025, 'x'));
    REQUIRE_FALSE(too_long);
    CHECK(too_long.error().details.at(0).field == "password");
    CHECK(too_long.error().message.find("at most 1024") != std::string::npos);
    PasswordPolicy strict{12, 64};
    CHECK_FALSE(check_password_policy("elevenchars", strict));
    CHECK(check_password_policy("twelve chars", strict));
}
