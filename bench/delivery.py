"""Live message delivery latency against the framework floor, over real websockets.

    .venv/bin/python -m bench.delivery [--visitors 200] [--agents 10] [--messages 1000]
                                       [--history 0]

Starts the app backend-only (one worker, a fresh migrated SQLite database in a temporary
directory, or with `--postgres URL` a fresh database on that PostgreSQL server, dropped after;
loopback only), creates an owner and the agent accounts, connects the visitors and
the agents' tabs (a queue tab each, and one tab per conversation they hold), puts `--active`
conversations into the active state (agents take turns claiming), then in every active
conversation repeats: a bare Reflex round trip on the visitor's tab (the floor: a trivial
handler, no database), an agent reply, a visitor reply. Latency is the time from the send to
the receiving tab decoding the delta that carries the new message (live_window.py).
Every wait is bounded; the server is always stopped. `--check` exits 1 when a target is missed.
`--trace PATH` also records where each message's time went (see bench/stage_report.py).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from sqlmodel.ext.asyncio.session import AsyncSession

from bench.client_gc import collector_paused
from bench.percentiles import percentile, ratio_interval
from handoff_app.config import async_database_url
from handoff_app.db import make_async_engine
from handoff_app.services.staff import create_staff
from handoff_app.worker_start import READY as MODEL_READY
from tests.support import postgres
from tests.support import reflex_socket as rs
from tests.support.server import AppServer, migrate, run_cli, start_app

TARGET_P99_MS = 100.0
TARGET_RATIO = 1.5
# The measured messages per direction before session 17: a p99 of 300 samples is the third
# slowest, and the ratio of two such figures swung across the target from run to run on one
# machine and code. The report says how far a run that short would swing (bench/percentiles.py).
SHORT_RUN = 300
PASSWORD = "correct horse battery"
WAIT = 30.0  # the longest any single step may take
T = TypeVar("T")


@dataclass
class Results:
    agent_to_visitor: list[float] = field(default_factory=list)
    visitor_to_agent: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    lost: int = 0
    seconds: float = 0.0  # spent measuring (warm-up included)


@dataclass
class Pair:
    conversation_id: int
    visitor: rs.ReflexSocket
    agent: rs.ReflexSocket


def carries_message(body: str) -> Callable[[rs.State], bool]:
    def match(delta: rs.State) -> bool:
        messages = rs.messages_in_delta(delta.get(rs.CONVERSATION_ROOM, {}))
        return any(m.get("body") == body for m in messages)

    return match


def touches(state: str) -> Callable[[rs.State], bool]:
    return lambda delta: state in delta


async def bounded(aw: Awaitable[T]) -> T:
    return await asyncio.wait_for(aw, WAIT)


async def gather_paced(limit: int, factories: list[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def run(factory: Callable[[], Awaitable[T]]) -> T:
        async with gate:  # every step inside has its own timeout
            return await factory()

    return await asyncio.gather(*(run(f) for f in factories))


async def create_agents(db_url: str, count: int) -> list[str]:
    engine = make_async_engine(async_database_url(db_url))
    emails = [f"agent{i}@bench.test" for i in range(count)]
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            for i, email in enumerate(emails):
                await create_staff(
                    session=session,
                    email=email,
                    password=PASSWORD,
                    role="agent",
                    display_name=f"Agent {i}",
                )
    finally:
        await engine.dispose()
    return emails


_seen_ids = itertools.count(1)
# with --trace: (kind, key, sent, received) of every probe and message, for bench.stage_report
_traced: list[tuple[str, str, float, float]] | None = None
STAGE_TRACE = Path(__file__).resolve().parent / "stage_trace"


def _note(kind: str, key: str, sent: float, received: float) -> float:
    if _traced is not None:
        _traced.append((kind, key, sent, received))
    return received - sent


async def cycle(pair: Pair, tag: str, think: float, results: Results | None) -> None:
    """Floor probe, agent -> visitor, visitor -> agent; each waits for its own acknowledgement."""
    visitor, agent = pair.visitor, pair.agent
    seen = next(_seen_ids)
    probe = visitor.expect(lambda d: d.get(rs.VISITOR, {}).get("seen_id") == seen)
    sent = await visitor.send(rs.VISITOR, "note_seen", {"message_id": seen})
    floor = _note("floor", f"seen{seen}", sent, await bounded(probe))

    body = f"agent says {tag}"
    # the sender's acknowledgement: its own thread shows the message
    delivered, ack = visitor.expect(carries_message(body)), agent.expect(carries_message(body))
    sent = await agent.send(rs.AGENT_CONVERSATION, "send_reply", {"form": {"body": body}})
    a2v = _note("a2v", body, sent, await bounded(delivered))
    await bounded(ack)
    await asyncio.sleep(random.uniform(0, 2 * think))

    body = f"visitor says {tag}"
    delivered, ack = agent.expect(carries_message(body)), visitor.expect(carries_message(body))
    sent = await visitor.send(rs.VISITOR, "send", {"form": {"body": body}})
    v2a = _note("v2a", body, sent, await bounded(delivered))
    await bounded(ack)
    if results is not None:
        results.floor.append(floor)
        results.agent_to_visitor.append(a2v)
        results.visitor_to_agent.append(v2a)
    await asyncio.sleep(random.uniform(0, 2 * think))


async def converse(pair: Pair, cycles: int, think: float, results: Results) -> None:
    await asyncio.sleep(random.uniform(0, 2 * think))  # stagger the conversations
    for n in range(cycles + 1):  # the first cycle warms up and is not counted
        try:
            await cycle(pair, f"c{pair.conversation_id}-{n}", think, results if n else None)
        except TimeoutError:
            results.lost += 1


async def fill_history(pair: Pair, messages: int) -> None:
    """`messages` more messages in the conversation, both ways in turn, unmeasured."""
    for n in range((messages + 1) // 2):
        await cycle(pair, f"c{pair.conversation_id}-h{n}", 0.0, None)


async def open_pair(
    base: str, visitor: rs.ReflexSocket, token: str, agent_label: str, tabs: list[rs.ReflexSocket]
) -> Pair:
    """Visitor asks for a human; the agent opens the conversation and claims it."""
    await visitor.send(rs.VISITOR, "talk_to_human")
    conversation_id: int = await visitor.wait_for(
        lambda s: rs.room(s).get("status") == "pending" and rs.room(s).get("conversation_id"),
        WAIT,
    )
    path, query = rs.conversation_path(conversation_id)
    agent = rs.ReflexSocket(base)
    tabs.append(agent)
    await agent.connect(path, query, storage=rs.staff_storage(token), timeout=WAIT)
    await agent.wait_for(lambda s: rs.room(s).get("conversation_id") == conversation_id, WAIT)
    await agent.send(rs.AGENT_CONVERSATION, "claim")
    await visitor.wait_for(lambda s: rs.room(s).get("agent_label") == agent_label, WAIT)
    await agent.wait_for(lambda s: rs.room(s).get("status") == "active", WAIT)
    return Pair(conversation_id, visitor, agent)


async def run(args: argparse.Namespace, server: AppServer, emails: list[str]) -> Results:
    base = f"http://127.0.0.1:{server.port}"
    tabs: list[rs.ReflexSocket] = []

    async def connect(path: str, storage: dict[str, str] | None = None) -> rs.ReflexSocket:
        tab = rs.ReflexSocket(base)
        tabs.append(tab)
        await tab.connect(path, storage=storage, timeout=WAIT)
        return tab

    try:
        started = time.perf_counter()
        tokens = [await rs.sign_in(base, email, PASSWORD, WAIT) for email in emails]
        queues = await gather_paced(
            args.connect_limit,
            [lambda t=t: connect("/agent", rs.staff_storage(t)) for t in tokens],  # type: ignore[misc]
        )
        for queue in queues:
            await queue.wait_for(rs.queue_loaded, WAIT)
        visitors = await gather_paced(
            args.connect_limit, [lambda: connect("/") for _ in range(args.visitors)]
        )
        print(
            f"connected {len(visitors)} visitors and {len(queues)} agent queue tabs "
            f"in {time.perf_counter() - started:.1f}s",
            flush=True,
        )

        active = min(args.active, args.visitors)
        started = time.perf_counter()
        pairs = await gather_paced(
            max(1, args.connect_limit // 4),  # claims fan out to every staff tab: go gently
            [
                lambda i=i: open_pair(  # type: ignore[misc]
                    base, visitors[i], tokens[i % len(tokens)], f"Agent {i % len(tokens)}", tabs
                )
                for i in range(active)
            ],
        )
        print(
            f"{len(pairs)} conversations handed off and claimed in "
            f"{time.perf_counter() - started:.1f}s; {len(tabs)} tabs open; measuring ...",
            flush=True,
        )

        if args.history:  # long conversations: every push then carries a full window
            started = time.perf_counter()
            await asyncio.gather(*(fill_history(p, args.history) for p in pairs))
            print(
                f"{args.history} messages exchanged in each conversation in "
                f"{time.perf_counter() - started:.1f}s",
                flush=True,
            )
        results = Results()
        cycles = max(1, math.ceil(args.messages / len(pairs)))
        started = time.perf_counter()
        print(f"measuring from {time.strftime('%H:%M:%S')}", flush=True)
        try:
            with collector_paused():
                await asyncio.wait_for(
                    asyncio.gather(*(converse(p, cycles, args.think, results) for p in pairs)),
                    timeout=args.timeout,
                )
        except TimeoutError:
            print(f"stopped measuring after --timeout {args.timeout:.0f}s", flush=True)
            results.lost += 1
        results.seconds = time.perf_counter() - started
        print(f"measured until {time.strftime('%H:%M:%S')}", flush=True)
        return results
    finally:
        await asyncio.gather(
            *(asyncio.wait_for(tab.close(), 5) for tab in tabs), return_exceptions=True
        )


def report(args: argparse.Namespace, results: Results, active: int) -> bool:
    rows = [
        ("agent -> visitor", results.agent_to_visitor),
        ("visitor -> agent", results.visitor_to_agent),
        ("floor (round trip)", results.floor),
    ]
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"\nDelivery over websockets: {args.visitors} visitors, {args.agents} agents, "
        f"{active} active conversations, 1 worker, {database}, think time ~{args.think}s; "
        f"{2 * len(results.floor) / max(results.seconds, 1e-9):.1f} messages/s delivered "
        f"over {results.seconds:.0f}s"
    )
    print(f"{'':20} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   (ms)")
    for name, values in rows:
        p50, p95, p99, top = (percentile(values, q) for q in (50, 95, 99, 100))
        print(f"{name:20} {len(values):5d} {p50:8.1f} {p95:8.1f} {p99:8.1f} {top:8.1f}")
    if results.lost:
        print(f"lost or late (> {WAIT:.0f}s) cycles: {results.lost}")
    floor99 = percentile(results.floor, 99)
    ok = results.lost == 0
    for name, values in rows[:2]:
        p99 = percentile(values, 99)
        ratio = p99 / floor99
        meets = p99 <= TARGET_P99_MS and ratio <= TARGET_RATIO
        ok = ok and meets
        low, high = ratio_interval(values, results.floor)
        print(
            f"{name}: p99 {p99:.1f} ms (target <= {TARGET_P99_MS:.0f}), "
            f"p99 / floor p99 = {ratio:.2f} (target <= {TARGET_RATIO}; "
            f"95% bootstrap interval {low:.2f}-{high:.2f}): "
            f"{'MEETS' if meets else 'MISSES'} target"
        )
        if len(values) > SHORT_RUN and len(results.floor) > SHORT_RUN:
            low, high = ratio_interval(values, results.floor, size=SHORT_RUN)
            print(f"  (a run of {SHORT_RUN} would show {low:.2f}-{high:.2f}, 95% of the time)")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.delivery",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument(
        "--messages",
        type=int,
        default=1000,
        help="messages measured in each direction (default 1000: its p99 is the tenth slowest)",
    )
    parser.add_argument(
        "--active",
        type=int,
        default=50,
        help="conversations held by agents (default 50, at most --visitors)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=2.0,
        help="mean pause in seconds before each message of a conversation (default 2.0)",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="messages exchanged in each conversation before measuring, unmeasured (default 0;"
        " 50 fills the live window, so every push then carries 50 messages)",
    )
    parser.add_argument("--connect-limit", type=int, default=20, help="sockets connecting at once")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="give up measuring after this many seconds"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on a fresh database of this PostgreSQL server (e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped afterwards; default SQLite",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--trace",
        metavar="PATH",
        help="record each stage of every message to PATH.* (the server's too); then run "
        "python -m bench.stage_report PATH",
    )
    args = parser.parse_args(argv)
    if min(args.visitors, args.agents, args.messages, args.active) < 1:
        parser.error("--visitors, --agents, --messages and --active must be at least 1")
    if args.history < 0:
        parser.error("--history must be at least 0")
    random.seed(1)

    with tempfile.TemporaryDirectory(prefix="handoff-bench-") as tmp:
        db_url = postgres.fresh_database(args.postgres) if args.postgres else ""
        try:
            results = measure(args, db_url or f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp))
        finally:
            if db_url:
                postgres.drop_database(args.postgres, db_url)
    ok = report(args, results, min(args.active, args.visitors))
    if args.trace and _traced is not None:
        with open(f"{args.trace}.client", "w") as out:
            out.writelines(f"{k}\t{key}\t{sent:.6f}\t{got:.6f}\n" for k, key, sent, got in _traced)
        print(f"stages recorded: python -m bench.stage_report {args.trace}")
    return 0 if ok or not args.check else 1


def measure(args: argparse.Namespace, db_url: str, tmp: Path) -> Results:
    """Set up the database, start the app on it, measure, stop it."""
    global _traced
    migrate(db_url)
    run_cli(db_url, "create-owner", "--email", "owner@bench.test", "--password", PASSWORD)
    emails = asyncio.run(create_agents(db_url, args.agents))
    extra_env: dict[str, str] = {}
    if args.trace:  # the worker loads bench/stage_trace/sitecustomize.py
        _traced = []
        path = os.pathsep.join(p for p in (str(STAGE_TRACE), os.environ.get("PYTHONPATH")) if p)
        extra_env = {"PYTHONPATH": path, "STAGE_TRACE": str(Path(args.trace).resolve())}
    server = start_app(
        db_url=db_url,
        log_path=tmp / "app.log",
        backend_only=True,
        port=None,
        timeout=120,
        extra_env=extra_env,
    )
    try:
        server.wait_for_log(MODEL_READY)  # measure a warm server, not its start-up
        return asyncio.run(run(args, server, emails))
    except BaseException:
        print(f"benchmark failed; app log tail:\n{server.log_tail(40)}", file=sys.stderr)
        raise
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
