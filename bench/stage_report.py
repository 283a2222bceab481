"""Where a message's time goes: `python -m bench.stage_report PATH` after
`python -m bench.delivery --trace PATH`.

Joins the bench client's send and receipt times (PATH.client) with the stage timestamps the
worker recorded (PATH.server.<pid>, see bench/stage_trace/sitecustomize.py), by message body
(a floor probe by its "seen" id) and by the handler's asyncio task, and prints, for the floor
and each direction, p50 / p90 / p99 of every stage, what the slowest 2% spent in each, and the
garbage collections that ran while the benchmark measured. Warm-up cycles are left out.
"""

from __future__ import annotations

import argparse
import bisect
import glob
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from bench.percentiles import percentile

Record = tuple[float, str, int, str]  # time, stage, task id (gc: generation), key


@dataclass
class Trace:
    by_key: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    by_task: dict[int, list[Record]] = field(default_factory=lambda: defaultdict(list))
    task_of: dict[str, int] = field(default_factory=dict)  # message body -> its handler's task
    collections: list[Record] = field(default_factory=list)

    def first(self, stage: str, key: str, after: float) -> float | None:
        times = self.by_key.get((stage, key), [])
        i = bisect.bisect_left(times, after)
        return times[i] if i < len(times) else None

    def in_task(self, task: int, stage: str, start: float, end: float) -> float | None:
        for at, name, _task, _key in self.by_task.get(task, []):
            if name == stage and start <= at <= end:
                return at
        return None


def load_server(path: str) -> Trace:
    trace = Trace()
    records: list[Record] = []
    for name in glob.glob(f"{path}.server.*"):
        with open(name) as lines:
            for line in lines:
                parts = line.rstrip("\n").split("\t", 3)
                if len(parts) == 4:
                    records.append((float(parts[0]), parts[1], int(parts[2]), parts[3]))
    for record in sorted(set(records)):  # a forked worker's file repeats its parent's
        at, stage, task, key = record
        if stage == "gc":
            trace.collections.append(record)
            continue
        if key:
            trace.by_key[(stage, key)].append(at)
        trace.by_task[task].append(record)
        if stage == "uc_start":
            trace.task_of[key] = task
    return trace


def load_client(path: str) -> list[tuple[str, str, float, float]]:
    rows = []
    with open(f"{path}.client") as lines:
        for line in lines:
            kind, key, sent, got = line.rstrip("\n").split("\t")
            if not key.endswith("-0") and "-h" not in key:  # warm-up, --history
                rows.append((kind, key, float(sent), float(got)))
    return rows


def stages(trace: Trace, kind: str, key: str, sent: float, got: float) -> dict[str, float]:
    """This message's (or probe's) time between consecutive stages, in seconds."""
    arrive = trace.first("arrive", key, sent)
    if arrive is None:
        return {}
    spans = {"total": got - sent, "sent -> arrive": arrive - sent}
    if kind == "floor":
        emitted = trace.first("emit_floor", key, arrive)
        handed = trace.first("wsend", key, emitted) if emitted is not None else None
        if emitted is None or handed is None:
            return {}
        spans["arrive -> emitted"] = emitted - arrive
        spans["emitted -> web server"] = handed - emitted
        spans["web server -> client"] = got - handed
        return spans
    started, pushed = trace.first("uc_start", key, arrive), trace.first("push", key, arrive)
    task = trace.task_of.get(key)
    if started is None or pushed is None or task is None:
        return {}
    handed = trace.first("wsend", key, pushed)
    committed = trace.in_task(task, "publish", started, pushed)
    if kind == "a2v":
        act = trace.in_task(task, "act", arrive, started)
        staff = trace.in_task(task, "staff", arrive, started)
        access = trace.in_task(task, "access", arrive, started)
        if act is None or staff is None or access is None:
            return {}
        spans["arrive -> handler"] = act - arrive
        spans["staff check (+BEGIN)"] = staff - act
        spans["row lock, access"] = access - staff
        spans["-> use case"] = started - access
    else:
        spans["arrive -> use case"] = started - arrive
    if committed is None or handed is None:
        return {}
    spans["use case to commit"] = committed - started
    spans["commit -> push"] = pushed - committed
    spans["push -> web server"] = handed - pushed
    spans["web server -> client"] = got - handed
    return spans


def report(path: str) -> None:
    trace, client = load_server(path), load_client(path)
    names = {"floor": "floor (round trip)", "a2v": "agent -> visitor", "v2a": "visitor -> agent"}
    for kind, title in names.items():
        rows = [
            s
            for k, key, sent, got in client
            if k == kind and (s := stages(trace, k, key, sent, got))
        ]
        if not rows:
            continue
        print(f"\n{title}: {len(rows)} joined   (ms)      p50      p90      p99")
        for stage in rows[0]:
            values = [r[stage] for r in rows]
            print(f"  {stage:28} {percentile(values, 50):8.2f} {percentile(values, 90):8.2f}"
                  f" {percentile(values, 99):8.2f}")  # fmt: skip
        cut = percentile([r["total"] for r in rows], 98) / 1000
        slow = [r for r in rows if r["total"] >= cut]
        print(f"  the slowest 2% ({len(slow)}, from {cut * 1000:.1f} ms), mean per stage:")
        for stage in rows[0]:
            print(f"    {stage:26} {statistics.mean(r[stage] for r in slow) * 1000:8.2f}")
    if client:
        start, end = min(c[2] for c in client), max(c[3] for c in client)
        during = [c for c in trace.collections if start <= c[0] <= end]
        print(f"\ngarbage collections in the worker while measuring ({end - start:.0f} s): "
              f"{len(during)}")  # fmt: skip
        for at, _stage, generation, micros in during:
            print(
                f"  at +{at - start:6.2f} s: generation {generation}, {int(micros) / 1000:.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stage_report", description=__doc__)
    parser.add_argument("path", help="the PATH given to bench.delivery --trace")
    report(parser.parse_args().path)


if __name__ == "__main__":
    main()
