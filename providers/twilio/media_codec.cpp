#include "providers/twilio/media_codec.hpp"

#include <vector>

#include "core/audio/g711.hpp"
#include "core/util/encoding.hpp"
#include "core/util/json.hpp"
#include "providers/common/carrier_media.hpp"

namespace va::twilio {

using nlohmann::json;

namespace {

class TwilioCodec final : public MediaCodec {
public:
    std::string channel() const override { return "twilio"; }
    int sample_rate() const override { return 8000; }
    Encoding encoding() const override { return Encoding::mulaw; }

    void parse(std::string_view message, bool binary, MediaSink& sink) override {
        if (binary) return sink.on_media_error("binary frame: Twilio media messages are JSON text");
        if (parse_media(message, sink)) return;
        json in = parse_json(message);
        if (in.is_discarded() || !in.is_object()) return sink.on_media_error("malformed JSON message");
        std::string event = json_text(in, "event");
        if (event == "connected") return;
        if (event == "start") {
            const json& start = in.contains("start") ? in["start"] : json::object();
            m_stream_sid = json_text(start, "streamSid");
            if (m_stream_sid.empty()) m_stream_sid = json_text(in, "streamSid");
            if (m_stream_sid.empty()) return sink.on_media_error("start without a streamSid");
            m_media_tail = "\"},\"streamSid\":" + json(m_stream_sid).dump() + "}";
            json info{{"stream_sid", m_stream_sid}, {"call_sid", json_text(start, "callSid")},
                      {"account_sid", json_text(start, "accountSid")}};
            if (start.contains("customParameters") && start["customParameters"].is_object())
                info["custom_parameters"] = start["customParameters"];
            return sink.on_media_start(info);
        }
        if (m_stream_sid.empty()) return sink.on_media_error("\"" + event + "\" before start");
        if (event == "media") {
            const json& m = in.contains("media") ? in["media"] : json();
            return media(json_text(m, "payload"), json_text(m, "track"), sink);
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

    // The media event, fifty a second: read without a JSON tree when the scanner is sure of it.
    bool parse_media(std::string_view message, MediaSink& sink) override {
        if (m_stream_sid.empty() || !m_scan.media(message)) return false;
        media(m_scan.payload(), m_scan.track(), sink);
        return true;
    }

    // Fifty of these a second per call: the message json::dump would give (its keys in order) is written straight
    // into the one string that goes out, rather than built as a JSON tree and serialized. The payload is the
    // transport's mu-law as the speaker holds it.
    MediaMessage audio(std::string_view wire) override {
        static constexpr std::string_view head = R"({"event":"media","media":{"payload":")";
        std::string out;
        out.reserve(head.size() + base64_size(wire.size()) + m_media_tail.size());
        out.append(head);
        base64_append(wire, out);
        out.append(m_media_tail);
        return {false, std::move(out)};
    }
    std::optional<std::string> clear() override { return json{{"event", "clear"}, {"streamSid", m_stream_sid}}.dump(); }
    std::optional<std::string> mark(const std::string& name) override {
        return json{{"event", "mark"}, {"streamSid", m_stream_sid}, {"mark", {{"name", name}}}}.dump();
    }

private:
    void media(std::string_view payload, std::string_view track, MediaSink& sink) {
        if (!track.empty() && track != "inbound" && track != "inbound_track") return;
        if (!base64_decode_into(payload, m_bytes)) return sink.on_media_error("media payload is not valid base64");
        m_pcm.resize(m_bytes.size());
        g711::decode_ulaw({reinterpret_cast<const std::uint8_t*>(m_bytes.data()), m_bytes.size()}, m_pcm);
        sink.on_media_audio(m_pcm, m_bytes);
    }

    CarrierMediaScan m_scan;
    std::string m_bytes;  // the last media payload, decoded (its capacity reused)
    std::string m_stream_sid;
    std::string m_media_tail = R"("},"streamSid":""})";  // what follows a media message's payload
    std::vector<std::int16_t> m_pcm;
};

}  // namespace

std::unique_ptr<MediaCodec> make_media_codec() { return std::make_unique<TwilioCodec>(); }

std::string xml_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string connect_stream_twiml(const std::string& stream_url,
                                 const std::vector<std::pair<std::string, std::string>>& parameters) {
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream url=\"" +
                      xml_escape(stream_url) + "\">";
    for (const auto& [name, value] : parameters)
        xml += "<Parameter name=\"" + xml_escape(name) + "\" value=\"" + xml_escape(value) + "\"/>";
    return xml + "</Stream></Connect></Response>";
}

std::string dial_twiml(const std::string& number) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial>" + xml_escape(number) + "</Dial></Response>";
}

}  // namespace va::twilio
