#include <catch2/catch.hpp>

#include "../fake_daemon.hpp"
#include "cli/settings.hpp"

using namespace va::cli;
using namespace va::cli::test;
using nlohmann::json;

namespace {

Reply auth_daemon(const Seen& s) {
    if (s.path == "/api/v1/auth/login") {
        if (s.body.value("password", "") != "secret") return {401, api_error("unauthenticated", "bad email or password")};
        return {200, json{{"access_token", "acc"},
                          {"refresh_token", "ref"},
                          {"token_type", "Bearer"},
                          {"expires_in", 900},
                          {"user", {{"email", s.body.value("email", "")}, {"role", "admin"}}}}};
    }
    if (s.path == "/api/v1/auth/logout") return {204, nullptr};
    if (s.path == "/api/v1/auth/me") {
        if (s.authorization != "Bearer acc") return {401, api_error("unauthenticated", "bad token")};
        return {200, json{{"kind", "user"},
                          {"role", "admin"},
                          {"workspace", {{"id", "ws_1"}, {"name", "default"}}},
                          {"user", {{"email", "ops@example.com"}}}}};
    }
    return {404, api_error("not_found", "no route")};
}

}  // namespace

TEST_CASE("login saves server and tokens, whoami uses them, logout revokes and forgets") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = auth_daemon;
    auto login = cli.run({"--server", daemon.url(), "login", "--email", "ops@example.com", "--password-stdin"},
                         "secret\nignored\n");
    INFO(login.err);
    REQUIRE(login.code == 0);
    CHECK(login.out == "logged in to " + daemon.url() + " as ops@example.com (admin)\n");
    CHECK(daemon.seen().back().authorization.empty());
    Settings saved = Settings::load();
    CHECK(saved.server == daemon.url());
    CHECK(saved.email == "ops@example.com");
    CHECK(saved.access_token == "acc");
    CHECK(saved.refresh_token == "ref");

    // No --server: the saved one, with the saved token.
    auto me = cli.run({"whoami"});
    REQUIRE(me.code == 0);
    CHECK(me.out.find("user:      ops@example.com\n") != std::string::npos);
    CHECK(me.out.find("workspace: default (ws_1)\n") != std::string::npos);
    CHECK(cli.run({"-o", "json", "whoami"}).out_json()["kind"] == "user");

    auto logout = cli.run({"logout"});
    CHECK(logout.code == 0);
    CHECK(daemon.seen().back().body == json{{"refresh_token", "ref"}});
    CHECK(Settings::load().access_token.empty());
    CHECK(Settings::load().server == daemon.url());

    // The daemon is on loopback, but no admin.key is readable: not logged in.
    auto after = cli.run({"whoami"});
    CHECK(after.code == 3);
    CHECK(after.err.rfind("error: not logged in: run `vactl login`", 0) == 0);
}

TEST_CASE("login with a wrong password is exit 3 and saves nothing") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = auth_daemon;
    auto r = cli.run({"--server", daemon.url(), "login", "--email", "ops@example.com", "--password-stdin"}, "wrong\n");
    CHECK(r.code == 3);
    CHECK(r.err == "error: bad email or password\n");
    CHECK(Settings::load().access_token.empty());
    // Without a terminal there is nobody to prompt.
    CHECK(cli.run({"--server", daemon.url(), "login", "--password-stdin"}, "secret\n").code == 2);
}

TEST_CASE("whoami with an API key in VACTL_TOKEN") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen&) -> Reply {
        return {200, json{{"kind", "api_key"},
                          {"role", "member"},
                          {"workspace", {{"id", "ws_1"}, {"name", "default"}}},
                          {"api_key", {{"id", "key_1"}, {"name", "deploy"}}}}};
    };
    ScopedEnv env{{"VACTL_TOKEN", "vak_x"}, {"VACTL_SERVER", daemon.url()}};
    auto r = cli.run({"whoami"});
    REQUIRE(r.code == 0);
    CHECK(r.out.find("api key:   deploy (key_1)\n") != std::string::npos);
    CHECK(daemon.seen().back().authorization == "Bearer vak_x");
}
