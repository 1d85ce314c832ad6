#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/output.hpp"

namespace va::cli {

int run_vactl(int argc, char** argv) {
    CLI::App app{"vactl: manage voiceagentd (agents, numbers, calls, users, keys)"};
    app.require_subcommand(1);
    // Global flags may come after the command too (vactl agents list -o json); subcommands inherit this.
    app.fallthrough();
    Context ctx;
    app.add_option("--server", ctx.options.server, "daemon URL (default: settings, $VACTL_SERVER, http://127.0.0.1:8700)");
    app.add_option("--token", ctx.options.token, "access token or API key (default: settings, $VACTL_TOKEN, admin.key)");
    app.add_option("-o,--output", ctx.options.output, "table or json")->check(CLI::IsMember({"table", "json"}));
    app.set_version_flag("--version", "vactl 0.1.0");
    register_auth(app, ctx);
    register_agents(app, ctx);
    register_numbers(app, ctx);
    register_calls(app, ctx);
    register_users(app, ctx);
    register_keys(app, ctx);
    register_live(app, ctx);

    try {
        app.parse(argc, argv);
        return kOk;
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kUsage;
    } catch (const CliError& e) {
        bool json_mode = ctx.options.output == "json";
        if (json_mode && !e.body.is_null()) {
            std::cerr << e.body.dump(2) << "\n";
        } else {
            std::cerr << "error: " << e.what() << "\n";
            if (e.body.is_object() && e.body.contains("error") && e.body["error"].contains("details"))
                for (const auto& d : e.body["error"]["details"])
                    std::cerr << "  " << d.value("field", "") << ": " << d.value("reason", "") << "\n";
        }
        return e.code;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kError;
    }
}

}  // namespace va::cli
