// Agents' HTTP tools: what the LLM asked for, checked and carried out. The arguments are validated against the
// tool's JSON schema; {name} placeholders in the URL take argument values; the other arguments go as a JSON body
// (POST, PUT, PATCH) or a query string (GET, DELETE); header values may name {{secret:NAME}}s held in the daemon's
// configuration, each sent only to the hosts (and for the workspaces) it is bound to (daemon/calls/tool_secrets).
// The destination must resolve to public addresses unless allowlisted (providers/common/net_guard), the request is
// pinned to them and never goes through an environment proxy, and the answer is capped in size. Every outcome, failures included, becomes the
// text the LLM reads next, so the conversation can recover.
// Thread-safety: ToolSettings is immutable once built; run_http_tool blocks (run it on the worker pool) and is safe
// from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/pipeline/responder.hpp"
#include "core/providers/llm.hpp"
#include "daemon/calls/tool_secrets.hpp"
#include "providers/common/net_guard.hpp"

namespace va {

struct ToolSettings {
    NetworkAllowlist allowed;
    std::size_t max_response_bytes = 65536;
    int filler_after_ms = 700;
    ToolSecrets secrets;
};

// The responder's ToolRunner for HTTP tools (core/pipeline/responder.hpp has ToolResult). `tool` is the agent's
// tool entry ({"type": "http", "name", "url", ...}); `workspace_id` the agent's workspace
// (which secrets it may use).
ToolResult run_http_tool(const nlohmann::json& tool, const ToolCall& call, const ToolSettings& settings,
                         const std::string& workspace_id);

}  // namespace va
