#include <catch2/catch.hpp>

#include "providers/common/net_guard.hpp"

using namespace va;

namespace {
std::string kind(const std::string& ip) {
    auto a = parse_ip(ip);
    REQUIRE(a);
    return internal_address_kind(*a);
}
}  // namespace

TEST_CASE("net guard: loopback, private, link-local and metadata addresses are recognized in IPv4 and IPv6") {
    CHECK(kind("127.0.0.1") == "loopback");
    CHECK(kind("127.255.0.9") == "loopback");
    CHECK(kind("::1") == "loopback");
    CHECK(kind("::ffff:127.0.0.1") == "loopback");  // IPv4-mapped IPv6 is its IPv4 address
    CHECK(kind("10.1.2.3") == "private");
    CHECK(kind("172.16.0.1") == "private");
    CHECK(kind("172.31.255.255") == "private");
    CHECK(kind("192.168.1.1") == "private");
    CHECK(kind("fd00:ec2::254") == "private");
    CHECK(kind("169.254.169.254") == "cloud metadata");
    CHECK(kind("169.254.1.1") == "link-local");
    CHECK(kind("fe80::1") == "link-local");
    CHECK(kind("100.64.0.1") == "carrier-grade NAT");
    CHECK(kind("0.0.0.0") == "unspecified");
    CHECK(kind("::") == "unspecified");
    CHECK(kind("224.0.0.1") == "multicast");
    CHECK(kind("8.8.8.8").empty());
    CHECK(kind("172.32.0.1").empty());
    CHECK(kind("2606:4700::1111").empty());
}

TEST_CASE("net guard: the allowlist takes addresses and CIDR blocks, and says which entry is wrong") {
    auto list = NetworkAllowlist::parse("10.1.0.0/16, 127.0.0.1 ,::1");
    REQUIRE(list);
    CHECK(list->contains(*parse_ip("10.1.200.3")));
    CHECK(!list->contains(*parse_ip("10.2.0.1")));
    CHECK(list->contains(*parse_ip("127.0.0.1")));
    CHECK(!list->contains(*parse_ip("127.0.0.2")));
    CHECK(list->contains(*parse_ip("::1")));
    auto bad = NetworkAllowlist::parse("10.0.0.0/8, example.com");
    REQUIRE(!bad);
    CHECK(bad.error().details.at(0).reason.find("example.com") != std::string::npos);
    CHECK(!NetworkAllowlist::parse("10.0.0.0/33"));
    CHECK(NetworkAllowlist::parse(""));
}

TEST_CASE("net guard: names are checked after resolution, and allowlisted ones pass") {
    auto none = NetworkAllowlist::parse("");
    auto refused = resolve_public("localhost", "80", *none);
    REQUIRE(!refused);
    CHECK(refused.error().code == ErrorCode::forbidden);
    CHECK(refused.error().message.find("loopback") != std::string::npos);
    // The message names the host and the kind, never what the name resolved to.
    CHECK(refused.error().message.find("127.0.0.1") == std::string::npos);
    CHECK(refused.error().message.find("::1") == std::string::npos);
    CHECK(!resolve_public("169.254.169.254", "80", *none));
    auto loopback = NetworkAllowlist::parse("127.0.0.0/8, ::1");
    auto allowed = resolve_public("127.0.0.1", "8080", *loopback);
    REQUIRE(allowed);
    CHECK(allowed->at(0) == "127.0.0.1");
}

TEST_CASE("net guard: every IPv4 special-purpose block of IANA's registry is refused") {
    CHECK(kind("0.1.2.3") == "unspecified");
    CHECK(kind("100.127.255.255") == "carrier-grade NAT");
    CHECK(kind("100.128.0.1").empty());
    CHECK(kind("192.0.0.8") == "IETF protocol assignment");
    CHECK(kind("192.0.0.170") == "IETF protocol assignment");
    CHECK(kind("192.0.2.1") == "documentation");
    CHECK(kind("198.51.100.7") == "documentation");
    CHECK(kind("203.0.113.9") == "documentation");
    CHECK(kind("198.18.0.1") == "benchmarking");
    CHECK(kind("198.19.255.254") == "benchmarking");
    CHECK(kind("198.20.0.1").empty());
    CHECK(kind("192.88.99.1") == "6to4");
    CHECK(kind("192.31.196.1") == "reserved");
    CHECK(kind("192.52.193.1") == "reserved");
    CHECK(kind("192.175.48.1") == "reserved");
    CHECK(kind("239.255.255.250") == "multicast");
    CHECK(kind("240.0.0.1") == "reserved");
    CHECK(kind("255.255.255.255") == "broadcast");
    CHECK(kind("169.254.169.253") == "link-local");
    CHECK(kind("192.0.3.1").empty());
    CHECK(kind("1.1.1.1").empty());
}

TEST_CASE("net guard: IPv6 special-purpose blocks and forms that embed an IPv4 address are refused") {
    CHECK(kind("::ffff:10.0.0.1") == "private");          // IPv4-mapped: judged as its IPv4 address
    CHECK(kind("::ffff:8.8.8.8").empty());
    CHECK(kind("::127.0.0.1") == "IPv4-compatible");
    CHECK(kind("::8.8.8.8") == "IPv4-compatible");
    CHECK(kind("::ffff:0:127.0.0.1") == "IPv4-translated");
    CHECK(kind("64:ff9b::7f00:1") == "NAT64");
    CHECK(kind("64:ff9b::8.8.8.8") == "NAT64");
    CHECK(kind("64:ff9b:1::a00:1") == "NAT64");
    CHECK(kind("100::1") == "discard-only");
    CHECK(kind("2002:7f00:1::1") == "6to4");
    CHECK(kind("2002:808:808::1") == "6to4");
    CHECK(kind("2001:0:4136:e378::1") == "Teredo");
    CHECK(kind("2001:10::1") == "ORCHID");
    CHECK(kind("2001:20::1") == "ORCHID");
    CHECK(kind("2001:2::1") == "benchmarking");
    CHECK(kind("2001:db8::1") == "documentation");
    CHECK(kind("3fff::1") == "documentation");
    CHECK(kind("2001:1::1") == "IETF protocol assignment");
    CHECK(kind("fec0::1") == "site-local");
    CHECK(kind("fc00::1") == "private");
    CHECK(kind("ff02::1") == "multicast");
    CHECK(kind("4000::1") == "reserved");
    CHECK(kind("5f00::1") == "reserved");
    CHECK(kind("2620:4f:8000::1") == "reserved");
    CHECK(kind("2001:4860:4860::8888").empty());
    CHECK(kind("2a00:1450:4001::1").empty());
}

TEST_CASE("net guard: the operator's allowlist still admits refused kinds, and an IP literal is its own pin") {
    auto none = NetworkAllowlist::parse("");
    auto nat64 = check_http_url("http://[64:ff9b::7f00:1]:80/x", *none);
    REQUIRE(!nat64);
    CHECK(nat64.error().message.find("NAT64") != std::string::npos);
    auto allowed = NetworkAllowlist::parse("198.18.0.0/15, ::1");
    CHECK(resolve_public("198.18.0.1", "80", *allowed));
    auto v6 = check_http_url("http://[::1]:8080/path", *allowed);
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->port == "8080");
    CHECK(v6->resolve.empty());  // curl connects to the literal; no name to pin
    auto named = check_http_url("http://localhost:8080/", *NetworkAllowlist::parse("127.0.0.0/8, ::1"));
    REQUIRE(named);
    CHECK(!named->resolve.empty());
    CHECK(named->resolve.at(0).rfind("localhost:8080:", 0) == 0);
}
