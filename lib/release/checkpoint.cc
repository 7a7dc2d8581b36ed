// Signed notes are parsed line by line, strictly; see checkpoint.h for the format and its sources.
// @sigstore/verify (dist/tlog/checkpoint.js: verifyCheckpoint()) checks the same signature but
// matches key names loosely (a regular expression over the base URL) and skips lines it cannot
// read; a checkpoint is the log's signed word on its tree, so here nothing in it goes unread.
#include "release/checkpoint.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "base/base64.h"
#include "base/bytes.h"

namespace cvm::release {
namespace {

constexpr std::string_view EM_DASH = "\xe2\x80\x94";  // U+2014, which starts a signature line
constexpr size_t KEY_HINT_SIZE = 4;
constexpr size_t MAX_LINES = 64;

Result<std::vector<std::string_view>> split_lines(std::string_view text)
{
    if (text.empty() || text.back() != '\n')
        return Error::make(Errc::Format, "a signed note ends in a newline");
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        size_t end = text.find('\n');
        if (lines.size() == MAX_LINES)
            return Error::make(Errc::Format, "more than %zu lines", MAX_LINES);
        lines.push_back(text.substr(0, end));
        text.remove_prefix(end + 1);
    }
    return lines;
}

Result<uint64_t> parse_size(std::string_view text)
{
    bool digits = !text.empty() && text.size() <= 19 &&
                  std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || (text.size() > 1 && text[0] == '0'))
        return Error::make(Errc::Format, "line 2 (tree size): \"%.*s\" is not a decimal number",
                           static_cast<int>(std::min<size_t>(text.size(), 24)), text.data());
    uint64_t value = 0;
    for (char c : text)
        value = value * 10 + static_cast<uint64_t>(c - '0');
    return value;
}

struct SignatureLine {
    std::string_view name;
    Bytes hint_and_signature;
};

// "— <name> <base64>": the name has no spaces; the base64 holds at least the hint and one byte.
Result<SignatureLine> parse_signature_line(std::string_view line, size_t number)
{
    if (line.substr(0, EM_DASH.size()) != EM_DASH || line.size() < EM_DASH.size() + 1 || line[EM_DASH.size()] != ' ')
        return Error::make(Errc::Format, "line %zu: a signature line starts with \"\u2014 \"", number);
    line.remove_prefix(EM_DASH.size() + 1);
    size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos)
        return Error::make(Errc::Format, "line %zu: expected \"\u2014 <key name> <base64>\"", number);
    auto bytes = base64_decode(line.substr(space + 1));
    if (!bytes || bytes->size() <= KEY_HINT_SIZE)
        return Error::make(Errc::Format, "line %zu: the signature is not the base64 of a key hint and a signature",
                           number);
    return SignatureLine{line.substr(0, space), std::move(*bytes)};
}

}  // namespace

std::string_view log_host(std::string_view base_url)
{
    size_t scheme = base_url.find("://");
    if (scheme != std::string_view::npos)
        base_url.remove_prefix(scheme + 3);
    return base_url.substr(0, base_url.find('/'));
}

Result<Checkpoint> verify_checkpoint(std::string_view note, const TransparencyLog& log)
{
    size_t blank = note.find("\n\n");
    if (blank == std::string_view::npos)
        return Error::make(Errc::Format, "no blank line between the note and its signatures");
    std::string_view body = note.substr(0, blank + 1);
    auto body_lines = TRY(split_lines(body));
    auto signature_lines = TRY(split_lines(note.substr(blank + 2)));
    if (body_lines.size() < 3)
        return Error::make(Errc::Format, "%zu lines before the signatures, expected origin, size and root hash",
                           body_lines.size());

    Checkpoint out;
    if (body_lines[0].empty())
        return Error::make(Errc::Format, "line 1 (origin) is empty");
    out.origin = std::string(body_lines[0]);
    out.tree_size = TRY(parse_size(body_lines[1]));
    auto root = base64_decode_fixed<32>(body_lines[2]);
    if (!root)
        return Error::make(Errc::Format, "line 3 (root hash): expected the base64 of 32 bytes");
    out.root_hash = *root;
    // Lines 4 on are extensions (Rekor v1's "Timestamp: <ns>"), signed but not read. None is
    // empty: the first empty line ends the note.

    std::string_view host = log_host(log.base_url);
    bool signed_by_log = false;
    for (size_t i = 0; i < signature_lines.size(); ++i) {
        size_t number = body_lines.size() + 2 + i;
        SignatureLine sig = TRY(parse_signature_line(signature_lines[i], number));
        bool is_log = sig.name == host && std::equal(log.log_id.begin(), log.log_id.begin() + KEY_HINT_SIZE,
                                                     sig.hint_and_signature.begin());
        if (!is_log)
            continue;  // a witness's cosignature, or another log's: not ours to check
        ByteView signature = ByteView(sig.hint_and_signature).subspan(KEY_HINT_SIZE);
        if (!log.key.verify(as_bytes(body), signature).ok())
            return Error::make(Errc::Crypto, "line %zu: not the signature of log %.*s (key hint %s) over the note",
                               number, static_cast<int>(host.size()), host.data(),
                               to_hex(ByteView(log.log_id).first(KEY_HINT_SIZE)).c_str());
        signed_by_log = true;
    }
    if (!signed_by_log)
        return Error::make(Errc::Crypto, "no signature by log %.*s (key hint %s)", static_cast<int>(host.size()),
                           host.data(), to_hex(ByteView(log.log_id).first(KEY_HINT_SIZE)).c_str());
    return out;
}

}  // namespace cvm::release
