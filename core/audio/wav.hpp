// WAV files (libsndfile): read any WAV sndfile understands into PCM16 with its rate and channel count, and write
// PCM16 mono or interleaved multi-channel WAVs (recordings are stereo: caller left, agent right).
// Thread-safety: free functions, safe from any thread on distinct files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.hpp"

namespace va {

struct WavData {
    int sample_rate = 0;
    int channels = 0;
    std::vector<std::int16_t> samples;  // interleaved when channels > 1
    double duration_s() const {
        return sample_rate > 0 && channels > 0 ? double(samples.size()) / channels / sample_rate : 0.0;
    }
};

Result<WavData> read_wav(const std::string& path);
Result<WavData> read_wav_bytes(const std::string& bytes);  // a WAV held in memory (uploads, HTTP bodies)
Status write_wav(const std::string& path, const WavData& wav);
// Mixes interleaved channels down to mono (average).
std::vector<std::int16_t> to_mono(const WavData& wav);

}  // namespace va
