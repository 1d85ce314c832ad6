#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "daemon/api/api.hpp"

using namespace va;
using namespace va::api;
using nlohmann::json;

namespace {
http::Request post(std::string body, std::string type = "application/json") {
    http::Request r;
    r.method = "POST";
    r.body = std::move(body);
    r.headers.emplace_back("content-type", std::move(type));
    return r;
}
}  // namespace

TEST_CASE("json_body accepts a JSON object with a JSON content type") {
    auto ok = json_body(post(R"({"a": 1})", "application/json; charset=utf-8"));
    REQUIRE(ok);
    CHECK((*ok)["a"] == 1);
    auto upper = json_body(post("{}", "Application/JSON"));
    CHECK(upper.ok());
}

TEST_CASE("json_body refuses wrong types, malformed JSON and non-objects") {
    auto wrong_type = json_body(post("{}", "text/plain"));
    REQUIRE_FALSE(wrong_type);
    CHECK(http_status(wrong_type.error().code) == 415);
    auto malformed = json_body(post("{\"a\":"));
    REQUIRE_FALSE(malformed);
    CHECK(http_status(malformed.error().code) == 400);
    CHECK(malformed.error().details.at(0).field == "body");
    auto array = json_body(post("[1,2]"));
    REQUIRE_FALSE(array);
    CHECK(array.error().details.at(0).reason == "must be a JSON object");
}

TEST_CASE("page_request validates limit and passes the cursor through") {
    http::Request r;
    CHECK(page_request(r)->limit == 50);
    r.query["limit"] = "500";
    r.query["cursor"] = "agt_x";
    auto page = page_request(r);
    REQUIRE(page);
    CHECK(page->limit == 500);
    CHECK(page->cursor == "agt_x");
    for (const char* bad : {"0", "501", "abc", "10x", "-1", ""}) {
        r.query["limit"] = bad;
        auto refused = page_request(r);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().details.at(0).field == "limit");
    }
}

TEST_CASE("error_response renders the error format and hides internal messages") {
    Error e = invalid_field("/tts/rate", "must be at most 450");
    auto r = error_response(e);
    CHECK(r.status == 400);
    auto body = json::parse(r.body);
    CHECK(body["error"]["code"] == "invalid_request");
    CHECK(body["error"]["details"][0]["field"] == "/tts/rate");

    auto internal = error_response(make_error(ErrorCode::internal, "sqlite: disk I/O error at /secret/path"));
    CHECK(internal.status == 500);
    CHECK(json::parse(internal.body)["error"]["message"] == "internal error");

    Error limited = make_error(ErrorCode::rate_limited, "slow down");
    limited.retry_after_s = 7;
    auto r429 = error_response(limited);
    CHECK(r429.status == 429);
    bool has_retry = false;
    for (auto& [k, v] : r429.headers) has_retry |= (k == "Retry-After" && v == "7");
    CHECK(has_retry);
}

TEST_CASE("records render with RFC 3339 times and nulls for absent values") {
    PhoneNumber p;
    p.id = "phn_1";
    p.workspace_id = "ws_1";
    p.number = "+15551234567";
    p.provider = "twilio";
    p.created_at = 0;
    p.updated_at = 1795491244123;
    auto j = to_json(p);
    CHECK(j["agent_id"].is_null());
    CHECK(j["created_at"].is_null());
    CHECK(j["updated_at"] == "2026-11-24T03:34:04.123Z");

    Agent a;
    a.definition = R"({"name":"x"})";
    CHECK(to_json(a)["definition"]["name"] == "x");
}

TEST_CASE("agent_response splices the stored definition into valid JSON") {
    Agent a;
    a.id = "agt_1";
    a.workspace_id = "ws_1";
    a.name = "x";
    a.version = 3;
    a.definition = R"({"name":"x","tts":{"provider":"espeak-ng"}})";
    auto r = agent_response(200, a);
    auto body = json::parse(r.body);
    CHECK(body == to_json(a));
    CHECK(body["definition"]["tts"]["provider"] == "espeak-ng");
    CHECK(body["version"] == 3);
}
