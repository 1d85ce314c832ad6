// Agents' HTTP tools against a real HTTP server on loopback (allowlisted, as an operator would): arguments, secrets
// bound to hosts, refused destinations, an IPv6 literal, environment proxies ignored.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "daemon/calls/http_tools.hpp"
#include "support/http_capture_server.hpp"

using namespace va;
using nlohmann::json;

namespace {

struct ToolServer {
    std::mutex mutex;
    std::condition_variable slow_cv;
    bool stopping = false;  // guarded by mutex
    test::HttpCaptureServer server;  // last: stopped before what its handlers use is destroyed

    explicit ToolServer(std::string host = "127.0.0.1") : server(std::move(host)) {
        server.route("GET", R"(/orders/([^/]+))", [](const httplib::Request& req, httplib::Response& res) {
            res.set_content(json{{"order", req.matches[1].str()}, {"status", "shipped"}}.dump(), "application/json");
        });
        server.route("POST", "/bookings", [](const httplib::Request&, httplib::Response& res) {
            res.status = 201;
            res.set_content(R"({"booked":true})", "application/json");
        });
        server.route("GET", "/huge", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(200000, 'x'), "text/plain");
        });
        // Answers only once the test is over (the destructor lets it): a client that gets an answer sooner has
        // timed out, however slow the machine.
        server.route("GET", "/slow", [this](const httplib::Request&, httplib::Response& res) {
            std::unique_lock lock(mutex);
            slow_cv.wait(lock, [this] { return stopping; });
            res.set_content("late", "text/plain");
        });
        server.route("GET", "/ping", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(R"({"pong":true})", "application/json");
        });
        server.start();
    }
    ~ToolServer() {
        {
            std::lock_guard lock(mutex);
            stopping = true;
        }
        slow_cv.notify_all();
    }
    std::string url(const std::string& path) const { return server.url(path); }
    std::size_t requests() const { return server.count(); }
    // The latest request; an empty one when none arrived.
    test::CapturedRequest last() const {
        auto all = server.requests();
        return all.empty() ? test::CapturedRequest{} : all.back();
    }
    // The latest request's query as "name=value;" pairs.
    std::string last_query() const {
        std::string out;
        for (const auto& [k, v] : last().params) out += k + "=" + v + ";";
        return out;
    }
};

ToolSettings loopback_allowed() {
    ToolSettings s;
    s.allowed = *NetworkAllowlist::parse("127.0.0.1");
    s.max_response_bytes = 65536;
    s.secrets = {{"crm_token", ToolSecret{"s3cret-token", {"127.0.0.1"}, {}}},
                 {"other_token", ToolSecret{"other-secret", {"api.example.com", "*.example.net"}, {}}},
                 {"ws2_token", ToolSecret{"ws2-secret", {"127.0.0.1"}, {"ws_2"}}},
                 {"legacy", ToolSecret{"legacy-secret", {}, {}}}};
    return s;
}

bool ipv6_loopback() {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

ToolCall call(const std::string& name, json args) { return ToolCall{"call_1", name, std::move(args)}; }

}  // namespace

TEST_CASE("http tools: a GET fills the URL from the arguments, a POST sends the rest as JSON with the secret header") {
    ToolServer srv;
    json lookup = json::parse(R"({"type": "http", "name": "lookup_order", "description": "Find an order", "method": "GET",
        "parameters": {"type": "object", "required": ["order_id"],
                       "properties": {"order_id": {"type": "string"}, "verbose": {"type": "boolean"}}}})");
    lookup["url"] = srv.url("/orders/{order_id}");
    auto r = run_http_tool(lookup, call("lookup_order", {{"order_id", "A 17"}, {"verbose", true}}), loopback_allowed(), "ws_1");
    REQUIRE(r.ok);
    CHECK(r.status == 200);
    CHECK(json::parse(r.content)["order"] == "A 17");
    CHECK(srv.last_query() == "verbose=true;");

    json book = json::parse(R"({"type": "http", "name": "book", "description": "Book",
        "headers": {"Authorization": "Bearer {{secret:crm_token}}"},
        "parameters": {"type": "object", "properties": {"day": {"type": "string"}, "people": {"type": "integer", "minimum": 1}}}})");
    book["url"] = srv.url("/bookings");
    auto b = run_http_tool(book, call("book", {{"day", "friday"}, {"people", 2}}), loopback_allowed(), "ws_1");
    REQUIRE(b.ok);
    CHECK(b.status == 201);
    CHECK(srv.last().header("Authorization") == "Bearer s3cret-token");
    CHECK(json::parse(srv.last().body) == json{{"day", "friday"}, {"people", 2}});
}

TEST_CASE("http tools: bad arguments, refused addresses and missing secrets never reach the network") {
    ToolServer srv;
    json book = json::parse(R"({"type": "http", "name": "book", "description": "Book",
        "parameters": {"type": "object", "required": ["people"], "properties": {"people": {"type": "integer", "minimum": 1}}}})");
    book["url"] = srv.url("/bookings");
    auto wrong = run_http_tool(book, call("book", {{"people", 0}}), loopback_allowed(), "ws_1");
    CHECK(!wrong.ok);
    CHECK(wrong.error.find("/people") != std::string::npos);
    CHECK(json::parse(wrong.content).contains("error"));  // the LLM reads why and can ask again
    auto garbled = run_http_tool(book, call("book", {{"_raw", "{people: 2"}}), loopback_allowed(), "ws_1");
    CHECK(garbled.error == "the arguments are not valid JSON");

    ToolSettings strict = loopback_allowed();
    strict.allowed = *NetworkAllowlist::parse("");
    auto refused = run_http_tool(book, call("book", {{"people", 2}}), strict, "ws_1");
    CHECK(!refused.ok);
    CHECK(refused.error.find("loopback") != std::string::npos);
    json metadata = book;
    metadata["url"] = "http://169.254.169.254/latest/meta-data/";
    auto cloud = run_http_tool(metadata, call("book", {{"people", 2}}), loopback_allowed(), "ws_1");
    CHECK(cloud.error.find("cloud metadata") != std::string::npos);

    json secret = book;
    secret["headers"] = {{"X-Key", "{{secret:missing}}"}};
    auto unset = run_http_tool(secret, call("book", {{"people", 2}}), loopback_allowed(), "ws_1");
    CHECK(unset.error == "secret \"missing\" is not configured");
    CHECK(srv.requests() == 0);
}

TEST_CASE("http tools: oversized answers, error statuses and timeouts become errors the LLM can read") {
    ToolServer srv;
    json huge{{"type", "http"}, {"name", "huge"}, {"description", "d"}, {"method", "GET"}, {"url", srv.url("/huge")}};
    auto big = run_http_tool(huge, call("huge", json::object()), loopback_allowed(), "ws_1");
    CHECK(!big.ok);
    CHECK(big.error.find("larger than 65536") != std::string::npos);

    json missing{{"type", "http"}, {"name", "m"}, {"description", "d"}, {"method", "GET"}, {"url", srv.url("/nothing")}};
    auto gone = run_http_tool(missing, call("m", json::object()), loopback_allowed(), "ws_1");
    CHECK(!gone.ok);
    CHECK(gone.status == 404);

    json slow{{"type", "http"}, {"name", "s"}, {"description", "d"}, {"method", "GET"}, {"url", srv.url("/slow")}, {"timeout_ms", 300}};
    auto late = run_http_tool(slow, call("s", json::object()), loopback_allowed(), "ws_1");
    CHECK(!late.ok);
    CHECK(late.error.find("Timeout was reached") != std::string::npos);
}

TEST_CASE("http tools: a secret goes only to the hosts and workspaces it is bound to, checked on the URL requested") {
    ToolServer srv;
    json book = json::parse(R"({"type": "http", "name": "book", "description": "Book", "method": "GET"})");
    book["url"] = srv.url("/ping");
    auto send = [&](const std::string& header_value, const std::string& workspace) {
        json tool = book;
        tool["headers"] = {{"X-Key", header_value}};
        return run_http_tool(tool, call("book", json::object()), loopback_allowed(), workspace);
    };
    // Bound to api.example.com and *.example.net: never to 127.0.0.1, whatever the agent's definition said.
    auto unbound = send("{{secret:other_token}}", "ws_1");
    CHECK(!unbound.ok);
    CHECK(unbound.error.find("other_token") != std::string::npos);
    CHECK(unbound.error.find("other-secret") == std::string::npos);
    auto legacy = send("Bearer {{secret:legacy}}", "ws_1");  // the old form: bound to no host
    CHECK(legacy.error.find("bound to no host") != std::string::npos);
    auto other_ws = send("{{secret:ws2_token}}", "ws_1");
    CHECK(other_ws.error == "secret \"ws2_token\" is not configured");
    CHECK(srv.requests() == 0);
    auto own_ws = send("{{secret:ws2_token}}", "ws_2");
    CHECK(own_ws.ok);
    CHECK(srv.requests() == 1);

    // The host is filled from the arguments: a secret bound to 127.0.0.1 does not go to localhost.
    json templated = book;
    templated["url"] = "http://{host}:" + std::to_string(srv.server.port()) + "/ping";
    templated["parameters"] = json::parse(R"({"type": "object", "properties": {"host": {"type": "string"}}})");
    templated["headers"] = {{"X-Key", "{{secret:crm_token}}"}};
    ToolSettings loopback_names = loopback_allowed();
    loopback_names.allowed = *NetworkAllowlist::parse("127.0.0.0/8, ::1");
    auto moved = run_http_tool(templated, call("book", {{"host", "localhost"}}), loopback_names, "ws_1");
    CHECK(!moved.ok);
    CHECK(moved.error.find("crm_token") != std::string::npos);
    CHECK(srv.requests() == 1);
    auto bound = run_http_tool(templated, call("book", {{"host", "127.0.0.1"}}), loopback_names, "ws_1");
    CHECK(bound.ok);
    CHECK(srv.requests() == 2);
}

TEST_CASE("http tools: definition-time check names the tool and the secret") {
    ToolSettings s = loopback_allowed();
    json agent = json::parse(R"({"name": "a", "tools": [
        {"type": "end_call", "description": "End."},
        {"type": "http", "name": "crm", "description": "d", "url": "https://evil.example.org/x",
         "headers": {"Authorization": "Bearer {{secret:other_token}}"}}]})");
    auto refused = check_tool_secrets(agent, s.secrets, "ws_1");
    REQUIRE(!refused);
    CHECK(refused.error().code == ErrorCode::unprocessable);
    REQUIRE(refused.error().details.size() == 1);
    CHECK(refused.error().details[0].field == "tools[1].headers.Authorization");
    CHECK(refused.error().message.find("\"crm\"") != std::string::npos);
    CHECK(refused.error().message.find("\"other_token\"") != std::string::npos);
    agent["tools"][1]["url"] = "https://API.Example.com./x";
    CHECK(check_tool_secrets(agent, s.secrets, "ws_1"));
    agent["tools"][1]["url"] = "https://deep.sub.example.net/x";
    CHECK(check_tool_secrets(agent, s.secrets, "ws_1"));
    agent["tools"][1]["url"] = "https://example.net/x";  // *.example.net is its subdomains only
    CHECK(!check_tool_secrets(agent, s.secrets, "ws_1"));
    agent["tools"][1]["url"] = "https://api.example.com.evil.org/x";
    CHECK(!check_tool_secrets(agent, s.secrets, "ws_1"));
    agent["tools"][1]["url"] = "https://{host}/x";
    CHECK(!check_tool_secrets(agent, s.secrets, "ws_1"));
    agent["tools"][1]["url"] = "https://api.example.com/x";
    agent["tools"][1]["headers"]["X-Other"] = "{{secret:legacy}}";
    auto legacy = check_tool_secrets(agent, s.secrets, "ws_1");
    REQUIRE(!legacy);
    CHECK(legacy.error().details.at(0).field == "tools[1].headers.X-Other");
}

TEST_CASE("http tools: an IPv6 literal URL is reached, and environment proxies are ignored") {
    if (!ipv6_loopback()) {
        WARN("VA_TEST_SKIPPED: no IPv6 loopback here");
        return;
    }
    ToolServer v6("::1");
    ToolServer v4;
    // A "proxy" that records any request it is sent: a guarded request must reach the tool directly.
    ToolServer proxy;
    std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.server.port());
    struct EnvGuard {
        ~EnvGuard() {
            for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"}) unsetenv(name);
        }
    } restore;
    for (const char* name : {"http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"}) setenv(name, proxy_url.c_str(), 1);
    ToolSettings s = loopback_allowed();
    s.allowed = *NetworkAllowlist::parse("::1, 127.0.0.1");
    s.secrets["v6_token"] = ToolSecret{"v6-secret", {"::1"}, {}};
    json ping{{"type", "http"}, {"name", "ping"}, {"description", "d"}, {"method", "GET"}, {"url", v6.url("/ping")},
              {"headers", {{"Authorization", "{{secret:v6_token}}"}}}};
    auto r = run_http_tool(ping, call("ping", json::object()), s, "ws_1");
    REQUIRE(r.ok);
    CHECK(v6.requests() == 1);
    CHECK(v6.last().header("Authorization") == "v6-secret");
    // A host name (pinned to its checked addresses) goes direct too.
    json named{{"type", "http"}, {"name", "ping"}, {"description", "d"}, {"method", "GET"},
               {"url", "http://localhost:" + std::to_string(v4.server.port()) + "/ping"}};
    auto direct = run_http_tool(named, call("ping", json::object()), s, "ws_1");
    REQUIRE(direct.ok);
    CHECK(v4.requests() == 1);
    CHECK(proxy.requests() == 0);
}
