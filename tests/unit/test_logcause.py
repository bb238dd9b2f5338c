"""A dead component's cause is the line that says why, never a stack frame."""

from __future__ import annotations

import json

from podlife.cluster.local.logcause import cause

ETCD_FULL = "\n".join([
    json.dumps({"level": "warn", "msg": "Running http and grpc server on single port."}),
    json.dumps({"level": "panic", "msg": "failed to create WAL",
                "error": "no space left on device", "stacktrace": "a\n\tb"}),
    "panic: failed to create WAL",
    "",
    "goroutine 1 [running]:",
    "go.uber.org/zap/zapcore.CheckWriteAction.OnWrite(0x1?, 0x12ce564?)",
    "\tgo.uber.org/zap@v1.27.0/zapcore/entry.go:196 +0x54",
    "main.main()",
    "\tgo.etcd.io/etcd/server/v3@v3.6.16/main.go:31 +0x28",
])


def test_disk_full_names_the_os_error_and_the_fix() -> None:
    line, fix = cause(ETCD_FULL)
    assert line == "failed to create WAL: no space left on device"
    assert "df -h" in fix and "PODLIFE_STATE" in fix


def test_klog_fatal_line_beats_the_frames_after_it() -> None:
    log = ("I1126 02:00:00.000000 1 server.go:1] starting\n"
           "F1126 02:00:01.000000 1 server.go:2] failed to load the TLS certificate\n"
           "goroutine 7 [running]:\n"
           "k8s.io/klog/v2.stacks(0x1)\n\tk8s.io/klog/v2@v2.130.1/klog.go:1 +0x1\n")
    assert cause(log) == (
        "F1126 02:00:01.000000 1 server.go:2] failed to load the TLS certificate", "")


def test_text_level_fatal_and_plain_last_line() -> None:
    log = 'time="x" level=info msg="up"\ntime="x" level=fatal msg="bad config: line 3"\n'
    assert cause(log) == ('time="x" level=fatal msg="bad config: line 3"', "")
    assert cause("just a line\n\tframe.go:1\n") == ("just a line", "")
    assert cause("") == ("", "")
