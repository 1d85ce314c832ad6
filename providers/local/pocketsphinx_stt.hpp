// Offline speech-to-text with pocketsphinx and Debian's en-us model (16 kHz wideband). Recognition is constrained
// to the agent's stt.grammar (JSGF) or a sentence grammar built from stt.phrases, which is what makes it reliable;
// with neither it falls back to the general language model, which garbles most sentences. Telephone-band audio
// (8 kHz) is not recognized at all by this model (see README).
// Thread-safety: factories may be shared; a client is used by one thread at a time.
#pragma once

#include <memory>

#include "core/providers/speech.hpp"

namespace va::local {

std::shared_ptr<SttFactory> pocketsphinx_stt_factory();

// The JSGF grammar used for a phrase list ("public <utterance> = (a b) | (c d);"), phrases normalized to
// lower-case words.
std::string phrases_to_jsgf(const std::vector<std::string>& phrases);

}  // namespace va::local
