// Deepgram's one registration: STT provider "deepgram", its agent options, and its [deepgram] section.
#include "core/providers/provider_options.hpp"
#include "core/providers/registry.hpp"
#include "providers/common/config_checks.hpp"
#include "providers/deepgram/live_stt.hpp"

namespace va {

using nlohmann::json;

void register_deepgram_provider() {
    registry::add_config_section(
        {"deepgram",
         {{"api_key", ConfigKind::string, ""},  // empty = agents cannot use provider deepgram
          {"base_url", ConfigKind::string, "wss://api.deepgram.com"},
          {"model", ConfigKind::string, "nova-2"},
          {"endpointing_ms", ConfigKind::integer, 300},
          {"utterance_end_ms", ConfigKind::integer, 1000},
          {"reconnect_buffer_s", ConfigKind::number, 10.0}},  // caller audio kept while a connection is reopened
         [](json& v, std::vector<FieldError>& p) {
             config_checks::ws_url(p, "deepgram.base_url", v["base_url"]);
             config_checks::not_empty(p, "deepgram.base_url", v["base_url"]);
             config_checks::range(p, "deepgram.endpointing_ms", v["endpointing_ms"], 10, 10'000);
             config_checks::range(p, "deepgram.utterance_end_ms", v["utterance_end_ms"], 1000, 10'000);
             double buffer = v["reconnect_buffer_s"];
             if (!(buffer >= 0 && buffer <= 120)) p.push_back({"deepgram.reconnect_buffer_s", "must be between 0 and 120"});
         }});
    registry::add_stt({"deepgram", "deepgram",
                       [](const json& section) {
                           deepgram::Settings listen;
                           provider_options::read_service(section, listen);
                           listen.endpointing_ms = section["endpointing_ms"];
                           listen.utterance_end_ms = section["utterance_end_ms"];
                           listen.reconnect_buffer_s = section["reconnect_buffer_s"];
                           return deepgram::live_stt_factory(listen);
                       },
                       {{"properties",
                         {{"model", {{"type", "string"}, {"maxLength", 200}}},
                          {"language", {{"type", "string"}, {"maxLength", 35}}}}}},
                       false});
}

}  // namespace va
