// Authentication of every request (JWT access tokens and API keys) and the /api/v1/auth routes: bootstrap, login,
// refresh with rotation and reuse detection, logout, me, status. Login, refresh and logout also have a cookie mode
// for the web console (auth_cookie.hpp).
#include <spdlog/spdlog.h>

#include "core/auth/api_key.hpp"
#include "core/auth/password.hpp"
#include "core/util/encoding.hpp"
#include "core/util/ids.hpp"
#include "core/util/log.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "daemon/api/api.hpp"
#include "daemon/api/auth_cookie.hpp"

namespace va::api {

using nlohmann::json;

namespace {

constexpr std::int64_t kTouchIntervalMs = 60'000;  // last_used_at is a hint, not worth a write per request

Error unauthenticated_error(std::string message) { return make_error(ErrorCode::unauthenticated, std::move(message)); }

}  // namespace

Result<Principal> authenticate(ApiContext& ctx, const http::Request& request) {
    auto header = request.header("authorization");
    if (header.empty()) return unauthenticated_error("missing Authorization: Bearer token");
    auto space = header.find(' ');
    if (space == std::string_view::npos || to_lower(std::string(header.substr(0, space))) != "bearer")
        return unauthenticated_error("Authorization must use the Bearer scheme");
    std::string token(header.substr(space + 1));
    while (!token.empty() && token.front() == ' ') token.erase(0, 1);

    Principal who;
    if (looks_like_api_key(token)) {
        auto key = ctx.store.find_api_key_by_hash(hash_api_key(token));
        if (!key) {
            if (key.error().code == ErrorCode::not_found) return unauthenticated_error("invalid API key");
            return key.take_error();
        }
        if (key->revoked_at != 0) return unauthenticated_error("invalid API key");
        auto role = parse_role(key->role);
        if (!role) return unauthenticated_error("invalid API key");
        // A key acts for its user: it never outlives the user or the user's role. A disabled or deleted user's
        // keys stop at once, and a demoted user's keys hold no more than the user's current role. (The owner
        // key in admin.key has no user and stands alone.)
        if (!key->user_id.empty()) {
            auto user = ctx.store.get_user_by_id(key->user_id);
            if (!user && user.error().code != ErrorCode::not_found) return user.take_error();
            if (!user || user->disabled) return unauthenticated_error("invalid API key");
            auto user_role = parse_role(user->role);
            if (!user_role) return unauthenticated_error("invalid API key");
            if (!role_allows(*user_role, *role)) role = user_role;
        }
        auto now = now_ms();
        if (now - key->last_used_at > kTouchIntervalMs) (void)ctx.store.touch_api_key(key->id, now);
        who.kind = Principal::Kind::api_key;
        who.api_key_id = key->id;
        who.user_id = key->user_id;
        who.home_workspace_id = key->workspace_id;
        who.role = *role;
        who.api_key = std::move(key).value();
    } else {
        auto claims = ctx.jwt.verify(token, now_s());
        if (!claims) return claims.take_error();
        // The user's current record decides: a disabled, deleted or demoted user loses access at once.
        auto user = ctx.store.get_user_by_id(claims->subject);
        if (!user || user->disabled || user->workspace_id != claims->workspace_id)
            return unauthenticated_error("token no longer valid");
        auto role = parse_role(user->role);
        if (!role) return unauthenticated_error("token no longer valid");
        who.kind = Principal::Kind::user;
        who.user_id = user->id;
        who.home_workspace_id = user->workspace_id;
        who.role = *role;
    }
    who.workspace_id = who.home_workspace_id;
    auto requested = request.header("x-workspace-id");
    if (!requested.empty() && requested != who.home_workspace_id) {
        // Only the instance owner crosses workspaces; for anyone else another workspace does not exist.
        if (who.role != Role::owner) return not_found("workspace");
        auto ws = ctx.store.get_workspace(std::string(requested));
        if (!ws) return ws.take_error();
        who.workspace_id = ws->id;
    }
    return who;
}

namespace {

// The one place a handler's Error becomes its response; internal errors are logged (redacted), never sent.
http::Response finish(const http::Request& request, Result<http::Response> result) {
    if (result) return std::move(result).value();
    if (result.error().code == ErrorCode::internal)
        spdlog::error("{} {}: {}", request.method, request.route, redact(result.error().message));
    return error_response(result.error());
}

}  // namespace

http::Handler authed(ApiContext& ctx, Role need, AuthedHandler handler) {
    return [&ctx, need, handler = std::move(handler)](http::Request& request) {
        auto who = authenticate(ctx, request);
        if (!who) return error_response(who.error());
        if (!role_allows(who->role, need))
            return error_response(make_error(ErrorCode::forbidden, std::string("this needs the ") + to_string(need) +
                                                                       " role or higher"));
        return finish(request, handler(request, *who));
    };
}

http::Handler unauthenticated(std::function<Result<http::Response>(http::Request&)> handler) {
    return [handler = std::move(handler)](http::Request& request) { return finish(request, handler(request)); };
}

namespace {

// True when any of `workspaces` holds an API key that is not revoked.
Result<bool> any_live_api_key(ApiContext& ctx, const std::vector<Workspace>& workspaces) {
    for (const auto& ws : workspaces) {
        PageRequest page{500, {}};
        for (;;) {
            auto keys = ctx.store.list_api_keys(ws.id, page);
            if (!keys) return keys.take_error();
            for (const auto& key : keys->items)
                if (key.revoked_at == 0) return true;
            if (keys->next_cursor.empty()) break;
            page.cursor = keys->next_cursor;
        }
    }
    return false;
}

// Issues an access token and a refresh token of `family_id` (a new family when empty), storing the latter.
// When `rotating` is set the new refresh token replaces it atomically.
Result<json> issue_tokens(ApiContext& ctx, const User& user, std::string family_id, const RefreshToken* rotating) {
    auto now = now_ms();
    JwtClaims claims;
    claims.subject = user.id;
    claims.workspace_id = user.workspace_id;
    claims.role = user.role;
    claims.token_id = random_token(16);
    claims.issued_at = now / 1000;
    claims.not_before = claims.issued_at;
    claims.expires_at = claims.issued_at + ctx.auth.access_ttl_s;

    std::string refresh = "vrt_" + random_token(32);
    RefreshToken record;
    record.id = new_id("rft");
    record.family_id = family_id.empty() ? new_id("rff") : std::move(family_id);
    record.user_id = user.id;
    record.token_hash = hex_encode(sha256(refresh));
    record.created_at = now;
    record.expires_at = now + std::int64_t(ctx.auth.refresh_ttl_s) * 1000;
    Status stored = rotating ? ctx.store.rotate_refresh_token(rotating->id, record, now)
                             : ctx.store.create_refresh_token(record);
    if (!stored) return stored.take_error();
    return json{{"access_token", ctx.jwt.sign(claims)},
                {"refresh_token", refresh},
                {"token_type", "Bearer"},
                {"expires_in", ctx.auth.access_ttl_s},
                {"user", to_json(user)}};
}

Result<http::Response> bootstrap(ApiContext& ctx, http::Request& request) {
    if (!request.remote_is_loopback)
        return make_error(ErrorCode::forbidden, "bootstrap is only allowed from the daemon's own machine");
    auto body = json_body(request);
    if (!body) return body.take_error();
    if (auto s = known_fields(*body, {"email", "password", "name"}); !s) return s.take_error();
    auto users = ctx.store.count_users();
    if (!users) return users.take_error();
    if (*users > 0) return make_error(ErrorCode::conflict, "already bootstrapped: log in instead");
    auto workspaces = ctx.store.list_workspaces(PageRequest{500, {}});
    if (!workspaces) return workspaces.take_error();
    if (workspaces->items.empty()) return make_error(ErrorCode::internal, "no workspace exists to bootstrap into");
    // Behind a reverse proxy on this host every request looks local, so "loopback" alone does not prove the caller
    // is the operator. Once any credential exists (the owner key in admin.key is written at first start) the
    // operator creates users with it (POST /api/v1/users, `vactl users add`); bootstrap is only the way back in
    // when every key was revoked and no user exists.
    auto credential = any_live_api_key(ctx, workspaces->items);
    if (!credential) return credential.take_error();
    if (*credential)
        return make_error(ErrorCode::conflict, "an API key already exists: create users with it (the owner key is "
                                               "in the daemon's admin.key; `vactl users add --role owner`)");
    // The first workspace is the oldest: lists are newest first.
    auto created_user = new_user(*body, workspaces->items.back().id, Role::owner);
    if (!created_user) return created_user.take_error();
    User& user = *created_user;
    // Two concurrent bootstraps: the loser's email or the count check conflicts; both are reported as 409.
    if (auto created = ctx.store.create_user(user); !created) return created.take_error();
    if (auto count = ctx.store.count_users(); count && *count > 1) {
        (void)ctx.store.delete_user(user.workspace_id, user.id);
        return make_error(ErrorCode::conflict, "already bootstrapped: log in instead");
    }
    spdlog::info("bootstrap: created owner user {}", user.id);
    auto tokens = issue_tokens(ctx, user, {}, nullptr);
    if (!tokens) return tokens.take_error();
    return json_response(201, *tokens);
}

// Cookie mode: the refresh token goes into the cookie and out of the body.
http::Response console_tokens(ApiContext& ctx, const http::Request& request, json tokens) {
    std::string refresh = tokens["refresh_token"].get<std::string>();
    tokens.erase("refresh_token");
    auto response = json_response(200, tokens);
    set_session_cookies(response, refresh, ctx.auth.refresh_ttl_s, request.secure);
    return response;
}

Result<http::Response> login(ApiContext& ctx, http::Request& request) {
    auto console = console_mode(request);
    if (!console) return console.take_error();
    auto body = json_body(request);
    if (!body) return body.take_error();
    if (auto s = known_fields(*body, {"email", "password"}); !s) return s.take_error();
    auto email = required_string(*body, "email", 254);
    if (!email) return email.take_error();
    auto password = required_string(*body, "password", 1024);
    if (!password) return password.take_error();
    std::string account = to_lower(*email);
    auto now = now_ms();
    // Every attempt costs a token from both buckets; a success refunds the account's so a user who mistyped
    // a few times is not locked out once in.
    int wait = std::max(ctx.login_by_address.acquire(request.remote_address, now),
                        ctx.login_by_account.acquire(account, now));
    if (wait > 0) {
        Error e = make_error(ErrorCode::rate_limited, "too many login attempts; try again later");
        e.retry_after_s = wait;
        return e;
    }
    auto user = ctx.store.find_user_by_email(account);
    if (!user && user.error().code != ErrorCode::not_found) return user.take_error();
    // Verify against a real hash even for unknown accounts so timing does not reveal which emails exist.
    static const std::string dummy_hash = hash_password("not-a-real-password").value();
    bool ok = verify_password(*password, user ? user->password_hash : dummy_hash);
    if (!user || !ok || user->password_hash.empty() || user->disabled)
        return unauthenticated_error("invalid email or password");
    ctx.login_by_account.reset(account);
    auto tokens = issue_tokens(ctx, *user, {}, nullptr);
    if (!tokens) return tokens.take_error();
    if (*console) return console_tokens(ctx, request, std::move(tokens).value());
    return json_response(200, *tokens);
}

// The refresh token a request presents: the cookie in cookie mode (the body must then be empty or {}), else the
// body's refresh_token. The cookie alone, without the console header, is refused: it would let any site that can
// make the browser post here use the session.
Result<std::string> presented_refresh(const http::Request& request, bool console) {
    if (console) {
        if (auto s = no_body_fields(request); !s) return s.take_error();
        auto token = request_cookie(request, kRefreshCookie);
        if (!token) return unauthenticated_error("no session cookie: sign in again");
        return std::move(*token);
    }
    auto body = json_body(request);
    if (!body) return body.take_error();
    if (auto s = known_fields(*body, {"refresh_token"}); !s) return s.take_error();
    if (!body->contains("refresh_token") && request_cookie(request, kRefreshCookie))
        return make_error(ErrorCode::forbidden, "the session cookie is only accepted with X-Voiceagent-Console: 1");
    return required_string(*body, "refresh_token", 512);
}

Result<RefreshToken> find_refresh(ApiContext& ctx, const std::string& token) {
    if (token.size() > 512) return unauthenticated_error("invalid refresh token");
    auto record = ctx.store.find_refresh_token_by_hash(hex_encode(sha256(token)));
    if (!record) {
        if (record.error().code == ErrorCode::not_found) return unauthenticated_error("invalid refresh token");
        return record.take_error();
    }
    return record;
}

Result<http::Response> refresh(ApiContext& ctx, http::Request& request, bool console) {
    auto token = presented_refresh(request, console);
    if (!token) return token.take_error();
    auto record = find_refresh(ctx, *token);
    if (!record) return record.take_error();
    auto now = now_ms();
    if (record->revoked_at != 0) {
        // A rotated token presented again means it leaked (or a client raced itself): end the whole family.
        (void)ctx.store.revoke_refresh_family(record->family_id, now);
        spdlog::warn("refresh token reuse detected for user {}; family revoked", record->user_id);
        return unauthenticated_error("refresh token already used; please log in again");
    }
    if (record->expires_at <= now) return unauthenticated_error("refresh token expired");
    auto user = ctx.store.get_user_by_id(record->user_id);
    if (!user || user->disabled) return unauthenticated_error("invalid refresh token");
    auto tokens = issue_tokens(ctx, *user, record->family_id, &*record);
    if (!tokens) {
        if (tokens.error().code == ErrorCode::conflict) {
            (void)ctx.store.revoke_refresh_family(record->family_id, now);
            return unauthenticated_error("refresh token already used; please log in again");
        }
        return tokens.take_error();
    }
    if (console) return console_tokens(ctx, request, std::move(tokens).value());
    return json_response(200, *tokens);
}

Result<http::Response> logout(ApiContext& ctx, http::Request& request, bool console) {
    auto token = presented_refresh(request, console);
    // Signing out of the console always ends with the cookie gone, even when it was missing or no longer valid.
    if (console && !token && token.error().code == ErrorCode::unauthenticated) return empty_response(204);
    if (!token) return token.take_error();
    auto record = find_refresh(ctx, *token);
    if (console && !record && record.error().code == ErrorCode::unauthenticated) return empty_response(204);
    if (!record) return record.take_error();
    if (auto revoked = ctx.store.revoke_refresh_family(record->family_id, now_ms()); !revoked)
        return revoked.take_error();
    return empty_response(204);
}

// Cookie-mode refresh and logout: the CSRF checks first; then a refusal of the session, and any logout, clears the
// cookie so the browser stops presenting a dead token.
http::Handler cookie_aware(ApiContext& ctx,
                           Result<http::Response> (*handler)(ApiContext&, http::Request&, bool console),
                           bool clear_always) {
    return unauthenticated([&ctx, handler, clear_always](http::Request& request) -> Result<http::Response> {
        auto console = console_mode(request);
        if (!console) return console.take_error();
        auto result = handler(ctx, request, *console);
        if (!*console) return result;
        bool clear = clear_always || (!result && result.error().code == ErrorCode::unauthenticated);
        if (!clear) return result;
        http::Response response = result ? std::move(result).value() : error_response(result.error());
        clear_session_cookies(response, request.secure);
        return response;
    });
}

// What the console's first screen needs before anyone signs in: whether a user exists, and whether bootstrap from
// the daemon's own machine would still be accepted (no user and no live API key).
Result<http::Response> auth_status(ApiContext& ctx) {
    auto users = ctx.store.count_users();
    if (!users) return users.take_error();
    bool bootstrap_open = false;
    if (*users == 0) {
        auto workspaces = ctx.store.list_workspaces(PageRequest{500, {}});
        if (!workspaces) return workspaces.take_error();
        auto credential = any_live_api_key(ctx, workspaces->items);
        if (!credential) return credential.take_error();
        bootstrap_open = !workspaces->items.empty() && !*credential;
    }
    return json_response(200, json{{"has_users", *users > 0}, {"bootstrap_from_loopback", bootstrap_open}});
}

Result<http::Response> me(ApiContext& ctx, const Principal& who) {
    auto ws = ctx.store.get_workspace(who.workspace_id);
    if (!ws) return ws.take_error();
    json out{{"kind", who.kind == Principal::Kind::user ? "user" : "api_key"},
             {"role", to_string(who.role)},
             {"workspace", to_json(*ws)}};
    if (!who.user_id.empty()) {
        if (auto user = ctx.store.get_user_by_id(who.user_id)) out["user"] = to_json(*user);
    }
    if (who.api_key) out["api_key"] = to_json(*who.api_key);
    return json_response(200, out);
}

}  // namespace

void register_auth_routes(http::Router& router, ApiContext& ctx) {
    http::RouteOptions slow{true, "", true};
    slow.summary = "Create the first owner user (only while no user and no API key exists, loopback only)";
    router.add("POST", "/api/v1/auth/bootstrap", unauthenticated([&ctx](http::Request& r) { return bootstrap(ctx, r); }),
               slow);
    slow.summary = "Log in with email and password";
    router.add("POST", "/api/v1/auth/login", unauthenticated([&ctx](http::Request& r) { return login(ctx, r); }), slow);
    http::RouteOptions open{false, "Rotate a refresh token", true};
    router.add("POST", "/api/v1/auth/refresh", cookie_aware(ctx, refresh, false), open);
    open.summary = "Revoke a refresh token (and its family)";
    router.add("POST", "/api/v1/auth/logout", cookie_aware(ctx, logout, true), open);
    open.summary = "Whether any user exists and whether bootstrap is still open (the console's first screen)";
    router.add("GET", "/api/v1/auth/status", unauthenticated([&ctx](http::Request&) { return auth_status(ctx); }),
               open);
    router.add("GET", "/api/v1/auth/me",
               authed(ctx, Role::viewer, [&ctx](http::Request&, const Principal& who) { return me(ctx, who); }),
               {false, "Who is calling: user or API key, role and workspace"});
}

}  // namespace va::api
