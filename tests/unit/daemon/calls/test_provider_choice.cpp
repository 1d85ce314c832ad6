// The daemon's choice of providers from the registry (core/providers/registry.hpp) with the providers built in,
// as voiceagentd makes it: every registered factory, by name; unknown names refused with the messages the API
// reports; the stage defaults when an agent names none; and the built-in schema's choices in their order.
#include <catch2/catch.hpp>

#include "config/agent_schema.hpp"
#include "config/config.hpp"
#include "core/providers/registry.hpp"
#include "core/store/store.hpp"
#include "daemon/calls/call_manager.hpp"

using namespace va;
using nlohmann::json;

namespace {

struct Manager {
    std::unique_ptr<Store> store = std::move(open_sqlite_store({":memory:", 1000, 1})).value();
    EventBus events;
    MetricsRegistry metrics;
    CallManager calls{*store, events, metrics};

    // What run_daemon does (daemon/app/app.cpp): each provider's factory from its configuration section.
    explicit Manager(const Config& config) {
        for (const auto& e : registry::llm()) calls.add_llm(e.name, e.make_factory(config.section(e.section)));
        for (const auto& e : registry::tts()) calls.add_tts(e.name, e.make_factory(config.section(e.section)));
        for (const auto& e : registry::stt()) calls.add_stt(e.name, e.make_factory(config.section(e.section)));
    }
};

Config defaults() {
    auto config = load_config("", {}, {});
    REQUIRE(config);
    return std::move(config).value();
}

std::vector<std::string> names_of(const json& choices) { return choices.get<std::vector<std::string>>(); }

}  // namespace

TEST_CASE("provider choice: an unknown provider is refused by name, as before the registry") {
    Manager m(defaults());
    json agent{{"name", "x"}, {"stt", {{"provider", "whisper"}}}, {"tts", {{"provider", "bell"}}}, {"llm", {{"provider", "nope"}}}};
    auto tts = m.calls.make_tts(agent);
    REQUIRE_FALSE(tts);
    CHECK(tts.error().message == R"(TTS provider "bell" is not available in this daemon)");
    auto stt = m.calls.make_stt(agent);
    REQUIRE_FALSE(stt);
    CHECK(stt.error().message == R"(STT provider "whisper" is not available in this daemon)");
    auto llm = m.calls.make_llm(agent, json::object());
    REQUIRE_FALSE(llm);
    CHECK(llm.error().message == R"(LLM provider "nope" is not available in this daemon)");
    auto past = m.calls.make_tts(agent, 1);
    REQUIRE_FALSE(past);
    CHECK(past.error().message == "no further TTS provider to fall back to");
}

TEST_CASE("provider choice: a cloud provider gets its section's key, and says which key is missing") {
    Manager without(defaults());
    json agent{{"name", "x"}, {"stt", {{"provider", "deepgram"}}}};
    auto refused = without.calls.make_stt(agent);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message == "deepgram needs an API key (deepgram.api_key in the configuration)");
    auto keyed = load_config("", {{"VOICEAGENT_DEEPGRAM_API_KEY", "dg-key"}}, {});
    REQUIRE(keyed);
    Manager with(*keyed);
    auto stt = with.calls.make_stt(agent);
    REQUIRE(stt);
    CHECK((*stt)->name() == "deepgram");
}

TEST_CASE("provider choice: an agent naming no provider gets each stage's default") {
    Manager m(defaults());
    json agent{{"name", "x"}};
    CHECK(CallManager::provider_chain(agent, "tts") == std::vector<json>{{{"provider", "espeak-ng"}}});
    auto tts = m.calls.make_tts(agent);
    REQUIRE(tts);
    CHECK((*tts)->name() == "espeak-ng");
    CHECK(m.calls.make_llm(agent, json::object()));
#if VA_WITH_POCKETSPHINX
    CHECK(CallManager::provider_chain(agent, "stt") == std::vector<json>{{{"provider", "pocketsphinx"}}});
#else
    auto stt = m.calls.make_stt(agent);
    REQUIRE_FALSE(stt);
    CHECK(stt.error().message == "no default STT provider is built into this daemon: name one in stt.provider");
#endif
}

TEST_CASE("provider choice: the agent schema offers the built-in providers in registration order") {
    auto schema = json::parse(agent_schema_text());
    const json& defs = schema["$defs"];
#if VA_WITH_POCKETSPHINX
    CHECK(names_of(defs["stt"]["properties"]["provider"]["enum"]) ==
          std::vector<std::string>{"pocketsphinx", "deepgram", "scripted"});
#else
    CHECK(names_of(defs["stt"]["properties"]["provider"]["enum"]) == std::vector<std::string>{"deepgram", "scripted"});
    CHECK_FALSE(defs["stt"]["properties"].contains("grammar"));
#endif
    CHECK(names_of(defs["llm"]["properties"]["provider"]["enum"]) == std::vector<std::string>{"scripted", "openai"});
    CHECK(names_of(defs["tts"]["properties"]["provider"]["enum"]) ==
          std::vector<std::string>{"espeak-ng", "elevenlabs", "openai", "tone"});
    // Each provider's options joined its stage.
    for (const char* option : {"voice", "rate", "model", "speed"}) CHECK(defs["tts"]["properties"].contains(option));
    for (const char* option : {"model", "base_url", "temperature", "max_tokens"}) CHECK(defs["llm"]["properties"].contains(option));
    CHECK(defs["stt"]["properties"].contains("script"));
}
