# Reads the guest's console (scripts/vm/run pipes it in, live) and prints what the test binaries
# printed, the way a native `cargo test` shows it; judges the run. Needs -v arch=ARCH; with
# -v pid1_exit=N the run must end with vinit's PID-1 run (see below) and vinit exiting with N.
#
# Only what lies between a `@@vspawn-vm run NAME` and a `@@vspawn-vm exit NAME STATUS` marker
# (see scripts/vm/init.sh) is test output; from it, CRs, colour escapes, kernel messages
# (timestamped `[    1.234567] ...`) and qemu's own messages are removed.
# A marker is also found after a partial line (a test that died mid-line): what precedes it on the
# line is printed as output first.
#
#
# vinit's PID-1 run (`@@vspawn-vm run vinit-pid1`, printed by /init before it execs vinit) ends
# without an exit marker: vinit is PID 1 then, and when it exits the kernel panics with
# `Attempted to kill init! exitcode=0x0000NN00` (NN: the exit status; a signal number in the low
# 7 bits instead if a signal killed it). That line is its exit marker: the status is compared with
# pid1_exit, printed as one more libtest-like test (vinit_exits_with_its_childs_status_as_pid1)
# with its own `test result:` line, and it ends the run as `@@vspawn-vm done` would. PID 1
# exiting at any other time is reported as a crash of init.
#
# Exit status: 0 all passed; 1 a test binary failed or crashed, or vinit's PID-1 run failed; 2 the
# run stopped before its end marker (hang, timeout, crash of init); 3 no test binary ran at all
# (boot failure).

function report(msg) {
  printf "vm %s: %s\n", arch, msg > "/dev/stderr"
}

function hex(digits,   value, i) {
  value = 0
  for (i = 1; i <= length(digits); i++)
    value = value * 16 + index("0123456789abcdef", tolower(substr(digits, i, 1))) - 1
  return value
}

BEGIN { pid1_run = "vinit-pid1"; pid1_test = "vinit_exits_with_its_childs_status_as_pid1" }

{
  gsub(/\r/, "")
  gsub(/\033\[[0-9;]*[A-Za-z]/, "")
  marker = ""
  if (match($0, /@@vspawn-vm (run|exit|done)/)) {
    before = substr($0, 1, RSTART - 1)
    if (running != "" && before != "") print before
    marker = substr($0, RSTART)
    split(marker, field, " ")
  }
}

marker != "" && field[2] == "run" {
  running = field[3]; result = 0; runs++
  printf "     Running %s (vm %s)\n", running, arch
  fflush()
  next
}

marker != "" && field[2] == "exit" {
  if (!result) { report(field[3] " crashed: no `test result:` line (status " field[4] ")"); bad++ }
  else if (field[4] != 0) { report(field[3] " exited with status " field[4]); bad++ }
  running = ""
  next
}

marker != "" && field[2] == "done" { done = 1; next }

# PID 1 exited (see the header): the kernel's panic message. (Not qemu's echo of it: the pseries
# firmware passes the panic on, and qemu-system-ppc64 prints "OS terminated: OS panic: ...".)
!/^qemu-system-/ && match($0, /Attempted to kill init! exitcode=0x[0-9a-fA-F]+/) {
  code = substr($0, RSTART + 35, RLENGTH - 35)
  raw = hex(code)
  status = raw % 128 == 0 ? int(raw / 256) % 256 : 128 + raw % 128
  if (running == pid1_run && pid1_exit != "") {
    if (!result) { report(pid1_run ": the scenarios printed no `test result:` line"); bad++ }
    ok = status == pid1_exit + 0
    printf "test %s ... %s\n", pid1_test, ok ? "ok" : "FAILED"
    if (!ok) {
      printf "\nvinit, as PID 1, exited with status %d (kernel: exitcode=0x%s); its child exits with %d\n", \
        status, code, pid1_exit
      report(pid1_run ": vinit exited with status " status ", not its child's " pid1_exit); bad++
    }
    printf "\ntest result: %s. %d passed; %d failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n", \
      ok ? "ok" : "FAILED", ok, !ok
    fflush()
    running = ""; pid1_done = 1; done = 1
  } else {
    report("init (PID 1) exited with status " status " (exitcode=0x" code ")" \
      (running != "" ? " while running " running : ""))
    bad++
  }
  next
}

running == "" { next }
/^qemu-system-/ { next }
/^\[ *[0-9]+\.[0-9]+\] / { next }
/^test result: / { result = 1 }
{ print; fflush() }

END {
  if (running != "") report("stopped while running " running)
  if (runs == 0) { report("no test binary ran (boot failure?)"); exit 3 }
  if (pid1_exit != "" && !pid1_done) {
    report("vinit did not run as PID 1 to its exit (no `Attempted to kill init!` after `@@vspawn-vm run " pid1_run "`)")
    exit 2
  }
  if (!done) { report("the run did not reach its end marker"); exit 2 }
  exit bad ? 1 : 0
}
