// Cookie mode of the auth routes: the opt-in header and its CSRF checks, cookie parsing and the Set-Cookie values.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "daemon/api/auth_cookie.hpp"

using namespace va::api;

namespace {

va::http::Request request(std::vector<std::pair<std::string, std::string>> headers, bool secure = false) {
    va::http::Request r;
    r.method = "POST";
    r.path = "/api/v1/auth/refresh";
    r.headers = std::move(headers);
    r.secure = secure;
    return r;
}

}  // namespace

TEST_CASE("auth cookie: the console header opts in, a foreign Origin is refused, a bad value names the header") {
    auto plain = console_mode(request({{"host", "127.0.0.1:8700"}}));
    REQUIRE(plain);
    CHECK_FALSE(*plain);
    // Without the header the Origin is not the cookie's business (the legacy body mode is unchanged).
    auto legacy = console_mode(request({{"host", "127.0.0.1:8700"}, {"origin", "https://evil.example"}}));
    REQUIRE(legacy);
    CHECK_FALSE(*legacy);

    auto same = console_mode(request({{"host", "127.0.0.1:8700"}, {"x-voiceagent-console", "1"},
                                      {"origin", "http://127.0.0.1:8700"}}));
    REQUIRE(same);
    CHECK(*same);
    auto no_origin = console_mode(request({{"host", "127.0.0.1:8700"}, {"x-voiceagent-console", "1"}}));
    REQUIRE(no_origin);
    CHECK(*no_origin);
    auto tls = console_mode(request({{"host", "Voice.Example.com"}, {"x-voiceagent-console", "1"},
                                     {"origin", "https://voice.example.com"}},
                                    true));
    REQUIRE(tls);
    CHECK(*tls);

    for (const char* origin : {"https://evil.example", "http://127.0.0.1:8701", "https://127.0.0.1:8700", "null",
                               "http://127.0.0.1:8700.evil.example"}) {
        INFO(origin);
        auto foreign =
            console_mode(request({{"host", "127.0.0.1:8700"}, {"x-voiceagent-console", "1"}, {"origin", origin}}));
        REQUIRE_FALSE(foreign);
        CHECK(foreign.error().code == va::ErrorCode::forbidden);
    }
    auto bad = console_mode(request({{"host", "127.0.0.1:8700"}, {"x-voiceagent-console", "yes"}}));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == va::ErrorCode::invalid_request);
    REQUIRE_FALSE(bad.error().details.empty());
    CHECK(bad.error().details[0].field == "X-Voiceagent-Console");
}

TEST_CASE("auth cookie: the refresh cookie is found among others, and absent or empty is nothing") {
    CHECK(request_cookie(request({{"cookie", "a=1; va_refresh=vrt_abc; b=2"}}), kRefreshCookie) == "vrt_abc");
    CHECK(request_cookie(request({{"cookie", "a=1"}, {"cookie", "va_refresh=\"vrt_q\""}}), kRefreshCookie) == "vrt_q");
    CHECK_FALSE(request_cookie(request({{"cookie", "xva_refresh=1; va_refresh="}}), kRefreshCookie));
    CHECK_FALSE(request_cookie(request({{"cookie", ";;=;va_refresh"}}), kRefreshCookie));
    CHECK_FALSE(request_cookie(request({}), kRefreshCookie));
}

TEST_CASE("auth cookie: Set-Cookie is HttpOnly, SameSite=Strict, scoped to /api/v1/auth, Secure over https") {
    auto set_cookies = [](const va::http::Response& r) {
        std::vector<std::string> out;
        for (const auto& [name, value] : r.headers)
            if (name == "Set-Cookie") out.push_back(value);
        return out;
    };
    va::http::Response plain, tls, cleared;
    set_session_cookies(plain, "vrt_x", 60, false);
    set_session_cookies(tls, "vrt_x", 60, true);
    clear_session_cookies(cleared, false);
    CHECK(set_cookies(plain) == std::vector<std::string>{
              "va_refresh=vrt_x; HttpOnly; SameSite=Strict; Path=/api/v1/auth; Max-Age=60",
              "va_session=1; SameSite=Strict; Path=/; Max-Age=60"});
    CHECK(set_cookies(tls) == std::vector<std::string>{
              "va_refresh=vrt_x; HttpOnly; SameSite=Strict; Path=/api/v1/auth; Max-Age=60; Secure",
              "va_session=1; SameSite=Strict; Path=/; Max-Age=60; Secure"});
    CHECK(set_cookies(cleared) == std::vector<std::string>{
              "va_refresh=; HttpOnly; SameSite=Strict; Path=/api/v1/auth; Max-Age=0",
              "va_session=; SameSite=Strict; Path=/; Max-Age=0"});
    CHECK(own_origin(request({{"host", "a.example:8443"}}, true)) == "https://a.example:8443");
}
