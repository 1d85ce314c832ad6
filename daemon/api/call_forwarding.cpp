// Requests for a live call, wherever they arrive: on the daemon that runs the call they act on its session; on any
// other they are forwarded through Redis (daemon/cluster/call_commands) to that daemon, which runs the same code
// and whose answer the client gets. The owner checks the workspace again, so forwarding never widens access.
#include <spdlog/spdlog.h>

#include "daemon/api/api.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/carriers.hpp"
#include "daemon/cluster/call_commands.hpp"

namespace va::api {

using nlohmann::json;

bool is_carrier_channel(const ApiContext& ctx, const std::string& channel) {
    return ctx.carriers && ctx.carriers->find(channel);
}

Error not_transferable(const ApiContext& ctx, const Call& call) {
    std::string carriers = ctx.carriers ? join_names(ctx.carriers->names(), ", ") : std::string();
    return make_error(ErrorCode::unprocessable, "only carrier calls (" + carriers +
                                                    ") can be transferred; this is a " + call.channel + " call");
}

namespace {

bool is_terminal_status(const std::string& status) {
    return status == "completed" || status == "busy" || status == "no-answer" || status == "failed" || status == "canceled";
}

}  // namespace

std::optional<std::string> remote_owner(const ApiContext& ctx, const Call& call) {
    if (call.ended_at != 0 || call.instance_id.empty() || !ctx.calls || call.instance_id == ctx.calls->instance())
        return std::nullopt;
    return call.instance_id;
}

Result<json> forward(ApiContext& ctx, const std::string& owner, const CallCommand& command) {
    if (!ctx.commands)
        return make_error(ErrorCode::conflict, "the call is live on daemon " + owner +
                                                   ", not this one: send the request there, or give every daemon "
                                                   "the same redis.url so that they forward it");
    auto answer = ctx.commands->send(owner, command);
    if (!answer)
        spdlog::info("call {}: {} forwarded to daemon {}: {}", command.call_id, command.op, owner, answer.error().message);
    return answer;
}

Result<json> hangup_here(ApiContext& ctx, const std::string& workspace_id, const std::string& call_id) {
    auto s = ctx.calls->hangup(workspace_id, call_id);
    if (!s && s.error().code == ErrorCode::conflict) {
        auto call = ctx.store.get_call(workspace_id, call_id);
        if (!call) return call.take_error();
        if (call->ended_at != 0) return make_error(ErrorCode::conflict, "the call has already ended");
        // A carrier call that is still ringing has no stream to close: the carrier cancels it.
        if (!ctx.carriers || !is_carrier_channel(ctx, call->channel)) return s.take_error();
        if (auto c = ctx.carriers->hangup(*call); !c) return c.take_error();
        ctx.calls->carrier_ended(call_id, "canceled", 0);
    } else if (!s) {
        return s.take_error();
    }
    return json{{"status", "hanging up"}, {"instance_id", ctx.calls->instance()}};
}

Result<json> transfer_here(ApiContext& ctx, const std::string& workspace_id, const std::string& call_id,
                           const std::string& to) {
    auto call = ctx.store.get_call(workspace_id, call_id);
    if (!call) return call.take_error();
    if (!is_carrier_channel(ctx, call->channel)) return not_transferable(ctx, *call);
    if (auto s = ctx.calls->transfer_live(workspace_id, call_id, to); !s) return s.take_error();
    return json{{"status", "transferring"}, {"to", to}, {"instance_id", ctx.calls->instance()}};
}

void carrier_ended_here(ApiContext& ctx, const Call& call, const std::string& status, double duration_s) {
    if (ctx.carriers) ctx.carriers->status_received(call);
    ctx.calls->carrier_ended(call.id, status, duration_s);
}

Result<json> run_call_command(ApiContext& ctx, const CallCommand& command) {
    if (command.workspace_id.empty()) return invalid_field("workspace_id", "is required");
    if (command.op == "hangup") return hangup_here(ctx, command.workspace_id, command.call_id);
    if (command.op == "transfer") {
        const json& to = command.args.contains("to") ? command.args["to"] : json();
        if (!to.is_string() || to.get<std::string>().empty()) return invalid_field("to", "is required");
        return transfer_here(ctx, command.workspace_id, command.call_id, to.get<std::string>());
    }
    if (command.op == "carrier_ended") {
        auto call = ctx.store.get_call(command.workspace_id, command.call_id);
        if (!call) return call.take_error();
        std::string status = command.args.value("status", "");
        if (!is_terminal_status(status)) return invalid_field("status", "must be a terminal call status");
        double duration = -1;
        if (command.args.contains("duration_s") && command.args["duration_s"].is_number())
            duration = command.args["duration_s"].get<double>();
        carrier_ended_here(ctx, *call, status, duration);
        return json{{"status", "received"}, {"instance_id", ctx.calls->instance()}};
    }
    return invalid_field("op", "unknown command \"" + command.op + "\"");
}

}  // namespace va::api
