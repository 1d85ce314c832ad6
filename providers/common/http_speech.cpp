#include "providers/common/http_speech.hpp"

#include <span>
#include <string>

#include "providers/common/http_engine.hpp"

namespace va {

TtsAudio speech_chunk(const AudioFormat& format, std::string_view bytes) {
    TtsAudio chunk;
    chunk.format = {format.encoding, format.sample_rate, 1};
    if (format.encoding == Encoding::pcm16) decode_audio(Encoding::pcm16, bytes, chunk.samples);
    else chunk.wire.assign(bytes);
    return chunk;
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
        TtsAudio chunk = speech_chunk(body_format, std::string_view(*carry).substr(0, whole));
        carry->erase(0, whole);
        if (chunk.size() > 0) on_audio(std::move(chunk));
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
