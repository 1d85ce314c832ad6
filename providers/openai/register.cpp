// OpenAI's one registration: LLM provider "openai" (or any OpenAI-compatible server), TTS provider "openai", their
// agent options, and the [openai] section both read, with the LLM base URLs agents may name
// (docs/providers.md, "Which LLM base URLs an agent may name").
#include "core/providers/provider_options.hpp"
#include "core/providers/registry.hpp"
#include "core/util/url.hpp"
#include "providers/common/config_checks.hpp"
#include "providers/openai/chat_client.hpp"
#include "providers/openai/speech_client.hpp"

namespace va {

using nlohmann::json;

namespace {

// The allowed base URLs normalized (core/util/url.hpp), so an agent's URL is compared in the same form.
void normalize_allowed(json& allowed, std::vector<FieldError>& p) {
    json normal = json::object();
    for (const auto& [url, key] : allowed.items()) {
        auto n = normalize_base_url(url);
        if (!n) p.push_back({"openai.allowed_base_urls", "\"" + url + "\" " + n.error().message});
        else normal[*n] = key;
    }
    allowed = std::move(normal);
}

}  // namespace

void register_openai_provider() {
    registry::add_config_section(
        {"openai",
         {{"api_key", ConfigKind::string, ""},  // sent to base_url only
          {"base_url", ConfigKind::string, "https://api.openai.com/v1"},
          {"model", ConfigKind::string, "gpt-4o-mini"},
          {"tts_model", ConfigKind::string, "gpt-4o-mini-tts"},
          {"tts_voice", ConfigKind::string, "alloy"},
          // URL -> the key sent to it ("" for none); in the environment "URL=key,URL"
          {"allowed_base_urls", ConfigKind::string_map, json::object()}},
         [](json& v, std::vector<FieldError>& p) {
             const std::string base = v["base_url"];
             config_checks::http_url(p, "openai.base_url", base);
             if (base.empty()) p.push_back({"openai.base_url", "must not be empty"});
             else if (auto normal = normalize_base_url(base); !normal)
                 p.push_back({"openai.base_url", normal.error().message});
             normalize_allowed(v["allowed_base_urls"], p);
         }});
    registry::add_llm({"openai", "openai",
                       [](const json& section) {
                           openai::ChatSettings chat;
                           provider_options::read_service(section, chat);
                           chat.allowed_base_urls = section["allowed_base_urls"].get<std::map<std::string, std::string>>();
                           return openai::chat_factory(chat);
                       },
                       {{"properties",
                         {{"model", {{"type", "string"}, {"maxLength", 200}}},
                          {"base_url", {{"type", "string"}, {"format", "uri"}, {"maxLength", 2000}}},
                          {"temperature", {{"type", "number"}, {"minimum", 0}, {"maximum", 2}}},
                          {"max_tokens", {{"type", "integer"}, {"minimum", 1}, {"maximum", 32000}}}}}},
                       false});
    registry::add_tts({"openai", "openai",
                       [](const json& section) {
                           openai::SpeechSettings speech;
                           provider_options::read_tts_service(section, speech, "tts_model", "tts_voice");
                           return openai::speech_factory(speech);
                       },
                       provider_options::tts_voice_schema(), false});
}

}  // namespace va
