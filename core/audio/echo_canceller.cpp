#include "core/audio/echo_canceller.hpp"

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

#include <stdexcept>

namespace va {

struct EchoCanceller::State {
    SpeexEchoState* echo = nullptr;
    SpeexPreprocessState* pre = nullptr;
    ~State() {
        if (pre) speex_preprocess_state_destroy(pre);
        if (echo) speex_echo_state_destroy(echo);
    }
};

EchoCanceller::EchoCanceller(int sample_rate, int tail_ms)
    : m_frame(std::size_t(sample_rate / 50)), m_state(std::make_unique<State>()) {
    m_state->echo = speex_echo_state_init(int(m_frame), sample_rate * tail_ms / 1000);
    m_state->pre = speex_preprocess_state_init(int(m_frame), sample_rate);
    if (!m_state->echo || !m_state->pre) throw std::runtime_error("speexdsp: cannot create the echo canceller");
    int rate = sample_rate;
    speex_echo_ctl(m_state->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
    // The preprocessor removes the residual echo the linear filter leaves (non-linear speakers, double talk).
    speex_preprocess_ctl(m_state->pre, SPEEX_PREPROCESS_SET_ECHO_STATE, m_state->echo);
    int off = 0;
    speex_preprocess_ctl(m_state->pre, SPEEX_PREPROCESS_SET_DENOISE, &off);
    speex_preprocess_ctl(m_state->pre, SPEEX_PREPROCESS_SET_AGC, &off);
}

EchoCanceller::~EchoCanceller() = default;

void EchoCanceller::process(std::span<const std::int16_t> captured, std::span<const std::int16_t> played,
                            std::span<std::int16_t> out) {
    if (captured.size() != m_frame || played.size() != m_frame || out.size() != m_frame)
        throw std::invalid_argument("EchoCanceller::process takes exactly one frame of each");
    speex_echo_cancellation(m_state->echo, captured.data(), played.data(), out.data());
    speex_preprocess_run(m_state->pre, out.data());
}

void EchoCanceller::reset() { speex_echo_state_reset(m_state->echo); }

}  // namespace va
