#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/client.hpp"
#include "core/util/daemon_announce.hpp"
#include "fake_daemon.hpp"

using namespace va::cli;
using namespace va::cli::test;
using nlohmann::json;

TEST_CASE("HTTP statuses map to the documented exit codes") {
    CHECK(exit_code_for_status(200) == kOk);
    CHECK(exit_code_for_status(204) == kOk);
    CHECK(exit_code_for_status(401) == kAuth);
    CHECK(exit_code_for_status(403) == kAuth);
    CHECK(exit_code_for_status(404) == kNotFound);
    CHECK(exit_code_for_status(409) == kError);
    CHECK(exit_code_for_status(422) == kError);
    CHECK(exit_code_for_status(500) == kError);
    auto e = error_for_response(Response{409, api_error("conflict", "name taken")});
    CHECK(e.code == kError);
    CHECK(std::string(e.what()) == "name taken");
    CHECK(std::string(error_for_response(Response{502, nullptr}).what()) == "HTTP 502");
}

TEST_CASE("server: flag, then VACTL_SERVER, then settings, then the default") {
    CliFixture fixture;
    Settings saved;
    CHECK(resolve_server("", saved) == "http://127.0.0.1:8700");
    saved.server = "http://saved:1";
    CHECK(resolve_server("", saved) == "http://saved:1");
    {
        ScopedEnv env{{"VACTL_SERVER", "http://env:2/"}};
        CHECK(resolve_server("", saved) == "http://env:2");
        CHECK(resolve_server("flag:3", saved) == "http://flag:3");
    }
}

TEST_CASE("loopback detection: only 127.0.0.1, ::1 and localhost") {
    CHECK(is_loopback_url("http://127.0.0.1:8700"));
    CHECK(is_loopback_url("http://localhost"));
    CHECK(is_loopback_url("http://[::1]:8700/x"));
    // Another 127.x address may be any local user's listener: admin.key is never sent there.
    CHECK_FALSE(is_loopback_url("http://127.0.0.2:8700"));
    CHECK_FALSE(is_loopback_url("http://127.1.2.3"));
    CHECK_FALSE(is_loopback_url("http://127.0.0.1.evil.example.com"));
    CHECK_FALSE(is_loopback_url("http://10.0.0.1:8700"));
    CHECK_FALSE(is_loopback_url("https://voice.example.com"));
}

TEST_CASE("credential: flag, then VACTL_TOKEN, then settings, then admin.key on loopback only") {
    CliFixture fixture;
    std::string data = fixture.dir() + "/data";
    std::filesystem::create_directories(data);
    std::ofstream(data + "/admin.key") << "  vak_admin\n";
    ScopedEnv env{{"VOICEAGENT_DATA_DIR", data}};

    CHECK(read_admin_key("http://127.0.0.1:9") == "vak_admin");
    {
        Client client(GlobalOptions{"http://127.0.0.1:9", "", "table"});
        CHECK(client.token() == "vak_admin");
        CHECK(client.token_source() == "admin.key");
    }
    {
        Client client(GlobalOptions{"http://10.1.2.3:9", "", "table"});
        CHECK_THROWS_AS(client.token(), CliError);
        try {
            client.token();
        } catch (const CliError& e) {
            CHECK(e.code == kAuth);
            CHECK(std::string(e.what()).rfind("not logged in", 0) == 0);
        }
    }
    REQUIRE(Settings{"http://127.0.0.1:9", "saved", "", ""}.save().ok());
    {
        Client client(GlobalOptions{"http://127.0.0.1:9", "", "table"});
        CHECK(client.token() == "saved");
    }
    {
        // A token saved for one server is never sent to another.
        Client client(GlobalOptions{"http://localhost:10", "", "table"});
        CHECK(client.token() == "vak_admin");
    }
    {
        ScopedEnv token_env{{"VACTL_TOKEN", "from-env"}};
        Client env_client(GlobalOptions{"http://127.0.0.1:9", "", "table"});
        CHECK(env_client.token() == "from-env");
        Client flag_client(GlobalOptions{"http://127.0.0.1:9", "from-flag", "table"});
        CHECK(flag_client.token() == "from-flag");
    }
}

TEST_CASE("admin.key: never from the working directory, only from the data directory the daemon announced") {
    CliFixture fixture;  // the working directory is the fixture's
    std::filesystem::create_directories("var");
    std::ofstream("var/admin.key") << "vak_planted\n";
    CHECK(read_admin_key("http://127.0.0.1:8700").empty());
    {
        Client client(GlobalOptions{"http://127.0.0.1:8700", "", "table"});
        CHECK_THROWS_AS(client.token(), CliError);
    }

    std::string data = fixture.dir() + "/daemon-data";
    std::filesystem::create_directories(data);
    std::ofstream(data + "/admin.key") << "vak_announced\n";
    REQUIRE(va::write_announcement(8700, {"127.0.0.1:8700", data, long(::getpid())}).ok());
    CHECK(read_admin_key("http://127.0.0.1:8700") == "vak_announced");
    CHECK(read_admin_key("http://localhost:8700/") == "vak_announced");
    CHECK(read_admin_key("http://127.0.0.1:8701").empty());  // another port, another daemon
    {
        Client client(GlobalOptions{"http://127.0.0.2:8700", "", "table"});
        CHECK_THROWS_AS(client.token(), CliError);  // not sent to another 127.x listener
    }
    // The announcing daemon is gone (no such process): the file is stale and not believed.
    REQUIRE(va::write_announcement(8700, {"127.0.0.1:8700", data, 999999999L}).ok());
    CHECK(read_admin_key("http://127.0.0.1:8700").empty());
    // A file others may write is not believed either.
    REQUIRE(va::write_announcement(8700, {"127.0.0.1:8700", data, long(::getpid())}).ok());
    ::chmod(va::announce_path(8700).c_str(), 0622);
    CHECK(read_admin_key("http://127.0.0.1:8700").empty());
}

TEST_CASE("a 401 on the saved token refreshes once, saves the new tokens and retries") {
    CliFixture fixture;
    FakeDaemon daemon;
    REQUIRE(Settings{daemon.url(), "old-access", "old-refresh", "a@example.com"}.save().ok());
    daemon.handler = [](const Seen& s) -> Reply {
        if (s.path == "/api/v1/auth/refresh") {
            if (s.body.value("refresh_token", "") != "old-refresh") return {401, api_error("unauthenticated", "no")};
            return {200, json{{"access_token", "new-access"}, {"refresh_token", "new-refresh"}}};
        }
        if (s.authorization != "Bearer new-access") return {401, api_error("unauthenticated", "expired")};
        return {200, json{{"kind", "user"}}};
    };
    Client client(GlobalOptions{daemon.url(), "", "json"});
    CHECK(client.request("GET", "/api/v1/auth/me")["kind"] == "user");
    auto seen = daemon.seen();
    REQUIRE(seen.size() == 3);
    CHECK(seen[1].path == "/api/v1/auth/refresh");
    CHECK(seen[1].authorization.empty());
    Settings saved = Settings::load();
    CHECK(saved.access_token == "new-access");
    CHECK(saved.refresh_token == "new-refresh");
}

TEST_CASE("a refresh that fails leaves the 401 an auth error, without looping") {
    CliFixture fixture;
    FakeDaemon daemon;
    REQUIRE(Settings{daemon.url(), "old-access", "old-refresh", ""}.save().ok());
    daemon.handler = [](const Seen&) -> Reply { return {401, api_error("unauthenticated", "expired")}; };
    Client client(GlobalOptions{daemon.url(), "", "table"});
    try {
        client.request("GET", "/api/v1/agents");
        FAIL("expected an error");
    } catch (const CliError& e) {
        CHECK(e.code == kAuth);
        CHECK(std::string(e.what()) == "expired");
    }
    CHECK(daemon.seen().size() == 2);
    CHECK(Settings::load().access_token == "old-access");
}

TEST_CASE("tokens given by flag are never refreshed") {
    CliFixture fixture;
    FakeDaemon daemon;
    REQUIRE(Settings{daemon.url(), "saved", "refresh", ""}.save().ok());
    daemon.handler = [](const Seen&) -> Reply { return {401, api_error("unauthenticated", "bad token")}; };
    Client client(GlobalOptions{daemon.url(), "flag-token", "table"});
    CHECK_THROWS_AS(client.request("GET", "/api/v1/agents"), CliError);
    auto seen = daemon.seen();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].authorization == "Bearer flag-token");
}

TEST_CASE("an unreachable server is a transport error naming the URL") {
    CliFixture fixture;
    Client client(GlobalOptions{"http://127.0.0.1:1", "t", "table"});
    auto answer = client.send("GET", "/api/v1/agents");
    REQUIRE_FALSE(answer.ok());
    CHECK(answer.error().message.rfind("cannot reach server at http://127.0.0.1:1: ", 0) == 0);
}

TEST_CASE("url_encode keeps unreserved characters") {
    CHECK(url_encode("a-b_c.d~e") == "a-b_c.d~e");
    CHECK(url_encode("+1 555/x") == "%2B1%20555%2Fx");
}
