// vactl: the command-line client of voiceagentd. Builds the app from the command modules and runs it.
#include "cli/commands/commands.hpp"

int main(int argc, char** argv) {
    va::cli::Context ctx;
    CLI::App app{"vactl: manage voiceagentd (agents, numbers, calls, users, API keys)", "vactl"};
    va::cli::add_global_options(app, ctx);
    va::cli::register_auth(app, ctx);
    va::cli::register_agents(app, ctx);
    va::cli::register_numbers(app, ctx);
    va::cli::register_webhooks(app, ctx);
    va::cli::register_analytics(app, ctx);
    va::cli::register_campaigns(app, ctx);
    va::cli::register_calls(app, ctx);
    va::cli::register_users(app, ctx);
    va::cli::register_keys(app, ctx);
    va::cli::register_live(app, ctx);
    va::cli::register_telephony(app, ctx);
    return va::cli::run(app, ctx, argc, argv);
}
