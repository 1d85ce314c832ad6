#include "daemon/calls/event_bus.hpp"

#include <vector>

#include "core/util/time.hpp"

namespace va {

std::string CallEvent::to_json_text() const {
    return nlohmann::json{{"type", type}, {"call_id", call_id}, {"at", format_rfc3339(at_ms)}, {"data", data}}.dump();
}

std::uint64_t EventBus::subscribe(std::string workspace_id, std::string call_id, Sink sink, Scope scope) {
    std::lock_guard lock(m_mutex);
    auto id = m_next++;
    m_subscriptions.emplace(id, Subscription{std::move(workspace_id), std::move(call_id), scope,
                                             std::make_shared<Sink>(std::move(sink))});
    return id;
}

void EventBus::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(m_mutex);
    m_subscriptions.erase(id);
}

void EventBus::set_relay(Sink relay) {
    std::lock_guard lock(m_mutex);
    m_relay = relay ? std::make_shared<Sink>(std::move(relay)) : nullptr;
}

void EventBus::publish(const CallEvent& event) {
    deliver(event, false);
    std::shared_ptr<Sink> relay;
    {
        std::lock_guard lock(m_mutex);
        relay = m_relay;
    }
    if (relay) (*relay)(event);
}

void EventBus::deliver_remote(const CallEvent& event) { deliver(event, true); }

void EventBus::deliver(const CallEvent& event, bool remote) {
    std::vector<std::shared_ptr<Sink>> targets;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, s] : m_subscriptions)
            if ((s.workspace_id == event.workspace_id || s.workspace_id == kAllWorkspaces) &&
                (s.call_id.empty() || s.call_id == event.call_id) && !(remote && s.scope == Scope::local))
                targets.push_back(s.sink);
    }
    for (const auto& sink : targets) (*sink)(event);
}

std::size_t EventBus::subscribers() const {
    std::lock_guard lock(m_mutex);
    return m_subscriptions.size();
}

}  // namespace va
