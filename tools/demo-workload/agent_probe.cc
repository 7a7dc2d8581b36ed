#include "agent_probe.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "agent_client.h"
#include "base/base64.h"
#include "proto/json.h"
#include "proto/pem.h"

namespace cvm::workload {
namespace {

Result<void> write_file(const std::string& path, std::string_view content)
{
    FILE* f = fopen(path.c_str(), "wb");
    if (!f)
        return Error::from_errno(Errc::Io, errno, "cannot write %s: %s", path.c_str(), strerror(errno));
    bool ok = fwrite(content.data(), 1, content.size(), f) == content.size();
    ok = fclose(f) == 0 && ok;
    if (!ok)
        return Error::from_errno(Errc::Io, errno, "cannot write %s: %s", path.c_str(), strerror(errno));
    return {};
}

std::string_view text_of(ByteView bytes)
{
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Result<AgentAnswer> expect_ok(const std::string& socket, const char* method, const char* target, std::string_view body)
{
    AgentAnswer answer = TRY(agent_request(socket, method, target, body));
    if (answer.status != 200)
        return Error::make(Errc::Io, "%s %s: %s", method, target, describe_error(answer).c_str());
    return answer;
}

// certs/ as `cvm verify --certs` reads it: the VEK in DER (vlek.der when its subject says
// SEV-VLEK), the ASK and ARK in PEM.
Result<void> write_certs(const std::string& dir, yyjson_val* list)
{
    mkdir(dir.c_str(), 0755);
    size_t index, count;
    yyjson_val* item;
    yyjson_arr_foreach(list, index, count, item)
    {
        Bytes der = TRY(proto::base64_value(item, "evidence.certificates[]", 16 * 1024));
        if (index == 0) {
            bool vlek = text_of(der).find("SEV-VLEK") != std::string_view::npos;
            TRY(write_file(dir + (vlek ? "/vlek.der" : "/vcek.der"), text_of(der)));
        } else if (index <= 2) {
            SecretBytes pem = proto::pem_encode(der, "CERTIFICATE");
            TRY(write_file(dir + (index == 1 ? "/ask.pem" : "/ark.pem"), text_of(pem.expose())));
        }
    }
    return {};
}

Result<std::string> probe(const std::string& dir, const std::string& socket)
{
    AgentAnswer info = TRY(expect_ok(socket, "GET", "/v1/info", {}));
    TRY(write_file(dir + "/info.json", info.body));
    auto info_doc = TRY(proto::JsonDoc::parse(info.body, "info"));
    std::string platform(TRY(proto::string_member(info_doc.root(), "platform", "info")));

    std::string user_data = to_hex(as_bytes(PROBE_USER_DATA));
    AgentAnswer evidence = TRY(expect_ok(socket, "POST", "/v1/evidence", "{\"user_data\":\"" + user_data + "\"}"));
    TRY(write_file(dir + "/evidence.json", evidence.body));
    TRY(write_file(dir + "/user_data.hex", user_data + "\n"));
    auto doc = TRY(proto::JsonDoc::parse(evidence.body, "evidence"));
    Bytes report = TRY(proto::base64_member(doc.root(), "report", "evidence", 4096));
    TRY(write_file(dir + "/report.bin", text_of(report)));
    yyjson_val* certs = TRY(proto::array_member(doc.root(), "certificates", "evidence", 8));
    TRY(write_certs(dir + "/certs", certs));

    // The agent must refuse what it cannot bind: 65 bytes of user data.
    AgentAnswer oversized =
        TRY(agent_request(socket, "POST", "/v1/evidence", "{\"user_data\":\"" + std::string(130, 'a') + "\"}"));
    if (oversized.status != 400)
        return Error::make(Errc::Policy, "65 bytes of user_data: answer %d, expected 400", oversized.status);

    WorkloadKey key = TRY(generate_p256_key());
    TlsCertificate cert = TRY(request_tls_certificate(socket, key.public_key_pem, {PROBE_DNS_NAME}, {}));
    TRY(write_file(dir + "/leaf.pem", cert.certificate_pem));
    TRY(write_file(dir + "/issuer.pem", cert.issuer_pem));
    return "platform " + platform + ", evidence with " + std::to_string(yyjson_arr_size(certs)) +
           " certificates for user_data " + user_data.substr(0, 16) + "..., 65-byte user_data refused (400), " +
           "RA-TLS certificate for " + PROBE_DNS_NAME + " issued; wrote " + dir;
}

}  // namespace

int agent_probe(const char* dir, const char* socket_path)
{
    auto done = probe(dir, socket_path);
    if (!done) {
        printf("demo-workload: agent probe FAILED: %.*s\n", static_cast<int>(done.error().message().size()),
               done.error().message().data());
        fflush(stdout);
        return 1;
    }
    printf("demo-workload: agent probe: %s\n", done.value().c_str());
    fflush(stdout);
    return 0;
}

}  // namespace cvm::workload
