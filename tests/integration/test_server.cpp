// The daemon as a server: probes, metrics, OpenAPI, bad input of every kind, slow clients, configuration errors,
// restart and graceful shutdown.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <csignal>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "support/daemon_process.hpp"

using namespace va::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

TEST_CASE("server: probes, metrics and the OpenAPI description") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    CHECK(api.get("/healthz").status == 200);
    CHECK(api.get("/readyz").status == 200);
    api.get("/api/v1/agents");
    api.get("/api/v1/agents/agt_missing");
    auto metrics = api.get("/metrics");
    REQUIRE(metrics.status == 200);
    CHECK(metrics.headers["content-type"].rfind("text/plain", 0) == 0);
    CHECK(metrics.body.find(R"(voiceagent_http_requests_total{method="GET",route="/api/v1/agents",status="200"} 1)") !=
          std::string::npos);
    CHECK(metrics.body.find(R"(route="/api/v1/agents/{id}",status="404")") != std::string::npos);
    CHECK(metrics.body.find("voiceagent_http_request_duration_seconds_bucket") != std::string::npos);
    CHECK(metrics.body.find("process_resident_memory_bytes") != std::string::npos);
    CHECK(metrics.body.find("agt_missing") == std::string::npos);  // route patterns, never raw paths

    auto openapi = api.get("/api/v1/openapi.json");
    REQUIRE(openapi.status == 200);
    auto doc = openapi.json();
    CHECK(doc["openapi"].get<std::string>().rfind("3.", 0) == 0);
    for (const char* path : {"/api/v1/agents/{id}", "/api/v1/auth/login", "/api/v1/calls/{id}/transcript",
                             "/api/v1/phones", "/api/v1/users/{id}", "/api/v1/api-keys/{id}", "/api/v1/workspaces"})
        CHECK(doc["paths"].contains(path));
    CHECK(doc["paths"]["/api/v1/agents/{id}"].contains("patch"));
    CHECK(doc["paths"]["/api/v1/agents/{id}"]["get"]["parameters"][0]["name"] == "id");

    auto unknown = api.get("/api/v2/nothing");
    CHECK(unknown.status == 404);
    CHECK(unknown.json()["error"]["code"] == "not_found");
    auto wrong_method = api.raw("PUT", "/api/v1/calls", "{}", "application/json");
    CHECK(wrong_method.status == 405);
    CHECK(wrong_method.headers["allow"] == "GET");
}

TEST_CASE("server: malformed JSON, wrong types, oversized bodies and garbage never crash it") {
    DaemonProcess d(Env{{"VOICEAGENT_SERVER_MAX_BODY_BYTES", "2000"}});
    Api api(d.base_url(), d.admin_key());
    auto malformed = api.raw("POST", "/api/v1/agents", "{\"name\": ", "application/json");
    CHECK(malformed.status == 400);
    CHECK(malformed.json()["error"]["code"] == "invalid_request");
    CHECK(api.raw("POST", "/api/v1/agents", "[1,2,3]", "application/json").status == 400);
    CHECK(api.raw("POST", "/api/v1/agents", "", "application/json").status == 400);
    auto wrong_type = api.raw("POST", "/api/v1/agents", R"({"name":"x"})", "text/plain");
    CHECK(wrong_type.status == 415);
    CHECK(wrong_type.json()["error"]["code"] == "unsupported_media_type");
    auto big = api.raw("POST", "/api/v1/agents", "{\"name\":\"" + std::string(5000, 'a') + "\"}", "application/json");
    CHECK(big.status == 413);
    CHECK(big.json()["error"]["code"] == "too_large");

    // Raw garbage, a bad request line, a huge header, an invalid chunked body.
    CHECK(raw_exchange(d.port(), "\x16\x03\x01 garbage\r\n\r\n", 2000).find("400") != std::string::npos);
    CHECK(raw_exchange(d.port(), "GET\r\n\r\n", 2000).find("400") != std::string::npos);
    std::string huge_header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(40000, 'b') + "\r\n\r\n";
    CHECK(raw_exchange(d.port(), huge_header, 2000).find("431") != std::string::npos);
    std::string bad_chunk = "POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Transfer-Encoding: chunked\r\n\r\nzz\r\n";
    CHECK(raw_exchange(d.port(), bad_chunk, 2000).find("400") != std::string::npos);
    // Keep-alive: two requests on one connection.
    auto two = raw_exchange(d.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2000);
    CHECK(std::count(two.begin(), two.end(), '{') == 2);

    CHECK(d.alive());
    CHECK(api.get("/healthz").status == 200);
    CHECK(api.get("/api/v1/agents").json()["items"].empty());  // nothing half-created
}

TEST_CASE("server: a slow client is dropped after the read timeout while others are served") {
    DaemonProcess d(Env{{"VOICEAGENT_SERVER_READ_TIMEOUT_MS", "500"}});
    Api api(d.base_url(), d.admin_key());
    auto started = Clock::now();
    auto slow = std::async(std::launch::async, [&] {
        return raw_exchange(d.port(), "GET /api/v1/agents HTTP/1.1\r\nHost: x\r\nAuthor", 5000);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(api.get("/api/v1/agents").status == 200);  // served while the slow one stalls
    auto reply = slow.get();
    auto elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    CHECK(reply.find("200") == std::string::npos);
    CHECK(elapsed < 3.0);  // closed by the daemon, not by our 5 s limit
    CHECK(d.alive());
    CHECK(api.get("/healthz").status == 200);
}

TEST_CASE("server: SIGTERM finishes in-flight requests, refuses new ones and exits 0") {
    DaemonProcess d;
    std::string body = R"({"name":"in-flight"})";
    // A request whose body is still arriving when the signal comes must still be served.
    RawConnection inflight(d.port());
    REQUIRE(inflight.connected());
    inflight.send("POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + d.admin_key() +
                  "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\n\r\n" + body.substr(0, 5));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto stopped = std::async(std::launch::async, [&] { return d.stop(SIGTERM); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(RawConnection(d.port()).read_all(200).empty());  // no longer accepting (refused or closed at once)
    inflight.send(body.substr(5));
    auto reply = inflight.read_all(5000);
    CHECK(reply.rfind("HTTP/1.1 201", 0) == 0);
    CHECK(reply.find("Connection: close") != std::string::npos);
    CHECK(stopped.get() == 0);
    CHECK(d.log().find("received SIGTERM") != std::string::npos);
}

TEST_CASE("server: restart keeps data and the admin key, newer schemas and bad configs are refused") {
    std::string dir = make_temp_dir("va-restart");
    std::string key;
    {
        DaemonProcess d({}, {}, dir);
        key = d.admin_key();
        struct stat st{};
        REQUIRE(stat((dir + "/admin.key").c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        REQUIRE(Api(d.base_url(), key).post("/api/v1/agents", {{"name", "kept"}}).status == 201);
        CHECK(d.stop() == 0);
    }
    {
        DaemonProcess d({}, {}, dir);
        CHECK(d.admin_key() == key);
        CHECK(Api(d.base_url(), key).get("/api/v1/agents?name=kept").json()["items"].size() == 1);
        CHECK(d.stop() == 0);
    }
    std::ofstream(dir + "/bad.toml") << "[server]\nio_threads = \"two\"\n";
    auto check = run_process({VA_DAEMON_PATH, "--check-config", "--config", dir + "/bad.toml"});
    CHECK(check.exit_code != 0);
    CHECK(check.err.find("server.io_threads") != std::string::npos);
    auto start = run_process({VA_DAEMON_PATH, "--config", dir + "/bad.toml", "--data-dir", dir, "--listen", "127.0.0.1:0"});
    CHECK(start.exit_code != 0);
    CHECK(start.err.find("server.io_threads: expected an integer, got string") != std::string::npos);
    auto env_bad = run_process({VA_DAEMON_PATH, "--check-config"}, {{"VOICEAGENT_LOG_LEVEL", "loud"}});
    CHECK(env_bad.exit_code != 0);
    CHECK(env_bad.err.find("log.level") != std::string::npos);
    std::ofstream(dir + "/good.toml") << "[server]\nlisten = \"127.0.0.1:0\"\n";
    auto ok = run_process({VA_DAEMON_PATH, "--check-config", "--config", dir + "/good.toml"});
    CHECK(ok.exit_code == 0);
    CHECK(run_process({VA_DAEMON_PATH, "--check-config", "--config", VA_SOURCE_DIR "/config/voiceagentd.example.toml"})
              .exit_code == 0);

    // A database written by a newer version is refused with a clear message.
    auto sqlite = run_process({"/usr/bin/sqlite3", dir + "/voiceagent.db",
                               "INSERT INTO schema_migrations VALUES (999, 'future', 0);"});
    REQUIRE(sqlite.exit_code == 0);
    auto newer = run_process({VA_DAEMON_PATH, "--data-dir", dir, "--listen", "127.0.0.1:0"}, {}, "", 20);
    CHECK(newer.exit_code != 0);
    CHECK(newer.err.find("newer than this build supports") != std::string::npos);
    std::filesystem::remove_all(dir);
}
