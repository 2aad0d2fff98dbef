#!/bin/sh
# Boots a KVM guest with a pure cgroup v2 hierarchy and runs checks.sh
# there against the given skiff binary; the serial console goes to stdout.
#   usage: run.sh SKIFF_BINARY [KERNEL]
# KERNEL defaults to the newest /boot/vmlinuz-* (Debian: apt-get install
# linux-image-amd64 qemu-system-x86).
set -eu
skiff=$1
kernel=${2:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1)}
[ -n "$kernel" ] || { echo "run.sh: no kernel in /boot" >&2; exit 2; }
kver=${kernel##*/vmlinuz-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/build-initramfs.sh" "$skiff" "$kver" "$tmp/initramfs.cpio.gz"
# VM_ACCEL=kvm where nested KVM works; the default is TCG because on the
# CI host (itself a microVM) a KVM guest hangs right after the kernel's
# real-mode setup, while TCG boots in ~8 s.
accel=${VM_ACCEL:-tcg}
cpu=max
[ "$accel" = kvm ] && cpu=qemu64
# The guest needs ~20 s on an idle host; the timeout leaves room for a loaded
# one (checks.sh's watchdog reports a hang after 150 s of guest uptime).
# One vCPU: twice in CI (never in 40-odd boots here, loaded or not) a
# 2-vCPU TCG guest had CPU 0 stuck in a skiff process in the kernel
# (soft lockup, RCU starved) and the other vCPU never running again; the
# likeliest cause is a cross-CPU interrupt TCG did not deliver, with CPU 0
# spinning for its answer. loglevel=5 puts the stuck task's kernel stack
# on the console should it come back.
exec timeout 400 qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp 1 -m 1024 \
	-kernel "$kernel" -initrd "$tmp/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=5" \
	-nographic -monitor none -no-reboot -nic none
