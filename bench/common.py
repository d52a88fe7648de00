"""Shared helpers of the benchmarks (bench/bench_*.py). Standard library only.

    import common
    print(common.machine_text())                      # CPU, cores, memory, kernel, load
    with common.Launcher() as lx:
        m = lx.run(["build/secretsync", "version"])   # one whole process, measured
        print(m.wall, m.maxrss_kib, m.code)
        runs = common.interleaved(lx, {"secretsync": [...], "node": ["node", "-e", "0"]}, 50)
        s = common.summary(runs["secretsync"])         # median wall, p10/p90, RSS
    smp = common.CPUSampler({"moto": pid}).start()     # CPU of other processes over time
    ...; smp.stop(); smp.usage(t0, t1)

    python3 bench/common.py machine                   # the machine, as printed
    python3 bench/common.py write-doc DIR DOC         # used by scripts/run-bench.sh

Peak RSS: wait4's ru_maxrss of the child. A child forked from this Python
process would report Python's own RSS, not the program's: at exec the kernel
folds the old address space's high-water mark into the process's maxrss, and
the forked child's old address space is a copy of Python's (tens of MiB).
So the fork/exec/wait4 is done by a tiny launcher written in C (below), built
once per run with musl-gcc -static (else cc -static, else cc) into a
temporary directory: the child then inherits only the launcher's few pages,
which the launcher measures and reports as the floor of every RSS figure.
Without a C compiler, os.wait4 is used from Python and the RSS figures are
flagged as upper bounds.

Figures are printed, never asserted.
"""
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024

# launch RESULT PROG [ARG...]: run PROG (PATH searched), wait for it with
# wait4, write one line to RESULT:
#   <wall ns> <child maxrss KiB> <wait status> <launcher VmRSS KiB at fork>
#   <child user us> <child sys us>
# The launcher's own resident set at fork is what the child starts from (its
# copy of the launcher's pages), so it is the floor of the child's maxrss.
# (getrusage(RUSAGE_SELF) would not do: the launcher's own maxrss includes
# the Python process it was forked from.)
# and exit with the child's exit code (128 + signal when it was killed).
LAUNCHER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long self_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage child;
	long long ns;
	long floor_kib;
	pid_t pid;
	FILE *f;
	int st = 0;

	if (argc < 3) {
		fputs("usage: launch RESULT PROG [ARG...]\n", stderr);
		return 120;
	}
	floor_kib = self_rss_kib();
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid < 0)
		return 121;
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &child) < 0)
		return 122;
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	f = fopen(argv[1], "w");
	if (f == NULL)
		return 123;
	fprintf(f, "%lld %ld %d %ld %lld %lld\n", ns, child.ru_maxrss, st, floor_kib,
		(long long)child.ru_utime.tv_sec * 1000000LL + child.ru_utime.tv_usec,
		(long long)child.ru_stime.tv_sec * 1000000LL + child.ru_stime.tv_usec);
	if (fclose(f) != 0)
		return 123;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}
"""


class Measured:
    """One whole-process run: wall seconds, peak RSS (KiB), exit code,
    child CPU seconds (user, sys)."""

    def __init__(self, wall, maxrss_kib, code, user=0.0, sys_=0.0, rss_floor_kib=0,
                 rss_upper_bound=False):
        self.wall = wall
        self.maxrss_kib = maxrss_kib
        self.code = code
        self.user = user
        self.sys = sys_
        self.rss_floor_kib = rss_floor_kib
        self.rss_upper_bound = rss_upper_bound

    @property
    def maxrss_mib(self):
        return self.maxrss_kib / 1024.0


class Launcher:
    """Runs programs under the C launcher (see the module comment)."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="secretsync-bench-")
        self.path = None
        self.how = None
        self._build()

    def _build(self):
        src = os.path.join(self.tmp, "launch.c")
        exe = os.path.join(self.tmp, "launch")
        with open(src, "w", encoding="utf-8") as f:
            f.write(LAUNCHER_C)
        tries = []
        if shutil.which("musl-gcc"):
            tries.append(("musl-gcc -static", ["musl-gcc", "-static", "-O2"]))
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc:
            tries.append(("cc -static", [cc, "-static", "-O2"]))
            tries.append(("cc (dynamic)", [cc, "-O2"]))
        for how, cmd in tries:
            r = subprocess.run(cmd + ["-o", exe, src], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            if r.returncode == 0 and os.access(exe, os.X_OK):
                self.path = exe
                self.how = how
                return

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def describe(self):
        if self.path:
            return f"wait4 ru_maxrss via a C launcher ({self.how})"
        return "os.wait4 from Python (no C compiler): RSS figures are upper bounds"

    def run(self, argv, env=None, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, cwd=None, timeout=None):
        """Run argv to completion; a Measured. Output goes where stdout/stderr say
        (file objects or subprocess constants)."""
        if self.path is None:
            return self._run_python(argv, env, stdin, stdout, stderr, cwd, timeout)
        result = os.path.join(self.tmp, "result")
        try:
            os.unlink(result)
        except FileNotFoundError:
            pass
        # Its own process group, so that a timeout kills the program too.
        p = subprocess.Popen([self.path, result] + list(argv), env=env, stdin=stdin,
                             stdout=stdout, stderr=stderr, cwd=cwd, start_new_session=True)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        try:
            with open(result, encoding="ascii") as f:
                ns, rss, _st, floor, ut, stime = f.read().split()
        except (OSError, ValueError):
            raise RuntimeError(f"launcher failed (exit {p.returncode}) for {argv[0]}")
        return Measured(int(ns) / 1e9, int(rss), p.returncode, int(ut) / 1e6,
                        int(stime) / 1e6, int(floor))

    @staticmethod
    def _run_python(argv, env, stdin, stdout, stderr, cwd, timeout):
        t0 = time.monotonic()
        p = subprocess.Popen(list(argv), env=env, stdin=stdin, stdout=stdout, stderr=stderr,
                             cwd=cwd)
        _pid, st, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(st)
        return Measured(wall, ru.ru_maxrss, p.returncode, ru.ru_utime, ru.ru_stime,
                        0, rss_upper_bound=True)


def interleaved(lx, commands, runs, warmup=3, env=None):
    """Run each of commands {name: argv} `runs` times, one of each per round
    (the order rotating), after `warmup` uncounted rounds, so that a change in
    the machine's load affects all of them alike. {name: [Measured]}."""
    names = list(commands)
    out = {n: [] for n in names}
    for i in range(warmup + runs):
        k = i % len(names)
        for n in names[k:] + names[:k]:
            m = lx.run(commands[n], env=env)
            if i >= warmup:
                out[n].append(m)
    return out


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def summary(ms):
    """{wall, wall_min, wall_max, rss_kib, rss_max_kib, codes} of a list of Measured."""
    walls = [m.wall for m in ms]
    rss = [m.maxrss_kib for m in ms]
    q = statistics.quantiles(walls, n=10) if len(walls) >= 10 else [min(walls), max(walls)]
    return {"wall": median(walls), "wall_min": min(walls), "wall_max": max(walls),
            "wall_p10": q[0], "wall_p90": q[-1],
            "rss_kib": median(rss), "rss_max_kib": max(rss),
            "codes": sorted({m.code for m in ms}), "n": len(ms),
            "upper_bound": any(m.rss_upper_bound for m in ms),
            "floor_kib": max(m.rss_floor_kib for m in ms)}


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


def mib(kib):
    return f"{kib / 1024.0:.2f} MiB"


def ceil_div(a, b):
    return -(-a // b)


# --- CPU time of other processes (the emulators) ---------------------------

def proc_cpu(pid):
    """user + system CPU seconds of a live process (all its threads); None if gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def descendants(pid):
    """Process ids of every live descendant of pid."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", encoding="ascii") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def machine_cpu():
    """(busy, total) jiffies of all cores together, from /proc/stat."""
    parts = _read("/proc/stat").split("\n", 1)[0].split()
    vals = [int(x) for x in parts[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    return sum(vals) - idle, sum(vals)


class CPUSampler:
    """Samples the CPU time of some processes and of the whole machine every
    `interval` seconds in a thread, so that any time window can be asked
    later: usage(t0, t1) -> {name: cores busy on average, "machine": share
    of all cores busy}. Times are time.monotonic()."""

    def __init__(self, pids, interval=0.2):
        import threading
        self.pids = dict(pids)
        self.interval = interval
        self.samples = []  # (t, {name: cpu seconds}, (busy, total))
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._loop, daemon=True)

    def _sample(self):
        self.samples.append((time.monotonic(),
                             {n: proc_cpu(p) for n, p in self.pids.items()},
                             machine_cpu()))

    def _loop(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def start(self):
        self._th.start()
        return self

    def stop(self):
        self._stop.set()
        self._th.join()
        self._sample()

    def usage(self, t0, t1):
        if len(self.samples) < 2:
            return {}
        import bisect
        ts = [s[0] for s in self.samples]
        i = max(0, bisect.bisect_right(ts, t0) - 1)
        j = min(len(ts) - 1, max(i + 1, bisect.bisect_left(ts, t1)))
        a, b = self.samples[i], self.samples[j]
        dt = b[0] - a[0]
        if dt <= 0:
            return {}
        out = {}
        for n in self.pids:
            if a[1].get(n) is not None and b[1].get(n) is not None:
                out[n] = (b[1][n] - a[1][n]) / dt
        busy, total = b[2][0] - a[2][0], b[2][1] - a[2][1]
        out["machine"] = busy / total if total > 0 else float("nan")
        return out


# --- the machine -------------------------------------------------------------

def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def loadavg():
    parts = _read("/proc/loadavg").split()
    return tuple(float(x) for x in parts[:3]) if len(parts) >= 3 else (math.nan,) * 3


def machine():
    """A dict describing the machine the figures come from."""
    cpu = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpu, re.M)
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", cpu, re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    osr = re.search(r'^PRETTY_NAME="?([^"\n]*)', _read("/etc/os-release"), re.M)
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = os.cpu_count()
    node = shutil.which("node")
    node_v = ""
    if node:
        try:
            node_v = subprocess.run([node, "--version"], capture_output=True, text=True,
                                    timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            node_v = "?"
    u = platform.uname()
    return {
        "cpu": model.group(1).strip() if model else (u.processor or u.machine),
        "mhz": float(mhz.group(1)) if mhz else None,
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "memory_gib": int(mem.group(1)) / (1024 * 1024) if mem else None,
        "kernel": f"{u.system} {u.release} {u.machine}",
        "os": osr.group(1) if osr else "",
        "python": platform.python_version(),
        "node": node_v,
        "loadavg": loadavg(),
    }


def machine_text(m=None):
    m = m or machine()
    mhz = f" @ {m['mhz']:.0f} MHz" if m.get("mhz") else ""
    cores = f"{m['cores']}" + (f" ({m['usable_cores']} usable)"
                               if m["usable_cores"] != m["cores"] else "")
    mem = f"{m['memory_gib']:.1f} GiB" if m.get("memory_gib") else "?"
    la = m["loadavg"]
    return "\n".join([
        f"CPU:      {m['cpu']}{mhz}",
        f"cores:    {cores}",
        f"memory:   {mem}",
        f"kernel:   {m['kernel']}",
        f"OS:       {m['os']}",
        f"python:   {m['python']}   node: {m['node'] or 'not installed'}",
        f"load:     {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} (1/5/15 min) when measured",
    ])


def load_note():
    """A line to print when the machine was busy (load above the core count)."""
    la = loadavg()
    cores = os.cpu_count() or 1
    state = "busy" if la[0] > 0.5 * cores else "quiet"
    return f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} on {cores} cores ({state})"


def binary(name="secretsync"):
    """build/<name> if it exists, else None."""
    p = os.path.join(ROOT, "build", name)
    return p if os.path.exists(p) else None


# --- docs/benchmarks.md (scripts/run-bench.sh) ----------------------------------

BEGIN = "<!-- BEGIN GENERATED by make bench (scripts/run-bench.sh); edit above or below -->"
END = "<!-- END GENERATED -->"
SECTION = "<!-- bench: {} -->"


def _sections(text):
    """{name: section text} of a generated region."""
    out, name, buf = {}, None, []
    for line in text.splitlines(keepends=True):
        m = re.match(r"<!-- bench: (\S+) -->", line)
        if m:
            if name:
                out[name] = "".join(buf).rstrip() + "\n"
            name, buf = m.group(1), [line]
        elif name:
            buf.append(line)
    if name:
        out[name] = "".join(buf).rstrip() + "\n"
    return out


def write_doc(results_dir, doc):
    """Merge the results of a run of scripts/run-bench.sh into doc.

    results_dir holds, per benchmark NAME: NAME.out (its output), NAME.meta
    (lines: title, exit code, seconds, date, commit, load at start). The
    text outside the generated region is kept; inside it, the machine
    section is rewritten and each benchmark that ran replaces its own section
    (the others are kept, with the date they were measured)."""
    try:
        with open(doc, encoding="utf-8") as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        region, tail = rest.split(END, 1)
    else:
        head = ("# Benchmarks\n\nWritten by `make bench` (scripts/run-bench.sh): every "
                "`bench/bench_*` file, its printed figures, and the machine they come "
                "from. Benchmarks print figures; they never pass or fail on time.\n\n")
        region, tail = "", "\n"
    sections = _sections(region)
    ran = sorted(f[:-5] for f in os.listdir(results_dir) if f.endswith(".meta"))
    for name in ran:
        with open(os.path.join(results_dir, name + ".meta"), encoding="utf-8") as f:
            title, code, secs, date, commit, load = (f.read().split("\n") + [""] * 6)[:6]
        with open(os.path.join(results_dir, name + ".out"), encoding="utf-8",
                  errors="replace") as f:
            out = f.read().rstrip()
        status = "exit 0" if code == "0" else f"**exit {code}** (see the output)"
        sections[name] = (
            SECTION.format(name) + "\n"
            f"## `bench/{name}`{': ' + title if title else ''}\n\n"
            f"Measured {date}, commit `{commit}`, {secs} s, {status}; load at start: {load}.\n\n"
            "```text\n" + out.replace("```", "'''") + "\n```\n")
    with open(os.path.join(results_dir, "machine.txt"), encoding="utf-8") as f:
        mach = f.read().rstrip()
    body = ["## The machine\n\n",
            f"Last `make bench`: {', '.join('`' + n + '`' for n in ran) or 'nothing'}.\n\n",
            "```text\n" + mach + "\n```\n\n"]
    for name in sorted(sections):
        body.append(sections[name] + "\n")
    new = head.rstrip() + "\n\n" + BEGIN + "\n" + "".join(body).rstrip() + "\n" + END + \
        "\n" + tail.lstrip("\n")
    tmp = doc + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, doc)


def _title(path):
    """The first sentence of a benchmark's docstring or header comment."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return ""
    if path.endswith(".py"):
        import ast
        try:
            doc = ast.get_docstring(ast.parse(text)) or ""
        except SyntaxError:
            return ""
        lines = doc.strip().split("\n")
    else:
        lines = []
        for line in text.splitlines()[1:]:
            if not line.startswith("#"):
                break
            lines.append(line[1:].strip())
    para = []
    for line in lines:
        if not line.strip():
            break
        para.append(line.strip())
    first = " ".join(para)
    m = re.match(r"(.+?\.)(\s|$)", first) if len(first) > 160 else None
    return (m.group(1) if m else first).rstrip(".")


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 2 and sys.argv[1] == "machine":
        print(machine_text())
    elif len(sys.argv) == 3 and sys.argv[1] == "title":
        print(_title(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "write-doc":
        write_doc(sys.argv[2], sys.argv[3])
    else:
        print("usage: common.py machine | title FILE | write-doc RESULTS_DIR DOC",
              file=sys.stderr)
        sys.exit(64)
