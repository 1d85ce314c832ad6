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
    CHECK(kind("224.0.0.1") == "multicast or reserved");
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
    CHECK(!resolve_public("169.254.169.254", "80", *none));
    auto loopback = NetworkAllowlist::parse("127.0.0.0/8, ::1");
    auto allowed = resolve_public("127.0.0.1", "8080", *loopback);
    REQUIRE(allowed);
    CHECK(allowed->at(0) == "127.0.0.1");
}
