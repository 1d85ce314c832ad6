#include "providers/exotel/media_codec.hpp"

#include <algorithm>
#include <vector>

#include "core/audio/format.hpp"
#include "core/util/encoding.hpp"
#include "core/util/json.hpp"
#include "providers/common/carrier_media.hpp"

namespace va::exotel {

using nlohmann::json;

namespace {

class ExotelCodec final : public MediaCodec {
public:
    explicit ExotelCodec(int rate) : m_rate(rate) {}
    std::string channel() const override { return "exotel"; }
    int sample_rate() const override { return m_rate; }
    // At least 3200 bytes, on the 320-byte grid: 100 ms at 16 and 24 kHz, 200 ms at 8 kHz (1600 samples).
    std::size_t chunk_samples() const override { return std::max<std::size_t>(1600, std::size_t(m_rate / 10)); }

    void parse(std::string_view message, bool binary, MediaSink& sink) override {
        if (binary) return sink.on_media_error("binary frame: Exotel media messages are JSON text");
        if (parse_media(message, sink)) return;
        json in = parse_json(message);
        if (in.is_discarded() || !in.is_object()) return sink.on_media_error("malformed JSON message");
        std::string event = json_text(in, "event");
        if (event == "connected") return;
        if (event == "start") {
            const json& start = in.contains("start") ? in["start"] : json::object();
            m_stream_sid = json_text(in, "stream_sid");
            if (m_stream_sid.empty()) m_stream_sid = json_text(start, "stream_sid");
            if (m_stream_sid.empty()) return sink.on_media_error("start without a stream_sid");
            json info{{"stream_sid", m_stream_sid}, {"call_sid", json_text(start, "call_sid")},
                      {"account_sid", json_text(start, "account_sid")}, {"from", json_text(start, "from")},
                      {"to", json_text(start, "to")}};
            if (start.contains("custom_parameters") && start["custom_parameters"].is_object())
                info["custom_parameters"] = start["custom_parameters"];
            return sink.on_media_start(info);
        }
        if (m_stream_sid.empty()) return sink.on_media_error("\"" + event + "\" before start");
        if (event == "media") {
            return media(json_text(in.contains("media") ? in["media"] : json(), "payload"), sink);
        }
        if (event == "dtmf") {
            std::string digit = json_text(in.contains("dtmf") ? in["dtmf"] : json(), "digit");
            if (digit.empty()) return sink.on_media_error("dtmf without a digit");
            return sink.on_media_dtmf(digit);
        }
        if (event == "mark") return sink.on_media_mark(json_text(in.contains("mark") ? in["mark"] : json(), "name"));
        if (event == "stop") return sink.on_media_stop("caller_hangup");
        sink.on_media_error("unknown event \"" + event + "\"");
    }

    MediaMessage audio(std::string_view wire) override {
        return {false, json{{"event", "media"}, {"stream_sid", m_stream_sid},
                            {"media", {{"payload", base64_encode(wire)}}}}.dump()};
    }
    std::optional<std::string> clear() override { return json{{"event", "clear"}, {"stream_sid", m_stream_sid}}.dump(); }
    std::optional<std::string> mark(const std::string& name) override {
        return json{{"event", "mark"}, {"stream_sid", m_stream_sid}, {"mark", {{"name", name}}}}.dump();
    }

    // The media event, fifty a second: read without a JSON tree when the scanner is sure of it.
    bool parse_media(std::string_view message, MediaSink& sink) override {
        if (m_stream_sid.empty() || !m_scan.media(message)) return false;
        media(m_scan.payload(), sink);
        return true;
    }

private:
    void media(std::string_view payload, MediaSink& sink) {
        if (!base64_decode_into(payload, m_bytes)) return sink.on_media_error("media payload is not valid base64");
        if (m_bytes.size() % 2 != 0) return sink.on_media_error("media payload is not whole PCM16 samples");
        pcm16le_samples(m_bytes, m_pcm);
        sink.on_media_audio(m_pcm, {});
    }

    int m_rate;
    CarrierMediaScan m_scan;
    std::string m_bytes;  // the last media payload, decoded (its capacity reused)
    std::string m_stream_sid;
    std::vector<std::int16_t> m_pcm;
};

}  // namespace

std::unique_ptr<MediaCodec> make_media_codec(int sample_rate) { return std::make_unique<ExotelCodec>(sample_rate); }

bool chunk_ok(std::size_t payload_bytes) {
    return payload_bytes % 320 == 0 && payload_bytes >= 3200 && payload_bytes <= 102400;
}

}  // namespace va::exotel
