// Test doubles of what the daemon offers carriers (core/providers/carrier.hpp): a CarrierHost with fixed URLs,
// calls and numbers held in maps and a token that is "tok:<subject>", and a WebhookHost that records what the
// carrier asked of it. Thread-safety: none; one test at a time.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/providers/carrier.hpp"

namespace va::test {

class FakeCarrierHost final : public CarrierHost {
public:
    std::string http_base() const override { return "https://va.example.com"; }
    std::string call_http_base() const override { return call_base; }
    std::string ws_base() const override { return "wss://a.va.example.com"; }
    std::string call_token(const std::string& subject) const override { return "tok:" + subject; }
    bool check_call_token(const std::string& subject, std::string_view token) const override {
        return token == call_token(subject);
    }
    bool is_simulated(const std::string& call_id) const override { return simulated.count(call_id) > 0; }
    std::string simulation_key(const std::string& call_id) const override { return "sim:" + call_id; }
    Result<Call> find_call(const std::string& call_id) override {
        if (auto it = calls.find(call_id); it != calls.end()) return it->second;
        return not_found("call");
    }
    Result<PhoneNumber> find_phone_by_number(const std::string& number) override {
        if (auto it = phones.find(number); it != phones.end()) return it->second;
        return not_found("number");
    }
    void carrier_ended(const std::string& call_id, const std::string& status, double) override {
        ended.push_back(call_id + ":" + status);
    }

    std::string call_base = "https://a.va.example.com";
    std::map<std::string, Call> calls;
    std::map<std::string, PhoneNumber> phones;
    std::map<std::string, bool> simulated;
    std::vector<std::string> ended;
};

class FakeWebhookHost final : public WebhookHost {
public:
    Status accepting_calls() override {
        if (draining) return make_error(ErrorCode::unavailable, "draining");
        return Ok{};
    }
    Result<Call> inbound_call(const std::string& carrier, const std::string& from, const std::string& to,
                              const std::string& carrier_sid) override {
        inbound.push_back(carrier + ":" + from + ">" + to + ":" + carrier_sid);
        if (to != "+15550001111") return not_found("the number " + to);
        Call call;
        call.id = "call_in";
        call.channel = carrier;
        return call;
    }
    Status carrier_status(Call& call, const std::string& status, const std::string& duration) override {
        statuses.push_back(call.id + ":" + status + ":" + duration);
        return Ok{};
    }
    std::string log_field(std::string_view text, std::size_t) const override { return std::string(text); }

    bool draining = false;
    std::vector<std::string> inbound;
    std::vector<std::string> statuses;
};

// A route of `carrier` by its path, or null.
inline const WebhookRoute* find_route(const std::vector<WebhookRoute>& routes, const std::string& path) {
    for (const auto& r : routes)
        if (r.path == path) return &r;
    return nullptr;
}

}  // namespace va::test
