// Fan-out of call events (call:started, call:transcript, call:status, call:ended, call:error, ...) to the event
// WebSocket subscribers of a workspace, optionally filtered to one call, and to the daemon's own consumers. Events
// of one call are published from that call's strand, so each subscriber receives them in order. With several
// daemons, a relay (Redis) carries this daemon's events to the others and theirs here: subscribers of Scope::all
// see every daemon's events, those of Scope::local (work done once, where the event happened: webhook deliveries,
// post-call analysis) only this daemon's.
// Thread-safety: all methods are safe from any thread; sinks are called under no lock and must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace va {

struct CallEvent {
    std::string type;          // "call:transcript", ...
    std::string call_id;
    std::string workspace_id;
    std::int64_t at_ms = 0;
    nlohmann::json data = nlohmann::json::object();

    // {"type", "call_id", "at" (RFC 3339), "data"}: the shape of API.md.
    std::string to_json_text() const;
};

class EventBus {
public:
    using Sink = std::function<void(const CallEvent&)>;
    // Subscribes to every workspace (the daemon's own consumers, such as webhooks; never a user's subscription).
    static constexpr const char* kAllWorkspaces = "*";

    enum class Scope { all, local };

    std::uint64_t subscribe(std::string workspace_id, std::string call_id, Sink sink, Scope scope = Scope::all);
    void unsubscribe(std::uint64_t id);
    // An event of this daemon: to every subscriber here, and to the relay.
    void publish(const CallEvent& event);
    // An event another daemon published (from the relay): to the Scope::all subscribers here.
    void deliver_remote(const CallEvent& event);
    // Called with each event this daemon publishes, in publish order; must not block. Null unhooks it.
    void set_relay(Sink relay);
    std::size_t subscribers() const;

private:
    struct Subscription {
        std::string workspace_id;
        std::string call_id;  // empty: every call of the workspace
        Scope scope = Scope::all;
        std::shared_ptr<Sink> sink;
    };
    void deliver(const CallEvent& event, bool remote);
    std::shared_ptr<Sink> m_relay;
    mutable std::mutex m_mutex;
    std::uint64_t m_next = 1;
    std::unordered_map<std::uint64_t, Subscription> m_subscriptions;
};

}  // namespace va
