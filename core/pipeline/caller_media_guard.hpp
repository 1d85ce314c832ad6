// What a call accepts from its caller's media stream, whoever claims to be on the other end: audio no faster than
// real time (a token bucket over the caller's samples, refilled at the call's sample rate, holding at most
// `ahead_ms` of audio, so a burst after a network stall passes but a sender running ahead of the wall clock is cut
// to real time), no more than a cap of audio bytes per call, media messages up to a size, key presses at a human
// rate, and a bounded number of errors answered and logged. Everything beyond is dropped and counted, never
// recorded or buffered. Time comes from the caller (the session's monotonic clock), so tests run it on a virtual
// clock.
// Thread-safety: one instance per call, used from the call's strand only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace va {

struct CallerMediaLimits {
    int ahead_ms = 2000;                     // how far caller audio may run ahead of real time
    std::int64_t max_call_audio_bytes = 0;   // PCM16 bytes of caller audio per call; 0 = from the call's length
    std::size_t max_message_bytes = 256 * 1024;  // one media WebSocket message
    double dtmf_burst = 10;                  // key presses at once
    double dtmf_per_second = 5;              // refill of that bucket
    int max_errors = 20;                     // malformed messages answered and logged per call; the rest counted
    std::size_t max_mark_bytes = 256;        // a mark's name
    int max_utterance_ms = 30000;            // one caller utterance kept for recognition before it is cut
    // Not the guard's own: the call's recording (a file per call), in bytes; 0 = what the call's length allows.
    std::int64_t max_recording_bytes = 0;
};

class CallerMediaGuard {
public:
    explicit CallerMediaGuard(const CallerMediaLimits& limits) : m_limits(limits) {}
    // The stream has started at `now_ms` with audio at `sample_rate`; `max_call_ms` is the call's own length
    // limit, from which the byte cap follows when the limits set none.
    void start(int sample_rate, std::int64_t max_call_ms, std::int64_t now_ms);

    // How many of `samples` PCM16 samples arriving at `now_ms` the call takes: that many from the start, the
    // rest are dropped. None before start().
    std::size_t admit_audio(std::size_t samples, std::int64_t now_ms);
    // Whether the per-call byte cap has been reached (the call has heard all the audio it ever will).
    bool audio_exhausted() const { return m_rate > 0 && m_admitted >= m_max_samples; }
    // True the first time audio is dropped (to log it once per call).
    bool first_drop() { return m_dropped_samples > 0 && !m_drop_noted && (m_drop_noted = true); }

    // Whether a media message of `bytes` may be parsed at all (a larger one is dropped and counted).
    bool admit_message(std::size_t bytes);
    bool mark_fits(std::size_t bytes) const { return bytes <= m_limits.max_mark_bytes; }
    const CallerMediaLimits& limits() const { return m_limits; }
    bool admit_dtmf(std::int64_t now_ms);
    // One key of a phone's keypad (carriers send the digit as free text, which becomes a caller turn).
    static bool dtmf_valid(const std::string& digit);
    // Counts a media error; what to answer and log about it (cut short: it may quote what the caller sent), or
    // nothing once the call's share of reports is used up.
    std::optional<std::string> report_error(const std::string& message);
    // Whether an utterance of `samples` has grown past max_utterance_ms (it is cut for the recognizer).
    bool utterance_too_long(std::size_t samples) const {
        return std::int64_t(samples) * 1000 >= std::int64_t(m_limits.max_utterance_ms) * m_rate;
    }
    // The recording's size limit: max_recording_bytes, or what the call's length allows (stereo PCM16 for the call,
    // the allowance and a second more, and the header).
    std::int64_t recording_max_bytes() const;

    // For the call's metrics: {"admitted_ms", "dropped_ms", "dropped_messages", "dropped_dtmf", "errors"}.
    nlohmann::json metrics() const;
    std::int64_t dropped_samples() const { return m_dropped_samples; }
    std::int64_t max_samples() const { return m_max_samples; }

private:
    CallerMediaLimits m_limits;
    int m_rate = 0;                // 0 until start()
    std::int64_t m_max_samples = 0;
    std::int64_t m_max_call_ms = 0;
    std::int64_t m_tokens = 0;     // in samples x 1000 (sample-milliseconds): refills exactly at the sample rate
    std::int64_t m_last_ms = 0;
    std::int64_t m_admitted = 0;
    std::int64_t m_dropped_samples = 0;
    std::int64_t m_dropped_messages = 0;
    bool m_drop_noted = false;
    double m_dtmf_tokens = m_limits.dtmf_burst;
    std::int64_t m_dtmf_last_ms = 0;
    std::int64_t m_dropped_dtmf = 0;
    std::int64_t m_errors = 0;
};

}  // namespace va
