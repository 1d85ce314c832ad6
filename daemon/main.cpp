// voiceagentd: parses flags, loads and validates the configuration, and runs the daemon (daemon/app).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "config/config.hpp"
#include "core/providers/registry.hpp"
#include "daemon/app/app.hpp"
#include "providers/builtin_carriers.hpp"

int main(int argc, char** argv) {
    CLI::App app{"voiceagentd: the voiceagent daemon (REST API, call pipeline, carriers)"};
    std::string config_path;
    va::ConfigOverrides overrides;
    bool check_only = false;
    app.add_option("--config", config_path, "TOML configuration file (default: ./voiceagentd.toml if present)");
    app.add_option("--listen", overrides.listen, "HOST:PORT to listen on (overrides server.listen)");
    app.add_option("--data-dir", overrides.data_dir, "data directory (overrides storage.data_dir)");
    app.add_flag("--check-config", check_only, "validate the configuration and exit");
    app.set_version_flag("--version", "voiceagentd 0.1.0");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    // Before the configuration: each carrier's section is known to the loader through its registration.
    va::register_builtin_carriers();
    // Before the configuration: the providers' sections are theirs to declare and check.
    va::register_builtin_providers();
    auto config = va::load_config(config_path, va::voiceagent_environment(), overrides);
    if (!config) {
        std::fprintf(stderr, "voiceagentd: %s\n", config.error().message.c_str());
        for (const auto& d : config.error().details) std::fprintf(stderr, "  %s: %s\n", d.field.c_str(), d.reason.c_str());
        return 2;
    }
    if (check_only) {
        std::printf("configuration OK%s%s\n", config->source.empty() ? "" : ": ", config->source.c_str());
        return 0;
    }
    return va::run_daemon(*config);
}
