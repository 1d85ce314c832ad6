#include <catch2/catch.hpp>

#include <set>

#include "core/util/ids.hpp"
#include "core/util/log.hpp"
#include "core/util/time.hpp"

using namespace va;

TEST_CASE("ids carry their prefix, are unique and sort by creation time") {
    std::set<std::string> seen;
    std::string previous;
    for (int i = 0; i < 1000; ++i) {
        auto id = new_id("agt");
        CHECK(id.rfind("agt_", 0) == 0);
        CHECK(id.size() == 4 + 26);
        CHECK(seen.insert(id).second);
    }
    auto a = new_id("x");
    // A later millisecond sorts later whatever the random part.
    auto t0 = now_ms();
    while (now_ms() == t0) {}
    auto b = new_id("x");
    CHECK(a.substr(0, 12) <= b.substr(0, 12));
    CHECK(a < b);
}

TEST_CASE("random tokens are url-safe and distinct") {
    auto a = random_token(32), b = random_token(32);
    CHECK(a != b);
    CHECK(a.size() == 43);
    CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
}

TEST_CASE("RFC 3339 formatting and parsing round trip") {
    CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_rfc3339(1795491244123) == "2026-11-24T03:34:04.123Z");
    CHECK(parse_rfc3339("2026-11-24T03:34:04.123Z") == std::optional<std::int64_t>(1795491244123));
    CHECK(parse_rfc3339("2026-11-24T05:34:04+02:00") == std::optional<std::int64_t>(1795491244000));
    CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == std::optional<std::int64_t>(0));
    CHECK_FALSE(parse_rfc3339("2026-11-24"));
    CHECK_FALSE(parse_rfc3339("2026-13-01T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("2026-11-24T03:34:04"));
    CHECK_FALSE(parse_rfc3339("2026-11-24T03:34:04Zjunk"));
    auto now = now_ms();
    CHECK(parse_rfc3339(format_rfc3339(now)) == std::optional<std::int64_t>(now));
}

TEST_CASE("redact masks secrets in free text") {
    CHECK(redact("Authorization: Bearer abc.def-ghi") == "Authorization: Bearer [redacted]");
    CHECK(redact("key vak_AbC123_x-y used") == "key vak_[redacted] used");
    CHECK(redact("url https://user:pa55@host/x") == "url https://[redacted]@host/x");
    CHECK(redact(R"({"password":"hunter2","x":1})") == R"({"password":"[redacted]","x":1})");
    CHECK(redact("token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig") == "token=[redacted]");
    CHECK(redact("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here") == "jwt [redacted-jwt] here");
    CHECK(redact("nothing secret") == "nothing secret");
}

TEST_CASE("json_escape escapes quotes, backslashes and control characters") {
    CHECK(json_escape("a\"b\\c\nd\x01") == "a\\\"b\\\\c\\nd\\u0001");
}
