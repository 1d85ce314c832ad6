#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "config/agent_schema.hpp"

using namespace va;
using nlohmann::json;

namespace {

[[maybe_unused]] json example(const std::string& name) {
    std::ifstream in(std::string(VA_SOURCE_DIR) + "/examples/agents/" + name);
    REQUIRE(in);
    return json::parse(in);
}

// The reason given for `pointer`, or "" when that field was not reported.
std::string reason_for(const Status& s, const std::string& pointer) {
    if (s) return "";
    for (const auto& d : s.error().details)
        if (d.field == pointer) return d.reason;
    return "";
}

}  // namespace

TEST_CASE("agent schema: the shipped schema is valid JSON and the examples validate") {
    CHECK_NOTHROW(json::parse(agent_schema_text()));
#if VA_WITH_POCKETSPHINX  // the examples recognize offline with pocketsphinx
    for (const char* name : {"receptionist.json", "appointment-reminder.json"}) {
        auto result = validate_agent_definition(example(name));
        INFO(name << ": " << (result ? "ok" : result.error().message));
        CHECK(result);
    }
#endif
    CHECK(validate_agent_definition(json{{"name", "x"}}));
}

TEST_CASE("agent schema: each kind of problem names its field") {
    CHECK(reason_for(validate_agent_definition(json::object()), "/name") == "is required");
    CHECK(reason_for(validate_agent_definition(json::array()), "") == "must be an object (got array)");
    CHECK(reason_for(validate_agent_definition({{"name", 5}}), "/name") == "must be a string (got integer)");
    CHECK(reason_for(validate_agent_definition({{"name", "Bad Name"}}), "/name") == "must match ^[a-z0-9][a-z0-9._-]*$");
    CHECK(reason_for(validate_agent_definition({{"name", std::string(65, 'a')}}), "/name") ==
          "must be at most 64 characters");
    CHECK(reason_for(validate_agent_definition({{"name", ""}}), "/name") == "must not be empty");
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"colour", "red"}}), "/colour") == "unknown field");
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"tts", {{"provider", "espeak-ng"}, {"rate", 900}}}}),
                     "/tts/rate") == "must be at most 450");
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"tts", {{"provider", "espeak-ng"}, {"rate", 1.5}}}}),
                     "/tts/rate") == "must be an integer (got number)");
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"tts", {{"provider", "espeak-ng"}, {"pitch", 1}}}}),
                     "/tts/pitch") == "unknown field");
#if VA_WITH_POCKETSPHINX
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"stt", {{"provider", "whisper"}}}}), "/stt/provider") ==
          R"(must be one of "pocketsphinx", "deepgram", "scripted")");
#else
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"stt", {{"provider", "pocketsphinx"}}}}), "/stt/provider") ==
          R"(must be one of "deepgram", "scripted")");
#endif
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"llm", {{"provider", "openai"}, {"base_url", "ftp://x"}}}}),
                     "/llm/base_url") == "must be an http:// or https:// URL");
    CHECK(reason_for(validate_agent_definition(
                         {{"name", "x"}, {"llm", {{"provider", "openai"}, {"fallbacks", {{{"provider", "nope"}}}}}}}),
                     "/llm/fallbacks/0/provider") != "");
}

TEST_CASE("agent schema: tools are a tagged union") {
    auto tools = [](json t) { return validate_agent_definition({{"name", "x"}, {"tools", json::array({t})}}); };
    CHECK(tools({{"type", "end_call"}}));
    CHECK(tools({{"type", "transfer_call"}, {"to", "+15551234567"}}));
    CHECK(reason_for(tools({{"type", "transfer_call"}}), "/tools/0/to") == "is required");
    CHECK(reason_for(tools({{"type", "transfer_call"}, {"to", "555"}}), "/tools/0/to") != "");
    CHECK(reason_for(tools({{"type", "teleport"}}), "/tools/0/type") ==
          R"(must be one of "end_call", "transfer_call", "http")");
    CHECK(reason_for(tools({{"name", "x"}}), "/tools/0") == "needs a \"type\"");
    CHECK(tools({{"type", "http"}, {"name", "lookup"}, {"description", "d"}, {"url", "https://example.com/x"},
                 {"parameters", {{"type", "object"}}}}));
    CHECK(reason_for(tools({{"type", "http"}, {"name", "1bad"}, {"description", "d"}, {"url", "https://e.com"}}),
                     "/tools/0/name") != "");
    CHECK(reason_for(tools({{"type", "end_call"}, {"to", "+15551234567"}}), "/tools/0/to") == "unknown field");
}

TEST_CASE("agent schema: scripted intents need a matcher and a valid regular expression") {
    auto intent = [](json i) {
        return validate_agent_definition({{"name", "x"}, {"script", {{"intents", json::array({i})}}}});
    };
    CHECK(intent({{"name", "a"}, {"reply", "r"}, {"keywords", {"k"}}}));
    CHECK(reason_for(intent({{"name", "a"}, {"reply", "r"}}), "/script/intents/0") == "needs keywords or a pattern");
    CHECK_THAT(reason_for(intent({{"name", "a"}, {"reply", "r"}, {"pattern", "(unclosed"}}), "/script/intents/0/pattern"),
               Catch::StartsWith("invalid regular expression"));
    CHECK(reason_for(intent({{"name", "a"}, {"keywords", {"k"}}}), "/script/intents/0/reply") == "is required");
    CHECK(reason_for(intent({{"name", "a"}, {"reply", "r"}, {"keywords", {"k"}}, {"tool", {{"name", "dance"}}}}),
                     "/script/intents/0/tool/name") != "");
}

TEST_CASE("agent schema: several problems are all reported") {
    auto result = validate_agent_definition(
        {{"name", "Bad Name"}, {"max_call_s", 5}, {"silence", {{"timeout_ms", "long"}}}, {"extra", true}});
    REQUIRE_FALSE(result);
    CHECK(result.error().details.size() == 4);
    CHECK(result.error().message.find("(and 3 more)") != std::string::npos);
}

TEST_CASE("validate_json_schema handles an ad-hoc schema") {
    json schema = {{"type", "object"},
                   {"required", {"n"}},
                   {"properties", {{"n", {{"type", "integer"}, {"minimum", 1}}}, {"tags", {{"type", "array"}, {"maxItems", 2}}}}}};
    CHECK(validate_json_schema(schema, {{"n", 3}}));
    CHECK(validate_json_schema(schema, {{"n", 3.0}}));  // an integral float is an integer
    CHECK_FALSE(validate_json_schema(schema, {{"n", 0}}));
    CHECK_FALSE(validate_json_schema(schema, {{"tags", {1, 2, 3}}, {"n", 1}}));
    CHECK_FALSE(validate_json_schema(schema, json::object()));
}

TEST_CASE("agent schema: a pattern RE2 refuses is unprocessable and names its field") {
    auto intent = [](json i) {
        return validate_agent_definition({{"name", "x"}, {"script", {{"intents", json::array({i})}}}});
    };
    // Backreferences cannot run in linear time; an over-long pattern is refused before compiling.
    for (const std::string& pattern : {std::string("(a)\\1"), std::string("(unclosed"), std::string(600, 'a')}) {
        INFO(pattern.substr(0, 20));
        auto r = intent({{"name", "a"}, {"reply", "r"}, {"pattern", pattern}});
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::unprocessable);
        CHECK_THAT(reason_for(r, "/script/intents/0/pattern"), Catch::StartsWith("invalid regular expression"));
    }
    // The pattern that froze calls under std::regex is fine for RE2 (linear time), as are extraction patterns.
    CHECK(intent({{"name", "a"}, {"reply", "r"}, {"pattern", "^(a+)+$"}}));
    auto field = validate_agent_definition(
        {{"name", "x"}, {"script", {{"analysis", {{"fields", {{"day", {{"pattern", "(?<day"}}}}}}}}}});
    REQUIRE_FALSE(field);
    CHECK(reason_for(field, "/script/analysis/fields/day/pattern") != "");
    // Shape problems as well: 400, every problem reported.
    auto both = validate_agent_definition({{"name", "Bad Name"}, {"script", {{"intents", json::array({{{"name", "a"}, {"reply", "r"}, {"pattern", "(x"}}})}}}});
    REQUIRE_FALSE(both);
    CHECK(both.error().code == ErrorCode::invalid_request);
    CHECK(reason_for(both, "/script/intents/0/pattern") != "");
}

TEST_CASE("agent schema: the compiled-pattern cache stays bounded whatever patterns it sees") {
    // Distinct schema patterns, as tool parameter schemas written by users bring: the cache keeps at most its
    // bound of entries and program size, and validation still gives the right answers.
    for (int i = 0; i < 600; ++i) {
        json schema{{"type", "string"}, {"pattern", "^(item|thing)" + std::to_string(i) + "[a-z]{1,40}$"}};
        CHECK(validate_json_schema(schema, "item" + std::to_string(i) + "abc"));
        CHECK_FALSE(validate_json_schema(schema, "nope"));
    }
    auto stats = schema_pattern_cache_stats();
    CHECK(stats.entries <= 128);
    CHECK(stats.program_size <= 100000);
    CHECK(stats.entries > 0);
    // Intents of definitions (accepted or not) are never cached: after one warm-up (the shipped schema's own
    // patterns), fifty rejected definitions leave the cache as it was.
    (void)validate_agent_definition({{"name", "x"}, {"script", {{"intents", json::array({{{"name", "a"}, {"reply", "r"}, {"pattern", "ok"}}})}}}});
    auto before = schema_pattern_cache_stats();
    for (int i = 0; i < 50; ++i)
        (void)validate_agent_definition({{"name", "x"}, {"script", {{"intents", json::array({{{"name", "a"}, {"reply", "r"}, {"pattern", "^(a+)+" + std::to_string(i) + "(unclosed"}}})}}}});
    auto after = schema_pattern_cache_stats();
    CHECK(after.entries == before.entries);
    CHECK(after.program_size == before.program_size);
}

// Found by the agent_json fuzz harness: a tool's parameters schema is the client's, and a keyword of the wrong type
// threw from get<> (type_error) while the call validated the model's arguments; "$ref": "#" recursed without end.
TEST_CASE("validate_json_schema refuses a malformed client schema instead of throwing") {
    const nlohmann::json bad[] = {
        {{"type", "object"}, {"properties", {{"n", {{"type", "number"}, {"minimum", "5"}}}}}},
        {{"type", "string"}, {"maxLength", -1}},
        {{"type", {"string", 5}}},
        {{"type", "object"}, {"required", {1}}},
        {{"type", "string"}, {"pattern", 7}},
        {{"$ref", "#"}},
    };
    const nlohmann::json instances[] = {{{"n", 3}}, "abc", "abc", nlohmann::json::object(), "abc", 1};
    for (std::size_t i = 0; i < std::size(bad); ++i) {
        INFO(bad[i].dump());
        Status valid = Ok{};
        REQUIRE_NOTHROW(valid = validate_json_schema(bad[i], instances[i]));
        REQUIRE_FALSE(valid);
        CHECK(valid.error().message.find("schema error") != std::string::npos);
    }
    CHECK(validate_json_schema({{"type", "object"}, {"properties", {{"n", {{"minimum", 1}}}}}}, {{"n", 3}}));
}

// Before, these definitions were stored and every call that used the tool (or every analysis) failed instead.
TEST_CASE("agent schema: a tool's parameters and the analysis fields are checked as schemas when the agent is saved") {
    auto tool = [](json parameters) {
        return validate_agent_definition({{"name", "x"},
                                          {"tools", json::array({{{"type", "http"},
                                                                  {"name", "lookup"},
                                                                  {"description", "d"},
                                                                  {"url", "https://example.com/x"},
                                                                  {"parameters", parameters}}})}});
    };
    auto ref = tool({{"type", "object"}, {"properties", {{"id", {{"$ref", "#"}}}}}});
    REQUIRE_FALSE(ref);
    CHECK(ref.error().code == ErrorCode::unprocessable);
    CHECK(reason_for(ref, "/tools/0/parameters/properties/id/$ref") == "schema error: $ref is not supported in tool schemas");
    auto typo = tool({{"type", "object"}, {"properties", {{"n", {{"type", "number"}, {"minimum", "5"}}}}}});
    CHECK(reason_for(typo, "/tools/0/parameters/properties/n/minimum") == "schema error: not a valid value for this keyword");
    auto pattern = tool({{"type", "object"}, {"properties", {{"code", {{"type", "string"}, {"pattern", "(a)\\1"}}}}}});
    REQUIRE_FALSE(pattern);
    CHECK_THAT(reason_for(pattern, "/tools/0/parameters/properties/code/pattern"),
               Catch::StartsWith("invalid regular expression"));
    CHECK(tool({{"type", "object"}, {"properties", {{"code", {{"type", "string"}, {"pattern", "^[A-Z]{3}$"}}}}}}));
    auto fields = validate_agent_definition(
        {{"name", "x"}, {"analysis", {{"fields", {{"type", "object"}, {"properties", {{"day", {{"type", 5}}}}}}}}}});
    REQUIRE_FALSE(fields);
    CHECK(reason_for(fields, "/analysis/fields/properties/day/type") == "schema error: not a valid value for this keyword");
}
