#include "daemon/webhooks/webhooks.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/util/encoding.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "core/util/guard.hpp"
#include "providers/common/http_client.hpp"

namespace va {

using nlohmann::json;

std::string webhook_signature(const std::string& secret, std::int64_t unix_s, std::string_view body) {
    std::string t = std::to_string(unix_s);
    std::string signed_text = t + "." + std::string(body);
    return "t=" + t + ",v1=" + hex_encode(hmac_sha256(secret, signed_text));
}

const std::vector<std::string>& Webhooks::event_types() {
    static const std::vector<std::string> types{"call:started", "call:ended", "call:analysis", "campaign:finished"};
    return types;
}

Webhooks::Webhooks(Store& store, EventBus& bus, JobQueue& jobs, WebhookSettings settings)
    : m_store(store), m_bus(bus), m_jobs(jobs), m_settings(std::move(settings)) {
    m_thread = std::thread([this] { run_loop_guarded("webhooks: fan-out", [this] { fan_out_loop(); }); });
    const auto& types = event_types();
    m_subscription = m_bus.subscribe(EventBus::kAllWorkspaces, "", [this, &types](const CallEvent& event) {
        if (std::find(types.begin(), types.end(), event.type) != types.end()) publish(event);
    }, EventBus::Scope::local);  // another daemon's events are delivered by that daemon
}

Webhooks::~Webhooks() {
    m_bus.unsubscribe(m_subscription);
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

void Webhooks::publish(const CallEvent& event) {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_pending.push_back(event);
    }
    m_cv.notify_one();
}

void Webhooks::fan_out_loop() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_cv.wait(lock, [this] { return m_stopping || !m_pending.empty(); });
        // Events already accepted are still written down at shutdown: their deliveries are durable jobs.
        if (m_pending.empty()) return;
        CallEvent event = std::move(m_pending.front());
        m_pending.pop_front();
        lock.unlock();
        fan_out(event);
        lock.lock();
    }
}

void Webhooks::fan_out(const CallEvent& event) {
    std::string body = event.to_json_text();
    PageRequest page{200, ""};
    while (true) {
        auto endpoints = m_store.list_webhook_endpoints(event.workspace_id, page);
        if (!endpoints) {
            spdlog::error("webhooks: cannot read the endpoints of {}: {}", event.workspace_id, endpoints.error().message);
            return;
        }
        for (const auto& endpoint : endpoints->items) {
            if (!endpoint.enabled) continue;
            json events = parse_json(endpoint.events);
            if (!events.is_array() || std::find(events.begin(), events.end(), json(event.type)) == events.end()) continue;
            WebhookDelivery delivery;
            delivery.id = new_id("dlv");
            delivery.endpoint_id = endpoint.id;
            delivery.event_type = event.type;
            delivery.payload = body;
            delivery.created_at = delivery.next_attempt_at = now_ms();
            if (auto s = m_store.create_webhook_delivery(delivery); !s) {
                spdlog::error("webhooks: cannot record a delivery to {}: {}", endpoint.id, s.error().message);
                continue;
            }
            EnqueueOptions options;
            options.max_attempts = m_settings.max_attempts;
            options.idempotency_key = "webhook:" + delivery.id;
            if (auto j = m_jobs.enqueue(kJobType, json{{"delivery_id", delivery.id}}.dump(), options); !j)
                spdlog::error("webhooks: cannot queue delivery {}: {}", delivery.id, j.error().message);
        }
        if (endpoints->next_cursor.empty()) return;
        page.cursor = endpoints->next_cursor;
    }
}

Status Webhooks::check_url(const std::string& url) const {
    auto checked = check_http_url(url, m_settings.allowed);
    if (!checked) return checked.take_error();
    return Ok{};
}

Status Webhooks::deliver(JobContext& ctx) {
    json payload = parse_json(ctx.job.payload);
    if (!payload.is_object() || !payload.contains("delivery_id") || !payload["delivery_id"].is_string())
        return make_error(ErrorCode::invalid_request, "a webhook job needs a delivery_id");
    auto delivery = m_store.get_webhook_delivery(payload["delivery_id"]);
    if (!delivery) return delivery.error().code == ErrorCode::not_found ? Status(Ok{}) : Status(delivery.take_error());
    if (delivery->state != "pending") return Ok{};  // already through (a job run twice)
    auto endpoint = m_store.find_webhook_endpoint(delivery->endpoint_id);
    if (!endpoint) {
        if (endpoint.error().code != ErrorCode::not_found) return endpoint.take_error();
        return Ok{};  // the endpoint was deleted (its deliveries with it)
    }
    auto now = now_ms();
    delivery->attempts = ctx.job.attempts;
    auto record = [&](Status outcome) -> Status {
        bool last = !outcome && ctx.job.attempts >= ctx.job.max_attempts;
        if (outcome) {
            delivery->state = "delivered";
            delivery->delivered_at = now_ms();
        } else if (last) {
            delivery->state = "failed";
        }
        if (!outcome) delivery->last_error = outcome.error().message;
        else delivery->last_error.clear();
        if (auto s = m_store.update_webhook_delivery(*delivery); !s)
            spdlog::error("webhooks: cannot update delivery {}: {}", delivery->id, s.error().message);
        return outcome;
    };
    auto target = check_http_url(endpoint->url, m_settings.allowed);
    if (!target) {
        // The address may change back (DNS); a refusal is retried like any failure, and logged.
        return record(make_error(ErrorCode::unavailable, "refused: " + target.error().message));
    }
    HttpRequest request;
    request.method = "POST";
    request.url = endpoint->url;
    request.body = delivery->payload;
    request.timeout_ms = m_settings.timeout_ms;
    request.resolve = target->resolve;
    request.guarded = true;
    request.max_body_bytes = 64 * 1024;
    request.headers = {{"Content-Type", "application/json"},
                       {"User-Agent", "voiceagent-webhooks"},
                       {"X-Voiceagent-Event", delivery->event_type},
                       {"X-Voiceagent-Delivery", delivery->id},
                       {"X-Voiceagent-Signature", webhook_signature(endpoint->secret, now / 1000, delivery->payload)}};
    auto answer = http_request(request);
    if (!answer) {
        delivery->last_status = 0;
        return record(make_error(ErrorCode::unavailable, answer.error().message));
    }
    delivery->last_status = answer->status;
    if (answer->status >= 200 && answer->status < 300) return record(Ok{});
    // Any other answer is retried: the receiver may be down or deploying.
    return record(make_error(ErrorCode::unavailable, "the endpoint answered HTTP " + std::to_string(answer->status)));
}

}  // namespace va
