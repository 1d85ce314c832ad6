// The provider registry with providers of the test's own: schema fragments assembled into the agent schema, a
// configuration section read and checked by its provider, the default provider of a stage, and the mistakes a
// registration can make. (The built-in providers' choices and messages are tested through the daemon: tests/unit/
// daemon/calls/test_provider_choice.cpp.)
#include <catch2/catch.hpp>

#include <stdexcept>

#include "config/agent_schema.hpp"
#include "config/config.hpp"
#include "core/providers/registry.hpp"

using namespace va;
using nlohmann::json;

namespace {

class NoTts final : public TtsFactory {
public:
    explicit NoTts(std::string voice) : voice(std::move(voice)) {}
    Result<std::unique_ptr<TtsClient>> create(const json&) const override {
        return make_error(ErrorCode::unprocessable, "no voice " + voice);
    }
    std::string voice;
};

TtsEntry chime(bool is_default = false) {
    return {"chime", "chime",
            [](const json& section) { return std::make_shared<NoTts>(section.value("voice", "")); },
            {{"properties", {{"pitch", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10}}}}}},
            is_default};
}

ConfigSection chime_section() {
    return {"chime",
            {{"voice", ConfigKind::string, "bell"}, {"volume", ConfigKind::integer, 5}, {"keys", ConfigKind::string_map, json::object()}},
            [](json& v, std::vector<FieldError>& p) {
                if (v["volume"] < 0 || v["volume"] > 11) p.push_back({"chime.volume", "must be between 0 and 11"});
                v["voice"] = v["voice"].get<std::string>() + "!";  // a check may normalize
            }};
}

std::string reason_for(const Error& e, const std::string& field) {
    for (const auto& d : e.details)
        if (d.field == field) return d.reason;
    return "(no problem at " + field + ")";
}

std::string reason_for(const Status& s, const std::string& field) { return s ? "" : reason_for(s.error(), field); }

struct Fresh {
    Fresh() { registry::clear(); }
    ~Fresh() { registry::clear(); }
};

}  // namespace

TEST_CASE("registry: a provider's name and options join its stage of the agent schema, in registration order") {
    Fresh fresh;
    registry::add_tts(chime());
    registry::add_tts({"gong", "", [](const json&) { return std::make_shared<NoTts>(""); },
                       {{"properties", {{"pitch", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10}}}}}}, true});
    CHECK(validate_agent_definition({{"name", "x"}, {"tts", {{"provider", "gong"}, {"pitch", 3}}}}));
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"tts", {{"provider", "chime"}, {"pitch", 30}}}}),
                     "/tts/pitch") == "must be at most 10");
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"tts", {{"provider", "bell"}}}}), "/tts/provider") ==
          R"(must be one of "chime", "gong")");
    // An option no registered provider reads is unknown; the stage's own options stay.
    CHECK(reason_for(validate_agent_definition({{"name", "x"}, {"tts", {{"provider", "gong"}, {"rate", 100}}}}),
                     "/tts/rate") == "unknown field");
    CHECK(validate_agent_definition({{"name", "x"}, {"tts", {{"provider", "gong"}, {"fallbacks", {{{"provider", "chime"}}}}}}}));
    CHECK(json::parse(agent_schema_text())["$defs"]["tts"]["properties"]["provider"]["enum"] == json{"chime", "gong"});
    CHECK(registry::default_provider("tts") == "gong");
    CHECK(registry::default_provider("stt").empty());
}

TEST_CASE("registry: a configuration section is read, defaulted and checked by its provider") {
    Fresh fresh;
    registry::add_config_section(chime_section());
    registry::add_tts(chime());
    auto defaults = load_config("", {}, {});
    REQUIRE(defaults);
    CHECK(defaults->section("chime") == json{{"voice", "bell!"}, {"volume", 5}, {"keys", json::object()}});
    auto env = load_config("", {{"VOICEAGENT_CHIME_VOICE", "tubular"}, {"VOICEAGENT_CHIME_KEYS", "a=1, b"}}, {});
    REQUIRE(env);
    CHECK(env->section("chime")["voice"] == "tubular!");
    CHECK(env->section("chime")["keys"] == json{{"a", "1"}, {"b", ""}});
    auto bad = load_config("", {{"VOICEAGENT_CHIME_VOLUME", "12"}}, {});
    REQUIRE_FALSE(bad);
    CHECK(reason_for(bad.error(), "chime.volume") == "must be between 0 and 11");
    auto typed = load_config("", {{"VOICEAGENT_CHIME_VOLUME", "loud"}}, {});
    REQUIRE_FALSE(typed);
    CHECK(reason_for(typed.error(), "chime.volume") == R"(expected an integer in VOICEAGENT_CHIME_VOLUME, got "loud")");
    auto unknown = load_config("", {{"VOICEAGENT_CHIME_COLOUR", "red"}}, {});
    REQUIRE_FALSE(unknown);
    CHECK(reason_for(unknown.error(), "VOICEAGENT_CHIME_COLOUR") == "unknown environment variable");
    // The factory is made from the section as loaded.
    auto entry = registry::tts().at(0);
    auto made = entry.make_factory(env->section(entry.section))->create(json::object());
    REQUIRE_FALSE(made);
    CHECK(made.error().message == "no voice tubular!");
}

TEST_CASE("registry: a name registered twice, a second default and clashing options are programming errors") {
    Fresh fresh;
    registry::add_tts(chime());
    CHECK_THROWS_AS(registry::add_tts(chime()), std::logic_error);
    registry::add_tts({"gong", "", [](const json&) { return std::make_shared<NoTts>(""); }, json::object(), true});
    CHECK_THROWS_AS(registry::add_tts({"bell", "", [](const json&) { return std::make_shared<NoTts>(""); },
                                       json::object(), true}),
                    std::logic_error);
    registry::add_tts({"bowl", "", [](const json&) { return std::make_shared<NoTts>(""); },
                       {{"properties", {{"pitch", {{"type", "string"}}}}}}, false});
    CHECK_THROWS_AS(registry::stage_schema("tts", json::object()), std::logic_error);
    registry::add_config_section(chime_section());
    CHECK_THROWS_AS(registry::add_config_section(chime_section()), std::logic_error);
}
