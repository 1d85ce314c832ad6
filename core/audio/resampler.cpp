#include "core/audio/resampler.hpp"

#include <speex/speex_resampler.h>

#include <stdexcept>

namespace va {

struct Resampler::State {
    SpeexResamplerState* speex = nullptr;
    ~State() {
        if (speex) speex_resampler_destroy(speex);
    }
};

Resampler::Resampler(int in_rate, int out_rate, int quality)
    : m_in_rate(in_rate), m_out_rate(out_rate), m_quality(quality) {
    if (in_rate <= 0 || out_rate <= 0) throw std::invalid_argument("sample rates must be positive");
    if (!passthrough()) {
        m_state = std::make_unique<State>();
        int err = 0;
        m_state->speex = speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate), static_cast<spx_uint32_t>(out_rate),
                                              quality, &err);
        if (!m_state->speex || err != RESAMPLER_ERR_SUCCESS) throw std::runtime_error("speex_resampler_init failed");
        speex_resampler_skip_zeros(m_state->speex);
    }
}

Resampler::~Resampler() = default;
Resampler::Resampler(Resampler&&) noexcept = default;
Resampler& Resampler::operator=(Resampler&&) noexcept = default;

void Resampler::process(std::span<const std::int16_t> in, std::vector<std::int16_t>& out) {
    if (passthrough()) {
        out.insert(out.end(), in.begin(), in.end());
        return;
    }
    std::size_t consumed = 0;
    while (consumed < in.size()) {
        auto in_len = static_cast<spx_uint32_t>(in.size() - consumed);
        // Room for the whole remaining input at the output rate, plus filter slack.
        auto out_len = static_cast<spx_uint32_t>((std::uint64_t(in_len) * m_out_rate) / m_in_rate + 64);
        std::size_t base = out.size();
        out.resize(base + out_len);
        speex_resampler_process_int(m_state->speex, 0, in.data() + consumed, &in_len, out.data() + base, &out_len);
        out.resize(base + out_len);
        consumed += in_len;
        if (in_len == 0 && out_len == 0) break;  // nothing moved: avoid spinning
    }
}

void Resampler::flush(std::vector<std::int16_t>& out) {
    if (passthrough()) return;
    // Feeding the filter's latency worth of silence pushes out the samples it still holds.
    int latency = speex_resampler_get_input_latency(m_state->speex);
    std::vector<std::int16_t> zeros(static_cast<std::size_t>(latency), 0);
    std::size_t expected = out.size() + std::size_t(speex_resampler_get_output_latency(m_state->speex));
    process(zeros, out);
    if (out.size() > expected) out.resize(expected);
    speex_resampler_reset_mem(m_state->speex);
    speex_resampler_skip_zeros(m_state->speex);
}

void Resampler::reset() {
    if (passthrough()) return;
    speex_resampler_reset_mem(m_state->speex);
    speex_resampler_skip_zeros(m_state->speex);
}

}  // namespace va
