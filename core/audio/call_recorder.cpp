#include "core/audio/call_recorder.hpp"

#include <sndfile.h>

#include <algorithm>

namespace va {

namespace {
constexpr std::int64_t kWavHeaderBytes = 44;
constexpr std::int64_t kFrameBytes = 4;  // a stereo PCM16 frame
}  // namespace

Result<std::unique_ptr<CallRecorder>> CallRecorder::open(const std::string& path, int sample_rate, std::int64_t max_bytes) {
    SF_INFO info{};
    info.samplerate = sample_rate;
    info.channels = 2;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!file) return make_error(ErrorCode::internal, "cannot create the recording " + path + ": " + sf_strerror(nullptr));
    // The header is rewritten as the file grows, so a recording cut short by a crash is still a valid WAV.
    sf_command(file, SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE);
    std::int64_t max_frames = max_bytes > 0 ? std::max<std::int64_t>(1, (max_bytes - kWavHeaderBytes) / kFrameBytes) : 0;
    return std::unique_ptr<CallRecorder>(new CallRecorder(file, sample_rate, max_frames));
}

CallRecorder::CallRecorder(void* file, int sample_rate, std::int64_t max_frames)
    : m_file(file), m_rate(sample_rate), m_max_frames(max_frames) {}

CallRecorder::~CallRecorder() {
    if (m_file) sf_close(static_cast<SNDFILE*>(m_file));
}

void CallRecorder::place(int channel, std::span<const std::int16_t> pcm, std::int64_t at) {
    at = std::max(at, m_written);  // audio for a stretch already written is too late to keep
    std::int64_t skip = std::max<std::int64_t>(0, m_written - at);
    if (skip >= std::int64_t(pcm.size())) return;
    auto& buf = m_pending[channel];
    std::size_t offset = std::size_t(at - m_written);
    if (buf.size() < offset + pcm.size()) {
        // Grown in quarter seconds rather than doubled: the buffer holds up to two seconds between flushes, and
        // doubling could round that up to four per channel in every call.
        if (offset + pcm.size() > buf.capacity()) buf.reserve(offset + pcm.size() + std::size_t(m_rate / 4));
        buf.resize(offset + pcm.size(), 0);
    }
    std::copy(pcm.begin(), pcm.end(), buf.begin() + std::ptrdiff_t(offset));
    m_end[channel] = std::max(m_end[channel], at + std::int64_t(pcm.size()));
}

void CallRecorder::caller(std::span<const std::int16_t> pcm, std::int64_t at_ms) {
    std::int64_t arrived_start = at_ms * m_rate / 1000 - std::int64_t(pcm.size());
    // Back to back unless the line really went quiet (100 ms or more): arrival jitter must not open gaps.
    std::int64_t at = arrived_start > m_end[0] + m_rate / 10 ? arrived_start : m_end[0];
    place(0, pcm, at);
}

void CallRecorder::agent(std::span<const std::int16_t> pcm, std::int64_t at_ms) {
    place(1, pcm, std::max(m_end[1], at_ms * m_rate / 1000));
}

Status CallRecorder::write_until(std::int64_t sample) {
    bool over = m_max_frames > 0 && sample > m_max_frames;
    if (over) sample = m_max_frames;
    std::int64_t n = sample - m_written;
    if (n <= 0 || !m_file)
        return over ? make_error(ErrorCode::too_large, "the recording reached its size limit") : Status(Ok{});
    // A second of stereo audio per call each second, allocated, zeroed and freed every time, was a good part of
    // the daemon's allocations: one buffer per thread serves every call that thread flushes (nothing here
    // re-enters), and each frame is written whole, silence where a channel has nothing.
    thread_local std::vector<std::int16_t> frames;
    if (frames.size() < std::size_t(n) * 2) frames.resize(std::size_t(n) * 2);
    for (int c = 0; c < 2; ++c) {
        auto& buf = m_pending[c];
        std::size_t take = std::min(buf.size(), std::size_t(n));
        for (std::size_t i = 0; i < take; ++i) frames[i * 2 + std::size_t(c)] = buf[i];
        for (std::size_t i = take; i < std::size_t(n); ++i) frames[i * 2 + std::size_t(c)] = 0;
        buf.erase(buf.begin(), buf.begin() + std::ptrdiff_t(take));
    }
    if (sf_writef_short(static_cast<SNDFILE*>(m_file), frames.data(), n) != n)
        return make_error(ErrorCode::internal, std::string("writing the recording failed: ") +
                                                   sf_strerror(static_cast<SNDFILE*>(m_file)));
    m_written = sample;
    if (over) return make_error(ErrorCode::too_large, "the recording reached its size limit");
    return Ok{};
}

Status CallRecorder::flush(std::int64_t now_ms) { return write_until(now_ms * m_rate / 1000 - m_rate); }

Status CallRecorder::close(std::int64_t now_ms) {
    auto s = write_until(std::max({now_ms * m_rate / 1000, m_end[0], m_end[1]}));
    sf_close(static_cast<SNDFILE*>(m_file));
    m_file = nullptr;
    return s;
}

}  // namespace va
