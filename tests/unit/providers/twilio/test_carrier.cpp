#include <catch2/catch.hpp>

#include "providers/common/http_client.hpp"
#include "providers/twilio/carrier.hpp"
#include "providers/twilio/signature.hpp"
#include "unit/providers/fake_carrier_host.hpp"

using namespace va;

namespace {

std::unique_ptr<Carrier> make(test::FakeCarrierHost& host, nlohmann::json values) {
    CarrierRegistry registry;
    REQUIRE(twilio::register_carrier(registry));
    return registry.find("twilio")->create(values, host);
}

nlohmann::json configured() { return {{"account_sid", std::string("AC1")}, {"auth_token", std::string("secret")}}; }

CarrierRequest signed_post(const std::string& base, const std::string& target, const std::string& body,
                           const std::string& token = "secret") {
    CarrierRequest r;
    r.method = "POST";
    r.target = target;
    r.body = body;
    r.headers = {{"content-type", "application/x-www-form-urlencoded"},
                 {"x-twilio-signature", twilio::signature(token, base + target, parse_form(body))}};
    return r;
}

}  // namespace

TEST_CASE("twilio carrier: its section keeps the [twilio] keys and defaults, and is validated") {
    auto c = twilio::parse_config({});
    CHECK(c.account_sid.empty());
    CHECK(c.api_base_url == "https://api.twilio.com");
    c = twilio::parse_config({{"account_sid", std::string("AC1")}, {"api_base_url", std::string("http://127.0.0.1:9")}});
    CHECK(c.account_sid == "AC1");
    CHECK(c.api_base_url == "http://127.0.0.1:9");

    std::vector<FieldError> problems;
    twilio::validate_config({}, problems);
    CHECK(problems.empty());
    twilio::validate_config({{"account_sid", std::string("AC1")}, {"api_base_url", std::string("ftp://x")}}, problems);
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].field == "twilio.api_base_url");
    CHECK(problems[1].field == "twilio.auth_token");
    CHECK(problems[1].reason == "must be set when twilio.account_sid is");

    CarrierRegistry registry;
    REQUIRE(twilio::register_carrier(registry));
    std::vector<std::string> keys;
    for (const auto& k : registry.find("twilio")->section.keys) keys.push_back(k.name);
    CHECK(keys == std::vector<std::string>{"account_sid", "auth_token", "api_base_url"});
}

TEST_CASE("twilio carrier: routes, URLs and the simulated stream") {
    test::FakeCarrierHost host;
    auto carrier = make(host, configured());
    CHECK(carrier->name() == "twilio");
    CHECK(carrier->enabled());
    CHECK(carrier->narrowband_only());
    CHECK(carrier->inbound_webhook_url("+15550001111") == "https://va.example.com/api/v1/webhooks/twilio/voice");
    auto routes = carrier->webhook_routes();
    REQUIRE(test::find_route(routes, "voice"));
    CHECK(test::find_route(routes, "voice")->methods == std::vector<std::string>{"POST"});
    REQUIRE(test::find_route(routes, "status/{call_id}"));
    CHECK(test::find_route(routes, "status/{call_id}")->offload);
    REQUIRE(carrier->media_routes().size() == 1);
    CHECK(carrier->media_routes()[0].path == "{call_id}");

    auto sim = carrier->simulated_stream("c1");
    CHECK(sim.url == "wss://a.va.example.com/media/twilio/c1");
    CHECK(sim.sample_rate == 8000);
    CHECK(sim.headers["X-Twilio-Signature"] == twilio::signature("sim:c1", sim.url, {}));

    auto unconfigured = make(host, {});
    CHECK_FALSE(unconfigured->enabled());
    CHECK(unconfigured->not_configured() == "Twilio is not configured in this daemon ([twilio] account_sid)");
}

TEST_CASE("twilio carrier: the voice webhook answers signed requests with a stream, and refuses the rest") {
    test::FakeCarrierHost host;
    test::FakeWebhookHost hooks;
    auto carrier = make(host, configured());
    auto voice = test::find_route(carrier->webhook_routes(), "voice")->handle;
    const std::string target = "/api/v1/webhooks/twilio/voice";
    const std::string body = "To=%2B15550001111&From=%2B15559990000&CallSid=CA9";

    auto answer = voice(hooks, signed_post("https://va.example.com", target, body));
    REQUIRE(answer);
    CHECK(answer->content_type == "text/xml");
    CHECK(answer->body.find("wss://a.va.example.com/media/twilio/call_in") != std::string::npos);
    CHECK(hooks.inbound == std::vector<std::string>{"twilio:+15559990000>+15550001111:CA9"});

    auto forged = voice(hooks, signed_post("https://va.example.com", target, body, "wrong"));
    REQUIRE_FALSE(forged);
    CHECK(forged.error().code == ErrorCode::forbidden);
    CHECK(forged.error().message == "X-Twilio-Signature does not match this request");

    // An unknown number gets TwiML that rejects the call, not an error.
    auto unknown = voice(hooks, signed_post("https://va.example.com", target, "To=%2B19990000000&CallSid=CA8"));
    REQUIRE(unknown);
    CHECK(unknown->body.find("<Reject/>") != std::string::npos);

    hooks.draining = true;
    auto draining = voice(hooks, signed_post("https://va.example.com", target, body));
    REQUIRE_FALSE(draining);
    CHECK(draining.error().code == ErrorCode::unavailable);

    test::FakeCarrierHost bare;
    auto unconfigured = make(bare, {});
    auto off = test::find_route(unconfigured->webhook_routes(), "voice")->handle(hooks, signed_post("https://va.example.com", target, body));
    REQUIRE_FALSE(off);
    CHECK(off.error().code == ErrorCode::not_found);
}

TEST_CASE("twilio carrier: status callbacks are signed for this daemon's URL and belong to the call") {
    test::FakeCarrierHost host;
    test::FakeWebhookHost hooks;
    Call call;
    call.id = "c1";
    call.channel = "twilio";
    call.provider_call_id = "CA1";
    host.calls["c1"] = call;
    auto carrier = make(host, configured());
    auto status = test::find_route(carrier->webhook_routes(), "status/{call_id}")->handle;
    auto request = [&](const std::string& body) {
        auto r = signed_post(host.call_base, "/api/v1/webhooks/twilio/status/c1", body);
        r.params = {{"call_id", "c1"}};
        return r;
    };
    auto ok = status(hooks, request("CallSid=CA1&CallStatus=completed&CallDuration=12"));
    REQUIRE(ok);
    CHECK(ok->status == 204);
    CHECK(hooks.statuses == std::vector<std::string>{"c1:completed:12"});

    auto other = status(hooks, request("CallSid=CA2&CallStatus=completed"));
    REQUIRE_FALSE(other);
    CHECK(other.error().code == ErrorCode::invalid_request);

    host.calls["c1"].channel = "exotel";
    auto wrong_channel = status(hooks, request("CallSid=CA1&CallStatus=completed"));
    REQUIRE_FALSE(wrong_channel);
    CHECK(wrong_channel.error().code == ErrorCode::not_found);
}

TEST_CASE("twilio carrier: the media socket needs a signature, the simulation key for simulated calls") {
    test::FakeCarrierHost host;
    auto carrier = make(host, configured());
    auto open = carrier->media_routes()[0].open;
    CarrierRequest r;
    r.target = "/media/twilio/c1";
    r.params = {{"call_id", "c1"}};
    const std::string url = "wss://a.va.example.com/media/twilio/c1";

    auto unsigned_socket = open(r);
    CHECK(unsigned_socket.codec == nullptr);
    CHECK(unsigned_socket.refused == "bad X-Twilio-Signature");

    r.headers = {{"x-twilio-signature", twilio::signature("secret", url, {})}};
    auto accepted = open(r);
    REQUIRE(accepted.codec);
    CHECK(accepted.codec->channel() == "twilio");

    host.simulated["c1"] = true;
    CHECK(open(r).codec == nullptr);  // the account's signature does not open a simulated call
    r.headers = {{"x-twilio-signature", twilio::signature("sim:c1", url, {})}};
    CHECK(open(r).codec != nullptr);
}
