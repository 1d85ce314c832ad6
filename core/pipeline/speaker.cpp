#include "core/pipeline/speaker.hpp"

#include <algorithm>
#include <vector>

#include "core/pipeline/sentences.hpp"

namespace va {

namespace {
constexpr int kFrameMs = 20;  // how often an idle pacer looks again for audio still to come
}

Speaker::Speaker(std::shared_ptr<Executor> executor, SpeakerEvents events, AudioFormat transport, std::size_t chunk_samples)
    : m_exec(std::move(executor)), m_events(std::move(events)), m_transport(transport), m_chunk(std::max<std::size_t>(1, chunk_samples)) {
    m_timer = m_exec->make_timer([this] { pace(); });
}

Speaker::~Speaker() { drop_request(); }

void Speaker::use(std::unique_ptr<TtsClient> tts, std::size_t chain_size, MakeTts make) {
    m_tts = std::move(tts);
    m_tts->set_output(m_transport);
    m_chain = Chain{std::move(make), std::max<std::size_t>(1, chain_size), 0, 0};
    if (m_events.provider) m_events.provider(m_tts->name());
    synthesize_next();  // what was said before there was a provider (a goodbye while the call was starting)
}

void Speaker::start_reply() {
    drop_request();
    ++m_reply;
    m_active = true;
    m_first_audio = false;
    m_total = m_sent = 0;
    m_out.clear();
    m_out_at = 0;
    m_sentences.clear();
    m_writing = true;
}

void Speaker::add_sentence(std::string sentence) {
    if (sentence.empty()) return;
    m_sentences.push_back(std::move(sentence));
    synthesize_next();
}

void Speaker::end_text() {
    m_writing = false;
    if (m_sentences.empty() && !m_synthesizing && !m_pacer.on) return finish();  // nothing (more) to say
    synthesize_next();
}

// The one place a text is split here: a whole text is one chunk, so the splitter's rule for a terminator that
// closes a streamed token is the rule for the text's end.
void Speaker::say(std::string_view text) {
    start_reply();
    SentenceSplitter splitter;
    for (auto& sentence : splitter.push(text)) m_sentences.push_back(std::move(sentence));
    if (auto rest = splitter.flush(); !rest.empty()) m_sentences.push_back(std::move(rest));
    end_text();
}

void Speaker::stop() {
    ++m_reply;
    m_timer->cancel();
    m_pacer.on = false;
    m_active = false;
    m_out.clear();
    m_out_at = 0;
    m_sentences.clear();
    m_writing = false;
    drop_request();
}

double Speaker::played_fraction() const {
    if (m_total == 0 || m_sent == 0) return 0;
    // Sentences not yet synthesized count as long again as what is known: an estimate, rounded to whole words.
    double known = double(m_total + (m_sentences.empty() ? 0 : m_total));
    return std::min(1.0, double(m_sent) / known);
}

void Speaker::drop_request() {
    if (!m_stream) return;
    m_stream->cancel();
    m_stream.reset();
    m_synthesizing = false;
}

void Speaker::synthesize_next() {
    if (m_synthesizing || m_sentences.empty() || !m_tts) return;
    m_synthesizing = true;
    std::string sentence = std::move(m_sentences.front());
    m_sentences.pop_front();
    if (m_tts->streams()) return stream_sentence(std::move(sentence));
    auto audio = std::make_shared<Result<TtsAudio>>(make_error(ErrorCode::internal, ""));
    int reply = m_reply;
    run_work(*m_exec, m_tts->cheap(), [tts = m_tts.get(), sentence, audio] { *audio = tts->synthesize(sentence); },
             [this, reply, audio, sentence] {
                 m_synthesizing = false;
                 if (reply != m_reply) return synthesize_next();  // a stopped reply's audio is dropped
                 if (!*audio && retry_or_fall_back(audio->error(), sentence)) return;
                 if (*audio) m_chain.failures = 0;
                 synthesized(*audio);
                 synthesize_next();
             });
}

// A streaming service's sentence: each chunk joins the output as it arrives (the first starts the pacer), so the
// caller hears the sentence's beginning while the service is still sending the rest.
void Speaker::stream_sentence(std::string sentence) {
    int reply = m_reply;
    m_sentence_audio = false;
    if (m_resampler) m_resampler->reset();
    TtsSink sink;
    // The provider's thread touches only the executor: the speaker itself is reached on the strand.
    sink.on_audio = [this, exec = m_exec, reply](TtsAudio chunk) {
        exec->post([this, reply, chunk = std::move(chunk)] {
            if (reply == m_reply) append(chunk, false);
        });
    };
    sink.on_done = [this, exec = m_exec, reply, sentence](Status outcome) {
        exec->post([this, reply, sentence, outcome = std::move(outcome)] {
            if (reply == m_reply) sentence_done(outcome, sentence);  // else dropped with its reply (stop)
        });
    };
    m_stream = m_tts->speak(sentence, std::move(sink));
}

void Speaker::sentence_done(const Status& outcome, const std::string& sentence) {
    m_stream.reset();
    m_synthesizing = false;
    if (!outcome && !m_sentence_audio && retry_or_fall_back(outcome.error(), sentence)) return;
    if (!outcome && m_events.failed) m_events.failed(outcome.error());
    if (outcome) m_chain.failures = 0;
    if (m_resampler) {  // what the resampler still holds of the sentence joins the output
        std::vector<std::int16_t> pcm;
        m_resampler->flush(pcm);
        queue(pcm);
    }
    start_pacing();
    synthesize_next();
}

void Speaker::synthesized(const Result<TtsAudio>& audio) {
    if (!audio) {
        if (m_events.failed) m_events.failed(audio.error());
        return start_pacing();
    }
    append(*audio, true);
}

void Speaker::append(const TtsAudio& chunk, bool whole) {
    if (!m_first_audio) {
        m_first_audio = true;
        if (m_events.first_audio) m_events.first_audio();
    }
    m_sentence_audio = true;
    if (chunk.format.encoding == m_transport.encoding && chunk.format.sample_rate == m_transport.sample_rate) {
        // Already what the transport carries: it goes out as it came (G.711 is never decoded and re-encoded).
        if (chunk.format.encoding == Encoding::pcm16) encode_audio(Encoding::pcm16, chunk.samples, m_out);
        else m_out += chunk.wire;
        m_total += chunk.size();
        return start_pacing();
    }
    std::vector<std::int16_t> decoded;
    std::span<const std::int16_t> samples = chunk.samples;
    if (chunk.format.encoding != Encoding::pcm16) {
        decode_audio(chunk.format.encoding, chunk.wire, decoded);
        samples = decoded;
    }
    if (!m_resampler || m_resampler->in_rate() != chunk.format.sample_rate)
        m_resampler.emplace(chunk.format.sample_rate, m_transport.sample_rate);
    else if (whole)
        m_resampler->reset();
    std::vector<std::int16_t> pcm;
    m_resampler->process(samples, pcm);
    if (whole) m_resampler->flush(pcm);
    queue(pcm);
    start_pacing();
}

void Speaker::queue(std::span<const std::int16_t> pcm) {
    encode_audio(m_transport.encoding, pcm, m_out);
    m_total += pcm.size();
}

// A transient error is retried once with the same provider; a permanent one, or a second in a row, moves the call
// to the chain's next provider, which says the same sentence. False when there is nothing left to try.
bool Speaker::retry_or_fall_back(const Error& error, const std::string& sentence) {
    ++m_chain.failures;
    if (error.transient() && m_chain.failures < 2) {
        m_sentences.push_front(sentence);
        synthesize_next();
        return true;
    }
    if (!m_chain.make || m_chain.choice + 1 >= m_chain.size) return false;
    std::size_t choice = ++m_chain.choice;
    m_chain.failures = 0;
    if (m_events.fallback) m_events.fallback(choice, error);
    m_sentences.push_front(sentence);
    m_synthesizing = true;  // holds the queue (and keeps the pacer waiting) while the next provider is built
    auto next = std::make_shared<Result<std::unique_ptr<TtsClient>>>(make_error(ErrorCode::internal, ""));
    m_exec->run_blocking([make = m_chain.make, next, choice] { *next = make(choice); },
                        [this, next] {
                            m_synthesizing = false;
                            if (!*next) {
                                if (m_events.failed) m_events.failed(next->error());
                                m_sentences.clear();  // nothing can speak them
                                if (m_active && !more_to_come() && !m_pacer.on) finish();
                                return;
                            }
                            m_tts = std::move(*next).value();
                            m_tts->set_output(m_transport);
                            if (m_events.provider) m_events.provider(m_tts->name());
                            synthesize_next();
                        });
    return true;
}

void Speaker::start_pacing() {
    if (m_pacer.on || !m_active) return;
    m_pacer.on = true;
    m_pacer.next_at = m_exec->now_ms();
    m_timer->cancel();  // (none is pending: a stopped pacer's was cancelled, a finished one's has run)
    pace();
}

// Sends one chunk and schedules the next on an absolute clock, so timer lateness does not accumulate.
void Speaker::pace() {
    if (!m_pacer.on) return;
    std::int64_t now = m_exec->now_ms();
    // A chunk goes out whole; only the reply's last one is padded with silence.
    std::size_t left = queued();
    if (left == 0 || (left < m_chunk && more_to_come())) {
        if (left == 0 && !more_to_come()) {
            m_pacer.on = false;
            return finish();
        }
        m_pacer.next_at = now + kFrameMs;
        return m_timer->arm(kFrameMs);
    }
    std::size_t n = std::min(m_chunk, left);
    std::size_t width = m_transport.bytes_per_sample();
    // One buffer for every frame of the call: fifty frames a second must not each allocate.
    m_frame.assign(m_out, m_out_at, n * width);
    m_frame.resize(m_chunk * width, silence_byte(m_transport.encoding));
    m_out_at += n * width;
    // What was sent is dropped once it is most of the buffer: one move now and then rather than one per frame.
    if (m_out_at == m_out.size() || (m_out_at >= 4096 && m_out_at * 2 >= m_out.size())) {
        m_out.erase(0, m_out_at);
        m_out_at = 0;
    }
    m_sent += n;
    std::int64_t late = std::max<std::int64_t>(0, now - m_pacer.next_at);
    m_pacer.next_at += std::int64_t(m_chunk) * 1000 / m_transport.sample_rate;
    // Scheduled before the frame goes out: the frame's handler may stop the speaker (a hang-up), which must win.
    m_timer->arm(int(std::max<std::int64_t>(0, m_pacer.next_at - now)));
    if (m_events.frame) m_events.frame(m_frame, n, late);
}

void Speaker::finish() {
    m_active = false;
    if (m_events.done) m_events.done();
}

}  // namespace va
