// Speech provider interfaces: text-to-speech one sentence at a time (so the first sentence plays while the LLM is
// still writing the next), and speech-to-text either one utterance at a time (offline recognizers: the session's
// VAD decides where an utterance ends) or as a stream of the whole call (cloud services such as Deepgram, whose
// own endpointing reports speech starts, interim words and the end of each utterance as events). Offline calls
// are blocking CPU work, which the call session runs on its worker pool; network services stream (speak(), a
// StreamingRecognizer), so no thread waits on the network for them.
// Thread-safety: factories are immutable and shared; a client belongs to one call and is used by one thread at a
// time, except that a streaming recognizer's events and a streamed sentence's audio arrive on the provider's own
// I/O thread (the session posts them to its strand).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/audio/format.hpp"
#include "core/util/result.hpp"

namespace va {

// A piece of synthesized speech. Audio a service sends in G.711 stays as it came (`wire`), so a transport in that
// same format carries it untouched (ElevenLabs' ulaw_8000 to Twilio) and only what needs samples decodes it.
struct TtsAudio {
    AudioFormat format;
    std::vector<std::int16_t> samples;  // PCM16 at format.sample_rate, when format.encoding is PCM16
    std::string wire;                   // the bytes in format.encoding, when that is not PCM16 (samples is empty)

    std::size_t size() const { return format.encoding == Encoding::pcm16 ? samples.size() : wire.size(); }
};

// One sentence's audio as a network service sends it.
struct TtsSink {
    std::function<void(TtsAudio chunk)> on_audio;  // in order, on the provider's thread
    std::function<void(Status outcome)> on_done;   // once, after the last chunk, unless cancelled first
};

class TtsStream {
public:
    virtual ~TtsStream() = default;  // cancels
    // Drops the request and its audio: after cancel() returns, no callback of this stream runs.
    virtual void cancel() = 0;
};

class TtsClient {
public:
    virtual ~TtsClient() = default;
    // The whole sentence's audio. Services that stream() compute it from their stream (for tools and tests); the
    // others compute it here, as blocking CPU work the session runs on its worker pool.
    virtual Result<TtsAudio> synthesize(const std::string& sentence) = 0;
    // True for services whose audio arrives over the network: the session then calls speak() and paces each chunk
    // as it comes, and no thread waits for the rest.
    virtual bool streams() const { return false; }
    // Starts the sentence's request and returns at once. Only called when streams() is true.
    virtual std::unique_ptr<TtsStream> speak(const std::string& sentence, TtsSink sink) {
        (void)sentence;
        (void)sink;
        return nullptr;
    }
    // The transport's format, given before the first sentence: providers that can produce it directly (mu-law
    // 8 kHz for Twilio, PCM at the Exotel stream's rate) ask for it, so nothing is resampled.
    virtual void set_output(const AudioFormat& transport) { (void)transport; }
    // A short name for events and the call record ("elevenlabs", "espeak-ng").
    virtual std::string name() const { return {}; }
    // True when a call takes microseconds (test tones): the session then runs it on its own strand rather than
    // paying two thread hand-offs through the worker pool.
    virtual bool cheap() const { return false; }
};

// synthesize() for a client that streams: speak(), waiting for the whole sentence.
Result<TtsAudio> synthesize_streamed(TtsClient& client, const std::string& sentence);

class TtsFactory {
public:
    virtual ~TtsFactory() = default;
    virtual Result<std::unique_ptr<TtsClient>> create(const nlohmann::json& agent) const = 0;
};

// What a streaming recognizer heard.
struct SttEvent {
    enum class Kind {
        speech_started,  // the service's VAD heard speech begin (barge-in can start here)
        interim,         // words that may still change
        final,           // a settled span; `speech_final` when the service's endpointing says the turn ended
        utterance_end,   // a gap after the last final words (the backstop when endpointing never fires)
        failed,          // the stream is gone for good (bad key, quota, reconnects exhausted): `error` says why
    };
    Kind kind = Kind::interim;
    std::string text;
    bool speech_final = false;
    bool from_finalize = false;
    double confidence = 0;
    Error error;
};

struct Transcript {
    std::string text;
    double confidence = 0;
    std::string source;  // "pocketsphinx", "simulated", ...
};

class UtteranceRecognizer;
class StreamingRecognizer;

// A recognizer is one of two kinds, and the turn detector drives each its own way: an utterance recognizer gets
// the audio the session's VAD cut out, a streaming one hears the whole call and finds the turns itself.
class SttClient {
public:
    virtual ~SttClient() = default;
    virtual std::string name() const { return {}; }
    // Exactly one of these is not null.
    virtual UtteranceRecognizer* utterances() { return nullptr; }
    virtual StreamingRecognizer* stream() { return nullptr; }
};

// Offline recognizers (pocketsphinx, simulated): blocking CPU work the session runs on its worker pool.
class UtteranceRecognizer : public SttClient {
public:
    UtteranceRecognizer* utterances() final { return this; }
    virtual int sample_rate() const = 0;  // the PCM16 rate push() expects; 0 takes any rate as it comes
    virtual void push(std::span<const std::int16_t> samples) = 0;
    // What the recognizer has heard so far in this utterance: interim words that may still change. Empty when it
    // has nothing yet or gives no interim results.
    virtual std::string partial() { return {}; }
    // Ends the utterance and returns what was said (empty text when nothing was recognized).
    virtual Result<Transcript> finish() = 0;
    // Drops the current utterance (caller noise, a cancelled turn).
    virtual void reset() = 0;
    // True when calls take microseconds (simulated recognition): see TtsClient::cheap().
    virtual bool cheap() const { return false; }
};

// A piece of the caller's audio: PCM16 for whatever needs samples, and the same audio as the carrier sent it
// (`wire`, in the transport's encoding; empty when that is PCM16 itself), which a service that takes the
// carrier's encoding gets untouched.
struct CallerAudio {
    std::span<const std::int16_t> pcm;
    std::string_view wire;
};

// Cloud services (Deepgram): the stream hears all of the caller's audio from start() to close() and reports
// through events on its own I/O thread; nothing here blocks.
class StreamingRecognizer : public SttClient {
public:
    StreamingRecognizer* stream() final { return this; }
    // Opens the stream for audio in `transport` (the carrier's own encoding is sent where the service takes it).
    virtual void start(const AudioFormat& transport, std::function<void(SttEvent)> on_event) = 0;
    virtual void push(const CallerAudio& audio) = 0;  // queues; never blocks
    // The session's VAD heard the caller stop: flush what is buffered now rather than waiting for endpointing.
    virtual void finalize() = 0;
    // The call is over: end the stream gracefully; no events follow.
    virtual void close() = 0;
};

class SttFactory {
public:
    virtual ~SttFactory() = default;
    // `agent` is the whole definition with "stt" set to this provider's entry of the chain. Simulated recognition
    // (a simulate request's caller lines) is a provider of its own (kSimulatedStt, core/providers/registry.hpp).
    virtual Result<std::unique_ptr<SttClient>> create(const nlohmann::json& agent) const = 0;
};

}  // namespace va
