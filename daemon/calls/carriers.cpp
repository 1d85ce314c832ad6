#include "daemon/calls/carriers.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/util/guard.hpp"
#include "providers/twilio/media_codec.hpp"

namespace va {

using nlohmann::json;

Carriers::Carriers(const Config& config, Store& store, CallManager& calls, std::string token_secret)
    : m_store(store), m_calls(calls), m_token_secret(std::move(token_secret)), m_exotel(config.exotel) {
    m_twilio.account_sid = config.twilio.account_sid;
    m_twilio.auth_token = config.twilio.auth_token;
    m_twilio.api_base_url = config.twilio.api_base_url;
    m_public_base = config.server.public_base_url;
    while (!m_public_base.empty() && m_public_base.back() == '/') m_public_base.pop_back();
    m_instance_base = config.server.instance_url;
    while (!m_instance_base.empty() && m_instance_base.back() == '/') m_instance_base.pop_back();
    if (!m_public_base.empty()) set_base_url(m_public_base);
    m_calls.set_transfer("twilio", [this](const Call& call, const std::string& number) { return transfer(call, number); });
    m_calls.set_transfer("exotel", [this](const Call& call, const std::string& number) { return transfer(call, number); });
    m_exotel_account.account_sid = m_exotel.account_sid;
    m_exotel_account.api_key = m_exotel.api_key;
    m_exotel_account.api_token = m_exotel.api_token;
    m_exotel_account.base_url = m_exotel.api_base_url.empty() ? "https://" + m_exotel.subdomain : m_exotel.api_base_url;
    for (std::size_t at = 0; at < m_exotel.allowed_sources.size();) {
        auto comma = m_exotel.allowed_sources.find(',', at);
        std::string item = m_exotel.allowed_sources.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) m_exotel_sources.push_back(item);
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    m_reconcile_after_ms = m_exotel.reconcile_after_s * 1000;
    if (exotel_enabled()) {
        m_calls.set_on_ended("exotel", [this](const Call& call) { exotel_stream_ended(call.id); });
        m_reconciler = std::thread([this] { run_loop_guarded("carriers: reconciler", [this] { reconcile_loop(); }); });
    }
}

Carriers::~Carriers() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_reconcile_wake.notify_all();
    if (m_reconciler.joinable()) m_reconciler.join();
}

bool Carriers::exotel_source_allowed(const std::string& address) const {
    return m_exotel_sources.empty() ||
           std::find(m_exotel_sources.begin(), m_exotel_sources.end(), address) != m_exotel_sources.end();
}

void Carriers::exotel_stream_ended(const std::string& call_id) {
    {
        std::lock_guard lock(m_mutex);
        if (m_exotel_reported.count(call_id) || m_simulated.count(call_id)) return;
        m_reconcile_due.emplace(now_ms() + m_reconcile_after_ms, call_id);
    }
    m_reconcile_wake.notify_all();
}

void Carriers::exotel_callback_received(const std::string& call_id) {
    std::lock_guard lock(m_mutex);
    m_exotel_reported.insert(call_id);
}

void Carriers::reconcile_loop() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        if (m_reconcile_due.empty()) {
            m_reconcile_wake.wait(lock);
            continue;
        }
        auto due = m_reconcile_due.begin()->first;
        if (now_ms() < due) {
            m_reconcile_wake.wait_for(lock, std::chrono::milliseconds(due - now_ms()));
            continue;
        }
        std::string call_id = m_reconcile_due.begin()->second;
        m_reconcile_due.erase(m_reconcile_due.begin());
        if (m_exotel_reported.erase(call_id)) continue;  // the callback came after all
        lock.unlock();
        auto call = m_store.find_call(call_id);
        if (call && !call->provider_call_id.empty()) {
            auto details = exotel::get_call(m_exotel_account, call->provider_call_id);
            if (!details) {
                spdlog::warn("call {}: no status callback, and Exotel's Call Details failed: {}", call_id,
                             details.error().message);
            } else if (details->status == "completed" || details->status == "failed" || details->status == "busy" ||
                       details->status == "no-answer" || details->status == "canceled") {
                spdlog::info("call {}: no status callback; Exotel's Call Details say {}", call_id, details->status);
                m_calls.carrier_ended(call_id, details->status, details->duration_s);
            }
        }
        lock.lock();
    }
}

void Carriers::set_base_url(const std::string& url) {
    m_http_base = m_public_base.empty() ? url : m_public_base;
    m_call_http_base = m_instance_base.empty() ? m_http_base : m_instance_base;
    // Media streams are WebSockets on the same host: ws:// beside http://, wss:// beside https://.
    m_ws_base = m_call_http_base.rfind("https://", 0) == 0
                    ? "wss://" + m_call_http_base.substr(8)
                    : "ws://" + m_call_http_base.substr(m_call_http_base.find("://") + 3);
}

std::string Carriers::call_token(const std::string& call_id) const {
    return hex_encode(hmac_sha256(m_token_secret, "carrier-call:" + call_id)).substr(0, 32);
}

bool Carriers::check_call_token(const std::string& call_id, std::string_view token) const {
    return constant_time_equal(call_token(call_id), token);
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
    if (dial.from.provider == "twilio" && !twilio_enabled())
        return make_error(ErrorCode::unprocessable, "Twilio is not configured in this daemon ([twilio] account_sid)");
    if (dial.from.provider == "exotel" && !exotel_enabled())
        return make_error(ErrorCode::unprocessable, "Exotel is not configured in this daemon ([exotel] account_sid)");
    if (dial.from.provider != "twilio" && dial.from.provider != "exotel")
        return make_error(ErrorCode::unprocessable, "outbound calls through " + dial.from.provider + " are not available");
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
    return dial.from.provider == "exotel" ? dial_exotel(std::move(call).value()) : dial_twilio(std::move(call).value());
}

Result<Call> Carriers::dial_exotel(Call call) {
    exotel::ConnectRequest out;
    out.from = call.to_number;  // Exotel dials From first: the person we call
    out.caller_id = call.from_number;
    if (m_exotel.mode == "flow") out.flow_url = m_exotel.flow_url;
    else out.stream_url = exotel_stream_url(call.id);
    out.status_callback = exotel_status_url(call.id);
    out.custom_field = call.id;
    return dialed(std::move(call), exotel::connect_call(m_exotel_account, out));
}

Result<Call> Carriers::dial_twilio(Call call) {
    twilio::OutboundCall out;
    out.to = call.to_number;
    out.from = call.from_number;
    out.twiml = twilio::connect_stream_twiml(twilio_stream_url(call.id), {{"call_id", call.id}});
    out.status_callback = twilio_status_url(call.id);
    return dialed(std::move(call), twilio::create_call(m_twilio, out));
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
    if (call.channel == "twilio" && twilio_enabled() && !call.provider_call_id.empty())
        return twilio::hangup_call(m_twilio, call.provider_call_id);
    return Ok{};
}

Status Carriers::transfer(const Call& call, const std::string& number) {
    if (call.channel == "twilio") {
        if (call.provider_call_id.empty()) {
            auto stored = m_store.find_call(call.id);
            if (stored && !stored->provider_call_id.empty())
                return twilio::redirect_call(m_twilio, stored->provider_call_id, twilio::dial_twiml(number));
            return make_error(ErrorCode::conflict, "the call has no Twilio call SID to transfer");
        }
        return twilio::redirect_call(m_twilio, call.provider_call_id, twilio::dial_twiml(number));
    }
    // Exotel has no transfer request: closing the stream hands the call back to the flow, whose next applet (a
    // Connect to the front desk) takes over. The number is the flow's, so it is only logged here.
    if (call.channel == "exotel") spdlog::info("call {}: handing the call back to the Exotel flow ({})", call.id, number);
    return Ok{};
}

}  // namespace va
