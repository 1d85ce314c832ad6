// The JSON parse limit (64 levels, API.md) and the typed getters every provider reader uses.
#include <catch2/catch.hpp>

#include "core/util/json.hpp"

using namespace va;
using nlohmann::json;

namespace {

std::string nested(std::size_t depth, char open = '[', char close = ']') {
    return std::string(depth, open) + std::string(depth, close);
}

}  // namespace

TEST_CASE("json: 64 levels parse, 65 and 300,000 are refused with a reason") {
    CHECK(parse_json(nested(64)).is_array());
    CHECK_FALSE(json_too_deep(nested(64)));
    CHECK(parse_json(nested(65)).is_discarded());
    CHECK(json_too_deep(nested(65)));
    auto deep = parse_json_checked(nested(65), "variables");
    REQUIRE_FALSE(deep);
    CHECK(deep.error().code == ErrorCode::invalid_request);
    CHECK(deep.error().message == "variables: JSON nested deeper than 64 levels");
    REQUIRE(deep.error().details.size() == 1);
    CHECK(deep.error().details[0].field == "variables");
    // The size that overflowed the stack when copied or dumped: refused before any value is built.
    CHECK(parse_json(nested(300000)).is_discarded());
    CHECK(parse_json("{\"a\":" + nested(300000) + "}").is_discarded());
    std::string objects;
    for (int i = 0; i < 300000; ++i) objects += "{\"a\":";
    objects += "1" + std::string(300000, '}');
    CHECK(parse_json(objects).is_discarded());
    // Mixed objects and arrays count alike.
    std::string mixed;
    for (int i = 0; i < 32; ++i) mixed += "{\"k\":[";
    mixed += "0";
    for (int i = 0; i < 32; ++i) mixed += "]}";
    CHECK(parse_json(mixed).is_object());
    CHECK(json_too_deep("[" + mixed + "]"));
}

TEST_CASE("json: brackets inside strings do not count, and malformed text is discarded") {
    CHECK(parse_json("{\"text\":\"" + nested(500) + "\"}").is_object());
    CHECK(parse_json("{\"text\":\"\\\"" + std::string(500, '[') + "\"}").is_object());  // an escaped quote
    CHECK(parse_json("{\"a\": ").is_discarded());
    CHECK(parse_json("").is_discarded());
    auto bad = parse_json_checked("{nope}");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "body: malformed JSON");
    CHECK(parse_json("\"x\"") == json("x"));
}

TEST_CASE("json: typed getters read a field only when it has the expected type") {
    json j = json::parse(R"({"s":"x","i":3,"u":18446744073709551615,"f":1.5,"b":true,"o":{},"a":[],"n":null,"z":"zero"})");
    CHECK(json_string(j, "s") == "x");
    CHECK_FALSE(json_string(j, "i"));
    CHECK(json_int(j, "i") == 3);
    CHECK_FALSE(json_int(j, "z"));  // "index": "zero" is a missing index, not an exception
    CHECK_FALSE(json_int(j, "f"));
    CHECK_FALSE(json_int(j, "u"));  // beyond int64
    CHECK(json_number(j, "f") == 1.5);
    CHECK(json_number(j, "i") == 3.0);
    CHECK(json_bool(j, "b") == true);
    CHECK_FALSE(json_bool(j, "s"));
    CHECK(json_object(j, "o") != nullptr);
    CHECK(json_object(j, "a") == nullptr);
    CHECK(json_array(j, "a") != nullptr);
    CHECK(json_field(j, "n") == nullptr);
    CHECK(json_field(j, "missing") == nullptr);
    CHECK(json_string_or(j, "i", "fallback") == "fallback");
    // Not an object at all: every getter answers "absent".
    for (const json& other : {json(5), json::array({1}), json("s"), json()}) {
        CHECK_FALSE(json_string(other, "s"));
        CHECK(json_field(other, "s") == nullptr);
    }
}
