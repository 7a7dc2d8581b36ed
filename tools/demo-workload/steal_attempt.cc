#include "steal_attempt.h"

#include <cstdio>
#include <string>

#include "agent_client.h"
#include "base/base64.h"
#include "base/file.h"
#include "client/session.h"
#include "kernel-cmdline/cmdline.h"
#include "proto/errors.h"
#include "proto/json.h"
#include "snp/report.h"

namespace cvm::workload {
namespace {

struct Evidence {
    Bytes report;
    std::vector<Bytes> certs;
};

// POST /v1/evidence with `user_data`, the answer's report and certificates.
Result<Evidence> evidence_for(const char* socket_path, ByteView user_data)
{
    std::string body = "{\"user_data\":\"" + to_hex(user_data) + "\"}";
    AgentAnswer answer = TRY(agent_request(socket_path, "POST", "/v1/evidence", body));
    if (answer.status != 200)
        return Error::make(Errc::Unavailable, "the agent refused the evidence: %s", describe_error(answer).c_str());
    proto::JsonDoc doc = TRY(proto::JsonDoc::parse(answer.body, "evidence answer"));
    Evidence out;
    out.report = TRY(proto::base64_member(doc.root(), "report", "evidence answer", snp::REPORT_SIZE));
    yyjson_val* certs = TRY(proto::array_member(doc.root(), "certificates", "evidence answer", 8));
    size_t i, n;
    yyjson_val* cert;
    yyjson_arr_foreach(certs, i, n, cert) out.certs.push_back(TRY(proto::base64_value(cert, "certificate", 16384)));
    return out;
}

Result<std::string> attempt(const char* broker_url, const char* resource, const char* socket_path)
{
    std::string line = TRY(read_text_file("/proc/cmdline", cmdline::MAX_PROC_CMDLINE_SIZE));
    cmdline::AgentCmdline measured = TRY(cmdline::parse_cmdline(line));
    client::ClientOptions options;
    options.broker_url = broker_url;
    if (!measured.broker_key)  // cvminit.initdata: the key came from the init-data document
        return Error::make(Errc::Config, "no cvminit.broker_key on the command line to check the broker's answer");
    options.broker_key = *measured.broker_key;
    options.resources = {resource};
    client::Session session = TRY(client::Session::begin(options));
    Evidence ev = TRY(evidence_for(socket_path, session.report_data()));
    auto released = session.complete(std::move(ev.report), std::move(ev.certs));
    if (released.ok())
        return Error::make(Errc::Policy, "RELEASED %zu secrets and %zu volume keys to the workload",
                           released->secrets.size(), released->volumes.size());
    if (!session.last_refusal())
        return released.release_error();
    const proto::ErrorBody& refusal = *session.last_refusal();
    return "refused " + std::string(proto::error_code_name(refusal.code)) + " (" + refusal.claim + ")";
}

}  // namespace

int steal_attempt(const char* broker_url, const char* resource, const char* socket_path)
{
    auto outcome = attempt(broker_url, resource, socket_path);
    if (!outcome) {
        printf("steal: %s\n", std::string(outcome.error().message()).c_str());
        return 1;
    }
    printf("steal: the broker %s to evidence made through the agent for %s\n", outcome->c_str(), resource);
    return 0;
}

}  // namespace cvm::workload
