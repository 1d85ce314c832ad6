#include "daemon/calls/carriers.hpp"

#include <spdlog/spdlog.h>

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
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
    if (!m_public_base.empty()) set_base_url(m_public_base);
    m_calls.set_transfer("twilio", [this](const Call& call, const std::string& number) { return transfer(call, number); });
}

void Carriers::set_base_url(const std::string& url) {
    m_http_base = m_public_base.empty() ? url : m_public_base;
    // Media streams are WebSockets on the same host: ws:// beside http://, wss:// beside https://.
    m_ws_base = m_http_base.rfind("https://", 0) == 0 ? "wss://" + m_http_base.substr(8)
                                                      : "ws://" + m_http_base.substr(m_http_base.find("://") + 3);
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
    if (dial.from.provider != "twilio")
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
    auto call = m_calls.create_call(agent, std::move(spec));
    if (!call) return call.take_error();
    return dial_twilio(std::move(call).value());
}

Result<Call> Carriers::dial_twilio(Call call) {
    twilio::OutboundCall out;
    out.to = call.to_number;
    out.from = call.from_number;
    out.twiml = twilio::connect_stream_twiml(twilio_stream_url(call.id), {{"call_id", call.id}});
    out.status_callback = twilio_status_url(call.id);
    auto sid = twilio::create_call(m_twilio, out);
    if (!sid) {
        spdlog::warn("call {}: Twilio refused the dial: {}", call.id, sid.error().message);
        m_calls.carrier_ended(call.id, "failed", 0);
        Error e = sid.error();
        if (e.code != ErrorCode::rate_limited) e.code = ErrorCode::unavailable;
        e.message = "the carrier refused the call: " + e.message;
        return e;
    }
    // The stream may already have started (a fast fake): keep what the session wrote, add the carrier's id.
    auto stored = m_store.find_call(call.id);
    if (stored) call = std::move(stored).value();
    call.provider_call_id = *sid;
    if (auto s = m_store.update_call(call); !s) return s.take_error();
    return call;
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
    return Ok{};
}

}  // namespace va
