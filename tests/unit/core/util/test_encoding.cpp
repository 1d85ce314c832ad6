#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/util/encoding.hpp"

using namespace va;

TEST_CASE("base64 matches RFC 4648 test vectors") {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (auto [plain, encoded] : vectors) {
        CHECK(base64_encode(plain) == encoded);
        auto back = base64_decode(encoded);
        REQUIRE(back);
        CHECK(*back == plain);
    }
}

TEST_CASE("base64_append appends what base64_encode gives, of the size base64_size says") {
    const std::vector<std::string> inputs{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string(160, '\x7F')};
    for (const std::string& plain : inputs) {
        std::string out = "head:";
        base64_append(plain, out);
        CHECK(out == "head:" + base64_encode(plain));
        CHECK(base64_size(plain.size()) == base64_encode(plain).size());
    }
}

TEST_CASE("base64 decoding rejects malformed input") {
    CHECK_FALSE(base64_decode("Zg="));    // wrong length
    CHECK_FALSE(base64_decode("Z!=="));   // bad character
    CHECK_FALSE(base64_decode("Zh=="));   // non-zero unused bits
    CHECK_FALSE(base64url_decode("Zg=="));  // padding not allowed in base64url
    CHECK_FALSE(base64url_decode("a"));
    CHECK_FALSE(base64url_decode("ab+/"));  // standard alphabet characters
}

TEST_CASE("base64url round trips every byte value") {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    auto enc = base64url_encode(all);
    CHECK(enc.find('=') == std::string::npos);
    CHECK(enc.find('+') == std::string::npos);
    auto dec = base64url_decode(enc);
    REQUIRE(dec);
    CHECK(*dec == all);
}

TEST_CASE("sha256 and hmac-sha256 match published vectors") {
    CHECK(hex_encode(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // RFC 4231 test case 2
    CHECK(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // RFC 4231 test case 6: key longer than the block size
    CHECK(hex_encode(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("constant_time_equal compares content and length") {
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "abcd"));
    CHECK(constant_time_equal("", ""));
}
