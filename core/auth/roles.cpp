#include "core/auth/roles.hpp"

namespace va {

std::optional<Role> parse_role(std::string_view name) {
    if (name == "owner") return Role::owner;
    if (name == "admin") return Role::admin;
    if (name == "member") return Role::member;
    if (name == "viewer") return Role::viewer;
    return std::nullopt;
}

const char* to_string(Role role) {
    switch (role) {
        case Role::owner: return "owner";
        case Role::admin: return "admin";
        case Role::member: return "member";
        case Role::viewer: return "viewer";
    }
    return "viewer";
}

}  // namespace va
