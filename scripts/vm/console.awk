# Reads the guest's console (scripts/vm/run pipes it in, live) and prints what the test binaries
# printed, the way a native `cargo test` shows it; judges the run. Needs -v arch=ARCH.
#
# Only what lies between a `@@vspawn-vm run NAME` and a `@@vspawn-vm exit NAME STATUS` marker
# (see scripts/vm/init.sh) is test output; from it, CRs, colour escapes, kernel messages
# (timestamped `[    1.234567] ...`) and qemu's own messages are removed.
# A marker is also found after a partial line (a test that died mid-line): what precedes it on the
# line is printed as output first.
#
# Exit status: 0 all passed; 1 a test binary failed or crashed; 2 the run stopped before its end
# marker (hang, timeout, crash of init); 3 no test binary ran at all (boot failure).

function report(msg) {
  printf "vm %s: %s\n", arch, msg > "/dev/stderr"
}

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

running == "" { next }
/^qemu-system-/ { next }
/^\[ *[0-9]+\.[0-9]+\] / { next }
/^test result: / { result = 1 }
{ print; fflush() }

END {
  if (running != "") report("stopped while running " running)
  if (runs == 0) { report("no test binary ran (boot failure?)"); exit 3 }
  if (!done) { report("the run did not reach its end marker"); exit 2 }
  exit bad ? 1 : 0
}
