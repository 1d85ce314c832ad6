#include "core/providers/speech.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

namespace va {

Result<TtsAudio> synthesize_streamed(TtsClient& client, const std::string& sentence) {
    std::mutex mutex;
    std::condition_variable cv;
    TtsAudio audio;
    std::optional<Status> outcome;
    auto stream = client.speak(sentence, {[&](TtsAudio chunk) {
                                              std::lock_guard lock(mutex);
                                              // Whole-sentence callers want samples: G.711 is decoded here.
                                              audio.format = {Encoding::pcm16, chunk.format.sample_rate, 1};
                                              if (chunk.format.encoding == Encoding::pcm16)
                                                  audio.samples.insert(audio.samples.end(), chunk.samples.begin(),
                                                                       chunk.samples.end());
                                              else
                                                  decode_audio(chunk.format.encoding, chunk.wire, audio.samples);
                                          },
                                          [&](Status done) {
                                              std::lock_guard lock(mutex);
                                              outcome = std::move(done);
                                              cv.notify_all();
                                          }});
    if (!stream) return make_error(ErrorCode::internal, "this speech provider does not stream");
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return outcome.has_value(); });
    if (!*outcome) return outcome->error();
    return audio;
}

}  // namespace va
