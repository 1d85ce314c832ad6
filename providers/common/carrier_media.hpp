// The message both carriers' media WebSockets send fifty times a second per call, {"event":"media", ...,
// "media":{"payload":"<base64>", "track":...}} (Twilio Media Streams and Exotel AgentStream share its shape), read
// without building a JSON tree: the strict scanner of core/util/json_scan validates the whole message and picks
// out the event, the payload and the track. Whatever it declines, and every other event, the codec parses in full
// as before, so malformed or hostile input meets the same checks and gives the same errors.
// Thread-safety: one per codec, used from the call's strand.
#pragma once

#include <array>
#include <string_view>

#include "core/util/json_scan.hpp"

namespace va {

class CarrierMediaScan {
public:
    // True when `message` is a media event the scan understood completely: payload() and track() are then what
    // json_text() of the parsed message would give (empty when absent or not text). False: parse it in full.
    bool media(std::string_view message);
    std::string_view payload() const { return m_fields[1].text; }
    std::string_view track() const { return m_fields[2].text; }

private:
    std::array<JsonScanField, 3> m_fields{{{"", "event"}, {"media", "payload"}, {"media", "track"}}};
};

}  // namespace va
