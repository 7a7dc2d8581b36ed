// libFuzzer harness: RFC 8785 canonical JSON (yyjson's strict reader, then our serializer).
// Invariants checked on every accepted input: the output is never longer than the input
// (whitespace is dropped and escapes only shrink), and canonicalizing it again gives the same bytes.
#include <cstdlib>
#include <string_view>

#include "proto/jcs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto once = cvm::proto::jcs_canonicalize(text, 4096);
    if (!once.ok())
        return 0;
    if (once.value().size() > size)  // escapes never grow: "\u00e9" -> 2 bytes, "\/" -> "/"
        abort();
    auto twice = cvm::proto::jcs_canonicalize(once.value(), 4096);
    if (!twice.ok() || twice.value() != once.value())
        abort();
    return 0;
}
