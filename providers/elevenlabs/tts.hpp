// ElevenLabs text-to-speech (provider-protocols.md 5) over either transport:
// - "websocket" (the default): one warm stream-input connection per call, opened when the call's media connects
//   (set_output); the first message carries voice settings and the chunk schedule, each sentence is sent with a
//   trailing space and flush:true, a single-space keep-alive goes out within the inactivity timeout, and
//   {"text":""} ends the stream at hang-up. A sentence's audio is complete when the alignment has covered its
//   characters (or the audio has paused after it). A connection the service closed (inactivity, an error) is
//   reopened for the next sentence.
// - "http": POST /v1/text-to-speech/{voice}/stream per sentence.
// The output format is the transport's where ElevenLabs has it (ulaw_8000 for Twilio, pcm_8000/16000/24000 for
// Exotel and local calls), so nothing is resampled. Errors in ElevenLabs' `detail` shape are mapped
// (invalid_api_key, quota_exceeded, 422 validation, 429 concurrency).
// Thread-safety: the factory is immutable; a client is used by one thread at a time (its connection's events
// arrive on the shared WebSocket thread and are handed over under a lock).
#pragma once

#include <memory>
#include <string>
#include <vector>

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
    int timeout_ms = 15000;
};

// "ulaw_8000", "pcm_16000", ...: the output_format matching the transport (PCM at the nearest rate ElevenLabs
// offers when it has no exact match).
std::string output_format(const AudioFormat& transport);
// The audio format an output_format name stands for; nullopt for formats this client does not decode (mp3...).
std::optional<AudioFormat> parse_output_format(const std::string& name);

// An ElevenLabs error answer as an Error.
Error api_error(const HttpResult& response);

std::shared_ptr<TtsFactory> tts_factory(Settings defaults);

}  // namespace va::elevenlabs
