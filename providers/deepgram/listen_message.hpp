// What one text message of Deepgram's /v1/listen stream says (provider-protocols.md 3), read without trusting its
// shape: missing or mistyped fields read as absent, never as an error or a crash, since the message comes from
// the network. The live stream (live_stt.cpp) turns these into SttEvents; the fuzz harness drives this directly.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace va::deepgram {

struct ListenMessage {
    enum class Type { other, results, speech_started, utterance_end, error };
    Type type = Type::other;
    // Results:
    std::string transcript;  // of the first alternative; empty when absent
    double confidence = 0;
    bool is_final = false;
    bool speech_final = false;
    bool from_finalize = false;
    std::optional<double> end_s;  // start + duration, when both are finite numbers
    // Error:
    std::string description;
};

// nullopt when the text is not a JSON object.
std::optional<ListenMessage> parse_listen_message(std::string_view text);

// Bytes of audio up to `end_s` seconds of the stream at `bytes_per_ms`, clamped to [0, limit] (a span from a
// misbehaving server must not overflow the conversion).
std::size_t settled_bytes(double end_s, std::size_t bytes_per_ms, std::size_t limit);

}  // namespace va::deepgram
