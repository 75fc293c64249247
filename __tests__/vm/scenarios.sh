#!/bin/bash
# Runs inside the real-kernel VM as its first process (vm-init hands over to it): every scenario of the
# real-kernel tests, one after the other, on this kernel, with its real kvm_amd, modprobe, /etc/modprobe.d
# (tmpfs) and a libvirtd of its own. It judges nothing: it writes what each command did to the results share
# (/tmp/vm-results) and the jest tests in this folder assert on it. It powers the VM off when done, whatever
# happens; the test bounds the whole run from outside.
#   results: NAME.exit, NAME.stdout, NAME.stderr of each command; NAME.nested, NAME.refcnt, NAME.modprobe-c
#   (the options lines modprobe -c resolves for kvm_amd) and NAME.modprobe-d (every /etc/modprobe.d file with
#   its inode and bytes) after it; NAME.xml for guest definitions; log (a trace with timestamps).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 LIBVIRT_DEFAULT_URI=qemu:///system
unset NODE_EXTRA_CA_CERTS
# set-cpu's backups: /var/lib/virt-nested is on the read-only shared root
export VIRT_NESTED_BACKUP_DIR=/tmp/virt-nested-backups
R=/tmp/vm-results
project=$(cd "$(dirname "$0")/../.." && pwd)
role=main
for arg in $(cat /proc/cmdline); do case $arg in vm.role=*) role=${arg#vm.role=} ;; esac; done

poweroff_now() { sync; echo o >/proc/sysrq-trigger; sleep 60; }
trap poweroff_now EXIT
log() { echo "$(date +%s) $*" >>"$R/log"; }

# the kernel's own files after step $1
snap() {
  local name=$1 f
  cat /sys/module/kvm_amd/parameters/nested >"$R/$name.nested" 2>/dev/null || echo absent >"$R/$name.nested"
  cat /sys/module/kvm_amd/refcnt >"$R/$name.refcnt" 2>/dev/null || echo absent >"$R/$name.refcnt"
  modprobe -c 2>/dev/null | grep -E '^options kvm[_-]amd ' >"$R/$name.modprobe-c"
  : >"$R/$name.modprobe-d"
  for f in /etc/modprobe.d/*; do
    [ -f "$f" ] || continue
    printf '== %s inode=%s\n' "$f" "$(stat -c %i "$f")" >>"$R/$name.modprobe-d"
    cat "$f" >>"$R/$name.modprobe-d"
  done
}
# run NAME COMMAND...: its exit code, stdout and stderr, then snap
run() {
  local name=$1; shift
  log "start $name: $*"
  "$@" >"$R/$name.stdout" 2>"$R/$name.stderr" </dev/null
  echo $? >"$R/$name.exit"
  log "end $name: $(cat "$R/$name.exit")"
  snap "$name"
}
# The CLI runs from a copy of the build made at boot: a rebuild of the shared dist/ on the host while the
# scenarios run (another test run, a developer's build) would otherwise swap files under the 9p mount and
# fail a step with ENOENT. /tmp/node_modules lets the copy find the project's dependencies.
rm -rf /tmp/vn-dist && cp -r "$project/dist" /tmp/vn-dist && ln -sfn "$project/node_modules" /tmp/node_modules
cli() { local name=$1; shift; run "$name" node /tmp/vn-dist/cli.cjs "$@"; }
# /dev/kvm as Debian's udev rules leave it (there is no udev here); again after every reload of kvm_amd
dev_kvm() { [ -c /dev/kvm ] && chgrp kvm /dev/kvm && chmod 0660 /dev/kvm; }
# bounded: start a guest (and wait for libvirt to say it runs)
start_guest() {
  run "$1" timeout 300 virsh start --domain "$2"
  cp "/var/log/libvirt/qemu/$2.log" "$R/$1.qemu-log" 2>/dev/null
  timeout 60 virsh dumpxml --domain "$2" >"$R/$1.live-xml" 2>&1
}
qom() { # qom NAME GUEST: what QEMU itself says of the first vCPU's svm and vmx
  local path
  path=$(timeout 60 virsh qemu-monitor-command --domain "$2" --cmd '{"execute":"query-cpus-fast"}' | grep -o '"qom-path": *"[^"]*"' | head -1 | sed 's/.*: *"\(.*\)"/\1/')
  for p in svm vmx; do
    timeout 60 virsh qemu-monitor-command --domain "$2" --cmd "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"$path\",\"property\":\"$p\"}}" >"$R/$1.qom-$p" 2>&1
  done
}
dumpxml() { timeout 60 virsh dumpxml --inactive --security-info --domain "$2" >"$R/$1.xml" 2>&1; }

start_libvirt() {
  log "start libvirtd"
  /usr/sbin/virtlogd -d
  /usr/sbin/libvirtd -d
  # bounded as a whole: the first answer waits for libvirtd to probe QEMU (tens of seconds under TCG)
  timeout 300 sh -c 'until virsh version >/dev/null 2>&1; do sleep 1; done'
  log "libvirtd answers: $(virsh version 2>&1 | tr '\n' ' ')"
}

guest_xml() { # guest_xml NAME CPU-ELEMENT
  cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <title>virt-nested real-kernel test guest</title>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  $2
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='s3cret-8'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

log "role $role on $(uname -r)"
uname -r >"$R/uname"
ip link set lo up
mkdir -p /tmp/etc-libvirt && cp -a /etc/libvirt/. /tmp/etc-libvirt/
# a mount namespace per QEMU would not see /dev/kvm on this root (9p, devtmpfs moved by vm-init)
sed -i 's/^#* *namespaces *=.*/namespaces = []/' /tmp/etc-libvirt/qemu.conf
grep -q '^namespaces = \[\]' /tmp/etc-libvirt/qemu.conf || echo 'namespaces = []' >>/tmp/etc-libvirt/qemu.conf
rm -f /tmp/etc-libvirt/qemu/networks/autostart/*
mount --bind /tmp/etc-libvirt /etc/libvirt

if [ "$role" = vulnerable ]; then
  # issue 14 on a kernel without the fixes: judged a problem while nested is on; enable-host refuses
  modprobe kvm_amd nested=1
  cli advisory-check-host check-host --json
  cli advisory-enable-host enable-host
  cli advisory-disable-host disable-host --reload
  cli advisory-check-host-off check-host --json
  log done
  echo done >"$R/done"
  exit 0
fi

# --- the host procedure on a real kernel
cli 01-check-host-unloaded check-host
modprobe kvm_amd nested=0
cli 02-check-host-nested0 check-host
printf 'options kvm_amd nested=1\n' >/etc/modprobe.d/kvm.conf
printf '# loaded after kvm.conf\noptions kvm_amd nested=0\n' >/etc/modprobe.d/zz-late.conf
cli 03-check-host-later-file check-host
cli 04-enable-host enable-host --reload --fix-conflicts
if [ "$(cat "$R/04-enable-host.nested")" != 1 ]; then
  # enable-host did not turn nested on: do it by hand, so that the scenarios below still run (04 fails)
  log "enable-host left nested=$(cat "$R/04-enable-host.nested"); reloading kvm_amd nested=1 by hand"
  rm -f /etc/modprobe.d/zz-late.conf
  modprobe -r kvm_amd && modprobe kvm_amd nested=1
fi
dev_kvm
cli 05-check-host check-host
cli 06-enable-host-again enable-host
cli 07-check-guest-self check-guest
cli 08-check-host-json check-host --json

# --- libvirt inside, KVM guests (L2)
start_libvirt
timeout 120 virsh domcapabilities --virttype kvm >"$R/domcapabilities-kvm.xml" 2>&1
grep -m1 '^flags' /proc/cpuinfo >"$R/cpuinfo-flags"
guest_xml vn-vm-nested "<cpu mode='custom' match='exact' check='partial'>
    <model fallback='allow'>qemu64</model>
    <topology sockets='1' dies='1' cores='2' threads='1'/>
  </cpu>" >/tmp/vn-vm-nested.xml
guest_xml vn-vm-nosvm "<cpu mode='host-model' check='partial'>
    <feature policy='disable' name='svm'/>
  </cpu>" >/tmp/vn-vm-nosvm.xml
run 10-define timeout 120 virsh define --file /tmp/vn-vm-nested.xml
run 10-define-nosvm timeout 120 virsh define --file /tmp/vn-vm-nosvm.xml
dumpxml 10-define vn-vm-nested
cli 11-set-cpu-passthrough set-cpu vn-vm-nested --mode host-passthrough
dumpxml 11-set-cpu-passthrough vn-vm-nested
# --nested on: libvirt's host-model CPU of this host (QEMU's emulated EPYC) disables svm, the trap of
# kubevirt#10508; set-cpu then requires the host's flag, and the guest gets svm
cli 12-set-cpu-host-model set-cpu vn-vm-nested --mode host-model --nested on
dumpxml 12-set-cpu-host-model vn-vm-nested
start_guest 13-start vn-vm-nested &
start_guest 13-start-nosvm vn-vm-nosvm &
wait
timeout 30 virsh list --all >"$R/13-list" 2>&1
qom 14-check-guest vn-vm-nested
cli 14-check-guest check-guest vn-vm-nested --json
qom 15-check-guest-nosvm vn-vm-nosvm
cli 15-check-guest-nosvm check-guest vn-vm-nosvm --json
run 16-destroy timeout 120 virsh destroy --domain vn-vm-nested
run 16-destroy-nosvm timeout 120 virsh destroy --domain vn-vm-nosvm

# --- issue 14: the way back
cli 20-disable-host disable-host --reload
if [ "$(cat "$R/20-disable-host.nested")" != 0 ]; then
  # disable-host did not turn nested off: do it by hand, so that the scenarios below still run
  log "disable-host left nested=$(cat "$R/20-disable-host.nested"); reloading kvm_amd nested=0 by hand"
  modprobe -r kvm_amd && modprobe kvm_amd nested=0
fi
dev_kvm
cli 21-check-host-off check-host

# --- a KVM guest on a host with nested=0; then reloads refused while it runs
start_guest 22-start vn-vm-nested
qom 23-check-guest-host-off vn-vm-nested
cli 23-check-guest-host-off check-guest vn-vm-nested
cli 24-enable-host-guest-running enable-host --reload
log "stop libvirtd, its QEMU keeps running"
kill "$(cat /run/libvirtd.pid)"
for _ in $(seq 1 60); do [ -e /run/libvirtd.pid ] || break; sleep 1; done
pgrep -x libvirtd >"$R/25-libvirtd-pids"
pgrep -f 'qemu-system-x86_64.*vn-vm-nested' >"$R/25-qemu-pids"
qemu_pid=$(head -1 "$R/25-qemu-pids")
cli 25-enable-host-libvirtd-stopped enable-host --reload
if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then echo "$qemu_pid" >"$R/25-qemu-pids-after"; fi
[ -z "$qemu_pid" ] || kill "$qemu_pid"
log done
echo done >"$R/done"
