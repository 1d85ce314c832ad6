#include <catch2/catch.hpp>

#include "core/util/url.hpp"

using namespace va;

TEST_CASE("url: base URLs normalize to one spelling, and credentials, queries and odd schemes are refused") {
    CHECK(*normalize_base_url("HTTP://Host.Example:80/v1/") == "http://host.example/v1");
    CHECK(*normalize_base_url("https://host.example:443") == "https://host.example");
    CHECK(*normalize_base_url("https://host.example:8443/a/b//") == "https://host.example:8443/a/b");
    CHECK(*normalize_base_url("http://[::1]:11434/v1") == "http://[::1]:11434/v1");
    CHECK(*normalize_base_url("http://host.example.:080/v1") == "http://host.example/v1");
    CHECK(!normalize_base_url("ftp://host.example"));
    CHECK(!normalize_base_url("host.example/v1"));
    CHECK(!normalize_base_url("http://user:pw@host.example/v1"));
    CHECK(!normalize_base_url("http://host.example/v1?key=1"));
    CHECK(!normalize_base_url("http://host.example/v1#x"));
    CHECK(!normalize_base_url("http://host.example:port/v1"));
    CHECK(!normalize_base_url("http:///v1"));
    CHECK(!normalize_base_url("http://[::1/v1"));
}

TEST_CASE("url: the host of a URL, lower-cased, without user, port or brackets") {
    CHECK(url_host("https://API.Example.com./x") == "api.example.com");
    CHECK(url_host("http://user@evil.example:81/x") == "evil.example");
    CHECK(url_host("http://[::1]:8080/") == "::1");
    CHECK(url_host("http://{host}/x") == "{host}");
    CHECK(url_host("mailto:a@b").empty());
}
