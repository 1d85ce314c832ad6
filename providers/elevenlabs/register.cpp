// ElevenLabs' one registration: TTS provider "elevenlabs", its agent options, and its [elevenlabs] section.
#include "core/providers/provider_options.hpp"
#include "core/providers/registry.hpp"
#include "providers/common/config_checks.hpp"
#include "providers/elevenlabs/tts.hpp"

namespace va {

using nlohmann::json;

void register_elevenlabs_provider() {
    registry::add_config_section(
        {"elevenlabs",
         {{"api_key", ConfigKind::string, ""},  // empty = agents cannot use provider elevenlabs
          {"base_url", ConfigKind::string, "https://api.elevenlabs.io"},
          {"ws_url", ConfigKind::string, ""},  // the stream-input WebSocket's base; empty = base_url as ws(s)://
          {"voice", ConfigKind::string, "21m00Tcm4TlvDq8ikWAM"},
          {"model", ConfigKind::string, "eleven_flash_v2_5"},
          {"transport", ConfigKind::string, "websocket"},  // websocket (one warm connection per call) | http
          {"inactivity_timeout_s", ConfigKind::integer, 20}},
         [](json& v, std::vector<FieldError>& p) {
             config_checks::http_url(p, "elevenlabs.base_url", v["base_url"]);
             config_checks::not_empty(p, "elevenlabs.base_url", v["base_url"]);
             config_checks::ws_url(p, "elevenlabs.ws_url", v["ws_url"]);
             if (v["transport"] != "websocket" && v["transport"] != "http")
                 p.push_back({"elevenlabs.transport", "must be websocket or http"});
             config_checks::range(p, "elevenlabs.inactivity_timeout_s", v["inactivity_timeout_s"], 5, 180);
         }});
    registry::add_tts({"elevenlabs", "elevenlabs",
                       [](const json& section) {
                           elevenlabs::Settings eleven;
                           provider_options::read_tts_service(section, eleven);
                           eleven.ws_url = section["ws_url"];
                           eleven.transport = section["transport"];
                           eleven.inactivity_timeout_s = section["inactivity_timeout_s"];
                           return elevenlabs::tts_factory(eleven);
                       },
                       provider_options::tts_voice_schema(), false});
}

}  // namespace va
