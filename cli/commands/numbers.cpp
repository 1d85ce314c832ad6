#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/output.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

const std::vector<Column>& number_columns() {
    static const std::vector<Column> columns{field("ID", "id"), field("NUMBER", "number"), field("PROVIDER", "provider"),
                                             field("AGENT", "agent_id"), field("LABEL", "label")};
    return columns;
}

json resolve_number(Client& client, const std::string& ref) {
    return resolve(client, "/api/v1/phones", "phn_", "number", ref, "number");
}

void print_number(Client& client, const json& phone, const std::string& verb) {
    if (client.json_output()) return print_json(phone);
    std::cout << "number " << phone.value("number", "") << " " << verb;
    if (phone["agent_id"].is_string()) std::cout << " (agent " << phone["agent_id"].get<std::string>() << ")";
    std::cout << "\n";
}

}  // namespace

void register_numbers(CLI::App& app, Context& ctx) {
    auto* numbers = app.add_subcommand("numbers", "Manage phone numbers and the agents answering them");
    numbers->require_subcommand(1);

    auto list_options = std::make_shared<ListOptions>();
    auto* list = numbers->add_subcommand("list", "List phone numbers");
    list->add_option("--limit", list_options->limit, "page size (1-500)");
    list->add_flag("--all", list_options->all, "fetch every page");
    list->callback([&ctx, list_options] {
        list_command(ctx.get(), "/api/v1/phones", *list_options, number_columns(), "numbers");
    });

    struct AddArgs {
        std::string number, provider, agent, label;
    };
    auto add_args = std::make_shared<AddArgs>();
    auto* add = numbers->add_subcommand("add", "Add a number (E.164) and optionally assign an agent");
    add->add_option("number", add_args->number, "E.164 number, such as +15551234567")->required();
    add->add_option("--provider", add_args->provider, "exotel or twilio")->required();
    add->add_option("--agent", add_args->agent, "agent id or name");
    add->add_option("--label", add_args->label, "free text");
    add->callback([&ctx, add_args] {
        Client& client = ctx.get();
        json body{{"number", add_args->number}, {"provider", add_args->provider}, {"label", add_args->label}};
        if (!add_args->agent.empty()) body["agent_id"] = resolve_agent(client, add_args->agent)["id"];
        print_number(client, client.request("POST", "/api/v1/phones", body), "added");
    });

    struct AssignArgs {
        std::string ref, agent;
    };
    auto assign_args = std::make_shared<AssignArgs>();
    auto* assign = numbers->add_subcommand("assign", "Route a number to an agent");
    assign->add_option("number", assign_args->ref, "number or id")->required();
    assign->add_option("--agent", assign_args->agent, "agent id or name")->required();
    assign->callback([&ctx, assign_args] {
        Client& client = ctx.get();
        json phone = resolve_number(client, assign_args->ref);
        json agent = resolve_agent(client, assign_args->agent);
        print_number(client,
                     client.request("PATCH", "/api/v1/phones/" + phone["id"].get<std::string>(),
                                    json{{"agent_id", agent["id"]}}),
                     "assigned");
    });

    auto ref = std::make_shared<std::string>();
    auto* unassign = numbers->add_subcommand("unassign", "Stop routing a number to any agent");
    unassign->add_option("number", *ref, "number or id")->required();
    unassign->callback([&ctx, ref] {
        Client& client = ctx.get();
        json phone = resolve_number(client, *ref);
        print_number(client,
                     client.request("PATCH", "/api/v1/phones/" + phone["id"].get<std::string>(),
                                    json{{"agent_id", nullptr}}),
                     "unassigned");
    });

    auto* remove = numbers->add_subcommand("remove", "Remove a number");
    remove->add_option("number", *ref, "number or id")->required();
    remove->callback([&ctx, ref] {
        Client& client = ctx.get();
        json phone = resolve_number(client, *ref);
        client.request("DELETE", "/api/v1/phones/" + phone["id"].get<std::string>());
        if (client.json_output()) return print_json(json{{"deleted", phone["id"]}});
        std::cout << "number " << phone.value("number", "") << " removed\n";
    });
}

}  // namespace va::cli
