#include "args.h"

#include <cstdio>

namespace cvm::cli {

namespace {

const FlagSpec* find(const std::vector<FlagSpec>& specs, const std::string& name)
{
    for (const FlagSpec& s : specs) {
        if (s.name == name)
            return &s;
    }
    return nullptr;
}

}  // namespace

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs)
{
    Args out;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (arg == "--") {
            out.m_positional.insert(out.m_positional.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
            break;
        }
        if (arg == "-h" || arg == "--help") {
            out.m_help = true;
            continue;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            out.m_positional.push_back(arg);
            continue;
        }
        if (arg[1] != '-')
            return Error::make(Errc::Config, "unknown option '%s' (options are spelled --name)", arg.c_str());
        std::string name = arg.substr(2);
        std::optional<std::string> inline_value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            inline_value = name.substr(eq + 1);
            name.resize(eq);
        }
        const FlagSpec* spec = find(specs, name);
        if (!spec)
            return Error::make(Errc::Config, "unknown option '--%s'", name.c_str());
        if (spec->takes == Takes::Nothing) {
            if (inline_value)
                return Error::make(Errc::Config, "option '--%s' takes no value", name.c_str());
            out.m_values[name].push_back("");
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= argv.size())
                return Error::make(Errc::Config, "option '--%s' needs a value", name.c_str());
            inline_value = argv[++i];
        }
        auto& slot = out.m_values[name];
        if (spec->takes == Takes::Value && !slot.empty())
            return Error::make(Errc::Config, "option '--%s' given twice", name.c_str());
        slot.push_back(*inline_value);
    }
    return out;
}

std::optional<std::string> Args::get(const std::string& name) const
{
    auto it = m_values.find(name);
    if (it == m_values.end())
        return std::nullopt;
    return it->second.front();
}

std::vector<std::string> Args::all(const std::string& name) const
{
    auto it = m_values.find(name);
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

Result<void> refuse_flags(const Args& args, const char* subcommand, std::initializer_list<const char*> flags)
{
    for (const char* flag : flags) {
        if (args.has(flag))
            return Error::make(Errc::Config, "%s does not take --%s", subcommand, flag);
    }
    return {};
}

int usage_failure(const char* command, const Error& error)
{
    fprintf(stderr, "cvm %s: %.*s\n", command, static_cast<int>(error.message().size()), error.message().data());
    return 2;
}

std::variant<Args, int> parse_command(const char* command, const std::vector<std::string>& argv,
                                      const std::vector<FlagSpec>& flags, const char* usage, Positional positional)
{
    auto args = Args::parse(argv, flags);
    if (!args.ok())
        return usage_failure(command, args.error());
    if (args->help()) {
        fputs(usage, stdout);
        return 0;
    }
    if (positional == Positional::None && !args->positional().empty())
        return usage_failure(command,
                             Error::make(Errc::Config, "unexpected argument '%s'", args->positional()[0].c_str()));
    return args.release_value();
}

std::vector<std::string> expand_short_output(std::vector<std::string> argv)
{
    for (std::string& a : argv) {
        if (a == "--")
            break;
        if (a == "-o")
            a = "--output";
    }
    return argv;
}

}  // namespace cvm::cli
