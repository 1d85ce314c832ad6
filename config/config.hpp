// The daemon's configuration: defaults, then a TOML file, then VOICEAGENT_<SECTION>_<KEY> environment variables,
// then command-line flags (--listen, --data-dir). Every key is documented with its default in
// config/voiceagentd.example.toml. Validation names the key and the problem. Providers' and carriers' sections
// ([openai], [twilio], ...) are declared, defaulted and checked by the components themselves
// (core/providers/config_section.hpp).
// Thread-safety: Config is a plain value; load/validate functions are pure apart from reading the file and the
// environment.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/providers/config_section.hpp"
#include "core/util/result.hpp"

namespace va {

struct ServerConfig {
    std::string host = "127.0.0.1";       // from server.listen
    int port = 8700;                      // 0 = any free port
    int io_threads = 2;
    int worker_threads = 4;               // blocking work: password hashing, heavy store calls
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_body_bytes = 1024 * 1024;
    int read_timeout_ms = 15000;          // a request (headers and body) must arrive within this
    int idle_timeout_ms = 60000;          // keep-alive connections idle longer are closed
    int shutdown_grace_ms = 10000;        // in-flight requests get this long on SIGTERM
    int drain_timeout_ms = 30000;         // on SIGTERM, live calls get this long to finish before the goodbye
    std::string drain_goodbye = "I'm sorry, I have to end our call now. Goodbye.";
    std::string public_base_url;          // how carriers reach us; empty = http://host:port
    std::string instance_url;             // how carriers reach this daemon alone (its calls' media and callbacks);
                                          // empty = public_base_url
    std::string instance_id;              // this daemon among several (leases, events); empty = host-pid-random
    int instance_lease_ms = 15000;        // another daemon silent this long is dead: its open calls are failed
    std::string trusted_proxies;          // IPs/CIDRs whose X-Forwarded-For/Forwarded is believed; empty = none
    int max_connections = 4096;           // open connections (HTTP and WebSocket); more get a 503; 0 = no cap
    int max_connections_per_ip = 512;     // the same from one client address; 0 = no cap
    int ws_max_queue_messages = 4096;     // a WebSocket with more unsent messages is closed 1008 "slow consumer"
    int ws_max_queue_bytes = 4 * 1024 * 1024;  // the same by bytes
    std::string cors_origins;             // comma-separated origins allowed to call the API from a browser; empty = none
    bool console = true;                  // serve the web console at / (docs/console.md)
};

struct StorageConfig {
    std::string data_dir = "./var";
    std::string backend = "sqlite";
    std::string sqlite_path;              // empty = <data_dir>/voiceagent.db
    std::string mongodb_uri;              // backend "mongodb": mongodb://...; the database is the URI's path
    int busy_timeout_ms = 5000;
};

struct AuthConfig {
    std::string jwt_secret;               // empty = generated into <data_dir>/jwt.secret on first start
    std::string issuer = "voiceagentd";
    std::string audience = "voiceagent-api";
    int access_ttl_s = 900;
    int refresh_ttl_s = 30 * 24 * 3600;
    double login_burst = 5;               // login attempts at once, per client address and per account
    double login_per_minute = 10;         // refill rate of those buckets
};

struct LogConfig {
    std::string level = "info";           // trace debug info warn error critical off
    std::string format = "text";          // text | json
    bool access_log = true;
};

struct ToolsConfig {
    // Comma-separated addresses or CIDR blocks that HTTP tools may reach even though they are loopback, private,
    // link-local or metadata addresses (refused by default, checked after DNS resolution).
    std::string allowed_networks;
    int max_response_bytes = 65536;        // a tool's answer is cut off (and reported) beyond this
    int filler_after_ms = 700;             // a tool still running this long gets the agent's filler spoken
};

// A value for {{secret:NAME}} in HTTP tools' headers, and where it may go. A secret with no hosts is sent nowhere
// (the old `NAME = "value"` form): an agent naming it is refused.
struct ToolSecret {
    std::string value;
    std::vector<std::string> hosts;       // lower-case host names, or "*.suffix" for any host under suffix
    std::vector<std::string> workspaces;  // the workspace ids whose agents may use it; empty: every workspace
};

struct JobsConfig {
    std::string backend = "store";         // store: the database's tables; redis: streams several daemons share
    int workers = 4;                       // threads running background jobs (webhook deliveries, campaign dials)
    int lease_ms = 30000;                  // a claimed job is someone else's after this long without a heartbeat
    int backoff_base_ms = 1000;            // first retry after about this long, doubling, with jitter
    int backoff_max_ms = 300000;
};

struct WebhooksConfig {
    int max_attempts = 10;                 // deliveries are retried until a 2xx, this many times at most
    int timeout_ms = 10000;
};

struct CampaignsConfig {
    int max_concurrency = 100;             // the highest concurrency a campaign may ask for
    int tick_ms = 200;                     // how often the dispatcher looks for calls to place when nothing wakes it
};

// Redis, for several daemons as one (docs/scale-out.md): with a URL, call events reach the event streams of every
// daemon. Empty: this daemon is alone (in-process events).
struct RedisConfig {
    std::string url;                       // redis://[:password@]host[:port][/db]
    int pool_size = 4;
    int command_timeout_ms = 2000;
    std::string events_stream = "va:events";
    int forward_timeout_ms = 5000;         // how long a request forwarded to the daemon owning a call waits for it
};

struct RecordingConfig {
    bool enabled = true;
    int retention_days = 30;               // 0 keeps recordings forever
    int max_bytes = 0;                     // one recording's file; 0 = what the agent's max_call_s allows
};

// What a voice call accepts from the caller's media stream, whatever the carrier or client claims (docs/security.md).
struct MediaConfig {
    int ahead_ms = 2000;                   // caller audio running further ahead of real time is dropped
    int max_call_audio_bytes = 0;          // caller audio (PCM16) per call; 0 = the agent's max_call_s at real time
    int max_message_bytes = 256 * 1024;    // one media WebSocket message; larger ones are dropped unread
    int max_utterance_ms = 30000;          // speech without a pause is cut into utterances this long
};

struct Config {
    ServerConfig server;
    // The components' sections (providers' [openai], [deepgram], ...; carriers' [twilio], [exotel]), each as the
    // section's keys with their values (defaults for those not set), by section name. Which sections and keys
    // exist, their defaults and their checks belong to the components built in (core/providers/registry.hpp,
    // core/providers/carrier.hpp): register them before loading.
    std::map<std::string, nlohmann::json> sections;
    ToolsConfig tools;
    JobsConfig jobs;
    WebhooksConfig webhooks;
    CampaignsConfig campaigns;
    RedisConfig redis;
    // Values for {{secret:NAME}} in HTTP tools' headers, bound to hosts: [tool_secrets.NAME] tables, or
    // VOICEAGENT_TOOL_SECRET_NAME (+ _HOSTS, _WORKSPACES). Agents name secrets; only the daemon's operator holds them.
    std::map<std::string, ToolSecret> tool_secrets;
    RecordingConfig recordings;
    MediaConfig media;
    StorageConfig storage;
    AuthConfig auth;
    LogConfig log;
    std::string source;                   // the file it was read from, empty when none

    std::string sqlite_path() const;      // resolved path of the database file
    // A component section's values; an empty object when no component registered that section.
    const nlohmann::json& section(const std::string& name) const;
};

// Every registered component's section: the providers' (core/providers/registry.hpp), then the carriers'
// (core/providers/carrier.hpp), in registration order. Both are read, defaulted and checked the same way.
std::vector<ConfigSection> component_sections();

struct ConfigOverrides {
    std::optional<std::string> listen;    // --listen HOST:PORT
    std::optional<std::string> data_dir;  // --data-dir DIR
};

// Loads `path` (or ./voiceagentd.toml when `path` is empty and that file exists), applies the environment (`env`,
// normally the process environment) and the overrides, and validates. invalid_request naming the key on failure;
// an explicitly given file that cannot be read is an error too.
Result<Config> load_config(const std::string& path, const std::map<std::string, std::string>& env,
                           const ConfigOverrides& overrides);

// Validation alone (load_config calls it): every problem found, each naming its key.
Status validate_config(const Config& config);

// The process environment's VOICEAGENT_* variables.
std::map<std::string, std::string> voiceagent_environment();

// Parses "HOST:PORT" or "[v6]:PORT".
Result<std::pair<std::string, int>> parse_listen(const std::string& text);

}  // namespace va
