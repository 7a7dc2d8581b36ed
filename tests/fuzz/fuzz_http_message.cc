// libFuzzer harness: HTTP/1.1 response and request parsing (llhttp behind net::MessageParser),
// fed in two pieces split where the first byte says; parsed bodies never exceed the limits.
#include <cstdlib>

#include "net/http_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    cvm::net::HttpLimits limits;
    limits.max_body_bytes = 4096;
    limits.max_header_bytes = 1024;
    limits.max_headers = 16;
    cvm::ByteView input(data + 1, size - 1);
    size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);
    for (auto kind : {cvm::net::MessageKind::Response, cvm::net::MessageKind::Request}) {
        cvm::net::MessageParser parser(kind, limits, "fuzz:1");
        auto first = parser.feed(input.first(split));
        bool done = first.ok() && first.value();
        if (first.ok() && !done) {
            auto second = parser.feed(input.subspan(split));
            done = second.ok() && second.value();
            if (second.ok() && !done)
                done = parser.finish().ok();
        }
        if (done && parser.take_response().body.size() > limits.max_body_bytes)
            abort();
    }
    return 0;
}
