// ElevenLabs text-to-speech (provider-protocols.md 5) over either transport:
// - "websocket" (the default): one warm stream-input connection per call (input_stream.hpp).
// - "http": POST /v1/text-to-speech/{voice}/stream per sentence.
// Both stream: each sentence's audio reaches the call piece by piece as it arrives.
// The output format is the transport's where ElevenLabs has it (ulaw_8000 for Twilio, pcm_8000/16000/24000 for
// Exotel and local calls), so nothing is resampled. Errors in ElevenLabs' `detail` shape are mapped
// (invalid_api_key, quota_exceeded, 422 validation, 429 concurrency).
// Thread-safety: the factory is immutable; a client is used by one thread at a time; its sentences' callbacks run
// on the transport's I/O thread (the shared WebSocket thread or the HTTP engine's).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/providers/speech.hpp"
#include "providers/common/http_client.hpp"

namespace va::elevenlabs {

struct Settings {
    std::string api_key;
    std::string base_url = "https://api.elevenlabs.io";
    std::string ws_url;  // empty: base_url with ws(s)://
    std::string voice = "21m00Tcm4TlvDq8ikWAM";
    std::string model = "eleven_flash_v2_5";
    std::string transport = "websocket";  // or "http"
    int inactivity_timeout_s = 20;
    std::vector<int> chunk_schedule{120, 160, 250, 290};
    double speed = 1.0;
    int timeout_ms = 15000;  // a sentence's whole audio (HTTP: the request) within this
    // Stream-input only: a pause this long after audio ends a sentence whose alignment never adds up to its text
    // (normalised text: "$5" spoken as "five dollars").
    int quiet_ms = 800;
};

// "ulaw_8000", "pcm_16000", ...: the output_format matching the transport (PCM at the nearest rate ElevenLabs
// offers when it has no exact match).
std::string output_format(const AudioFormat& transport);
// The audio format an output_format name stands for; nullopt for formats this client does not decode (mp3...).
std::optional<AudioFormat> parse_output_format(const std::string& name);

// An ElevenLabs error answer as an Error.
Error api_error(const HttpResult& response);

// Shared by the two transports (tts.cpp, input_stream.cpp).
// The error, from provider "elevenlabs", its message saying so.
Error tagged(Error e);
// The ErrorCode for ElevenLabs' status strings ("quota_exceeded", "invalid_api_key", ...), `otherwise` for others.
ErrorCode code_for_status_string(const std::string& status, ErrorCode otherwise);
// The voice_settings object both transports send.
nlohmann::json voice_settings(const Settings& s);

std::shared_ptr<TtsFactory> tts_factory(Settings defaults);

}  // namespace va::elevenlabs
