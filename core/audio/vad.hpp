// Voice activity detection for turn taking and barge-in: frame energy against an adaptive noise floor (the minimum
// frame energy over a sliding window, which follows steady noise within the window's length while speech, with its
// gaps between syllables, cannot raise it), plus start and end hysteresis in milliseconds.
// WebRTC's VAD is not packaged for Debian 12; this is small, predictable and tested on espeak-ng speech in noise.
// Thread-safety: one instance per audio stream, used from one thread (a call's strand) at a time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace va {

struct VadOptions {
    int sample_rate = 16000;
    int frame_ms = 20;            // analysis frame; process() accepts any chunking
    double threshold_db = 9.0;    // speech is this far above the noise floor...
    double min_level_db = -50.0;  // ...and above this absolute level (dBFS)
    int start_ms = 60;            // speech must last this long to start an utterance
    int end_ms = 500;             // silence must last this long to end it (endpointing)
    int floor_window_ms = 1500;   // the noise floor is the quietest frame of this window
};

class Vad {
public:
    enum class Event { none, speech_start, speech_end };

    explicit Vad(VadOptions options = {});

    // Feeds samples; returns the last event that happened within them (none most of the time). Event times are
    // available from last_event_ms().
    Event process(std::span<const std::int16_t> samples);

    bool speaking() const { return m_speaking; }
    double noise_floor_db() const { return m_floor_db; }
    double last_level_db() const { return m_last_db; }
    // Stream time (from the first sample) where the last start or end was decided to have begun.
    std::int64_t last_event_ms() const { return m_event_ms; }
    std::int64_t position_ms() const { return m_frames * m_options.frame_ms; }
    // Milliseconds of continuous speech so far in the current utterance (0 when not speaking).
    int speech_ms() const { return m_speaking ? m_run_ms : 0; }
    void reset();

private:
    Event on_frame(double level_db);

    VadOptions m_options;
    std::size_t m_frame_samples;
    std::size_t m_filled = 0;
    double m_sum_squares = 0;
    // The floor window's levels, a ring of fixed size: a deque there allocated as it moved, and its minimum was
    // searched across the deque's chunks, fifty times a second per call.
    std::vector<double> m_window;
    std::size_t m_window_next = 0;   // where the next level goes
    std::size_t m_window_count = 0;  // levels in the window (fewer than its size at the start)
    double m_floor_db = -90.0;
    double m_last_db = -90.0;
    bool m_speaking = false;
    int m_run_ms = 0;        // current run of frames that disagree with the state (or speech length when speaking)
    int m_voiced_ms = 0;     // consecutive voiced frames while not speaking
    int m_unvoiced_ms = 0;   // consecutive unvoiced frames while speaking
    std::int64_t m_frames = 0;
    std::int64_t m_event_ms = 0;
};

// RMS level of samples in dBFS (-90 for silence).
double level_dbfs(std::span<const std::int16_t> samples);

}  // namespace va
