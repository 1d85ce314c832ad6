// Requests for a live call that arrive at a daemon other than the one running it (a REST hang-up or transfer, a
// carrier's status callback) are forwarded through Redis to the owner, which runs them as if they had come to it
// and sends back its answer. Each daemon takes the commands addressed to it from a Redis list of its own
// (va:cmd:<instance>) with BLPOP on a dedicated connection, runs them one at a time, and pushes each answer onto
// the request's own reply list, which the sender waits on for a bounded time.
//
// Why a list and not pub/sub: a PUBLISH reaches only the subscribers connected at that instant, so a command sent
// while the owner's connection is being re-established would vanish without a trace. A list keeps it until the
// owner pops it (or its TTL, a few seconds, lapses: a command nobody takes in time is dropped with the list instead
// of running on a daemon that comes back much later). What can still go wrong is visible, never silent: the sender
// waits at most `reply_timeout_ms` and answers 504 (no answer in time) or 503 (the owner is not listening, or Redis
// is unreachable), saying that the outcome is unknown. Commands past their deadline are skipped by the owner: the
// sender has already told its client that the request failed.
//
// Each listener renews a presence key (va:cmd:<instance>:alive, a few seconds' TTL) every time its BLPOP returns,
// so a sender can tell at once, and again while it waits, that the owner has stopped listening (a killed daemon)
// instead of waiting out the whole timeout.
//
// Commands carry the workspace of the client that sent them, so the owner checks workspace isolation itself.
// Thread-safety: start() and stop() from one thread; send() is safe from any thread and blocks for up to
// reply_timeout_ms (call it from the worker pool, not an I/O thread). The executor runs on the listener thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/redis/redis_client.hpp"
#include "core/util/result.hpp"

namespace va {

struct CallCommand {
    std::string op;            // hangup | transfer | carrier_ended
    std::string call_id;
    std::string workspace_id;  // the sender's client's workspace: the owner refuses calls of any other
    nlohmann::json args = nlohmann::json::object();  // transfer {to}; carrier_ended {status, duration_s}
};

struct CallCommandSettings {
    std::string prefix = "va:cmd:";  // <prefix><instance> is a daemon's command list
    int reply_timeout_ms = 5000;     // how long send() waits for the owner's answer
    int block_ms = 1000;             // one BLPOP's wait (bounds stop() and the presence refresh)
    int presence_ttl_ms = 3000;      // the listener counts as gone this long after its last BLPOP returned
    int reply_ttl_ms = 30'000;       // an answer nobody collects (the sender gave up) expires
    // The wall clock of the deadlines a sender writes and a listener compares (milliseconds since the epoch);
    // empty: now_ms(). Tests set it to move one daemon's clock instead of waiting.
    std::function<std::int64_t()> clock_ms;
};

class CallCommands {
public:
    // Runs one command here; its value (a JSON object) or error is the answer the sender's client gets.
    using Executor = std::function<Result<nlohmann::json>(const CallCommand&)>;

    CallCommands(std::shared_ptr<RedisPool> redis, std::string instance, CallCommandSettings settings = {});
    ~CallCommands();
    CallCommands(const CallCommands&) = delete;
    CallCommands& operator=(const CallCommands&) = delete;

    // Starts taking this daemon's commands and running them with `executor`.
    void start(Executor executor);
    // Stops listening (within block_ms); commands still queued expire with their list.
    void stop();

    // Sends `command` to daemon `owner` and waits for its answer: the owner's value or error; ErrorCode::unavailable
    // (503) when the owner is not listening or Redis cannot be reached; ErrorCode::timeout (504) when no answer
    // came within reply_timeout_ms.
    Result<nlohmann::json> send(const std::string& owner, const CallCommand& command);

    const std::string& instance() const { return m_instance; }
    std::uint64_t executed() const { return m_executed; }
    std::uint64_t expired() const { return m_expired; }

private:
    void listen_loop();
    void handle(const std::string& payload);
    std::string queue_key(const std::string& instance) const { return m_settings.prefix + instance; }
    std::int64_t wall_ms() const;
    std::string presence_key(const std::string& instance) const { return m_settings.prefix + instance + ":alive"; }
    bool owner_listening(const std::string& owner, Error& why);
    // Connections for waiting on replies (BLPOP holds a connection for seconds): kept apart from the pool, whose
    // connections serve quick commands.
    std::unique_ptr<RedisConnection> borrow_waiter();
    void give_back_waiter(std::unique_ptr<RedisConnection> connection);

    std::shared_ptr<RedisPool> m_redis;
    std::string m_instance;
    CallCommandSettings m_settings;
    Executor m_executor;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
    std::thread m_listener;
    std::vector<std::unique_ptr<RedisConnection>> m_waiters;  // idle, guarded by m_mutex
    std::atomic<std::uint64_t> m_executed{0};
    std::atomic<std::uint64_t> m_expired{0};
};

// The wire form of an error in an answer, and back (unknown codes read as internal).
nlohmann::json error_to_json(const Error& error);
Error error_from_json(const nlohmann::json& error);

}  // namespace va
