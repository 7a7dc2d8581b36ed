// Args: the flag grammar every `cvm` command shares.
//
// `--name value` and `--name=value` for options, `--name` alone for switches, `--` ends flags.
// A command declares its flags up front; an undeclared flag, a missing value, or a repeated
// single-valued flag is an error naming the flag. `-h`/`--help` is always recognised.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"

namespace cvm::cli {

enum class Takes { Value, Nothing, Values };

struct FlagSpec {
    std::string name;  // without the leading dashes
    Takes takes;
};

class Args {
public:
    static Result<Args> parse(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs);

    bool help() const { return m_help; }
    bool has(const std::string& name) const { return m_values.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const;
    std::vector<std::string> all(const std::string& name) const;
    const std::vector<std::string>& positional() const { return m_positional; }

private:
    std::map<std::string, std::vector<std::string>> m_values;
    std::vector<std::string> m_positional;
    bool m_help{false};
};

enum class Positional : uint8_t { None, Allowed };

// The opening every command shares: parses `argv` against `flags`. A grammar error is printed as
// "cvm <command>: ..." and becomes exit status 2; --help prints `usage` and becomes 0; with
// Positional::None a positional argument is a usage error too. Otherwise, the parsed Args.
std::variant<Args, int> parse_command(const char* command, const std::vector<std::string>& argv,
                                      const std::vector<FlagSpec>& flags, const char* usage, Positional positional);

// Prints "cvm <command>: <message>" on stderr and returns the usage exit status (2).
int usage_failure(const char* command, const Error& error);

// Errc::Config "<subcommand> does not take --<flag>" for the first of `flags` given: flags of
// other subcommands are refused rather than ignored (a --config given to `cmdline parse` would
// otherwise look checked when it was not).
Result<void> refuse_flags(const Args& args, const char* subcommand, std::initializer_list<const char*> flags);

// The one short option the commands take: "-o FILE" becomes "--output FILE" (before "--").
std::vector<std::string> expand_short_output(std::vector<std::string> argv);

}  // namespace cvm::cli
