# The reference peer for the storage boots: bookworm's own cryptsetup, run in the same kernel
# under QEMU (device-mapper needs a kernel of its own; the host's container has none). `source`
# it after inputs.sh's prepare_inputs and with $work and $cvm set.
#   build_peer_initrd KEYFILE: $work/peer.initrd, busybox + cryptsetup with its libraries + the
#     modules, and /init = the script below
#   run_peer NAME MODE DISK: boots it with DISK as /dev/vda into NAME.log; MODE is
#     "open" (cryptsetup open, mount, print /hello.txt, time the open) or
#     "format" (cryptsetup luksFormat in the strict profile, mkfs, write /hello.txt)
PEER_MODULES=(virtio_blk dm_crypt xts crc32c_generic ext4)

build_peer_initrd() {
  local key=$1 tree=$work/peer-tree m lib
  mkdir -p "$tree"
  cat >"$tree/init" <<'SH'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /run/cryptsetup /mnt
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /peer/modules); do insmod "/peer/$m" || echo "peer: insmod $m failed"; done
export DM_DISABLE_UDEV=1
mode=$(sed -n 's/.*peer\.mode=\([a-z]*\).*/\1/p' /proc/cmdline)
if [ "$mode" = format ]; then
  cryptsetup luksFormat -q --type luks2 --cipher aes-xts-plain64 --key-size 512 --hash sha256 --pbkdf pbkdf2 \
    --pbkdf-force-iterations 1000 --sector-size 4096 --key-file /peer/key /dev/vda && echo "peer: luksFormat ok"
  cryptsetup open --key-file /peer/key /dev/vda peer && mke2fs -q /dev/mapper/peer && mount /dev/mapper/peer /mnt &&
    printf 'written by cryptsetup' >/mnt/hello.txt && umount /mnt && cryptsetup close peer && echo "peer: wrote"
else
  start=$(cut -d' ' -f1 /proc/uptime)
  cryptsetup open --key-file /peer/key /dev/vda peer && echo "peer: cryptsetup open ok"
  end=$(cut -d' ' -f1 /proc/uptime)
  echo "peer: cryptsetup open took $start $end"
  mount -t ext4 /dev/mapper/peer /mnt && echo "peer: read $(cat /mnt/hello.txt)"
  umount /mnt; cryptsetup close peer
fi
sync
poweroff -f
SH
  mkdir -p "$tree/peer"
  : >"$tree/peer/modules"
  for m in "${PEER_MODULES[@]}"; do
    modprobe -d "$KTREE" -S "$KVER" --show-depends "$m" | while read -r kind path _; do
      [[ $kind == insmod ]] || continue   # "builtin NAME": nothing to load
      local base=${path##*/}
      base=${base%.xz}
      grep -qx "$base" "$tree/peer/modules" && continue
      xz -dc "$path" >"$tree/peer/$base"
      echo "$base" >>"$tree/peer/modules"
    done
  done
  cp "$key" "$tree/peer/key"
  # A test peer, not a cvminit image (its /init is a script, which `cvm initramfs --agent`
  # rightly refuses): GNU cpio packs the tree as it is.
  chmod 0755 "$tree/init"
  mkdir -p "$tree/bin"
  cp /usr/sbin/cryptsetup "$tree/bin/cryptsetup"
  cp /bin/busybox "$tree/bin/busybox"
  for lib in $(ldd /usr/sbin/cryptsetup | grep -o '/[^ ]*'); do
    mkdir -p "$tree$(dirname "$lib")"
    cp "$(realpath "$lib")" "$tree$lib"
  done
  (cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/peer.initrd" ||
    { echo "FAILED: the peer initramfs"; exit 1; }
}

run_peer() {
  timeout 300 qemu-system-x86_64 -machine q35 -cpu max -m 512 -nographic -no-reboot -kernel "$KERNEL" \
    -initrd "$work/peer.initrd" -append "console=ttyS0 panic=-1 peer.mode=$2" \
    -drive "file=$3,if=virtio,format=raw" </dev/null 2>&1 | tr -d '\r' >"$work/$1.log"
  echo "qemu exit status ${PIPESTATUS[0]}" >>"$work/$1.log"
}
