// The console's asset answers: gzip negotiation, ETag revalidation, the headers every answer carries, and the
// embedded table itself (every file of web/console, and Chart.js, with the right types).
#include <catch2/catch.hpp>

#include <set>

#include "daemon/console/console_routes.hpp"

using namespace va::console;

namespace {

std::string header(const va::http::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

va::http::Request request_with(std::vector<std::pair<std::string, std::string>> headers) {
    va::http::Request r;
    r.method = "GET";
    r.path = "/x.js";
    r.headers = std::move(headers);
    return r;
}

}  // namespace

TEST_CASE("console: Accept-Encoding accepts gzip by name or by *, unless its weight is 0") {
    CHECK(accepts_gzip("gzip"));
    CHECK(accepts_gzip("gzip, deflate, br"));
    CHECK(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
    CHECK(accepts_gzip("*"));
    CHECK(accepts_gzip("x-gzip"));
    CHECK_FALSE(accepts_gzip(""));
    CHECK_FALSE(accepts_gzip("identity"));
    CHECK_FALSE(accepts_gzip("br, deflate"));
    CHECK_FALSE(accepts_gzip("gzip;q=0"));
    CHECK_FALSE(accepts_gzip("gzip; q=0.000"));
    CHECK_FALSE(accepts_gzip("*, gzip;q=0"));  // named beats the wildcard
    CHECK(accepts_gzip("*;q=0.1, identity"));
    CHECK_FALSE(accepts_gzip("*;q=0"));
    CHECK_FALSE(accepts_gzip("gzipx"));
    CHECK_FALSE(accepts_gzip(";;;,,q=,"));
}

TEST_CASE("console: If-None-Match matches the tag in a list, weakly, or with *") {
    CHECK(etag_matches("\"abc\"", "\"abc\""));
    CHECK(etag_matches("\"x\", \"abc\"", "\"abc\""));
    CHECK(etag_matches("W/\"abc\"", "\"abc\""));
    CHECK(etag_matches("*", "\"abc\""));
    CHECK_FALSE(etag_matches("\"abcd\"", "\"abc\""));
    CHECK_FALSE(etag_matches("abc", "\"abc\""));
    CHECK_FALSE(etag_matches("", "\"abc\""));
    CHECK_FALSE(etag_matches(",,,", "\"abc\""));
}

TEST_CASE("console: an asset answers with its type, ETag, no-cache and the console's CSP, and gzip only when accepted") {
    Asset asset{"/x.js", "text/javascript; charset=utf-8", "plain bytes", "zipped", "\"0123\""};
    auto plain = serve_asset(asset, request_with({}));
    CHECK(plain.status == 200);
    CHECK(plain.body == "plain bytes");
    CHECK(plain.content_type == "text/javascript; charset=utf-8");
    CHECK(header(plain, "ETag") == "\"0123\"");
    CHECK(header(plain, "Cache-Control") == "no-cache");
    CHECK(header(plain, "Vary") == "Accept-Encoding");
    CHECK(header(plain, "Content-Encoding").empty());
    CHECK(header(plain, "Content-Security-Policy") == std::string(content_security_policy()));
    CHECK(content_security_policy().find("script-src 'self';") != std::string_view::npos);
    CHECK(content_security_policy().find("unsafe-inline") == std::string_view::npos);

    auto zipped = serve_asset(asset, request_with({{"accept-encoding", "gzip, br"}}));
    CHECK(zipped.body == "zipped");
    CHECK(header(zipped, "Content-Encoding") == "gzip");
    CHECK(header(zipped, "ETag") == "\"0123-gz\"");  // another representation, another strong tag

    // Either representation the browser holds is current.
    for (const char* held : {"\"0123\"", "\"0123-gz\"", "W/\"0123\""}) {
        auto again = serve_asset(asset, request_with({{"if-none-match", held}, {"accept-encoding", "gzip"}}));
        CHECK(again.status == 304);
        CHECK(again.body.empty());
        CHECK(again.content_type.empty());
        CHECK(header(again, "ETag") == "\"0123-gz\"");
    }
    CHECK(serve_asset(asset, request_with({{"if-none-match", "\"other\""}})).status == 200);

    // A file that gzip does not shrink is always sent as is, and says nothing about encodings.
    Asset image{"/a.png", "image/png", "png bytes", "", "\"77\""};
    auto png = serve_asset(image, request_with({{"accept-encoding", "gzip"}}));
    CHECK(png.body == "png bytes");
    CHECK(header(png, "Content-Encoding").empty());
    CHECK(header(png, "Vary").empty());
}

TEST_CASE("console: the embedded table holds index.html, the console's scripts and Chart.js, each once") {
    std::set<std::string_view> paths;
    for (const auto& a : assets()) {
        CHECK(paths.insert(a.path).second);
        CHECK(a.path.front() == '/');
        CHECK(a.etag.size() == 34);  // 16 bytes of SHA-256 in hex, quoted
        CHECK((a.gzip.empty() || a.gzip.size() < a.bytes.size()));
    }
    const Asset* index = find_asset("/index.html");
    REQUIRE(index);
    CHECK(index->content_type == "text/html; charset=utf-8");
    CHECK(index->bytes.find("<html") != std::string_view::npos);
    const Asset* app = find_asset("/app.js");
    REQUIRE(app);
    CHECK(app->content_type == "text/javascript; charset=utf-8");
    const Asset* chart = find_asset("/vendor/chart.min.js");
    REQUIRE(chart);
    CHECK(chart->content_type == "text/javascript; charset=utf-8");
    CHECK_FALSE(chart->gzip.empty());
    CHECK(find_asset("/nope.js") == nullptr);
}

TEST_CASE("console: the routes serve / and each asset's exact path, by GET and HEAD, and nothing else") {
    va::http::Router router;
    register_console_routes(router);
    for (const char* path : {"/", "/index.html", "/app.js", "/vendor/chart.min.js"}) {
        for (const char* method : {"GET", "HEAD"}) {
            va::http::Request r;
            r.method = method;
            r.path = path;
            auto match = router.match(r);
            INFO(method << " " << path);
            REQUIRE(match.handler);
            CHECK(match.options.public_route);
            CHECK(match.options.hidden);
        }
    }
    va::http::Request post;
    post.method = "POST";
    post.path = "/app.js";
    auto refused = router.match(post);
    CHECK_FALSE(refused.handler);
    CHECK(refused.path_known);
    for (const char* path : {"/missing.js", "/app.js/", "/vendor", "/vendor/", "//app.js", "/APP.JS"}) {
        va::http::Request r;
        r.method = "GET";
        r.path = path;
        INFO(path);
        CHECK_FALSE(router.match(r).handler);
    }
}
