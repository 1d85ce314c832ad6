#include "core/pipeline/turn_detector.hpp"

#include <algorithm>
#include <utility>

namespace va {

namespace {
// Audio before the VAD decided speech started, kept for the recognizer, in milliseconds: as long as the VAD's
// noise-floor window, because speech at the very start of a stream is only detected once the floor has seen a
// quieter frame.
constexpr int kPrerollMs = 1500;
// How much new caller audio an utterance recognizer gets at a time (each piece may yield interim words).
constexpr int kInterimMs = 300;
// Pieces waiting for the recognizer, at most: 30 s of caller audio at 300 ms a piece. More means recognition is
// far slower than speech (a saturated worker pool, a recognizer never built), and the backlog would only grow. We
// refuse new pieces rather than drop the oldest: the queue is utterances in order, and dropping a piece from the
// front would feed the recognizer an utterance without its beginning. The utterance being refused is dropped
// whole (its pieces still queued too, since without its last piece it would never be finished), and reported as
// a failed recognition, which the call logs and announces.
constexpr std::size_t kMaxQueuedPieces = 100;
}  // namespace

TurnDetector::TurnDetector(std::shared_ptr<Executor> executor, TurnEvents events, AudioFormat transport, VadOptions vad,
                           int max_utterance_ms)
    : m_exec(std::move(executor)),
      m_events(std::move(events)),
      m_transport(transport),
      m_vad((vad.sample_rate = transport.sample_rate, vad)),
      m_max_utterance(std::size_t(transport.sample_rate) * std::size_t(std::max(1, max_utterance_ms)) / 1000) {}

TurnDetector::~TurnDetector() { close(); }

void TurnDetector::use(std::unique_ptr<SttClient> stt, std::size_t chain_size, MakeStt make) {
    m_chain = Chain{std::move(make), std::max<std::size_t>(1, chain_size), 0};
    m_stt = std::move(stt);
    start_recognizer();
    recognize_next();  // utterances heard while the recognizer was being built
}

void TurnDetector::close() {
    ++m_generation;
    if (m_stt && m_stt->stream()) m_stt->stream()->close();
    m_jobs.clear();
}

void TurnDetector::start_recognizer() {
    if (m_events.provider) m_events.provider(m_stt->name());
    if (auto* u = m_stt->utterances()) {
        int rate = u->sample_rate();
        m_resampler.emplace(m_transport.sample_rate, rate > 0 ? rate : m_transport.sample_rate);
        return;
    }
    int generation = ++m_generation;
    // The service's thread touches only the executor: the detector itself is reached on the strand.
    m_stt->stream()->start(m_transport, [this, exec = m_exec, generation](SttEvent event) {
        exec->post([this, generation, event = std::move(event)] {
            if (generation == m_generation) on_stream_event(event);
        });
    });
}

void TurnDetector::hear(const CallerAudio& audio) {
    auto samples = audio.pcm;
    // A streaming recognizer hears everything and finds the turns itself; the VAD still tells the session when the
    // caller speaks (barge-in, the silence timer) and sends a Finalize when the caller stops.
    StreamingRecognizer* stream = m_stt ? m_stt->stream() : nullptr;
    bool streaming = stream != nullptr;
    if (stream) stream->push(audio);
    auto event = m_vad.process(samples);
    auto& u = m_utterance;
    if (m_vad.speaking()) {
        if (!u.in) {
            u.in = true;
            u.first = true;
            u.started_at = m_exec->now_ms();
            u.samples = 0;
            if (!streaming) {
                std::size_t keep = std::min(m_preroll.size(), samples_of(kPrerollMs));
                u.audio.assign(m_preroll.end() - std::ptrdiff_t(keep), m_preroll.end());
            }
            m_preroll.clear();
            if (m_events.speech_started) m_events.speech_started();
        }
        if (!streaming) u.audio.insert(u.audio.end(), samples.begin(), samples.end());
        u.samples += samples.size();
        if (m_events.speaking) m_events.speaking(m_vad.speech_ms(), u.started_at);
        // The recognizer hears the utterance as it goes, for interim words (and word barge-in).
        if (!streaming && u.in && (u.first || u.audio.size() >= samples_of(kInterimMs))) queue(false);
    } else if (!streaming) {
        // A sliding window kept as a vector twice its length: the front is dropped in one move once it has doubled,
        // rather than sample by sample at every frame.
        m_preroll.insert(m_preroll.end(), samples.begin(), samples.end());
        if (m_preroll.size() > 2 * samples_of(kPrerollMs))
            m_preroll.erase(m_preroll.begin(), m_preroll.end() - std::ptrdiff_t(samples_of(kPrerollMs)));
    }
    // Speech that never pauses (noise, music) is cut into utterances the recognizer can hold.
    bool too_long = !streaming && u.samples >= m_max_utterance;
    if ((event == Vad::Event::speech_end || too_long) && u.in) {
        u.in = false;
        if (streaming) {
            m_settled.speech_end_at = m_exec->now_ms();
            stream->finalize();
        } else {
            if (u.first) u.audio.insert(u.audio.end(), samples.begin(), samples.end());
            queue(true);
        }
    }
}

// --- utterance recognizers: one job at a time, in order, on the worker pool ----------------------------------

void TurnDetector::queue(bool last) {
    if (m_utterance.refused || m_jobs.size() >= kMaxQueuedPieces) return refuse(last);
    m_jobs.push_back({std::move(m_utterance.audio), m_utterance.first, last, last ? m_exec->now_ms() : 0});
    m_utterance.audio.clear();
    m_utterance.first = false;
    recognize_next();
}

void TurnDetector::refuse(bool last) {
    m_utterance.audio.clear();
    m_utterance.first = false;
    if (!std::exchange(m_utterance.refused, !last)) {
        // The first refusal in this utterance: its pieces at the back of the queue (after the previous utterance's
        // last one) go too.
        while (!m_jobs.empty() && !m_jobs.back().last) m_jobs.pop_back();
        auto now = m_exec->now_ms();
        if (m_events.heard)
            m_events.heard(make_error(ErrorCode::unavailable, "recognition is " + std::to_string(m_jobs.size()) +
                                                                  " pieces behind the caller; an utterance was dropped"),
                           now, now);
    }
}

void TurnDetector::recognize_next() {
    if (m_recognizing || !m_stt || m_jobs.empty()) return;
    auto* stt = m_stt->utterances();
    if (!stt) return m_jobs.clear();  // audio from before a stream started: it hears the rest
    m_recognizing = true;
    auto job = std::make_shared<Job>(std::move(m_jobs.front()));
    m_jobs.pop_front();
    struct Outcome {
        std::string partial;
        Result<Transcript> final = make_error(ErrorCode::internal, "");
    };
    auto outcome = std::make_shared<Outcome>();
    int generation = m_generation;
    run_work(
        *m_exec, stt->cheap(),
        [stt, resampler = &*m_resampler, job, outcome] {
            if (job->first) {
                stt->reset();
                resampler->reset();
            }
            if (resampler->passthrough()) {
                stt->push(job->audio);
            } else {
                std::vector<std::int16_t> audio;
                resampler->process(job->audio, audio);
                if (job->last) resampler->flush(audio);
                stt->push(audio);
            }
            if (job->last) outcome->final = stt->finish();
            else outcome->partial = stt->partial();
        },
        [this, job, outcome, generation] {
            m_recognizing = false;
            if (generation != m_generation) return;  // closed meanwhile
            if (job->last) {
                m_last_partial.clear();
                if (m_events.heard) m_events.heard(outcome->final, job->ended_at, m_exec->now_ms());
            } else {
                partial(outcome->partial);
            }
            recognize_next();
        });
}

void TurnDetector::partial(const std::string& text) {
    if (text.empty() || text == m_last_partial) return;
    m_last_partial = text;
    if (m_events.interim) m_events.interim(text);
}

// --- streaming recognizers -------------------------------------------------------------------------------------

void TurnDetector::on_stream_event(const SttEvent& e) {
    switch (e.kind) {
        case SttEvent::Kind::speech_started:
            if (m_events.speech_started) m_events.speech_started();
            break;
        case SttEvent::Kind::interim:
            partial(e.text);
            break;
        case SttEvent::Kind::final:
            if (!e.text.empty()) {
                m_settled.text += (m_settled.text.empty() ? "" : " ") + e.text;
                m_settled.confidence = e.confidence;
            }
            if (e.speech_final || e.from_finalize) stream_turn_end();
            break;
        case SttEvent::Kind::utterance_end:
            stream_turn_end();
            break;
        case SttEvent::Kind::failed:
            stream_failed(e.error);
            break;
    }
}

// The service says the caller's turn is over: what it settled is the caller's words.
void TurnDetector::stream_turn_end() {
    if (m_settled.text.empty()) return;
    Transcript heard{std::move(m_settled.text), m_settled.confidence, m_stt->name()};
    m_settled.text.clear();
    m_last_partial.clear();
    auto now = m_exec->now_ms();
    auto speech_end = m_settled.speech_end_at ? m_settled.speech_end_at : now;
    m_settled.speech_end_at = 0;
    if (m_events.heard) m_events.heard(heard, speech_end, now);
}

// The stream is gone for good: the next recognizer the agent lists takes over (audio from now on).
void TurnDetector::stream_failed(const Error& error) {
    if (!m_chain.make || m_chain.choice + 1 >= m_chain.size) {
        if (m_events.failed) m_events.failed(error);
        return;
    }
    std::size_t choice = ++m_chain.choice;
    if (m_events.fallback) m_events.fallback(choice, error);
    close();
    int generation = m_generation;
    auto next = std::make_shared<Result<std::unique_ptr<SttClient>>>(make_error(ErrorCode::internal, ""));
    m_exec->run_blocking([make = m_chain.make, next, choice] { *next = make(choice); },
                        [this, next, generation] {
                            if (generation != m_generation) return;  // closed meanwhile
                            if (!*next) {
                                if (m_events.failed) m_events.failed(next->error());
                                return;
                            }
                            m_stt = std::move(*next).value();
                            start_recognizer();
                        });
}

}  // namespace va
