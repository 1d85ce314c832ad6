// vactl against a running daemon: the quick start without login (admin.key), JSON output parsed, exit codes,
// and the login flow with its settings file.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "support/daemon_process.hpp"

using namespace va::test;
using nlohmann::json;

namespace {

// vactl pointed at one daemon, with its own settings directory for the whole test (so login persists between
// runs) and, unless told otherwise, the daemon's data directory for the admin.key fallback.
struct Vactl {
    const DaemonProcess& daemon;
    std::string config_home = make_temp_dir("va-vactl");
    ~Vactl() { std::filesystem::remove_all(config_home); }

    ProcessResult run(std::vector<std::string> args, const std::string& input = "", bool use_admin_key = true) const {
        std::vector<std::string> argv{"--server", daemon.base_url()};
        argv.insert(argv.end(), args.begin(), args.end());
        Env env{{"XDG_CONFIG_HOME", config_home}};
        if (use_admin_key) env["VOICEAGENT_DATA_DIR"] = daemon.data_dir();
        return run_vactl(argv, env, input, 60);
    }
    json run_json(std::vector<std::string> args, const std::string& input = "") const {
        args.insert(args.begin(), {"-o", "json"});
        auto r = run(args, input);
        std::string line;
        for (const auto& a : args) line += " " + a;
        INFO("vactl" << line << "\nexit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
        REQUIRE(r.exit_code == 0);
        auto parsed = json::parse(r.out, nullptr, false);
        REQUIRE_FALSE(parsed.is_discarded());
        return parsed;
    }
};
}  // namespace

TEST_CASE("vactl: agents apply, list, get and delete with no login (admin.key)") {
    DaemonProcess d;
    Vactl vactl{d};
    std::string file = std::string(VA_SOURCE_DIR) + "/examples/agents/receptionist.json";
    auto created = vactl.run_json({"agents", "apply", "-f", file});
    CHECK(created["action"] == "created");
    CHECK(created["name"] == "receptionist");
    auto updated = vactl.run_json({"agents", "apply", "-f", file});
    CHECK(updated["action"] == "updated");
    CHECK(updated["id"] == created["id"]);
    CHECK(updated["version"] == 2);

    auto list = vactl.run_json({"agents", "list"});
    REQUIRE(list["items"].size() == 1);
    CHECK(list["items"][0]["name"] == "receptionist");
    auto table = vactl.run({"agents", "list"});
    CHECK(table.exit_code == 0);
    CHECK(table.out.rfind("ID", 0) == 0);
    CHECK(table.out.find("receptionist") != std::string::npos);

    CHECK(vactl.run_json({"agents", "get", "receptionist"})["id"] == created["id"]);
    CHECK(vactl.run_json({"agents", "get", created["id"]})["name"] == "receptionist");
    CHECK(vactl.run({"agents", "get", "nosuch"}).exit_code == 4);
    CHECK(vactl.run({"agents", "--bogus-flag"}).exit_code == 2);
    CHECK(vactl.run({"frobnicate"}).exit_code == 2);
    auto bad_token = vactl.run({"--token", "garbage", "agents", "list"});
    CHECK(bad_token.exit_code == 3);
    CHECK(bad_token.err.find("error:") != std::string::npos);
    CHECK(vactl.run({"agents", "list"}, "", false).exit_code == 3);  // no admin.key, no login

    auto invalid = vactl.run({"-o", "json", "agents", "create", "-f", "-"}, R"({"name":"Bad Name"})");
    CHECK(invalid.exit_code == 1);
    CHECK(json::parse(invalid.err)["error"]["details"][0]["field"] == "/name");

    auto number = vactl.run_json({"numbers", "add", "+15550001111", "--provider", "twilio", "--agent", "receptionist"});
    CHECK(number["agent_id"] == created["id"]);
    auto numbers = vactl.run_json({"numbers", "list"});
    REQUIRE(numbers["items"].size() == 1);
    CHECK(numbers["items"][0]["number"] == "+15550001111");
    CHECK(vactl.run_json({"numbers", "unassign", "+15550001111"})["agent_id"].is_null());
    CHECK(vactl.run_json({"numbers", "assign", "+15550001111", "--agent", "receptionist"})["agent_id"] == created["id"]);
    CHECK(vactl.run({"numbers", "remove", "+15550001111"}).exit_code == 0);

    CHECK(vactl.run_json({"calls", "list"})["items"].empty());
    CHECK(vactl.run({"calls", "show", "call_nope"}).exit_code == 4);
    auto me = vactl.run_json({"whoami"});
    CHECK(me["kind"] == "api_key");
    CHECK(me["role"] == "owner");

    auto bad_number = vactl.run({"numbers", "add", "12345", "--provider", "twilio"});
    CHECK(bad_number.exit_code == 1);
    CHECK(bad_number.err.find("error:") != std::string::npos);
    CHECK(bad_number.err.find("number") != std::string::npos);
    CHECK(vactl.run({"numbers", "remove", "+15559999999"}).exit_code == 4);

    auto deleted = vactl.run_json({"agents", "delete", "receptionist"});
    CHECK(deleted["deleted"] == created["id"]);
    CHECK(vactl.run_json({"agents", "list"})["items"].empty());
    CHECK(vactl.run({"agents", "get", "receptionist"}).exit_code == 4);
    CHECK(vactl.run({"agents", "delete", "receptionist"}).exit_code == 4);
    auto empty_table = vactl.run({"agents", "list"});
    CHECK(empty_table.exit_code == 0);
    CHECK(empty_table.out.find("no agents") != std::string::npos);
    // A token from the environment wins over admin.key, and a bad one is an auth failure.
    CHECK(vactl.run({"whoami"}, "", true).exit_code == 0);
    auto env_token = run_vactl({"--server", d.base_url(), "whoami"},
                               {{"VACTL_TOKEN", "garbage"}, {"VOICEAGENT_DATA_DIR", d.data_dir()}});
    CHECK(env_token.exit_code == 3);
    // An unreachable server is a plain error, quickly.
    auto down = run_vactl({"--server", "http://127.0.0.1:1", "--token", "x", "agents", "list"}, {}, "", 30);
    CHECK(down.exit_code == 1);
    CHECK_FALSE(down.timed_out);
}

TEST_CASE("vactl: users, keys, and the login flow with a private settings file") {
    DaemonProcess d;
    Vactl vactl{d};
    auto user = vactl.run({"-o", "json", "users", "add", "ops@example.com", "--role", "admin", "--password-stdin"},
                          "ops-password\n");
    REQUIRE(user.exit_code == 0);
    CHECK(json::parse(user.out)["role"] == "admin");
    CHECK(vactl.run_json({"users", "list"})["items"].size() == 1);

    auto key = vactl.run_json({"keys", "create", "deploy", "--role", "member"});
    std::string secret = key["key"];
    CHECK(secret.rfind("vak_", 0) == 0);
    auto with_key = vactl.run({"-o", "json", "--token", secret, "whoami"});
    CHECK(json::parse(with_key.out)["role"] == "member");
    CHECK(vactl.run({"keys", "revoke", key["api_key"]["id"]}).exit_code == 0);
    CHECK(vactl.run({"--token", secret, "whoami"}).exit_code == 3);

    auto login = vactl.run({"login", "--email", "ops@example.com", "--password-stdin"}, "ops-password\n", false);
    INFO(login.err);
    REQUIRE(login.exit_code == 0);
    std::string settings = vactl.config_home + "/vactl/config.json";
    struct stat st{};
    REQUIRE(stat(settings.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(stat((vactl.config_home + "/vactl").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    std::ifstream settings_in(settings);
    auto saved = json::parse(settings_in, nullptr, false);
    REQUIRE_FALSE(saved.is_discarded());
    CHECK(saved["email"] == "ops@example.com");
    CHECK(saved["server"] == d.base_url());
    CHECK(saved["refresh_token"].is_string());
    auto me = vactl.run({"-o", "json", "whoami"}, "", false);  // saved token, no admin.key
    REQUIRE(me.exit_code == 0);
    CHECK(json::parse(me.out)["user"]["email"] == "ops@example.com");
    CHECK(vactl.run({"logout"}, "", false).exit_code == 0);
    CHECK(vactl.run({"whoami"}, "", false).exit_code == 3);
    CHECK(vactl.run({"login", "--email", "ops@example.com", "--password-stdin"}, "wrong-password\n", false).exit_code == 3);
}

TEST_CASE("vactl: global flags also work after the command, as in `vactl numbers list -o json`") {
    DaemonProcess d;
    Vactl vactl{d};
    REQUIRE(vactl.run_json({"agents", "apply", "-f", std::string(VA_SOURCE_DIR) + "/examples/agents/receptionist.json"})
                ["action"] == "created");
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"numbers", "list", "-o", "json"},
             {"calls", "list", "-o", "json"},
             {"whoami", "-o", "json"},
             {"agents", "list", "--output", "json"},
             {"agents", "get", "receptionist", "-o", "json"}}) {
        std::string line;
        for (const auto& a : args) line += " " + a;
        auto r = vactl.run(args);
        INFO("vactl" << line << "\nexit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
        CHECK(r.exit_code == 0);
        CHECK_FALSE(json::parse(r.out, nullptr, false).is_discarded());
    }
    auto calls = vactl.run({"calls", "list", "-o", "json"});
    auto parsed = json::parse(calls.out, nullptr, false);
    CHECK((parsed.is_object() && parsed["items"] == json::array()));
}

TEST_CASE("vactl: admin.key comes from the data directory the daemon announced, never from the working directory") {
    DaemonProcess d;
    std::string home = make_temp_dir("va-vactl");
    // The quick start: no login, no VOICEAGENT_DATA_DIR; the daemon announced its data directory for its port.
    auto quick = run_vactl({"--server", d.base_url(), "-o", "json", "whoami"},
                           {{"XDG_CONFIG_HOME", home}, {"XDG_RUNTIME_DIR", d.data_dir() + "/run"}});
    INFO(quick.out << quick.err);
    CHECK(quick.exit_code == 0);
    // Another user's daemon (a directory with a planted var/admin.key) is not a reason to send a key anywhere: the
    // working directory is not looked at. run_vactl runs in XDG_CONFIG_HOME.
    std::filesystem::create_directories(home + "/var");
    std::ofstream(home + "/var/admin.key") << d.admin_key() << "\n";
    auto planted = run_vactl({"--server", d.base_url(), "agents", "list"},
                             {{"XDG_CONFIG_HOME", home}, {"XDG_RUNTIME_DIR", home + "/run"}});
    CHECK(planted.exit_code == 3);
    // Only 127.0.0.1, ::1 and localhost get the key: 127.0.0.2 may be anyone's listener.
    std::string other = "http://127.0.0.2:" + std::to_string(d.port());
    auto elsewhere = run_vactl({"--server", other, "agents", "list"},
                               {{"XDG_CONFIG_HOME", home}, {"VOICEAGENT_DATA_DIR", d.data_dir()}});
    CHECK(elsewhere.exit_code == 3);
    CHECK(elsewhere.err.find("not logged in") != std::string::npos);
    std::filesystem::remove_all(home);
}
