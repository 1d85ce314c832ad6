#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands/commands.hpp"
#include "cli/output.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

const std::vector<Column>& agent_columns() {
    static const std::vector<Column> columns{field("ID", "id"), field("NAME", "name"), field("VERSION", "version"),
                                             field("UPDATED", "updated_at")};
    return columns;
}

json read_definition(const std::string& file) {
    std::stringstream text;
    if (file == "-") {
        text << std::cin.rdbuf();
    } else {
        std::ifstream in(file);
        if (!in) throw CliError(kError, "cannot read " + file);
        text << in.rdbuf();
    }
    json definition = json::parse(text.str(), nullptr, false);
    if (definition.is_discarded()) throw CliError(kError, file + " is not valid JSON");
    if (!definition.is_object()) throw CliError(kError, file + " must hold a JSON object (an agent definition)");
    return definition;
}

}  // namespace

// Agents are addressed by id (agt_...) or by name, which is unique in a workspace.
json resolve_agent(Client& client, const std::string& ref) {
    if (ref.rfind("agt_", 0) == 0) return client.request("GET", "/api/v1/agents/" + url_encode(ref));
    json page = client.request("GET", "/api/v1/agents?name=" + url_encode(ref));
    if (page["items"].empty()) throw CliError(kNotFound, "agent " + ref + " not found");
    return page["items"][0];
}

void register_agents(CLI::App& app, Context& ctx) {
    auto* agents = app.add_subcommand("agents", "Manage agent definitions");
    agents->require_subcommand(1);

    auto list_options = std::make_shared<ListOptions>();
    auto* list = agents->add_subcommand("list", "List agents");
    list->add_option("--limit", list_options->limit, "page size (1-500)");
    list->add_flag("--all", list_options->all, "fetch every page");
    list->callback([&ctx, list_options] {
        list_command(ctx.get(), "/api/v1/agents", *list_options, agent_columns(), "agents");
    });

    auto ref = std::make_shared<std::string>();
    auto* get = agents->add_subcommand("get", "Show an agent (by id or name)");
    get->add_option("agent", *ref, "agent id or name")->required();
    get->callback([&ctx, ref] {
        Client& client = ctx.get();
        json agent = resolve_agent(client, *ref);
        if (client.json_output()) return print_json(agent);
        show_object(client, agent, agent_columns());
        std::cout << "definition:\n" << agent["definition"].dump(2) << "\n";
    });

    auto file = std::make_shared<std::string>();
    auto* create = agents->add_subcommand("create", "Create an agent from a JSON definition file");
    create->add_option("-f,--file", *file, "definition file ('-' for stdin)")->required();
    create->callback([&ctx, file] {
        Client& client = ctx.get();
        json agent = client.request("POST", "/api/v1/agents", read_definition(*file));
        if (client.json_output()) return print_json(agent);
        std::cout << "agent " << agent.value("name", "") << " created (" << agent.value("id", "") << ")\n";
    });

    auto* apply = agents->add_subcommand("apply", "Create or update an agent by its name (idempotent)");
    apply->add_option("-f,--file", *file, "definition file ('-' for stdin)")->required();
    apply->callback([&ctx, file] {
        Client& client = ctx.get();
        json definition = read_definition(*file);
        if (!definition.contains("name") || !definition["name"].is_string())
            throw CliError(kError, *file + ": the definition needs a \"name\"");
        std::string name = definition["name"];
        json existing = client.request("GET", "/api/v1/agents?name=" + url_encode(name));
        json agent;
        std::string action;
        if (existing["items"].empty()) {
            agent = client.request("POST", "/api/v1/agents", definition);
            action = "created";
        } else {
            agent = client.request("PUT", "/api/v1/agents/" + existing["items"][0]["id"].get<std::string>(), definition);
            action = "updated";
        }
        if (client.json_output()) {
            agent["action"] = action;
            return print_json(agent);
        }
        std::cout << "agent " << name << " " << action << " (" << agent.value("id", "") << ", version "
                  << agent.value("version", 0) << ")\n";
    });

    auto* remove = agents->add_subcommand("delete", "Delete an agent (by id or name)");
    remove->add_option("agent", *ref, "agent id or name")->required();
    remove->callback([&ctx, ref] {
        Client& client = ctx.get();
        json agent = resolve_agent(client, *ref);
        client.request("DELETE", "/api/v1/agents/" + agent["id"].get<std::string>());
        if (client.json_output()) return print_json(json{{"deleted", agent["id"]}});
        std::cout << "agent " << agent.value("name", "") << " deleted\n";
    });
}

}  // namespace va::cli
