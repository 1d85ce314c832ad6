// The computer's microphone and speaker through PortAudio, for `vactl talk` without WAV files: mono PCM16 at a
// fixed rate, read and written in whole frames with PortAudio's blocking calls (the device's clock paces them).
// Thread-safety: one thread uses an instance.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace va::cli {

class SoundDevice {
public:
    // Opens the default input and output devices; throws CliError (naming --input as the way out) when there are
    // none or they refuse the format.
    SoundDevice(int sample_rate, std::size_t frame_samples);
    ~SoundDevice();
    SoundDevice(const SoundDevice&) = delete;
    SoundDevice& operator=(const SoundDevice&) = delete;

    void read(std::span<std::int16_t> frame);
    void write(std::span<const std::int16_t> frame);
    std::string description() const { return m_description; }

private:
    void* m_stream = nullptr;
    std::string m_description;
};

}  // namespace va::cli
