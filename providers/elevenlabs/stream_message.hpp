// What one text message of ElevenLabs' stream-input WebSocket says (provider-protocols.md 4): audio (base64),
// the characters it covers (alignment), the final flag, or an error. Read without trusting its shape: missing or
// mistyped fields read as absent, never as an exception, since the message comes from the network. tts.cpp
// acts on these; the fuzz harness drives this directly.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace va::elevenlabs {

struct StreamMessage {
    std::optional<std::string> audio;  // decoded bytes, when "audio" is valid base64
    bool bad_audio = false;            // "audio" is a string that is not base64: the message is broken
    std::size_t covered_chars = 0;     // visible characters of the text this audio speaks (alignment)
    bool is_final = false;
    std::optional<std::string> error_message;  // "message" of an error
    std::string error_status;                  // its "error" code ("quota_exceeded", ...), or empty
};

// nullopt when the text is not a JSON object.
std::optional<StreamMessage> parse_stream_message(std::string_view text);

// Characters other than spaces, tabs and line ends: how far alignment has covered a sentence.
std::size_t visible_chars(std::string_view text);

}  // namespace va::elevenlabs
