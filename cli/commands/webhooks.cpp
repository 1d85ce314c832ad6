// webhooks add|list|remove|deliveries: endpoints that receive signed call and campaign events, and their logs.
#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

const std::vector<Column>& endpoint_columns() {
    static const std::vector<Column> columns{field("ID", "id"), field("URL", "url"), field("EVENTS", "events"),
                                             field("DESCRIPTION", "description"), field("CREATED", "created_at")};
    return columns;
}

const std::vector<Column>& delivery_columns() {
    static const std::vector<Column> columns{field("ID", "id"),           field("EVENT", "event"),
                                             field("STATE", "state"),     field("ATTEMPTS", "attempts"),
                                             field("STATUS", "last_status"), field("ERROR", "last_error"),
                                             field("CREATED", "created_at"), field("DELIVERED", "delivered_at")};
    return columns;
}

std::string endpoint_path(const std::string& id) { return "/api/v1/webhook-endpoints/" + url_encode(id); }

}  // namespace

void register_webhooks(CLI::App& app, Context& ctx) {
    auto* webhooks = app.add_subcommand("webhooks", "Manage endpoints that receive signed call and campaign events");
    webhooks->require_subcommand(1);

    auto list_options = std::make_shared<ListOptions>();
    auto* list = webhooks->add_subcommand("list", "List webhook endpoints");
    add_list_options(list, *list_options);
    list->callback([&ctx, list_options] {
        list_command(ctx.get(), "/api/v1/webhook-endpoints", *list_options, endpoint_columns(), "webhook endpoints");
    });

    struct AddArgs {
        std::string url, description;
        std::vector<std::string> events;
    };
    auto add_args = std::make_shared<AddArgs>();
    auto* add = webhooks->add_subcommand("add", "Register an endpoint; prints the signing secret (shown once)");
    add->add_option("url", add_args->url, "http(s) URL that receives POSTed events")->required();
    add->add_option("--event", add_args->events,
                    "call:started, call:ended, call:analysis or campaign:finished (repeatable)")
        ->required();
    add->add_option("--description", add_args->description, "free text");
    add->callback([&ctx, add_args] {
        Client& client = ctx.get();
        json body{{"url", add_args->url}, {"events", add_args->events}};
        if (!add_args->description.empty()) body["description"] = add_args->description;
        json endpoint = client.request("POST", "/api/v1/webhook-endpoints", body);
        report(client, endpoint,
               "endpoint " + endpoint.value("id", "") + " added; signing secret (shown once): " +
                   endpoint.value("secret", ""));
    });

    auto id = std::make_shared<std::string>();
    auto* remove = webhooks->add_subcommand("remove", "Remove an endpoint and its delivery log");
    remove->add_option("id", *id, "endpoint id (whk_...)")->required();
    remove->callback([&ctx, id] {
        Client& client = ctx.get();
        client.request("DELETE", endpoint_path(*id));
        report(client, json{{"deleted", *id}}, "endpoint " + *id + " removed");
    });

    auto delivery_options = std::make_shared<ListOptions>();
    auto* deliveries = webhooks->add_subcommand("deliveries", "An endpoint's delivery log, newest first");
    deliveries->add_option("id", *id, "endpoint id (whk_...)")->required();
    add_list_options(deliveries, *delivery_options);
    deliveries->callback([&ctx, id, delivery_options] {
        list_command(ctx.get(), endpoint_path(*id) + "/deliveries", *delivery_options, delivery_columns(), "deliveries");
    });
}

}  // namespace va::cli
