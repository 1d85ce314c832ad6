// Twilio Media Streams from Twilio's side (provider-protocols.md 2.3): what the fake carrier sends, and the
// checks it makes on what the bot sends (binary frames, unknown events, a wrong streamSid, bad payloads).
#include "core/audio/g711.hpp"
#include "core/util/encoding.hpp"
#include "core/util/json.hpp"
#include "providers/fake/media_caller.hpp"

namespace va::fake {

using nlohmann::json;

namespace {

class TwilioDialect final : public Dialect {
public:
    TwilioDialect(std::string stream_sid, std::string call_sid, std::string account_sid, json custom)
        : m_stream(std::move(stream_sid)), m_call(std::move(call_sid)), m_account(std::move(account_sid)),
          m_custom(std::move(custom)) {}

    int sample_rate() const override { return 8000; }
    int frame_ms() const override { return 20; }

    std::vector<std::string> opening() override {
        json start{{"event", "start"},
                   {"sequenceNumber", next_seq()},
                   {"streamSid", m_stream},
                   {"start",
                    {{"accountSid", m_account},
                     {"streamSid", m_stream},
                     {"callSid", m_call},
                     {"tracks", {"inbound"}},
                     {"customParameters", m_custom.is_object() ? m_custom : json::object()},
                     {"mediaFormat", {{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}}}}}};
        return {json{{"event", "connected"}, {"protocol", "Call"}, {"version", "1.0.0"}}.dump(), start.dump()};
    }

    std::string media(std::span<const std::int16_t> pcm) override {
        std::string ulaw(pcm.size(), '\0');
        g711::encode_ulaw(pcm, {reinterpret_cast<std::uint8_t*>(ulaw.data()), ulaw.size()});
        ++m_chunk;
        json m{{"event", "media"},
               {"sequenceNumber", next_seq()},
               {"streamSid", m_stream},
               {"media",
                {{"track", "inbound"},
                 {"chunk", std::to_string(m_chunk)},
                 {"timestamp", std::to_string((m_chunk - 1) * 20)},
                 {"payload", base64_encode(ulaw)}}}};
        return m.dump();
    }

    std::string dtmf(char digit) override {
        return json{{"event", "dtmf"},
                    {"sequenceNumber", next_seq()},
                    {"streamSid", m_stream},
                    {"dtmf", {{"track", "inbound_track"}, {"digit", std::string(1, digit)}}}}
            .dump();
    }

    std::string mark_echo(const std::string& name) override {
        return json{{"event", "mark"}, {"sequenceNumber", next_seq()}, {"streamSid", m_stream}, {"mark", {{"name", name}}}}
            .dump();
    }

    std::string stop() override {
        return json{{"event", "stop"},
                    {"sequenceNumber", next_seq()},
                    {"streamSid", m_stream},
                    {"stop", {{"accountSid", m_account}, {"callSid", m_call}}}}
            .dump();
    }

    BotMessage parse(std::string_view text, bool binary, std::vector<std::string>& violations) override {
        BotMessage out;
        if (binary) {
            violations.push_back("31950: binary WebSocket frame (Twilio media must be JSON text)");
            return out;
        }
        json m = parse_json(text);
        if (m.is_discarded() || !m.is_object()) {
            violations.push_back("31951: malformed JSON message");
            return out;
        }
        std::string event = m.value("event", "");
        if (event != "media" && event != "mark" && event != "clear") {
            violations.push_back("31951: unknown event \"" + event + "\"");
            return out;
        }
        if (!m.contains("streamSid") || m["streamSid"] != m_stream) {
            violations.push_back("31951: wrong or missing streamSid on " + event);
            return out;
        }
        if (event == "clear") {
            out.kind = BotMessage::clear;
        } else if (event == "mark") {
            out.kind = BotMessage::mark;
            out.mark_name = m.contains("mark") && m["mark"].is_object() ? m["mark"].value("name", "") : "";
        } else {
            std::string payload = m.contains("media") && m["media"].is_object() ? m["media"].value("payload", "") : "";
            auto bytes = base64_decode(payload);
            if (!bytes) {
                violations.push_back("31951: media payload is not base64");
                return out;
            }
            out.kind = BotMessage::media;
            out.pcm.resize(bytes->size());
            g711::decode_ulaw({reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()}, out.pcm);
        }
        return out;
    }

private:
    std::string next_seq() { return std::to_string(++m_seq); }

    std::string m_stream, m_call, m_account;
    json m_custom;
    int m_seq = 0;
    int m_chunk = 0;
};

}  // namespace

std::unique_ptr<Dialect> twilio_dialect(std::string stream_sid, std::string call_sid, std::string account_sid,
                                        json custom_parameters) {
    return std::make_unique<TwilioDialect>(std::move(stream_sid), std::move(call_sid), std::move(account_sid),
                                           std::move(custom_parameters));
}

}  // namespace va::fake
