#include <catch2/catch.hpp>

#include "../fake_daemon.hpp"

using namespace va::cli;
using namespace va::cli::test;
using nlohmann::json;

namespace {

json phone(const std::string& id, const std::string& number, json agent_id) {
    return json{{"id", id},         {"workspace_id", "ws_1"}, {"number", number},  {"provider", "twilio"},
                {"agent_id", agent_id}, {"label", ""},        {"created_at", nullptr}, {"updated_at", nullptr}};
}

// Two numbers over two pages and one agent; PATCH answers with the patched number.
Reply numbers_daemon(const Seen& s) {
    if (s.path == "/api/v1/phones" && s.method == "GET") {
        if (s.query.count("cursor")) return {200, page({phone("phn_2", "+15550002222", nullptr)})};
        return {200, page({phone("phn_1", "+15550001111", nullptr)}, "next")};
    }
    if (s.path == "/api/v1/agents") return {200, page({{{"id", "agt_1"}, {"name", "receptionist"}}})};
    if (s.method == "PATCH" && s.path == "/api/v1/phones/phn_2")
        return {200, phone("phn_2", "+15550002222", s.body["agent_id"])};
    if (s.method == "DELETE" && s.path == "/api/v1/phones/phn_2") return {204, nullptr};
    if (s.method == "POST" && s.path == "/api/v1/phones")
        return {201, phone("phn_3", s.body.value("number", ""), s.body.value("agent_id", json()))};
    return {404, api_error("not_found", "phone not found")};
}

}  // namespace

TEST_CASE("numbers resolve by number across pages, and assign/unassign PATCH agent_id") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = numbers_daemon;
    std::vector<std::string> base{"--server", daemon.url(), "--token", "t"};
    auto with = [&base](std::vector<std::string> args) {
        auto all = base;
        all.insert(all.end(), args.begin(), args.end());
        return all;
    };

    auto assigned = cli.run(with({"-o", "json", "numbers", "assign", "+15550002222", "--agent", "receptionist"}));
    REQUIRE(assigned.code == 0);
    CHECK(assigned.out_json()["agent_id"] == "agt_1");
    auto patch = daemon.seen().back();
    CHECK(patch.method == "PATCH");
    CHECK(patch.body == json{{"agent_id", "agt_1"}});

    auto table = cli.run(with({"numbers", "assign", "phn_2", "--agent", "agt_1"}));
    CHECK(table.out == "number +15550002222 assigned to agt_1\n");

    auto unassigned = cli.run(with({"-o", "json", "numbers", "unassign", "+15550002222"}));
    CHECK(unassigned.out_json()["agent_id"].is_null());
    CHECK(daemon.seen().back().body == json{{"agent_id", nullptr}});
    auto none = cli.run(with({"numbers", "assign", "+15550002222", "--none"}));
    CHECK(none.out == "number +15550002222 unassigned\n");
    CHECK(cli.run(with({"numbers", "assign", "+15550002222"})).code == 2);
    CHECK(cli.run(with({"numbers", "assign", "+15550002222", "--none", "--agent", "x"})).code == 2);

    auto removed = cli.run(with({"numbers", "remove", "+15550002222"}));
    CHECK(removed.code == 0);
    CHECK(removed.out == "number +15550002222 removed\n");
    auto missing = cli.run(with({"numbers", "remove", "+15559999999"}));
    CHECK(missing.code == 4);
    CHECK(missing.err == "error: number +15559999999 not found\n");
}

TEST_CASE("numbers add sends the agent's id and the provider") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = numbers_daemon;
    auto r = cli.run({"--server", daemon.url(), "--token", "t", "numbers", "add", "+15550003333", "--provider", "twilio",
                      "--agent", "receptionist", "--label", "front desk"});
    CHECK(r.code == 0);
    CHECK(r.out == "number +15550003333 added\n");
    CHECK(daemon.seen().back().body ==
          json{{"number", "+15550003333"}, {"provider", "twilio"}, {"agent_id", "agt_1"}, {"label", "front desk"}});
    CHECK(cli.run({"--server", daemon.url(), "--token", "t", "numbers", "add", "+15550003333"}).code == 2);
}

TEST_CASE("numbers list prints a table") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = numbers_daemon;
    auto r = cli.run({"--server", daemon.url(), "--token", "t", "numbers", "list", "--all"});
    CHECK(r.code == 0);
    CHECK(r.out.rfind("ID     NUMBER        PROVIDER  AGENT  LABEL  UPDATED\n", 0) == 0);
    CHECK(r.out.find("phn_2  +15550002222  twilio    -             -\n") != std::string::npos);
}
