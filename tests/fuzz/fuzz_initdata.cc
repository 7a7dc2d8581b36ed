// libFuzzer harness: init-data documents (lib/initdata), which the agent parses from fw_cfg before
// anything vouches for them. Invariants on every input: an accepted document is within the size
// bound, has no NUL anywhere (text, names, values), is version 0.1.0 and keeps its exact bytes,
// and its HOST_DATA is the first 32 bytes of its digest; its data composed again parses back to
// the same algorithm and data (or is refused with Errc::Config); and the whole input taken as one
// entry's value either composes into a document that reads back to that value or is refused with
// Errc::Config.
#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "initdata/initdata.h"

using namespace cvm::initdata;

namespace {

void check_round_trip(Algorithm algorithm, const std::map<std::string, std::string>& data)
{
    auto text = compose(algorithm, data);
    if (!text.ok()) {
        if (text.error().code() != cvm::Errc::Config)
            abort();
        return;
    }
    auto again = parse(text.value());
    if (!again.ok() || again->algorithm != algorithm || again->data != data || again->text != text.value())
        abort();
    if (compose(algorithm, again->data).value() != text.value())
        abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(bytes), size);
    auto document = parse(input);
    if (document.ok()) {
        const Document& d = document.value();
        if (input.size() > MAX_INITDATA_SIZE || input.find('\0') != std::string_view::npos ||
            d.version != INITDATA_VERSION || d.text != input)
            abort();
        for (const auto& [name, value] : d.data) {
            if (name.find('\0') != std::string::npos || value.find('\0') != std::string::npos)
                abort();
        }
        cvm::Bytes full = digest(d.algorithm, input);
        HostData host = host_data(d);
        if (full.size() < host.size() || !std::equal(host.begin(), host.end(), full.begin()))
            abort();
        check_round_trip(d.algorithm, d.data);
    } else if (document.error().code() != cvm::Errc::Config) {
        abort();
    }
    check_round_trip(Algorithm::Sha256, {{std::string(AGENT_ENTRY), std::string(input)}});
    return 0;
}
