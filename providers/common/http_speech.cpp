#include "providers/common/http_speech.hpp"

#include <span>
#include <string>

#include "core/audio/g711.hpp"
#include "providers/common/http_engine.hpp"

namespace va {

void decode_speech(const AudioFormat& format, std::string_view bytes, std::vector<std::int16_t>& out) {
    std::size_t at = out.size();
    if (format.encoding == Encoding::pcm16) {
        std::vector<std::int16_t> samples;
        pcm16le_samples(bytes, samples);
        out.insert(out.end(), samples.begin(), samples.end());
        return;
    }
    out.resize(at + bytes.size());
    auto in = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    if (format.encoding == Encoding::mulaw) g711::decode_ulaw(in, std::span(out).subspan(at));
    else g711::decode_alaw(in, std::span(out).subspan(at));
}

namespace {

class SpeechRequest final : public TtsStream {
public:
    explicit SpeechRequest(std::unique_ptr<HttpEngine::Handle> transfer) : m_transfer(std::move(transfer)) {}
    void cancel() override { m_transfer->cancel(); }

private:
    std::unique_ptr<HttpEngine::Handle> m_transfer;
};

}  // namespace

std::unique_ptr<TtsStream> stream_speech(HttpRequest request, AudioFormat body_format, TtsSink sink,
                                         SpeechError error_for) {
    // The engine's callbacks run one at a time on its thread: the carried byte needs no lock.
    auto carry = std::make_shared<std::string>();
    auto left = std::make_shared<std::size_t>(std::size_t(body_format.sample_rate) * kMaxSentenceAudioSeconds *
                                              (body_format.encoding == Encoding::pcm16 ? 2 : 1));
    HttpStreamCallbacks callbacks;
    callbacks.on_body = [body_format, carry, left, on_audio = std::move(sink.on_audio)](const HttpResult&, std::string_view piece) {
        bool over = piece.size() > *left;
        piece = piece.substr(0, *left);
        *left -= piece.size();
        carry->append(piece);
        std::size_t whole = body_format.encoding == Encoding::pcm16 ? carry->size() & ~std::size_t(1) : carry->size();
        TtsAudio chunk;
        chunk.format = {Encoding::pcm16, body_format.sample_rate, 1};
        decode_speech(body_format, std::string_view(*carry).substr(0, whole), chunk.samples);
        carry->erase(0, whole);
        if (!chunk.samples.empty()) on_audio(std::move(chunk));
        return !over;
    };
    callbacks.on_done = [on_done = std::move(sink.on_done), error_for = std::move(error_for), left](Result<HttpResult> r) {
        if (!r || r->status != 200) return on_done(error_for(r));
        if (*left == 0)
            return on_done(make_error(ErrorCode::too_large, "the speech service sent more than " +
                                                                std::to_string(kMaxSentenceAudioSeconds) +
                                                                " s of audio for one sentence"));
        on_done(Ok{});
    };
    return std::make_unique<SpeechRequest>(HttpEngine::shared().stream(std::move(request), std::move(callbacks)));
}

}  // namespace va
