#include <catch2/catch.hpp>

#include "core/providers/carrier.hpp"

using namespace va;

namespace {

CarrierInfo info(std::string name) {
    CarrierInfo i;
    i.name = std::move(name);
    i.section.keys = {{"account_sid", ConfigKind::string, ""}};
    i.create = [](const nlohmann::json&, CarrierHost&) -> std::unique_ptr<Carrier> { return nullptr; };
    return i;
}

}  // namespace

TEST_CASE("carrier registry: carriers are found by name and listed in registration order") {
    CarrierRegistry registry;
    REQUIRE(registry.add(info("zeta")));
    REQUIRE(registry.add(info("alpha")));
    CHECK(registry.names() == std::vector<std::string>{"zeta", "alpha"});
    REQUIRE(registry.find("alpha"));
    CHECK(registry.find("alpha")->section.keys.at(0).name == "account_sid");
    CHECK(registry.find("alpha")->section.name == "alpha");  // a carrier's section is named after it
    CHECK(registry.find("local") == nullptr);
    CHECK(registry.find("") == nullptr);
}

TEST_CASE("carrier registry: a name is registered once, and a registration needs a name and a factory") {
    CarrierRegistry registry;
    REQUIRE(registry.add(info("one")));
    auto again = registry.add(info("one"));
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::conflict);
    CHECK_FALSE(registry.add(info("")));
    CarrierInfo no_factory = info("two");
    no_factory.create = nullptr;
    CHECK_FALSE(registry.add(no_factory));
    CHECK(registry.names() == std::vector<std::string>{"one"});
}

TEST_CASE("carrier registry: names join into messages") {
    CHECK(join_names({"twilio", "exotel"}, " or ") == "twilio or exotel");
    CHECK(join_names({"a", "b", "c"}, " or ") == "a, b or c");
    CHECK(join_names({"a", "b"}, ", ") == "a, b");
    CHECK(join_names({"only"}, " or ") == "only");
    CHECK(join_names({}, " or ").empty());
}

TEST_CASE("carrier routes: prefixes, request lookups and responses") {
    CHECK(carrier_webhook_prefix("x") + "status/{call_id}" == "/api/v1/webhooks/x/status/{call_id}");
    CHECK(carrier_media_prefix("x") + "{call_id}" == "/media/x/{call_id}");
    CarrierRequest r;
    r.headers = {{"x-sig", "first"}, {"x-sig", "second"}};
    r.params = {{"call_id", "c1"}};
    CHECK(r.header("x-sig") == "first");
    CHECK(r.header("absent").empty());
    CHECK(r.param("call_id") == "c1");
    CHECK(r.param("other").empty());
    auto json = carrier_json(200, nlohmann::json{{"url", "wss://x"}});
    CHECK(json.content_type == "application/json");
    CHECK(nlohmann::json::parse(json.body)["url"] == "wss://x");
    CHECK(carrier_xml("<Response/>").content_type == "text/xml");
    auto empty = carrier_empty(204);
    CHECK(empty.status == 204);
    CHECK(empty.body.empty());
    CHECK(empty.content_type.empty());
    auto refused = MediaAccept::refuse("why");
    CHECK(refused.codec == nullptr);
    CHECK(refused.refused == "why");
}
