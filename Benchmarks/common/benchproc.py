"""What the benchmarks read from /proc: the process tree, a process's CPU time and memory, and how
many CPU seconds the whole machine (or one CPU) has been busy. Linux only; standard library only.

    sys.path.insert(0, os.path.join(HERE, "..", "common"))
    import benchproc
"""

import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name (field 3 of proc(5) first)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    return data[data.rfind(b")") + 2:].split()


def process_table():
    """{pid: ppid} of every process, from /proc/<pid>/stat."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            table[int(name)] = int(_stat_fields(name)[1])
        except (OSError, IndexError, ValueError):
            continue
    return table


def descendants(root, table=None):
    """Every descendant of root still alive (not root itself), from `table` (default: now)."""
    children = {}
    for pid, ppid in (process_table() if table is None else table).items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def tree_pids(root):
    """root and every descendant still alive."""
    return [root] + descendants(root)


def proc_cpu(pid):
    """utime + stime of one process (all its threads), seconds; None once it is gone."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def tree_cpu(pids):
    """utime + stime of these processes (all their threads) and of their reaped children."""
    total = 0.0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / CLK_TCK  # utime stime cutime cstime
    return total


def status_kib(pid, field, missing=None):
    """A KiB figure of /proc/<pid>/status (VmRSS, VmHWM...); `missing` when unreadable."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return missing


def machine_cpu_seconds(cpu=None):
    """(busy CPU seconds, all CPU seconds) so far of the whole machine, or of one CPU, from
    /proc/stat (user .. steal; idle and iowait are not busy); None when unreadable."""
    name = "cpu" if cpu is None else f"cpu{cpu}"
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.split()[0] == name:
                    fields = [int(x) for x in line.split()[1:9]]
                    break
            else:
                return None
    except (OSError, ValueError, IndexError):
        return None
    total = sum(fields)
    return (total - fields[3] - fields[4]) / CLK_TCK, total / CLK_TCK
