// The web console served by a real daemon: index.html at /, each embedded file at its path with its type, gzip
// when asked (the gunzipped bytes are the source file's), ETag revalidation, HEAD, 404 for other paths, the
// console's CSP, server.console = false; and the console's cookie-mode sign-in (HttpOnly SameSite=Strict cookie,
// rotation and reuse detection through it, its CSRF checks, logout) next to the unchanged body mode, and
// GET /api/v1/auth/status.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <fstream>
#include <map>
#include <sstream>

#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using nlohmann::json;

namespace {

const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'";

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string source_file(const std::string& relative) { return read_file(std::string(VA_SOURCE_DIR) + "/" + relative); }

// An answer exactly as sent (no client decompressing it), from a raw request with Connection: close.
struct RawReply {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
};

RawReply raw_request(int port, const std::string& method, const std::string& path,
                     const std::vector<std::string>& headers = {}) {
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nConnection: close\r\n";
    for (const auto& h : headers) request += h + "\r\n";
    std::string reply = raw_exchange(port, request + "\r\n", 10000);
    RawReply out;
    auto end = reply.find("\r\n\r\n");
    REQUIRE(end != std::string::npos);
    std::istringstream head(reply.substr(0, end));
    std::string line;
    std::getline(head, line);
    REQUIRE(line.rfind("HTTP/1.1 ", 0) == 0);
    out.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    out.body = reply.substr(end + 4);
    return out;
}

std::string gunzip(const std::string& data) {
    z_stream z{};
    REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buffer[65536];
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buffer, sizeof buffer - z.avail_out);
    }
    inflateEnd(&z);
    REQUIRE(rc == Z_STREAM_END);
    return out;
}

// The va_refresh value a Set-Cookie sets; empty when it clears it.
std::string cookie_value(const std::string& set_cookie) {
    REQUIRE(set_cookie.rfind("va_refresh=", 0) == 0);
    return set_cookie.substr(11, set_cookie.find(';') - 11);
}

}  // namespace

TEST_CASE("console: / is index.html with the console's CSP, and files by path with their types, gzip, ETag, HEAD, 404") {
    DaemonProcess d;
    Api api(d.base_url());
    std::string index = source_file("web/console/index.html");

    auto root = raw_request(d.port(), "GET", "/");
    CHECK(root.status == 200);
    CHECK(root.body == index);
    CHECK(root.headers["content-type"] == "text/html; charset=utf-8");
    CHECK(root.headers["content-security-policy"] == kCsp);
    CHECK(root.headers["x-content-type-options"] == "nosniff");
    CHECK(root.headers["x-frame-options"] == "DENY");
    CHECK(root.headers["referrer-policy"] == "no-referrer");
    CHECK(root.headers["cache-control"] == "no-cache");
    CHECK(root.headers.count("content-encoding") == 0);  // not asked for
    CHECK(raw_request(d.port(), "GET", "/index.html").body == index);

    auto css = raw_request(d.port(), "GET", "/app.css");
    CHECK(css.status == 200);
    CHECK(css.headers["content-type"] == "text/css; charset=utf-8");
    CHECK(css.body == source_file("web/console/app.css"));
    auto js = raw_request(d.port(), "GET", "/app.js");
    CHECK(js.headers["content-type"] == "text/javascript; charset=utf-8");
    CHECK(js.body == source_file("web/console/app.js"));
    CHECK(js.headers["content-security-policy"] == kCsp);

    // Chart.js from Debian's libjs-chart.js, compressed when the browser accepts gzip.
    std::string chart = read_file("/usr/share/javascript/chart.js/chart.min.js");
    auto vendor = raw_request(d.port(), "GET", "/vendor/chart.min.js", {"Accept-Encoding: gzip, deflate, br"});
    CHECK(vendor.status == 200);
    CHECK(vendor.headers["content-type"] == "text/javascript; charset=utf-8");
    CHECK(vendor.headers["content-encoding"] == "gzip");
    CHECK(vendor.headers["vary"] == "Accept-Encoding");
    CHECK(vendor.body.size() < chart.size() / 2);
    CHECK(gunzip(vendor.body) == chart);
    auto vendor_plain = raw_request(d.port(), "GET", "/vendor/chart.min.js", {"Accept-Encoding: gzip;q=0"});
    CHECK(vendor_plain.headers.count("content-encoding") == 0);
    CHECK(vendor_plain.body == chart);

    // Revalidation: the ETag comes back as If-None-Match and costs a 304 without a body.
    std::string etag = vendor.headers["etag"];
    REQUIRE(etag.size() > 2);
    CHECK(etag.front() == '"');
    auto again = raw_request(d.port(), "GET", "/vendor/chart.min.js",
                             {"Accept-Encoding: gzip", "If-None-Match: " + etag});
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(again.headers["etag"] == etag);
    auto changed = raw_request(d.port(), "GET", "/vendor/chart.min.js", {"If-None-Match: \"stale\""});
    CHECK(changed.status == 200);
    CHECK(changed.body == chart);

    // HEAD: the GET's headers and length, no body.
    auto head = raw_request(d.port(), "HEAD", "/app.js");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.headers["content-length"] == std::to_string(source_file("web/console/app.js").size()));
    CHECK(head.headers["etag"] == js.headers["etag"]);

    // Paths that are not embedded files stay 404 (the page routes by hash), and the files cannot be written to.
    for (const char* path : {"/nope.js", "/agents", "/vendor/", "/app.js/x", "/../etc/passwd", "/%2e%2e/index.html"}) {
        INFO(path);
        auto missing = api.get(path);
        CHECK(missing.status == 404);
        CHECK(missing.json()["error"]["code"] == "not_found");
    }
    CHECK(api.raw("POST", "/app.js", "{}", "application/json").status == 405);

    // The API keeps its own deny-all CSP, and the console's files are not API routes.
    CHECK(api.get("/healthz").headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'");
    auto openapi = api.get("/api/v1/openapi.json").json();
    CHECK_FALSE(openapi["paths"].contains("/"));
    CHECK_FALSE(openapi["paths"].contains("/app.js"));
    CHECK(openapi["paths"].contains("/api/v1/auth/status"));
    CHECK(openapi["paths"]["/api/v1/auth/status"]["get"]["security"] == json::array());
}

TEST_CASE("console: server.console = false leaves / and the files 404 and the API as it was") {
    DaemonProcess d(Env{{"VOICEAGENT_SERVER_CONSOLE", "false"}});
    Api api(d.base_url());
    for (const char* path : {"/", "/index.html", "/app.js", "/vendor/chart.min.js"}) {
        INFO(path);
        CHECK(api.get(path).status == 404);
    }
    CHECK(api.get("/healthz").status == 200);
    CHECK(api.get("/api/v1/auth/status").status == 200);
}

TEST_CASE("console sign-in: the refresh token lives in an HttpOnly SameSite=Strict cookie, rotates, and is CSRF-safe") {
    // Trusting loopback as a proxy lets the test speak as nginx terminating TLS (X-Forwarded-Proto: https).
    DaemonProcess d(Env{{"VOICEAGENT_SERVER_TRUSTED_PROXIES", "127.0.0.1"}});
    create_owner_user(d);
    std::string origin = "http://127.0.0.1:" + std::to_string(d.port());
    Api console = Api(d.base_url()).with_header("X-Voiceagent-Console", "1").with_header("Origin", origin);
    json credentials{{"email", "owner@example.com"}, {"password", "owner-password"}};

    auto login = console.post("/api/v1/auth/login", credentials);
    REQUIRE(login.status == 200);
    CHECK(login.json()["access_token"].is_string());
    CHECK(login.json()["expires_in"] == 900);
    CHECK(login.json()["user"]["email"] == "owner@example.com");
    CHECK_FALSE(login.json().contains("refresh_token"));
    std::string set_cookie = login.headers["set-cookie"];
    CHECK(set_cookie.find("; HttpOnly") != std::string::npos);
    CHECK(set_cookie.find("; SameSite=Strict") != std::string::npos);
    CHECK(set_cookie.find("; Path=/api/v1/auth") != std::string::npos);
    CHECK(set_cookie.find("; Max-Age=2592000") != std::string::npos);
    CHECK(set_cookie.find("Secure") == std::string::npos);  // plain http
    std::string first = cookie_value(set_cookie);
    // Beside it, the marker page script reads to know a session may be restored: no secret in it, all of the site.
    REQUIRE(login.set_cookies.size() == 2);
    CHECK(login.set_cookies[1] == "va_session=1; SameSite=Strict; Path=/; Max-Age=2592000");
    CHECK(first.rfind("vrt_", 0) == 0);
    // The access token works as usual.
    CHECK(Api(d.base_url(), login.json()["access_token"]).get("/api/v1/auth/me").status == 200);

    // Refresh through the cookie rotates it.
    auto refreshed = console.with_header("Cookie", "va_refresh=" + first).post("/api/v1/auth/refresh", json::object());
    REQUIRE(refreshed.status == 200);
    CHECK(refreshed.json()["access_token"].is_string());
    CHECK_FALSE(refreshed.json().contains("refresh_token"));
    std::string second = cookie_value(refreshed.headers["set-cookie"]);
    CHECK(second != first);
    CHECK(second.rfind("vrt_", 0) == 0);

    // CSRF: the cookie without the console header is refused, and so is the header from a foreign origin.
    auto headerless = Api(d.base_url()).with_header("Cookie", "va_refresh=" + second).post("/api/v1/auth/refresh",
                                                                                          json::object());
    CHECK(headerless.status == 403);
    CHECK(headerless.json()["error"]["message"].get<std::string>().find("X-Voiceagent-Console") != std::string::npos);
    for (const char* foreign : {"https://evil.example", "http://127.0.0.1:1", "null"}) {
        INFO(foreign);
        auto cross = Api(d.base_url())
                         .with_header("X-Voiceagent-Console", "1")
                         .with_header("Origin", foreign)
                         .with_header("Cookie", "va_refresh=" + second)
                         .post("/api/v1/auth/refresh", json::object());
        CHECK(cross.status == 403);
        CHECK(cross.headers.count("set-cookie") == 0);
    }
    auto cross_login = Api(d.base_url())
                           .with_header("X-Voiceagent-Console", "1")
                           .with_header("Origin", "https://evil.example")
                           .post("/api/v1/auth/login", credentials);
    CHECK(cross_login.status == 403);
    CHECK(cross_login.headers.count("set-cookie") == 0);
    CHECK(console.post("/api/v1/auth/refresh", json::object()).status == 401);  // no cookie
    auto with_body = console.with_header("Cookie", "va_refresh=" + second)
                         .post("/api/v1/auth/refresh", {{"refresh_token", second}});
    CHECK(with_body.status == 400);
    CHECK(with_body.names_field("refresh_token"));

    // The rotated first token presented again is reuse: the family ends (the second dies with it) and the answer
    // clears the cookie.
    auto reused = console.with_header("Cookie", "va_refresh=" + first).post("/api/v1/auth/refresh", json::object());
    CHECK(reused.status == 401);
    CHECK(reused.headers["set-cookie"].find("va_refresh=;") == 0);
    CHECK(reused.headers["set-cookie"].find("Max-Age=0") != std::string::npos);
    CHECK(console.with_header("Cookie", "va_refresh=" + second).post("/api/v1/auth/refresh", json::object()).status ==
          401);

    // Behind a TLS-terminating trusted proxy the cookie is Secure.
    auto tls = console.with_header("X-Forwarded-Proto", "https")
                   .with_header("Origin", "https://127.0.0.1:" + std::to_string(d.port()))
                   .post("/api/v1/auth/login", credentials);
    REQUIRE(tls.status == 200);
    CHECK(tls.headers["set-cookie"].find("; Secure") != std::string::npos);

    // Logout revokes the family and clears the cookie.
    auto fresh = console.post("/api/v1/auth/login", credentials);
    REQUIRE(fresh.status == 200);
    std::string third = cookie_value(fresh.headers["set-cookie"]);
    auto out = console.with_header("Cookie", "va_refresh=" + third).post("/api/v1/auth/logout", json::object());
    CHECK(out.status == 204);
    CHECK(out.headers["set-cookie"].find("va_refresh=;") == 0);
    CHECK(out.headers["set-cookie"].find("Max-Age=0") != std::string::npos);
    REQUIRE(out.set_cookies.size() == 2);
    CHECK(out.set_cookies[1] == "va_session=; SameSite=Strict; Path=/; Max-Age=0");
    CHECK(console.with_header("Cookie", "va_refresh=" + third).post("/api/v1/auth/refresh", json::object()).status ==
          401);
    CHECK(console.post("/api/v1/auth/logout", json::object()).status == 204);  // signing out twice is fine

    // No refresh token ever reaches the log (the access log has paths only, and the cookie is never logged).
    auto log = d.log();
    for (const auto& token : {first, second, third}) CHECK(log.find(token) == std::string::npos);
}

TEST_CASE("console sign-in: without the console header the auth routes answer as before (refresh token in the body)") {
    DaemonProcess d;
    auto tokens = owner_login(d);
    Api api(d.base_url());
    REQUIRE(tokens["refresh_token"].is_string());
    auto refreshed = api.post("/api/v1/auth/refresh", {{"refresh_token", tokens["refresh_token"]}});
    REQUIRE(refreshed.status == 200);
    CHECK(refreshed.json()["refresh_token"].is_string());
    CHECK(refreshed.headers.count("set-cookie") == 0);
    // A foreign Origin is not the body mode's concern (no cookie is involved).
    auto logout = api.with_header("Origin", "https://elsewhere.example")
                      .post("/api/v1/auth/logout", {{"refresh_token", refreshed.json()["refresh_token"]}});
    CHECK(logout.status == 204);
    CHECK(logout.headers.count("set-cookie") == 0);
    CHECK(api.post("/api/v1/auth/refresh", json::object()).names_field("refresh_token"));
    CHECK(api.with_header("X-Voiceagent-Console", "true").post("/api/v1/auth/refresh", json::object()).status == 400);
}

TEST_CASE("auth status: whether a user exists and whether bootstrap from loopback is open, before and after") {
    DaemonProcess d;
    Api api(d.base_url());
    // At first start the owner key in admin.key exists: no user yet, and bootstrap is closed.
    auto start = api.get("/api/v1/auth/status");
    REQUIRE(start.status == 200);
    CHECK(start.json() == json{{"has_users", false}, {"bootstrap_from_loopback", false}});
    CHECK(start.headers.count("set-cookie") == 0);
    // With every key revoked, bootstrap reopens; after it, a user exists and it is closed again.
    Api owner_key(d.base_url(), d.admin_key());
    std::string key_id = owner_key.get("/api/v1/auth/me").json()["api_key"]["id"];
    REQUIRE(owner_key.del("/api/v1/api-keys/" + key_id).status == 204);
    CHECK(api.get("/api/v1/auth/status").json() == json{{"has_users", false}, {"bootstrap_from_loopback", true}});
    REQUIRE(api.post("/api/v1/auth/bootstrap", {{"email", "first@example.com"}, {"password", "long-enough"}}).status ==
            201);
    CHECK(api.get("/api/v1/auth/status").json() == json{{"has_users", true}, {"bootstrap_from_loopback", false}});
}
