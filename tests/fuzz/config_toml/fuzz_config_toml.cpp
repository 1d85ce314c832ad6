// Fuzzes configuration loading (config/config: load_config, toml++ underneath, then the environment and
// validation). The input is the TOML file; bytes after a NUL are VOICEAGENT_* environment variables, one
// NAME=VALUE per line. load_config reads a path, so the harness writes the file first (to /dev/shm when it exists).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "providers/builtin_carriers.hpp"
#include "core/providers/registry.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {
const std::string& config_path() {
    static const std::string path = [] {
        std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
        return (dir / ("va_fuzz_config_" + std::to_string(::getpid()) + ".toml")).string();
    }();
    return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    va::register_builtin_providers();  // once: the providers complete the schema and the config sections
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto nul = input.find('\0');
    std::string_view toml = input.substr(0, nul);
    std::map<std::string, std::string> env;
    if (nul != std::string_view::npos) {
        std::string_view rest = input.substr(nul + 1);
        while (!rest.empty()) {
            auto eol = rest.find('\n');
            std::string_view line = rest.substr(0, eol);
            auto eq = line.find('=');
            if (eq != std::string_view::npos) env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
            if (eol == std::string_view::npos) break;
            rest.remove_prefix(eol + 1);
        }
    }
    {
        std::ofstream out(config_path(), std::ios::binary | std::ios::trunc);
        out.write(toml.data(), std::streamsize(toml.size()));
    }
    // The carriers' sections are parsed by the carriers, known once registered (as voiceagentd's main does).
    static const bool registered = (va::register_builtin_carriers(), true);
    (void)registered;
    auto config = va::load_config(config_path(), env, {});
    if (config) FUZZ_CHECK(va::validate_config(*config).ok());
    return 0;
}
