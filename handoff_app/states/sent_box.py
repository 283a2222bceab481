"""Emptying a message box once the message it held is stored.

The sender's handler answers a moment after Enter (the message is committed first). Emptying
the box unconditionally then wiped whatever the person had typed meanwhile: a browser test
that sent 20 replies as fast as the page took them lost 5, each overwritten by a late clear
before its own Enter. The box is now emptied only if it still holds the text that was sent,
and whatever mirrors the box in the browser (the agent's "/" menu draft) is then set from what
the box holds, not to empty: text typed meanwhile keeps its menu.
"""

from __future__ import annotations

import json

import reflex as rx
from reflex.event import EventSpec
from reflex.vars.base import Var


def clear_sent(box_id: str, sent: str) -> EventSpec:
    """Empty the element `box_id` if its value is still `sent`."""
    script = (
        f"(() => {{ const box = document.getElementById({json.dumps(box_id)});"
        f" if (box && box.value === {json.dumps(sent)}) box.value = ''; }})()"
    )
    return rx.call_script(script)


def box_value(box_id: str) -> Var[str]:
    """What the element `box_id` holds when the event runs in the browser ('' without it)."""
    return Var(_js_expr=f"(document.getElementById({json.dumps(box_id)})?.value ?? '')").to(str)
