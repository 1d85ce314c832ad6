// agents list|get|create|apply|delete. `apply` makes agent files declarative: create or replace by name.
#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

const std::vector<Column>& agent_columns() {
    static const std::vector<Column> columns{field("ID", "id"), field("NAME", "name"), field("VERSION", "version"),
                                             field("UPDATED", "updated_at")};
    return columns;
}

std::string agent_path(const std::string& id) { return "/api/v1/agents/" + url_encode(id); }

}  // namespace

void register_agents(CLI::App& app, Context& ctx) {
    auto* agents = app.add_subcommand("agents", "Manage agent definitions");
    agents->require_subcommand(1);

    auto list_options = std::make_shared<ListOptions>();
    auto* list = agents->add_subcommand("list", "List agents, newest first");
    add_list_options(list, *list_options);
    list->callback([&ctx, list_options] {
        list_command(ctx.get(), "/api/v1/agents", *list_options, agent_columns(), "agents");
    });

    // Each subcommand parses its own positional, so one shared string per kind of argument is enough.
    auto ref = std::make_shared<std::string>();
    auto* get = agents->add_subcommand("get", "Show an agent and its definition");
    get->add_option("agent", *ref, "agent id (agt_...) or name")->required();
    get->callback([&ctx, ref] {
        Client& client = ctx.get();
        json agent = client.request("GET", agent_path(resolve_id(client, kAgentLookup, *ref)));
        if (client.json_output()) return print_json(agent);
        print_fields({field("id", "id"), field("name", "name"), field("version", "version"),
                      field("created", "created_at"), field("updated", "updated_at")},
                     agent);
        std::cout << "definition:\n" << agent.value("definition", json::object()).dump(2) << "\n";
    });

    auto file = std::make_shared<std::string>();
    auto* create = agents->add_subcommand("create", "Create an agent from a JSON definition file");
    create->add_option("-f,--file", *file, "definition file ('-' reads stdin)")->required();
    create->callback([&ctx, file] {
        Client& client = ctx.get();
        json agent = client.request("POST", "/api/v1/agents", read_json_file(*file));
        report(client, agent, "agent " + agent.value("name", "") + " created");
    });

    auto* apply = agents->add_subcommand("apply", "Create the agent, or replace the one with the same name");
    apply->add_option("-f,--file", *file, "definition file ('-' reads stdin)")->required();
    apply->callback([&ctx, file] {
        Client& client = ctx.get();
        json definition = read_json_file(*file);
        auto name = definition.find("name");
        if (name == definition.end() || !name->is_string() || name->get<std::string>().empty())
            throw CliError(kError, "the definition needs a \"name\"");
        // Looked up by the server's exact-name filter only: an "agt_..." name is still a name here.
        std::string path = with_query("/api/v1/agents", "name", name->get<std::string>());
        json existing = client.request("GET", path);
        json agent;
        std::string action;
        const json items = existing.value("items", json::array());
        if (items.empty()) {
            agent = client.request("POST", "/api/v1/agents", definition);
            action = "created";
        } else {
            agent = client.request("PUT", agent_path(items[0].value("id", "")), definition);
            action = "updated";
        }
        agent["action"] = action;
        report(client, agent, "agent " + name->get<std::string>() + " " + action);
    });

    auto* remove = agents->add_subcommand("delete", "Delete an agent");
    remove->add_option("agent", *ref, "agent id (agt_...) or name")->required();
    remove->callback([&ctx, ref] {
        Client& client = ctx.get();
        std::string id = resolve_id(client, kAgentLookup, *ref);
        client.request("DELETE", agent_path(id));
        report(client, json{{"deleted", id}}, "agent " + *ref + " deleted");
    });
}

}  // namespace va::cli
