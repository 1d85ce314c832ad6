#include "core/util/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

#include "core/util/pattern.hpp"

namespace va {

namespace {

// %*: the message payload JSON-escaped, so JSON log lines stay valid whatever the message holds.
class JsonPayloadFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        std::string escaped = json_escape(std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(escaped.data(), escaped.data() + escaped.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonPayloadFlag>(); }
};

}  // namespace

void setup_logging(std::string_view level, LogFormat format) {
    auto logger = std::make_shared<spdlog::logger>("voiceagent", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    if (format == LogFormat::json) {
        formatter->add_flag<JsonPayloadFlag>('*').set_pattern(
            R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%*"})");
    } else {
        formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v");
    }
    logger->set_formatter(std::move(formatter));
    logger->set_level(spdlog::level::from_str(std::string(level)));
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
    spdlog::flush_every(std::chrono::seconds(1));
}

std::string redact(std::string_view text) {
    // RE2, not std::regex: log lines carry what clients and providers send, and libstdc++'s regex recurses per
    // character (a long line overflowed the stack) and backtracks. These patterns are ours, so they must compile.
    struct Rule {
        Pattern pattern;
        const char* rewrite;
    };
    static const std::vector<Rule> rules = [] {
        const std::pair<const char*, const char*> sources[] = {
            {R"((?i)(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+)", "\\1 [redacted]"},
            {R"(vak_[A-Za-z0-9_-]+)", "vak_[redacted]"},
            {R"(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)", "[redacted-jwt]"},
            {R"re((?i)((password|secret|token|api_key|apikey|auth_token)"?\s*[:=]\s*"?)[^"&\s,}]+)re", "\\1[redacted]"},
            {R"(://[^/\s:@]+:[^/\s@]+@)", "://[redacted]@"},
        };
        std::vector<Rule> out;
        for (const auto& [source, rewrite] : sources) out.push_back({std::move(Pattern::compile(source).value()), rewrite});
        return out;
    }();
    std::string out(text);
    for (const auto& rule : rules) rule.pattern.replace_all(out, rule.rewrite);
    return out;
}

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out;
}

}  // namespace va
