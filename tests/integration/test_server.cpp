// The daemon as a server: probes, metrics, the OpenAPI description, unknown routes, graceful shutdown on
// SIGTERM/SIGINT, configuration errors and restart on the same data directory. (Hostile input: test_bad_input.)
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <csignal>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "cli/ws_client.hpp"
#include "core/store/store.hpp"
#include "support/daemon_process.hpp"
#include "support/eventually.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Reads messages until one of `type` arrives (returned) or the connection closes (null).
json read_until(va::cli::WsClient& ws, const std::string& type, std::vector<json>* seen = nullptr) {
    while (auto text = ws.read()) {
        json m = json::parse(*text);
        if (seen) seen->push_back(m);
        if (m.value("type", "") == type) return m;
    }
    return nullptr;
}

}  // namespace

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
                             "/api/v1/phones", "/api/v1/users/{id}", "/api/v1/api-keys/{id}", "/api/v1/workspaces",
                             "/api/v1/calls/{id}/hangup", "/api/v1/calls/{id}/transfer"})
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

TEST_CASE("server: SIGTERM finishes in-flight requests, closes idle ones, refuses new ones and exits 0") {
    DaemonProcess d;
    std::string body = R"({"name":"in-flight"})";
    // A keep-alive connection opened before the signal, idle when it comes. (Readiness while draining: the next test,
    // where a live call keeps the daemon draining.)
    RawConnection probe(d.port());
    REQUIRE(probe.connected());
    probe.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string first;
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (first.find("\r\n\r\n") == std::string::npos && Clock::now() < deadline) first += probe.read_all(50);
    REQUIRE(first.rfind("HTTP/1.1 200", 0) == 0);

    // A request whose body is still arriving when the signal comes must still be served.
    RawConnection inflight(d.port());
    REQUIRE(inflight.connected());
    inflight.send("POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + d.admin_key() +
                  "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\n\r\n" + body.substr(0, 5));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto stopped = std::async(std::launch::async, [&] { return d.stop(SIGTERM); });
    // No longer accepting: a new connection is refused once the listener has closed (no calls are live, so that
    // comes at once; the deadline only decides how long a broken build takes to fail).
    CHECK(eventually([&] { return !RawConnection(d.port()).connected(); }, std::chrono::seconds(20)));
    // The idle keep-alive connection is closed by the drain, without an answer to anything.
    std::string after;
    CHECK(probe.wait_closed(20000, &after));
    CHECK(after.empty());

    inflight.send(body.substr(5));
    auto reply = inflight.read_all(20000);  // until the daemon closes it after the answer
    INFO("in-flight reply: " << reply);
    CHECK(reply.rfind("HTTP/1.1 201", 0) == 0);
    CHECK(stopped.get() == 0);
    CHECK(d.log().find("SIGTERM") != std::string::npos);
}

TEST_CASE("server: SIGTERM drains: not ready and no new calls at once, live calls go on, then hear the goodbye") {
    std::string dir = make_temp_dir("va-drain");
    std::string id;
    {
        DaemonProcess d({{"VOICEAGENT_SERVER_DRAIN_TIMEOUT_MS", "2500"}}, {}, dir);
        Api api(d.base_url(), d.admin_key());
        REQUIRE(api.post("/api/v1/agents", example_agent("receptionist.json")).status == 201);
        json call_body{{"agent_id", "receptionist"}, {"channel", "chat"}};
        auto created = api.post("/api/v1/calls/local", call_body);
        REQUIRE(created.status == 201);
        id = created.json()["call"]["id"];
        va::cli::WsClient media(d.base_url() + created.json()["media_url"].get<std::string>(), d.admin_key());
        REQUIRE(read_until(media, "listening").is_object());

        REQUIRE(::kill(d.pid(), SIGTERM) == 0);
        // Not ready once the signal is handled (and until the daemon exits), and no new call (a load balancer sends
        // them elsewhere).
        CHECK(eventually([&] { return api.get("/readyz").status == 503; }, std::chrono::seconds(20)));
        auto refused = api.post("/api/v1/calls/local", call_body);
        CHECK(refused.status == 503);
        CHECK(refused.body.find("shutting down") != std::string::npos);
        // The live call goes on meanwhile.
        media.send_text(R"({"type":"text","text":"what are your hours"})");
        auto answer = read_until(media, "agent");
        REQUIRE(answer.is_object());
        CHECK(answer["text"].get<std::string>().rfind("We are open Monday to Friday", 0) == 0);
        // When the drain time is up: the goodbye, then the end.
        std::vector<json> seen;
        auto end = read_until(media, "end", &seen);
        REQUIRE(end.is_object());
        CHECK(end["reason"] == "daemon_shutdown");
        REQUIRE(seen.size() >= 2);
        CHECK(seen[seen.size() - 2]["type"] == "agent");
        CHECK(seen[seen.size() - 2]["text"] == "I'm sorry, I have to end our call now. Goodbye.");
        CHECK_FALSE(media.read());  // the daemon closes the stream (this read completes the close)
        CHECK(d.stop(SIGTERM, 20) == 0);  // it was exiting already
        // The goodbye came because the drain time ran out with the call still live (not from a second signal),
        // as the daemon's own log tells in order; how long that took is not for a test to measure.
        std::string log = d.log();
        auto waiting = log.find("draining: 1 live calls get up to 2500 ms");
        auto goodbye = log.find("draining: 1 calls still live hear the goodbye and end");
        CHECK(waiting != std::string::npos);
        CHECK(goodbye != std::string::npos);
        CHECK(waiting < goodbye);
        CHECK(log.find("a second signal") == std::string::npos);
    }
    auto store = va::open_sqlite_store({dir + "/voiceagent.db"});
    REQUIRE(store);
    auto stored = (*store)->find_call(id);
    REQUIRE(stored);
    CHECK(stored->end_reason == "daemon_shutdown");
    auto turns = (*store)->list_turns(id);
    REQUIRE(turns);
    REQUIRE_FALSE(turns->empty());
    CHECK(turns->back().text == "I'm sorry, I have to end our call now. Goodbye.");
    std::filesystem::remove_all(dir);
}

TEST_CASE("server: SIGINT exits 0 too, and the data survives") {
    std::string dir = make_temp_dir("va-sigint");
    {
        DaemonProcess d({}, {}, dir);
        REQUIRE(Api(d.base_url(), d.admin_key()).post("/api/v1/agents", {{"name", "kept"}}).status == 201);
        CHECK(d.stop(SIGINT) == 0);
    }
    {
        DaemonProcess d({}, {}, dir);
        CHECK(Api(d.base_url(), d.admin_key()).get("/api/v1/agents?name=kept").json()["items"].size() == 1);
        CHECK(d.stop(SIGTERM) == 0);
    }
    std::filesystem::remove_all(dir);
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
