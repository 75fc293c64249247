#!/usr/bin/env bash
# Prepares the real-kernel VM tests: for each kernel pinned in kernels.txt, the Debian kernel package is
# downloaded (apt-get download, never installed), extracted under .cache/vm/, its modules are copied to
# /lib/modules/ABI (the VM mounts this machine's / and modprobe finds them there), and a small initramfs is
# built (busybox-static, the virtio/9p modules, vm-init). Idempotent; changes nothing else on the machine.
# Needs: apt-get, dpkg-deb, busybox-static, cpio, kmod (.ci/run installs them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
cache=$project/.cache/vm
mkdir -p "$cache/debs"

busybox=/bin/busybox
# grep reads all of the list (no -q): with pipefail, busybox killed by SIGPIPE after an early match would read as "missing"
[ -x "$busybox" ] && "$busybox" --list | grep -x insmod >/dev/null || { echo "vm-setup: $busybox (busybox-static) is missing" >&2; exit 2; }
! ldd "$busybox" >/dev/null 2>&1 || { echo "vm-setup: $busybox is not static; install busybox-static" >&2; exit 2; }
for tool in dpkg-deb cpio depmod modprobe gzip; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "vm-setup: $tool is missing" >&2; exit 2; }
done
export PATH=$PATH:/usr/sbin:/sbin

# The modules the initramfs loads to mount / over 9p; modprobe adds what they depend on, in order.
initramfs_modules=(virtio_pci 9pnet_virtio 9p)

grep -v '^#' "$here/kernels.txt" | while read -r role abi version upstream; do
  [ -n "$role" ] || continue
  package=linux-image-$abi
  deb=$cache/debs/${package}_${version}_amd64.deb
  if ! [ -s "$deb" ]; then
    echo "vm-setup: downloading $package=$version"
    # a machine that never ran apt-get update has no package lists yet
    (cd "$cache/debs" && { apt-get download -q "$package=$version" || { apt-get update -q && apt-get download -q "$package=$version"; }; })
  fi
  dir=$cache/$abi
  if ! [ -s "$dir/stamp" ] || [ "$(cat "$dir/stamp")" != "$version" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    dpkg-deb -x "$deb" "$dir/root"
    cp "$dir/root/boot/vmlinuz-$abi" "$dir/vmlinuz"
    echo "$version" >"$dir/stamp"
  fi
  if ! [ -s "/lib/modules/$abi/modules.dep" ] || ! cmp -s "$dir/stamp" "/lib/modules/$abi/.virt-nested-vm"; then
    echo "vm-setup: copying the modules of $abi to /lib/modules/$abi"
    rm -rf "/lib/modules/$abi" && mkdir -p /lib/modules
    cp -a "$dir/root/lib/modules/$abi" "/lib/modules/$abi"
    depmod "$abi"
    cp "$dir/stamp" "/lib/modules/$abi/.virt-nested-vm"
  fi
  if ! [ -s "$dir/initramfs.cpio.gz" ] || [ "$here/vm-init" -nt "$dir/initramfs.cpio.gz" ] || [ "$0" -nt "$dir/initramfs.cpio.gz" ]; then
    staging=$dir/initramfs
    rm -rf "$staging" && mkdir -p "$staging/bin" "$staging/modules"
    cp "$busybox" "$staging/bin/busybox"
    cp "$here/vm-init" "$staging/init" && chmod 0755 "$staging/init"
    : >"$staging/modules/order"
    modprobe -S "$abi" --show-depends -a "${initramfs_modules[@]}" | while read -r kind path _; do
      [ "$kind" = insmod ] || continue
      name=$(basename "$path")
      grep -qx "$name" "$staging/modules/order" && continue
      cp "$path" "$staging/modules/$name"
      echo "$name" >>"$staging/modules/order"
    done
    (cd "$staging" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 >"$dir/initramfs.cpio.gz.tmp")
    mv "$dir/initramfs.cpio.gz.tmp" "$dir/initramfs.cpio.gz"
    echo "vm-setup: built $dir/initramfs.cpio.gz with $(tr '\n' ' ' <"$staging/modules/order")"
    rm -rf "$staging"
  fi
done
echo "vm-setup: ready"
