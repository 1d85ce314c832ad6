// Twilio Media Streams (bidirectional <Connect><Stream>): JSON text frames, camelCase, mu-law 8 kHz audio in
// base64 (provider-protocols.md section 2.3). In: connected, start, media, dtmf, mark (the echo of ours), stop.
// Out: media, mark, clear, each carrying the stream's streamSid. Only the inbound track is heard.
// Thread-safety: one codec per call, used from the call's strand.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/pipeline/media_codec.hpp"

namespace va::twilio {

std::unique_ptr<MediaCodec> make_media_codec();

// The TwiML that connects a call to a bidirectional stream at `stream_url` (no query string: Twilio forbids it)
// with <Parameter>s that come back in start.customParameters.
std::string connect_stream_twiml(const std::string& stream_url,
                                 const std::vector<std::pair<std::string, std::string>>& parameters);
// The TwiML that dials `number` (a transfer).
std::string dial_twiml(const std::string& number);
std::string xml_escape(std::string_view text);

}  // namespace va::twilio
