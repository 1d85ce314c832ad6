#include "daemon/app/app.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "core/auth/api_key.hpp"
#include "core/util/daemon_announce.hpp"
#include "core/util/ids.hpp"
#include "core/util/log.hpp"
#include "core/util/time.hpp"
#include "daemon/api/api.hpp"
#include "daemon/console/console_routes.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/carriers.hpp"
#include "daemon/calls/tool_secrets.hpp"
#include "core/jobs/job_queue.hpp"
#include "core/providers/registry.hpp"
#include "daemon/calls/call_analysis.hpp"
#include "daemon/campaigns/campaign_runner.hpp"
#include "daemon/webhooks/webhooks.hpp"
#include "providers/common/io_loop.hpp"
#include "providers/common/net_guard.hpp"
#include "core/util/encoding.hpp"
#include "daemon/calls/event_bus.hpp"
#include "core/jobs/redis_job_store.hpp"
#if VA_WITH_MONGODB
#include "core/store/mongo_store.hpp"
#endif
#include "daemon/cluster/call_commands.hpp"
#include "daemon/cluster/instance_monitor.hpp"
#include "daemon/cluster/live_sessions.hpp"
#include "daemon/cluster/redis_campaign_slots.hpp"
#include "daemon/cluster/redis_event_relay.hpp"
#include "daemon/cluster/redis_rate_limits.hpp"
#include "core/util/strings.hpp"
#include "daemon/server/fd_limit.hpp"
#include "daemon/server/http_server.hpp"
#include "daemon/server/process_metrics.hpp"

namespace va {

namespace fs = std::filesystem;

namespace {

// Writes `content` to `path` with mode 0600, atomically (temp file then rename), so readers never see a partial
// secret and the mode is right from the first byte.
Status write_private_file(const fs::path& path, const std::string& content) {
    fs::path tmp = path;
    tmp += ".tmp";
    mode_t old = ::umask(077);
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
        out.close();
        if (!out) {
            ::umask(old);
            return make_error(ErrorCode::internal, "cannot write " + tmp.string());
        }
    }
    ::umask(old);
    ::chmod(tmp.c_str(), 0600);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) return make_error(ErrorCode::internal, "cannot write " + path.string() + ": " + ec.message());
    return Ok{};
}

// The JWT secret: configured, or generated once into the data directory (48 random bytes) and reused after.
Result<std::string> load_jwt_secret(const Config& config) {
    if (!config.auth.jwt_secret.empty()) return config.auth.jwt_secret;
    fs::path path = fs::path(config.storage.data_dir) / "jwt.secret";
    std::ifstream in(path);
    std::string secret;
    if (in && std::getline(in, secret) && secret.size() >= 32) return secret;
    secret = random_token(48);
    if (auto written = write_private_file(path, secret + "\n"); !written) return written.take_error();
    spdlog::info("generated a JWT secret in {}", path.string());
    return secret;
}

// SIGTERM: no new campaign dials or jobs (new calls are refused by the API while `draining`), live calls get
// drain_timeout_ms to finish (a second signal cuts the wait short), then whoever is left hears the goodbye and is
// given a moment to. Returns once no call is live, or that moment has passed.
void drain_calls(CallManager& calls, CampaignRunner& campaigns, JobQueue& jobs, const ServerConfig& server,
                 const sigset_t& signals) {
    campaigns.stop();
    jobs.stop();
    // False when a second signal asked to stop waiting.
    auto wait = [&](int ms) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (calls.live_calls() > 0 && std::chrono::steady_clock::now() < deadline) {
            timespec tick{0, 100'000'000};
            if (sigtimedwait(&signals, nullptr, &tick) > 0) return false;
        }
        return true;
    };
    if (calls.live_calls() > 0) {
        spdlog::info("draining: {} live calls get up to {} ms to finish", calls.live_calls(), server.drain_timeout_ms);
        if (!wait(server.drain_timeout_ms)) spdlog::info("draining: a second signal, ending the calls now");
    }
    if (calls.live_calls() == 0) return;
    spdlog::info("draining: {} calls still live hear the goodbye and end", calls.live_calls());
    calls.drain(server.drain_goodbye);
    wait(20'000);
}

// The record store storage.backend names: the SQLite file (the default), or MongoDB for daemons on several hosts.
Result<std::unique_ptr<Store>> open_store(const Config& config) {
    if (config.storage.backend == "mongodb") {
#if !VA_WITH_MONGODB
        // The configuration refuses it already; said again for a Config built by hand.
        return make_error(ErrorCode::invalid_request, "mongodb is not built into this voiceagentd (VOICEAGENT_WITH_MONGODB=OFF)");
#else
        MongoOptions mongo;
        mongo.uri = config.storage.mongodb_uri;
        mongo.pool_max = std::max(4, config.server.io_threads + config.server.worker_threads);
        auto database = mongo_database_name(mongo);
        if (!database) return database.take_error();
        spdlog::info("records in MongoDB, database {}", *database);
        return open_mongo_store(mongo);
#endif
    }
    SqliteOptions sqlite;
    sqlite.path = config.sqlite_path();
    sqlite.busy_timeout_ms = config.storage.busy_timeout_ms;
    sqlite.pool_size = std::max(4, config.server.io_threads + config.server.worker_threads);
    auto store = open_sqlite_store(sqlite);
    if (!store) return make_error(store.error().code, sqlite.path + ": " + store.error().message);
    return store;
}

// Login limits shared by every daemon when there is a Redis; this daemon's own otherwise.
std::shared_ptr<SharedBuckets> shared_buckets(const std::shared_ptr<RedisPool>& redis, std::string prefix) {
    if (!redis) return nullptr;
    return std::make_shared<RedisBuckets>(redis, std::move(prefix));
}

// First start with an empty database: the first workspace and an owner API key, written to admin.key (never
// logged), so the operator can use vactl at once.
Status bootstrap_if_empty(Store& store, const Config& config) {
    auto existing = store.list_workspaces(PageRequest{1, {}});
    if (!existing) return existing.take_error();
    if (!existing->items.empty()) return Ok{};
    Workspace ws{new_id("ws"), "default", now_ms()};
    if (auto created = store.create_workspace(ws); !created) return created.take_error();
    auto fresh = generate_api_key();
    ApiKey key;
    key.id = new_id("key");
    key.workspace_id = ws.id;
    key.name = "admin.key (created at first start)";
    key.role = "owner";
    key.prefix = fresh.prefix;
    key.key_hash = fresh.hash;
    key.created_at = now_ms();
    if (auto created = store.create_api_key(key); !created) return created.take_error();
    fs::path path = fs::path(config.storage.data_dir) / "admin.key";
    if (auto written = write_private_file(path, fresh.key + "\n"); !written) return written.take_error();
    spdlog::info("first start: created workspace {} and an owner API key in {}", ws.id,
                 fs::absolute(path).lexically_normal().string());
    return Ok{};
}

// Where HTTP tools and webhook endpoints may reach besides public addresses.
Result<NetworkAllowlist> allowed_networks(const Config& config) {
    auto allowed = NetworkAllowlist::parse(config.tools.allowed_networks);
    if (!allowed)
        return make_error(ErrorCode::invalid_request,
                          "tools.allowed_networks: " + (allowed.error().details.empty() ? allowed.error().message
                                                                                        : allowed.error().details[0].reason));
    return allowed;
}

// Every provider built in (core/providers/registry.hpp), by the name agents use, its factory made from its own
// configuration section (an agent naming a cloud provider without a key gets a clear error when its call starts).
Status register_providers(CallManager& calls, const Config& config) {
    for (const auto& entry : registry::llm())
        calls.add_llm(entry.name, entry.make_factory(config.section(entry.section)));
    for (const auto& entry : registry::tts())
        calls.add_tts(entry.name, entry.make_factory(config.section(entry.section)));
    for (const auto& entry : registry::stt())
        calls.add_stt(entry.name, entry.make_factory(config.section(entry.section)));
    auto allowed = allowed_networks(config);
    if (!allowed) return allowed.take_error();
    // Said once: a secret of the old `NAME = "value"` form is bound to no host, so no agent can send it anywhere.
    for (const auto& name : unbound_secrets(config.tool_secrets))
        spdlog::warn("tool secret {} is bound to no host and will not be sent anywhere: give it hosts "
                     "([tool_secrets.{}] hosts, or VOICEAGENT_TOOL_SECRET_<NAME>_HOSTS)",
                     name, name);
    calls.set_tool_settings({std::move(allowed).value(), std::size_t(config.tools.max_response_bytes),
                             config.tools.filler_after_ms, config.tool_secrets});
    return Ok{};
}

// Test-only (docs/testing.md): VOICEAGENT_TEST_CAMPAIGN_CLOCK_FILE names a file holding a signed number of
// milliseconds that the campaign runner adds to the wall clock, read at each look. An integration test moves a
// campaign past its calling window's opening by writing the file, instead of waiting for the hour to come. Unset
// (always, outside tests): the runner reads the wall clock alone. A missing or unreadable file counts as 0.
std::function<std::int64_t()> campaign_clock() {
    const char* path = std::getenv("VOICEAGENT_TEST_CAMPAIGN_CLOCK_FILE");
    if (!path || !*path) return {};
    spdlog::warn("campaigns: the runner's clock is offset by {} (VOICEAGENT_TEST_CAMPAIGN_CLOCK_FILE, for tests only)",
                 path);
    return [file = std::string(path)] {
        std::int64_t offset = 0;
        std::ifstream in(file);
        if (!(in >> offset)) offset = 0;
        return now_ms() + offset;
    };
}

}  // namespace

int run_daemon(const Config& config) {
    // Block the stop signals before any thread exists (logging starts one), so every thread inherits the mask
    // and only the signal thread below ever receives them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    setup_logging(config.log.level, config.log.format == "json" ? LogFormat::json : LogFormat::text);

    std::error_code ec;
    fs::create_directories(config.storage.data_dir, ec);
    if (ec) {
        spdlog::critical("cannot create data directory {}: {}", config.storage.data_dir, ec.message());
        return 1;
    }
    ::chmod(config.storage.data_dir.c_str(), 0700);

    auto store = open_store(config);
    if (!store) {
        spdlog::critical("cannot open the database: {}", store.error().message);
        return 1;
    }
    if (auto boot = bootstrap_if_empty(**store, config); !boot) {
        spdlog::critical("first-start bootstrap failed: {}", boot.error().message);
        return 1;
    }
    auto secret = load_jwt_secret(config);
    if (!secret) {
        spdlog::critical("{}", secret.error().message);
        return 1;
    }
    JwtOptions jwt_options;
    jwt_options.secret = *secret;
    jwt_options.issuer = config.auth.issuer;
    jwt_options.audience = config.auth.audience;
    // Tokens are issued and checked by daemons sharing a clock within seconds (NTP); a small leeway, never longer
    // than the token's own life, keeps short-lived tokens short.
    jwt_options.leeway_s = std::min(5, config.auth.access_ttl_s);
    auto jwt = JwtSigner::create(jwt_options);
    if (!jwt) {
        spdlog::critical("auth.jwt_secret: {}", jwt.error().message);
        return 1;
    }

    MetricsRegistry metrics;
    register_process_metrics(metrics);
    http::Router router;
    http::ServerOptions options;
    options.host = config.server.host;
    options.port = config.server.port;
    options.io_threads = config.server.io_threads;
    options.worker_threads = config.server.worker_threads;
    options.max_header_bytes = config.server.max_header_bytes;
    options.max_body_bytes = config.server.max_body_bytes;
    options.read_timeout_ms = config.server.read_timeout_ms;
    options.idle_timeout_ms = config.server.idle_timeout_ms;
    options.shutdown_grace_ms = config.server.shutdown_grace_ms;
    options.access_log = config.log.access_log;
    auto proxies = http::TrustedProxies::parse(config.server.trusted_proxies);
    if (!proxies) {
        spdlog::critical("server.trusted_proxies: {}", proxies.error().details.empty()
                                                           ? proxies.error().message
                                                           : proxies.error().details[0].reason);
        return 1;
    }
    options.trusted_proxies = std::move(proxies).value();
    options.max_connections = static_cast<std::size_t>(config.server.max_connections);
    options.max_connections_per_ip = static_cast<std::size_t>(config.server.max_connections_per_ip);
    options.ws_max_queue_messages = static_cast<std::size_t>(config.server.ws_max_queue_messages);
    options.ws_max_queue_bytes = static_cast<std::size_t>(config.server.ws_max_queue_bytes);
    options.cors_origins = split_list(config.server.cors_origins);
    // A call's provider WebSockets run on the I/O thread that carries its media, so a 20 ms audio frame and the
    // provider's answers cross no thread.
    options.on_loop_thread = [](boost::asio::io_context& loop) { adopt_thread_loop(&loop); };
    http::raise_descriptor_limit(options.max_connections);
    http::HttpServer server(options, router, metrics);

    std::string instance = config.server.instance_id.empty() ? default_instance_id() : config.server.instance_id;
    EventBus events;
    // With Redis, this daemon's events reach the other daemons' subscribers and theirs reach ours.
    std::unique_ptr<RedisEventRelay> relay;
    std::shared_ptr<RedisPool> redis_pool;
    if (!config.redis.url.empty()) {
        RedisOptions redis = parse_redis_url(config.redis.url).value();  // validated with the config
        redis.pool_size = config.redis.pool_size;
        redis.command_timeout_ms = config.redis.command_timeout_ms;
        redis_pool = std::make_shared<RedisPool>(redis);
        EventRelaySettings relay_settings;
        relay_settings.stream = config.redis.events_stream;
        relay = std::make_unique<RedisEventRelay>(redis, events, instance, relay_settings);
        relay->start();
        spdlog::info("instance {}: call events, live sessions, forwarded call requests and login rate limits "
                     "shared through {}",
                     instance, redacted_redis_url(redis));
    }
    // With Redis, this daemon's live sessions are published for the others (TTL: a few leases, so the hashes of a
    // daemon that dies go with it); before the CallManager that reports to it, so it outlives every session.
    std::unique_ptr<RedisLiveSessions> live_sessions;
    if (redis_pool) {
        LiveSessionSettings live_settings;
        live_settings.ttl_ms = 3 * config.server.instance_lease_ms;
        live_settings.refresh_ms = std::max(100, config.server.instance_lease_ms / 2);
        live_sessions = std::make_unique<RedisLiveSessions>(redis_pool, instance, live_settings);
        live_sessions->start();
    }
    CallManager calls(**store, events, metrics);
    calls.set_instance(instance);
    if (live_sessions)
        calls.set_live_hooks(
            [registry = live_sessions.get()](const Call& call) {
                registry->add({call.id, call.instance_id, call.workspace_id, call.channel, call.provider_call_id, now_ms()});
            },
            [registry = live_sessions.get()](const std::string& call_id) { registry->remove(call_id); });
    if (auto s = register_providers(calls, config); !s) {
        spdlog::critical("{}", s.error().message);
        return 1;
    }
    metrics.gauge("voiceagent_live_calls", "Calls with a live media connection on this daemon.",
                  [&calls] { return double(calls.live_calls()); });
    calls.set_recordings((fs::path(config.storage.data_dir) / "recordings").string(), config.recordings.enabled,
                         config.recordings.retention_days);
    if (config.recordings.enabled) calls.sweep_recordings();
    CallerMediaLimits media_limits;
    media_limits.ahead_ms = config.media.ahead_ms;
    media_limits.max_call_audio_bytes = config.media.max_call_audio_bytes;
    media_limits.max_message_bytes = std::size_t(config.media.max_message_bytes);
    media_limits.max_utterance_ms = config.media.max_utterance_ms;
    media_limits.max_recording_bytes = config.recordings.max_bytes;
    calls.set_media_limits(media_limits);
    // Per-call carrier tokens are keyed by a secret derived from the JWT secret, so they survive restarts.
    Carriers carriers(config, **store, calls, hex_encode(hmac_sha256(*secret, "voiceagent carrier tokens")));

    // Background jobs (webhook deliveries, post-call analysis) from the durable queue; stopped before what their
    // handlers use.
    JobQueueOptions job_options;
    job_options.owner = instance;
    job_options.workers = config.jobs.workers;
    job_options.lease_ms = config.jobs.lease_ms;
    job_options.heartbeat_ms = std::max(100, config.jobs.lease_ms / 3);
    job_options.backoff_base_ms = config.jobs.backoff_base_ms;
    job_options.backoff_max_ms = config.jobs.backoff_max_ms;
    // With jobs.backend = redis the queue is shared by every daemon on the same Redis (docs/scale-out.md).
    std::unique_ptr<RedisJobStore> redis_jobs;
    if (config.jobs.backend == "redis") redis_jobs = std::make_unique<RedisJobStore>(redis_pool);
    JobStore& job_store = redis_jobs ? static_cast<JobStore&>(*redis_jobs) : static_cast<JobStore&>(**store);
    JobQueue jobs(job_store, job_options);
    auto allowed = allowed_networks(config);
    if (!allowed) {
        spdlog::critical("{}", allowed.error().message);
        return 1;
    }
    Webhooks webhooks(**store, events, jobs, {std::move(allowed).value(), config.webhooks.max_attempts, config.webhooks.timeout_ms});
    jobs.handle(Webhooks::kJobType, [&webhooks](JobContext& job) { return webhooks.deliver(job); });
    CallAnalysis analysis(**store, events, jobs, calls);
    jobs.handle(CallAnalysis::kJobType, [&analysis](JobContext& job) { return analysis.run(job); });
    CampaignRunner campaigns(**store, events, jobs, calls, carriers,
                             {config.campaigns.tick_ms, config.campaigns.max_concurrency, campaign_clock()});
    if (redis_pool) campaigns.set_slots(std::make_shared<RedisCampaignSlots>(redis_pool, config.server.instance_lease_ms));
    jobs.handle(CampaignRunner::kDialJob, [&campaigns](JobContext& job) { return campaigns.dial(job); });
    jobs.start();
    // The dispatcher stops before the queue (no new dials), the queue before what its handlers use.
    struct StopJobs {
        JobQueue& jobs;
        CampaignRunner& campaigns;
        ~StopJobs() {
            campaigns.stop();
            jobs.stop();
        }
    } stop_jobs{jobs, campaigns};

    // Hang-ups, transfers and carrier statuses for calls live here that reach another daemon come through Redis.
    // Started once the API context exists (its executor runs the API's own code) and stopped before it goes.
    std::unique_ptr<CallCommands> commands;
    if (redis_pool) {
        CallCommandSettings command_settings;
        command_settings.reply_timeout_ms = config.redis.forward_timeout_ms;
        commands = std::make_unique<CallCommands>(redis_pool, instance, command_settings);
    }
    std::atomic<bool> draining{false};  // SIGTERM received: calls finish, no new ones
    api::ApiContext ctx{**store,
                        std::move(jwt).value(),
                        config.auth,
                        metrics,
                        RateLimiter(config.auth.login_burst, config.auth.login_per_minute,
                                    shared_buckets(redis_pool, "va:rl:login-address:")),
                        RateLimiter(config.auth.login_burst, config.auth.login_per_minute,
                                    shared_buckets(redis_pool, "va:rl:login-account:")),
                        [&server, &draining] { return draining || server.draining(); },
                        &calls,
                        &events,
                        &carriers,
                        &webhooks,
                        &campaigns,
                        commands.get(),
                        live_sessions.get()};
    struct StopCommands {
        CallCommands* commands;
        ~StopCommands() {
            if (commands) commands->stop();
        }
    } stop_commands{commands.get()};
    api::register_auth_routes(router, ctx);
    api::register_workspace_routes(router, ctx);
    api::register_user_routes(router, ctx);
    api::register_api_key_routes(router, ctx);
    api::register_agent_routes(router, ctx);
    api::register_phone_routes(router, ctx);
    api::register_live_routes(router, ctx);
    api::register_call_routes(router, ctx);
    api::register_telephony_routes(router, ctx);
    api::register_system_routes(router, ctx);
    api::register_webhook_routes(router, ctx);
    api::register_analytics_routes(router, ctx);
    api::register_campaign_routes(router, ctx);
    // After the API's routes, so an API request never scans the console's files first.
    if (config.server.console) console::register_console_routes(router);

    try {
        server.start();
    } catch (const std::exception& e) {
        spdlog::critical("cannot listen on {}:{}: {}", config.server.host, config.server.port, e.what());
        return 1;
    }
    std::string host = config.server.host.find(':') != std::string::npos ? "[" + config.server.host + "]"
                                                                          : config.server.host;
    std::string address = host + ":" + std::to_string(server.port());
    carriers.set_base_url("http://" + address);
    // Before the campaigns recover: the calls this daemon's previous run left open are ended first.
    InstanceMonitor monitor(**store, calls, carriers.call_http_base(),
                            {config.server.instance_lease_ms, std::max(200, config.server.instance_lease_ms / 5)});
    monitor.start();
    if (commands) commands->start([&ctx](const CallCommand& command) { return api::run_call_command(ctx, command); });
    campaigns.start();  // dials need the address carriers are given
    fs::path addr_file = fs::path(config.storage.data_dir) / "voiceagentd.addr";
    (void)write_private_file(addr_file, address + "\n");
    // vactl on this machine finds the owner key through this, never through its own working directory.
    std::string data_dir = fs::absolute(config.storage.data_dir).lexically_normal().string();
    if (auto announced = write_announcement(server.port(), {address, data_dir, long(::getpid())}); !announced)
        spdlog::warn("vactl will not find admin.key by itself: {}", announced.error().message);
    spdlog::info("voiceagentd listening on http://{} (data in {})", address,
                 fs::absolute(config.storage.data_dir).lexically_normal().string());

    std::atomic<bool> exiting{false};
    std::thread signal_thread([&, signals] {
        int received = 0;
        sigwait(&signals, &received);
        if (exiting) return;  // woken by the shutdown below, not by an operator
        spdlog::info("received {}, shutting down", received == SIGTERM ? "SIGTERM" : "SIGINT");
        draining = true;  // /readyz 503 and new calls refused from now on
        drain_calls(calls, campaigns, jobs, config.server, signals);
        server.stop();
    });
    server.run();
    adopt_thread_loop(nullptr);  // loop 0 runs no more: nothing started on this thread from now on may use it
    // run() can also return without a signal (a fatal listener error): wake the signal thread.
    exiting = true;
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    fs::remove(addr_file, ec);
    remove_announcement(server.port(), long(::getpid()));
    spdlog::info("voiceagentd stopped");
    spdlog::default_logger()->flush();
    return 0;
}

}  // namespace va
