// SoundDevice for a vactl built without PortAudio (VOICEAGENT_WITH_PORTAUDIO=OFF): there is no device to open, and
// the error says how to talk to an agent anyway (WAV files).
#include "cli/client.hpp"
#include "cli/sound_device.hpp"

namespace va::cli {

SoundDevice::SoundDevice(int, std::size_t) {
    throw CliError(kError, "this vactl is built without PortAudio (VOICEAGENT_WITH_PORTAUDIO=OFF): use --input FILE.wav "
                           "[--output FILE.wav]");
}

SoundDevice::~SoundDevice() = default;

void SoundDevice::read(std::span<std::int16_t>) {}

void SoundDevice::write(std::span<const std::int16_t>) {}

}  // namespace va::cli
