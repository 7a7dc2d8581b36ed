// libFuzzer harness: SNP evidence in Trustee's form (lib/kbs/evidence.h). Any input is offered to
// report_from_json_text, and, when it is a JSON object with an "attestation_report" member (the
// whole evidence, as Trustee's fixture is), that member to report_from_json. Invariant on every
// accepted input: the bytes encode again, and that encoding decodes to the same bytes.
#include <yyjson.h>

#include <cstdlib>
#include <string_view>

#include "kbs/evidence.h"
#include "proto/json.h"

namespace {

void check_round_trip(const cvm::Result<cvm::Bytes>& decoded)
{
    if (!decoded.ok())
        return;
    auto text = cvm::kbs::report_to_json_text(decoded.value());
    if (!text.ok())
        abort();  // the decoder accepted bytes the encoder refuses
    auto again = cvm::kbs::report_from_json_text(text.value());
    if (!again.ok() || again.value() != decoded.value())
        abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    check_round_trip(cvm::kbs::report_from_json_text(text));
    auto doc = cvm::proto::JsonDoc::parse(text, "evidence");
    if (doc.ok() && yyjson_is_obj(doc.value().root())) {
        if (yyjson_val* report = yyjson_obj_get(doc.value().root(), "attestation_report"))
            check_round_trip(cvm::kbs::report_from_json(report));
    }
    return 0;
}
