#include <catch2/catch.hpp>

#include <algorithm>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "config/config.hpp"
#include "core/providers/registry.hpp"

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

std::string example_path() { return std::string(VA_SOURCE_DIR) + "/config/voiceagentd.example.toml"; }

// Every key of the configuration: its environment variable and a valid, non-default value with how to see it.
struct KnownKey {
    std::string key;
    std::string env;
    std::string value;
    std::function<bool(const Config&)> took_effect;
};

std::vector<KnownKey> known_keys() {
    return {
        {"server.listen", "VOICEAGENT_SERVER_LISTEN", "[::1]:9100",
         [](const Config& c) { return c.server.host == "::1" && c.server.port == 9100; }},
        {"server.io_threads", "VOICEAGENT_SERVER_IO_THREADS", "7", [](const Config& c) { return c.server.io_threads == 7; }},
        {"server.worker_threads", "VOICEAGENT_SERVER_WORKER_THREADS", "9",
         [](const Config& c) { return c.server.worker_threads == 9; }},
        {"server.max_header_bytes", "VOICEAGENT_SERVER_MAX_HEADER_BYTES", "32768",
         [](const Config& c) { return c.server.max_header_bytes == 32768; }},
        {"server.max_body_bytes", "VOICEAGENT_SERVER_MAX_BODY_BYTES", "4096",
         [](const Config& c) { return c.server.max_body_bytes == 4096; }},
        {"server.read_timeout_ms", "VOICEAGENT_SERVER_READ_TIMEOUT_MS", "2500",
         [](const Config& c) { return c.server.read_timeout_ms == 2500; }},
        {"server.idle_timeout_ms", "VOICEAGENT_SERVER_IDLE_TIMEOUT_MS", "3500",
         [](const Config& c) { return c.server.idle_timeout_ms == 3500; }},
        {"server.shutdown_grace_ms", "VOICEAGENT_SERVER_SHUTDOWN_GRACE_MS", "4500",
         [](const Config& c) { return c.server.shutdown_grace_ms == 4500; }},
        {"server.public_base_url", "VOICEAGENT_SERVER_PUBLIC_BASE_URL", "https://va.example.com",
         [](const Config& c) { return c.server.public_base_url == "https://va.example.com"; }},
        {"server.instance_url", "VOICEAGENT_SERVER_INSTANCE_URL", "https://a.va.example.com",
         [](const Config& c) { return c.server.instance_url == "https://a.va.example.com"; }},
        {"server.trusted_proxies", "VOICEAGENT_SERVER_TRUSTED_PROXIES", "10.0.0.0/8, ::1",
         [](const Config& c) { return c.server.trusted_proxies == "10.0.0.0/8, ::1"; }},
        {"storage.data_dir", "VOICEAGENT_STORAGE_DATA_DIR", "/srv/va",
         [](const Config& c) { return c.storage.data_dir == "/srv/va" && c.sqlite_path() == "/srv/va/voiceagent.db"; }},
        {"storage.backend", "VOICEAGENT_STORAGE_BACKEND", "sqlite", [](const Config& c) { return c.storage.backend == "sqlite"; }},
        {"storage.sqlite_path", "VOICEAGENT_STORAGE_SQLITE_PATH", "/db/va.sqlite",
         [](const Config& c) { return c.sqlite_path() == "/db/va.sqlite"; }},
        {"storage.busy_timeout_ms", "VOICEAGENT_STORAGE_BUSY_TIMEOUT_MS", "1234",
         [](const Config& c) { return c.storage.busy_timeout_ms == 1234; }},
        {"auth.jwt_secret", "VOICEAGENT_AUTH_JWT_SECRET", std::string(48, 'z'),
         [](const Config& c) { return c.auth.jwt_secret == std::string(48, 'z'); }},
        {"auth.issuer", "VOICEAGENT_AUTH_ISSUER", "me", [](const Config& c) { return c.auth.issuer == "me"; }},
        {"auth.audience", "VOICEAGENT_AUTH_AUDIENCE", "them", [](const Config& c) { return c.auth.audience == "them"; }},
        {"auth.access_ttl_s", "VOICEAGENT_AUTH_ACCESS_TTL_S", "60", [](const Config& c) { return c.auth.access_ttl_s == 60; }},
        {"auth.refresh_ttl_s", "VOICEAGENT_AUTH_REFRESH_TTL_S", "3600",
         [](const Config& c) { return c.auth.refresh_ttl_s == 3600; }},
        {"auth.login_burst", "VOICEAGENT_AUTH_LOGIN_BURST", "2.5", [](const Config& c) { return c.auth.login_burst == 2.5; }},
        {"auth.login_per_minute", "VOICEAGENT_AUTH_LOGIN_PER_MINUTE", "30",
         [](const Config& c) { return c.auth.login_per_minute == 30.0; }},
        {"log.level", "VOICEAGENT_LOG_LEVEL", "debug", [](const Config& c) { return c.log.level == "debug"; }},
        {"log.format", "VOICEAGENT_LOG_FORMAT", "json", [](const Config& c) { return c.log.format == "json"; }},
        {"log.access_log", "VOICEAGENT_LOG_ACCESS_LOG", "false", [](const Config& c) { return !c.log.access_log; }},
        {"deepgram.base_url", "VOICEAGENT_DEEPGRAM_BASE_URL", "ws://127.0.0.1:9400",
         [](const Config& c) { return c.section("deepgram")["base_url"] == "ws://127.0.0.1:9400"; }},
        {"deepgram.reconnect_buffer_s", "VOICEAGENT_DEEPGRAM_RECONNECT_BUFFER_S", "2.5",
         [](const Config& c) { return c.section("deepgram")["reconnect_buffer_s"] == 2.5; }},
        {"elevenlabs.transport", "VOICEAGENT_ELEVENLABS_TRANSPORT", "http",
         [](const Config& c) { return c.section("elevenlabs")["transport"] == "http"; }},
        {"elevenlabs.ws_url", "VOICEAGENT_ELEVENLABS_WS_URL", "wss://proxy.example.com",
         [](const Config& c) { return c.section("elevenlabs")["ws_url"] == "wss://proxy.example.com"; }},
        {"tools.allowed_networks", "VOICEAGENT_TOOLS_ALLOWED_NETWORKS", "10.0.0.0/8",
         [](const Config& c) { return c.tools.allowed_networks == "10.0.0.0/8"; }},
        {"tools.max_response_bytes", "VOICEAGENT_TOOLS_MAX_RESPONSE_BYTES", "4096",
         [](const Config& c) { return c.tools.max_response_bytes == 4096; }},
        {"server.drain_timeout_ms", "VOICEAGENT_SERVER_DRAIN_TIMEOUT_MS", "0",
         [](const Config& c) { return c.server.drain_timeout_ms == 0; }},
        {"server.drain_goodbye", "VOICEAGENT_SERVER_DRAIN_GOODBYE", "Bye for now.",
         [](const Config& c) { return c.server.drain_goodbye == "Bye for now."; }},
        {"server.instance_lease_ms", "VOICEAGENT_SERVER_INSTANCE_LEASE_MS", "4000",
         [](const Config& c) { return c.server.instance_lease_ms == 4000; }},
        {"server.max_connections", "VOICEAGENT_SERVER_MAX_CONNECTIONS", "100",
         [](const Config& c) { return c.server.max_connections == 100; }},
        {"server.max_connections_per_ip", "VOICEAGENT_SERVER_MAX_CONNECTIONS_PER_IP", "0",
         [](const Config& c) { return c.server.max_connections_per_ip == 0; }},
        {"server.ws_max_queue_messages", "VOICEAGENT_SERVER_WS_MAX_QUEUE_MESSAGES", "64",
         [](const Config& c) { return c.server.ws_max_queue_messages == 64; }},
        {"server.ws_max_queue_bytes", "VOICEAGENT_SERVER_WS_MAX_QUEUE_BYTES", "65536",
         [](const Config& c) { return c.server.ws_max_queue_bytes == 65536; }},
        {"server.cors_origins", "VOICEAGENT_SERVER_CORS_ORIGINS", "https://a.example.com, http://localhost:3000",
         [](const Config& c) { return c.server.cors_origins == "https://a.example.com, http://localhost:3000"; }},
        {"server.console", "VOICEAGENT_SERVER_CONSOLE", "false", [](const Config& c) { return !c.server.console; }},
        {"server.instance_id", "VOICEAGENT_SERVER_INSTANCE_ID", "va-eu-1",
         [](const Config& c) { return c.server.instance_id == "va-eu-1"; }},
#if VA_WITH_REDIS
        {"redis.url", "VOICEAGENT_REDIS_URL", "redis://:pw@10.0.0.5:6380/1",
         [](const Config& c) { return c.redis.url == "redis://:pw@10.0.0.5:6380/1"; }},
#endif
        {"redis.pool_size", "VOICEAGENT_REDIS_POOL_SIZE", "8", [](const Config& c) { return c.redis.pool_size == 8; }},
        {"redis.command_timeout_ms", "VOICEAGENT_REDIS_COMMAND_TIMEOUT_MS", "750",
         [](const Config& c) { return c.redis.command_timeout_ms == 750; }},
        {"redis.events_stream", "VOICEAGENT_REDIS_EVENTS_STREAM", "team:events",
         [](const Config& c) { return c.redis.events_stream == "team:events"; }},
        {"jobs.backend", "VOICEAGENT_JOBS_BACKEND", "store", [](const Config& c) { return c.jobs.backend == "store"; }},
        {"redis.forward_timeout_ms", "VOICEAGENT_REDIS_FORWARD_TIMEOUT_MS", "2500",
         [](const Config& c) { return c.redis.forward_timeout_ms == 2500; }},
        {"recordings.max_bytes", "VOICEAGENT_RECORDINGS_MAX_BYTES", "1048576",
         [](const Config& c) { return c.recordings.max_bytes == 1048576; }},
        {"media.ahead_ms", "VOICEAGENT_MEDIA_AHEAD_MS", "500", [](const Config& c) { return c.media.ahead_ms == 500; }},
        {"media.max_call_audio_bytes", "VOICEAGENT_MEDIA_MAX_CALL_AUDIO_BYTES", "10000000",
         [](const Config& c) { return c.media.max_call_audio_bytes == 10'000'000; }},
        {"media.max_message_bytes", "VOICEAGENT_MEDIA_MAX_MESSAGE_BYTES", "65536",
         [](const Config& c) { return c.media.max_message_bytes == 65536; }},
        {"media.max_utterance_ms", "VOICEAGENT_MEDIA_MAX_UTTERANCE_MS", "60000",
         [](const Config& c) { return c.media.max_utterance_ms == 60000; }},
    };
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
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

TEST_CASE("config: provider URLs are checked, and tool secrets come from their table or the environment") {
    TempFile file(R"(
[deepgram]
base_url = "https://api.deepgram.com"
[elevenlabs]
transport = "carrier-pigeon"
[tool_secrets]
crm_token = "from-file"
count = 3
)");
    auto bad = load_config(file.path, {}, {});
    REQUIRE_FALSE(bad);
    CHECK(names(bad.error(), "deepgram.base_url"));
    CHECK(names(bad.error(), "elevenlabs.transport"));
    CHECK(names(bad.error(), "tool_secrets.count"));
    TempFile good("[tool_secrets]\ncrm_token = \"from-file\"\n");
    auto c = load_config(good.path, {{"VOICEAGENT_TOOL_SECRET_BILLING", "from-env"}}, {});
    REQUIRE(c);
    CHECK(c->tool_secrets.at("crm_token").value == "from-file");
    CHECK(c->tool_secrets.at("crm_token").hosts.empty());  // the old form: bound to no host, sent nowhere
    CHECK(c->tool_secrets.at("billing").value == "from-env");
}

TEST_CASE("config: openai.allowed_base_urls maps normalized URLs to their own keys, from the file or the environment") {
    TempFile file(R"(
[openai]
base_url = "http://127.0.0.1:9000/v1"
[openai.allowed_base_urls]
"HTTP://LocalHost:80/v1/" = ""
"https://api.groq.com/openai/v1" = "gsk-key"
)");
    auto c = load_config(file.path, {}, {});
    REQUIRE(c);
    CHECK(c->section("openai")["base_url"] == "http://127.0.0.1:9000/v1");
    CHECK(c->section("openai")["allowed_base_urls"].get<std::map<std::string, std::string>>() ==
          std::map<std::string, std::string>{{"http://localhost/v1", ""}, {"https://api.groq.com/openai/v1", "gsk-key"}});
    auto env = load_config(file.path, {{"VOICEAGENT_OPENAI_ALLOWED_BASE_URLS", "http://[::1]:11434/v1/ , https://b.example/v1=k2"}}, {});
    REQUIRE(env);
    CHECK(env->section("openai")["allowed_base_urls"].get<std::map<std::string, std::string>>() ==
          std::map<std::string, std::string>{{"http://[::1]:11434/v1", ""}, {"https://b.example/v1", "k2"}});
    for (const std::string bad : {"ftp://x.example", "http://user:pw@x.example/v1", "http://x.example/v1?a=b", "http://:80"}) {
        INFO(bad);
        auto refused = load_config("", {{"VOICEAGENT_OPENAI_ALLOWED_BASE_URLS", bad}}, {});
        REQUIRE_FALSE(refused);
        CHECK(names(refused.error(), "openai.allowed_base_urls"));
    }
    TempFile not_string("[openai.allowed_base_urls]\n\"http://a.example\" = 3\n");
    auto wrong = load_config(not_string.path, {}, {});
    REQUIRE_FALSE(wrong);
    CHECK(names(wrong.error(), "openai.allowed_base_urls"));
}

TEST_CASE("config: tool secrets are bound to hosts and workspaces, in the file or the environment") {
    TempFile file(R"(
[tool_secrets.crm_token]
value = "s3cret"
hosts = ["API.crm.example.com", "*.crm.example.net"]
workspaces = ["ws_1"]
)");
    auto c = load_config(file.path, {{"VOICEAGENT_TOOL_SECRET_BILLING", "b-value"},
                                     {"VOICEAGENT_TOOL_SECRET_BILLING_HOSTS", "pay.example, *.Billing.example"},
                                     {"VOICEAGENT_TOOL_SECRET_BILLING_WORKSPACES", "ws_2,ws_3"}}, {});
    REQUIRE(c);
    const ToolSecret& crm = c->tool_secrets.at("crm_token");
    CHECK(crm.value == "s3cret");
    CHECK(crm.hosts == std::vector<std::string>{"api.crm.example.com", "*.crm.example.net"});
    CHECK(crm.workspaces == std::vector<std::string>{"ws_1"});
    const ToolSecret& billing = c->tool_secrets.at("billing");
    CHECK(billing.value == "b-value");
    CHECK(billing.hosts == std::vector<std::string>{"pay.example", "*.billing.example"});
    CHECK(billing.workspaces == std::vector<std::string>{"ws_2", "ws_3"});

    TempFile bad(R"(
[tool_secrets.anywhere]
value = "v"
hosts = ["*"]
[tool_secrets.typo]
value = "v"
host = ["a.example"]
[tool_secrets.empty]
hosts = ["a.example"]
)");
    auto refused = load_config(bad.path, {}, {});
    REQUIRE_FALSE(refused);
    CHECK(names(refused.error(), "tool_secrets.anywhere.hosts"));
    CHECK(names(refused.error(), "tool_secrets.typo.host"));
    CHECK(names(refused.error(), "tool_secrets.empty"));
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

TEST_CASE("config: every key is settable from its environment variable") {
    for (const auto& k : known_keys()) {
        INFO(k.env << "=" << k.value);
        auto c = load_config("", {{k.env, k.value}}, {});
        REQUIRE(c);
        CHECK(k.took_effect(*c));
    }
}

TEST_CASE("config: every validation error names its key") {
    const std::vector<std::pair<std::string, std::string>> bad{
        {"server.listen", "localhost"},           {"server.listen", "127.0.0.1:65536"},
        {"server.listen", "[::1]"},               {"server.io_threads", "0"},
        {"server.io_threads", "65"},              {"server.worker_threads", "0"},
        {"server.worker_threads", "257"},         {"server.max_header_bytes", "0"},
        {"server.max_header_bytes", "-1"},        {"server.max_header_bytes", "100000000"},
        {"server.max_body_bytes", "0"},           {"server.max_body_bytes", "-5"},
        {"server.max_body_bytes", "1999999999"},  {"server.read_timeout_ms", "0"},
        {"server.idle_timeout_ms", "0"},          {"server.idle_timeout_ms", "-100"},
        {"server.shutdown_grace_ms", "-1"},       {"server.public_base_url", "ftp://example.com"},
        {"server.public_base_url", "http://"},    {"server.instance_url", "wss://a.example.com"},
        {"server.public_base_url", "http://"},    {"server.public_base_url", "example.com"},
        {"server.public_base_url", "https://a b"}, {"storage.data_dir", ""},
        {"storage.backend", "oracle"},            {"storage.busy_timeout_ms", "-1"},
        {"auth.jwt_secret", "short"},             {"auth.jwt_secret", std::string(31, 'x')},
        {"auth.issuer", ""},                      {"auth.audience", ""},
        {"auth.access_ttl_s", "0"},               {"auth.refresh_ttl_s", "0"},
        {"auth.login_burst", "0"},                {"auth.login_per_minute", "0"},
        {"auth.login_per_minute", "-3"},          {"log.level", "loud"},
        {"log.level", "INFO"},                    {"log.format", "xml"},
        {"log.access_log", "maybe"},              {"server.io_threads", "two"},
        {"server.io_threads", "2.5"},             {"auth.login_burst", "lots"},
#if VA_WITH_REDIS
        {"redis.url", "http://cache:6379"},       {"redis.url", "redis://cache:port"},
#endif
        {"redis.pool_size", "0"},                 {"redis.command_timeout_ms", "1"},
        {"redis.events_stream", ""},              {"server.instance_id", "has spaces"},
        {"redis.forward_timeout_ms", "50"},
        {"server.instance_id", std::string(65, 'a')}, {"server.instance_lease_ms", "10"},
        {"server.drain_timeout_ms", "-1"},        {"server.drain_goodbye", ""},
        {"jobs.backend", "kafka"},                {"jobs.backend", "redis"},  // redis without redis.url
        {"server.max_connections", "-1"},         {"server.max_connections_per_ip", "-1"},
        {"server.ws_max_queue_messages", "1"},    {"server.ws_max_queue_bytes", "100"},
        {"server.cors_origins", "*"},             {"server.cors_origins", "https://a.example.com/app"},
        {"server.cors_origins", "a.example.com"}, {"server.cors_origins", "https://a.example.com,ftp://b"},
        {"media.ahead_ms", "0"},                  {"media.max_call_audio_bytes", "-1"},
        {"media.max_call_audio_bytes", "1000"},   {"media.max_message_bytes", "100"},
        {"media.max_utterance_ms", "10"},         {"recordings.max_bytes", "1000"},
    };
    for (const auto& [key, value] : bad) {
        std::string env;
        for (const auto& k : known_keys())
            if (k.key == key) env = k.env;
        REQUIRE_FALSE(env.empty());
        INFO(env << "=" << value);
        auto c = load_config("", {{env, value}}, {});
        REQUIRE_FALSE(c);
        CHECK(c.error().code == ErrorCode::invalid_request);
        REQUIRE(c.error().details.size() == 1);
        CHECK(c.error().details[0].field == key);
        CHECK(c.error().message.rfind("invalid configuration: " + key + ": ", 0) == 0);
    }
    CHECK(load_config("", {{"VOICEAGENT_SERVER_IO_THREADS", "65"}}, {}).error().message ==
          "invalid configuration: server.io_threads: must be between 1 and 64");
}

TEST_CASE("config: all problems are collected into one error") {
    auto c = load_config("", {{"VOICEAGENT_SERVER_IO_THREADS", "0"},
                              {"VOICEAGENT_LOG_LEVEL", "loud"},
                              {"VOICEAGENT_AUTH_ACCESS_TTL_S", "x"},
                              {"VOICEAGENT_NOPE", "1"}},
                         {});
    REQUIRE_FALSE(c);
    CHECK(c.error().details.size() == 4);
    CHECK(names(c.error(), "server.io_threads"));
    CHECK(names(c.error(), "log.level"));
    CHECK(names(c.error(), "auth.access_ttl_s"));
    CHECK(names(c.error(), "VOICEAGENT_NOPE"));
    CHECK(c.error().message.find("; ") != std::string::npos);
}

TEST_CASE("config: wrong types in the file name the key and both types") {
    TempFile file(R"(
[server]
io_threads = 2.0
listen = 8700
[log]
access_log = "yes"
[auth]
login_burst = "5"
issuer = false
)");
    auto c = load_config(file.path, {}, {});
    REQUIRE_FALSE(c);
    const auto& m = c.error().message;
    CHECK(m.find("server.io_threads: expected an integer, got float") != std::string::npos);
    CHECK(m.find("server.listen: expected a string, got integer") != std::string::npos);
    CHECK(m.find("log.access_log: expected a boolean, got string") != std::string::npos);
    CHECK(m.find("auth.login_burst: expected a number, got string") != std::string::npos);
    CHECK(m.find("auth.issuer: expected a string, got boolean") != std::string::npos);
    CHECK(c.error().details.size() == 5);
}

TEST_CASE("config: unknown keys, sections and variables are refused, VOICEAGENT_TEST_* is ignored") {
    TempFile file("[server]\nio_thread = 2\n");
    auto c = load_config(file.path, {}, {});
    REQUIRE_FALSE(c);
    CHECK(c.error().message == "invalid configuration: server.io_thread: unknown key");
    TempFile top("listen = \"127.0.0.1:1\"\n");
    CHECK_FALSE(load_config(top.path, {}, {}));
    TempFile nested("[server.tls]\ncert = \"x\"\n");
    auto n = load_config(nested.path, {}, {});
    REQUIRE_FALSE(n);
    CHECK(names(n.error(), "server.tls"));
    auto e = load_config("", {{"VOICEAGENT_LOG_LEVL", "info"}}, {});
    REQUIRE_FALSE(e);
    CHECK(e.error().message.find("VOICEAGENT_LOG_LEVL") != std::string::npos);
    CHECK(load_config("", {{"VOICEAGENT_TEST_WHATEVER", "x"}, {"VOICEAGENT_TEST_", "y"}}, {}));
    CHECK(load_config("", {{"PATH", "/usr/bin"}, {"HOME", "/root"}}, {}));  // not ours: not checked
}

TEST_CASE("config: flags override the environment, which overrides the file") {
    TempFile file("[server]\nlisten = \"127.0.0.1:1000\"\n[storage]\ndata_dir = \"/file\"\n");
    std::map<std::string, std::string> env{{"VOICEAGENT_SERVER_LISTEN", "127.0.0.1:2000"}};
    auto from_env = load_config(file.path, env, {});
    REQUIRE(from_env);
    CHECK(from_env->server.port == 2000);
    CHECK(from_env->storage.data_dir == "/file");
    ConfigOverrides flags;
    flags.listen = "0.0.0.0:3000";
    auto from_flag = load_config(file.path, env, flags);
    REQUIRE(from_flag);
    CHECK(from_flag->server.host == "0.0.0.0");
    CHECK(from_flag->server.port == 3000);
    flags.listen = "bad";
    auto bad_flag = load_config(file.path, env, flags);
    REQUIRE_FALSE(bad_flag);
    CHECK(names(bad_flag.error(), "server.listen"));
}

TEST_CASE("config: an explicit file that does not exist names the file") {
    auto missing = load_config("/nonexistent/dir/voiceagentd.toml", {}, {});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::invalid_request);
    CHECK(missing.error().message ==
          "invalid configuration: /nonexistent/dir/voiceagentd.toml: no such file");
    auto dir = load_config("/tmp", {}, {});
    REQUIRE_FALSE(dir);
    CHECK(names(dir.error(), "/tmp"));
}

TEST_CASE("config: ./voiceagentd.toml is read when no file is named") {
    auto old_cwd = fs::current_path();
    char tmpl[] = "/tmp/va-config-dir-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    fs::path dir = tmpl;
    std::ofstream(dir / "voiceagentd.toml") << "[server]\nio_threads = 6\n";
    fs::current_path(dir);
    auto c = load_config("", {}, {});
    fs::current_path(old_cwd);
    fs::remove_all(dir);
    REQUIRE(c);
    CHECK(c->server.io_threads == 6);
    CHECK(c->source == "voiceagentd.toml");
}

TEST_CASE("config: sqlite_path defaults into the data directory") {
    Config c;
    c.storage.data_dir = "/var/lib/voiceagent";
    CHECK(c.sqlite_path() == "/var/lib/voiceagent/voiceagent.db");
    c.storage.data_dir = "/var/lib/voiceagent/";
    CHECK(c.sqlite_path() == "/var/lib/voiceagent/voiceagent.db");
    c.storage.sqlite_path = "/elsewhere/x.db";
    CHECK(c.sqlite_path() == "/elsewhere/x.db");
}

TEST_CASE("config: the shipped example loads and equals the defaults") {
    auto example = load_config(example_path(), {}, {});
    REQUIRE(example);
    const Config d;  // the compiled-in defaults
    const Config& e = *example;
    CHECK(e.server.host == d.server.host);
    CHECK(e.server.port == d.server.port);
    CHECK(e.server.io_threads == d.server.io_threads);
    CHECK(e.server.worker_threads == d.server.worker_threads);
    CHECK(e.server.max_header_bytes == d.server.max_header_bytes);
    CHECK(e.server.max_body_bytes == d.server.max_body_bytes);
    CHECK(e.server.read_timeout_ms == d.server.read_timeout_ms);
    CHECK(e.server.idle_timeout_ms == d.server.idle_timeout_ms);
    CHECK(e.server.shutdown_grace_ms == d.server.shutdown_grace_ms);
    CHECK(e.server.public_base_url == d.server.public_base_url);
    CHECK(e.storage.data_dir == d.storage.data_dir);
    CHECK(e.storage.backend == d.storage.backend);
    CHECK(e.storage.sqlite_path == d.storage.sqlite_path);
    CHECK(e.storage.busy_timeout_ms == d.storage.busy_timeout_ms);
    CHECK(e.auth.jwt_secret == d.auth.jwt_secret);
    CHECK(e.auth.issuer == d.auth.issuer);
    CHECK(e.auth.audience == d.auth.audience);
    CHECK(e.auth.access_ttl_s == d.auth.access_ttl_s);
    CHECK(e.auth.refresh_ttl_s == d.auth.refresh_ttl_s);
    CHECK(e.auth.login_burst == d.auth.login_burst);
    CHECK(e.auth.login_per_minute == d.auth.login_per_minute);
    CHECK(e.log.level == d.log.level);
    CHECK(e.log.format == d.log.format);
    CHECK(e.log.access_log == d.log.access_log);
    CHECK(e.source == example_path());
    for (const auto& section : component_sections()) {
        INFO(section.name);
        CHECK(e.section(section.name) == section.defaults());
    }
    // The defaults themselves are valid.
    CHECK(validate_config(d));
}

TEST_CASE("config: the example documents every key and its environment variable") {
    const std::string text = read_text(example_path());
    REQUIRE_FALSE(text.empty());
    for (const auto& k : known_keys()) {
        INFO(k.key);
        auto dot = k.key.find('.');
        CHECK(text.find("[" + k.key.substr(0, dot) + "]") != std::string::npos);
        CHECK(text.find("\n" + k.key.substr(dot + 1) + " = ") != std::string::npos);
        CHECK(text.find(k.env) != std::string::npos);
    }
    // The providers' and carriers' sections too (a string_map key is a table of its own: the next test).
    for (const auto& section : component_sections())
        for (const auto& key : section.keys) {
            if (key.kind == ConfigKind::string_map) continue;
            std::string env = "VOICEAGENT_" + section.name + "_" + key.name;
            for (auto& c : env) c = char(std::toupper(static_cast<unsigned char>(c)));
            INFO(section.name << "." << key.name);
            CHECK(text.find("[" + section.name + "]") != std::string::npos);
            CHECK(text.find("\n" + key.name + " = ") != std::string::npos);
            CHECK(text.find(env) != std::string::npos);
        }
}

TEST_CASE("config: a carrier's section is read like a provider's, from the file and the environment") {
    std::vector<std::string> sections;
    for (const auto& section : component_sections()) sections.push_back(section.name);
    CHECK(std::count(sections.begin(), sections.end(), "twilio") == 1);
    CHECK(std::count(sections.begin(), sections.end(), "exotel") == 1);

    TempFile file("[twilio]\naccount_sid = \"AC1\"\nauth_token = \"tok\"\n[exotel]\nsample_rate = 8000\n");
    auto c = load_config(file.path.string(), {{"VOICEAGENT_EXOTEL_MODE", "flow"}, {"VOICEAGENT_EXOTEL_FLOW_URL", "http://f"}}, {});
    REQUIRE(c);
    CHECK(c->section("twilio")["account_sid"] == "AC1");
    CHECK(c->section("twilio")["api_base_url"] == "https://api.twilio.com");  // its default
    CHECK(c->section("exotel")["sample_rate"] == 8000);
    CHECK(c->section("exotel")["mode"] == "flow");

    // Wrong kinds, unknown keys and the carrier's own checks are named by key, as for any other section.
    TempFile bad("[twilio]\naccount_sid = 5\ncolour = \"red\"\n");
    auto refused = load_config(bad.path.string(), {{"VOICEAGENT_EXOTEL_SAMPLE_RATE", "fast"}}, {});
    REQUIRE_FALSE(refused);
    CHECK(names(refused.error(), "twilio.account_sid"));
    CHECK(names(refused.error(), "twilio.colour"));
    CHECK(names(refused.error(), "exotel.sample_rate"));
    auto checked = load_config("", {{"VOICEAGENT_EXOTEL_SAMPLE_RATE", "11025"}, {"VOICEAGENT_TWILIO_ACCOUNT_SID", "AC1"}}, {});
    REQUIRE_FALSE(checked);
    CHECK(names(checked.error(), "exotel.sample_rate"));
    CHECK(names(checked.error(), "twilio.auth_token"));
}

TEST_CASE("config: the example documents the allowed base URLs and bound tool secrets") {
    const std::string text = read_text(example_path());
    CHECK(text.find("\n[openai.allowed_base_urls]\n") != std::string::npos);
    CHECK(text.find("VOICEAGENT_OPENAI_ALLOWED_BASE_URLS") != std::string::npos);
    CHECK(text.find("# [tool_secrets.crm_token]") != std::string::npos);
    CHECK(text.find("VOICEAGENT_TOOL_SECRET_<NAME>_HOSTS") != std::string::npos);
    CHECK(text.find("VOICEAGENT_TOOL_SECRET_<NAME>_WORKSPACES") != std::string::npos);
}

#if VA_WITH_MONGODB
TEST_CASE("config: the MongoDB store needs a mongodb:// URI") {
    auto missing = load_config("", {{"VOICEAGENT_STORAGE_BACKEND", "mongodb"}}, {});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().details[0].field == "storage.mongodb_uri");
    auto wrong = load_config("", {{"VOICEAGENT_STORAGE_BACKEND", "mongodb"}, {"VOICEAGENT_STORAGE_MONGODB_URI", "http://db"}}, {});
    REQUIRE_FALSE(wrong);
    auto ok = load_config("", {{"VOICEAGENT_STORAGE_BACKEND", "mongodb"},
                               {"VOICEAGENT_STORAGE_MONGODB_URI", "mongodb://db.internal:27017/voice"}}, {});
    REQUIRE(ok);
    CHECK(ok->storage.mongodb_uri == "mongodb://db.internal:27017/voice");
}
#else
TEST_CASE("config: a daemon built without MongoDB refuses the mongodb store") {
    auto refused = load_config("", {{"VOICEAGENT_STORAGE_BACKEND", "mongodb"},
                                    {"VOICEAGENT_STORAGE_MONGODB_URI", "mongodb://db.internal:27017/voice"}}, {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().details[0].field == "storage.backend");
    CHECK(refused.error().details[0].reason == "mongodb is not built into this voiceagentd (VOICEAGENT_WITH_MONGODB=OFF)");
}
#endif
#if !VA_WITH_REDIS
TEST_CASE("config: a daemon built without Redis refuses a Redis URL") {
    auto refused = load_config("", {{"VOICEAGENT_REDIS_URL", "redis://127.0.0.1:6379"}}, {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().details[0].field == "redis.url");
}
#endif
