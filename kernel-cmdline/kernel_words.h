// The kernel's own split of its command line into parameters, so that the agent reads exactly
// the `name=value` pairs the kernel saw and a quoted value of another parameter
// (`foo="x cvminit.simulate=1"`) can never be mistaken for one of ours.
//
// This follows Linux lib/cmdline.c next_arg() and kernel/params.c parse_args():
//   - words are separated by the kernel's isspace() (lib/ctype.c: \t \n \v \f \r, space and
//     0xA0); /proc/cmdline's trailing newline is therefore just a separator;
//   - a double quote toggles "inside quotes", where separators do not split ("you can use \"
//     around spaces, but can't escape \"");
//   - the name ends at the first '=' (not counting a '=' that starts the word); a value that
//     starts with '"' loses that quote and the word's last character if it is a '"'; a word that
//     starts with '"' loses it and its last '"';
//   - a bare `--` ends the parameters: the kernel passes the words after it to init as argv.
//     It is returned as a word too, so that a caller can see where the parameters stop.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cvm::cmdline {

struct KernelWord {
    std::string_view name;                  // before the first '='
    std::optional<std::string_view> value;  // after it; nullopt for a word without '='
    bool past_parameters{false};            // the bare "--" that ends the parameters, or a word after it
    bool stray_quote{false};                // a '"' the kernel leaves in the name or value
};

// Splits `text` as the kernel does; the views point into `text`. Fails (Errc::Config) only when
// a double quote is never closed: the kernel would then swallow the rest of the line into one
// word, so every parameter after it would be silently lost.
Result<std::vector<KernelWord>> split_kernel_words(std::string_view text);

// The kernel's isspace() (lib/ctype.c): _S is set for 9..13, 32 and 160.
constexpr bool is_kernel_space(char c)
{
    auto u = static_cast<unsigned char>(c);
    return (u >= 9 && u <= 13) || u == 32 || u == 160;
}

}  // namespace cvm::cmdline
