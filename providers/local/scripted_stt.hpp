// The scripted recognizer for deterministic tests and `vactl calls simulate`: each utterance the VAD detects yields
// the next line of the agent's stt.script, labelled "simulated" (a simulate request's caller lines are put there by
// the daemon, which picks this provider as kSimulatedStt). Interim results reveal the line a word per piece of audio.
// Thread-safety: the factory may be shared; a client is used by one thread at a time.
#pragma once

#include <memory>

#include "core/providers/speech.hpp"

namespace va::local {

std::shared_ptr<SttFactory> scripted_stt_factory();

}  // namespace va::local
