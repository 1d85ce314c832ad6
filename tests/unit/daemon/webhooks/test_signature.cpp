#include <catch2/catch.hpp>

#include "daemon/webhooks/webhooks.hpp"

using namespace va;

TEST_CASE("webhooks: the signature is t=<unix>,v1=<hex HMAC-SHA256 of t.body>") {
    // Reference value from Python: hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    CHECK(webhook_signature("whsec_test", 1700000000, R"({"a":1})") ==
          "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
    CHECK(webhook_signature("whsec_other", 1700000000, R"({"a":1})") !=
          webhook_signature("whsec_test", 1700000000, R"({"a":1})"));
    CHECK(webhook_signature("whsec_test", 1700000001, R"({"a":1})").rfind("t=1700000001,v1=", 0) == 0);
}
