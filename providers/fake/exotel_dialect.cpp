// Exotel AgentStream from Exotel's side (provider-protocols.md 1.3): what the fake carrier sends (everything a
// string, sequence numbers from "1" on start, 100 ms media frames by default), and the checks it makes on what the
// bot sends: JSON text only, only media/mark/clear, the stream's id (under either key Exotel's own samples use),
// base64 payloads, and the chunk rules (a multiple of 320 bytes, at least 3200, at most 100 KB) — flagged, and
// still played, as Exotel plays them with artefacts.
#include "core/audio/format.hpp"
#include "core/util/encoding.hpp"
#include "core/util/json.hpp"
#include "providers/exotel/media_codec.hpp"
#include "providers/fake/media_caller.hpp"

namespace va::fake {

using nlohmann::json;

namespace {

class ExotelDialect final : public Dialect {
public:
    ExotelDialect(int rate, int frame_ms, std::string stream_sid, std::string call_sid, std::string account_sid,
                  std::string from, std::string to, json custom)
        : m_rate(rate), m_frame_ms(frame_ms), m_stream(std::move(stream_sid)), m_call(std::move(call_sid)),
          m_account(std::move(account_sid)), m_from(std::move(from)), m_to(std::move(to)), m_custom(std::move(custom)) {}

    int sample_rate() const override { return m_rate; }
    int frame_ms() const override { return m_frame_ms; }

    std::vector<std::string> opening() override {
        json start{{"event", "start"},
                   {"sequence_number", next_seq()},
                   {"stream_sid", m_stream},
                   {"start",
                    {{"stream_sid", m_stream},
                     {"call_sid", m_call},
                     {"account_sid", m_account},
                     {"from", m_from},
                     {"to", m_to},
                     {"custom_parameters", m_custom.is_object() ? m_custom : json::object()},
                     {"media_format", {{"encoding", "audio/x-raw"}, {"sample_rate", std::to_string(m_rate)}, {"bit_rate", "16"}}}}}};
        return {json{{"event", "connected"}}.dump(), start.dump()};
    }

    std::string media(std::span<const std::int16_t> pcm) override {
        std::string bytes = pcm16le_bytes(pcm);
        ++m_chunk;
        return json{{"event", "media"},
                    {"sequence_number", next_seq()},
                    {"stream_sid", m_stream},
                    {"media",
                     {{"chunk", std::to_string(m_chunk)},
                      {"timestamp", std::to_string((m_chunk - 1) * m_frame_ms)},
                      {"payload", base64_encode(bytes)}}}}
            .dump();
    }

    std::string dtmf(char digit) override {
        return json{{"event", "dtmf"}, {"sequence_number", next_seq()}, {"stream_sid", m_stream},
                    {"dtmf", {{"digit", std::string(1, digit)}, {"duration", "100"}}}}
            .dump();
    }

    std::string mark_echo(const std::string& name) override {
        return json{{"event", "mark"}, {"sequence_number", next_seq()}, {"stream_sid", m_stream}, {"mark", {{"name", name}}}}
            .dump();
    }

    std::string stop() override {
        return json{{"event", "stop"},
                    {"sequence_number", next_seq()},
                    {"stream_sid", m_stream},
                    {"stop", {{"call_sid", m_call}, {"account_sid", m_account}, {"reason", "callended"}}}}
            .dump();
    }

    BotMessage parse(std::string_view text, bool binary, std::vector<std::string>& violations) override {
        BotMessage out;
        if (binary) {
            violations.push_back("binary WebSocket frame (Exotel media must be JSON text)");
            return out;
        }
        json m = parse_json(text);
        if (m.is_discarded() || !m.is_object()) {
            violations.push_back("malformed JSON message");
            return out;
        }
        std::string event = m.value("event", "");
        if (event != "media" && event != "mark" && event != "clear") {
            violations.push_back("unknown event \"" + event + "\"");
            return out;
        }
        // Exotel's docs say stream_sid; its own samples send streamSid.
        json id = m.contains("stream_sid") ? m["stream_sid"] : m.contains("streamSid") ? m["streamSid"] : json();
        if (id != m_stream) violations.push_back("wrong or missing stream_sid on " + event);
        if (event == "clear") {
            out.kind = BotMessage::clear;
        } else if (event == "mark") {
            out.kind = BotMessage::mark;
            out.mark_name = m.contains("mark") && m["mark"].is_object() ? m["mark"].value("name", "") : "";
        } else {
            std::string payload = m.contains("media") && m["media"].is_object() ? m["media"].value("payload", "") : "";
            auto bytes = base64_decode(payload);
            if (!bytes) {
                violations.push_back("media payload is not base64");
                return out;
            }
            if (!exotel::chunk_ok(bytes->size()))
                violations.push_back("media payload of " + std::to_string(bytes->size()) +
                                     " bytes breaks Exotel's chunk rules (multiple of 320, 3200 to 102400)");
            out.kind = BotMessage::media;
            pcm16le_samples(*bytes, out.pcm);
        }
        return out;
    }

    // Whether Exotel echoes pending marks after a clear is unconfirmed; the fake drops them.
    bool echo_marks_on_clear() const override { return false; }

private:
    std::string next_seq() { return std::to_string(++m_seq); }

    int m_rate, m_frame_ms;
    std::string m_stream, m_call, m_account, m_from, m_to;
    json m_custom;
    int m_seq = 0;
    int m_chunk = 0;
};

}  // namespace

std::unique_ptr<Dialect> exotel_dialect(int sample_rate, int frame_ms, std::string stream_sid, std::string call_sid,
                                        std::string account_sid, std::string from, std::string to, json custom_parameters) {
    return std::make_unique<ExotelDialect>(sample_rate, frame_ms, std::move(stream_sid), std::move(call_sid),
                                           std::move(account_sid), std::move(from), std::move(to),
                                           std::move(custom_parameters));
}

}  // namespace va::fake
