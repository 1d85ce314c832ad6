#include "cli/sound_device.hpp"

#include <fcntl.h>
#include <portaudio.h>
#include <unistd.h>

#include "cli/client.hpp"

namespace va::cli {

namespace {

// PortAudio probes every host API (ALSA, JACK, OSS) on start-up, and their libraries print their failures to
// stderr; on a machine without JACK that is a screenful of noise before the call starts.
PaError initialize_quietly() {
    int saved = dup(STDERR_FILENO);
    int null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0) dup2(null, STDERR_FILENO);
    PaError e = Pa_Initialize();
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (null >= 0) close(null);
    return e;
}

[[noreturn]] void fail(const std::string& what, PaError e) {
    throw CliError(kError, what + ": " + Pa_GetErrorText(e) +
                               " (on a machine with no sound card, use --input FILE.wav [--output FILE.wav])");
}

}  // namespace

SoundDevice::SoundDevice(int sample_rate, std::size_t frame_samples) {
    if (PaError e = initialize_quietly(); e != paNoError) fail("cannot start PortAudio", e);
    PaDeviceIndex in = Pa_GetDefaultInputDevice(), out = Pa_GetDefaultOutputDevice();
    if (in == paNoDevice || out == paNoDevice) {
        Pa_Terminate();
        throw CliError(kError, std::string("no ") + (in == paNoDevice ? "microphone" : "speaker") +
                                   " found (on a machine with no sound card, use --input FILE.wav [--output FILE.wav])");
    }
    PaStream* stream = nullptr;
    PaError e = Pa_OpenDefaultStream(&stream, 1, 1, paInt16, sample_rate, static_cast<unsigned long>(frame_samples),
                                     nullptr, nullptr);
    if (e == paNoError) e = Pa_StartStream(stream);
    if (e != paNoError) {
        if (stream) Pa_CloseStream(stream);
        Pa_Terminate();
        fail("cannot open the sound device", e);
    }
    m_stream = stream;
    m_description = std::string(Pa_GetDeviceInfo(in)->name) + " / " + Pa_GetDeviceInfo(out)->name;
}

SoundDevice::~SoundDevice() {
    Pa_StopStream(m_stream);
    Pa_CloseStream(m_stream);
    Pa_Terminate();
}

void SoundDevice::read(std::span<std::int16_t> frame) {
    // An overflow (the mic delivered while we were busy) loses a little caller audio; the call goes on.
    PaError e = Pa_ReadStream(m_stream, frame.data(), static_cast<unsigned long>(frame.size()));
    if (e != paNoError && e != paInputOverflowed) fail("microphone", e);
}

void SoundDevice::write(std::span<const std::int16_t> frame) {
    PaError e = Pa_WriteStream(m_stream, frame.data(), static_cast<unsigned long>(frame.size()));
    if (e != paNoError && e != paOutputUnderflowed) fail("speaker", e);
}

}  // namespace va::cli
