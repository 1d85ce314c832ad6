#include <catch2/catch.hpp>

#include "core/util/encoding.hpp"
#include "providers/exotel/carrier.hpp"
#include "unit/providers/fake_carrier_host.hpp"

using namespace va;

namespace {

std::unique_ptr<Carrier> make(test::FakeCarrierHost& host, nlohmann::json values) {
    CarrierRegistry registry;
    REQUIRE(exotel::register_carrier(registry));
    return registry.find("exotel")->create(values, host);
}

nlohmann::json configured() {
    return {{"account_sid", std::string("acct")}, {"api_key", std::string("key")}, {"api_token", std::string("tok")},
            {"api_base_url", std::string("http://127.0.0.1:1")}, {"sample_rate", std::int64_t(8000)}};
}

}  // namespace

TEST_CASE("exotel carrier: its section keeps the [exotel] keys and defaults, and is validated") {
    auto c = exotel::parse_config({});
    CHECK(c.subdomain == "api.exotel.com");
    CHECK(c.mode == "connect");
    CHECK(c.sample_rate == 16000);
    CHECK(c.reconcile_after_s == 30);
    c = exotel::parse_config(configured());
    CHECK(c.sample_rate == 8000);
    CHECK(c.api_key == "key");

    std::vector<FieldError> problems;
    exotel::validate_config({}, problems);
    CHECK(problems.empty());
    exotel::validate_config({{"account_sid", std::string("a")},
                             {"mode", std::string("flow")},
                             {"api_base_url", std::string("ws://x")},
                             {"sample_rate", std::int64_t(44100)},
                             {"reconcile_after_s", std::int64_t(0)}},
                            problems);
    std::vector<std::string> fields;
    for (const auto& p : problems) fields.push_back(p.field);
    CHECK(fields == std::vector<std::string>{"exotel.api_base_url", "exotel.api_key", "exotel.flow_url",
                                             "exotel.sample_rate", "exotel.reconcile_after_s"});
    problems.clear();
    exotel::validate_config({{"mode", std::string("other")}}, problems);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].reason == "must be connect or flow");

    CHECK(exotel::split_sources(" 10.0.0.1, ,10.0.0.2 ,") == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
    CHECK(exotel::split_sources("").empty());
}

TEST_CASE("exotel carrier: URLs carry the per-call or per-number token") {
    test::FakeCarrierHost host;
    auto carrier = make(host, configured());
    CHECK(carrier->enabled());
    CHECK_FALSE(carrier->narrowband_only());
    CHECK(carrier->inbound_webhook_url("+15550001111") ==
          "https://va.example.com/api/v1/webhooks/exotel/incoming?token=tok:incoming:+15550001111");
    auto sim = carrier->simulated_stream("c1");
    CHECK(sim.url == "wss://a.va.example.com/media/exotel/c1?sample-rate=8000&token=tok:c1");
    CHECK(sim.sample_rate == 8000);
    CHECK(sim.headers.empty());
    auto routes = carrier->webhook_routes();
    REQUIRE(test::find_route(routes, "incoming"));
    CHECK(test::find_route(routes, "incoming")->methods == std::vector<std::string>{"GET", "POST"});
    REQUIRE(test::find_route(routes, "status/{call_id}"));
    CHECK(make(host, {})->not_configured() == "Exotel is not configured in this daemon ([exotel] account_sid)");
}

TEST_CASE("exotel carrier: the applet endpoint needs the number's token and answers a stream URL") {
    test::FakeCarrierHost host;
    test::FakeWebhookHost hooks;
    auto carrier = make(host, configured());
    auto incoming = test::find_route(carrier->webhook_routes(), "incoming")->handle;
    CarrierRequest r;
    r.method = "GET";
    r.query = {{"To", "+15550001111"}, {"From", "+15559990000"}, {"CallSid", "s1"}};

    auto no_token = incoming(hooks, r);
    REQUIRE_FALSE(no_token);
    CHECK(no_token.error().code == ErrorCode::forbidden);
    CHECK(no_token.error().message == "missing or wrong token");

    r.query["token"] = "tok:incoming:+15550001111";
    auto ok = incoming(hooks, r);
    REQUIRE(ok);
    CHECK(nlohmann::json::parse(ok->body)["url"] == "wss://a.va.example.com/media/exotel/call_in?sample-rate=8000&token=tok:call_in");
    CHECK(hooks.inbound == std::vector<std::string>{"exotel:+15559990000>+15550001111:s1"});

    r.query.erase("To");
    auto no_to = incoming(hooks, r);
    REQUIRE_FALSE(no_to);
    CHECK(no_to.error().code == ErrorCode::invalid_request);
}

TEST_CASE("exotel carrier: an allowlist of sources refuses other addresses") {
    test::FakeCarrierHost host;
    test::FakeWebhookHost hooks;
    auto values = configured();
    values["allowed_sources"] = std::string("10.0.0.1");
    auto carrier = make(host, values);
    CarrierRequest r;
    r.method = "POST";
    r.remote_address = "10.0.0.2";
    r.params = {{"call_id", "c1"}};
    r.query = {{"token", "tok:c1"}};
    auto status = test::find_route(carrier->webhook_routes(), "status/{call_id}")->handle(hooks, r);
    REQUIRE_FALSE(status);
    CHECK(status.error().message == "this address is not in exotel.allowed_sources");
    CHECK(carrier->media_routes()[0].open(r).refused == "address not allowed");
}

TEST_CASE("exotel carrier: status callbacks with the call's token reach the daemon") {
    test::FakeCarrierHost host;
    test::FakeWebhookHost hooks;
    Call call;
    call.id = "c1";
    call.channel = "exotel";
    call.provider_call_id = "sid1";
    host.calls["c1"] = call;
    auto carrier = make(host, configured());
    auto status = test::find_route(carrier->webhook_routes(), "status/{call_id}")->handle;
    CarrierRequest r;
    r.method = "POST";
    r.params = {{"call_id", "c1"}};
    r.query = {{"token", "tok:c1"}};
    r.headers = {{"content-type", "application/json"}};
    r.body = R"({"CallSid":"sid1","Status":"completed","ConversationDuration":7})";
    auto ok = status(hooks, r);
    REQUIRE(ok);
    CHECK(nlohmann::json::parse(ok->body) == nlohmann::json{{"status", "received"}});
    CHECK(hooks.statuses == std::vector<std::string>{"c1:completed:7"});

    r.query["token"] = "tok:c2";
    CHECK(status(hooks, r).error().code == ErrorCode::forbidden);
}

TEST_CASE("exotel carrier: the media socket takes the token or the account's Basic credentials, at a valid rate") {
    test::FakeCarrierHost host;
    auto carrier = make(host, configured());
    auto open = carrier->media_routes()[0].open;
    CarrierRequest r;
    r.params = {{"call_id", "c1"}};
    CHECK(open(r).refused == "missing or wrong token");

    r.headers = {{"authorization", "Basic " + base64_encode("key:tok")}};
    auto basic = open(r);
    REQUIRE(basic.codec);
    CHECK(basic.codec->channel() == "exotel");

    r.headers.clear();
    r.query = {{"token", "tok:c1"}, {"sample-rate", "16000"}};
    auto token = open(r);
    REQUIRE(token.codec);
    r.query["sample-rate"] = "44100";
    CHECK(open(r).refused == "sample-rate must be 8000, 16000 or 24000");
}

TEST_CASE("exotel carrier: a simulated call is never reconciled, and the reconciler stops with the carrier") {
    // A simulated call has no Exotel call to ask about: it is not queued (a queued one would be asked about,
    // fail against the closed port, and be left alone, so this checks that destruction joins cleanly).
    test::FakeCarrierHost host;
    auto carrier = make(host, configured());
    Call call;
    call.id = "sim1";
    call.channel = "exotel";
    host.simulated["sim1"] = true;
    carrier->call_ended(call);  // nothing to reconcile: no Call Details request, so nothing ends
    carrier->status_received("c1");
    carrier.reset();  // the reconciler stops and joins
    CHECK(host.ended.empty());
}
