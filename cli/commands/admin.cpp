#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/output.hpp"

namespace va::cli {

using nlohmann::json;

void register_users(CLI::App& app, Context& ctx) {
    auto* users = app.add_subcommand("users", "Manage the workspace's users (admins)");
    users->require_subcommand(1);
    static const std::vector<Column> columns{field("ID", "id"),     field("EMAIL", "email"),
                                             field("ROLE", "role"), field("NAME", "name"),
                                             field("DISABLED", "disabled"), field("CREATED", "created_at")};

    auto list_options = std::make_shared<ListOptions>();
    auto* list = users->add_subcommand("list", "List users");
    list->add_option("--limit", list_options->limit, "page size (1-500)");
    list->add_flag("--all", list_options->all, "fetch every page");
    list->callback([&ctx, list_options] { list_command(ctx.get(), "/api/v1/users", *list_options, columns, "users"); });

    struct AddArgs {
        std::string email, role = "member", name;
        bool password_stdin = false;
    };
    auto a = std::make_shared<AddArgs>();
    auto* add = users->add_subcommand("add", "Add a user");
    add->add_option("email", a->email, "email address")->required();
    add->add_option("--role", a->role, "owner, admin, member or viewer (default member)");
    add->add_option("--name", a->name, "display name");
    add->add_flag("--password-stdin", a->password_stdin, "read the password from the first line of stdin");
    add->callback([&ctx, a] {
        Client& client = ctx.get();
        std::string password = read_password(a->password_stdin, "Password for " + a->email + ": ");
        json user = client.request("POST", "/api/v1/users",
                                   json{{"email", a->email}, {"role", a->role}, {"name", a->name}, {"password", password}});
        if (client.json_output()) return print_json(user);
        std::cout << "user " << user.value("email", "") << " added (" << user.value("id", "") << ", "
                  << user.value("role", "") << ")\n";
    });

    struct UpdateArgs {
        std::string id, role, name;
        bool disable = false, enable = false, password = false, password_stdin = false;
    };
    auto u = std::make_shared<UpdateArgs>();
    auto* update = users->add_subcommand("update", "Change a user's role, name, password or disabled flag");
    update->add_option("user", u->id, "user id")->required();
    update->add_option("--role", u->role, "new role");
    update->add_option("--name", u->name, "new display name");
    update->add_flag("--disable", u->disable, "disable the user (their sessions end)");
    update->add_flag("--enable", u->enable, "enable the user again");
    update->add_flag("--password", u->password, "set a new password (prompted)");
    update->add_flag("--password-stdin", u->password_stdin, "set a new password read from stdin");
    update->callback([&ctx, u] {
        Client& client = ctx.get();
        json patch = json::object();
        if (!u->role.empty()) patch["role"] = u->role;
        if (!u->name.empty()) patch["name"] = u->name;
        if (u->disable) patch["disabled"] = true;
        if (u->enable) patch["disabled"] = false;
        if (u->password || u->password_stdin) patch["password"] = read_password(u->password_stdin, "New password: ");
        if (patch.empty()) throw CliError(kUsage, "nothing to change: give --role, --name, --disable, --enable or --password");
        json user = client.request("PATCH", "/api/v1/users/" + url_encode(u->id), patch);
        if (client.json_output()) return print_json(user);
        std::cout << "user " << user.value("email", "") << " updated\n";
    });

    auto id = std::make_shared<std::string>();
    auto* remove = users->add_subcommand("delete", "Delete a user");
    remove->add_option("user", *id, "user id")->required();
    remove->callback([&ctx, id] {
        Client& client = ctx.get();
        client.request("DELETE", "/api/v1/users/" + url_encode(*id));
        if (client.json_output()) return print_json(json{{"deleted", *id}});
        std::cout << "user " << *id << " deleted\n";
    });
}

void register_keys(CLI::App& app, Context& ctx) {
    auto* keys = app.add_subcommand("keys", "Manage API keys for scripts (admins)");
    keys->require_subcommand(1);
    static const std::vector<Column> columns{field("ID", "id"),         field("NAME", "name"),
                                             field("ROLE", "role"),     field("PREFIX", "prefix"),
                                             field("LAST_USED", "last_used_at"), field("REVOKED", "revoked_at")};

    auto list_options = std::make_shared<ListOptions>();
    auto* list = keys->add_subcommand("list", "List API keys");
    list->add_option("--limit", list_options->limit, "page size (1-500)");
    list->add_flag("--all", list_options->all, "fetch every page");
    list->callback([&ctx, list_options] { list_command(ctx.get(), "/api/v1/api-keys", *list_options, columns, "keys"); });

    struct CreateArgs {
        std::string name, role;
    };
    auto c = std::make_shared<CreateArgs>();
    auto* create = keys->add_subcommand("create", "Create an API key (shown once)");
    create->add_option("name", c->name, "what the key is for")->required();
    create->add_option("--role", c->role, "role of the key (default: yours; never above it)");
    create->callback([&ctx, c] {
        Client& client = ctx.get();
        json body{{"name", c->name}};
        if (!c->role.empty()) body["role"] = c->role;
        json created = client.request("POST", "/api/v1/api-keys", body);
        if (client.json_output()) return print_json(created);
        std::cout << created.value("key", "") << "\n";
        std::cerr << "API key " << created["api_key"].value("id", "") << " (" << created["api_key"].value("role", "")
                  << "). Store it now: it will not be shown again.\n";
    });

    auto id = std::make_shared<std::string>();
    auto* revoke = keys->add_subcommand("revoke", "Revoke an API key");
    revoke->add_option("key", *id, "key id")->required();
    revoke->callback([&ctx, id] {
        Client& client = ctx.get();
        client.request("DELETE", "/api/v1/api-keys/" + url_encode(*id));
        if (client.json_output()) return print_json(json{{"revoked", *id}});
        std::cout << "key " << *id << " revoked\n";
    });
}

}  // namespace va::cli
