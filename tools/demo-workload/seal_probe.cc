#include "seal_probe.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "agent_client.h"
#include "base/base64.h"
#include "base/file.h"
#include "proto/json.h"

namespace cvm::workload {
namespace {

constexpr const char* CONTEXT = "cvminit e2e sealing";

std::string_view text_of(ByteView bytes)
{
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Result<void> write_blob(const std::string& path, ByteView blob)
{
    FILE* f = fopen(path.c_str(), "wb");
    if (!f)
        return Error::from_errno(Errc::Io, errno, "cannot write %s: %s", path.c_str(), strerror(errno));
    bool ok = fwrite(blob.data(), 1, blob.size(), f) == blob.size();
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok)
        return Error::from_errno(Errc::Io, errno, "cannot write %s: %s", path.c_str(), strerror(errno));
    return {};
}

Result<std::string> seal(const std::string& path, const std::string& policy, const std::string& socket)
{
    std::string text = "sealed by the first boot under " + policy;
    std::string body = "{\"policy\":\"" + policy + "\",\"context\":\"" + CONTEXT + "\",\"plaintext\":\"" +
                       base64_encode(as_bytes(text)) + "\"}";
    AgentAnswer answer = TRY(agent_request(socket, "POST", "/v1/seal", body));
    if (answer.status != 200)
        return "seal " + policy + " refused: " + describe_error(answer);
    auto doc = TRY(proto::JsonDoc::parse(answer.body, "seal"));
    Bytes blob = TRY(proto::base64_member(doc.root(), "blob", "seal", 1 << 20));
    TRY(write_blob(path, blob));
    return "sealed " + policy + " (" + std::to_string(blob.size()) + " bytes)";
}

Result<std::string> unseal(const std::string& path, const std::string& policy, const std::string& socket)
{
    Bytes blob = TRY(read_file(path, 1 << 20));
    std::string body = "{\"context\":\"" + std::string(CONTEXT) + "\",\"blob\":\"" + base64_encode(blob) + "\"}";
    AgentAnswer answer = TRY(agent_request(socket, "POST", "/v1/unseal", body));
    if (answer.status != 200)
        return "unseal " + policy + " refused: " + describe_error(answer);
    auto doc = TRY(proto::JsonDoc::parse(answer.body, "unseal"));
    Bytes plaintext = TRY(proto::base64_member(doc.root(), "plaintext", "unseal", 1 << 20));
    return "unsealed " + policy + ": " + std::string(text_of(plaintext));
}

}  // namespace

int seal_probe(const char* dir, const char* const* policies, int count, const char* socket_path)
{
    int status = 0;
    for (int i = 0; i < count; ++i) {
        std::string policy = policies[i];
        std::string path = std::string(dir) + "/sealed-" + policy + ".blob";
        bool present = access(path.c_str(), F_OK) == 0;
        auto line = present ? unseal(path, policy, socket_path) : seal(path, policy, socket_path);
        if (line)
            printf("demo-workload: %s\n", line.value().c_str());
        else {
            printf("demo-workload: seal probe FAILED for %s: %.*s\n", policy.c_str(),
                   static_cast<int>(line.error().message().size()), line.error().message().data());
            status = 1;
        }
    }
    fflush(stdout);
    return status;
}

}  // namespace cvm::workload
