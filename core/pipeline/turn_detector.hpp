// The turn detector: the caller's audio in, the caller's turns out. The VAD decides when the caller speaks; an
// utterance recognizer (pocketsphinx, simulated) gets each utterance on the worker pool, piece by piece for
// interim words and whole at its end, one job at a time and in order, from a bounded queue (full: the utterance
// is dropped and reported as a failed recognition); a streaming recognizer (Deepgram) hears all
// the audio, gets a Finalize when the VAD hears the caller stop, and its own events (speech_final, UtteranceEnd)
// end the turn. A streaming recognizer that fails for good hands the call to the agent's next recognizer (the
// provider chain), which hears the audio from then on.
// Thread-safety: used from the call's strand only; a streaming recognizer's events are posted to it through the
// Executor.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/audio/resampler.hpp"
#include "core/audio/vad.hpp"
#include "core/pipeline/executor.hpp"
#include "core/providers/speech.hpp"

namespace va {

struct TurnEvents {
    std::function<void()> speech_started;  // the caller began to speak (the VAD, or the service's own VAD)
    // The caller has been speaking for `speech_ms` in an utterance that began at `started_at` (each chunk).
    std::function<void(int speech_ms, std::int64_t started_at)> speaking;
    std::function<void(const std::string& text)> interim;  // words that may still change (each new guess once)
    // The caller's turn ended at `speech_end` and was recognized at `recognized_at` (empty text: nothing heard).
    std::function<void(const Result<Transcript>& heard, std::int64_t speech_end, std::int64_t recognized_at)> heard;
    std::function<void(std::size_t next, const Error&)> fallback;  // the chain's `next` recognizer takes over
    std::function<void(const std::string& name)> provider;          // now recognizing with this provider
    std::function<void(const Error&)> failed;  // no recognizer is left: the call cannot go on
};

using MakeStt = std::function<Result<std::unique_ptr<SttClient>>(std::size_t choice)>;

class TurnDetector {
public:
    // `transport` is the caller audio's format (rate of the PCM given to hear()); an utterance is cut for the
    // recognizer once it reaches `max_utterance_ms` (speech that never pauses: noise, music).
    TurnDetector(std::shared_ptr<Executor> executor, TurnEvents events, AudioFormat transport, VadOptions vad, int max_utterance_ms);
    ~TurnDetector();
    TurnDetector(const TurnDetector&) = delete;
    TurnDetector& operator=(const TurnDetector&) = delete;

    // The recognizer in use: entry 0 of a chain of `chain_size`, whose next entries `make` builds.
    void use(std::unique_ptr<SttClient> stt, std::size_t chain_size = 1, MakeStt make = {});
    void hear(const CallerAudio& audio);
    // The call is over: a stream is closed gracefully and nothing more is reported.
    void close();

    // The caller is mid-utterance or being recognized (no reprompt then).
    bool busy() const { return m_utterance.in || m_recognizing; }

private:
    struct Job {  // a piece of the utterance: the first opens it, the last closes it
        std::vector<std::int16_t> audio;
        bool first = false;
        bool last = false;
        std::int64_t ended_at = 0;
    };
    std::size_t samples_of(int ms) const { return std::size_t(m_transport.sample_rate) * std::size_t(ms) / 1000; }
    void start_recognizer();
    void queue(bool last);
    void refuse(bool last);
    void recognize_next();
    void partial(const std::string& text);
    void on_stream_event(const SttEvent& event);
    void stream_turn_end();
    void stream_failed(const Error& error);

    std::shared_ptr<Executor> m_exec;  // shared with provider callbacks, which post through it
    TurnEvents m_events;
    AudioFormat m_transport;
    Vad m_vad;
    std::size_t m_max_utterance;  // samples
    std::unique_ptr<SttClient> m_stt;
    struct Chain {
        MakeStt make;
        std::size_t size = 1;
        std::size_t choice = 0;
    } m_chain;
    int m_generation = 0;  // events of a replaced or closed stream find a newer generation and are ignored
    // Audio before the VAD decided speech started (utterance recognizers): its last kPrerollMs count.
    std::vector<std::int16_t> m_preroll;
    struct Utterance {
        bool in = false;
        bool first = false;  // its first piece is not yet queued
        bool refused = false;  // the queue was full: the rest of this utterance is dropped too
        std::size_t samples = 0;
        std::int64_t started_at = 0;
        std::vector<std::int16_t> audio;  // not yet queued
    } m_utterance;
    std::deque<Job> m_jobs;
    bool m_recognizing = false;
    std::string m_last_partial;
    std::optional<Resampler> m_resampler;  // transport rate -> the utterance recognizer's rate
    struct Settled {  // a streaming recognizer's final words of this turn
        std::string text;
        double confidence = 0;
        std::int64_t speech_end_at = 0;  // when the VAD heard the caller stop
    } m_settled;
};

}  // namespace va
