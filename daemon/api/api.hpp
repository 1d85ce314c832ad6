// Shared pieces of the REST handlers: the services they use (ApiContext), who is calling (Principal), and the
// one place where errors become HTTP responses, bodies become JSON, and records become their public JSON shape
// (docs/api-shapes.md). Handlers are plain functions registered on the Router by the register_* functions below.
// Thread-safety: ApiContext members are thread-safe (Store, JwtSigner, RateLimiter, MetricsRegistry); handlers
// run concurrently on I/O and worker threads and keep no state of their own.
#pragma once

#include <atomic>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/auth/jwt.hpp"
#include "core/auth/rate_limiter.hpp"
#include "core/auth/roles.hpp"
#include "core/store/store.hpp"
#include "core/util/metrics.hpp"
#include "daemon/server/router.hpp"

namespace va {
class CallCommands;
class CallManager;
class CampaignRunner;
class RedisLiveSessions;
struct CallCommand;
class Carriers;
class EventBus;
class Webhooks;
}  // namespace va

namespace va::api {

struct ApiContext {
    Store& store;
    JwtSigner jwt;
    AuthConfig auth;
    MetricsRegistry& metrics;
    RateLimiter login_by_address;
    RateLimiter login_by_account;
    std::function<bool()> draining;  // true while the server shuts down (readyz answers 503)
    CallManager* calls = nullptr;
    EventBus* events = nullptr;
    Carriers* carriers = nullptr;
    Webhooks* webhooks = nullptr;
    CampaignRunner* campaigns = nullptr;
    // With Redis: requests for calls live on another daemon are forwarded to it, and the live sessions of every
    // daemon can be looked up. Null when this daemon is alone.
    CallCommands* commands = nullptr;
    RedisLiveSessions* live_sessions = nullptr;
};

// Who is calling, after authentication. `workspace_id` is the workspace the request acts in: the caller's own,
// or for an owner the one named by X-Workspace-Id.
struct Principal {
    enum class Kind { user, api_key } kind = Kind::user;
    std::string user_id;
    std::string api_key_id;
    std::string home_workspace_id;
    std::string workspace_id;
    Role role = Role::viewer;
    std::optional<ApiKey> api_key;  // the key record when kind == api_key
};

// --- responses and input -----------------------------------------------------------------------------------------
http::Response json_response(int status, const nlohmann::json& body);
http::Response empty_response(int status);  // 204 and friends
http::Response error_response(const Error& error);

// The body as a JSON object: 415 when not application/json, 400 when malformed or not an object.
Result<nlohmann::json> json_body(const http::Request& request);
// ?limit= and ?cursor=: 400 naming "limit" when not an integer in 1..500.
Result<PageRequest> page_request(const http::Request& request);

template <class T, class F>
nlohmann::json page_json(const Page<T>& page, F&& to_json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& item : page.items) items.push_back(to_json(item));
    return {{"items", std::move(items)},
            {"next_cursor", page.next_cursor.empty() ? nlohmann::json(nullptr) : nlohmann::json(page.next_cursor)}};
}

// Typed field access on a JSON object; errors name the field.
Result<std::string> required_string(const nlohmann::json& body, const char* field, std::size_t max_len = 1024);
Result<std::string> optional_string(const nlohmann::json& body, const char* field, std::string fallback = {},
                                    std::size_t max_len = 1024);

// {"variables": {...}} (an empty object when absent); {"caller_lines": ["...", ...]} (empty when absent).
Result<nlohmann::json> optional_object(const nlohmann::json& body, const char* field);
Result<std::vector<std::string>> optional_strings(const nlohmann::json& body, const char* field);

// --- record shapes -----------------------------------------------------------------------------------------------
nlohmann::json time_json(std::int64_t epoch_ms);  // null when 0
nlohmann::json to_json(const Workspace& ws);
nlohmann::json to_json(const User& user);
nlohmann::json to_json(const ApiKey& key);
nlohmann::json to_json(const Agent& agent);
nlohmann::json to_json(const AgentVersion& version);  // updated_by only when known
// One agent as a response, splicing the stored definition text in rather than parsing and re-serializing it
// (the hot path of GET /agents/{id}).
http::Response agent_response(int status, const Agent& agent);
nlohmann::json to_json(const PhoneNumber& phone);
nlohmann::json to_json(const Call& call);
nlohmann::json to_json(const CallTurn& turn);

// A new user from a request body {email, password, name?} with the given role: validated, password hashed
// (slow: call from offloaded routes). Not stored.
Result<User> new_user(const nlohmann::json& body, const std::string& workspace_id, Role role);

// The agent named by the body's "agent_id" (an id or a name, as vactl accepts); 422-style field error when absent.
Result<Agent> resolve_agent(ApiContext& ctx, const std::string& workspace_id, const nlohmann::json& body);
// The workspace number calls come from, named by the body's "phone_id" or "from" (the number itself).
Result<PhoneNumber> resolve_phone(ApiContext& ctx, const std::string& workspace_id, const nlohmann::json& body);
// Unavailable (503) while the daemon drains for shutdown: new calls go to another daemon.
Status accepting_calls(const ApiContext& ctx);
// Refuses a body member not in `fields` (a misspelt option would otherwise be ignored without a word, and a
// member such as "workspace_id" would look honoured when it is not): 400 naming the member, "unknown field".
Status known_fields(const nlohmann::json& body, std::initializer_list<const char*> fields);
// json_body() whose members must all be in `fields` (known_fields). Every JSON write route reads its body so.
Result<nlohmann::json> json_body(const http::Request& request, std::initializer_list<const char*> fields);
// For write routes that take no body (hang-up, campaign controls): a JSON object with members is refused as
// known_fields() would; an empty body or {} is fine.
Status no_body_fields(const http::Request& request);
// Idempotency-Key: a retried create gets what its first attempt made. The key (prefixed with `scope`) is claimed
// for `new_id` before anything is created, so two concurrent retries cannot both create. When the key was used
// before, returns `replay(first_id)` marked Idempotent-Replayed (a 409 while the first is not stored yet); nullopt
// when the caller should go on and create `new_id`.
Result<std::optional<http::Response>> idempotent_replay(
    ApiContext& ctx, const http::Request& request, const std::string& workspace_id, const std::string& scope,
    const std::string& new_id, const std::function<Result<http::Response>(const std::string& first_id)>& replay);

// --- calls live on another daemon (call_forwarding.cpp) ------------------------------------------------------------
// The daemon that runs `call` when it is another one (the call is open and owned elsewhere); nullopt when the
// request is this daemon's to handle.
std::optional<std::string> remote_owner(const ApiContext& ctx, const Call& call);
// Runs `command` on daemon `owner` and answers what it answered: 503/504 when it cannot be reached in time, 409
// when this daemon has no Redis to reach it through.
Result<nlohmann::json> forward(ApiContext& ctx, const std::string& owner, const CallCommand& command);
// What a hang-up and a transfer do on the daemon that runs the call; the answer body (202).
Result<nlohmann::json> hangup_here(ApiContext& ctx, const std::string& workspace_id, const std::string& call_id);
Result<nlohmann::json> transfer_here(ApiContext& ctx, const std::string& workspace_id, const std::string& call_id,
                                     const std::string& to);
// Whether calls of `channel` go through a registered carrier (not local, not chat).
bool is_carrier_channel(const ApiContext& ctx, const std::string& channel);
// 422: only carrier calls (listing the carriers) can be transferred.
Error not_transferable(const ApiContext& ctx, const Call& call);
// A carrier's terminal status for a call this daemon runs (or that runs nowhere any more).
void carrier_ended_here(ApiContext& ctx, const Call& call, const std::string& status, double duration_s);
// A command forwarded to this daemon by another (the executor of CallCommands).
Result<nlohmann::json> run_call_command(ApiContext& ctx, const CallCommand& command);

// --- authentication and authorization ----------------------------------------------------------------------------
Result<Principal> authenticate(ApiContext& ctx, const http::Request& request);

using AuthedHandler = std::function<Result<http::Response>(http::Request&, const Principal&)>;
// Authenticates, checks the role, runs the handler, and maps any Error to its response.
http::Handler authed(ApiContext& ctx, Role need, AuthedHandler handler);
// authed() for handlers of the form f(ctx, request, principal).
template <class F>
http::Handler route(ApiContext& ctx, Role need, F f) {
    return authed(ctx, need, [&ctx, f](http::Request& r, const Principal& who) { return f(ctx, r, who); });
}

// For public routes: maps an Error result to its response.
http::Handler unauthenticated(std::function<Result<http::Response>(http::Request&)> handler);

// --- route groups ------------------------------------------------------------------------------------------------
void register_auth_routes(http::Router& router, ApiContext& ctx);
void register_workspace_routes(http::Router& router, ApiContext& ctx);
void register_user_routes(http::Router& router, ApiContext& ctx);
void register_api_key_routes(http::Router& router, ApiContext& ctx);
void register_agent_routes(http::Router& router, ApiContext& ctx);
void register_phone_routes(http::Router& router, ApiContext& ctx);
void register_call_routes(http::Router& router, ApiContext& ctx);
// Live calls: local and chat calls, hang-up, their media WebSocket, and the event WebSocket.
void register_live_routes(http::Router& router, ApiContext& ctx);
// Carrier calls: POST /calls/outbound and /calls/simulate, and every registered carrier's webhooks and media sockets.
void register_telephony_routes(http::Router& router, ApiContext& ctx);
// /healthz, /readyz, /metrics and /api/v1/openapi.json (described from the router itself, so register it last).
void register_system_routes(http::Router& router, ApiContext& ctx);
void register_webhook_routes(http::Router& router, ApiContext& ctx);
void register_analytics_routes(http::Router& router, ApiContext& ctx);
// Campaigns, their contacts and controls, and the do-not-call list.
void register_campaign_routes(http::Router& router, ApiContext& ctx);

}  // namespace va::api
