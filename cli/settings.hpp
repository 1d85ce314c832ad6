// vactl's settings file, $XDG_CONFIG_HOME/vactl/config.json: the server and the tokens `vactl login` saved.
// It holds credentials, so it is written 0600 in a 0700 directory, atomically (temp file + rename).
// Thread-safety: a value type; load/save touch the file system and are meant for one thread.
#pragma once

#include <string>

#include "core/util/result.hpp"

namespace va::cli {

struct Settings {
    std::string server;
    std::string access_token;
    std::string refresh_token;
    std::string email;

    // $XDG_CONFIG_HOME/vactl/config.json; XDG_CONFIG_HOME defaults to $HOME/.config.
    static std::string path();
    // Empty settings when the file is missing or unreadable: a broken file must not lock the user out of login.
    static Settings load();
    Status save() const;
};

}  // namespace va::cli
