#!/bin/sh
# Runs in the VM (PID 1) on a pure cgroup v2 host: skiff's limits end to
# end. Prints "VM key=value" lines the Go test asserts, then "VM done".
export PATH=/bin HOME=/root SKIFF_ROOT=/var/lib/skiff SKIFF_RUNROOT=/run/skiff
mkdir -p /tmp /run /var/lib /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
[ -f /lib/modules/overlay.ko ] && insmod /lib/modules/overlay.ko
ip link set lo up 2>/dev/null
say() { echo "VM $1=$2"; }
# Seconds since boot before each step: under TCG the guest's speed depends on
# the host's load, and a slow CI run should show where its time went.
at() { say "at.$1" "$(cut -d' ' -f1 /proc/uptime)"; }
# If a step hangs, show who waits on what before the host's timeout kills
# the VM: process states and kernel stacks, then Go's goroutine dumps
# (SIGQUIT) of every skiff process; their stderr is the console or /tmp/err.
watchdog() {
	sleep "$1"
	echo "VM watchdog: no end after $1 s"
	ps -o pid,ppid,stat,args | grep -v " \[.*\]$"
	for p in $(pidof skiff skiff-supervisor | tr " " "\n" | sort -u); do
		echo "--- $p: $(tr '\0' ' ' <"/proc/$p/cmdline")"
		cat "/proc/$p/stack"
	done
	cat /tmp/err 2>/dev/null
	kill -QUIT $(pidof skiff skiff-supervisor) 2>/dev/null
}
echo
say cgroupfs "$(stat -f -c %t /sys/fs/cgroup)" # 63677270: cgroup2
say kernel "$(uname -r)"
watchdog 150 &
at import
skiff import /rootfs.tar bb >/dev/null 2>/tmp/err || say import-error "$(cat /tmp/err)"

at run
id=$(skiff run -d --memory 64m --memory-reservation 32m --pids-limit 50 --cpus 0.5 --cpu-shares 512 bb sleep 120 2>/tmp/err)
say run-error "$(cat /tmp/err)"
cg=/sys/fs/cgroup/skiff/$id
for f in memory.max memory.low memory.swap.max pids.max cpu.max cpu.weight; do
	say "$f" "$(cat "$cg/$f" 2>&1)"
done
say inspect "$(skiff inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}' "$id")"
say stats "$(skiff stats --no-stream --format '{{.MemUsage}}|{{.PIDs}}' "$id" 2>&1)"
skiff update --memory 96m --memory-swap 192m --pids-limit 70 --cpus 0.8 "$id" >/dev/null 2>/tmp/err || say update-error "$(cat /tmp/err)"
for f in memory.max memory.swap.max pids.max cpu.max; do
	say "updated.$f" "$(cat "$cg/$f" 2>&1)"
done
say updated.stats "$(skiff stats --no-stream --format '{{.MemUsage}}' "$id" 2>&1)"
at bomb
# A fork bomb stops at pids.max.
skiff update --pids-limit 30 "$id" >/dev/null
skiff exec -d "$id" sh -c 'f(){ f | f & }; f' 2>/dev/null
sleep 2
say bomb.pids.current "$(cat "$cg/pids.current")"
say bomb.pids.events "$(grep max "$cg/pids.events")"
skiff rm -f "$id" >/dev/null
say removed "$([ -d "$cg" ] && echo no || echo yes)"

at cpu
# CPU quota: a busy loop under --cpus 0.5, from cpu.stat usage_usec.
id=$(skiff run -d --cpus 0.5 bb sh -c 'while :; do :; done')
sleep 0.3
a=$(awk '/usage_usec/ {print $2}' "/sys/fs/cgroup/skiff/$id/cpu.stat")
sleep 2
b=$(awk '/usage_usec/ {print $2}' "/sys/fs/cgroup/skiff/$id/cpu.stat")
say cpu.usage_usec_2s "$((b - a))"
skiff rm -f "$id" >/dev/null

at oom
# OOM: tail keeps /dev/zero's one endless line in memory.
skiff run --name oom --memory 32m bb tail /dev/zero >/dev/null 2>&1
say oom.exit "$?"
say oom.state "$(skiff inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' oom)"
skiff rm oom >/dev/null

at caps
# Defaults inside a container.
say caps "$(skiff run --rm bb sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status | tr -s "\t\n" "  "')"
at done
echo "VM done"
poweroff -f
