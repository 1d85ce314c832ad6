#include <catch2/catch.hpp>

#include <fstream>

#include "../fake_daemon.hpp"

using namespace va::cli;
using namespace va::cli::test;
using nlohmann::json;

TEST_CASE("usage errors are exit 2, help is exit 0") {
    CliFixture cli;
    CHECK(cli.run({}).code == 2);
    CHECK(cli.run({"frobnicate"}).code == 2);
    CHECK(cli.run({"agents"}).code == 2);
    CHECK(cli.run({"agents", "--bogus-flag"}).code == 2);
    CHECK(cli.run({"agents", "get"}).code == 2);
    CHECK(cli.run({"-o", "xml", "agents", "list"}).code == 2);
    auto help = cli.run({"--help"});
    CHECK(help.code == 0);
    CHECK(help.out.find("agents") != std::string::npos);
    CHECK(cli.run({"agents", "list", "--help"}).code == 0);
    CHECK(cli.run({"--version"}).code == 0);
}

TEST_CASE("an unreachable server is exit 1 with the URL") {
    CliFixture cli;
    auto r = cli.run({"--server", "http://127.0.0.1:1", "--token", "t", "agents", "list"});
    CHECK(r.code == 1);
    CHECK(r.err.rfind("error: cannot reach server at http://127.0.0.1:1: ", 0) == 0);
    auto j = cli.run({"--server", "http://127.0.0.1:1", "--token", "t", "-o", "json", "agents", "list"});
    CHECK(j.code == 1);
    CHECK(j.err.rfind("error: cannot reach server", 0) == 0);
}

TEST_CASE("no credential for a remote server is exit 3 without any request") {
    CliFixture cli;
    auto r = cli.run({"--server", "http://192.0.2.1:8700", "agents", "list"});
    CHECK(r.code == 3);
    CHECK(r.err.rfind("error: not logged in: run `vactl login`", 0) == 0);
}

TEST_CASE("on loopback with no token, $VOICEAGENT_DATA_DIR/admin.key is used") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen&) -> Reply { return {200, page(json::array())}; };
    std::ofstream(cli.dir() + "/admin.key") << "vak_owner\n";
    ScopedEnv env{{"VOICEAGENT_DATA_DIR", cli.dir()}};
    auto r = cli.run({"--server", daemon.url(), "agents", "list"});
    CHECK(r.code == 0);
    CHECK(daemon.seen().back().authorization == "Bearer vak_owner");
}

TEST_CASE("global flags work after the command, and unexpected server answers are exit 1") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen&) -> Reply { return {500, nullptr}; };
    auto r = cli.run({"agents", "list", "--server", daemon.url(), "--token", "t", "-o", "json"});
    CHECK(r.code == 1);
    CHECK(r.err == "error: HTTP 500\n");
    daemon.handler = [](const Seen&) -> Reply { return {200, json{{"items", 5}}}; };
    CHECK(cli.run({"agents", "list", "--server", daemon.url(), "--token", "t"}).code == 1);
}

TEST_CASE("./var/admin.key in the working directory is never sent") {
    // It once was the last fallback: whoever could put a file in the directory vactl ran from chose the key, and
    // a daemon on any 127.x address received it. The key now comes only from a data directory the user configured
    // or the running daemon announced (test_client.cpp).
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen&) -> Reply { return {200, page(json::array())}; };
    std::filesystem::create_directories(cli.dir() + "/var");
    std::ofstream(cli.dir() + "/var/admin.key") << "vak_from_var";
    CHECK(cli.run({"--server", daemon.url(), "agents", "list"}).code != 0);
    for (const auto& seen : daemon.seen()) CHECK(seen.authorization.find("vak_from_var") == std::string::npos);
}
