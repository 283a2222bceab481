"""Command line: `python -m handoff_app create-owner --email E --password P` (and create-agent,
migrate, seed-demo, live-support on|off, makemigrations, judge)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from handoff_app.db import dispose_engines, open_session
from handoff_app.domain.keywords import DEFAULT_HANDOFF_KEYWORDS
from handoff_app.migrations import make_revision, upgrade_to_head
from handoff_app.services.errors import ServiceError
from handoff_app.services.knowledge import ensure_article_embeddings, seed_demo_knowledge
from handoff_app.services.staff import create_staff
from handoff_app.services.workspace import ensure_workspace_settings, update_settings


async def _create_staff(email: str, password: str, name: str, role: str) -> int:
    try:
        async with open_session() as session:
            created = await create_staff(
                session=session, email=email, password=password, role=role, display_name=name
            )
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        await dispose_engines()
    print(f"{role.capitalize()} {created.email} created. Sign in at /login.")
    return 0


async def _ensure_settings() -> int:
    async with open_session() as session:
        await ensure_workspace_settings(session=session)
    await dispose_engines()
    return 0


async def _seed_demo() -> int:
    async with open_session() as session:
        added = await seed_demo_knowledge(session=session)
        embedded = await ensure_article_embeddings(session)  # articles saved before embeddings
        if added:  # a brand-new demo workspace: live support on so handoffs work at once
            await update_settings(
                session=session, live_support_enabled=True, widget_title="Northwind Goods"
            )
    await dispose_engines()
    print(
        f"Demo knowledge base: {added} articles added; live support switched on "
        "(turn it off in /settings)."
        if added
        else "Knowledge base already has articles; left as is."
    )
    if embedded:
        print(f"Embeddings computed for {embedded} knowledge articles.")
    return 0


async def _live_support(enabled: bool) -> int:
    async with open_session() as session:
        await update_settings(session=session, live_support_enabled=enabled)
    await dispose_engines()
    print(f"Live support is {'on' if enabled else 'off'}.")
    return 0


async def _judge(keywords: Sequence[str], topics: Sequence[str], model: str) -> int:
    """One JSON line out per JSON line in: would this first message escalate?"""
    from handoff_app.bot.judge import DEMO_PASSAGES, judge_first_message

    failed = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
            if not isinstance(text, str):
                raise TypeError("text must be a string")
        except (ValueError, KeyError, TypeError) as exc:
            failed += 1
            print(json.dumps({"error": f'expected {{"text": "..."}}: {exc}'}), flush=True)
            continue
        judgment = await judge_first_message(
            text, keywords=keywords, sensitive_topics=topics, model=model, articles=DEMO_PASSAGES
        )
        print(json.dumps(judgment.as_json()), flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff_app")
    sub = parser.add_subparsers(dest="command", required=True)
    for role in ("owner", "agent"):
        account = sub.add_parser(f"create-{role}", help=f"create an {role} account")
        account.add_argument("--email", required=True)
        account.add_argument("--password", required=True)
        account.add_argument("--name", default="")
    sub.add_parser("migrate", help="apply database migrations (REFLEX_DB_URL)")
    sub.add_parser(
        "seed-demo", help="add the demo knowledge base when it is empty (and live support on)"
    )
    live = sub.add_parser("live-support", help="switch live support (handoffs to staff) on or off")
    live.add_argument("state", choices=["on", "off"])
    revision = sub.add_parser("makemigrations", help="autogenerate a migration from the models")
    revision.add_argument("--message", required=True)
    judge = sub.add_parser(
        "judge",
        help='judge messages ({"text": ...} JSON lines on stdin) as first messages: would they '
        "hand off? (default settings; no database)",
    )
    judge.add_argument(
        "--keyword",
        action="append",
        help="a handoff keyword (repeat; default: the default keywords)",
    )
    judge.add_argument(
        "--topic", action="append", default=[], help="a sensitive topic (repeat; default: none)"
    )
    judge.add_argument("--model", default="local/kb", help="litellm model string")
    args = parser.parse_args(argv)
    if args.command in ("create-owner", "create-agent"):
        role = args.command.removeprefix("create-")
        return asyncio.run(_create_staff(args.email, args.password, args.name, role))
    if args.command == "migrate":
        upgrade_to_head()
        return asyncio.run(_ensure_settings())
    if args.command == "seed-demo":
        return asyncio.run(_seed_demo())
    if args.command == "live-support":
        return asyncio.run(_live_support(args.state == "on"))
    if args.command == "judge":
        keywords = args.keyword if args.keyword is not None else DEFAULT_HANDOFF_KEYWORDS
        return asyncio.run(_judge(keywords, args.topic, args.model))
    if args.command == "makemigrations":
        make_revision(args.message)
        return 0
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
