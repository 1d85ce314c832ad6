// In-process fan-out of call events (call:started, call:transcript, call:status, call:ended, call:error) to the
// event WebSocket subscribers of a workspace, optionally filtered to one call. Events of one call are published
// from that call's strand, so each subscriber receives them in order.
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

    std::uint64_t subscribe(std::string workspace_id, std::string call_id, Sink sink);
    void unsubscribe(std::uint64_t id);
    void publish(const CallEvent& event);
    std::size_t subscribers() const;

private:
    struct Subscription {
        std::string workspace_id;
        std::string call_id;  // empty: every call of the workspace
        std::shared_ptr<Sink> sink;
    };
    mutable std::mutex m_mutex;
    std::uint64_t m_next = 1;
    std::unordered_map<std::uint64_t, Subscription> m_subscriptions;
};

}  // namespace va
