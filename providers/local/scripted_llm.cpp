#include "providers/local/scripted_llm.hpp"

#include <atomic>
#include <optional>

#include "core/util/pattern.hpp"
#include "core/util/strings.hpp"

namespace va::local {

namespace {

struct Intent {
    std::string name;
    std::vector<std::string> keywords;  // lower-case
    std::optional<Pattern> pattern;     // RE2, case-insensitive: linear time whatever the agent's author wrote
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

// What the scripted LLM extracts after a call: a field is true when the caller said one of its keywords, or the
// first match of its pattern (its first group when it has one).
struct FieldRule {
    std::string name;
    std::vector<std::string> keywords;  // lower-case
    std::optional<Pattern> pattern;
};

// {"summary", "fields"} for a transcript of "caller: ..." and "agent: ..." lines: the summary quotes the caller
// and the agent's last words; the fields follow the rules.
std::string scripted_analysis(const std::string& transcript, const std::vector<FieldRule>& rules) {
    std::vector<std::string> caller;
    std::string agent_last;
    std::size_t at = 0;
    while (at < transcript.size()) {
        auto end = transcript.find('\n', at);
        std::string line = transcript.substr(at, end == std::string::npos ? std::string::npos : end - at);
        at = end == std::string::npos ? transcript.size() : end + 1;
        if (line.rfind("caller: ", 0) == 0) caller.push_back(line.substr(8));
        else if (line.rfind("agent: ", 0) == 0) agent_last = line.substr(7);
    }
    std::string said;
    for (const auto& c : caller) said += (said.empty() ? "" : " / ") + c;
    std::string summary = caller.empty() ? "The caller said nothing." : "The caller said \"" + said + "\".";
    if (!agent_last.empty()) summary += " The agent's last words: \"" + agent_last + "\"";
    nlohmann::json fields = nlohmann::json::object();
    std::string lower = to_lower(said);
    for (const auto& rule : rules) {
        if (!rule.keywords.empty()) {
            bool hit = false;
            for (const auto& k : rule.keywords) hit |= contains_phrase(lower, k);
            fields[rule.name] = hit;
        } else if (rule.pattern) {
            auto m = rule.pattern->find(said);
            fields[rule.name] = m ? nlohmann::json(*m) : nlohmann::json();
        }
    }
    return nlohmann::json{{"summary", summary}, {"fields", fields}}.dump();
}

class ScriptedLlm final : public LlmClient {
public:
    ScriptedLlm(std::vector<Intent> intents, std::string fallback, std::vector<FieldRule> rules)
        : m_intents(std::move(intents)), m_fallback(std::move(fallback)), m_rules(std::move(rules)) {}

    bool blocking() const override { return true; }

    std::unique_ptr<LlmStream> start(LlmRequest request, LlmCallbacks callbacks) override {
        auto stream = std::make_unique<ScriptedStream>();
        if (request.purpose == "analysis") {
            std::string transcript = request.messages.empty() ? "" : request.messages.back().content;
            if (callbacks.on_token) callbacks.on_token(scripted_analysis(transcript, m_rules));
            if (callbacks.on_done) callbacks.on_done(Ok{});
            return stream;
        }
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
            if (!hit && intent.pattern) hit = intent.pattern->search(said);
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
    std::vector<FieldRule> m_rules;
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
                        auto compiled = Pattern::compile(item["pattern"].get<std::string>(), {true});
                        if (!compiled)
                            return invalid_field("/script/intents/" + intent.name + "/pattern",
                                                 "invalid regular expression (" + compiled.error().message + ")");
                        intent.pattern = std::move(*compiled);
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
        std::vector<FieldRule> rules;
        if (agent.contains("script") && agent["script"].is_object() && agent["script"].contains("analysis") &&
            agent["script"]["analysis"].is_object() && agent["script"]["analysis"].contains("fields") &&
            agent["script"]["analysis"]["fields"].is_object()) {
            for (const auto& [name, rule] : agent["script"]["analysis"]["fields"].items()) {
                FieldRule r;
                r.name = name;
                if (rule.contains("keywords"))
                    for (const auto& k : rule["keywords"])
                        if (k.is_string()) r.keywords.push_back(to_lower(k.get<std::string>()));
                if (rule.contains("pattern") && rule["pattern"].is_string()) {
                    auto compiled = Pattern::compile(rule["pattern"].get<std::string>(), {true});
                    if (!compiled)
                        return invalid_field("/script/analysis/fields/" + name + "/pattern",
                                             "invalid regular expression (" + compiled.error().message + ")");
                    r.pattern = std::move(*compiled);
                }
                rules.push_back(std::move(r));
            }
        }
        return std::unique_ptr<LlmClient>(
            std::make_unique<ScriptedLlm>(std::move(intents), std::move(fallback), std::move(rules)));
    }
};

}  // namespace

std::shared_ptr<LlmFactory> scripted_llm_factory() { return std::make_shared<ScriptedFactory>(); }

}  // namespace va::local
