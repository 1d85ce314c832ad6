// Agents' HTTP tools against a real HTTP server on loopback (allowlisted, as an operator would).
#include <catch2/catch.hpp>

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "daemon/calls/http_tools.hpp"

using namespace va;
using nlohmann::json;

namespace {

struct ToolServer {
    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::atomic<int> requests{0};
    std::string last_body, last_query, last_auth, last_path;
    std::mutex mutex;
    std::condition_variable slow_cv;
    bool stopping = false;  // guarded by mutex

    ToolServer() {
        auto record = [this](const httplib::Request& req) {
            ++requests;
            std::lock_guard lock(mutex);
            last_body = req.body;
            last_path = req.path;
            last_auth = req.get_header_value("Authorization");
            last_query.clear();
            for (const auto& [k, v] : req.params) last_query += k + "=" + v + ";";
        };
        server.Get(R"(/orders/([^/]+))", [record](const httplib::Request& req, httplib::Response& res) {
            record(req);
            res.set_content(json{{"order", req.matches[1].str()}, {"status", "shipped"}}.dump(), "application/json");
        });
        server.Post("/bookings", [record](const httplib::Request& req, httplib::Response& res) {
            record(req);
            res.status = 201;
            res.set_content(R"({"booked":true})", "application/json");
        });
        server.Get("/huge", [record](const httplib::Request& req, httplib::Response& res) {
            record(req);
            res.set_content(std::string(200000, 'x'), "text/plain");
        });
        // Answers only once the test is over (the destructor lets it): a client that gets an answer sooner has
        // timed out, however slow the machine.
        server.Get("/slow", [this, record](const httplib::Request& req, httplib::Response& res) {
            record(req);
            std::unique_lock lock(mutex);
            slow_cv.wait(lock, [this] { return stopping; });
            res.set_content("late", "text/plain");
        });
        port = server.bind_to_any_port("127.0.0.1");
        thread = std::thread([this] { server.listen_after_bind(); });
        // stop() does nothing to a server that is not listening yet: wait, so the destructor cannot hang.
        while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~ToolServer() {
        {
            std::lock_guard lock(mutex);
            stopping = true;
        }
        slow_cv.notify_all();
        server.stop();
        thread.join();
    }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

ToolSettings loopback_allowed() {
    ToolSettings s;
    s.allowed = *NetworkAllowlist::parse("127.0.0.1");
    s.max_response_bytes = 65536;
    s.secrets = {{"crm_token", "s3cret-token"}};
    return s;
}

ToolCall call(const std::string& name, json args) { return ToolCall{"call_1", name, std::move(args)}; }

}  // namespace

TEST_CASE("http tools: a GET fills the URL from the arguments, a POST sends the rest as JSON with the secret header") {
    ToolServer srv;
    json lookup = json::parse(R"({"type": "http", "name": "lookup_order", "description": "Find an order", "method": "GET",
        "parameters": {"type": "object", "required": ["order_id"],
                       "properties": {"order_id": {"type": "string"}, "verbose": {"type": "boolean"}}}})");
    lookup["url"] = srv.url("/orders/{order_id}");
    auto r = run_http_tool(lookup, call("lookup_order", {{"order_id", "A 17"}, {"verbose", true}}), loopback_allowed());
    REQUIRE(r.ok);
    CHECK(r.status == 200);
    CHECK(json::parse(r.content)["order"] == "A 17");
    CHECK(srv.last_query == "verbose=true;");

    json book = json::parse(R"({"type": "http", "name": "book", "description": "Book",
        "headers": {"Authorization": "Bearer {{secret:crm_token}}"},
        "parameters": {"type": "object", "properties": {"day": {"type": "string"}, "people": {"type": "integer", "minimum": 1}}}})");
    book["url"] = srv.url("/bookings");
    auto b = run_http_tool(book, call("book", {{"day", "friday"}, {"people", 2}}), loopback_allowed());
    REQUIRE(b.ok);
    CHECK(b.status == 201);
    CHECK(srv.last_auth == "Bearer s3cret-token");
    CHECK(json::parse(srv.last_body) == json{{"day", "friday"}, {"people", 2}});
}

TEST_CASE("http tools: bad arguments, refused addresses and missing secrets never reach the network") {
    ToolServer srv;
    json book = json::parse(R"({"type": "http", "name": "book", "description": "Book",
        "parameters": {"type": "object", "required": ["people"], "properties": {"people": {"type": "integer", "minimum": 1}}}})");
    book["url"] = srv.url("/bookings");
    auto wrong = run_http_tool(book, call("book", {{"people", 0}}), loopback_allowed());
    CHECK(!wrong.ok);
    CHECK(wrong.error.find("/people") != std::string::npos);
    CHECK(json::parse(wrong.content).contains("error"));  // the LLM reads why and can ask again
    auto garbled = run_http_tool(book, call("book", {{"_raw", "{people: 2"}}), loopback_allowed());
    CHECK(garbled.error == "the arguments are not valid JSON");

    ToolSettings strict = loopback_allowed();
    strict.allowed = *NetworkAllowlist::parse("");
    auto refused = run_http_tool(book, call("book", {{"people", 2}}), strict);
    CHECK(!refused.ok);
    CHECK(refused.error.find("loopback") != std::string::npos);
    json metadata = book;
    metadata["url"] = "http://169.254.169.254/latest/meta-data/";
    auto cloud = run_http_tool(metadata, call("book", {{"people", 2}}), loopback_allowed());
    CHECK(cloud.error.find("cloud metadata") != std::string::npos);

    json secret = book;
    secret["headers"] = {{"X-Key", "{{secret:missing}}"}};
    auto unset = run_http_tool(secret, call("book", {{"people", 2}}), loopback_allowed());
    CHECK(unset.error == "secret \"missing\" is not configured");
    CHECK(srv.requests == 0);
}

TEST_CASE("http tools: oversized answers, error statuses and timeouts become errors the LLM can read") {
    ToolServer srv;
    json huge{{"type", "http"}, {"name", "huge"}, {"description", "d"}, {"method", "GET"}, {"url", srv.url("/huge")}};
    auto big = run_http_tool(huge, call("huge", json::object()), loopback_allowed());
    CHECK(!big.ok);
    CHECK(big.error.find("larger than 65536") != std::string::npos);

    json missing{{"type", "http"}, {"name", "m"}, {"description", "d"}, {"method", "GET"}, {"url", srv.url("/nothing")}};
    auto gone = run_http_tool(missing, call("m", json::object()), loopback_allowed());
    CHECK(!gone.ok);
    CHECK(gone.status == 404);

    json slow{{"type", "http"}, {"name", "s"}, {"description", "d"}, {"method", "GET"}, {"url", srv.url("/slow")}, {"timeout_ms", 300}};
    auto late = run_http_tool(slow, call("s", json::object()), loopback_allowed());
    CHECK(!late.ok);
    CHECK(late.error.find("Timeout was reached") != std::string::npos);
}
