// The daemon's side of telephony: dialing out through a carrier, hanging up and transferring live carrier calls,
// the URLs carriers are given (webhooks, media streams) with their per-call tokens, and the carrier settings.
// Webhook and media endpoints (daemon/api/telephony_routes.cpp) use it to authenticate and route requests.
// Thread-safety: settings are immutable after set_base_url (called once, before the server accepts requests); the
// set of simulated calls is locked; dial, hangup and transfer block on carrier REST calls and belong on the
// worker pool.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/store/store.hpp"
#include "daemon/calls/call_manager.hpp"
#include "providers/exotel/rest_client.hpp"
#include "providers/twilio/rest_client.hpp"

namespace va {

class Carriers {
public:
    Carriers(const Config& config, Store& store, CallManager& calls, std::string token_secret);

    // The daemon's own address, used when server.public_base_url is empty (tests on port 0).
    void set_base_url(const std::string& url);
    // Where numbers' webhooks point: the URL every daemon shares (server.public_base_url).
    std::string http_base() const { return m_http_base; }
    // Where a call's media stream and status callbacks point: this daemon alone (server.instance_url), so the
    // carrier reaches the daemon that runs the call; the shared URL when no instance_url is set.
    std::string call_http_base() const { return m_call_http_base; }
    std::string ws_base() const { return m_ws_base; }

    bool twilio_enabled() const { return !m_twilio.account_sid.empty(); }
    const twilio::Account& twilio() const { return m_twilio; }
    const ExotelConfig& exotel() const { return m_exotel; }
    bool exotel_enabled() const { return !m_exotel.account_sid.empty(); }
    const exotel::Account& exotel_account() const { return m_exotel_account; }
    // Exotel's requests may be limited to configured source addresses (exotel.allowed_sources).
    bool exotel_source_allowed(const std::string& address) const;
    // The applet URL to configure in Exotel's Voicebot applet for an inbound number (its token is per number).
    std::string exotel_incoming_url(const std::string& number) const {
        return m_http_base + "/api/v1/webhooks/exotel/incoming?token=" + call_token("incoming:" + number);
    }

    // An Exotel call's stream ended: if no terminal status callback has come `reconcile_after_ms` later, the
    // Call Details API says how it ended (callbacks are not guaranteed).
    void exotel_stream_ended(const std::string& call_id);
    void exotel_callback_received(const std::string& call_id);
    void set_reconcile_after_ms(int ms) { m_reconcile_after_ms = ms; }
    ~Carriers();

    // Exotel signs nothing: every URL we hand it carries this token (an HMAC of the call id).
    std::string call_token(const std::string& call_id) const;
    bool check_call_token(const std::string& call_id, std::string_view token) const;

    struct Dial {
        std::string call_id;  // the new call's id (chosen by the caller for idempotency); empty = a new one
        std::string to;
        PhoneNumber from;  // the workspace's number the call comes from; its provider picks the carrier
        nlohmann::json variables = nlohmann::json::object();
        std::vector<std::string> caller_lines;  // simulated recognition (tests, vactl calls simulate)
        std::string campaign_id = {};           // the campaign placing the call, if any
    };
    // Creates the call and asks the carrier to place it. A refused dial leaves the call failed, with the reason.
    Result<Call> dial(const Agent& agent, const Dial& dial);
    // The carrier side of a hang-up, for a call that has no live stream here (still ringing).
    Status hangup(const Call& call);
    Status transfer(const Call& call, const std::string& number);

    // Simulated carrier calls (vactl calls simulate): the real media path with the caller played by a fake, for
    // daemons with no carrier account. The stream is authenticated by a per-call key instead of the account's
    // token; only an authenticated API client learns it.
    void mark_simulated(const std::string& call_id);
    bool is_simulated(const std::string& call_id) const;
    std::string simulation_key(const std::string& call_id) const { return call_token("simulated:" + call_id); }

    std::string twilio_stream_url(const std::string& call_id) const { return m_ws_base + "/media/twilio/" + call_id; }
    // Exotel's stream URL carries the rate asked for and the per-call token (Exotel signs nothing).
    std::string exotel_stream_url(const std::string& call_id) const {
        return m_ws_base + "/media/exotel/" + call_id + "?sample-rate=" + std::to_string(m_exotel.sample_rate) +
               "&token=" + call_token(call_id);
    }
    std::string exotel_status_url(const std::string& call_id) const {
        return m_call_http_base + "/api/v1/webhooks/exotel/status/" + call_id + "?token=" + call_token(call_id);
    }
    std::string twilio_status_url(const std::string& call_id) const {
        return m_call_http_base + "/api/v1/webhooks/twilio/status/" + call_id;
    }

private:
    Result<Call> dial_twilio(Call call);
    Result<Call> dial_exotel(Call call);
    Result<Call> dialed(Call call, Result<std::string> carrier_sid);
    void reconcile_loop();

    Store& m_store;
    CallManager& m_calls;
    std::string m_token_secret;
    std::string m_public_base;
    std::string m_instance_base;
    std::string m_http_base, m_call_http_base, m_ws_base;
    twilio::Account m_twilio;
    ExotelConfig m_exotel;
    exotel::Account m_exotel_account;
    std::vector<std::string> m_exotel_sources;
    mutable std::mutex m_mutex;
    std::set<std::string> m_simulated;
    std::set<std::string> m_exotel_reported;                       // calls whose terminal callback came
    std::multimap<std::int64_t, std::string> m_reconcile_due;       // when -> call id
    int m_reconcile_after_ms = 30000;
    std::condition_variable m_reconcile_wake;
    bool m_stopping = false;
    std::thread m_reconciler;
};

}  // namespace va
