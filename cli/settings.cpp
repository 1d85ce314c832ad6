#include "cli/settings.hpp"
#include "core/util/json.hpp"
#include "core/util/private_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace va::cli {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Settings::path() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    std::string base = xdg && *xdg ? xdg : "";
    if (base.empty()) {
        const char* home = std::getenv("HOME");
        base = std::string(home ? home : ".") + "/.config";
    }
    return base + "/vactl/config.json";
}

Settings Settings::load() {
    Settings s;
    std::ifstream in(path());
    if (!in) return s;
    std::stringstream text;
    text << in.rdbuf();
    json j = parse_json(text.str());
    if (!j.is_object()) return s;
    auto get = [&j](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    s.server = get("server");
    s.access_token = get("access_token");
    s.refresh_token = get("refresh_token");
    s.email = get("email");
    return s;
}

Status Settings::save() const {
    json j{{"server", server}, {"access_token", access_token}, {"refresh_token", refresh_token}, {"email", email}};
    return write_private_file(path(), j.dump(2) + "\n");
}

}  // namespace va::cli
