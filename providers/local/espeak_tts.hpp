// Offline text-to-speech with the espeak-ng library: the agent's tts.voice (default "en-us") and tts.rate (words
// per minute), output PCM16 mono at espeak-ng's 22050 Hz. espeak-ng keeps global state, so synthesis is
// serialized process-wide; one sentence takes a few milliseconds.
// Thread-safety: the factory and clients may be used from any thread.
#pragma once

#include <memory>

#include "core/providers/speech.hpp"

namespace va::local {

std::shared_ptr<TtsFactory> espeak_tts_factory();

}  // namespace va::local
