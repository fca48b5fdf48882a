#!/bin/sh
# /init of the test VM (run by the guest's busybox sh; scripts/vm/run puts it in the initramfs).
#
# The protocol any replacement /init must keep (scripts/vm/run reads the console for it):
#   - environment: VSPAWN_VM=<arch> comes from the kernel command line (the kernel hands unknown
#     `name=value` parameters to init as environment); VSPAWN_EMULATOR must not be set;
#   - arguments: whatever follows `--` on the kernel command line is passed to init, and init
#     passes it on to every test binary (libtest filters such as `--exact name`);
#   - for each test binary /tests/NAME, in name order, print on the console
#         @@vspawn-vm run NAME
#     then run `/tests/NAME --test-threads=2 ARGS...` with the console as stdout and stderr, then
#         @@vspawn-vm exit NAME STATUS
#     (STATUS as the shell reports it: 0 = passed, 101 = a test failed, 128+N = killed by signal N);
#   - after the last one, kill and reap whatever the tests left running; then, if /sbin/vinit and
#     /pid1/vinit_scenarios exist, print `@@vspawn-vm run vinit-pid1` and exec
#     `/sbin/vinit -- /pid1/vinit_scenarios ARGS...` (exec keeps PID 1; the kernel's panic when
#     vinit exits is that run's exit marker, see console.awk); otherwise print `@@vspawn-vm done`
#     and power off (or exit: with `panic=-1` and qemu's `-no-reboot` the VM stops when init dies).
#
# examples/vm_init.rs, the default /init, is the libc-free Rust version of this script.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
unset VSPAWN_EMULATOR
export VSPAWN_VM="${VSPAWN_VM:-$(uname -m)}"
# The vinit tests run the guest's own vinit (there is no cargo here to build one).
export VSPAWN_VINIT=/sbin/vinit

# What the tests may expect of a Linux system. devtmpfs brings the full /dev (the initramfs only
# has console and null); the console stays open across the mount.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /sys/fs/cgroup
mount -t devpts -o mode=620,ptmxmode=666 devpts /dev/pts
mount -t cgroup2 cgroup2 /sys/fs/cgroup
cd /tmp || cd /

for test in /tests/*; do
  [ -x "$test" ] || continue
  name=${test##*/}
  echo "@@vspawn-vm run $name"
  "$test" --test-threads=2 "$@" </dev/null
  echo "@@vspawn-vm exit $name $?"
done

# Leftovers of the tests: kill them (-1: everything but PID 1), and let busybox's shell reap them.
kill -9 -1 2>/dev/null
sleep 0.1
if [ -x /sbin/vinit ] && [ -x /pid1/vinit_scenarios ]; then
  echo "@@vspawn-vm run vinit-pid1"
  exec /sbin/vinit -- /pid1/vinit_scenarios "$@"
fi
echo "@@vspawn-vm done"

sync
poweroff -f
