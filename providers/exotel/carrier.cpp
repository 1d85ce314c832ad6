#include "providers/exotel/carrier.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/util/encoding.hpp"
#include "core/util/guard.hpp"
#include "core/util/time.hpp"
#include "providers/common/http_client.hpp"
#include "providers/exotel/media_codec.hpp"
#include "providers/exotel/rest_client.hpp"

namespace va::exotel {

namespace {

const std::string kName = "exotel";

using nlohmann::json;

std::string query_or_form(const CarrierRequest& request, const FormFields& form, const char* name) {
    if (auto it = request.query.find(name); it != request.query.end()) return it->second;
    for (const auto& [k, v] : form)
        if (k == name) return v;
    return {};
}

class ExotelCarrier final : public Carrier {
public:
    ExotelCarrier(Config config, CarrierHost& host)
        : m_host(host), m_config(std::move(config)), m_sources(split_sources(m_config.allowed_sources)) {
        m_account.account_sid = m_config.account_sid;
        m_account.api_key = m_config.api_key;
        m_account.api_token = m_config.api_token;
        m_account.base_url = m_config.api_base_url.empty() ? "https://" + m_config.subdomain : m_config.api_base_url;
        m_reconcile_after_ms = m_config.reconcile_after_s * 1000;
        if (enabled())
            m_reconciler = std::thread([this] { run_loop_guarded("carriers: reconciler", [this] { reconcile_loop(); }); });
    }

    ~ExotelCarrier() override {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_all();
        if (m_reconciler.joinable()) m_reconciler.join();
    }

    std::string name() const override { return kName; }
    bool enabled() const override { return !m_account.account_sid.empty(); }
    std::string not_configured() const override { return "Exotel is not configured in this daemon ([exotel] account_sid)"; }

    Result<std::string> dial(const Call& call) override {
        ConnectRequest out;
        out.from = call.to_number;  // Exotel dials From first: the person we call
        out.caller_id = call.from_number;
        if (m_config.mode == "flow") out.flow_url = m_config.flow_url;
        else out.stream_url = stream_url(call.id);
        out.status_callback = m_host.call_http_base() + carrier_webhook_prefix(kName) + "status/" + call.id +
                              "?token=" + m_host.call_token(call.id);
        out.custom_field = call.id;
        return connect_call(m_account, out);
    }

    // Nothing to cancel here: Exotel ends a ringing call of ours when its flow has nobody to reach.
    Status hangup(const Call&) override { return Ok{}; }

    // Exotel has no transfer request: closing the stream hands the call back to the flow, whose next applet (a
    // Connect to the front desk) takes over. The number is the flow's, so it is only logged here.
    Status transfer(const Call& call, const std::string& number) override {
        spdlog::info("call {}: handing the call back to the Exotel flow ({})", call.id, number);
        return Ok{};
    }

    // The stream ended: if no terminal status callback has come `reconcile_after_s` later, the Call Details API
    // says how it ended (callbacks are not guaranteed).
    void call_ended(const Call& call) override {
        if (!enabled() || m_host.is_simulated(call.id)) return;
        {
            std::lock_guard lock(m_mutex);
            if (m_reported.count(call.id)) return;
            m_reconcile_due.emplace(now_ms() + m_reconcile_after_ms, call.id);
        }
        m_wake.notify_all();
    }

    void status_received(const std::string& call_id) override {
        std::lock_guard lock(m_mutex);
        m_reported.insert(call_id);
    }

    // The applet URL to configure in Exotel's Voicebot applet for an inbound number (its token is per number).
    std::string inbound_webhook_url(const std::string& number) const override {
        return m_host.http_base() + carrier_webhook_prefix(kName) + "incoming?token=" + m_host.call_token("incoming:" + number);
    }

    SimulatedStream simulated_stream(const std::string& call_id) const override {
        SimulatedStream s;
        s.url = stream_url(call_id);
        s.sample_rate = m_config.sample_rate;
        return s;
    }

    std::vector<WebhookRoute> webhook_routes() override {
        return {
            {{"GET", "POST"}, "incoming", false,
             "Exotel Voicebot applet endpoint (?token= per number): {\"url\": stream URL} for a new call",
             [this](WebhookHost& host, const CarrierRequest& r) { return incoming(host, r); }},
            {{"POST"}, "status/{call_id}", true, "Exotel status callback (JSON, urlencoded or multipart; ?token= per call)",
             [this](WebhookHost& host, const CarrierRequest& r) { return status(host, r); }},
        };
    }

    std::vector<MediaRoute> media_routes() override {
        return {{"{call_id}", "Exotel AgentStream WebSocket of a call (?token= per call, or HTTP Basic)",
                 [this](const CarrierRequest& r) { return media(r); }}};
    }

private:
    // The stream URL carries the rate asked for and the per-call token (Exotel signs nothing).
    std::string stream_url(const std::string& call_id) const {
        return m_host.ws_base() + carrier_media_prefix(kName) + call_id + "?sample-rate=" +
               std::to_string(m_config.sample_rate) + "&token=" + m_host.call_token(call_id);
    }

    bool source_allowed(const std::string& address) const {
        return m_sources.empty() || std::find(m_sources.begin(), m_sources.end(), address) != m_sources.end();
    }

    // A request is Exotel's when it carries the token we gave it (and, when configured, comes from an allowed
    // address).
    Status authentic(const CarrierRequest& request, const std::string& subject) const {
        if (!source_allowed(request.remote_address))
            return make_error(ErrorCode::forbidden, "this address is not in exotel.allowed_sources");
        auto token = request.query.find("token");
        if (token == request.query.end() || !m_host.check_call_token(subject, token->second))
            return make_error(ErrorCode::forbidden, "missing or wrong token");
        return Ok{};
    }

    // The Voicebot applet's https endpoint: Exotel asks where to stream a new inbound call, and gets {"url": ...}.
    Result<CarrierResponse> incoming(WebhookHost& host, const CarrierRequest& request) {
        if (!enabled()) return not_found("Exotel is not configured in this daemon");
        auto form = request.method == "POST" ? parse_form(request.body) : FormFields{};
        std::string to = query_or_form(request, form, "To"), from = query_or_form(request, form, "From");
        std::string sid = query_or_form(request, form, "CallSid");
        if (to.empty()) return invalid_field("To", "missing: the number that was called");
        if (auto s = authentic(request, "incoming:" + to); !s) return s.take_error();
        // Flow mode: the outbound call we dialed reaches its Voicebot applet, which names it in CustomField. The
        // token only proves the request is for the number `To`, so the named call must have been dialed from that
        // very number (hence its workspace): otherwise one workspace's applet token would open another workspace's
        // call media.
        std::string custom = query_or_form(request, form, "CustomField");
        if (!custom.empty()) {
            auto ours = m_host.find_call(custom);
            auto phone = m_host.find_phone_by_number(to);
            if (ours && phone && ours->channel == kName && ours->direction == "outbound" && ours->ended_at == 0 &&
                ours->workspace_id == phone->workspace_id && ours->phone_id == phone->id)
                return carrier_json(200, json{{"url", stream_url(ours->id)}});
        }
        if (auto s = host.accepting_calls(); !s) return s.take_error();
        auto call = host.inbound_call(kName, from, to, sid);
        if (!call) return call.take_error();
        return carrier_json(200, json{{"url", stream_url(call->id)}});
    }

    Result<CarrierResponse> status(WebhookHost& host, const CarrierRequest& request) {
        std::string call_id = request.param("call_id");
        if (auto s = authentic(request, call_id); !s) return s.take_error();
        auto call = m_host.find_call(call_id);
        if (!call || call->channel != kName) return not_found("call");
        auto fields = parse_status_callback(request.header("content-type"), request.body);
        if (!fields) return fields.take_error();
        auto text = [&](const char* key) {
            if (!fields->contains(key)) return std::string();
            const json& v = (*fields)[key];
            return v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : std::string();
        };
        std::string sid = text("CallSid");
        if (!call->provider_call_id.empty() && !sid.empty() && sid != call->provider_call_id)
            return invalid_field("CallSid", "does not belong to this call");
        if (auto s = host.carrier_status(*call, text("Status"), text("ConversationDuration")); !s) return s.take_error();
        return carrier_json(200, json{{"status", "received"}});
    }

    // The media socket: the per-call token in the URL, or HTTP Basic with our Exotel API key and token (how an
    // applet URL written as wss://KEY:TOKEN@host/... arrives).
    MediaAccept media(const CarrierRequest& request) const {
        std::string call_id = request.param("call_id");
        if (!source_allowed(request.remote_address)) return MediaAccept::refuse("address not allowed");
        bool ok = false;
        if (auto token = request.query.find("token"); token != request.query.end())
            ok = m_host.check_call_token(call_id, token->second);
        if (!ok && enabled() && !m_account.api_key.empty())
            ok = constant_time_equal(request.header("authorization"),
                                     "Basic " + base64_encode(m_account.api_key + ":" + m_account.api_token));
        if (!ok) return MediaAccept::refuse("missing or wrong token");
        int rate = m_config.sample_rate;
        for (const char* key : {"sample-rate", "sample_rate"})
            if (auto it = request.query.find(key); it != request.query.end()) rate = std::atoi(it->second.c_str());
        if (rate != 8000 && rate != 16000 && rate != 24000)
            return MediaAccept::refuse("sample-rate must be 8000, 16000 or 24000");
        return MediaAccept{make_media_codec(rate), {}};
    }

    void reconcile_loop() {
        std::unique_lock lock(m_mutex);
        while (!m_stopping) {
            if (m_reconcile_due.empty()) {
                m_wake.wait(lock);
                continue;
            }
            auto due = m_reconcile_due.begin()->first;
            if (now_ms() < due) {
                m_wake.wait_for(lock, std::chrono::milliseconds(due - now_ms()));
                continue;
            }
            std::string call_id = m_reconcile_due.begin()->second;
            m_reconcile_due.erase(m_reconcile_due.begin());
            if (m_reported.erase(call_id)) continue;  // the callback came after all
            lock.unlock();
            auto call = m_host.find_call(call_id);
            if (call && !call->provider_call_id.empty()) {
                auto details = get_call(m_account, call->provider_call_id);
                if (!details) {
                    spdlog::warn("call {}: no status callback, and Exotel's Call Details failed: {}", call_id,
                                 details.error().message);
                } else if (details->status == "completed" || details->status == "failed" || details->status == "busy" ||
                           details->status == "no-answer" || details->status == "canceled") {
                    spdlog::info("call {}: no status callback; Exotel's Call Details say {}", call_id, details->status);
                    m_host.carrier_ended(call_id, details->status, details->duration_s);
                }
            }
            lock.lock();
        }
    }

    CarrierHost& m_host;
    const Config m_config;
    const std::vector<std::string> m_sources;
    Account m_account;
    int m_reconcile_after_ms = 30000;
    std::mutex m_mutex;
    std::set<std::string> m_reported;                         // calls whose terminal callback came
    std::multimap<std::int64_t, std::string> m_reconcile_due;  // when -> call id
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_reconciler;
};

}  // namespace

std::vector<std::string> split_sources(const std::string& text) {
    std::vector<std::string> out;
    for (std::size_t at = 0; at < text.size();) {
        auto comma = text.find(',', at);
        std::string item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    return out;
}

Config parse_config(const nlohmann::json& section) {
    Config c;
    if (!section.is_object()) return c;
    c.account_sid = section.value("account_sid", c.account_sid);
    c.api_key = section.value("api_key", c.api_key);
    c.api_token = section.value("api_token", c.api_token);
    c.subdomain = section.value("subdomain", c.subdomain);
    c.api_base_url = section.value("api_base_url", c.api_base_url);
    c.mode = section.value("mode", c.mode);
    c.flow_url = section.value("flow_url", c.flow_url);
    c.sample_rate = section.value("sample_rate", c.sample_rate);
    c.reconcile_after_s = section.value("reconcile_after_s", c.reconcile_after_s);
    c.allowed_sources = section.value("allowed_sources", c.allowed_sources);
    return c;
}

void validate_config(const nlohmann::json& section, std::vector<FieldError>& p) {
    Config c = parse_config(section);
    if (!c.api_base_url.empty() && c.api_base_url.rfind("http://", 0) != 0 && c.api_base_url.rfind("https://", 0) != 0)
        p.push_back({"exotel.api_base_url", "must be an http:// or https:// URL"});
    if (!c.account_sid.empty() && (c.api_key.empty() || c.api_token.empty()))
        p.push_back({"exotel.api_key", "exotel.api_key and exotel.api_token must be set when exotel.account_sid is"});
    if (c.mode != "connect" && c.mode != "flow") p.push_back({"exotel.mode", "must be connect or flow"});
    if (c.mode == "flow" && !c.account_sid.empty() && c.flow_url.empty())
        p.push_back({"exotel.flow_url", "must be set in flow mode"});
    if (c.sample_rate != 8000 && c.sample_rate != 16000 && c.sample_rate != 24000)
        p.push_back({"exotel.sample_rate", "must be 8000, 16000 or 24000"});
    if (c.reconcile_after_s < 1 || c.reconcile_after_s > 86'400)
        p.push_back({"exotel.reconcile_after_s", "must be between 1 and 86400"});
}

Status register_carrier(CarrierRegistry& registry) {
    const Config d;
    return registry.add(CarrierInfo{
        kName,
        {kName,
         {{"account_sid", ConfigKind::string, d.account_sid},
          {"api_key", ConfigKind::string, d.api_key},
          {"api_token", ConfigKind::string, d.api_token},
          {"subdomain", ConfigKind::string, d.subdomain},
          {"api_base_url", ConfigKind::string, d.api_base_url},
          {"mode", ConfigKind::string, d.mode},
          {"flow_url", ConfigKind::string, d.flow_url},
          {"sample_rate", ConfigKind::integer, d.sample_rate},
          {"reconcile_after_s", ConfigKind::integer, d.reconcile_after_s},
          {"allowed_sources", ConfigKind::string, d.allowed_sources}},
         [](nlohmann::json& values, std::vector<FieldError>& problems) { validate_config(values, problems); }},
        [](const nlohmann::json& section, CarrierHost& host) -> std::unique_ptr<Carrier> {
            return std::make_unique<ExotelCarrier>(parse_config(section), host);
        },
    });
}

}  // namespace va::exotel
