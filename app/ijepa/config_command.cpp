// ijepa config: the resolved settings of a config file with overrides (`show`) and the schema, every
// key with its default and meaning (`keys`; `--markdown` writes docs/reference/config.md's table).
#include "app/ijepa/commands.h"

#include <iostream>
#include <memory>

namespace ijepa::cli {
namespace {

// Markdown table cells: a '|' inside a value or a meaning would end the cell.
std::string cell(const std::string& text)
{
    std::string out;
    for (const char c : text)
        out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

void printKeys(bool markdown)
{
    std::string section;
    for (const ConfigEntry& e : configEntries(Config{})) {
        const std::string value = e.value.empty() ? "\"\"" : e.value;
        if (!markdown) {
            std::cout << e.section << "." << e.key << " (" << e.type << ", default " << value << "): " << e.doc << "\n";
            continue;
        }
        if (e.section != section) {
            section = e.section;
            std::cout << (section == "data" ? "" : "\n") << "## " << section << "\n\n"
                      << "| key | type | default | meaning and range |\n|---|---|---|---|\n";
        }
        std::cout << "| `" << e.section << "." << e.key << "` | " << e.type << " | `" << cell(value) << "` | "
                  << cell(e.doc) << " |\n";
    }
}

} // namespace

void addConfigCommand(CLI::App& app)
{
    auto* cmd = app.add_subcommand("config", "Print a config's resolved settings, or every key with its default and meaning");
    cmd->require_subcommand(1);

    auto* show = cmd->add_subcommand("show", "The settings a command would use: the file's, the overrides applied, "
                                             "validated (YAML, the reference schema)");
    auto options = std::make_shared<ConfigOptions>();
    addConfigOptions(*show, *options, false);
    show->callback([options] { std::cout << dumpConfig(options->load()); });

    auto* keys = cmd->add_subcommand("keys", "Every config key: type, default, meaning and range");
    auto markdown = std::make_shared<bool>(false);
    keys->add_flag("--markdown", *markdown, "as Markdown tables, one per section (docs/reference/config.md)");
    keys->callback([markdown] { printKeys(*markdown); });
}

} // namespace ijepa::cli
