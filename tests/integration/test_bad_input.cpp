// Hostile and broken input against a real daemon: malformed JSON, non-object bodies, wrong content types,
// oversized bodies and headers, garbage bytes, slow and idle clients. Each answer is a clean HTTP error (or a
// closed connection) and the daemon stays up and keeps serving others.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "support/daemon_process.hpp"

using namespace va::test;
using nlohmann::json;

namespace {

// The status code of the first response in raw bytes, or 0 when there is none.
int raw_status(const std::string& reply) {
    if (reply.rfind("HTTP/1.", 0) != 0 || reply.size() < 12) return 0;
    return std::atoi(reply.substr(9, 3).c_str());
}

}  // namespace

TEST_CASE("bad input: a 1000-byte body limit is accepted and enforced") {
    // The limit the process contract names as an example; the other cases use 2000 so they run regardless.
    DaemonProcess d(Env{{"VOICEAGENT_SERVER_MAX_BODY_BYTES", "1000"}});
    Api api(d.base_url(), d.admin_key());
    auto big = api.raw("POST", "/api/v1/agents", "{\"name\":\"" + std::string(5000, 'a') + "\"}", "application/json");
    CHECK(big.status == 413);
    CHECK(big.json()["error"]["code"] == "too_large");
    CHECK(api.post("/api/v1/agents", {{"name", "small"}}).status == 201);
}

TEST_CASE("bad input: malformed JSON, wrong shapes and types, oversized bodies") {
    DaemonProcess d(Env{{"VOICEAGENT_SERVER_MAX_BODY_BYTES", "2000"}});
    Api api(d.base_url(), d.admin_key());

    for (const std::string& body : {std::string("{\"name\": "), std::string("{name: 'x'}"), std::string("nul"),
                                    std::string("{\"name\":\"x\"} trailing"), std::string("")}) {
        INFO("body " << body);
        auto r = api.raw("POST", "/api/v1/agents", body, "application/json");
        CHECK(r.status == 400);
        CHECK(r.json()["error"]["code"] == "invalid_request");
        CHECK(r.json()["error"]["message"].is_string());
    }
    for (const std::string& body : {std::string("[1,2,3]"), std::string("[]"), std::string("\"text\""),
                                    std::string("42"), std::string("null")}) {
        INFO("non-object body " << body);
        auto r = api.raw("POST", "/api/v1/agents", body, "application/json");
        CHECK(r.status == 400);
        CHECK(r.json()["error"]["code"] == "invalid_request");
    }
    // The same checks guard PUT and PATCH.
    auto agent = api.post("/api/v1/agents", {{"name", "target"}});
    REQUIRE(agent.status == 201);
    std::string path = "/api/v1/agents/" + agent.json()["id"].get<std::string>();
    CHECK(api.raw("PUT", path, "{\"name\": ", "application/json").status == 400);
    CHECK(api.raw("PATCH", path, "[1]", "application/json").status == 400);
    CHECK(api.raw("PATCH", path, R"({"first_message":"x"})", "text/plain").status == 415);

    auto wrong_type = api.raw("POST", "/api/v1/agents", R"({"name":"x"})", "text/plain");
    CHECK(wrong_type.status == 415);
    CHECK(wrong_type.json()["error"]["code"] == "unsupported_media_type");
    CHECK(api.raw("POST", "/api/v1/agents", R"({"name":"x"})", "application/x-www-form-urlencoded").status == 415);
    CHECK(api.raw("POST", "/api/v1/auth/login", R"({"email":"a@b.c","password":"x"})", "text/plain").status == 415);
    // A charset parameter is still JSON.
    CHECK(api.raw("POST", "/api/v1/agents", R"({"name":"charset-ok"})", "application/json; charset=utf-8").status ==
          201);

    auto big = api.raw("POST", "/api/v1/agents", "{\"name\":\"" + std::string(5000, 'a') + "\"}", "application/json");
    CHECK(big.status == 413);
    CHECK(big.json()["error"]["code"] == "too_large");
    // Announced too large: refused from the header, before the body is read.
    std::string announced = "POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Authorization: Bearer " + d.admin_key() + "\r\nContent-Length: 100000000\r\n\r\n{";
    CHECK(raw_status(raw_exchange(d.port(), announced, 2000)) == 413);

    // Deep nesting within the size limit, and invalid UTF-8 inside a string.
    std::string deep = std::string(900, '[') + std::string(900, ']');
    CHECK(api.raw("POST", "/api/v1/agents", deep, "application/json").status == 400);
    auto bad_utf8 = api.raw("POST", "/api/v1/agents", "{\"name\":\"\xff\xfe\"}", "application/json");
    CHECK(bad_utf8.status == 400);  // not JSON (RFC 8259 requires UTF-8): malformed input, not a semantic error
    CHECK(bad_utf8.names_field("body"));

    CHECK(d.alive());
    CHECK(api.get("/healthz").status == 200);
    // Nothing half-created: only the two valid agents exist.
    CHECK(api.get("/api/v1/agents").json()["items"].size() == 2);
}

TEST_CASE("bad input: garbage bytes, broken requests and huge headers get 400-class answers or a close") {
    // Read and idle limits of ten minutes, so no timeout closes a connection during the test.
    DaemonProcess d(Env{{"VOICEAGENT_SERVER_READ_TIMEOUT_MS", "600000"}, {"VOICEAGENT_SERVER_IDLE_TIMEOUT_MS", "600000"}});
    Api api(d.base_url(), d.admin_key());
    struct Case {
        const char* what;
        std::string bytes;
        std::vector<int> acceptable;  // 0: the connection was closed without an answer
    };
    std::vector<Case> cases{
        {"TLS hello on plain HTTP", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n", {400, 0}},
        {"binary noise", std::string("\x00\x01\x02\xff\xfe\r\n\r\n", 9), {400, 0}},
        {"request line without target", "GET\r\n\r\n", {400, 0}},
        {"unknown HTTP version", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", {400, 505, 0}},
        {"header without colon", "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", {400, 0}},
        {"negative Content-Length",
         "POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n",
         {400, 0}},
        {"non-numeric Content-Length",
         "POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ab\r\n\r\n",
         {400, 0}},
        {"invalid chunk size",
         "POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
         {400, 0}},
        {"huge header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(40000, 'b') + "\r\n\r\n",
         {431, 400, 0}},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        RawConnection conn(d.port());
        REQUIRE(conn.connected());
        conn.send(c.bytes);
        std::string reply;
        // The daemon's read and idle limits are far off (see the daemon's settings above), so a close within this wait is its
        // answer to the garbage: it does not keep a broken connection open.
        bool closed = conn.wait_closed(30000, &reply);
        INFO("reply: " << reply.substr(0, 200));
        CHECK(closed);
        int status = raw_status(reply);
        CHECK(std::find(c.acceptable.begin(), c.acceptable.end(), status) != c.acceptable.end());
        CHECK(d.alive());
    }
    // Keep-alive still works after all that: two requests on one connection.
    auto two = raw_exchange(d.port(),
                            "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                            2000);
    std::size_t answers = 0;
    for (auto pos = two.find("HTTP/1.1 200"); pos != std::string::npos; pos = two.find("HTTP/1.1 200", pos + 1))
        ++answers;
    CHECK(answers == 2);
    CHECK(api.get("/healthz").status == 200);
    CHECK(d.alive());
}

TEST_CASE("bad input: slow and idle clients are dropped after their timeouts while others are served") {
    // A request in progress must complete within the read timeout; a connection with no request in progress
    // (new, or between keep-alive requests) may idle up to the idle timeout.
    DaemonProcess d(Env{{"VOICEAGENT_SERVER_READ_TIMEOUT_MS", "500"}, {"VOICEAGENT_SERVER_IDLE_TIMEOUT_MS", "2000"}});
    Api api(d.base_url(), d.admin_key());
    // Which limit closed a connection shows in the order of the closes, not in a stopwatch: a connection opened
    // just before it, sending nothing, is closed by the idle timeout only, four times longer. Each is still open
    // when the read timeout has closed the request in progress.
    auto still_open = [](RawConnection& c) { return !c.wait_closed(20); };

    // Half the headers, then nothing.
    RawConnection stalled_yardstick(d.port());
    RawConnection stalled(d.port());
    REQUIRE(stalled.connected());
    stalled.send("GET /api/v1/agents HTTP/1.1\r\nHost: x\r\nAuthor");
    auto stalled_done = std::async(std::launch::async, [&] {
        std::string reply;
        bool closed = stalled.wait_closed(30000, &reply);
        return std::make_pair(closed, reply);
    });
    // Served while the slow one stalls.
    auto served = api.get("/api/v1/agents");
    CHECK(served.status == 200);
    auto [closed, reply] = stalled_done.get();
    INFO("stalled client reply: " << reply);
    CHECK(closed);
    CHECK(still_open(stalled_yardstick));  // closed by the daemon's 500 ms read limit, not by the idle one
    CHECK(raw_status(reply) != 200);

    // Complete headers, a body that stops short of its Content-Length.
    RawConnection short_yardstick(d.port());
    RawConnection short_body(d.port());
    short_body.send("POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: "
                    "Bearer " + d.admin_key() + "\r\nContent-Length: 100\r\n\r\n{\"name\":");
    CHECK(short_body.wait_closed(30000));
    CHECK(still_open(short_yardstick));

    // A trickle of one byte every 100 ms never completes a request: the limit is on the whole request.
    RawConnection trickle_yardstick(d.port());
    RawConnection trickle(d.port());
    std::string request = "GET /api/v1/agents HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(100, 's') + "\r\n\r\n";
    bool trickle_closed = false;
    for (char c : request) {
        if (!trickle.send(std::string(1, c)) || trickle.wait_closed(100)) {
            trickle_closed = true;
            break;
        }
    }
    CHECK(trickle_closed);
    CHECK(still_open(trickle_yardstick));

    // Many idle connections do not starve a real client, which is answered while they are all still open.
    std::vector<std::unique_ptr<RawConnection>> idle;
    for (int i = 0; i < 32; ++i) idle.push_back(std::make_unique<RawConnection>(d.port()));
    CHECK(api.get("/healthz").status == 200);
    // And they are all closed by the daemon after the idle timeout.
    int never_closed = 0;
    for (auto& c : idle)
        if (!c->wait_closed(30000)) ++never_closed;
    CHECK(never_closed == 0);

    CHECK(d.alive());
    CHECK(api.get("/healthz").status == 200);
}

TEST_CASE("bad input: every JSON write route refuses an unknown body field and names it") {
    // Driven by the daemon's own route list (OpenAPI), so a new write route is walked without editing this test.
    // A member such as "workspace_id" once looked honoured on POST /users while it was silently ignored.
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    auto agent = api.post("/api/v1/agents", {{"name", "walker"}});
    REQUIRE(agent.status == 201);
    std::string agent_id = agent.json()["id"];
    auto doc = Api(d.base_url()).get("/api/v1/openapi.json").json();
    REQUIRE(doc.contains("paths"));
    int walked = 0;
    for (const auto& [pattern, operations] : doc["paths"].items()) {
        // Carrier webhooks carry the carrier's own form fields, not a body of ours.
        if (pattern.find("/webhooks/twilio/") != std::string::npos ||
            pattern.find("/webhooks/exotel/") != std::string::npos)
            continue;
        // Path parameters: the agent for {id} (a PATCH merges into a real definition), made-up ids elsewhere; the
        // body is refused before anything is looked up.
        std::string path;
        for (std::size_t i = 0; i < pattern.size();) {
            if (pattern[i] != '{') {
                path += pattern[i++];
                continue;
            }
            auto end = pattern.find('}', i);
            path += pattern.substr(i + 1, end - i - 1) == "id" ? agent_id : "missing_1";
            i = end + 1;
        }
        for (const auto& [method, op] : operations.items()) {
            if (method != "post" && method != "put" && method != "patch") continue;
            std::string upper = method == "post" ? "POST" : method == "put" ? "PUT" : "PATCH";
            auto r = api.raw(upper, path, R"({"workspace_id": "ws_other", "zz_not_a_field": 1})", "application/json");
            INFO(upper << " " << pattern << " answered " << r.status << ": " << r.body);
            if (pattern.rfind("/api/v1/agents", 0) == 0) {
                // Agent definitions are checked against their schema: 422 with a JSON pointer, as documented.
                CHECK(r.status == 422);
                CHECK(r.names_field("/workspace_id"));
            } else {
                CHECK(r.status == 400);
                CHECK(r.names_field("workspace_id"));
                CHECK(r.json()["error"]["details"][0]["reason"].get<std::string>().find("unknown field") == 0);
            }
            ++walked;
        }
    }
    CHECK(walked >= 25);
    // Nothing was created on the way: the refused bodies changed nothing.
    CHECK(api.get("/api/v1/users").json()["items"].empty());
    CHECK(api.get("/api/v1/agents").json()["items"].size() == 1);
}
