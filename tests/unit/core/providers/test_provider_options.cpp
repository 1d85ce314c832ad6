// The registration pieces providers share: one definition of a cloud voice's agent options, and the copy of a
// service's section into its settings under the names the section uses.
#include <catch2/catch.hpp>

#include <string>

#include "core/providers/provider_options.hpp"

using namespace va;
using nlohmann::json;

namespace {
struct Voice {
    std::string api_key, base_url, model, voice;
};
}  // namespace

TEST_CASE("provider options: the cloud voice schema defines voice, model and speed, plus a provider's own") {
    json schema = provider_options::tts_voice_schema();
    CHECK(schema["properties"]["speed"]["minimum"] == 0.25);
    CHECK(schema["properties"]["voice"]["type"] == "string");
    CHECK(schema["properties"]["model"]["maxLength"] == 200);
    CHECK(schema == provider_options::tts_voice_schema());  // two providers sharing it define it identically
    json more = provider_options::tts_voice_schema({{"style", {{"type", "string"}}}});
    CHECK(more["properties"].size() == 4);
}

TEST_CASE("provider options: a section's service keys reach the settings, under the section's own names") {
    json section{{"api_key", "k"}, {"base_url", "https://x.example"}, {"model", "m"}, {"voice", "v"},
                 {"tts_model", "tm"}, {"tts_voice", "tv"}};
    Voice plain;
    provider_options::read_tts_service(section, plain);
    CHECK(plain.api_key == "k");
    CHECK(plain.base_url == "https://x.example");
    CHECK(plain.model == "m");
    CHECK(plain.voice == "v");
    Voice shared;
    provider_options::read_tts_service(section, shared, "tts_model", "tts_voice");
    CHECK(shared.model == "tm");
    CHECK(shared.voice == "tv");
    section.erase("base_url");
    CHECK_THROWS(provider_options::read_service(section, plain));  // a key the section never declared: a bug
}
