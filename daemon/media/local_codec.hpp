// The local media protocol of /media/local/{call_id} (vactl talk, tests, browsers): binary PCM16 mono 16 kHz both
// ways, JSON control messages (in: hangup, mark, dtmf; out: start, interim, user, agent, listening, clear, mark,
// error, end). The shapes are in docs/api-shapes.md.
// Thread-safety: one instance per call, used from its strand.
#pragma once

#include <memory>

#include "core/pipeline/media_codec.hpp"

namespace va {

std::unique_ptr<MediaCodec> make_local_codec();

}  // namespace va
