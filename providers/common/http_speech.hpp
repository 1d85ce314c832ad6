// A TTS sentence streamed over HTTP on the shared engine (providers/common/http_engine.hpp), for every service that
// answers a sentence with a body of raw audio (ElevenLabs' /stream, OpenAI's /audio/speech): the body's bytes are
// handed to the sink piece by piece as they arrive: PCM16 as samples (one split across two pieces included), G.711
// as the bytes it came in (TtsAudio::wire), which nothing decodes unless it needs samples. Cancelling the returned stream drops the request.
// Thread-safety: the sink's callbacks run on the engine's thread; the stream may be cancelled from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "core/providers/speech.hpp"
#include "providers/common/http_client.hpp"

namespace va {

// One piece of a body in `format`: PCM16 decoded to samples, G.711 kept as its bytes.
TtsAudio speech_chunk(const AudioFormat& format, std::string_view bytes);

// The most audio one sentence may bring: a service that sends more (a fault, or a hostile server) is cut off there
// with a too_large error, so what queues for the call's pacer stays bounded.
inline constexpr int kMaxSentenceAudioSeconds = 300;

// The service's error for a transfer that failed or a status other than 200.
using SpeechError = std::function<Error(const Result<HttpResult>& outcome)>;

std::unique_ptr<TtsStream> stream_speech(HttpRequest request, AudioFormat body_format, TtsSink sink,
                                         SpeechError error_for);

}  // namespace va
