// Transport-neutral HTTP request and response values, so REST handlers never include Beast (only
// daemon/server/http_server.cpp does). Plain values: not shared between threads.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace va::http {

struct Request {
    std::string method;        // GET, POST, ...
    std::string target;        // raw request target (path and query)
    std::string path;          // decoded path, no query
    std::unordered_map<std::string, std::string> query;         // decoded query parameters (last one wins)
    std::vector<std::pair<std::string, std::string>> headers;   // names lower-cased
    std::string body;
    std::string remote_address;  // peer IP, no port
    bool remote_is_loopback = false;
    // The client reached us over https: a trusted proxy (server.trusted_proxies) said so (X-Forwarded-Proto or
    // Forwarded proto=). The daemon itself speaks plain HTTP.
    bool secure = false;
    std::unordered_map<std::string, std::string> params;        // path parameters from the route pattern
    std::string route;         // the matched route pattern, for metrics and logs ("/api/v1/agents/{id}")

    // First header with this (lower-case) name, or empty.
    std::string_view header(std::string_view name) const;
    std::string_view param(const std::string& name) const;
};

struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string content_type = "application/json";

    void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// An error answer {"error":{"code","message","details":[]}} built with the JSON library, so whatever the message
// holds (a decoded path with control characters or invalid UTF-8) the body is valid JSON.
Response error_response(int status, std::string_view code, std::string_view message);

std::string url_decode(std::string_view text);  // '+' becomes space; invalid escapes are kept literally
std::unordered_map<std::string, std::string> parse_query(std::string_view query);

}  // namespace va::http
