#include "config/config.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <filesystem>
#include <functional>
#include <variant>
#include <vector>

#include "config/config_values.hpp"
#include "config/component_sections.hpp"
#include "config/secrets_config.hpp"
#include "core/providers/carrier.hpp"
#include "core/providers/registry.hpp"
#include "core/redis/redis_client.hpp"
#include "core/util/strings.hpp"

extern char** environ;

namespace va {

using namespace config_detail;
using nlohmann::json;

namespace {

struct Key {
    const char* section;
    const char* name;
    Kind kind;
    std::function<void(Config&, const Scalar&)> set;
    std::string full() const { return std::string(section) + "." + name; }
    std::string env() const {
        std::string e = "VOICEAGENT_";
        for (const char* p : {section, "_", name})
            for (const char* c = p; *c; ++c) e += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
        return e;
    }
};

template <class M>
auto str(M member) {
    return [member](Config& c, const Scalar& v) { std::invoke(member, c) = std::get<std::string>(v); };
}
template <class M>
auto integer(M member) {
    return [member](Config& c, const Scalar& v) {
        std::invoke(member, c) = static_cast<std::remove_reference_t<decltype(std::invoke(member, c))>>(
            std::get<std::int64_t>(v));
    };
}
template <class M>
auto number(M member) {
    return [member](Config& c, const Scalar& v) { std::invoke(member, c) = std::get<double>(v); };
}
template <class M>
auto boolean(M member) {
    return [member](Config& c, const Scalar& v) { std::invoke(member, c) = std::get<bool>(v); };
}

// Values that are parsed further after loading: the listen address, and sizes (stored unsigned, so a negative
// value must be caught before it is converted).
struct Raw {
    std::string listen = "127.0.0.1:8700";
    std::int64_t max_header_bytes = 16 * 1024;
    std::int64_t max_body_bytes = 1024 * 1024;
};

// Every key of the file and the environment. Keys that need parsing beyond their type (listen, sizes) land in `raw`.
std::vector<Key> keys(Raw& raw) {
    std::vector<Key> table{
        {"server", "listen", Kind::string, [&raw](Config&, const Scalar& v) { raw.listen = std::get<std::string>(v); }},
        {"server", "io_threads", Kind::integer, integer([](Config& c) -> int& { return c.server.io_threads; })},
        {"server", "worker_threads", Kind::integer, integer([](Config& c) -> int& { return c.server.worker_threads; })},
        {"server", "max_header_bytes", Kind::integer,
         [&raw](Config&, const Scalar& v) { raw.max_header_bytes = std::get<std::int64_t>(v); }},
        {"server", "max_body_bytes", Kind::integer,
         [&raw](Config&, const Scalar& v) { raw.max_body_bytes = std::get<std::int64_t>(v); }},
        {"server", "read_timeout_ms", Kind::integer, integer([](Config& c) -> int& { return c.server.read_timeout_ms; })},
        {"server", "idle_timeout_ms", Kind::integer, integer([](Config& c) -> int& { return c.server.idle_timeout_ms; })},
        {"server", "shutdown_grace_ms", Kind::integer,
         integer([](Config& c) -> int& { return c.server.shutdown_grace_ms; })},
        {"server", "drain_timeout_ms", Kind::integer,
         integer([](Config& c) -> int& { return c.server.drain_timeout_ms; })},
        {"server", "drain_goodbye", Kind::string, str([](Config& c) -> std::string& { return c.server.drain_goodbye; })},
        {"server", "public_base_url", Kind::string,
         str([](Config& c) -> std::string& { return c.server.public_base_url; })},
        {"server", "instance_url", Kind::string, str([](Config& c) -> std::string& { return c.server.instance_url; })},
        {"server", "instance_id", Kind::string, str([](Config& c) -> std::string& { return c.server.instance_id; })},
        {"server", "instance_lease_ms", Kind::integer,
         integer([](Config& c) -> int& { return c.server.instance_lease_ms; })},
        {"server", "trusted_proxies", Kind::string,
         str([](Config& c) -> std::string& { return c.server.trusted_proxies; })},
        {"server", "max_connections", Kind::integer, integer([](Config& c) -> int& { return c.server.max_connections; })},
        {"server", "max_connections_per_ip", Kind::integer,
         integer([](Config& c) -> int& { return c.server.max_connections_per_ip; })},
        {"server", "ws_max_queue_messages", Kind::integer,
         integer([](Config& c) -> int& { return c.server.ws_max_queue_messages; })},
        {"server", "ws_max_queue_bytes", Kind::integer,
         integer([](Config& c) -> int& { return c.server.ws_max_queue_bytes; })},
        {"server", "cors_origins", Kind::string, str([](Config& c) -> std::string& { return c.server.cors_origins; })},
        {"server", "console", Kind::boolean, boolean([](Config& c) -> bool& { return c.server.console; })},
        {"redis", "url", Kind::string, str([](Config& c) -> std::string& { return c.redis.url; })},
        {"redis", "pool_size", Kind::integer, integer([](Config& c) -> int& { return c.redis.pool_size; })},
        {"redis", "command_timeout_ms", Kind::integer,
         integer([](Config& c) -> int& { return c.redis.command_timeout_ms; })},
        {"redis", "events_stream", Kind::string, str([](Config& c) -> std::string& { return c.redis.events_stream; })},
        {"redis", "forward_timeout_ms", Kind::integer,
         integer([](Config& c) -> int& { return c.redis.forward_timeout_ms; })},
        {"storage", "data_dir", Kind::string, str([](Config& c) -> std::string& { return c.storage.data_dir; })},
        {"storage", "backend", Kind::string, str([](Config& c) -> std::string& { return c.storage.backend; })},
        {"storage", "mongodb_uri", Kind::string, str([](Config& c) -> std::string& { return c.storage.mongodb_uri; })},
        {"storage", "sqlite_path", Kind::string, str([](Config& c) -> std::string& { return c.storage.sqlite_path; })},
        {"storage", "busy_timeout_ms", Kind::integer,
         integer([](Config& c) -> int& { return c.storage.busy_timeout_ms; })},
        {"auth", "jwt_secret", Kind::string, str([](Config& c) -> std::string& { return c.auth.jwt_secret; })},
        {"auth", "issuer", Kind::string, str([](Config& c) -> std::string& { return c.auth.issuer; })},
        {"auth", "audience", Kind::string, str([](Config& c) -> std::string& { return c.auth.audience; })},
        {"auth", "access_ttl_s", Kind::integer, integer([](Config& c) -> int& { return c.auth.access_ttl_s; })},
        {"auth", "refresh_ttl_s", Kind::integer, integer([](Config& c) -> int& { return c.auth.refresh_ttl_s; })},
        {"auth", "login_burst", Kind::number, number([](Config& c) -> double& { return c.auth.login_burst; })},
        {"auth", "login_per_minute", Kind::number, number([](Config& c) -> double& { return c.auth.login_per_minute; })},
        {"tools", "allowed_networks", Kind::string,
         str([](Config& c) -> std::string& { return c.tools.allowed_networks; })},
        {"tools", "max_response_bytes", Kind::integer,
         integer([](Config& c) -> int& { return c.tools.max_response_bytes; })},
        {"tools", "filler_after_ms", Kind::integer, integer([](Config& c) -> int& { return c.tools.filler_after_ms; })},
        {"jobs", "backend", Kind::string, str([](Config& c) -> std::string& { return c.jobs.backend; })},
        {"jobs", "workers", Kind::integer, integer([](Config& c) -> int& { return c.jobs.workers; })},
        {"jobs", "lease_ms", Kind::integer, integer([](Config& c) -> int& { return c.jobs.lease_ms; })},
        {"jobs", "backoff_base_ms", Kind::integer, integer([](Config& c) -> int& { return c.jobs.backoff_base_ms; })},
        {"jobs", "backoff_max_ms", Kind::integer, integer([](Config& c) -> int& { return c.jobs.backoff_max_ms; })},
        {"webhooks", "max_attempts", Kind::integer, integer([](Config& c) -> int& { return c.webhooks.max_attempts; })},
        {"webhooks", "timeout_ms", Kind::integer, integer([](Config& c) -> int& { return c.webhooks.timeout_ms; })},
        {"campaigns", "max_concurrency", Kind::integer,
         integer([](Config& c) -> int& { return c.campaigns.max_concurrency; })},
        {"campaigns", "tick_ms", Kind::integer, integer([](Config& c) -> int& { return c.campaigns.tick_ms; })},
        {"recordings", "enabled", Kind::boolean, boolean([](Config& c) -> bool& { return c.recordings.enabled; })},
        {"recordings", "retention_days", Kind::integer,
         integer([](Config& c) -> int& { return c.recordings.retention_days; })},
        {"recordings", "max_bytes", Kind::integer, integer([](Config& c) -> int& { return c.recordings.max_bytes; })},
        {"media", "ahead_ms", Kind::integer, integer([](Config& c) -> int& { return c.media.ahead_ms; })},
        {"media", "max_call_audio_bytes", Kind::integer,
         integer([](Config& c) -> int& { return c.media.max_call_audio_bytes; })},
        {"media", "max_message_bytes", Kind::integer, integer([](Config& c) -> int& { return c.media.max_message_bytes; })},
        {"media", "max_utterance_ms", Kind::integer, integer([](Config& c) -> int& { return c.media.max_utterance_ms; })},
        {"log", "level", Kind::string, str([](Config& c) -> std::string& { return c.log.level; })},
        {"log", "format", Kind::string, str([](Config& c) -> std::string& { return c.log.format; })},
        {"log", "access_log", Kind::boolean, boolean([](Config& c) -> bool& { return c.log.access_log; })},
    };
    return table;
}

Error config_error(std::vector<FieldError> problems) {
    std::string message = "invalid configuration: ";
    for (std::size_t i = 0; i < problems.size(); ++i) {
        if (i) message += "; ";
        message += problems[i].field + ": " + problems[i].reason;
    }
    return Error{ErrorCode::invalid_request, std::move(message), {}, std::move(problems), 0};
}

}  // namespace

const json& Config::section(const std::string& name) const {
    static const json empty = json::object();
    auto found = sections.find(name);
    return found != sections.end() ? found->second : empty;
}

std::vector<ConfigSection> component_sections() {
    auto sections = registry::config_sections();
    for (const auto& carrier : carrier_registry().all()) sections.push_back(carrier.section);
    return sections;
}

std::string Config::sqlite_path() const {
    if (!storage.sqlite_path.empty()) return storage.sqlite_path;
    return (std::filesystem::path(storage.data_dir) / "voiceagent.db").string();
}

Result<std::pair<std::string, int>> parse_listen(const std::string& text) {
    std::string host;
    std::string port_text;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return invalid_field("server.listen", "must be HOST:PORT or [IPv6]:PORT");
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon)
            return invalid_field("server.listen", "must be HOST:PORT or [IPv6]:PORT");
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    int port = -1;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (host.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535)
        return invalid_field("server.listen", "must be HOST:PORT with a port from 0 to 65535");
    return std::make_pair(host, port);
}

namespace {

// The daemon's own keys (the providers check their sections themselves).
void check_daemon_keys(const Config& c, std::vector<FieldError>& p) {
    auto range = [&](const char* key, std::int64_t v, std::int64_t lo, std::int64_t hi) {
        if (v < lo || v > hi)
            p.push_back({key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi)});
    };
    range("server.io_threads", c.server.io_threads, 1, 64);
    range("server.worker_threads", c.server.worker_threads, 1, 256);
    range("server.max_header_bytes", std::int64_t(c.server.max_header_bytes), 1024, 1024 * 1024);
    range("server.max_body_bytes", std::int64_t(c.server.max_body_bytes), 256, 1024LL * 1024 * 1024);
    range("server.read_timeout_ms", c.server.read_timeout_ms, 100, 3'600'000);
    range("server.idle_timeout_ms", c.server.idle_timeout_ms, 100, 3'600'000);
    range("server.shutdown_grace_ms", c.server.shutdown_grace_ms, 0, 600'000);
    range("server.drain_timeout_ms", c.server.drain_timeout_ms, 0, 3'600'000);
    if (c.server.drain_goodbye.empty() || c.server.drain_goodbye.size() > 500)
        p.push_back({"server.drain_goodbye", "must be 1 to 500 characters"});
    range("server.port", c.server.port, 0, 65535);
    for (const auto& [key, url] : {std::pair<const char*, const std::string&>{"server.public_base_url", c.server.public_base_url},
                                   std::pair<const char*, const std::string&>{"server.instance_url", c.server.instance_url}}) {
        if (url.empty()) continue;
        std::size_t scheme_end = url.rfind("http://", 0) == 0 ? 7 : url.rfind("https://", 0) == 0 ? 8 : 0;
        bool has_host = scheme_end && url.size() > scheme_end && url[scheme_end] != '/';
        bool no_space = url.find_first_of(" \t\r\n") == std::string::npos;
        if (!has_host || !no_space) p.push_back({key, "must be an http:// or https:// URL with a host"});
    }
    if (c.storage.data_dir.empty()) p.push_back({"storage.data_dir", "must not be empty"});
    if (c.storage.backend != "sqlite" && c.storage.backend != "mongodb")
        p.push_back({"storage.backend", "must be sqlite or mongodb"});
#if !VA_WITH_MONGODB
    else if (c.storage.backend == "mongodb")
        p.push_back({"storage.backend", "mongodb is not built into this voiceagentd (VOICEAGENT_WITH_MONGODB=OFF)"});
#endif
    else if (c.storage.backend == "mongodb" && c.storage.mongodb_uri.rfind("mongodb://", 0) != 0 &&
             c.storage.mongodb_uri.rfind("mongodb+srv://", 0) != 0)
        p.push_back({"storage.mongodb_uri", "mongodb needs a mongodb:// or mongodb+srv:// URI"});
    range("storage.busy_timeout_ms", c.storage.busy_timeout_ms, 0, 600'000);
    if (!c.auth.jwt_secret.empty() && c.auth.jwt_secret.size() < 32)
        p.push_back({"auth.jwt_secret", "must be at least 32 bytes (or empty to generate one)"});
    if (c.auth.issuer.empty()) p.push_back({"auth.issuer", "must not be empty"});
    if (c.auth.audience.empty()) p.push_back({"auth.audience", "must not be empty"});
    range("auth.access_ttl_s", c.auth.access_ttl_s, 1, 86'400);
    range("auth.refresh_ttl_s", c.auth.refresh_ttl_s, 60, 365 * 86'400);
    if (!(c.auth.login_burst >= 1 && c.auth.login_burst <= 10'000)) p.push_back({"auth.login_burst", "must be between 1 and 10000"});
    if (!(c.auth.login_per_minute > 0 && c.auth.login_per_minute <= 100'000))
        p.push_back({"auth.login_per_minute", "must be above 0 and at most 100000"});
    config_detail::validate_secrets(c, p);
    range("tools.max_response_bytes", c.tools.max_response_bytes, 1024, 16 * 1024 * 1024);
    range("tools.filler_after_ms", c.tools.filler_after_ms, 0, 60'000);
    range("jobs.workers", c.jobs.workers, 1, 256);
    range("jobs.lease_ms", c.jobs.lease_ms, 1000, 3'600'000);
    range("jobs.backoff_base_ms", c.jobs.backoff_base_ms, 10, 3'600'000);
    range("jobs.backoff_max_ms", c.jobs.backoff_max_ms, c.jobs.backoff_base_ms, 86'400'000);
    range("webhooks.max_attempts", c.webhooks.max_attempts, 1, 100);
    range("webhooks.timeout_ms", c.webhooks.timeout_ms, 100, 120'000);
    range("campaigns.max_concurrency", c.campaigns.max_concurrency, 1, 10'000);
    range("campaigns.tick_ms", c.campaigns.tick_ms, 10, 60'000);
    range("server.instance_lease_ms", c.server.instance_lease_ms, 500, 3'600'000);
    range("server.max_connections", c.server.max_connections, 0, 1'000'000);
    range("server.max_connections_per_ip", c.server.max_connections_per_ip, 0, 1'000'000);
    range("server.ws_max_queue_messages", c.server.ws_max_queue_messages, 16, 1'000'000);
    range("server.ws_max_queue_bytes", c.server.ws_max_queue_bytes, 64 * 1024, 1024 * 1024 * 1024);
    for (const auto& origin : split_list(c.server.cors_origins)) {
        // An origin is exactly what a browser sends: scheme://host[:port], no path, no wildcard.
        auto scheme = origin.find("://");
        std::string_view host = scheme == std::string::npos ? std::string_view() : std::string_view(origin).substr(scheme + 3);
        bool ok = (origin.rfind("http://", 0) == 0 || origin.rfind("https://", 0) == 0) && !host.empty() &&
                  host.find_first_of("/?#*@ ") == std::string_view::npos;
        if (!ok) {
            p.push_back({"server.cors_origins", "\"" + origin + "\" is not an origin: http(s)://host[:port], no path"});
            break;
        }
    }
    range("redis.pool_size", c.redis.pool_size, 1, 256);
    range("redis.command_timeout_ms", c.redis.command_timeout_ms, 10, 600'000);
    range("redis.forward_timeout_ms", c.redis.forward_timeout_ms, 100, 60'000);
    if (!c.redis.url.empty())
        if (auto r = parse_redis_url(c.redis.url); !r) p.push_back({"redis.url", r.error().details.empty() ? r.error().message : r.error().details[0].reason});
#if !VA_WITH_REDIS
    if (!c.redis.url.empty())
        p.push_back({"redis.url", "Redis is not built into this voiceagentd (VOICEAGENT_WITH_REDIS=OFF)"});
#endif
    if (c.jobs.backend != "store" && c.jobs.backend != "redis") p.push_back({"jobs.backend", "must be store or redis"});
    else if (c.jobs.backend == "redis" && c.redis.url.empty()) p.push_back({"jobs.backend", "redis needs redis.url"});
    if (c.redis.events_stream.empty()) p.push_back({"redis.events_stream", "must not be empty"});
    if (c.server.instance_id.size() > 64 ||
        c.server.instance_id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            std::string::npos)
        p.push_back({"server.instance_id", "must be at most 64 letters, digits, '-', '_' or '.'"});
    range("recordings.retention_days", c.recordings.retention_days, 0, 36'500);
    if (c.recordings.max_bytes != 0) range("recordings.max_bytes", c.recordings.max_bytes, 64 * 1024, 2'000'000'000);
    range("media.ahead_ms", c.media.ahead_ms, 100, 60'000);
    if (c.media.max_call_audio_bytes != 0)
        range("media.max_call_audio_bytes", c.media.max_call_audio_bytes, 64 * 1024, 2'000'000'000);
    range("media.max_message_bytes", c.media.max_message_bytes, 4096, 16 * 1024 * 1024);
    range("media.max_utterance_ms", c.media.max_utterance_ms, 5000, 600'000);
    static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (std::find(std::begin(levels), std::end(levels), c.log.level) == std::end(levels))
        p.push_back({"log.level", "must be one of trace, debug, info, warn, error, critical, off"});
    if (c.log.format != "text" && c.log.format != "json") p.push_back({"log.format", "must be text or json"});
}

}  // namespace

Status validate_config(const Config& c) {
    std::vector<FieldError> p;
    check_daemon_keys(c, p);
    for (const auto& section : component_sections()) {
        auto found = c.sections.find(section.name);
        json values = found != c.sections.end() ? found->second : section.defaults();
        if (section.check) section.check(values, p);
    }
    if (p.empty()) return Ok{};
    return config_error(std::move(p));
}

Result<Config> load_config(const std::string& path, const std::map<std::string, std::string>& env,
                           const ConfigOverrides& overrides) {
    Config config;
    Raw raw;
    const auto table = keys(raw);
    std::vector<FieldError> problems;
    const auto sections = component_sections();
    for (const auto& section : sections) config.sections[section.name] = section.defaults();

    std::string file = path;
    if (file.empty() && std::filesystem::exists("voiceagentd.toml")) file = "voiceagentd.toml";
    if (!file.empty()) {
        // toml++ reports an unreadable file as a parse error at line 0; say what actually happened instead.
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec))
            return config_error({{file, std::filesystem::exists(file, ec) ? "not a regular file" : "no such file"}});
        toml::table doc;
        try {
            doc = toml::parse_file(file);
        } catch (const toml::parse_error& e) {
            const auto& where = e.source().begin;
            return config_error({{file, "line " + std::to_string(where.line) + ", column " +
                                            std::to_string(where.column) + ": " + std::string(e.description())}});
        }
        config.source = file;
        for (const auto& [section_key, section_node] : doc) {
            std::string section(section_key.str());
            const auto* section_table = section_node.as_table();
            if (section == "tool_secrets" && section_table) {
                config_detail::parse_tool_secrets(*section_table, config, problems);
                continue;
            }
            if (auto component = find_section(sections, section); component != sections.end()) {
                if (!section_table) problems.push_back({section, "must be a table"});
                else read_section(*component, *section_table, config.sections[section], problems);
                continue;
            }
            bool known_section = std::any_of(table.begin(), table.end(), [&](const Key& k) { return section == k.section; });
            if (!known_section || !section_table) {
                problems.push_back({section, known_section ? "must be a table" : "unknown section"});
                continue;
            }
            for (const auto& [key_name, node] : *section_table) {
                std::string full = section + "." + std::string(key_name.str());
                auto key = std::find_if(table.begin(), table.end(), [&](const Key& k) { return k.full() == full; });
                if (key == table.end()) {
                    problems.push_back({full, "unknown key"});
                    continue;
                }
                auto value = from_toml(node, key->kind);
                if (!value) {
                    problems.push_back({full, std::string("expected ") + kind_name(key->kind) + ", got " +
                                                  toml_type_name(node) +
                                                  (node.is_integer() ? " (out of range)" : "")});
                    continue;
                }
                key->set(config, *value);
            }
        }
    }

    for (const auto& entry : env) {
        // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture those in lambdas.
        const std::string& name = entry.first;
        const std::string& text = entry.second;
        if (name.rfind("VOICEAGENT_", 0) != 0 || name.rfind("VOICEAGENT_TEST_", 0) == 0) continue;
        if (name.rfind("VOICEAGENT_TOOL_SECRET_", 0) == 0) {
            config_detail::apply_tool_secret_env(name, text, config);
            continue;
        }
        auto key = std::find_if(table.begin(), table.end(), [&](const Key& k) { return k.env() == name; });
        if (key == table.end() && apply_section_env(sections, name, text, config, problems)) continue;
        if (key == table.end()) {
            problems.push_back({name, "unknown environment variable"});
            continue;
        }
        auto value = from_text(text, key->kind);
        if (!value) {
            problems.push_back({key->full(), std::string("expected ") + kind_name(key->kind) + " in " + name +
                                                 ", got \"" + text + "\""});
            continue;
        }
        key->set(config, *value);
    }

    if (overrides.listen) raw.listen = *overrides.listen;
    if (overrides.data_dir) config.storage.data_dir = *overrides.data_dir;

    if (auto listen = parse_listen(raw.listen)) {
        config.server.host = listen->first;
        config.server.port = listen->second;
    } else {
        problems.push_back(listen.error().details.at(0));
    }
    auto size_key = [&](const char* key, std::int64_t v, std::size_t& out) {
        if (v <= 0) problems.push_back({key, "must be positive"});
        else out = static_cast<std::size_t>(v);
    };
    size_key("server.max_header_bytes", raw.max_header_bytes, config.server.max_header_bytes);
    size_key("server.max_body_bytes", raw.max_body_bytes, config.server.max_body_bytes);

    check_daemon_keys(config, problems);
    // In place: a section's check may normalize its values (URLs) as well as report problems.
    for (const auto& section : sections)
        if (section.check) section.check(config.sections[section.name], problems);
    if (!problems.empty()) return config_error(std::move(problems));
    return config;
}

std::map<std::string, std::string> voiceagent_environment() {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        if (eq == std::string::npos) continue;
        if (entry.rfind("VOICEAGENT_", 0) == 0) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
    }
    return env;
}

}  // namespace va
