// numbers list|add|assign|unassign|remove: phone numbers and the agent answering each.
#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

const std::vector<Column>& number_columns() {
    static const std::vector<Column> columns{field("ID", "id"),          field("NUMBER", "number"),
                                             field("PROVIDER", "provider"), field("AGENT", "agent_id"),
                                             field("LABEL", "label"),    field("UPDATED", "updated_at")};
    return columns;
}

std::string phone_path(const std::string& id) { return "/api/v1/phones/" + url_encode(id); }

// PATCHes the number's agent (null routes it nowhere) and reports the result.
void set_agent(Client& client, const std::string& number_ref, const json& agent_id, const std::string& agent_ref) {
    std::string id = resolve_id(client, kNumberLookup, number_ref);
    json phone = client.request("PATCH", phone_path(id), json{{"agent_id", agent_id}});
    std::string number = phone.value("number", number_ref);
    report(client, phone,
           agent_id.is_null() ? "number " + number + " unassigned" : "number " + number + " assigned to " + agent_ref);
}

}  // namespace

void register_numbers(CLI::App& app, Context& ctx) {
    auto* numbers = app.add_subcommand("numbers", "Manage phone numbers and the agents answering them");
    numbers->require_subcommand(1);

    auto list_options = std::make_shared<ListOptions>();
    auto* list = numbers->add_subcommand("list", "List phone numbers");
    add_list_options(list, *list_options);
    list->callback([&ctx, list_options] {
        list_command(ctx.get(), "/api/v1/phones", *list_options, number_columns(), "numbers");
    });

    struct AddArgs {
        std::string number, provider, agent, label;
    };
    auto add_args = std::make_shared<AddArgs>();
    auto* add = numbers->add_subcommand("add", "Add a number (E.164) and optionally route it to an agent");
    add->add_option("number", add_args->number, "E.164 number, such as +15551234567")->required();
    add->add_option("--provider", add_args->provider, "exotel or twilio")->required();
    add->add_option("--agent", add_args->agent, "agent id or name");
    add->add_option("--label", add_args->label, "free text");
    add->callback([&ctx, add_args] {
        Client& client = ctx.get();
        json body{{"number", add_args->number}, {"provider", add_args->provider}};
        if (!add_args->label.empty()) body["label"] = add_args->label;
        if (!add_args->agent.empty()) body["agent_id"] = resolve_id(client, kAgentLookup, add_args->agent);
        json phone = client.request("POST", "/api/v1/phones", body);
        report(client, phone, "number " + phone.value("number", add_args->number) + " added");
    });

    struct AssignArgs {
        std::string number, agent;
        bool none = false;
    };
    auto assign_args = std::make_shared<AssignArgs>();
    auto* assign = numbers->add_subcommand("assign", "Route a number to an agent (or, with --none, to no agent)");
    assign->add_option("number", assign_args->number, "number or id (phn_...)")->required();
    auto* agent_option = assign->add_option("--agent", assign_args->agent, "agent id or name");
    auto* none_option = assign->add_flag("--none", assign_args->none, "route the number to no agent");
    agent_option->excludes(none_option);
    assign->callback([&ctx, assign_args] {
        Client& client = ctx.get();
        if (assign_args->none) return set_agent(client, assign_args->number, nullptr, "");
        if (assign_args->agent.empty()) throw CliError(kUsage, "give --agent AGENT or --none");
        set_agent(client, assign_args->number, resolve_id(client, kAgentLookup, assign_args->agent),
                  assign_args->agent);
    });

    auto ref = std::make_shared<std::string>();
    auto* unassign = numbers->add_subcommand("unassign", "Route a number to no agent");
    unassign->add_option("number", *ref, "number or id (phn_...)")->required();
    unassign->callback([&ctx, ref] { set_agent(ctx.get(), *ref, nullptr, ""); });

    auto* remove = numbers->add_subcommand("remove", "Remove a number");
    remove->add_option("number", *ref, "number or id (phn_...)")->required();
    remove->callback([&ctx, ref] {
        Client& client = ctx.get();
        std::string id = resolve_id(client, kNumberLookup, *ref);
        client.request("DELETE", phone_path(id));
        report(client, json{{"deleted", id}}, "number " + *ref + " removed");
    });
}

}  // namespace va::cli
