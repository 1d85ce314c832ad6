#include <catch2/catch.hpp>

#include "core/util/result.hpp"

using namespace va;

TEST_CASE("result: every error code has a name that reads back, and its HTTP status") {
    for (int c = 0; c <= static_cast<int>(ErrorCode::internal); ++c) {
        auto code = static_cast<ErrorCode>(c);
        INFO(to_string(code));
        REQUIRE(error_code_from_string(to_string(code)) == code);
        CHECK(http_status(code) >= 400);
    }
    CHECK_FALSE(error_code_from_string("no_such_code"));
    CHECK_FALSE(error_code_from_string(""));
    // An upstream's unreadable answer is the upstream's fault, not the daemon's, and is not asked again.
    CHECK(http_status(ErrorCode::bad_gateway) == 502);
    CHECK_FALSE(make_error(ErrorCode::bad_gateway, "x").transient());
}
