// How one transport carries a voice call's audio and control over its WebSocket (the local protocol, Twilio Media
// Streams, Exotel AgentStream): incoming messages are parsed into events for the call session, outgoing audio,
// clear and marks are encoded as the transport wants them. Codecs are pure: strings in, strings out, no I/O, so
// the session and each protocol are tested apart.
// Thread-safety: one codec per call, used from the call's strand only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/audio/format.hpp"

namespace va {

// What the session hears from the transport.
class MediaSink {
public:
    virtual ~MediaSink() = default;
    // The stream is set up: the codec now knows its rate. `info` has carrier ids and custom parameters.
    virtual void on_media_start(const nlohmann::json& info) = 0;
    // PCM16 at the codec's rate, and the same samples as the carrier sent them when its encoding() is not PCM16
    // (mu-law bytes for Twilio; empty otherwise), so a service that takes that encoding gets them untouched.
    virtual void on_media_audio(std::span<const std::int16_t> pcm, std::string_view wire) = 0;
    virtual void on_media_dtmf(const std::string& digit) = 0;
    virtual void on_media_mark(const std::string& name) = 0;
    // The far end ended the stream (the caller hung up, or the client asked to hang up).
    virtual void on_media_stop(const std::string& reason) = 0;
    // A message that could not be understood; the call goes on.
    virtual void on_media_error(const std::string& message) = 0;
};

struct MediaMessage {
    bool binary = false;
    std::string data;
};

class MediaCodec {
public:
    virtual ~MediaCodec() = default;
    virtual std::string channel() const = 0;  // the call's channel: local, twilio, exotel
    // PCM16 rate of the call audio (0 until on_media_start for transports that announce it).
    virtual int sample_rate() const = 0;
    // The carrier's own encoding on the wire: parse() gives PCM16 beside it, audio() takes it as is. Providers that
    // can take or produce it directly (Deepgram, ElevenLabs) are asked for it.
    virtual Encoding encoding() const { return Encoding::pcm16; }
    // Outbound audio goes out in chunks of this many samples (the last one padded with silence).
    virtual std::size_t chunk_samples() const { return std::size_t(sample_rate() / 50); }
    // Whether the stream is live as soon as the WebSocket opens (no start message to wait for).
    virtual bool starts_on_open() const { return false; }

    virtual void parse(std::string_view message, bool binary, MediaSink& sink) = 0;
    // A text message that is the carrier's media event as its strict scanner reads it (core/util/json_scan, which
    // validates the whole message and declines any nesting deeper than kMaxJsonScanDepth): true when it was, and
    // the sink has had it as parse() would give it; false, with nothing done, for anything else, which then goes
    // the usual way (the daemon's depth check, then parse()).
    virtual bool parse_media(std::string_view message, MediaSink& sink) {
        (void)message;
        (void)sink;
        return false;
    }
    // One outbound chunk, its bytes in encoding() at sample_rate(), wrapped as the transport wants them.
    virtual MediaMessage audio(std::string_view wire) = 0;
    virtual std::optional<std::string> clear() = 0;
    virtual std::optional<std::string> mark(const std::string& name) = 0;
    // The session's JSON control messages (turns, listening, end...): only the local protocol carries them.
    virtual std::optional<std::string> control(const nlohmann::json& message) { (void)message; return std::nullopt; }
};

// A carrier JSON field as text: carriers send numbers as strings or as numbers, and ids may be absent.
inline std::string json_text(const nlohmann::json& object, const char* key) {
    if (!object.is_object() || !object.contains(key)) return {};
    const nlohmann::json& v = object[key];
    return v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : std::string();
}

}  // namespace va
