// Acoustic echo cancellation for open speakers (speexdsp's MDF canceller plus its residual echo suppressor): the
// microphone signal minus what the speaker played, so an agent heard through a laptop's speakers does not hear
// itself and interrupt its own reply. Frames are a fixed 20 ms at the configured rate; the played frame passed
// with each captured frame is whatever went to the speaker in the same period, and the filter learns the delay
// and room response (up to `tail_ms`) by itself.
// Thread-safety: one instance per audio stream, used from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

namespace va {

class EchoCanceller {
public:
    EchoCanceller(int sample_rate, int tail_ms = 300);
    ~EchoCanceller();
    EchoCanceller(const EchoCanceller&) = delete;
    EchoCanceller& operator=(const EchoCanceller&) = delete;

    std::size_t frame_size() const { return m_frame; }
    // `captured`, `played` and `out` are frame_size() samples each; `out` must not alias the inputs (speexdsp
    // reads them while it writes).
    void process(std::span<const std::int16_t> captured, std::span<const std::int16_t> played,
                 std::span<std::int16_t> out);
    void reset();

private:
    struct State;
    std::size_t m_frame;
    std::unique_ptr<State> m_state;
};

}  // namespace va
