#include <catch2/catch.hpp>

#include <set>

#include "core/auth/api_key.hpp"
#include "core/util/encoding.hpp"

using namespace va;

TEST_CASE("api key: random, prefixed, base64url, shown once and stored as SHA-256") {
    std::set<std::string> keys;
    for (int i = 0; i < 50; ++i) {
        auto k = generate_api_key();
        CHECK(k.key.rfind("vak_", 0) == 0);
        CHECK(k.key.size() == 4 + 43);  // 32 bytes in unpadded base64url
        REQUIRE(base64url_decode(k.key.substr(4)));
        CHECK(base64url_decode(k.key.substr(4))->size() == 32);
        CHECK(k.prefix.size() == 12);
        CHECK(k.key.rfind(k.prefix, 0) == 0);
        CHECK(k.hash == hash_api_key(k.key));
        CHECK(k.hash.size() == 64);
        CHECK(k.hash.find(k.key.substr(4)) == std::string::npos);
        keys.insert(k.key);
    }
    CHECK(keys.size() == 50);
}

TEST_CASE("api key: the hash is hex SHA-256 of the whole key") {
    // SHA-256("abc"), FIPS 180-2 test vector.
    CHECK(hash_api_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hash_api_key("vak_a") != hash_api_key("vak_b"));
}

TEST_CASE("api key: recognised by its prefix, JWTs are not") {
    CHECK(looks_like_api_key(generate_api_key().key));
    CHECK(looks_like_api_key("vak_abc"));
    CHECK_FALSE(looks_like_api_key("vak_"));
    CHECK_FALSE(looks_like_api_key(""));
    CHECK_FALSE(looks_like_api_key("eyJhbGciOiJIUzI1NiJ9.e30.sig"));
    CHECK_FALSE(looks_like_api_key("VAK_abc"));
}
