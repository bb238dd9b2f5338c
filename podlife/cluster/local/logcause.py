"""The line of a dead component's log that says why it died, not the last stack frame.

A Go component that panics ends its log with a goroutine dump, so "the last line" is a
file:line of some frame. The cause sits earlier: an operating-system error ("no space
left on device"), or the last fatal/panic/error record (JSON as etcd and containerd
write it, klog's `F1126 ...`, a bare `panic: ...`). For the errors a user can fix, the
fix is named too.
"""

from __future__ import annotations

import json
import re

#: Operating-system errors a user can act on, and what to do about each.
KNOWN_CAUSES: dict[str, str] = {
    "no space left on device": "free space on that filesystem (df -h), or set "
                               "PODLIFE_STATE to a directory on one with room",
    "disk quota exceeded": "free space within your quota, or set PODLIFE_STATE elsewhere",
    "read-only file system": "set PODLIFE_STATE to a writable directory",
    "too many open files": "raise the open-files limit (ulimit -n) and run up again",
    "cannot allocate memory": "free memory (stop other clusters: 'podlife cluster status')",
    "address already in use": "stop what holds that port, or pick another with --api-port",
}
_FRAME = re.compile(r"^(\s|goroutine \d+|created by |\S+\(.*\)$|\[signal |exit status )")
_KLOG_SEVERE = re.compile(r"^[FE]\d{4} ")
_SEVERE = ("fatal", "panic", "error")


def _record(line: str) -> tuple[str, str]:
    """(level, message) of one log line, JSON or text; level "" when it has none."""
    if line.startswith("{"):
        try:
            data = json.loads(line)
        except ValueError:
            return "", line
        if isinstance(data, dict):
            level = str(data.get("level", "")).lower()
            parts = [str(data[k]) for k in ("msg", "error", "err") if data.get(k)]
            return level, ": ".join(parts) or line
    if _KLOG_SEVERE.match(line):
        return ("fatal" if line[0] == "F" else "error"), line
    lowered = line.lower()
    if lowered.startswith("panic: "):
        return "panic", line
    match = re.search(r"level=(\w+)", lowered)
    if match:
        return match.group(1), line
    return "", line


def cause(text: str) -> tuple[str, str]:
    """(the line naming the cause, a fix if it is a known one, else "")."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    content = [ln for ln in lines if not _FRAME.match(ln)]
    for line in reversed(content):
        lowered = line.lower()
        for phrase, fix in KNOWN_CAUSES.items():
            if phrase in lowered:
                return _record(line)[1][:300], fix
    for line in reversed(content):
        level, message = _record(line)
        if level in _SEVERE:
            return message[:300], ""
    return (content[-1] if content else (lines[-1] if lines else ""))[:300], ""
