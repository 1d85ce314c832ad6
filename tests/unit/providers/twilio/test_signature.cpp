#include <catch2/catch.hpp>

#include "core/util/encoding.hpp"
#include "providers/twilio/signature.hpp"

using namespace va::twilio;

namespace {

const Params kDocParams{{"To", "+18005551212"}, {"CallSid", "CA1234567890ABCDE"}, {"Caller", "+12349013030"},
                        {"From", "+12349013030"}, {"Digits", "1234"}};

}  // namespace

TEST_CASE("twilio signature: the documented example") {
    CHECK(signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", kDocParams) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    CHECK(signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", kDocParams) ==
          "EpDEmp1PyjDYp77YxYU3GILBWzE=");
}

TEST_CASE("twilio signature: verification accepts the URL with and without the default port") {
    std::string body;
    CHECK(verify_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", kDocParams, body,
                           "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    CHECK(verify_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", kDocParams, body,
                           "EpDEmp1PyjDYp77YxYU3GILBWzE="));
    CHECK(verify_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", kDocParams, body,
                           "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
}

TEST_CASE("twilio signature: a wrong token, parameter, URL or empty header fails") {
    std::string body;
    const std::string good = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
    const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    CHECK_FALSE(verify_signature("54321", url, kDocParams, body, good));
    Params changed = kDocParams;
    changed[0].second = "+18005551213";
    CHECK_FALSE(verify_signature("12345", url, changed, body, good));
    CHECK_FALSE(verify_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", kDocParams, body, good));
    CHECK_FALSE(verify_signature("12345", "https://mycompany.com:8443/myapp.php?foo=1&bar=2", kDocParams, body, good));
    CHECK_FALSE(verify_signature("12345", url, kDocParams, body, ""));
}

TEST_CASE("twilio signature: the JSON-body variant signs the URL and checks bodySHA256") {
    std::string body = R"({"property": "value", "boolean": true})";
    std::string hex = va::hex_encode(va::sha256(body));
    CHECK(hex == "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620");
    std::string url = "https://mycompany.com/myapp.php?bodySHA256=" + hex;
    CHECK(signature("12345", url, {}) == "y77kIzt2vzLz71DgmJGsen2scGs=");
    CHECK(verify_signature("12345", url, {}, body, "y77kIzt2vzLz71DgmJGsen2scGs="));
    CHECK_FALSE(verify_signature("12345", url, {}, body + " ", "y77kIzt2vzLz71DgmJGsen2scGs="));
}

TEST_CASE("twilio signature: repeated parameters contribute each distinct value in order") {
    Params repeated{{"B", "2"}, {"A", "z"}, {"A", "y"}, {"A", "y"}};
    CHECK(signature("k", "https://x.test/", repeated) == signature("k", "https://x.test/", {{"A", "y"}, {"A", "z"}, {"B", "2"}}));
}

TEST_CASE("twilio signature: form bodies decode plus and percent escapes") {
    auto form = va::parse_form("Caller=%2B12349013030&Name=Jane+Doe&Empty=&Flag");
    REQUIRE(form.size() == 4);
    CHECK(form[0] == std::pair<std::string, std::string>{"Caller", "+12349013030"});
    CHECK(form[1].second == "Jane Doe");
    CHECK(form[2].second.empty());
    CHECK(form[3].first == "Flag");
}
