#include "core/redis/redis_client.hpp"

#if VA_WITH_REDIS
#include <hiredis/hiredis.h>
#endif
#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace va {

namespace {

#if VA_WITH_REDIS
std::int64_t monotonic_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

timeval to_timeval(int ms) {
    timeval tv{};
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

RedisValue convert(const redisReply* r) {
    RedisValue v;
    switch (r->type) {
        case REDIS_REPLY_INTEGER:
            v.type = RedisValue::Type::integer;
            v.integer = r->integer;
            break;
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
            v.type = RedisValue::Type::string;
            v.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ARRAY:
            v.type = RedisValue::Type::array;
            v.elements.reserve(r->elements);
            for (std::size_t i = 0; i < r->elements; ++i) v.elements.push_back(convert(r->element[i]));
            break;
        default:
            break;  // nil
    }
    return v;
}

#endif

bool parse_int(std::string_view text, int& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<RedisOptions> parse_redis_url(std::string_view url, RedisOptions base) {
    constexpr std::string_view scheme = "redis://";
    if (url.substr(0, scheme.size()) != scheme)
        return invalid_field("redis.url", "must start with redis:// (redis://[:password@]host[:port][/db])");
    std::string_view rest = url.substr(scheme.size());
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view credentials = rest.substr(0, at);
        auto colon = credentials.find(':');
        base.password = std::string(colon == std::string_view::npos ? credentials : credentials.substr(colon + 1));
        rest = rest.substr(at + 1);
    }
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        std::string_view db = rest.substr(slash + 1);
        if (!db.empty() && (!parse_int(db, base.db) || base.db < 0))
            return invalid_field("redis.url", "the database after / must be a number");
        rest = rest.substr(0, slash);
    }
    if (auto colon = rest.rfind(':'); colon != std::string_view::npos && rest.find(']') == std::string_view::npos) {
        if (!parse_int(rest.substr(colon + 1), base.port) || base.port <= 0 || base.port > 65535)
            return invalid_field("redis.url", "the port must be a number from 1 to 65535");
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) return invalid_field("redis.url", "names no host");
    base.host = std::string(rest);
    return base;
}

std::string redacted_redis_url(const RedisOptions& o) {
    return "redis://" + std::string(o.password.empty() ? "" : ":***@") + o.host + ":" + std::to_string(o.port) + "/" +
           std::to_string(o.db);
}

RedisConnection::RedisConnection(RedisOptions options) : m_options(std::move(options)) {}

RedisConnection::~RedisConnection() { drop(); }

#if VA_WITH_REDIS
void RedisConnection::drop() {
    if (m_ctx) redisFree(m_ctx);
    m_ctx = nullptr;
    m_timeout_ms = -1;
}

Status RedisConnection::connect() {
    if (m_ctx) return Ok{};
    std::int64_t now = monotonic_ms();
    if (now < m_retry_at_ms)
        return make_error(ErrorCode::unavailable, "redis " + redacted_redis_url(m_options) +
                                                      " is unreachable; next attempt in " +
                                                      std::to_string(m_retry_at_ms - now) + " ms");
    auto fail = [&](std::string why) -> Status {
        drop();
        m_backoff_ms = m_backoff_ms == 0 ? m_options.backoff_initial_ms : std::min(m_backoff_ms * 2, m_options.backoff_max_ms);
        m_retry_at_ms = monotonic_ms() + m_backoff_ms;
        return make_error(ErrorCode::unavailable, "redis " + redacted_redis_url(m_options) + ": " + why);
    };
    m_ctx = redisConnectWithTimeout(m_options.host.c_str(), m_options.port, to_timeval(m_options.connect_timeout_ms));
    if (!m_ctx) return fail("cannot allocate a connection");
    if (m_ctx->err) return fail(m_ctx->errstr);
    // The hand-shake commands run through the connection as it is now, before it counts as good.
    auto handshake = [&](const std::vector<std::string>& args) -> Status {
        auto r = command(args, m_options.command_timeout_ms);
        if (!r) return r.take_error();
        return Ok{};
    };
    if (!m_options.password.empty())
        if (auto s = handshake({"AUTH", m_options.password}); !s) return fail("AUTH failed: " + s.error().message);
    if (m_options.db != 0)
        if (auto s = handshake({"SELECT", std::to_string(m_options.db)}); !s) return fail("SELECT failed: " + s.error().message);
    if (!m_ctx) return fail("the connection closed during the hand-shake");
    m_backoff_ms = 0;
    return Ok{};
}

Result<RedisValue> RedisConnection::command(const std::vector<std::string>& args) {
    return command(args, m_options.command_timeout_ms);
}

Result<RedisValue> RedisConnection::command(const std::vector<std::string>& args, int timeout_ms) {
    if (!m_ctx)
        if (auto s = connect(); !s) return s.take_error();
    if (timeout_ms != m_timeout_ms) {
        if (redisSetTimeout(m_ctx, to_timeval(timeout_ms)) != REDIS_OK) {
            drop();
            return make_error(ErrorCode::unavailable, "redis: cannot set the timeout");
        }
        m_timeout_ms = timeout_ms;
    }
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(redisCommandArgv(m_ctx, int(argv.size()), argv.data(), lengths.data()));
    if (!reply) {
        // The connection is unusable now (a timed-out reply may still arrive on it): start afresh next time.
        bool timed_out = m_ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
        std::string why = m_ctx->errstr;
        drop();
        return make_error(timed_out ? ErrorCode::timeout : ErrorCode::unavailable,
                          "redis " + args.front() + ": " + (timed_out ? "no reply in time" : why));
    }
    Result<RedisValue> out = reply->type == REDIS_REPLY_ERROR
                                 ? Result<RedisValue>(make_error(ErrorCode::internal, "redis " + args.front() + ": " +
                                                                                          std::string(reply->str, reply->len)))
                                 : Result<RedisValue>(convert(reply));
    freeReplyObject(reply);
    return out;
}

#else
// Built without hiredis (VOICEAGENT_WITH_REDIS=OFF): the configuration refuses a Redis URL, so nothing should get
// here; whatever does fails as a Redis that cannot be reached.
void RedisConnection::drop() {
    m_ctx = nullptr;
    m_timeout_ms = -1;
}

Status RedisConnection::connect() {
    (void)m_retry_at_ms;
    (void)m_backoff_ms;
    return make_error(ErrorCode::unavailable, "Redis is not built into this program (VOICEAGENT_WITH_REDIS=OFF)");
}

Result<RedisValue> RedisConnection::command(const std::vector<std::string>& args) {
    return command(args, m_options.command_timeout_ms);
}

Result<RedisValue> RedisConnection::command(const std::vector<std::string>&, int) { return connect().take_error(); }
#endif

RedisPool::RedisPool(RedisOptions options) : m_options(std::move(options)) {
    for (int i = 0; i < std::max(1, m_options.pool_size); ++i) m_idle.push_back(std::make_unique<RedisConnection>(m_options));
}

RedisPool::~RedisPool() = default;

Result<RedisValue> RedisPool::command(const std::vector<std::string>& args) {
    std::unique_ptr<RedisConnection> conn;
    {
        std::unique_lock lock(m_mutex);
        m_returned.wait(lock, [this] { return !m_idle.empty(); });
        conn = std::move(m_idle.back());
        m_idle.pop_back();
    }
    auto reply = conn->command(args);
    {
        std::lock_guard lock(m_mutex);
        m_idle.push_back(std::move(conn));
    }
    m_returned.notify_one();
    return reply;
}

std::string RedisScript::sha() const {
    std::lock_guard lock(m_mutex);
    return m_sha;
}

void RedisScript::set_sha(std::string sha) const {
    std::lock_guard lock(m_mutex);
    m_sha = std::move(sha);
}

Result<RedisValue> RedisPool::eval(const RedisScript& script, const std::vector<std::string>& keys,
                                   const std::vector<std::string>& args) {
    std::vector<std::string> call;
    call.reserve(3 + keys.size() + args.size());
    call.push_back("EVALSHA");
    call.push_back(script.sha());
    call.push_back(std::to_string(keys.size()));
    call.insert(call.end(), keys.begin(), keys.end());
    call.insert(call.end(), args.begin(), args.end());
    if (!call[1].empty()) {
        auto r = command(call);
        if (r || r.error().message.find("NOSCRIPT") == std::string::npos) return r;
    }
    auto loaded = command({"SCRIPT", "LOAD", script.source()});
    if (!loaded) return loaded.take_error();
    script.set_sha(loaded->str);
    call[1] = loaded->str;
    return command(call);
}

}  // namespace va
