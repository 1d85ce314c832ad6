// The daemon's side of telephony: the registered carriers (core/providers/carrier.hpp), created from their config
// sections, and what they share: the URLs carriers are given (webhooks, media streams), per-call tokens,
// simulated calls, and dialing, hanging up and transferring through the carrier of a number or a call. Webhook and
// media endpoints (daemon/api/telephony_routes.cpp) mount each carrier's routes. No carrier is named here.
// Thread-safety: settings are immutable after set_base_url (called once, before the server accepts requests); the
// set of simulated calls is locked; dial, hangup and transfer block on carrier REST calls and belong on the
// worker pool.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/providers/carrier.hpp"
#include "core/store/store.hpp"
#include "daemon/calls/call_manager.hpp"

namespace va {

class Carriers final : public CarrierHost {
public:
    // One carrier per registration of `registry`, each given its section of `config`.
    Carriers(const Config& config, Store& store, CallManager& calls, std::string token_secret,
             const CarrierRegistry& registry = carrier_registry());
    ~Carriers() override;

    // The daemon's own address, used when server.public_base_url is empty (tests on port 0).
    void set_base_url(const std::string& url);
    // Where numbers' webhooks point: the URL every daemon shares (server.public_base_url).
    std::string http_base() const override { return m_http_base; }
    // Where a call's media stream and status callbacks point: this daemon alone (server.instance_url), so the
    // carrier reaches the daemon that runs the call; the shared URL when no instance_url is set.
    std::string call_http_base() const override { return m_call_http_base; }
    std::string ws_base() const override { return m_ws_base; }

    // The carrier of a number's provider or a call's channel; null for local and chat calls (or unknown names).
    Carrier* find(std::string_view name) const;
    const std::vector<std::unique_ptr<Carrier>>& all() const { return m_carriers; }
    std::vector<std::string> names() const;  // in registration order

    // Carriers that sign nothing get URLs carrying this token (an HMAC of the call id, or "incoming:<number>").
    std::string call_token(const std::string& subject) const override;
    bool check_call_token(const std::string& subject, std::string_view token) const override;

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
    // A terminal status of `call` was applied here (its carrier stops waiting for one).
    void status_received(const Call& call);

    // Simulated carrier calls (vactl calls simulate): the real media path with the caller played by a fake, for
    // daemons with no carrier account. The stream is authenticated by a per-call key instead of the account's
    // token; only an authenticated API client learns it.
    void mark_simulated(const std::string& call_id);
    bool is_simulated(const std::string& call_id) const override;
    std::string simulation_key(const std::string& call_id) const override { return call_token("simulated:" + call_id); }

    Result<Call> find_call(const std::string& call_id) override { return m_store.find_call(call_id); }
    Result<PhoneNumber> find_phone_by_number(const std::string& number) override {
        return m_store.find_phone_by_number(number);
    }
    void carrier_ended(const std::string& call_id, const std::string& status, double duration_s) override {
        m_calls.carrier_ended(call_id, status, duration_s);
    }

private:
    Result<Call> dialed(Call call, Result<std::string> carrier_sid);

    Store& m_store;
    CallManager& m_calls;
    std::string m_token_secret;
    std::string m_public_base;
    std::string m_instance_base;
    std::string m_http_base, m_call_http_base, m_ws_base;
    mutable std::mutex m_mutex;
    std::set<std::string> m_simulated;
    // Last, so destroyed first: carriers' threads call back into the members above.
    std::vector<std::unique_ptr<Carrier>> m_carriers;
};

}  // namespace va
