// OpenAI chat completions, streamed (provider-protocols.md 4.1), for OpenAI and any compatible server (Ollama, a
// llama.cpp server, vLLM, Groq): the base URL, model and extra headers are settings. Tokens are delivered as they
// arrive; tool-call fragments are assembled by index and delivered when the stream ends; usage and the finish
// reason are kept. Retries follow the official SDK: 408, 409, 429, 5xx and connection errors, honouring
// retry-after-ms, retry-after and x-should-retry, otherwise exponential backoff with jitter; at most two retries,
// never once a token has reached the caller, and never for insufficient_quota.
// Thread-safety: the client is immutable; streams run on the shared HTTP engine (providers/common/http_engine.hpp)
// and call back from its thread.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/providers/llm.hpp"

namespace va::openai {

struct ChatSettings {
    std::string base_url = "https://api.openai.com/v1";
    std::string api_key;
    std::string model = "gpt-4o-mini";
    std::map<std::string, std::string> headers;  // extra headers (organization, project, a proxy's)
    // The other base URLs an agent may name (normalized, core/util/url.hpp) and the key each one gets (empty:
    // none). `api_key` goes to `base_url` only.
    std::map<std::string, std::string> allowed_base_urls;
    double temperature = -1;                     // < 0: the server's default
    int timeout_ms = 60000;
    int max_retries = 2;
    int initial_backoff_ms = 500;  // the SDK's; doubled per retry up to 8 s, with jitter
};

std::unique_ptr<LlmClient> make_chat_client(ChatSettings settings);

// The LLM factory for agents with "llm": {"provider": "openai", "model", "base_url", "temperature"}; the key and
// defaults come from the daemon's configuration. An agent's base_url must be the configured one or an allowed one.
std::shared_ptr<LlmFactory> chat_factory(ChatSettings defaults);

// The settings an agent's "llm" object gets: its model and temperature, and when it names a base_url, that URL
// with its own key: `defaults.api_key` only when it is `defaults.base_url`, the allow-list's key for an allowed
// one. Any other URL is refused (unprocessable, naming llm.base_url) before anything is sent anywhere.
Result<ChatSettings> agent_settings(const ChatSettings& defaults, const nlohmann::json& llm);

// The request body for `request` (exposed for tests).
nlohmann::json chat_body(const ChatSettings& settings, const LlmRequest& request);

}  // namespace va::openai
