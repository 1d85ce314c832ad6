// OpenAI text-to-speech (provider-protocols.md 4.2): POST /v1/audio/speech with response_format pcm (raw PCM16 at
// 24 kHz, streamed), one request per sentence. The session resamples to the transport's rate (Exotel streams
// opened at 24 kHz need none). Errors read like chat's (insufficient_quota is a quota error).
// Thread-safety: the factory is immutable; a client is used by one thread at a time; speak()'s callbacks come
// from the shared HTTP engine's thread.
#pragma once

#include <memory>
#include <string>

#include "core/providers/speech.hpp"

namespace va::openai {

struct SpeechSettings {
    std::string base_url = "https://api.openai.com/v1";
    std::string api_key;
    std::string model = "gpt-4o-mini-tts";
    std::string voice = "alloy";
    double speed = 1.0;
    int timeout_ms = 15000;
};

inline constexpr int kSpeechPcmRate = 24000;

// The request body for one sentence (exposed for tests).
nlohmann::json speech_body(const SpeechSettings& settings, const std::string& sentence);

// The factory for agents with "tts": {"provider": "openai", "voice", "model", "speed"}; the key and base URL come
// from the daemon's [openai] configuration.
std::shared_ptr<TtsFactory> speech_factory(SpeechSettings defaults);

}  // namespace va::openai
