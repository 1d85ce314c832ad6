// The offline scripted LLM: the agent definition's "script" lists intents (keywords or a regular expression) with
// replies and optional tool calls, plus a fallback reply. The latest user message picks the first matching
// intent; its reply streams word by word. Deterministic, so agents can be tested without any API key.
// Thread-safety: the factory is immutable; a client belongs to one call.
#pragma once

#include <memory>

#include "core/providers/llm.hpp"

namespace va::local {

std::shared_ptr<LlmFactory> scripted_llm_factory();

}  // namespace va::local
