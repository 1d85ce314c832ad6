#include "core/audio/vad.hpp"

#include <algorithm>
#include <cmath>

namespace va {

namespace {
double to_db(double mean_square) {
    if (mean_square <= 0) return -90.0;
    return std::max(-90.0, 10.0 * std::log10(mean_square / (32768.0 * 32768.0)));
}
}  // namespace

double level_dbfs(std::span<const std::int16_t> samples) {
    if (samples.empty()) return -90.0;
    double sum = 0;
    for (auto s : samples) sum += double(s) * s;
    return to_db(sum / double(samples.size()));
}

Vad::Vad(VadOptions options)
    : m_options(options),
      m_frame_samples(std::size_t(options.sample_rate) * options.frame_ms / 1000),
      m_window(std::size_t(std::max(1, options.floor_window_ms / std::max(1, options.frame_ms)))) {}

void Vad::reset() {
    m_filled = 0;
    m_sum_squares = 0;
    m_window_next = m_window_count = 0;
    m_floor_db = -90.0;
    m_speaking = false;
    m_run_ms = m_voiced_ms = m_unvoiced_ms = 0;
}

Vad::Event Vad::process(std::span<const std::int16_t> samples) {
    Event last = Event::none;
    for (auto s : samples) {
        m_sum_squares += double(s) * s;
        if (++m_filled == m_frame_samples) {
            Event e = on_frame(to_db(m_sum_squares / double(m_frame_samples)));
            if (e != Event::none) last = e;
            m_filled = 0;
            m_sum_squares = 0;
        }
    }
    return last;
}

Vad::Event Vad::on_frame(double level_db) {
    ++m_frames;
    m_last_db = level_db;
    m_window[m_window_next] = level_db;
    m_window_next = (m_window_next + 1) % m_window.size();
    m_window_count = std::min(m_window_count + 1, m_window.size());
    m_floor_db = *std::min_element(m_window.begin(), m_window.begin() + std::ptrdiff_t(m_window_count));

    bool voiced = level_db > m_floor_db + m_options.threshold_db && level_db > m_options.min_level_db;
    const int frame = m_options.frame_ms;
    if (!m_speaking) {
        m_voiced_ms = voiced ? m_voiced_ms + frame : 0;
        if (m_voiced_ms >= m_options.start_ms) {
            m_speaking = true;
            m_run_ms = m_voiced_ms;
            m_unvoiced_ms = 0;
            m_event_ms = position_ms() - m_voiced_ms;
            return Event::speech_start;
        }
        return Event::none;
    }
    m_run_ms += frame;
    m_unvoiced_ms = voiced ? 0 : m_unvoiced_ms + frame;
    if (m_unvoiced_ms >= m_options.end_ms) {
        m_speaking = false;
        m_voiced_ms = 0;
        m_event_ms = position_ms() - m_unvoiced_ms;
        return Event::speech_end;
    }
    return Event::none;
}

}  // namespace va
