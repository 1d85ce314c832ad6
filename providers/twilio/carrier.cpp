#include "providers/twilio/carrier.hpp"

#include <spdlog/spdlog.h>

#include "providers/common/http_client.hpp"
#include "providers/twilio/media_codec.hpp"
#include "providers/twilio/rest_client.hpp"
#include "providers/twilio/signature.hpp"

namespace va::twilio {

namespace {

const std::string kName = "twilio";

std::string param(const Params& params, const char* name) {
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return {};
}

class TwilioCarrier final : public Carrier {
public:
    TwilioCarrier(const Config& config, CarrierHost& host) : m_host(host) {
        m_account.account_sid = config.account_sid;
        m_account.auth_token = config.auth_token;
        m_account.api_base_url = config.api_base_url;
    }

    std::string name() const override { return kName; }
    bool enabled() const override { return !m_account.account_sid.empty(); }
    std::string not_configured() const override { return "Twilio is not configured in this daemon ([twilio] account_sid)"; }

    Result<std::string> dial(const Call& call) override {
        OutboundCall out;
        out.to = call.to_number;
        out.from = call.from_number;
        out.twiml = connect_stream_twiml(stream_url(call.id), {{"call_id", call.id}});
        out.status_callback = m_host.call_http_base() + carrier_webhook_prefix(kName) + "status/" + call.id;
        return create_call(m_account, out);
    }

    Status hangup(const Call& call) override {
        if (enabled() && !call.provider_call_id.empty()) return hangup_call(m_account, call.provider_call_id);
        return Ok{};
    }

    Status transfer(const Call& call, const std::string& number) override {
        if (call.provider_call_id.empty()) {
            auto stored = m_host.find_call(call.id);
            if (stored && !stored->provider_call_id.empty())
                return redirect_call(m_account, stored->provider_call_id, dial_twiml(number));
            return make_error(ErrorCode::conflict, "the call has no Twilio call SID to transfer");
        }
        return redirect_call(m_account, call.provider_call_id, dial_twiml(number));
    }

    std::string inbound_webhook_url(const std::string&) const override {
        return m_host.http_base() + carrier_webhook_prefix(kName) + "voice";
    }

    SimulatedStream simulated_stream(const std::string& call_id) const override {
        SimulatedStream s;
        s.url = stream_url(call_id);
        s.sample_rate = 8000;
        s.headers = {{"X-Twilio-Signature", signature(m_host.simulation_key(call_id), s.url, {})}};
        return s;
    }

    bool narrowband_only() const override { return true; }

    std::vector<WebhookRoute> webhook_routes() override {
        return {
            {{"POST"}, "voice", false, "Twilio voice webhook (X-Twilio-Signature): TwiML connecting the number's agent",
             [this](WebhookHost& host, const CarrierRequest& r) { return voice(host, r); }},
            // Offloaded: may wait for the call's daemon.
            {{"POST"}, "status/{call_id}", true, "Twilio status callback (X-Twilio-Signature)",
             [this](WebhookHost& host, const CarrierRequest& r) { return status(host, r); }},
        };
    }

    std::vector<MediaRoute> media_routes() override {
        return {{"{call_id}", "Twilio Media Streams WebSocket of a call (X-Twilio-Signature)",
                 [this](const CarrierRequest& r) { return media(r); }}};
    }

private:
    std::string stream_url(const std::string& call_id) const {
        return m_host.ws_base() + carrier_media_prefix(kName) + call_id;
    }

    bool signed_for(const CarrierRequest& request, const Params& params, const std::string& url) const {
        return verify_signature(m_account.auth_token, url, params, request.body, request.header("x-twilio-signature"));
    }

    Result<Params> authentic_webhook(const CarrierRequest& request) const {
        if (!enabled()) return not_found("Twilio is not configured in this daemon");
        auto params = parse_form(request.body);
        // Twilio signs the URL it requested: a number's webhook (the shared URL) or a call's callback (this daemon's).
        if (!signed_for(request, params, m_host.http_base() + request.target) &&
            (m_host.call_http_base() == m_host.http_base() ||
             !signed_for(request, params, m_host.call_http_base() + request.target)))
            return make_error(ErrorCode::forbidden, "X-Twilio-Signature does not match this request");
        return params;
    }

    // An inbound call: the number's agent answers through a media stream.
    Result<CarrierResponse> voice(WebhookHost& host, const CarrierRequest& request) {
        auto params = authentic_webhook(request);
        if (!params) return params.take_error();
        // A 503 rather than <Reject/>: Twilio then tries the number's fallback URL (another daemon).
        if (auto s = host.accepting_calls(); !s) return s.take_error();
        std::string to = param(*params, "To"), from = param(*params, "From"), sid = param(*params, "CallSid");
        auto reject = [&](const std::string& why) {
            // The carrier's form fields are request data: escaped so they cannot forge log lines.
            spdlog::warn("Twilio call {} to {} rejected: {}", host.log_field(sid, 64), host.log_field(to, 64),
                         host.log_field(why));
            return carrier_xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Reject/></Response>");
        };
        auto call = host.inbound_call(kName, from, to, sid);
        if (!call) return reject(call.error().message);
        return carrier_xml(connect_stream_twiml(stream_url(call->id), {{"call_id", call->id}}));
    }

    Result<CarrierResponse> status(WebhookHost& host, const CarrierRequest& request) {
        auto params = authentic_webhook(request);
        if (!params) return params.take_error();
        auto call = m_host.find_call(request.param("call_id"));
        if (!call || call->channel != kName) return not_found("call");
        std::string sid = param(*params, "CallSid");
        if (!call->provider_call_id.empty() && !sid.empty() && sid != call->provider_call_id)
            return invalid_field("CallSid", "does not belong to this call");
        if (auto s = host.carrier_status(*call, param(*params, "CallStatus"), param(*params, "CallDuration")); !s)
            return s.take_error();
        return carrier_empty(204);
    }

    MediaAccept media(const CarrierRequest& request) const {
        std::string call_id = request.param("call_id");
        std::string url = m_host.ws_base() + request.target;
        bool ok = m_host.is_simulated(call_id)
                      ? verify_signature(m_host.simulation_key(call_id), url, {}, "", request.header("x-twilio-signature"))
                      : enabled() && signed_for(request, {}, url);
        if (!ok) return MediaAccept::refuse("bad X-Twilio-Signature");
        return MediaAccept{make_media_codec(), {}};
    }

    CarrierHost& m_host;
    Account m_account;
};

}  // namespace

Config parse_config(const nlohmann::json& section) {
    Config c;
    if (!section.is_object()) return c;
    c.account_sid = section.value("account_sid", c.account_sid);
    c.auth_token = section.value("auth_token", c.auth_token);
    c.api_base_url = section.value("api_base_url", c.api_base_url);
    return c;
}

void validate_config(const nlohmann::json& section, std::vector<FieldError>& problems) {
    Config c = parse_config(section);
    if (!c.api_base_url.empty() && c.api_base_url.rfind("http://", 0) != 0 && c.api_base_url.rfind("https://", 0) != 0)
        problems.push_back({"twilio.api_base_url", "must be an http:// or https:// URL"});
    if (!c.account_sid.empty() && c.auth_token.empty())
        problems.push_back({"twilio.auth_token", "must be set when twilio.account_sid is"});
}

Status register_carrier(CarrierRegistry& registry) {
    const Config defaults;
    return registry.add(CarrierInfo{
        kName,
        {kName,
         {{"account_sid", ConfigKind::string, defaults.account_sid},
          {"auth_token", ConfigKind::string, defaults.auth_token},
          {"api_base_url", ConfigKind::string, defaults.api_base_url}},
         [](nlohmann::json& values, std::vector<FieldError>& problems) { validate_config(values, problems); }},
        [](const nlohmann::json& section, CarrierHost& host) -> std::unique_ptr<Carrier> {
            return std::make_unique<TwilioCarrier>(parse_config(section), host);
        },
    });
}

}  // namespace va::twilio
