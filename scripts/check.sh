#!/bin/bash
# `make check`: builds, runs the unit tests (ASan + UBSan), a short smoke of
# the fuzzers, and the system tests (pytest, booting the appliance under
# QEMU; among them a smoke of the bench), and ends with one summary line
# "check: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
start=$(date +%s)
rc=0

mkdir -p build
# the systemd test guest (debootstrap: mostly downloads) is built, when its
# recipe changed, while the code builds
/usr/bin/python3 tests/system/debian_guest.py >build/debian-guest.log 2>&1 &
guest_build=$!
if [ "$what" = all ]; then
	make --no-print-directory build unit || rc=1
	# a short smoke of each fuzzer, so that they cannot rot
	make --no-print-directory fuzz FUZZ_SECONDS=3 || rc=1
	make --no-print-directory image image-test || exit 1
	# the bench's appliance, for its smoke among the system tests (test_bench.py)
	image/mkimage.sh build out bench || exit 1
fi
wait $guest_build || echo "check: the systemd test guest was not built (build/debian-guest.log)"
rm -f build/system-rerun*-junit.xml
# A guest that the nested platform crashed or froze (a failure tagged by the
# harness, see docs/testing.md) may fail the tests after it in its module,
# which share its appliance. When every failing test is in a module so
# struck, they run again in a new session, up to RERUNS times; else the
# failures stand.
RERUNS=2
# The modules run on WORKERS pytest-xdist workers at once, a module to a
# worker: an appliance keeps one core busy only while its guests boot, and
# waits the rest of the time (docs/testing.md)
WORKERS=${WORKERS:-3}
junit=build/system-junit.xml
/usr/bin/python3 -m pytest -v -n "$WORKERS" --dist loadfile --durations=25 tests/system --junitxml=$junit
status=$?
for round in $(seq $RERUNS); do
	[ $status -eq 0 ] && break
	mapfile -t again < <(/usr/bin/python3 - $junit <<'PY'
import sys, xml.etree.ElementTree as ET
failed, struck = {}, set()
for tc in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    for bad in [*tc.iter("failure"), *tc.iter("error")]:
        module = tc.get("classname")
        failed[f"{module.replace('.', '/')}.py::{tc.get('name')}"] = module
        if "NESTED-PLATFORM-FAULT" in (bad.get("message") or "") + (bad.text or ""):
            struck.add(module)
if set(failed.values()) <= struck:
    print("\n".join(failed))
PY
	)
	[ ${#again[@]} -gt 0 ] || break
	echo "check: the nested platform struck ${#again[@]} test(s); again ($round of $RERUNS): ${again[*]}"
	junit=build/system-rerun$round-junit.xml
	/usr/bin/python3 -m pytest -v -n "$WORKERS" --dist loadfile "${again[@]}" --junitxml=$junit
	status=$?
done
[ $status -eq 0 ] || rc=1

/usr/bin/python3 - "$rc" "$start" <<'PY'
import glob, sys, time, xml.etree.ElementTree as ET
passed = failed = skipped = 0
rerun = 0
where = {}  # the system tests of the first run, by where they ran (conftest.py)
for f in ["build-san/meson-logs/testlog.junit.xml", "build/system-junit.xml",
          *glob.glob("build/system-rerun*-junit.xml")]:
    try:
        root = ET.parse(f).getroot()
    except (OSError, ET.ParseError):
        continue
    if f == "build/system-junit.xml":
        for tc in root.iter("testcase"):
            ran = [p.get("value") for p in tc.iter("property") if p.get("name") == "ran_on"]
            where[ran[-1] if ran else "?"] = where.get(ran[-1] if ran else "?", 0) + 1
    for ts in root.iter("testsuite"):
        t, fl, e, s = (int(ts.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        passed += t - fl - e - s
        failed += fl + e
        skipped += s
        if "rerun" in f:  # these ran before: their last failures are replaced
            rerun += t
            failed -= t
rc = int(sys.argv[1])
if rc and not failed:
    failed = 1  # something failed outside a test case (a build, a crash)
print(f"check took {time.time() - int(sys.argv[2]):.0f}s")
print(f"check: {passed} passed, {failed} failed, {skipped} skipped"
      + (f" ({rerun} run again after a nested-platform guest fault)" if rerun else "")
      + (f"; system tests: " + ", ".join(f"{n} {w}" for w, n in sorted(where.items()))
         if where else ""))
PY
exit $rc
