// The client address behind reverse proxies: forwarding headers are believed only from trusted proxies, walked
// from the right, and never let a client pick its own address.
#include <catch2/catch.hpp>

#include "daemon/server/client_address.hpp"

using va::http::client_address;
using va::http::is_loopback_address;
using va::http::TrustedProxies;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

TrustedProxies trusted(const std::string& text) {
    auto parsed = TrustedProxies::parse(text);
    REQUIRE(parsed);
    return *parsed;
}

}  // namespace

TEST_CASE("client address: trusted proxies parse addresses and CIDR blocks, and name a bad entry") {
    auto t = trusted(" 10.0.0.0/8, 127.0.0.1 ,::1, 2001:db8::/32, 192.168.1.7/32");
    CHECK(t.contains("10.200.3.4"));
    CHECK(t.contains("127.0.0.1"));
    CHECK_FALSE(t.contains("127.0.0.2"));
    CHECK(t.contains("::1"));
    CHECK(t.contains("::ffff:10.1.2.3"));  // IPv4-mapped counts as IPv4
    CHECK(t.contains("2001:db8:1::5"));
    CHECK_FALSE(t.contains("2001:db9::5"));
    CHECK(t.contains("192.168.1.7"));
    CHECK_FALSE(t.contains("192.168.1.8"));
    CHECK_FALSE(t.contains("garbage"));
    CHECK(trusted("").empty());
    for (const char* bad : {"10.0.0.0/33", "nope", "10.0.0.0/x", "::1/129"}) {
        INFO(bad);
        auto parsed = TrustedProxies::parse(bad);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().details.at(0).field == "server.trusted_proxies");
    }
}

TEST_CASE("client address: without trusted proxies, forwarding headers are ignored") {
    Headers h{{"x-forwarded-for", "203.0.113.9"}, {"forwarded", "for=198.51.100.1"}};
    CHECK(client_address("127.0.0.1", h, trusted("")) == "127.0.0.1");
    // From an address that is not a trusted proxy, the same.
    CHECK(client_address("192.0.2.50", h, trusted("127.0.0.1")) == "192.0.2.50");
}

TEST_CASE("client address: X-Forwarded-For is walked from the right, skipping trusted hops") {
    auto t = trusted("127.0.0.1, 10.0.0.0/8");
    // The client forged the leftmost entry; the first untrusted hop from the right is the real client.
    CHECK(client_address("127.0.0.1", {{"x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.5"}}, t) == "203.0.113.9");
    // Several headers count as one list, in order.
    CHECK(client_address("127.0.0.1", {{"x-forwarded-for", "1.1.1.1"}, {"x-forwarded-for", "203.0.113.7"}}, t) ==
          "203.0.113.7");
    // Ports and brackets are dropped; IPv6 stays IPv6.
    CHECK(client_address("127.0.0.1", {{"x-forwarded-for", "203.0.113.9:4444"}}, t) == "203.0.113.9");
    CHECK(client_address("127.0.0.1", {{"x-forwarded-for", "[2001:db8::7]:80"}}, t) == "2001:db8::7");
    // All hops trusted: the leftmost. No header: the proxy itself.
    CHECK(client_address("127.0.0.1", {{"x-forwarded-for", "10.1.1.1, 10.2.2.2"}}, t) == "10.1.1.1");
    CHECK(client_address("127.0.0.1", {}, t) == "127.0.0.1");
    // Garbage stops the walk at the last address believed.
    CHECK(client_address("127.0.0.1", {{"x-forwarded-for", "203.0.113.9, nonsense"}}, t) == "127.0.0.1");
    CHECK(client_address("127.0.0.1", {{"x-forwarded-for", "nonsense, 10.0.0.5"}}, t) == "10.0.0.5");
}

TEST_CASE("client address: Forwarded for= is used when present, quoted IPv6 and ports included") {
    auto t = trusted("127.0.0.1");
    CHECK(client_address("127.0.0.1", {{"forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43"}}, t) == "192.0.2.60");
    CHECK(client_address("127.0.0.1", {{"forwarded", R"(for=1.1.1.1, For="[2001:db8:cafe::17]:4711")"}}, t) ==
          "2001:db8:cafe::17");
    // Forwarded wins over X-Forwarded-For when both are present.
    CHECK(client_address("127.0.0.1", {{"x-forwarded-for", "198.51.100.1"}, {"forwarded", "for=192.0.2.61"}}, t) ==
          "192.0.2.61");
    CHECK(client_address("127.0.0.1", {{"forwarded", "for=unknown"}}, t) == "127.0.0.1");
}

TEST_CASE("client address: loopback") {
    CHECK(is_loopback_address("127.0.0.1"));
    CHECK(is_loopback_address("127.8.0.1"));
    CHECK(is_loopback_address("::1"));
    CHECK(is_loopback_address("::ffff:127.0.0.1"));
    CHECK_FALSE(is_loopback_address("203.0.113.9"));
    CHECK_FALSE(is_loopback_address(""));
}

TEST_CASE("client address: https is believed only from a trusted proxy, from the nearest forwarding value") {
    using va::http::forwarded_https;
    auto t = trusted("127.0.0.1");
    CHECK(forwarded_https("127.0.0.1", Headers{{"x-forwarded-proto", "https"}}, t));
    CHECK(forwarded_https("127.0.0.1", Headers{{"x-forwarded-proto", "HTTPS"}}, t));
    // A client talking to us directly cannot claim https.
    CHECK_FALSE(forwarded_https("10.0.0.9", Headers{{"x-forwarded-proto", "https"}}, t));
    CHECK_FALSE(forwarded_https("127.0.0.1", Headers{}, t));
    CHECK_FALSE(forwarded_https("127.0.0.1", Headers{{"x-forwarded-proto", "http"}}, t));
    // The proxy appends or overwrites: the rightmost value is the one it wrote.
    CHECK_FALSE(forwarded_https("127.0.0.1", Headers{{"x-forwarded-proto", "https, http"}}, t));
    CHECK(forwarded_https("127.0.0.1", Headers{{"x-forwarded-proto", "http, https"}}, t));
    // Forwarded wins over X-Forwarded-Proto, and its last element counts.
    CHECK(forwarded_https("127.0.0.1", Headers{{"forwarded", "for=1.2.3.4;proto=https"}}, t));
    CHECK(forwarded_https("127.0.0.1", Headers{{"forwarded", "for=1.2.3.4;Proto=\"https\";host=a"}}, t));
    CHECK_FALSE(forwarded_https("127.0.0.1",
                                Headers{{"forwarded", "for=1.2.3.4;proto=http"}, {"x-forwarded-proto", "https"}}, t));
    CHECK_FALSE(forwarded_https("127.0.0.1", Headers{{"forwarded", "proto=https, for=5.6.7.8"}}, t));
    CHECK_FALSE(forwarded_https("127.0.0.1", Headers{{"forwarded", "for=1.2.3.4;proto=https"}}, TrustedProxies{}));
}
