// campaigns create|list|show|import|contacts|start|pause|resume|cancel|watch, and dnc add|list|remove.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

const Lookup kCampaignLookup{"campaign", "/api/v1/campaigns", "cmp_", "name", ""};

const std::vector<Column>& campaign_columns() {
    static const std::vector<Column> columns{field("ID", "id"),          field("NAME", "name"),
                                             field("STATUS", "status"),  field("CONCURRENCY", "concurrency"),
                                             field("AGENT", "agent_id"), field("CREATED", "created_at")};
    return columns;
}

const std::vector<Column>& contact_columns() {
    static const std::vector<Column> columns{field("ID", "id"),           field("PHONE", "phone"),
                                             field("STATE", "state"),     field("ATTEMPTS", "attempts"),
                                             field("OUTCOME", "last_outcome"), field("CALL", "last_call_id"),
                                             field("VARIABLES", "variables")};
    return columns;
}

std::string campaign_path(Client& client, const std::string& ref) {
    return "/api/v1/campaigns/" + url_encode(resolve_id(client, kCampaignLookup, ref));
}

std::string read_file(const std::string& file) {
    if (file == "-") {
        std::ostringstream in;
        in << std::cin.rdbuf();
        return in.str();
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) throw CliError(kError, "cannot read " + file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Sends a contacts file (CSV, or JSON when it ends in .json) and reports what was added and which rows were bad.
json import_file(Client& client, const std::string& path, const std::string& file) {
    std::string text = read_file(file);
    bool is_json = file.ends_with(".json");
    json result = client.request_text("POST", path + "/contacts", text, is_json ? "application/json" : "text/csv");
    if (!client.json_output()) {
        std::cout << result.value("added", 0) << " contacts added, " << result.value("updated", 0) << " updated";
        if (result.value("duplicates", 0) > 0) std::cout << ", " << result.value("duplicates", 0) << " duplicates merged";
        std::cout << "\n";
        for (const auto& e : result.value("errors", json::array()))
            std::cerr << file << ": " << e.value("message", "") << "\n";  // the message names the line
        if (!result.value("errors", json::array()).empty())
            std::cerr << result["errors"].size() << " rows rejected\n";
    }
    return result;
}

std::string duration_text(double seconds) {
    if (seconds < 0) return "-";
    auto s = static_cast<long long>(std::llround(seconds));
    std::ostringstream out;
    if (s >= 3600) out << s / 3600 << "h" << (s % 3600) / 60 << "m";
    else if (s >= 60) out << s / 60 << "m" << s % 60 << "s";
    else out << s << "s";
    return out.str();
}

// One line of `campaigns watch`: a bar of settled contacts, the counts, the rate and the time left.
std::string progress_line(const json& p) {
    const json& counts = p["counts"];
    auto n = [&](const char* k) { return counts.value(k, std::int64_t(0)); };
    std::int64_t total = p.value("total", std::int64_t(0));
    std::int64_t settled = n("done") + n("failed") + n("dnc") + n("canceled");
    constexpr int width = 30;
    int filled = total > 0 ? int(double(settled) / double(total) * width) : 0;
    std::string bar = "[" + std::string(std::size_t(filled), '#') + std::string(std::size_t(width - filled), '-') + "]";
    std::ostringstream out;
    out << bar << " " << settled << "/" << total << "  done " << n("done") << "  failed " << n("failed") << "  dnc "
        << n("dnc") << "  pending " << n("pending") << "  dialing " << n("dialing") << "  attempts "
        << p.value("attempts", 0) << "  answer " << int(std::lround(p.value("answer_rate", 0.0) * 100)) << "%";
    if (p["rate_per_min"].is_number()) out << "  " << std::fixed << std::setprecision(1) << p["rate_per_min"].get<double>() << "/min";
    out << "  ETA " << (p["eta_s"].is_number() ? duration_text(p["eta_s"].get<double>()) : std::string("-"));
    out << "  " << p.value("status", "");
    return out.str();
}

void watch(Client& client, const std::string& path, int interval_ms) {
    bool tty = isatty(STDOUT_FILENO) && !client.json_output();
    std::string last;
    while (true) {
        json p = client.request("GET", path + "/progress");
        std::string status = p.value("status", "");
        if (client.json_output()) {
            std::cout << p.dump() << std::endl;  // one JSON object per line
        } else {
            std::string line = progress_line(p);
            if (tty) std::cout << "\r\033[K" << line << std::flush;
            else if (line != last) std::cout << line << std::endl;
            last = line;
        }
        if (status == "completed" || status == "canceled" || status == "draft") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
    if (tty) std::cout << "\n";
}

}  // namespace

void register_campaigns(CLI::App& app, Context& ctx) {
    auto* campaigns = app.add_subcommand("campaigns", "Run outbound calling campaigns");
    campaigns->require_subcommand(1);

    auto list_options = std::make_shared<ListOptions>();
    auto* list = campaigns->add_subcommand("list", "List campaigns");
    add_list_options(list, *list_options);
    list->callback([&ctx, list_options] {
        list_command(ctx.get(), "/api/v1/campaigns", *list_options, campaign_columns(), "campaigns");
    });

    struct CreateArgs {
        std::string name, agent, from, phone_id, start, end, timezone, contacts;
        std::vector<std::string> days, retry_on;
        int concurrency = 0, max_attempts = 0, backoff_s = -1;
    };
    auto c = std::make_shared<CreateArgs>();
    auto* create = campaigns->add_subcommand("create", "Create a campaign (draft until started)");
    create->add_option("name", c->name, "campaign name")->required();
    create->add_option("--agent", c->agent, "agent id or name")->required();
    create->add_option("--from", c->from, "the workspace number calls come from (E.164)");
    create->add_option("--phone-id", c->phone_id, "or that number's id (phn_...)");
    create->add_option("--concurrency", c->concurrency, "calls in flight at most (default 1)");
    create->add_option("--window-start", c->start, "calling hours start, HH:MM local (default 00:00)");
    create->add_option("--window-end", c->end, "calling hours end, HH:MM local (default 24:00)");
    create->add_option("--days", c->days, "days calls may be placed: mon,tue,... (default every day)")->delimiter(',');
    create->add_option("--timezone", c->timezone, "IANA time zone of the window (default UTC; a contact's own wins)");
    create->add_option("--max-attempts", c->max_attempts, "attempts per contact (default 3)");
    create->add_option("--backoff", c->backoff_s, "seconds between attempts (default 600)");
    create->add_option("--retry-on", c->retry_on, "outcomes retried: busy,no-answer,failed (default all three)")
        ->delimiter(',');
    create->add_option("--contacts", c->contacts, "import this CSV (or .json) file right away");
    create->callback([&ctx, c] {
        Client& client = ctx.get();
        json body{{"name", c->name}, {"agent_id", resolve_id(client, kAgentLookup, c->agent)}};
        if (!c->from.empty()) body["from"] = c->from;
        if (!c->phone_id.empty()) body["phone_id"] = c->phone_id;
        if (c->concurrency > 0) body["concurrency"] = c->concurrency;
        json window = json::object();
        if (!c->start.empty()) window["start"] = c->start;
        if (!c->end.empty()) window["end"] = c->end;
        if (!c->days.empty()) window["days"] = c->days;
        if (!c->timezone.empty()) window["timezone"] = c->timezone;
        if (!window.empty()) body["window"] = window;
        json retry = json::object();
        if (c->max_attempts > 0) retry["max_attempts"] = c->max_attempts;
        if (c->backoff_s >= 0) retry["backoff_s"] = c->backoff_s;
        if (!c->retry_on.empty()) retry["on"] = c->retry_on;
        if (!retry.empty()) body["retry"] = retry;
        json campaign = client.request("POST", "/api/v1/campaigns", body);
        if (!c->contacts.empty()) {
            json imported = import_file(client, "/api/v1/campaigns/" + url_encode(campaign.value("id", "")), c->contacts);
            campaign["import"] = imported;
        }
        report(client, campaign, "campaign " + campaign.value("id", "") + " created (draft: start it with vactl campaigns start " +
                                     campaign.value("id", "") + ")");
    });

    auto ref = std::make_shared<std::string>();
    auto* show = campaigns->add_subcommand("show", "A campaign with its progress");
    show->add_option("campaign", *ref, "campaign id or name")->required();
    show->callback([&ctx, ref] {
        Client& client = ctx.get();
        json campaign = client.request("GET", campaign_path(client, *ref));
        if (client.json_output()) return print_json(campaign);
        static const std::vector<Column> fields{
            field("ID", "id"),         field("NAME", "name"),          field("STATUS", "status"),
            field("AGENT", "agent_id"), field("PHONE", "phone_id"),    field("CONCURRENCY", "concurrency"),
            field("WINDOW", "window"), field("RETRY", "retry"),        field("CREATED", "created_at"),
            field("STARTED", "started_at"), field("FINISHED", "finished_at")};
        print_fields(fields, campaign);
        std::cout << progress_line(campaign["progress"]) << "\n";
    });

    auto file = std::make_shared<std::string>();
    auto* import = campaigns->add_subcommand("import", "Add contacts from a CSV (or .json) file; bad rows are listed");
    import->add_option("campaign", *ref, "campaign id or name")->required();
    import->add_option("file", *file, "CSV with a phone column (other columns become variables), or JSON; - reads stdin")
        ->required();
    import->callback([&ctx, ref, file] {
        Client& client = ctx.get();
        json result = import_file(client, campaign_path(client, *ref), *file);
        if (client.json_output()) print_json(result);
    });

    struct ContactArgs {
        std::string state;
        ListOptions list;
    };
    auto contact_args = std::make_shared<ContactArgs>();
    auto* contacts = campaigns->add_subcommand("contacts", "A campaign's contacts");
    contacts->add_option("campaign", *ref, "campaign id or name")->required();
    contacts->add_option("--state", contact_args->state, "pending, dialing, done, failed, dnc or canceled");
    add_list_options(contacts, contact_args->list);
    contacts->callback([&ctx, ref, contact_args] {
        Client& client = ctx.get();
        list_command(client, with_query(campaign_path(client, *ref) + "/contacts", "state", contact_args->state),
                     contact_args->list, contact_columns(), "contacts");
    });

    for (const char* action : {"start", "pause", "resume", "cancel"}) {
        static const std::map<std::string, std::string> help{
            {"start", "Start dialling"},
            {"pause", "Stop new dials (calls in flight finish)"},
            {"resume", "Dial again after a pause"},
            {"cancel", "Cancel: no more dials; calls in flight finish"}};
        auto* command = campaigns->add_subcommand(action, help.at(action));
        command->add_option("campaign", *ref, "campaign id or name")->required();
        command->callback([&ctx, ref, action = std::string(action)] {
            Client& client = ctx.get();
            json campaign = client.request("POST", campaign_path(client, *ref) + "/" + action);
            report(client, campaign, "campaign " + campaign.value("id", "") + " is " + campaign.value("status", ""));
        });
    }

    auto interval = std::make_shared<int>(1000);
    auto* watch_command = campaigns->add_subcommand(
        "watch", "A live progress bar (counts, rate, ETA) until the campaign ends; -o json prints one line per update");
    watch_command->add_option("campaign", *ref, "campaign id or name")->required();
    watch_command->add_option("--interval-ms", *interval, "how often to look (default 1000)")->check(CLI::Range(100, 60000));
    watch_command->callback([&ctx, ref, interval] {
        Client& client = ctx.get();
        watch(client, campaign_path(client, *ref), *interval);
    });

    // The do-not-call list: campaigns check it at dial time.
    auto* dnc = app.add_subcommand("dnc", "The do-not-call list campaigns check before every dial");
    dnc->require_subcommand(1);
    auto dnc_list = std::make_shared<ListOptions>();
    auto* dnc_ls = dnc->add_subcommand("list", "List numbers not to call");
    add_list_options(dnc_ls, *dnc_list);
    dnc_ls->callback([&ctx, dnc_list] {
        static const std::vector<Column> columns{field("PHONE", "phone"), field("REASON", "reason"),
                                                 field("ADDED", "created_at")};
        list_command(ctx.get(), "/api/v1/dnc", *dnc_list, columns, "numbers on the do-not-call list");
    });
    struct DncArgs {
        std::string phone, reason;
    };
    auto d = std::make_shared<DncArgs>();
    auto* dnc_add = dnc->add_subcommand("add", "Never call this number from a campaign");
    dnc_add->add_option("phone", d->phone, "E.164 number")->required();
    dnc_add->add_option("--reason", d->reason, "why (kept with the entry)");
    dnc_add->callback([&ctx, d] {
        Client& client = ctx.get();
        json body{{"phone", d->phone}};
        if (!d->reason.empty()) body["reason"] = d->reason;
        json entry = client.request("POST", "/api/v1/dnc", body);
        report(client, entry, entry.value("phone", "") + " added to the do-not-call list");
    });
    auto* dnc_remove = dnc->add_subcommand("remove", "Allow campaigns to call this number again");
    dnc_remove->add_option("phone", d->phone, "E.164 number")->required();
    dnc_remove->callback([&ctx, d] {
        Client& client = ctx.get();
        client.request("DELETE", "/api/v1/dnc/" + url_encode(d->phone));
        report(client, json{{"removed", d->phone}}, d->phone + " removed from the do-not-call list");
    });
}

}  // namespace va::cli
