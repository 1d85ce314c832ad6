#include <iostream>

#include "cli/commands/commands.hpp"

namespace va::cli {

namespace {

void print_error(const CliError& e, bool json_mode) {
    if (json_mode && e.body.is_object()) {
        std::cerr << e.body.dump(2) << "\n";
        return;
    }
    std::cerr << "error: " << e.what() << "\n";
    if (!e.body.is_object() || !e.body.contains("error") || !e.body["error"].is_object()) return;
    const auto& details = e.body["error"].value("details", nlohmann::json::array());
    for (const auto& d : details)
        if (d.is_object()) std::cerr << "  " << d.value("field", "") << ": " << d.value("reason", "") << "\n";
}

}  // namespace

void add_global_options(CLI::App& app, Context& ctx) {
    app.require_subcommand(1);
    // Global flags may also follow the command (vactl agents list -o json); subcommands added later inherit this.
    app.fallthrough();
    app.add_option("--server", ctx.options.server,
                   "daemon URL (default: $VACTL_SERVER, the saved server, http://127.0.0.1:8700)");
    app.add_option("--token", ctx.options.token,
                   "access token or API key (default: $VACTL_TOKEN, the saved token, the daemon's admin.key)");
    app.add_option("-o,--output", ctx.options.output, "table (default) or json")
        ->check(CLI::IsMember({"table", "json"}));
    app.set_version_flag("--version", "vactl 0.1.0");
}

int run(CLI::App& app, Context& ctx, int argc, const char* const* argv) {
    try {
        app.parse(argc, argv);
        return kOk;
    } catch (const CLI::ParseError& e) {
        // CLI11 prints help, the version or the parse error; only help and version are successes.
        return app.exit(e) == 0 ? kOk : kUsage;
    } catch (const CliError& e) {
        print_error(e, ctx.options.output == "json");
        return e.code;
    } catch (const std::exception& e) {
        // Unexpected answers (a field of the wrong type) and I/O failures: a plain error, never a crash.
        std::cerr << "error: " << e.what() << "\n";
        return kError;
    }
}

}  // namespace va::cli
