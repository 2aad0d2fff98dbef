#!/bin/sh
# Builds the initramfs of the cgroup v2 test VM: busybox-static, the skiff
# binary under test, a busybox image rootfs to import, the overlay module of
# the guest kernel, and init + checks.sh.
#   usage: build-initramfs.sh SKIFF_BINARY KERNEL_VERSION OUT.cpio.gz
set -eu
skiff=$1 kver=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root/bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" "$root/etc" "$root/root"
cp /bin/busybox "$root/bin/busybox"
cp "$skiff" "$root/bin/skiff"
cp "$here/init" "$root/init"
cp "$here/checks.sh" "$root/checks.sh"
chmod 755 "$root/init" "$root/checks.sh" "$root/bin/skiff"
mod=$(find "/lib/modules/$kver" -name 'overlay.ko*' | head -n1)
if [ -n "$mod" ]; then
	case $mod in
	*.xz) xz -dc "$mod" >"$root/lib/modules/overlay.ko" ;;
	*.zst) zstd -dqc "$mod" >"$root/lib/modules/overlay.ko" ;;
	*) cp "$mod" "$root/lib/modules/overlay.ko" ;;
	esac
fi
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
: >"$root/etc/resolv.conf"
echo '127.0.0.1 localhost' >"$root/etc/hosts"
# The container image: busybox with its applets as symlinks.
img=$work/img
mkdir -p "$img/bin" "$img/etc" "$img/tmp"
cp /bin/busybox "$img/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$img/bin/$a"
done
cp "$root/etc/passwd" "$root/etc/group" "$img/etc/"
tar -C "$img" -cf "$root/rootfs.tar" .
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
