// Roles and what they allow. owner (instance-wide: creates workspaces, everything an admin can) > admin (users,
// API keys, numbers, settings, everything in the workspace) > member (agents, calls, campaigns) > viewer (read
// only). Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace va {

enum class Role { viewer = 0, member = 1, admin = 2, owner = 3 };

std::optional<Role> parse_role(std::string_view name);
const char* to_string(Role role);

// True when `have` is at least `need`.
inline bool role_allows(Role have, Role need) { return static_cast<int>(have) >= static_cast<int>(need); }

}  // namespace va
