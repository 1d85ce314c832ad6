#include <catch2/catch.hpp>

#include <fstream>

#include "../fake_daemon.hpp"

using namespace va::cli;
using namespace va::cli::test;
using nlohmann::json;

namespace {

json agent(const std::string& id, const std::string& name, int version) {
    return json{{"id", id},
                {"workspace_id", "ws_1"},
                {"name", name},
                {"version", version},
                {"created_at", "2026-11-24T03:00:00.000Z"},
                {"updated_at", "2026-11-24T03:34:04.123Z"},
                {"definition", {{"name", name}}}};
}

}  // namespace

TEST_CASE("agents list: a table for people, the server's page for scripts") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen&) -> Reply { return {200, page({agent("agt_1", "receptionist", 2)})}; };
    auto table = cli.run({"--server", daemon.url(), "--token", "t", "agents", "list"});
    CHECK(table.code == 0);
    CHECK(table.out ==
          "ID     NAME          VERSION  UPDATED\n"
          "agt_1  receptionist  2        2026-11-24 03:34:04\n");
    auto json_run = cli.run({"--server", daemon.url(), "--token", "t", "agents", "list", "-o", "json"});
    CHECK(json_run.code == 0);
    CHECK(json_run.out == page({agent("agt_1", "receptionist", 2)}).dump(2) + "\n");
    CHECK(daemon.seen()[0].authorization == "Bearer t");
}

TEST_CASE("agents list: empty, --limit and --all") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen& s) -> Reply {
        if (s.query.count("cursor") == 0) return {200, page({agent("agt_2", "b", 1)}, "c1")};
        return {200, page({agent("agt_1", "a", 1)})};
    };
    auto all = cli.run({"--server", daemon.url(), "--token", "t", "-o", "json", "agents", "list", "--all", "--limit", "1"});
    REQUIRE(all.code == 0);
    CHECK(all.out_json() == page({agent("agt_2", "b", 1), agent("agt_1", "a", 1)}));
    auto seen = daemon.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].query.at("limit") == "1");
    CHECK(seen[1].query.at("cursor") == "c1");

    auto one = cli.run({"--server", daemon.url(), "--token", "t", "agents", "list"});
    CHECK(one.out.find("agt_2") != std::string::npos);
    CHECK(one.out.find("agt_1") == std::string::npos);
    CHECK(one.err.find("--all") != std::string::npos);

    daemon.handler = [](const Seen&) -> Reply { return {200, page(json::array())}; };
    auto empty = cli.run({"--server", daemon.url(), "--token", "t", "agents", "list"});
    CHECK(empty.code == 0);
    CHECK(empty.out == "no agents\n");
    CHECK(cli.run({"--server", daemon.url(), "--token", "t", "agents", "list", "--limit", "0"}).code == 2);
}

TEST_CASE("agents get accepts an id or a name, an unknown name is exit 4") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen& s) -> Reply {
        if (s.path == "/api/v1/agents" && s.query.count("name")) {
            if (s.query.at("name") == "receptionist") return {200, page({agent("agt_1", "receptionist", 1)})};
            return {200, page(json::array())};
        }
        if (s.path == "/api/v1/agents/agt_1") return {200, agent("agt_1", "receptionist", 1)};
        return {404, api_error("not_found", "agent not found")};
    };
    std::vector<std::string> base{"--server", daemon.url(), "--token", "t", "-o", "json", "agents", "get"};
    auto by_name = base;
    by_name.push_back("receptionist");
    auto r = cli.run(by_name);
    REQUIRE(r.code == 0);
    CHECK(r.out_json()["id"] == "agt_1");
    auto by_id = base;
    by_id.push_back("agt_1");
    CHECK(cli.run(by_id).out_json()["name"] == "receptionist");

    auto unknown_name = cli.run({"--server", daemon.url(), "--token", "t", "agents", "get", "nosuch"});
    CHECK(unknown_name.code == 4);
    CHECK(unknown_name.err == "error: agent nosuch not found\n");
    auto unknown_id = cli.run({"--server", daemon.url(), "--token", "t", "agents", "get", "agt_nope"});
    CHECK(unknown_id.code == 4);
    CHECK(unknown_id.err == "error: agent not found\n");

    auto table = cli.run({"--server", daemon.url(), "--token", "t", "agents", "get", "receptionist"});
    CHECK(table.out.find("name:    receptionist\n") != std::string::npos);
    CHECK(table.out.find("definition:\n{\n  \"name\": \"receptionist\"\n}\n") != std::string::npos);
}

TEST_CASE("agents apply creates by name, then replaces the same agent") {
    CliFixture cli;
    FakeDaemon daemon;
    std::string file = cli.dir() + "/receptionist.json";
    json definition{{"name", "receptionist"}, {"prompt", "Be kind."}};
    std::ofstream(file) << definition.dump();
    bool exists = false;
    daemon.handler = [&exists](const Seen& s) -> Reply {
        if (s.method == "GET") return {200, page(exists ? json::array({agent("agt_1", "receptionist", 1)}) : json::array())};
        if (s.method == "POST") {
            exists = true;
            return {201, agent("agt_1", "receptionist", 1)};
        }
        if (s.method == "PUT" && s.path == "/api/v1/agents/agt_1") return {200, agent("agt_1", "receptionist", 2)};
        return {500, api_error("internal", "unexpected")};
    };
    auto created = cli.run({"--server", daemon.url(), "--token", "t", "agents", "apply", "-f", file});
    CHECK(created.code == 0);
    CHECK(created.out == "agent receptionist created\n");
    auto updated = cli.run({"--server", daemon.url(), "--token", "t", "-o", "json", "agents", "apply", "-f", file});
    REQUIRE(updated.code == 0);
    CHECK(updated.out_json()["action"] == "updated");
    CHECK(updated.out_json()["version"] == 2);
    CHECK(cli.run({"--server", daemon.url(), "--token", "t", "agents", "apply", "-f", file}).out ==
          "agent receptionist updated\n");

    auto seen = daemon.seen();
    REQUIRE(seen.size() == 6);
    CHECK(seen[0].query.at("name") == "receptionist");
    CHECK(seen[1].method == "POST");
    CHECK(seen[1].body == definition);
    CHECK(seen[3].method == "PUT");
    CHECK(seen[3].body == definition);
}

TEST_CASE("agents create reads stdin with -f -, validation errors print each detail") {
    CliFixture cli;
    FakeDaemon daemon;
    json error = api_error("unprocessable", "invalid agent definition",
                           json::array({{{"field", "/name"}, {"reason", "must match ^[a-z0-9-]+$"}}}));
    daemon.handler = [&error](const Seen& s) -> Reply {
        if (s.body.value("name", "") == "Bad Name") return {422, error};
        return {201, agent("agt_9", s.body.value("name", ""), 1)};
    };
    auto ok = cli.run({"--server", daemon.url(), "--token", "t", "agents", "create", "-f", "-"}, R"({"name":"ok"})");
    CHECK(ok.code == 0);
    CHECK(ok.out == "agent ok created\n");

    auto bad = cli.run({"--server", daemon.url(), "--token", "t", "agents", "create", "-f", "-"},
                       R"({"name":"Bad Name"})");
    CHECK(bad.code == 1);
    CHECK(bad.err == "error: invalid agent definition\n  /name: must match ^[a-z0-9-]+$\n");
    auto bad_json = cli.run({"--server", daemon.url(), "--token", "t", "-o", "json", "agents", "create", "-f", "-"},
                            R"({"name":"Bad Name"})");
    CHECK(bad_json.code == 1);
    CHECK(json::parse(bad_json.err) == error);

    auto not_json = cli.run({"--server", daemon.url(), "--token", "t", "agents", "create", "-f", "-"}, "nope");
    CHECK(not_json.code == 1);
    CHECK(not_json.err == "error: stdin is not valid JSON\n");
    auto missing = cli.run({"--server", daemon.url(), "--token", "t", "agents", "create", "-f", cli.dir() + "/none"});
    CHECK(missing.code == 1);
}

TEST_CASE("agents delete resolves a name and prints the deleted id in JSON") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen& s) -> Reply {
        if (s.method == "GET") return {200, page({agent("agt_1", "receptionist", 1)})};
        if (s.method == "DELETE" && s.path == "/api/v1/agents/agt_1") return {204, nullptr};
        return {404, api_error("not_found", "agent not found")};
    };
    auto r = cli.run({"--server", daemon.url(), "--token", "t", "-o", "json", "agents", "delete", "receptionist"});
    REQUIRE(r.code == 0);
    CHECK(r.out_json() == json{{"deleted", "agt_1"}});
    auto table = cli.run({"--server", daemon.url(), "--token", "t", "agents", "delete", "agt_1"});
    CHECK(table.out == "agent agt_1 deleted\n");
}
