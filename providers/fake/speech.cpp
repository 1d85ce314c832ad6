#include "providers/fake/speech.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "core/audio/resampler.hpp"
#include "core/audio/wav.hpp"

namespace va::fake {

Result<std::vector<std::int16_t>> caller_speech(const std::string& say, int sample_rate) {
    std::string path = say;
    std::string tmp;
    bool is_file = say.size() > 4 && say.compare(say.size() - 4, 4, ".wav") == 0 && std::filesystem::exists(say);
    if (!is_file) {
        char dir[] = "/tmp/va-say-XXXXXX";
        if (!mkdtemp(dir)) return make_error(ErrorCode::internal, "cannot create a temporary directory");
        tmp = dir;
        path = tmp + "/say.wav";
        std::string quoted;  // single-quoted for the shell, with embedded quotes closed and reopened
        for (char c : say) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        if (std::system(("espeak-ng -w " + path + " '" + quoted + "' >/dev/null 2>&1").c_str()) != 0) {
            std::filesystem::remove_all(tmp);
            return make_error(ErrorCode::unavailable, "espeak-ng could not speak \"" + say + "\" (is espeak-ng installed?)");
        }
    }
    auto wav = read_wav(path);
    if (!tmp.empty()) std::filesystem::remove_all(tmp);
    if (!wav) return wav.take_error();
    Resampler resampler(wav->sample_rate, sample_rate);
    std::vector<std::int16_t> out;
    resampler.process(to_mono(*wav), out);
    resampler.flush(out);
    return out;
}

std::vector<std::int16_t> tone_speech(const std::string& text, int ms_per_char, int sample_rate) {
    std::size_t ms = std::max<std::size_t>(1, text.size()) * std::size_t(std::max(1, ms_per_char));
    std::vector<std::int16_t> out(ms * std::size_t(sample_rate) / 1000);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<std::int16_t>(6000 * std::sin(2 * M_PI * 440.0 * double(i) / double(sample_rate)));
    return out;
}

}  // namespace va::fake
