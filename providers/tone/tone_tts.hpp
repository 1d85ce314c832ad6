// A zero-cost "speech" provider for benchmarks and pipeline tests: each sentence becomes a 440 Hz tone, 60 ms per
// word at 16 kHz, produced instantly. It lets a benchmark measure the pipeline alone.
// Thread-safety: the factory and clients may be used from any thread.
#pragma once

#include <memory>

#include "core/providers/speech.hpp"

namespace va::tone {

std::shared_ptr<TtsFactory> tone_tts_factory();

}  // namespace va::tone
