// Stage initdata, only with cvminit.initdata=fw_cfg on the measured command line (main.cc): the
// deployment's settings from the init-data document (lib/initdata/initdata.h) that the host
// passes as QEMU fw_cfg file opt/cvminit/initdata. The host writes that file, so nothing in it is
// used before the document's digest equals the HOST_DATA of a fresh report: HOST_DATA is fixed at
// launch (SNP_LAUNCH_FINISH) and signed by the PSP in every report, so a document the host swaps
// in later, or one that is not the launch's, is refused here. The report comes from this boot's
// provider, the one stage attest uses next; it is asked once and never retried (a firmware error
// wipes the VMPCK, report_provider.h). Its REPORT_DATA is the "cvminit init-data/1" binding of
// the document's digest (proto/tags.h), which no broker accepts for anything.
//
// Then the document's "cvminit.toml" entry (kernel-cmdline/deployment.h) joins the measured
// configuration, each setting from exactly one place. A document without that entry sets nothing.
#include "base/bytes.h"
#include "fw_cfg_file.h"
#include "initdata/initdata.h"
#include "kernel-cmdline/deployment.h"
#include "proto/tags.h"
#include "snp/report.h"
#include "stages.h"

namespace cvm::agent {
namespace {

const char* missing_hint(FwCfgFailure failure)
{
    switch (failure) {
    case FwCfgFailure::NoDriver:
        return "the initramfs lacks the qemu_fw_cfg module (cvm initramfs --platform snp or sim, or --module "
               "qemu_fw_cfg)";
    case FwCfgFailure::NoDevice: return "cvminit.initdata=fw_cfg needs QEMU's fw_cfg device; this VM has none";
    default:
        return "launch with the document (launch.toml initdata = FILE; cvm launch passes it as fw_cfg "
               "opt/cvminit/initdata)";
    }
}

Result<initdata::Document> read_document(Context& ctx)
{
    FwCfgFailure failure = FwCfgFailure::None;
    auto raw = read_fw_cfg_file(ctx.root + FW_CFG_SYSFS, initdata::FW_CFG_NAME, initdata::MAX_INITDATA_SIZE, &failure);
    if (!raw) {
        bool missing =
            failure == FwCfgFailure::NoDriver || failure == FwCfgFailure::NoDevice || failure == FwCfgFailure::NoFile;
        ctx.fail_hint = missing ? missing_hint(failure)
                                : "the host passed a broken fw_cfg file; relaunch with the init-data document";
        return raw.release_error().prefix(missing ? "init-data document missing" : "init-data document unreadable");
    }
    std::string_view text(reinterpret_cast<const char*>(raw->data()), raw->size());
    auto document = initdata::parse(text);
    if (!document) {
        ctx.fail_hint = "the host passed a document that is not valid init-data (cvm initdata digest FILE checks one)";
        return document.release_error().prefix("init-data document invalid");
    }
    return document.release_value();
}

// The report's HOST_DATA must be the document's: compared before any value of it is used.
Result<initdata::HostData> check_host_data(Context& ctx, const initdata::Document& document)
{
    TRY(open_provider(ctx));
    std::string_view algorithm = initdata::algorithm_name(document.algorithm);
    Bytes digest = initdata::digest(document.algorithm, document.text);
    auto evidence = ctx.provider->get_report(proto::initdata_check(algorithm, digest));
    if (!evidence) {
        ctx.fail_hint = "the PSP or the host refused the report request; the message says whether only a reboot helps";
        return evidence.release_error().prefix("init-data report from %s", ctx.provider->name());
    }
    snp::AttestationReport report = TRY_PREFIX(snp::parse_report(evidence->report), "init-data report");
    initdata::HostData expected = initdata::host_data(document);
    if (report.host_data != expected) {
        ctx.fail_hint = "the launch's host-data is not this document's digest (a changed document, or another "
                        "document's HOST_DATA): launch with the host-data `cvm initdata digest` prints for it";
        return Error::make(Errc::Policy,
                           "init-data HOST_DATA mismatch: the report has %s, the document's %.*s gives %s; "
                           "refusing",
                           to_hex(report.host_data).c_str(), static_cast<int>(algorithm.size()), algorithm.data(),
                           to_hex(expected).c_str());
    }
    return expected;
}

}  // namespace

Result<std::string> stage_initdata(Context& ctx)
{
    if (!ctx.measured_cmdline || !ctx.measured_file || ctx.initdata == cmdline::InitdataSource::None)
        return Error::make(Errc::Config, "init-data: stage config has not read cvminit.initdata");
    initdata::Document document = TRY(read_document(ctx));
    initdata::HostData host_data = TRY(check_host_data(ctx, document));

    ctx.fail_hint = "fix the document's cvminit.toml entry (docs/initdata.md lists what init-data may set)";
    auto entry = document.data.find(initdata::AGENT_ENTRY);
    cmdline::Deployment deployment;
    if (entry != document.data.end())
        deployment = TRY_PREFIX(cmdline::parse_deployment(entry->second), "init-data settings refused");
    auto merged = cmdline::merge_config(*ctx.measured_cmdline, *ctx.measured_file, &deployment);
    if (!merged)
        return merged.release_error().prefix("init-data settings refused");
    apply_config(ctx, merged.value());
    ctx.initdata_text = document.text;
    ctx.fail_hint = nullptr;
    return "document (" + std::string(initdata::algorithm_name(document.algorithm)) + ", " +
           std::to_string(document.text.size()) + " bytes) is this launch's HOST_DATA " + to_hex(host_data) +
           " (report from " + ctx.provider->name() + (ctx.simulate ? ", SIMULATED platform" : "") + "); broker " +
           ctx.broker_url + (entry == document.data.end() ? ", no cvminit.toml entry" : "");
}

}  // namespace cvm::agent
