// The files `cvm demo` generates in its work directory, kept apart from the command so that
// cmd_demo.cc reads as the sequence of steps. With --work-dir the directory doubles as a project
// template, and a rerun in it keeps what identifies the deployment and regenerates the rest:
//
//   kept when present   sim/ (the simulated AMD platform), broker.key (pinned on the measured
//                       command line), data.key (the volume's keyslot passphrase), data.img
//                       (the encrypted data disk, with what earlier boots wrote)
//   rewritten each run  cvminit.toml, tree/ or rootfs/, root.img, root.hash, initrd, launch.toml,
//                       broker.toml, fw_cfg/ -- from the inputs, the same bytes for the same ones
//
// The broker's port is kept too when it is still free, so that a rerun with the same inputs gives
// the same measured command line and MEASUREMENT.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "proto/keys.h"
#include "sim/chain.h"

namespace cvm::cli {

// `dir` as an absolute path (created 0700 when missing) when given, else a fresh directory under
// $TMPDIR.
Result<std::string> make_work_dir(const std::optional<std::string>& dir);
void remove_tree(const std::string& dir);
Result<void> make_dirs(const std::string& path);

// work/sim, work/broker.key and work/data.key: read back when present, made otherwise.
Result<sim::Platform> demo_platform(const std::string& work);
Result<proto::Ed25519KeyPair> demo_broker_key(const std::string& work);
Result<void> demo_volume_key(const std::string& work);

// The port of work/broker.toml's listen address when an earlier run wrote one, else nullopt.
std::optional<uint16_t> earlier_port(const std::string& work);

enum class DemoStorage : uint8_t { None, VerityAndData };

// cvminit.toml: run /usr/bin/demo-workload with exit status 0 (and /data with storage), an
// environment variable from the file, and the secrets "db" and "token". Without storage also
// tree/usr/bin/demo-workload (a copy of `workload`, 0755), the initramfs's workload tree.
Result<void> write_demo_tree(const std::string& work, const std::string& workload, DemoStorage storage);

// launch.toml: 1 vCPU EPYC-v4, 512 MiB, the AmdSev firmware, the kernel, the initrd beside it
// (a relative path: launch.toml resolves it against its own directory), `cmdline`.
Result<void> write_demo_launch(const std::string& work, const std::string& kernel, const std::string& ovmf,
                               const std::string& cmdline);

// work/broker.toml, runnable as `cvm broker --config work/broker.toml` from any directory (its
// paths are relative to itself): 127.0.0.1:port, broker.key, the simulated root sim/ark.pem,
// allow_simulated, two secrets (one also exported as DB_PASSWORD) and with storage the volume
// key "data" from data.key, each for `measurement` only.
Result<void> write_demo_broker_config(const std::string& work, uint16_t port, const std::string& measurement,
                                      DemoStorage storage);

}  // namespace cvm::cli
