// What a fake caller says: a WAV file, or text spoken by espeak-ng (run as a program, as a person's voice would
// come from outside the daemon), as mono PCM16 at the call's rate; or, where hundreds of voices must be cheap (the
// timed provider fakes under load), a tone as long as the text would take to say.
// Thread-safety: a free function; each call uses its own temporary directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace va::fake {

// `say` is a path to an existing WAV file, or else text.
Result<std::vector<std::int16_t>> caller_speech(const std::string& say, int sample_rate);

// A 440 Hz tone at speech level standing in for `text` said at `ms_per_char` milliseconds per character (at
// least one character's worth), so its length follows the text as speech would.
std::vector<std::int16_t> tone_speech(const std::string& text, int ms_per_char, int sample_rate);

}  // namespace va::fake
