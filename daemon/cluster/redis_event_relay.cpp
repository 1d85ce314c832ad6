#include "daemon/cluster/redis_event_relay.hpp"
#include "core/util/json.hpp"
#include "core/util/guard.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace va {

using nlohmann::json;

namespace {

// The wait after a failed Redis command before the next (the connection adds its own reconnect backoff).
constexpr int kRetryMs = 100;

}  // namespace

RedisEventRelay::RedisEventRelay(RedisOptions redis, EventBus& bus, std::string instance_id,
                                 EventRelaySettings settings)
    : m_redis(std::move(redis)), m_bus(bus), m_instance(std::move(instance_id)), m_settings(std::move(settings)) {}

RedisEventRelay::~RedisEventRelay() { stop(); }

void RedisEventRelay::start() {
    m_bus.set_relay([this](const CallEvent& event) { enqueue(event); });
    m_writer = std::thread([this] { run_loop_guarded("event relay: writer", [this] { write_loop(); }); });
    m_reader = std::thread([this] { run_loop_guarded("event relay: reader", [this] { read_loop(); }); });
}

void RedisEventRelay::stop() {
    m_bus.set_relay(nullptr);
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_writer.joinable()) m_writer.join();
    if (m_reader.joinable()) m_reader.join();
}

void RedisEventRelay::enqueue(const CallEvent& event) {
    std::string encoded = json{{"o", m_instance},
                               {"type", event.type},
                               {"call_id", event.call_id},
                               {"workspace_id", event.workspace_id},
                               {"at_ms", event.at_ms},
                               {"data", event.data}}
                              .dump();
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        if (m_queue.size() >= m_settings.max_queue) {
            m_queue.pop_front();
            if (m_dropped++ % 1000 == 0)
                spdlog::warn("events: Redis is not keeping up; {} events dropped so far", m_dropped.load());
        }
        m_queue.push_back(std::move(encoded));
    }
    m_cv.notify_all();
}

bool RedisEventRelay::pause(int ms) {
    std::unique_lock lock(m_mutex);
    return !m_cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return m_stopping; });
}

void RedisEventRelay::write_loop() {
    RedisConnection redis(m_redis);
    std::string max_len = std::to_string(m_settings.max_stream_len);
    bool failing = false;
    std::chrono::steady_clock::time_point stop_deadline{};
    while (true) {
        std::string next;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_stopping) {
                // Whatever is queued gets a second to reach Redis, no more: a daemon that is down must still stop.
                if (stop_deadline == std::chrono::steady_clock::time_point{})
                    stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
                if (m_queue.empty() || std::chrono::steady_clock::now() > stop_deadline) return;
            }
            next = m_queue.front();
        }
        auto added = redis.command({"XADD", m_settings.stream, "MAXLEN", "~", max_len, "*", "e", next});
        if (!added) {
            if (!failing) spdlog::warn("events: cannot append to Redis ({}); retrying", added.error().message);
            failing = true;
            pause(kRetryMs);  // a stop still gets its second to flush (checked at the top of the loop)
            continue;
        }
        if (failing) spdlog::info("events: Redis is reachable again");
        failing = false;
        ++m_sent;
        std::lock_guard lock(m_mutex);
        if (!m_queue.empty()) m_queue.pop_front();
    }
}

void RedisEventRelay::read_loop() {
    RedisConnection redis(m_redis);
    std::string last_id;  // empty until the stream's end at start is known; then the last entry seen
    std::string block = std::to_string(m_settings.block_ms);
    bool failing = false;
    // Logs the first failure of a run of them, then waits a moment; false when stopping.
    auto retry = [&](const Error& e) {
        if (!failing) spdlog::warn("events: cannot read from Redis ({}); retrying", e.message);
        failing = true;
        return pause(kRetryMs);
    };
    while (true) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping) return;
        }
        if (last_id.empty()) {
            // Events from now on: the stream's last entry now (none: from its beginning).
            auto tail = redis.command({"XREVRANGE", m_settings.stream, "+", "-", "COUNT", "1"});
            if (!tail) {
                if (!retry(tail.error())) return;
                continue;
            }
            last_id = tail->elements.empty() || tail->elements[0].elements.empty() ? "0-0"
                                                                                   : tail->elements[0].elements[0].str;
        }
        auto reply = redis.command({"XREAD", "COUNT", "256", "BLOCK", block, "STREAMS", m_settings.stream, last_id},
                                   m_settings.block_ms + m_redis.command_timeout_ms);
        if (!reply) {
            if (!retry(reply.error())) return;
            continue;
        }
        if (failing) spdlog::info("events: reading from Redis again");
        failing = false;
        if (reply->is_nil()) continue;  // nothing new within block_ms
        // [[stream, [[id, [field, value, ...]], ...]]]
        for (const auto& stream : reply->elements) {
            if (stream.elements.size() < 2) continue;
            for (const auto& entry : stream.elements[1].elements) {
                if (entry.elements.size() < 2) continue;
                last_id = entry.elements[0].str;
                const auto& fields = entry.elements[1].elements;
                for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
                    if (fields[i].str != "e") continue;
                    json e = parse_json(fields[i + 1].str);
                    if (!e.is_object() || json_string_or(e, "o") == m_instance) continue;
                    CallEvent event;
                    event.type = json_string_or(e, "type");
                    event.call_id = json_string_or(e, "call_id");
                    event.workspace_id = json_string_or(e, "workspace_id");
                    event.at_ms = json_int(e, "at_ms").value_or(0);
                    if (e.contains("data")) event.data = e["data"];
                    if (event.type.empty() || event.workspace_id.empty()) continue;
                    ++m_received;
                    m_bus.deliver_remote(event);
                }
            }
        }
    }
}

}  // namespace va
