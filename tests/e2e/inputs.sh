# The real Debian inputs of the QEMU boots and of `cvm demo`: `source` it after setting $root and
# defining skip(). prepare_inputs sets KERNEL (the vmlinuz), KMODULES (its lib/modules/<release>
# directory, indexed by depmod), KTREE (the unpacked package, for modprobe -d), KVER and OVMF (the
# AmdSev firmware the MEASUREMENT is computed for), fetching the pinned packages once into $cache
# (default .cache/e2e). Both files are pinned by SHA-256: the same ones the real-world measure
# suite uses.
KVER=6.12.117+deb13-amd64
KPKG_VERSION=6.12.117-1
KERNEL_SHA256=14159c607ad9762133db41e479dafecde1d6a5fe715a8d65d292a3262e4b6bed

cache=${CVM_E2E_CACHE:-$root/.cache/e2e}
mkdir -p "$cache"
source "$root/tests/support/debian_fetch.sh"

prepare_inputs() {
  local tree=$cache/linux-$KVER
  exec 8>"$cache/.lock"
  flock 8
  if [[ ! -f $tree/.ready ]]; then
    fetch_deb "linux-image-$KVER" "$KPKG_VERSION" "$tree"
    [[ $(sha256_of "$tree/boot/vmlinuz-$KVER") == "$KERNEL_SHA256" ]] ||
      { echo "FAILED: linux-image-$KVER: vmlinuz is not the pinned file" >&2; exit 1; }
    # The package ships no modules.dep (the postinst makes it); depmod looks under lib/modules.
    [[ -e $tree/lib ]] || ln -s usr/lib "$tree/lib"
    depmod -b "$tree" "$KVER"
    touch "$tree/.ready"
  fi
  fetch_member ovmf ovmf-amdsev 2026.08+ds-2 ./usr/share/ovmf/OVMF.amdsev.fd \
    3e4fd0b3fe3b2dbe481c3d9e99418a034174f26cbe1f55aa212b0f18c12d2d6f
  drop_apt_state
  flock -u 8
  KTREE=$tree
  KERNEL=$tree/boot/vmlinuz-$KVER
  KMODULES=$tree/usr/lib/modules/$KVER
  OVMF=$cache/ovmf
}
