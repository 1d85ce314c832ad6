#include "core/pipeline/caller_media_guard.hpp"

#include <algorithm>
#include <string_view>

namespace va {

void CallerMediaGuard::start(int sample_rate, std::int64_t max_call_ms, std::int64_t now_ms) {
    m_rate = std::max(1, sample_rate);
    m_max_call_ms = std::max<std::int64_t>(0, max_call_ms);
    const std::int64_t ahead_ms = std::max(0, m_limits.ahead_ms);
    m_max_samples = m_limits.max_call_audio_bytes > 0 ? m_limits.max_call_audio_bytes / 2
                                                      : (std::max<std::int64_t>(0, max_call_ms) + ahead_ms) * m_rate / 1000;
    // The bucket starts full: a stream may open with its allowance at once (a carrier's buffered start).
    m_tokens = ahead_ms * m_rate;
    m_last_ms = now_ms;
    m_dtmf_last_ms = now_ms;
}

std::size_t CallerMediaGuard::admit_audio(std::size_t samples, std::int64_t now_ms) {
    if (m_rate == 0) return 0;
    const std::int64_t capacity = std::int64_t(std::max(0, m_limits.ahead_ms)) * m_rate;
    if (now_ms > m_last_ms) {
        // Time the caller spent sending nothing does not bank beyond the allowance: after a silent minute the
        // stream may again run `ahead_ms` ahead, not a minute.
        m_tokens = std::min(capacity, m_tokens + (now_ms - m_last_ms) * m_rate);
        m_last_ms = now_ms;
    }
    std::int64_t by_rate = m_tokens / 1000;
    std::int64_t by_cap = std::max<std::int64_t>(0, m_max_samples - m_admitted);
    auto take = std::size_t(std::clamp<std::int64_t>(std::min(by_rate, by_cap), 0, std::int64_t(samples)));
    m_tokens -= std::int64_t(take) * 1000;
    m_admitted += std::int64_t(take);
    m_dropped_samples += std::int64_t(samples - take);
    return take;
}

bool CallerMediaGuard::admit_message(std::size_t bytes) {
    if (bytes <= m_limits.max_message_bytes) return true;
    ++m_dropped_messages;
    return false;
}

bool CallerMediaGuard::dtmf_valid(const std::string& digit) {
    return digit.size() == 1 && std::string_view("0123456789*#ABCDabcd").find(digit[0]) != std::string_view::npos;
}

bool CallerMediaGuard::admit_dtmf(std::int64_t now_ms) {
    if (now_ms > m_dtmf_last_ms) {
        m_dtmf_tokens = std::min(m_limits.dtmf_burst,
                                 m_dtmf_tokens + double(now_ms - m_dtmf_last_ms) * m_limits.dtmf_per_second / 1000.0);
        m_dtmf_last_ms = now_ms;
    }
    if (m_dtmf_tokens < 1.0) {
        ++m_dropped_dtmf;
        return false;
    }
    m_dtmf_tokens -= 1.0;
    return true;
}

std::optional<std::string> CallerMediaGuard::report_error(const std::string& message) {
    if (++m_errors > m_limits.max_errors) return std::nullopt;
    constexpr std::size_t kMaxReport = 200;
    std::string text = message.size() > kMaxReport ? message.substr(0, kMaxReport) + "..." : message;
    if (m_errors == m_limits.max_errors) text += " (further media errors of this call are not reported)";
    return text;
}

std::int64_t CallerMediaGuard::recording_max_bytes() const {
    if (m_limits.max_recording_bytes > 0) return m_limits.max_recording_bytes;
    return (m_max_call_ms + std::max(0, m_limits.ahead_ms) + 1000) * m_rate / 1000 * 4 + 44;
}

nlohmann::json CallerMediaGuard::metrics() const {
    const std::int64_t rate = std::max(1, m_rate);
    return {{"admitted_ms", m_admitted * 1000 / rate},
            {"dropped_ms", m_dropped_samples * 1000 / rate},
            {"dropped_messages", m_dropped_messages},
            {"dropped_dtmf", m_dropped_dtmf},
            {"errors", m_errors}};
}

}  // namespace va
