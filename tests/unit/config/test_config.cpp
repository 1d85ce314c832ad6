#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.hpp"

using namespace va;
namespace fs = std::filesystem;

namespace {

struct TempFile {
    fs::path path;
    explicit TempFile(const std::string& content) {
        char tmpl[] = "/tmp/va-config-XXXXXX";
        int fd = mkstemp(tmpl);
        close(fd);
        path = tmpl;
        std::ofstream(path) << content;
    }
    ~TempFile() { fs::remove(path); }
};

bool names(const Error& e, const std::string& field) {
    for (const auto& d : e.details)
        if (d.field == field) return true;
    return false;
}

}  // namespace

TEST_CASE("config: defaults without a file") {
    auto c = load_config("", {}, {});
    REQUIRE(c);
    CHECK(c->server.host == "127.0.0.1");
    CHECK(c->server.port == 8700);
    CHECK(c->storage.data_dir == "./var");
    CHECK(c->sqlite_path() == "./var/voiceagent.db");
    CHECK(c->auth.access_ttl_s == 900);
    CHECK(c->log.level == "info");
}

TEST_CASE("config: file, then environment, then flags") {
    TempFile file(R"(
[server]
listen = "0.0.0.0:9000"
io_threads = 3
max_body_bytes = 2048
[storage]
data_dir = "/tmp/from-file"
[auth]
login_burst = 7
[log]
access_log = false
)");
    auto c = load_config(file.path, {}, {});
    REQUIRE(c);
    CHECK(c->server.host == "0.0.0.0");
    CHECK(c->server.port == 9000);
    CHECK(c->server.io_threads == 3);
    CHECK(c->server.max_body_bytes == 2048);
    CHECK(c->storage.data_dir == "/tmp/from-file");
    CHECK(c->auth.login_burst == 7.0);
    CHECK_FALSE(c->log.access_log);
    CHECK(c->source == file.path.string());

    std::map<std::string, std::string> env{{"VOICEAGENT_SERVER_IO_THREADS", "5"},
                                           {"VOICEAGENT_STORAGE_DATA_DIR", "/tmp/from-env"},
                                           {"VOICEAGENT_AUTH_JWT_SECRET", std::string(32, 'k')},
                                           {"VOICEAGENT_TEST_ANYTHING", "ignored"}};
    c = load_config(file.path, env, {});
    REQUIRE(c);
    CHECK(c->server.io_threads == 5);
    CHECK(c->storage.data_dir == "/tmp/from-env");
    CHECK(c->auth.jwt_secret == std::string(32, 'k'));

    ConfigOverrides flags;
    flags.listen = "[::1]:0";
    flags.data_dir = "/tmp/from-flag";
    c = load_config(file.path, env, flags);
    REQUIRE(c);
    CHECK(c->server.host == "::1");
    CHECK(c->server.port == 0);
    CHECK(c->storage.data_dir == "/tmp/from-flag");
}

TEST_CASE("config: every problem is reported with its key") {
    TempFile file(R"(
[server]
io_threads = "two"
worker_threads = 0
max_body_bytes = -5
listen = "nonsense"
bogus = 1
[log]
level = "loud"
format = "xml"
[auth]
jwt_secret = "short"
[extra]
x = 1
)");
    auto c = load_config(file.path, {}, {});
    REQUIRE_FALSE(c);
    const auto& e = c.error();
    CHECK(names(e, "server.io_threads"));
    CHECK(names(e, "server.worker_threads"));
    CHECK(names(e, "server.max_body_bytes"));
    CHECK(names(e, "server.listen"));
    CHECK(names(e, "server.bogus"));
    CHECK(names(e, "log.level"));
    CHECK(names(e, "log.format"));
    CHECK(names(e, "auth.jwt_secret"));
    CHECK(names(e, "extra"));
    CHECK(e.message.find("server.io_threads: expected an integer, got string") != std::string::npos);
}

TEST_CASE("config: bad environment values and unknown variables are errors") {
    auto c = load_config("", {{"VOICEAGENT_SERVER_IO_THREADS", "abc"}}, {});
    REQUIRE_FALSE(c);
    CHECK(names(c.error(), "server.io_threads"));
    c = load_config("", {{"VOICEAGENT_SERVER_IO_THREDS", "2"}}, {});
    REQUIRE_FALSE(c);
    CHECK(names(c.error(), "VOICEAGENT_SERVER_IO_THREDS"));
    c = load_config("", {{"VOICEAGENT_LOG_ACCESS_LOG", "maybe"}}, {});
    REQUIRE_FALSE(c);
    CHECK(names(c.error(), "log.access_log"));
    c = load_config("", {{"VOICEAGENT_SERVER_IO_THREADS", "99999999999"}}, {});
    REQUIRE_FALSE(c);
}

TEST_CASE("config: a missing or malformed file is an error") {
    auto missing = load_config("/nonexistent/voiceagentd.toml", {}, {});
    REQUIRE_FALSE(missing);
    TempFile broken("[server\nlisten = ");
    auto bad = load_config(broken.path, {}, {});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("line") != std::string::npos);
}

TEST_CASE("config: listen parsing") {
    CHECK(parse_listen("127.0.0.1:8700")->second == 8700);
    CHECK(parse_listen("[::1]:80")->first == "::1");
    CHECK(parse_listen("localhost:0")->second == 0);
    CHECK_FALSE(parse_listen("127.0.0.1"));
    CHECK_FALSE(parse_listen("127.0.0.1:70000"));
    CHECK_FALSE(parse_listen(":80"));
    CHECK_FALSE(parse_listen("::1:80"));
}

TEST_CASE("config: the shipped example loads and equals the defaults") {
    auto example = load_config(std::string(VA_SOURCE_DIR) + "/config/voiceagentd.example.toml", {}, {});
    REQUIRE(example);
    auto defaults = load_config("", {}, {});
    REQUIRE(defaults);
    CHECK(example->server.port == defaults->server.port);
    CHECK(example->server.host == defaults->server.host);
    CHECK(example->server.io_threads == defaults->server.io_threads);
    CHECK(example->server.max_body_bytes == defaults->server.max_body_bytes);
    CHECK(example->server.max_header_bytes == defaults->server.max_header_bytes);
    CHECK(example->server.read_timeout_ms == defaults->server.read_timeout_ms);
    CHECK(example->storage.data_dir == defaults->storage.data_dir);
    CHECK(example->auth.refresh_ttl_s == defaults->auth.refresh_ttl_s);
    CHECK(example->auth.login_per_minute == defaults->auth.login_per_minute);
    CHECK(example->log.access_log == defaults->log.access_log);
}
