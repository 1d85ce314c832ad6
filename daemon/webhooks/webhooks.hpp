// Outbound webhooks: events of a workspace (call:started, call:ended, and later call:analysis and
// campaign:finished) are delivered to the endpoints its users registered for them. Each delivery is a row of the
// delivery log and a job of the durable queue, so it survives restarts and is retried with backoff until the
// endpoint answers 2xx (or the attempts run out). Requests are signed with
// `X-Voiceagent-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` and go only to addresses that pass the same
// checks as HTTP tools, pinned after resolution.
// Thread-safety: the constructor subscribes to the event bus; events are handed to a thread of this object's own
// (publishers never touch the store); deliver() runs on the job queue's workers. All public methods are safe from
// any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/jobs/job_queue.hpp"
#include "core/store/store.hpp"
#include "daemon/calls/event_bus.hpp"
#include "providers/common/net_guard.hpp"

namespace va {

struct WebhookSettings {
    NetworkAllowlist allowed;
    int max_attempts = 10;
    int timeout_ms = 10000;
};

// "t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>" keyed by secret>".
std::string webhook_signature(const std::string& secret, std::int64_t unix_s, std::string_view body);

class Webhooks {
public:
    static constexpr const char* kJobType = "webhook.deliver";
    // The event types an endpoint may subscribe to.
    static const std::vector<std::string>& event_types();

    Webhooks(Store& store, EventBus& bus, JobQueue& jobs, WebhookSettings settings);
    ~Webhooks();
    Webhooks(const Webhooks&) = delete;
    Webhooks& operator=(const Webhooks&) = delete;

    // Ok when `url` may be registered: http(s), and its host resolves to allowed addresses.
    Status check_url(const std::string& url) const;
    // The job handler: one attempt at one delivery.
    Status deliver(JobContext& ctx);
    // Queues `event` for the workspace's endpoints that asked for its type (used for events not on the bus).
    void publish(const CallEvent& event);

private:
    void fan_out_loop();
    void fan_out(const CallEvent& event);

    Store& m_store;
    EventBus& m_bus;
    JobQueue& m_jobs;
    WebhookSettings m_settings;
    std::uint64_t m_subscription = 0;

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<CallEvent> m_pending;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace va
