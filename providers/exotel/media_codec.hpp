// Exotel AgentStream (the Voicebot applet, and Connect Voice AI calls): JSON text frames, snake_case keys, numbers
// as strings, PCM16 little-endian mono in base64 at the rate asked for in the URL (8000, 16000 or 24000 Hz;
// provider-protocols.md 1.3). In: connected, start, media, dtmf, mark (the echo of ours), stop. Out: media, mark,
// clear with the stream's stream_sid. What we send must follow Exotel's chunk rules (a multiple of 320 bytes, at
// least 3200, at most 100 KB), so outbound audio goes in chunks of 3200 bytes or 100 ms, whichever is longer;
// synthesis delivers whole sentences, so the first chunk of a reply goes out at once and adds no delay.
// Thread-safety: one codec per call, used from the call's strand.
#pragma once

#include <cstddef>
#include <memory>

#include "core/pipeline/media_codec.hpp"

namespace va::exotel {

// `sample_rate`: the rate given in the stream URL (Exotel's own start message is not trusted for it).
std::unique_ptr<MediaCodec> make_media_codec(int sample_rate);

// Exotel's rules for a media payload we send.
bool chunk_ok(std::size_t payload_bytes);

}  // namespace va::exotel
