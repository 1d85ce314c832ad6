// Workspaces, users and API keys: the administrative routes.
#include <spdlog/spdlog.h>

#include "core/auth/api_key.hpp"
#include "core/auth/password.hpp"
#include "core/util/ids.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "daemon/api/api.hpp"

namespace va::api {

using nlohmann::json;

namespace {

Result<Role> role_field(const json& body, const char* field, Role fallback) {
    auto name = optional_string(body, field, to_string(fallback), 32);
    if (!name) return name.take_error();
    auto role = parse_role(*name);
    if (!role) return invalid_field(field, "must be one of owner, admin, member, viewer");
    return *role;
}

Result<bool> optional_bool(const json& body, const char* field, bool fallback) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) return invalid_field(field, "must be a boolean");
    return it->get<bool>();
}

// Every key of `user_id`, in every workspace (an owner's keys may live in workspaces other than its own), revoked:
// the user was deleted or disabled. authenticate() refuses such keys anyway; this makes it visible in listings.
Status revoke_user_keys(ApiContext& ctx, const std::string& user_id) {
    PageRequest ws_page{500, {}};
    for (;;) {
        auto workspaces = ctx.store.list_workspaces(ws_page);
        if (!workspaces) return workspaces.take_error();
        for (const auto& ws : workspaces->items) {
            PageRequest page{500, {}};
            for (;;) {
                auto keys = ctx.store.list_api_keys(ws.id, page);
                if (!keys) return keys.take_error();
                for (const auto& key : keys->items)
                    if (key.user_id == user_id && key.revoked_at == 0)
                        if (auto r = ctx.store.revoke_api_key(ws.id, key.id, now_ms()); !r) return r.take_error();
                if (keys->next_cursor.empty()) break;
                page.cursor = keys->next_cursor;
            }
        }
        if (workspaces->next_cursor.empty()) break;
        ws_page.cursor = workspaces->next_cursor;
    }
    return Ok{};
}

// The API key `id` of the workspace (the store has no single-key lookup; keys per workspace are few).
Result<ApiKey> find_key(ApiContext& ctx, const std::string& workspace_id, const std::string& id) {
    PageRequest page{500, {}};
    for (;;) {
        auto keys = ctx.store.list_api_keys(workspace_id, page);
        if (!keys) return keys.take_error();
        for (auto& key : keys->items)
            if (key.id == id) return std::move(key);
        if (keys->next_cursor.empty()) return not_found("API key");
        page.cursor = keys->next_cursor;
    }
}

// Nobody acts on a principal above their own role: an admin cannot change, delete or revoke an owner or an
// owner's key (including the owner key in admin.key).
Status may_act_on(const Principal& who, Role target, const char* what) {
    if (role_allows(who.role, target)) return Ok{};
    return make_error(ErrorCode::forbidden, std::string("only an ") + to_string(target) + " or higher may act on " +
                                                what + " with the " + to_string(target) + " role");
}

// --- workspaces --------------------------------------------------------------------------------------------------

Result<http::Response> list_workspaces(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto page = page_request(request);
    if (!page) return page.take_error();
    if (who.role == Role::owner) {
        auto list = ctx.store.list_workspaces(*page);
        if (!list) return list.take_error();
        return json_response(200, page_json(*list, [](const Workspace& w) { return to_json(w); }));
    }
    auto ws = ctx.store.get_workspace(who.workspace_id);
    if (!ws) return ws.take_error();
    return json_response(200, {{"items", json::array({to_json(*ws)})}, {"next_cursor", nullptr}});
}

Result<http::Response> create_workspace(ApiContext& ctx, http::Request& request, const Principal&) {
    auto body = json_body(request);
    if (!body) return body.take_error();
    if (auto s = known_fields(*body, {"name"}); !s) return s.take_error();
    auto name = required_string(*body, "name", 200);
    if (!name) return name.take_error();
    Workspace ws{new_id("ws"), *name, now_ms()};
    if (auto created = ctx.store.create_workspace(ws); !created) return created.take_error();
    spdlog::info("workspace {} created", ws.id);
    return json_response(201, to_json(ws));
}

Result<http::Response> get_workspace(ApiContext& ctx, http::Request& request, const Principal& who) {
    std::string id(request.param("id"));
    if (who.role != Role::owner && id != who.workspace_id) return not_found("workspace");
    auto ws = ctx.store.get_workspace(id);
    if (!ws) return ws.take_error();
    return json_response(200, to_json(*ws));
}

// --- users -------------------------------------------------------------------------------------------------------

Result<http::Response> list_users(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto page = page_request(request);
    if (!page) return page.take_error();
    auto list = ctx.store.list_users(who.workspace_id, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, [](const User& u) { return to_json(u); }));
}

Result<http::Response> get_user(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto user = ctx.store.get_user(who.workspace_id, std::string(request.param("id")));
    if (!user) return user.take_error();
    return json_response(200, to_json(*user));
}

Result<http::Response> create_user(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request);
    if (!body) return body.take_error();
    if (auto s = known_fields(*body, {"email", "password", "name", "role"}); !s) return s.take_error();
    auto role = role_field(*body, "role", Role::member);
    if (!role) return role.take_error();
    if (!role_allows(who.role, *role))
        return make_error(ErrorCode::forbidden, std::string("only an ") + to_string(*role) + " or higher can create " +
                                                    to_string(*role) + "s");
    auto user = new_user(*body, who.workspace_id, *role);
    if (!user) return user.take_error();
    if (auto created = ctx.store.create_user(*user); !created) return created.take_error();
    return json_response(201, to_json(*user));
}

Result<http::Response> update_user(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request);
    if (!body) return body.take_error();
    if (auto s = known_fields(*body, {"name", "role", "password", "disabled"}); !s) return s.take_error();
    auto user = ctx.store.get_user(who.workspace_id, std::string(request.param("id")));
    if (!user) return user.take_error();
    auto current_role = parse_role(user->role).value_or(Role::owner);
    if (auto s = may_act_on(who, current_role, "a user"); !s) return s.take_error();
    bool revoke_sessions = false, revoke_keys = false;
    if (body->contains("name")) {
        auto name = optional_string(*body, "name", "", 200);
        if (!name) return name.take_error();
        user->name = *name;
    }
    if (body->contains("role")) {
        auto role = role_field(*body, "role", current_role);
        if (!role) return role.take_error();
        if (!role_allows(who.role, *role))
            return make_error(ErrorCode::forbidden, std::string("only an ") + to_string(*role) +
                                                        " or higher can grant the " + to_string(*role) + " role");
        user->role = to_string(*role);
    }
    if (body->contains("password")) {
        auto password = required_string(*body, "password", 1024);
        if (!password) return password.take_error();
        if (auto policy = check_password_policy(*password); !policy) return policy.take_error();
        auto hash = hash_password(*password);
        if (!hash) return hash.take_error();
        user->password_hash = *hash;
        revoke_sessions = true;
    }
    if (body->contains("disabled")) {
        auto disabled = optional_bool(*body, "disabled", user->disabled);
        if (!disabled) return disabled.take_error();
        if (*disabled && user->id == who.user_id) return invalid_field("disabled", "you cannot disable yourself");
        revoke_keys = *disabled && !user->disabled;
        revoke_sessions |= revoke_keys;
        user->disabled = *disabled;
    }
    user->updated_at = now_ms();
    if (auto updated = ctx.store.update_user(*user); !updated) return updated.take_error();
    if (revoke_sessions) (void)ctx.store.revoke_user_refresh_tokens(user->id, now_ms());
    if (revoke_keys)
        if (auto revoked = revoke_user_keys(ctx, user->id); !revoked) return revoked.take_error();
    return json_response(200, to_json(*user));
}

Result<http::Response> delete_user(ApiContext& ctx, http::Request& request, const Principal& who) {
    std::string id(request.param("id"));
    auto user = ctx.store.get_user(who.workspace_id, id);
    if (!user) return user.take_error();
    if (user->id == who.user_id) return make_error(ErrorCode::conflict, "you cannot delete yourself");
    if (auto s = may_act_on(who, parse_role(user->role).value_or(Role::owner), "a user"); !s) return s.take_error();
    if (auto deleted = ctx.store.delete_user(who.workspace_id, id); !deleted) return deleted.take_error();
    (void)ctx.store.revoke_user_refresh_tokens(id, now_ms());
    if (auto revoked = revoke_user_keys(ctx, id); !revoked) return revoked.take_error();
    return empty_response(204);
}

// --- API keys ----------------------------------------------------------------------------------------------------

Result<http::Response> list_keys(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto page = page_request(request);
    if (!page) return page.take_error();
    auto list = ctx.store.list_api_keys(who.workspace_id, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, [](const ApiKey& k) { return to_json(k); }));
}

Result<http::Response> create_key(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request);
    if (!body) return body.take_error();
    if (auto s = known_fields(*body, {"name", "role"}); !s) return s.take_error();
    auto name = required_string(*body, "name", 200);
    if (!name) return name.take_error();
    auto role = role_field(*body, "role", who.role);
    if (!role) return role.take_error();
    if (!role_allows(who.role, *role))
        return make_error(ErrorCode::forbidden, "an API key cannot have a role above its creator's");
    auto fresh = generate_api_key();
    ApiKey key;
    key.id = new_id("key");
    key.workspace_id = who.workspace_id;
    key.user_id = who.user_id;
    key.name = *name;
    key.role = to_string(*role);
    key.prefix = fresh.prefix;
    key.key_hash = fresh.hash;
    key.created_at = now_ms();
    if (auto created = ctx.store.create_api_key(key); !created) return created.take_error();
    return json_response(201, {{"api_key", to_json(key)}, {"key", fresh.key}});
}

Result<http::Response> revoke_key(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto key = find_key(ctx, who.workspace_id, std::string(request.param("id")));
    if (!key) return key.take_error();
    if (auto s = may_act_on(who, parse_role(key->role).value_or(Role::owner), "an API key"); !s) return s.take_error();
    // A key made by someone above the caller is theirs to revoke, whatever role the key itself carries.
    if (!key->user_id.empty())
        if (auto creator = ctx.store.get_user_by_id(key->user_id))
            if (auto s = may_act_on(who, parse_role(creator->role).value_or(Role::owner), "the API keys of a user");
                !s)
                return s.take_error();
    if (auto revoked = ctx.store.revoke_api_key(who.workspace_id, key->id, now_ms()); !revoked)
        return revoked.take_error();
    return empty_response(204);
}

}  // namespace

Result<User> new_user(const json& body, const std::string& workspace_id, Role role) {
    auto email = required_string(body, "email", 254);
    if (!email) return email.take_error();
    if (email->find('@') == std::string::npos) return invalid_field("email", "must be an email address");
    auto password = required_string(body, "password", 1024);
    if (!password) return password.take_error();
    if (auto policy = check_password_policy(*password); !policy) return policy.take_error();
    auto name = optional_string(body, "name", "", 200);
    if (!name) return name.take_error();
    auto hash = hash_password(*password);
    if (!hash) return hash.take_error();
    User user;
    user.id = new_id("usr");
    user.workspace_id = workspace_id;
    user.email = to_lower(*email);
    user.name = *name;
    user.role = to_string(role);
    user.password_hash = *hash;
    user.created_at = user.updated_at = now_ms();
    return user;
}

void register_workspace_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/workspaces", route(ctx, Role::viewer, list_workspaces),
               {false, "List workspaces (the owner sees all)"});
    router.add("POST", "/api/v1/workspaces", route(ctx, Role::owner, create_workspace), {false, "Create a workspace"});
    router.add("GET", "/api/v1/workspaces/{id}", route(ctx, Role::viewer, get_workspace), {false, "Get a workspace"});
}

void register_user_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/users", route(ctx, Role::admin, list_users), {false, "List users of the workspace"});
    router.add("POST", "/api/v1/users", route(ctx, Role::admin, create_user), {true, "Create a user"});
    router.add("GET", "/api/v1/users/{id}", route(ctx, Role::admin, get_user), {false, "Get a user"});
    router.add("PATCH", "/api/v1/users/{id}", route(ctx, Role::admin, update_user),
               {true, "Update a user's name, role, password or disabled flag"});
    router.add("DELETE", "/api/v1/users/{id}", route(ctx, Role::admin, delete_user),
               {true, "Delete a user (and revoke their API keys)"});
}

void register_api_key_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/api-keys", route(ctx, Role::admin, list_keys), {false, "List API keys"});
    router.add("POST", "/api/v1/api-keys", route(ctx, Role::admin, create_key),
               {false, "Create an API key (the key is shown only in this answer)"});
    router.add("DELETE", "/api/v1/api-keys/{id}", route(ctx, Role::admin, revoke_key),
               {true, "Revoke an API key (only an owner revokes an owner's)"});
}

}  // namespace va::api
