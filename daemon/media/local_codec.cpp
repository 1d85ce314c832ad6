#include "daemon/media/local_codec.hpp"
#include "core/util/json.hpp"

namespace va {

using nlohmann::json;

namespace {

class LocalCodec final : public MediaCodec {
public:
    std::string channel() const override { return "local"; }
    int sample_rate() const override { return 16000; }
    bool starts_on_open() const override { return true; }

    void parse(std::string_view message, bool binary, MediaSink& sink) override {
        if (binary) {
            if (message.size() % 2 != 0)
                return sink.on_media_error("audio frames must be whole PCM16 samples (even byte count)");
            return sink.on_media_audio({reinterpret_cast<const std::int16_t*>(message.data()), message.size() / 2}, {});
        }
        json in = parse_json(message);
        if (in.is_discarded() || !in.is_object() || !in.contains("type") || !in["type"].is_string())
            return sink.on_media_error("expected a JSON object with a string \"type\"");
        std::string type = in["type"];
        if (type == "hangup") return sink.on_media_stop("caller_hangup");
        if (type == "mark") {
            const json& name = in.contains("name") ? in["name"] : json();
            return sink.on_media_mark(name.is_string() ? name.get<std::string>() : name.dump());
        }
        if (type == "dtmf") {
            std::string digit = in.contains("digit") && in["digit"].is_string() ? in["digit"].get<std::string>() : "";
            if (digit.size() != 1 || std::string_view("0123456789*#ABCD").find(digit[0]) == std::string_view::npos)
                return sink.on_media_error("dtmf needs \"digit\": one of 0-9, *, #, A-D");
            return sink.on_media_dtmf(digit);
        }
        sink.on_media_error("unknown message type \"" + type + "\" (expected hangup, mark or dtmf)");
    }

    MediaMessage audio(std::string_view wire) override { return {true, std::string(wire)}; }
    std::optional<std::string> clear() override { return json{{"type", "clear"}}.dump(); }
    // The local protocol's marks are the client's, echoed as control messages; the session places none of its own
    // (the client plays what it gets as it gets it).
    std::optional<std::string> mark(const std::string&) override { return std::nullopt; }
    std::optional<std::string> control(const json& message) override { return message.dump(); }
};

}  // namespace

std::unique_ptr<MediaCodec> make_local_codec() { return std::make_unique<LocalCodec>(); }

}  // namespace va
