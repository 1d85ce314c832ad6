#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "cli/settings.hpp"
#include "fake_daemon.hpp"

using namespace va::cli;
using namespace va::cli::test;

TEST_CASE("settings live under XDG_CONFIG_HOME, private, and round-trip") {
    CliFixture fixture;
    CHECK(Settings::path() == fixture.dir() + "/vactl/config.json");
    Settings empty = Settings::load();
    CHECK(empty.server.empty());
    CHECK(empty.access_token.empty());

    Settings s{"http://127.0.0.1:8700", "access", "refresh", "ops@example.com"};
    REQUIRE(s.save().ok());
    struct stat st{};
    REQUIRE(stat(Settings::path().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(stat((fixture.dir() + "/vactl").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    Settings loaded = Settings::load();
    CHECK(loaded.server == s.server);
    CHECK(loaded.access_token == "access");
    CHECK(loaded.refresh_token == "refresh");
    CHECK(loaded.email == "ops@example.com");
    CHECK(!std::filesystem::exists(Settings::path() + ".tmp"));
}

TEST_CASE("a corrupt settings file loads as empty settings") {
    CliFixture fixture;
    std::filesystem::create_directories(fixture.dir() + "/vactl");
    std::ofstream(Settings::path()) << "{not json";
    CHECK(Settings::load().access_token.empty());
}

TEST_CASE("HOME/.config is the default settings directory") {
    ScopedEnv env{{"XDG_CONFIG_HOME", std::nullopt}, {"HOME", "/home/someone"}};
    CHECK(Settings::path() == "/home/someone/.config/vactl/config.json");
}
