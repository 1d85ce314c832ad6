// A call's recording: a stereo PCM16 WAV with the caller on the left and the agent on the right, aligned on the
// call's clock. Caller audio is laid down in the order it arrives (a carrier streams it continuously), jumping
// ahead only across real gaps; agent audio is laid down at the moment it was sent. Everything older than a
// second is written out as the call goes, so a long call costs a second of audio in memory, not the whole call.
// The file stops growing at a size limit: what would go beyond it is not written (flush and close say so).
// Thread-safety: one instance per call, used from the call's strand.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace va {

class CallRecorder {
public:
    // `max_bytes` > 0: the file (header included) never grows beyond about that many bytes.
    static Result<std::unique_ptr<CallRecorder>> open(const std::string& path, int sample_rate,
                                                      std::int64_t max_bytes = 0);
    ~CallRecorder();
    CallRecorder(const CallRecorder&) = delete;
    CallRecorder& operator=(const CallRecorder&) = delete;

    // `at_ms`: milliseconds since the call started when the audio arrived (caller) or was sent (agent).
    void caller(std::span<const std::int16_t> pcm, std::int64_t at_ms);
    void agent(std::span<const std::int16_t> pcm, std::int64_t at_ms);
    // Writes what can no longer change (older than a second before `now_ms`).
    Status flush(std::int64_t now_ms);
    // Writes the rest up to `now_ms` and completes the file.
    Status close(std::int64_t now_ms);

private:
    CallRecorder(void* file, int sample_rate, std::int64_t max_frames);
    void place(int channel, std::span<const std::int16_t> pcm, std::int64_t at);
    Status write_until(std::int64_t sample);

    void* m_file;
    int m_rate;
    std::int64_t m_written = 0;            // samples per channel already in the file
    std::vector<std::int16_t> m_pending[2];  // from m_written on, per channel
    std::int64_t m_end[2] = {0, 0};        // where each channel's audio ends
    std::int64_t m_max_frames;             // stereo frames the file may hold; 0 = no limit
};

}  // namespace va
