// Speech provider interfaces: text-to-speech one sentence at a time (so the first sentence plays while the LLM is
// still writing the next), and speech-to-text one utterance at a time (the turn detector decides where an
// utterance ends; the recognizer may also see it arrive in pieces). Calls are blocking CPU work for the offline
// providers: the call session runs them on its worker pool and posts results back to its strand.
// Thread-safety: factories are immutable and shared; a client belongs to one call and is used by one thread at a
// time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/audio/format.hpp"
#include "core/util/result.hpp"

namespace va {

struct TtsAudio {
    AudioFormat format;
    std::vector<std::int16_t> samples;  // PCM16 at format.sample_rate
};

class TtsClient {
public:
    virtual ~TtsClient() = default;
    virtual Result<TtsAudio> synthesize(const std::string& sentence) = 0;
    // True when a call takes microseconds (test tones): the session then runs it on its own strand rather than
    // paying two thread hand-offs through the worker pool.
    virtual bool cheap() const { return false; }
};

class TtsFactory {
public:
    virtual ~TtsFactory() = default;
    virtual Result<std::unique_ptr<TtsClient>> create(const nlohmann::json& agent) const = 0;
};

struct Transcript {
    std::string text;
    double confidence = 0;
    std::string source;  // "pocketsphinx", "simulated", ...
};

class SttClient {
public:
    virtual ~SttClient() = default;
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

class SttFactory {
public:
    virtual ~SttFactory() = default;
    // `caller_lines` are the scripted caller's words for simulated recognition (ignored by real recognizers).
    virtual Result<std::unique_ptr<SttClient>> create(const nlohmann::json& agent,
                                                      const std::vector<std::string>& caller_lines) const = 0;
};

}  // namespace va
