// The speaker: a reply's sentences in, paced transport frames out. A streamed reply arrives sentence by sentence,
// as the responder completes them (the LLM's text is split into sentences once, there); a whole text said at once
// (greeting, reprompt, goodbye) is split here. Each sentence goes to the TTS provider while the next is still being
// written, either streamed (its chunks join the output as they come, and the first one plays at once) or
// synthesized whole on the worker pool (espeak-ng, tones).
// The output is held in the transport's own encoding: a chunk already in the transport's format (ElevenLabs'
// ulaw_8000 for Twilio) joins it byte for byte, anything else is resampled and encoded once. It goes out in the
// transport's chunks on an absolute 20 ms clock, so timer lateness never accumulates; one Timer of the executor is
// re-armed for every chunk rather than a task posted per chunk. A sentence that fails is retried once if the error is transient, else said by
// the agent's next TTS provider (the provider chain), else skipped. stop() (barge-in, hang-up) cancels the request
// in flight and drops every queued sample; what was played so far stays known for the heard part of the reply.
// Thread-safety: used from the call's strand only; provider callbacks are posted to it through the Executor.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/audio/resampler.hpp"
#include "core/pipeline/executor.hpp"
#include "core/providers/speech.hpp"

namespace va {

struct SpeakerEvents {
    std::function<void()> first_audio;  // the reply's first audio arrived from the provider (once per reply)
    // One transport chunk to send now, in the transport's encoding: `real` samples of speech, the rest silence;
    // `late_ms` behind its deadline.
    std::function<void(std::string_view wire, std::size_t real, std::int64_t late_ms)> frame;
    std::function<void()> done;                // the reply was played to its end (or there was nothing to say)
    std::function<void(const Error&)> failed;  // a sentence could not be said by anyone: it is skipped
    // The current provider failed for good: the chain's `next` entry is being built to say the same sentence.
    std::function<void(std::size_t next, const Error&)> fallback;
    std::function<void(const std::string& name)> provider;  // now speaking with this provider
};

// Builds the agent's TTS provider number `choice` of its chain (blocking: it may load a voice).
using MakeTts = std::function<Result<std::unique_ptr<TtsClient>>(std::size_t choice)>;

class Speaker {
public:
    Speaker(std::shared_ptr<Executor> executor, SpeakerEvents events, AudioFormat transport, std::size_t chunk_samples);
    ~Speaker();
    Speaker(const Speaker&) = delete;
    Speaker& operator=(const Speaker&) = delete;

    // The provider in use (entry `choice` of a chain of `chain_size`, built by `make` when one fails).
    void use(std::unique_ptr<TtsClient> tts, std::size_t chain_size = 1, MakeTts make = {});
    TtsClient* provider() const { return m_tts.get(); }

    // A streamed reply: its sentences arrive through add_sentence(), each whole and said as it is (the responder
    // split the LLM's text; splitting again would cost a second scan of every token), until end_text().
    // Whatever was still queued is dropped.
    void start_reply();
    void add_sentence(std::string sentence);
    void end_text();
    // A whole reply at once (greeting, reprompt, goodbye), split into sentences here so the first is synthesized
    // (and heard) before the rest.
    void say(std::string_view text);
    // Silences the reply at once (barge-in, the end of the call): no more frames, no done().
    void stop();

    bool active() const { return m_active; }  // a reply started and neither done nor stopped
    // How much of the reply's audio (known so far) has been sent: the heard part of an interrupted reply.
    double played_fraction() const;
    std::size_t played_samples() const { return m_sent; }

private:
    bool more_to_come() const { return m_synthesizing || !m_sentences.empty() || m_writing; }
    void synthesize_next();
    void stream_sentence(std::string sentence);
    void synthesized(const Result<TtsAudio>& audio);
    void sentence_done(const Status& outcome, const std::string& sentence);
    bool retry_or_fall_back(const Error& error, const std::string& sentence);
    void drop_request();
    void append(const TtsAudio& chunk, bool whole);
    void queue(std::span<const std::int16_t> pcm);  // transport-rate PCM joins the output, encoded
    std::size_t queued() const { return (m_out.size() - m_out_at) / m_transport.bytes_per_sample(); }  // samples
    void start_pacing();
    void pace();
    void finish();

    std::shared_ptr<Executor> m_exec;  // shared with provider callbacks, which post through it
    SpeakerEvents m_events;
    AudioFormat m_transport;
    std::size_t m_chunk;
    struct Chain {
        MakeTts make;
        std::size_t size = 1;
        std::size_t choice = 0;
        int failures = 0;  // sentences failed in a row with the current provider
    } m_chain;
    std::unique_ptr<TtsClient> m_tts;
    std::unique_ptr<TtsStream> m_stream;  // the sentence a streaming service is sending
    bool m_sentence_audio = false;        // some of that sentence arrived (a failure then is not retried)
    std::deque<std::string> m_sentences;  // written, not yet sent to the provider
    bool m_writing = false;  // more text of the reply is coming
    bool m_synthesizing = false;
    std::optional<Resampler> m_resampler;  // synthesis rate -> transport rate, one per call (speexdsp setup costs)
    std::string m_out;                     // the reply's audio in the transport's encoding; sent up to m_out_at
    std::string m_frame;  // the frame being sent, reused (its capacity) from one to the next
    std::size_t m_out_at = 0;
    struct Pacer {
        bool on = false;
        std::int64_t next_at = 0;
    } m_pacer;
    std::unique_ptr<Timer> m_timer;  // the pacer's, re-armed for every chunk (after m_exec: it goes first)
    std::size_t m_total = 0, m_sent = 0;  // samples of the reply known so far, and sent
    int m_reply = 0;                      // a stale reply's provider results find a newer number and are dropped
    bool m_active = false;
    bool m_first_audio = false;
};

}  // namespace va
