// Request parsing from bytes (the server's fill_request, driven through parse_request as the fuzz harness does).
#include <catch2/catch.hpp>

#include "daemon/server/request_parse.hpp"

using va::http::parse_request;

TEST_CASE("request_parse: a request becomes a Request with decoded path, query and lower-case headers") {
    std::string wire =
        "POST /api/v1/a%20b?limit=5&q=x+y HTTP/1.1\r\nHost: h\r\nContent-Type: text/csv\r\nContent-Length: 3\r\n\r\nabc"
        "GET /healthz HTTP/1.1\r\n\r\n";
    auto first = parse_request(wire, 8192, 1024);
    REQUIRE(first);
    CHECK(first->request.method == "POST");
    CHECK(first->request.path == "/api/v1/a b");
    CHECK(first->request.query.at("q") == "x y");
    CHECK(first->request.header("content-type") == "text/csv");
    CHECK(first->request.body == "abc");
    CHECK(first->keep_alive);
    auto second = parse_request(std::string_view(wire).substr(first->consumed), 8192, 1024);
    REQUIRE(second);
    CHECK(second->request.path == "/healthz");
}

TEST_CASE("request_parse: empty, incomplete, malformed and oversized input are errors") {
    CHECK_FALSE(parse_request("", 8192, 1024));
    CHECK_FALSE(parse_request("GET / HTTP/1.1\r\nHost: h\r\n", 8192, 1024));
    CHECK_FALSE(parse_request("GET / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 8192, 1024));
    CHECK_FALSE(parse_request("GET\x01 / HTTP/1.1\r\n\r\n", 8192, 1024));
    auto big = parse_request("POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x'), 8192, 1024);
    REQUIRE_FALSE(big);
    CHECK(big.error().code == va::ErrorCode::too_large);
    auto upgrade = parse_request("GET /media/twilio/c1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                                 8192, 1024);
    REQUIRE(upgrade);
    CHECK(upgrade->upgrade);
}
