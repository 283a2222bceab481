"""Values kept in a session for as long as its current transaction lasts (`session.info`).

Keyed by the transaction, referenced weakly: a transaction object references its session, so
a strong reference to it from the session's own `info` made every write transaction a
reference cycle (the session, the transaction, its connection and all that hangs off them,
some fifty objects) that only the cyclic garbage collector could free, in pauses of 10-15 ms
on the event loop under the delivery benchmark's load.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession


def current(session: AsyncSession, key: str) -> Any | None:
    """What `keep` stored under `key` in this session's current transaction (None: nothing,
    or it was stored in an earlier transaction, or no transaction is open)."""
    held = session.info.get(key)
    transaction = session.sync_session.get_transaction()  # None before the first statement
    if held is None or transaction is None or held[0]() is not transaction:
        return None
    return held[1]


def keep(session: AsyncSession, key: str, value: Any) -> None:
    """Store `value` under `key` for the session's current transaction (one must be open)."""
    transaction = session.sync_session.get_transaction()
    assert transaction is not None, "keep() needs an open transaction"
    session.info[key] = (weakref.ref(transaction), value)
