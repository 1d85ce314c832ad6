#include "core/audio/wav.hpp"

#include <sndfile.h>

#include <cstring>

namespace va {

namespace {

Result<WavData> read_from(SNDFILE* file, const SF_INFO& info, const std::string& what) {
    if (!file) return make_error(ErrorCode::invalid_request, "cannot read " + what + ": " + sf_strerror(nullptr));
    if (info.channels <= 0 || info.samplerate <= 0) {
        sf_close(file);
        return make_error(ErrorCode::invalid_request, what + " has no audio");
    }
    WavData wav;
    wav.sample_rate = info.samplerate;
    wav.channels = info.channels;
    wav.samples.resize(static_cast<std::size_t>(info.frames) * info.channels);
    sf_count_t got = sf_readf_short(file, wav.samples.data(), info.frames);
    wav.samples.resize(static_cast<std::size_t>(got) * info.channels);
    sf_close(file);
    return wav;
}

// libsndfile's virtual I/O over a string, so uploaded WAVs need no temporary file.
struct MemoryFile {
    const std::string* data;
    sf_count_t pos = 0;
};

sf_count_t mem_length(void* user) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->data->size()); }
sf_count_t mem_seek(sf_count_t offset, int whence, void* user) {
    auto* m = static_cast<MemoryFile*>(user);
    sf_count_t size = static_cast<sf_count_t>(m->data->size());
    sf_count_t target = whence == SEEK_SET ? offset : whence == SEEK_CUR ? m->pos + offset : size + offset;
    m->pos = std::max<sf_count_t>(0, std::min(target, size));
    return m->pos;
}
sf_count_t mem_read(void* ptr, sf_count_t count, void* user) {
    auto* m = static_cast<MemoryFile*>(user);
    sf_count_t size = static_cast<sf_count_t>(m->data->size());
    sf_count_t n = std::max<sf_count_t>(0, std::min(count, size - m->pos));
    std::memcpy(ptr, m->data->data() + m->pos, static_cast<std::size_t>(n));
    m->pos += n;
    return n;
}
sf_count_t mem_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t mem_tell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

}  // namespace

Result<WavData> read_wav(const std::string& path) {
    SF_INFO info{};
    SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
    return read_from(file, info, path);
}

Result<WavData> read_wav_bytes(const std::string& bytes) {
    SF_VIRTUAL_IO io{mem_length, mem_seek, mem_read, mem_write, mem_tell};
    MemoryFile mem{&bytes};
    SF_INFO info{};
    SNDFILE* file = sf_open_virtual(&io, SFM_READ, &info, &mem);
    return read_from(file, info, "WAV data");
}

Status write_wav(const std::string& path, const WavData& wav) {
    if (wav.channels <= 0 || wav.sample_rate <= 0) return invalid_field("wav", "needs a sample rate and channels");
    SF_INFO info{};
    info.samplerate = wav.sample_rate;
    info.channels = wav.channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!file) return make_error(ErrorCode::internal, "cannot write " + path + ": " + sf_strerror(nullptr));
    sf_count_t frames = static_cast<sf_count_t>(wav.samples.size() / wav.channels);
    sf_count_t wrote = sf_writef_short(file, wav.samples.data(), frames);
    sf_close(file);
    if (wrote != frames) return make_error(ErrorCode::internal, "short write to " + path);
    return Ok{};
}

std::vector<std::int16_t> to_mono(const WavData& wav) {
    if (wav.channels <= 1) return wav.samples;
    std::vector<std::int16_t> mono(wav.samples.size() / wav.channels);
    for (std::size_t f = 0; f < mono.size(); ++f) {
        int sum = 0;
        for (int c = 0; c < wav.channels; ++c) sum += wav.samples[f * wav.channels + c];
        mono[f] = static_cast<std::int16_t>(sum / wav.channels);
    }
    return mono;
}

}  // namespace va
