// cvm: the host half of cvminit. `main` only dispatches; each command lives in cmd_<name>.cc.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"

namespace {

struct Command {
    const char* name;
    const char* summary;
    int (*run)(const std::vector<std::string>& args);
};

constexpr Command COMMANDS[] = {
    {"verify", "verify an SEV-SNP attestation report, its AMD certificate chain and a policy", cvm::cli::cmd_verify},
    {"attest", "connect to an RA-TLS HTTPS server and verify its evidence during the handshake", cvm::cli::cmd_attest},
    {"measure", "compute the expected launch MEASUREMENT (drop-in for sev-snp-measure)", cvm::cli::cmd_measure},
    {"id-block", "make the SNP ID block and ID auth block for a measurement", cvm::cli::cmd_id_block},
    {"broker", "run the reference cvmkb/1 key broker, or make its signing key", cvm::cli::cmd_broker},
    {"initramfs", "build the reproducible initramfs of a cvminit VM, or list one", cvm::cli::cmd_initramfs},
    {"cmdline", "compose, parse and check the agent's measured cvminit.* kernel parameters", cvm::cli::cmd_cmdline},
    {"verity", "build and check dm-verity hash trees for a read-only root image", cvm::cli::cmd_verity},
    {"initdata", "compose an init-data document, print or check the HOST_DATA it binds", cvm::cli::cmd_initdata},
    {"release", "sign every VM shape's MEASUREMENT of an image as a release; keygen; verify", cvm::cli::cmd_release},
    {"launch", "run QEMU with exactly the launch that cvm measure measures", cvm::cli::cmd_launch},
    {"demo", "the whole product on this machine, SIMULATED: broker, initramfs, QEMU boot", cvm::cli::cmd_demo},
    {"sim", "a SIMULATED AMD platform (chain and PSP) for development and CI", cvm::cli::cmd_sim},
};

void usage(FILE* out)
{
    fprintf(out, "usage: cvm <command> [options]\n"
                 "\n"
                 "The host side of cvminit: verify AMD SEV-SNP evidence and compute launch measurements\n"
                 "for confidential VMs.\n"
                 "\n"
                 "commands:\n");
    for (const Command& c : COMMANDS)
        fprintf(out, "  %-10s %s\n", c.name, c.summary);
    fprintf(out, "\n"
                 "Run 'cvm <command> --help' for a command's options.\n"
                 "Exit status: 0 success, 1 evidence rejected, 2 usage or input error.\n");
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    std::string name = argv[1];
    if (name == "-h" || name == "--help" || name == "help") {
        usage(stdout);
        return 0;
    }
    if (name == "--version") {
        printf("cvm %s\n", CVM_VERSION);
        return 0;
    }
    for (const Command& c : COMMANDS) {
        if (name == c.name)
            return c.run(std::vector<std::string>(argv + 2, argv + argc));
    }
    fprintf(stderr, "cvm: unknown command '%s'\n\n", name.c_str());
    usage(stderr);
    return 2;
}
