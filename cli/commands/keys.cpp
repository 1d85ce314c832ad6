// keys list|create|revoke: API keys for scripts (admins).
#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"

namespace va::cli {

using nlohmann::json;

void register_keys(CLI::App& app, Context& ctx) {
    auto* keys = app.add_subcommand("keys", "Manage API keys for scripts (admins)");
    keys->require_subcommand(1);

    auto list_options = std::make_shared<ListOptions>();
    auto* list = keys->add_subcommand("list", "List API keys");
    add_list_options(list, *list_options);
    list->callback([&ctx, list_options] {
        static const std::vector<Column> columns{field("ID", "id"),         field("NAME", "name"),
                                                 field("ROLE", "role"),     field("PREFIX", "prefix"),
                                                 field("CREATED", "created_at"), field("LAST_USED", "last_used_at"),
                                                 field("REVOKED", "revoked_at")};
        list_command(ctx.get(), "/api/v1/api-keys", *list_options, columns, "keys");
    });

    struct CreateArgs {
        std::string name, role;
    };
    auto c = std::make_shared<CreateArgs>();
    auto* create = keys->add_subcommand("create", "Create an API key (the key is shown once)");
    create->add_option("name", c->name, "what the key is for")->required();
    create->add_option("--role", c->role, "the key's role (default: yours; never above it)")
        ->check(CLI::IsMember({"owner", "admin", "member", "viewer"}));
    create->callback([&ctx, c] {
        Client& client = ctx.get();
        json body{{"name", c->name}};
        if (!c->role.empty()) body["role"] = c->role;
        json created = client.request("POST", "/api/v1/api-keys", body);
        if (client.json_output()) return print_json(created);
        const json key = created.value("api_key", json::object());
        // The key alone on stdout, so `KEY=$(vactl keys create ci)` captures just the secret.
        std::cout << created.value("key", "") << "\n";
        std::cerr << "API key " << key.value("id", "") << " (" << key.value("role", "")
                  << "): store it now, it will not be shown again.\n";
    });

    auto ref = std::make_shared<std::string>();
    auto* revoke = keys->add_subcommand("revoke", "Revoke an API key");
    revoke->add_option("key", *ref, "key id (key_...) or name")->required();
    revoke->callback([&ctx, ref] {
        Client& client = ctx.get();
        std::string id = resolve_id(client, kKeyLookup, *ref);
        client.request("DELETE", "/api/v1/api-keys/" + url_encode(id));
        report(client, json{{"revoked", id}}, "key " + *ref + " revoked");
    });
}

}  // namespace va::cli
