#include "daemon/calls/carriers.hpp"

#include <spdlog/spdlog.h>

#include "core/util/encoding.hpp"

namespace va {

Carriers::Carriers(const Config& config, Store& store, CallManager& calls, std::string token_secret,
                   const CarrierRegistry& registry)
    : m_store(store), m_calls(calls), m_token_secret(std::move(token_secret)) {
    m_public_base = config.server.public_base_url;
    while (!m_public_base.empty() && m_public_base.back() == '/') m_public_base.pop_back();
    m_instance_base = config.server.instance_url;
    while (!m_instance_base.empty() && m_instance_base.back() == '/') m_instance_base.pop_back();
    if (!m_public_base.empty()) set_base_url(m_public_base);
    for (const auto& info : registry.all()) {
        // A configuration loaded before this carrier was registered (tests) has no section: its defaults then.
        const auto& section = config.section(info.name);
        m_carriers.push_back(info.create(section.empty() ? info.section.defaults() : section, *this));
        Carrier* carrier = m_carriers.back().get();
        m_calls.set_transfer(info.name, [this](const Call& call, const std::string& number) { return transfer(call, number); });
        m_calls.set_on_ended(info.name, [carrier](const Call& call) { carrier->call_ended(call); });
    }
}

Carriers::~Carriers() {
    m_carriers.clear();  // joins their threads while the store and the call manager are still here
}

Carrier* Carriers::find(std::string_view name) const {
    for (const auto& c : m_carriers)
        if (c->name() == name) return c.get();
    return nullptr;
}

std::vector<std::string> Carriers::names() const {
    std::vector<std::string> out;
    for (const auto& c : m_carriers) out.push_back(c->name());
    return out;
}

void Carriers::set_base_url(const std::string& url) {
    m_http_base = m_public_base.empty() ? url : m_public_base;
    m_call_http_base = m_instance_base.empty() ? m_http_base : m_instance_base;
    // Media streams are WebSockets on the same host: ws:// beside http://, wss:// beside https://.
    m_ws_base = m_call_http_base.rfind("https://", 0) == 0
                    ? "wss://" + m_call_http_base.substr(8)
                    : "ws://" + m_call_http_base.substr(m_call_http_base.find("://") + 3);
}

std::string Carriers::call_token(const std::string& subject) const {
    return hex_encode(hmac_sha256(m_token_secret, "carrier-call:" + subject)).substr(0, 32);
}

bool Carriers::check_call_token(const std::string& subject, std::string_view token) const {
    return constant_time_equal(call_token(subject), token);
}

void Carriers::mark_simulated(const std::string& call_id) {
    std::lock_guard lock(m_mutex);
    m_simulated.insert(call_id);
}

bool Carriers::is_simulated(const std::string& call_id) const {
    std::lock_guard lock(m_mutex);
    return m_simulated.count(call_id) > 0;
}

Result<Call> Carriers::dial(const Agent& agent, const Dial& dial) {
    Carrier* carrier = find(dial.from.provider);
    if (!carrier)
        return make_error(ErrorCode::unprocessable, "outbound calls through " + dial.from.provider + " are not available");
    if (!carrier->enabled()) return make_error(ErrorCode::unprocessable, carrier->not_configured());
    CallManager::CallSpec spec;
    spec.id = dial.call_id;
    spec.channel = dial.from.provider;
    spec.direction = "outbound";
    spec.from = dial.from.number;
    spec.to = dial.to;
    spec.phone_id = dial.from.id;
    spec.variables = dial.variables;
    spec.caller_lines = dial.caller_lines;
    spec.campaign_id = dial.campaign_id;
    auto call = m_calls.create_call(agent, std::move(spec));
    if (!call) return call.take_error();
    auto sid = carrier->dial(*call);
    return dialed(std::move(call).value(), std::move(sid));
}

// The carrier's answer to a dial: its call id is stored, or the call is failed and the refusal explained.
Result<Call> Carriers::dialed(Call call, Result<std::string> sid) {
    if (!sid) {
        spdlog::warn("call {}: the carrier refused the dial: {}", call.id, sid.error().message);
        m_calls.carrier_ended(call.id, "failed", 0);
        Error e = sid.error();
        if (e.code != ErrorCode::rate_limited) e.code = ErrorCode::unavailable;
        e.message = "the carrier refused the call: " + e.message;
        return e;
    }
    // The stream, or even the end of the call, may already have been recorded (a fast carrier): add only the
    // carrier's id, and answer with what is stored.
    if (auto s = m_store.set_provider_call_id(call.id, *sid); !s) return s.take_error();
    auto stored = m_store.find_call(call.id);
    if (!stored) return stored.take_error();
    return std::move(stored).value();
}

Status Carriers::hangup(const Call& call) {
    if (Carrier* carrier = find(call.channel)) return carrier->hangup(call);
    return Ok{};
}

Status Carriers::transfer(const Call& call, const std::string& number) {
    if (Carrier* carrier = find(call.channel)) return carrier->transfer(call, number);
    return Ok{};
}

void Carriers::status_received(const Call& call) {
    if (Carrier* carrier = find(call.channel)) carrier->status_received(call.id);
}

}  // namespace va
