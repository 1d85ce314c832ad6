#include "providers/local/scripted_llm.hpp"

#include <atomic>
#include <regex>

#include "core/util/strings.hpp"

namespace va::local {

namespace {

struct Intent {
    std::string name;
    std::vector<std::string> keywords;  // lower-case
    std::optional<std::regex> pattern;
    std::string reply;
    std::optional<ToolCall> tool;
};

// Keywords match whole words or phrases, case-insensitively ("book" does not match "notebook").
bool contains_phrase(const std::string& haystack, const std::string& phrase) {
    std::size_t pos = 0;
    auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '\''; };
    while ((pos = haystack.find(phrase, pos)) != std::string::npos) {
        bool left = pos == 0 || !is_word(haystack[pos - 1]);
        std::size_t end = pos + phrase.size();
        bool right = end >= haystack.size() || !is_word(haystack[end]);
        if (left && right) return true;
        ++pos;
    }
    return false;
}

class ScriptedStream final : public LlmStream {
public:
    void cancel() override { cancelled = true; }
    std::atomic<bool> cancelled{false};
};

class ScriptedLlm final : public LlmClient {
public:
    ScriptedLlm(std::vector<Intent> intents, std::string fallback)
        : m_intents(std::move(intents)), m_fallback(std::move(fallback)) {}

    std::unique_ptr<LlmStream> start(LlmRequest request, LlmCallbacks callbacks) override {
        auto stream = std::make_unique<ScriptedStream>();
        std::string said;
        for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it)
            if (it->role == "user") {
                said = to_lower(it->content);
                break;
            }
        const Intent* chosen = nullptr;
        for (const auto& intent : m_intents) {
            bool hit = false;
            for (const auto& k : intent.keywords) hit |= contains_phrase(said, k);
            if (!hit && intent.pattern) hit = std::regex_search(said, *intent.pattern);
            if (hit) {
                chosen = &intent;
                break;
            }
        }
        const std::string& reply = chosen ? chosen->reply : m_fallback;
        // Token by token (a word and its following space), as a streaming model would deliver it.
        std::size_t pos = 0;
        while (pos < reply.size() && !stream->cancelled) {
            auto next = reply.find(' ', pos);
            next = next == std::string::npos ? reply.size() : next + 1;
            if (callbacks.on_token) callbacks.on_token(reply.substr(pos, next - pos));
            pos = next;
        }
        if (stream->cancelled) return stream;
        if (chosen && chosen->tool && callbacks.on_tool_call) callbacks.on_tool_call(*chosen->tool);
        if (callbacks.on_done) callbacks.on_done(Ok{});
        return stream;
    }

private:
    std::vector<Intent> m_intents;
    std::string m_fallback;
};

class ScriptedFactory final : public LlmFactory {
public:
    Result<std::unique_ptr<LlmClient>> create(const nlohmann::json& agent, const nlohmann::json& variables) const override {
        std::vector<Intent> intents;
        std::string fallback = "Sorry, I did not understand that.";
        if (agent.contains("script") && agent["script"].is_object()) {
            const auto& script = agent["script"];
            if (script.contains("fallback") && script["fallback"].is_string())
                fallback = fill_placeholders(script["fallback"].get<std::string>(), variables);
            if (script.contains("intents") && script["intents"].is_array()) {
                for (const auto& item : script["intents"]) {
                    Intent intent;
                    intent.name = item.value("name", "");
                    intent.reply = fill_placeholders(item.value("reply", ""), variables);
                    if (item.contains("keywords"))
                        for (const auto& k : item["keywords"])
                            if (k.is_string()) intent.keywords.push_back(to_lower(k.get<std::string>()));
                    if (item.contains("pattern") && item["pattern"].is_string()) {
                        try {
                            intent.pattern.emplace(item["pattern"].get<std::string>(),
                                                   std::regex::ECMAScript | std::regex::icase);
                        } catch (const std::regex_error&) {
                            return invalid_field("/script/intents/" + intent.name + "/pattern", "invalid regular expression");
                        }
                    }
                    if (item.contains("tool") && item["tool"].is_object()) {
                        ToolCall call;
                        call.name = item["tool"].value("name", "");
                        if (item["tool"].contains("arguments")) call.arguments = item["tool"]["arguments"];
                        intent.tool = call;
                    }
                    intents.push_back(std::move(intent));
                }
            }
        }
        return std::unique_ptr<LlmClient>(std::make_unique<ScriptedLlm>(std::move(intents), std::move(fallback)));
    }
};

}  // namespace

std::shared_ptr<LlmFactory> scripted_llm_factory() { return std::make_shared<ScriptedFactory>(); }

}  // namespace va::local
