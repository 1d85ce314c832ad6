// A streaming PCM16 mono resampler (speexdsp) that keeps its filter state across chunks, so audio cut into 20 ms
// frames resamples exactly as if it were one buffer, with no clicks at frame edges. When the rates match it is a
// plain copy and speexdsp is never created.
// Thread-safety: one instance per stream, used from one thread (a call's strand) at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace va {

class Resampler {
public:
    // quality 0..10 (speexdsp); 5 is speexdsp's VoIP default and costs little.
    Resampler(int in_rate, int out_rate, int quality = 5);
    ~Resampler();
    Resampler(Resampler&&) noexcept;
    Resampler& operator=(Resampler&&) noexcept;

    int in_rate() const { return m_in_rate; }
    int out_rate() const { return m_out_rate; }
    bool passthrough() const { return m_in_rate == m_out_rate; }

    // Appends the resampled form of `in` to `out`.
    void process(std::span<const std::int16_t> in, std::vector<std::int16_t>& out);
    // Drains what the filter still holds (end of stream).
    void flush(std::vector<std::int16_t>& out);
    // Forgets history (a new utterance after a barge-in).
    void reset();

private:
    struct State;
    int m_in_rate;
    int m_out_rate;
    int m_quality;
    std::unique_ptr<State> m_state;
};

}  // namespace va
