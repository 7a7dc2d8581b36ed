#include "kernel-cmdline/kernel_words.h"

namespace cvm::cmdline {

namespace {

size_t skip_spaces(std::string_view text, size_t pos)
{
    while (pos < text.size() && is_kernel_space(text[pos]))
        ++pos;
    return pos;
}

}  // namespace

Result<std::vector<KernelWord>> split_kernel_words(std::string_view text)
{
    std::vector<KernelWord> words;
    bool past_parameters = false;
    size_t pos = skip_spaces(text, 0);
    while (pos < text.size()) {
        bool quoted = text[pos] == '"';
        bool in_quote = quoted;
        size_t start = quoted ? pos + 1 : pos;
        // next_arg() keeps `equals` as an index where 0 means "none", so a '=' that is the
        // word's first character never splits it; mirrored here with the same convention.
        size_t equals = 0;
        size_t end = start;
        size_t opened_at = pos;  // the quote that is open, for the error below
        for (; end < text.size(); ++end) {
            char c = text[end];
            if (is_kernel_space(c) && !in_quote)
                break;
            if (equals == 0 && c == '=')
                equals = end - start;
            if (c == '"') {
                in_quote = !in_quote;
                opened_at = end;
            }
        }
        if (in_quote)
            return Error::make(Errc::Config,
                               "kernel command line: the double quote at byte %zu is never closed, so the kernel "
                               "would read everything after it as one word",
                               opened_at);

        std::string_view word = text.substr(start, end - start);
        KernelWord w;
        w.name = word;
        bool strip_last = quoted && !word.empty() && word.back() == '"';
        if (equals != 0) {
            w.name = word.substr(0, equals);
            std::string_view value = word.substr(equals + 1);
            if (!value.empty() && value.front() == '"') {
                value.remove_prefix(1);
                strip_last = strip_last || word.back() == '"';
            }
            // When the value was just the opening quote, the closing one the kernel clears is
            // that same character: the value is empty and nothing else changes.
            if (strip_last && !value.empty())
                value.remove_suffix(1);
            w.value = value;
        } else if (strip_last) {
            w.name.remove_suffix(1);
        }
        w.stray_quote =
            w.name.find('"') != std::string_view::npos || (w.value && w.value->find('"') != std::string_view::npos);
        if (!w.value && w.name == "--")
            past_parameters = true;
        w.past_parameters = past_parameters;
        words.push_back(w);
        pos = skip_spaces(text, end);
    }
    return words;
}

}  // namespace cvm::cmdline
