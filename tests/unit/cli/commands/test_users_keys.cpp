#include <catch2/catch.hpp>

#include "../fake_daemon.hpp"

using namespace va::cli;
using namespace va::cli::test;
using nlohmann::json;

TEST_CASE("users add/update/delete send the right bodies, update resolves an email") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen& s) -> Reply {
        json user{{"id", "usr_1"}, {"email", "ops@example.com"}, {"role", "admin"}, {"disabled", false}};
        if (s.method == "GET") return {200, page({user})};
        if (s.method == "POST") return {201, user};
        if (s.method == "PATCH" && s.path == "/api/v1/users/usr_1") return {200, user};
        if (s.method == "DELETE" && s.path == "/api/v1/users/usr_1") return {204, nullptr};
        return {404, api_error("not_found", "user not found")};
    };
    std::vector<std::string> base{"--server", daemon.url(), "--token", "t", "users"};
    auto with = [&base](std::vector<std::string> args) {
        auto all = base;
        all.insert(all.end(), args.begin(), args.end());
        return all;
    };
    auto added = cli.run(with({"add", "ops@example.com", "--role", "admin", "--name", "Ops", "--password-stdin"}), "pw\n");
    REQUIRE(added.code == 0);
    CHECK(added.out == "user ops@example.com added (usr_1)\n");
    CHECK(daemon.seen().back().body ==
          json{{"email", "ops@example.com"}, {"role", "admin"}, {"name", "Ops"}, {"password", "pw"}});
    CHECK(cli.run(with({"add", "x@example.com", "--password-stdin"}), "pw\n").code == 2);  // --role is required
    CHECK(cli.run(with({"add", "x@example.com", "--role", "boss", "--password-stdin"}), "pw\n").code == 2);

    auto updated = cli.run(with({"update", "ops@example.com", "--disable", "--role", "viewer"}));
    REQUIRE(updated.code == 0);
    CHECK(daemon.seen().back().path == "/api/v1/users/usr_1");
    CHECK(daemon.seen().back().body == json{{"role", "viewer"}, {"disabled", true}});
    CHECK(cli.run(with({"update", "usr_1"})).code == 2);
    CHECK(cli.run(with({"update", "usr_1", "--enable", "--disable"})).code == 2);

    CHECK(cli.run(with({"delete", "usr_1"})).out == "user usr_1 deleted\n");
    CHECK(cli.run(with({"delete", "usr_2"})).code == 4);
}

TEST_CASE("keys create prints the key once with a warning, revoke by id") {
    CliFixture cli;
    FakeDaemon daemon;
    daemon.handler = [](const Seen& s) -> Reply {
        if (s.method == "POST")
            return {201, json{{"api_key", {{"id", "key_1"}, {"name", "ci"}, {"role", "member"}}}, {"key", "vak_secret"}}};
        if (s.method == "DELETE") return {204, nullptr};
        if (s.method == "GET") return {403, api_error("forbidden", "admins only")};
        return {404, nullptr};
    };
    auto created = cli.run({"--server", daemon.url(), "--token", "t", "keys", "create", "ci", "--role", "member"});
    REQUIRE(created.code == 0);
    CHECK(created.out == "vak_secret\n");
    CHECK(created.err.find("will not be shown again") != std::string::npos);
    CHECK(daemon.seen().back().body == json{{"name", "ci"}, {"role", "member"}});
    auto revoked = cli.run({"--server", daemon.url(), "--token", "t", "-o", "json", "keys", "revoke", "key_1"});
    CHECK(revoked.out_json() == json{{"revoked", "key_1"}});
    CHECK(daemon.seen().back().path == "/api/v1/api-keys/key_1");
    auto forbidden = cli.run({"--server", daemon.url(), "--token", "t", "keys", "list"});
    CHECK(forbidden.code == 3);
    CHECK(forbidden.err == "error: admins only\n");
}
