#include "daemon/cluster/call_commands.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "core/util/guard.hpp"

namespace va {

using nlohmann::json;

namespace {

// Push and expire in one step, so a list is never left without its TTL (a sender dying between the two commands
// would otherwise leave commands behind for good).
constexpr const char* kPushScript =
    "redis.call('RPUSH', KEYS[1], ARGV[1]) redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1";
// The wait after a failed Redis command before the next (the connection adds its own reconnect backoff).
constexpr int kRetryMs = 100;
// Clocks of daemons on different hosts differ a little (NTP): a command is only skipped as stale well past its
// deadline.
constexpr std::int64_t kClockSlackMs = 500;
constexpr std::size_t kMaxIdleWaiters = 8;

std::int64_t monotonic_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// BLPOP takes seconds; a zero would block for ever.
std::string blpop_seconds(std::int64_t ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", double(std::max<std::int64_t>(ms, 10)) / 1000.0);
    return buf;
}

}  // namespace

json error_to_json(const Error& error) {
    json details = json::array();
    for (const auto& d : error.details) details.push_back(json{{"field", d.field}, {"reason", d.reason}});
    return json{{"code", to_string(error.code)}, {"message", error.message}, {"details", details}};
}

Error error_from_json(const json& e) {
    Error error = make_error(ErrorCode::bad_gateway, "the other daemon answered with an unreadable error");
    if (!e.is_object()) return error;
    if (auto code = error_code_from_string(json_string_or(e, "code"))) error.code = *code;
    if (e.contains("message") && e["message"].is_string()) error.message = e["message"].get<std::string>();
    if (e.contains("details") && e["details"].is_array())
        for (const auto& d : e["details"])
            if (d.is_object()) error.details.push_back(FieldError{json_string_or(d, "field"), json_string_or(d, "reason")});
    return error;
}

CallCommands::CallCommands(std::shared_ptr<RedisPool> redis, std::string instance, CallCommandSettings settings)
    : m_redis(std::move(redis)), m_instance(std::move(instance)), m_settings(std::move(settings)) {}

CallCommands::~CallCommands() { stop(); }

void CallCommands::start(Executor executor) {
    m_executor = std::move(executor);
    m_listener = std::thread([this] { run_loop_guarded("call commands: listener", [this] { listen_loop(); }); });
}

void CallCommands::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_stopping = true;
    }
    m_cv.notify_all();
    if (!m_listener.joinable()) return;
    m_listener.join();
    // Senders learn at once that nobody takes this daemon's commands any more.
    (void)m_redis->command({"DEL", presence_key(m_instance)});
}

void CallCommands::listen_loop() {
    RedisConnection redis(m_redis->options());
    const std::string key = queue_key(m_instance);
    const std::string block = blpop_seconds(m_settings.block_ms);
    const std::string presence_ttl = std::to_string(m_settings.presence_ttl_ms);
    std::int64_t presence_at = 0;  // monotonic ms of the last renewal; 0: never (or lost with the connection)
    bool failing = false;
    auto stopping = [this] {
        std::lock_guard lock(m_mutex);
        return m_stopping;
    };
    while (!stopping()) {
        // Renewed at most twice per block, not per command, so a burst of commands adds no traffic.
        if (monotonic_ms() - presence_at >= m_settings.block_ms / 2) {
            auto set = redis.command({"SET", presence_key(m_instance), "1", "PX", presence_ttl});
            presence_at = set ? monotonic_ms() : 0;
        }
        auto popped = redis.command({"BLPOP", key, block}, m_settings.block_ms + m_redis->options().command_timeout_ms);
        if (!popped) {
            if (!failing) spdlog::warn("call commands: cannot read from Redis ({}); retrying", popped.error().message);
            failing = true;
            presence_at = 0;
            std::unique_lock lock(m_mutex);
            m_cv.wait_for(lock, std::chrono::milliseconds(kRetryMs), [this] { return m_stopping; });
            continue;
        }
        if (failing) spdlog::info("call commands: reading from Redis again");
        failing = false;
        // [list, value], or nil when block_ms passed without a command.
        if (popped->type == RedisValue::Type::array && popped->elements.size() == 2) handle(popped->elements[1].str);
    }
}

std::int64_t CallCommands::wall_ms() const { return m_settings.clock_ms ? m_settings.clock_ms() : now_ms(); }

void CallCommands::handle(const std::string& payload) {
    json c = parse_json(payload);
    auto text = [&c](const char* key) {
        return c.contains(key) && c[key].is_string() ? c[key].get<std::string>() : std::string();
    };
    if (!c.is_object() || text("op").empty() || text("call_id").empty() || text("reply_to").empty()) {
        spdlog::warn("call commands: dropped a malformed command");
        return;
    }
    std::int64_t deadline = json_int(c, "deadline_ms").value_or(0);
    if (wall_ms() > deadline + kClockSlackMs) {
        ++m_expired;
        spdlog::warn("call {}: skipped a {} from daemon {} that arrived after its sender stopped waiting", text("call_id"),
                     text("op"), text("from"));
        return;
    }
    CallCommand command{text("op"), text("call_id"), text("workspace_id"),
                        c.contains("args") && c["args"].is_object() ? c["args"] : json::object()};
    Result<json> result = make_error(ErrorCode::internal, "this daemon runs no call commands");
    try {
        if (m_executor) result = m_executor(command);
    } catch (const std::exception& e) {
        spdlog::error("call {}: the {} from daemon {} failed: {}", command.call_id, command.op, text("from"), e.what());
        result = make_error(ErrorCode::internal, "the owner daemon failed to run the request");
    }
    ++m_executed;
    json answer = result ? json{{"ok", true}, {"value", *result}}
                         : json{{"ok", false}, {"error", error_to_json(result.error())}};
    auto pushed = m_redis->command(
        {"EVAL", kPushScript, "1", text("reply_to"), answer.dump(), std::to_string(m_settings.reply_ttl_ms)});
    if (!pushed)
        spdlog::warn("call {}: cannot send the answer to daemon {}'s {}: {}", command.call_id, text("from"), command.op,
                     pushed.error().message);
}

bool CallCommands::owner_listening(const std::string& owner, Error& why) {
    auto exists = m_redis->command({"EXISTS", presence_key(owner)});
    if (!exists) {
        why = make_error(ErrorCode::unavailable,
                         "cannot reach Redis to forward the request to daemon " + owner + ": " + exists.error().message);
        return false;
    }
    if (exists->integer > 0) return true;
    why = make_error(ErrorCode::unavailable,
                     "daemon " + owner + ", which runs this call, is not answering (it has stopped, or cannot reach "
                     "Redis); if it has stopped, its calls are failed once its lease lapses");
    return false;
}

std::unique_ptr<RedisConnection> CallCommands::borrow_waiter() {
    {
        std::lock_guard lock(m_mutex);
        if (!m_waiters.empty()) {
            auto c = std::move(m_waiters.back());
            m_waiters.pop_back();
            return c;
        }
    }
    return m_redis->dedicated();
}

void CallCommands::give_back_waiter(std::unique_ptr<RedisConnection> connection) {
    std::lock_guard lock(m_mutex);
    if (connection->connected() && m_waiters.size() < kMaxIdleWaiters) m_waiters.push_back(std::move(connection));
}

Result<json> CallCommands::send(const std::string& owner, const CallCommand& command) {
    Error why;
    if (!owner_listening(owner, why)) return why;
    const std::string id = new_id("cmd");
    const std::string reply_key = m_settings.prefix + "reply:" + id;
    json message{{"id", id},
                 {"op", command.op},
                 {"call_id", command.call_id},
                 {"workspace_id", command.workspace_id},
                 {"args", command.args},
                 {"from", m_instance},
                 {"reply_to", reply_key},
                 {"deadline_ms", wall_ms() + m_settings.reply_timeout_ms}};
    auto pushed = m_redis->command({"EVAL", kPushScript, "1", queue_key(owner), message.dump(),
                                    std::to_string(m_settings.reply_timeout_ms + 1000)});
    if (!pushed)
        return make_error(ErrorCode::unavailable,
                          "cannot reach Redis to forward the request to daemon " + owner + ": " + pushed.error().message);
    const std::int64_t deadline = monotonic_ms() + m_settings.reply_timeout_ms;
    auto waiter = borrow_waiter();
    const int command_timeout = m_redis->options().command_timeout_ms;
    while (true) {
        std::int64_t left = deadline - monotonic_ms();
        if (left <= 0) {
            give_back_waiter(std::move(waiter));
            return make_error(ErrorCode::timeout, "daemon " + owner + ", which runs this call, did not answer within " +
                                                      std::to_string(m_settings.reply_timeout_ms) +
                                                      " ms; the request may or may not have been carried out");
        }
        // Waits in slices, checking between them that the owner is still there: a daemon killed after the command
        // was sent is noticed within its presence TTL rather than at the end of the whole wait.
        std::int64_t slice = std::min<std::int64_t>(left, m_settings.block_ms);
        auto reply = waiter->command({"BLPOP", reply_key, blpop_seconds(slice)}, int(slice) + command_timeout);
        if (!reply) {
            give_back_waiter(std::move(waiter));
            return make_error(ErrorCode::unavailable, "lost Redis while waiting for daemon " + owner +
                                                          "'s answer; the request may or may not have been carried out (" +
                                                          reply.error().message + ")");
        }
        if (reply->type == RedisValue::Type::array && reply->elements.size() == 2) {
            give_back_waiter(std::move(waiter));
            json answer = parse_json(reply->elements[1].str);
            if (!answer.is_object()) return make_error(ErrorCode::bad_gateway, "daemon " + owner + " sent an unreadable answer");
            if (json_bool(answer, "ok").value_or(false)) return answer.contains("value") ? answer["value"] : json::object();
            return error_from_json(answer.contains("error") ? answer["error"] : json());
        }
        if (!owner_listening(owner, why)) {
            give_back_waiter(std::move(waiter));
            if (why.message.rfind("cannot reach Redis", 0) == 0) return why;
            why.message = "daemon " + owner + " stopped answering before it replied (the request may or may not have "
                                              "been carried out); if it has stopped, its calls are failed once its "
                                              "lease lapses";
            return why;
        }
    }
}

}  // namespace va
