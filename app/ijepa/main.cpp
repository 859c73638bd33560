// ijepa: the headless command-line front end of the I-JEPA workbench.
#include "app/ijepa/commands.h"
#include "core/compat.h"
#include "core/allocator.h"
#include "core/cpu_blas.h"
#include "core/errors.h"

#include <csignal>
#include <filesystem>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <set>
#include <thread>

namespace ijepa::cli {

Config ConfigOptions::load() const
{
    Config config = path.empty() ? Config{} : loadConfig(path);
    for (const auto& o : overrides)
        applyOverride(config, o);
    validateConfig(config);
    return config;
}

void addConfigOptions(CLI::App& cmd, ConfigOptions& options, bool required)
{
    auto* opt = cmd.add_option("--config,-c", options.path, "YAML config in the reference schema")->check(CLI::ExistingFile);
    if (required)
        opt->required();
    cmd.add_option("overrides", options.overrides, "config overrides, section.key=value (e.g. mask.patch_size=4)");
}

namespace {

// Why a command cannot write to `path` ("" when it can: a non-empty name whose folder exists).
std::string unwritable(const std::string& path)
{
    std::error_code ec;
    const std::filesystem::path p(path);
    if (path.empty())
        return "an empty name";
    if (p.has_parent_path() && !std::filesystem::is_directory(p.parent_path(), ec))
        return path + ": its folder " + p.parent_path().string() + " does not exist";
    return "";
}

} // namespace

const CLI::Validator kOutputPath([](std::string& path) { return unwritable(path); }, "PATH");

const CLI::Validator kOutputFile(
    [](std::string& path) -> std::string {
        std::error_code ec;
        if (!path.empty() && std::filesystem::is_directory(path, ec))
            return path + " is a folder; give a file name";
        return unwritable(path);
    },
    "FILE");

const CLI::Validator kOutputFolder(
    [](std::string& path) -> std::string {
        std::error_code ec;
        if (path.empty())
            return "an empty name; give a folder";
        if (std::filesystem::exists(path, ec) && !std::filesystem::is_directory(path, ec))
            return path + " is a file; give a folder";
        return "";
    },
    "DIR");

void parseOnly(CLI::App& app)
{
    static const std::set<std::string> pathChecks{"FILE", "DIR", "PATH", "PATH(existing)", "DIR(existing)", "FILE(existing)"};
    for (CLI::Option* option : app.get_options())
        for (int i = 0;; ++i) {
            try {
                CLI::Validator* check = option->get_validator(i);
                if (pathChecks.count(check->get_description()))
                    check->active(false);
            } catch (const CLI::OptionNotFound&) {
                break;
            }
        }
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
        parseOnly(*sub);
    if (!app.get_parent()) // runs once everything is parsed and checked, before any command's callback
        app.parse_complete_callback([] { throw CLI::Success(); });
}

int threadsOrAll(int threads)
{
    return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

} // namespace ijepa::cli

int main(int argc, char** argv)
{
    ijepa::restartWithBetterBlasKernels(argv);
    std::signal(SIGXFSZ, SIG_IGN); // past a file-size limit a write fails (EFBIG, exit 5) instead of killing us
    std::signal(SIGPIPE, SIG_IGN); // output piped into `head` that closed: the writes fail, the run goes on
    CLI::App app{"ijepa: I-JEPA self-supervised pretraining, headless"};
    app.require_subcommand(1);
    app.footer("Exit status: 0 done; 1 bad command line; 2 bad input (a config key, a file, a checkpoint: the\n"
               "message names it); 3 internal error (a bug: please report it); 4 training diverged (non-finite\n"
               "loss; the last good checkpoint is kept); 5 a file could not be written (full disk, read-only\n"
               "folder; what was on disk stays whole); 130 stopped after a checkpoint by Ctrl-C, SIGTERM, SIGHUP,\n"
               "SIGUSR1/2 or SIGXCPU (a second one ends it at once).");
    const std::string blas = ijepa::blasDescription();
    app.set_version_flag("--version", std::string("ijepa 0.1.0 (LibTorch ") + ijepa::compat::torchVersion() +
                                          (blas.empty() ? "" : ", " + blas) + ", " + ijepa::allocatorName() + ")");
    ijepa::cli::addInfoCommand(app);
    ijepa::cli::addMasksCommand(app);
    ijepa::cli::addVizCommand(app);
    ijepa::cli::addBenchCommand(app);
    ijepa::cli::addTrainCommand(app);
    ijepa::cli::addEvalCommands(app);
    ijepa::cli::addExportCommand(app);
    ijepa::cli::addConfigCommand(app);
    ijepa::cli::addSweepCommand(app);
    ijepa::cli::programArgs.assign(argv, argv + argc);
    if (std::getenv("IJEPA_PARSE_ONLY"))
        ijepa::cli::parseOnly(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 1; // --help and --version: 0; CLI11's own codes (105...) are not documented
    } catch (const ijepa::WriteError& e) {
        std::cerr << "ijepa: error: " << e.what() << "\n"
                  << "ijepa: the files written before are whole; nothing half written was left\n";
        return 5;
    } catch (const ijepa::Error& e) {
        std::cerr << "ijepa: error: " << e.what() << "\n";
        return 2;
    } catch (const c10::Error& e) {
        std::cerr << "ijepa: internal error: " << e.what_without_backtrace() << "\n";
        return 3;
    } catch (const std::exception& e) { // anything else: a message and exit 3, never an abort
        std::cerr << "ijepa: internal error: " << e.what() << "\n";
        return 3;
    }
    return ijepa::cli::exitCode;
}
