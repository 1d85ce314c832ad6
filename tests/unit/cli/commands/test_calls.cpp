#include <catch2/catch.hpp>

#include "../fake_daemon.hpp"

using namespace va::cli;
using namespace va::cli::test;
using nlohmann::json;

namespace {

json call() {
    return json{{"id", "call_1"},         {"agent_id", "agt_1"},  {"direction", "inbound"}, {"channel", "chat"},
                {"from", "+15550001111"}, {"to", "+15550002222"}, {"status", "completed"},  {"created_at", "2026-11-24T03:00:00.000Z"},
                {"started_at", nullptr},  {"ended_at", nullptr},  {"duration_s", 12},      {"end_reason", "caller_hangup"},
                {"summary", nullptr}};
}

Reply calls_daemon(const Seen& s) {
    if (s.path == "/api/v1/agents") return {200, page({{{"id", "agt_1"}, {"name", "receptionist"}}})};
    if (s.path == "/api/v1/calls") return {200, page({call()})};
    if (s.path == "/api/v1/calls/call_1") return {200, call()};
    if (s.path == "/api/v1/calls/call_1/transcript")
        return {200, json{{"call_id", "call_1"},
                          {"items", json::array({{{"seq", 1}, {"role", "agent"}, {"text", "Hello, how can I help?"},
                                                  {"started_ms", 1234}, {"interrupted", false}},
                                                 {{"seq", 2}, {"role", "user"}, {"text", "Hi"},
                                                  {"started_ms", 62350}, {"interrupted", true}}})}}};
    return {404, api_error("not_found", "call not found")};
}

}  // namespace

TEST_CASE("calls show prints the fields, then the transcript turns with offsets") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = calls_daemon;
    auto r = cli.run({"--server", daemon.url(), "--token", "t", "calls", "show", "call_1"});
    REQUIRE(r.code == 0);
    CHECK(r.out.find("status:     completed\n") != std::string::npos);
    CHECK(r.out.find("\n[00:01.2] agent: Hello, how can I help?\n[01:02.3] user: Hi (interrupted)\n") !=
          std::string::npos);

    auto j = cli.run({"--server", daemon.url(), "--token", "t", "-o", "json", "calls", "show", "call_1"});
    REQUIRE(j.code == 0);
    CHECK(j.out_json()["id"] == "call_1");
    CHECK(j.out_json()["transcript"].size() == 2);

    auto missing = cli.run({"--server", daemon.url(), "--token", "t", "calls", "show", "call_nope"});
    CHECK(missing.code == 4);
}

TEST_CASE("calls list passes filters, resolving the agent's name") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = calls_daemon;
    auto r = cli.run({"--server", daemon.url(), "--token", "t", "calls", "list", "--agent", "receptionist", "--status",
                      "completed", "--since", "2026-11-24T00:00:00Z", "--limit", "10"});
    REQUIRE(r.code == 0);
    auto query = daemon.seen().back().query;
    CHECK(query.at("agent_id") == "agt_1");
    CHECK(query.at("status") == "completed");
    CHECK(query.at("since") == "2026-11-24T00:00:00Z");
    CHECK(query.at("limit") == "10");
    CHECK(r.out.rfind("ID      STATUS     DIRECTION  CHANNEL  FROM", 0) == 0);
    CHECK(r.out.find("2026-11-24 03:00:00  12\n") != std::string::npos);
}
