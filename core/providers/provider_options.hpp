// What several providers' registrations share (providers/*/register.cpp), so each states only what is its own:
// the agent options of a cloud voice (one definition, as the agent schema requires of a shared option) and the
// copy of a cloud service's section keys (key, base URL, default model and voice) into the provider's settings.
// Vendor-free: the settings type is the provider's, read through its field names.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace va::provider_options {

// The agent's `voice`, `model` and `speed` options of a TTS service, as a registration's {"properties": ...}
// schema (`extra` adds the provider's own properties).
inline nlohmann::json tts_voice_schema(nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json properties{{"voice", {{"type", "string"}, {"maxLength", 200}}},
                              {"model", {{"type", "string"}, {"maxLength", 200}}},
                              {"speed", {{"type", "number"}, {"minimum", 0.25}, {"maximum", 4}}}};
    properties.update(extra);
    return {{"properties", properties}};
}

// A cloud service's section into its settings: `api_key`, `base_url`, and the default model from the section's
// key `model_key` (a section two providers share names theirs apart, as [openai] does with tts_model).
template <class Settings>
void read_service(const nlohmann::json& section, Settings& settings, const char* model_key = "model") {
    settings.api_key = section.at("api_key").template get<std::string>();
    settings.base_url = section.at("base_url").template get<std::string>();
    settings.model = section.at(model_key).template get<std::string>();
}

// The same for a TTS service, with its default voice from `voice_key`.
template <class Settings>
void read_tts_service(const nlohmann::json& section, Settings& settings, const char* model_key = "model",
                      const char* voice_key = "voice") {
    read_service(section, settings, model_key);
    settings.voice = section.at(voice_key).template get<std::string>();
}

}  // namespace va::provider_options
