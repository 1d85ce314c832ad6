// Where the operator's tool secrets may go. An HTTP tool's header may name {{secret:NAME}}; the secret is sent
// only to a host it is bound to (config [tool_secrets.NAME] hosts: exact names or "*.suffix") and only for agents
// of a workspace it is bound to (none listed: every workspace). Checked twice: when an agent is created or updated
// (against the tool's URL as written, 422 naming the tool and the secret) and when the request is made (against
// the host actually requested, after the LLM's arguments filled the URL), so a secret never leaves for an unbound
// host. Errors name tools and secrets, never a value.
// Thread-safety: pure functions over immutable maps; safe from any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/config.hpp"
#include "core/util/result.hpp"

namespace va {

using ToolSecrets = std::map<std::string, ToolSecret>;

// The NAMEs of the {{secret:NAME}}s in `value`, in order.
std::vector<std::string> secret_names(const std::string& value);

// Whether `host` (any case, a trailing dot allowed) is one of `patterns`: equal, or under the suffix of "*.suffix"
// (a strict subdomain: "*.example.com" does not match example.com itself).
bool host_bound(const std::vector<std::string>& patterns, std::string host);

// May `name` go to `host` for an agent of `workspace_id`? Ok, or unprocessable saying why (no value, no such
// secret, another workspace's, not bound to the host).
Status secret_allowed(const ToolSecrets& secrets, const std::string& name, const std::string& host,
                      const std::string& workspace_id);

// Definition time: every {{secret:NAME}} in every HTTP tool's headers of `definition` may go to the host of the
// tool's URL. Unprocessable, with the field "tools[i].headers.<Header>" and a message naming the tool and the
// secret, for the first that may not (a URL whose host is filled from arguments cannot carry a secret).
Status check_tool_secrets(const nlohmann::json& definition, const ToolSecrets& secrets, const std::string& workspace_id);

// Request time: `value` with its {{secret:NAME}}s filled in, when each may go to `host`; the error otherwise.
Result<std::string> fill_secrets(std::string value, const ToolSecrets& secrets, const std::string& host,
                                 const std::string& workspace_id);

// The names of the secrets that are bound to no host (the old `NAME = "value"` form), for a warning at start.
std::vector<std::string> unbound_secrets(const ToolSecrets& secrets);

}  // namespace va
