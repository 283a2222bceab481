"""Message bodies as sanitised markdown (bold, italics, links, lists, code).

react-markdown renders the text WITHOUT rehype-raw (Reflex's `rx.markdown` adds it by default:
it is left out here), so HTML inside a message is shown as text, never parsed. Every URL goes
through `domain.markdown.SAFE_URL_PATTERN`; a link that fails it is shown as its text only.
Links open in a new tab with rel="noopener noreferrer nofollow". Images show their alt text.
No math plugin: "$5 or $10" is money, not LaTeX.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from reflex_base.vars.base import Var
from reflex_components_core.el.elements.inline import A

from handoff_app.domain.markdown import ALLOWED_ELEMENTS, LINK_REL, SAFE_URL_PATTERN

_HREF: Var[str] = Var(_js_expr="props.href", _var_type=str)
_ALT: Var[str] = Var(_js_expr="props.alt", _var_type=str)
# react-markdown calls this on every URL attribute (href, src, cite, ...)
_URL_TRANSFORM: Var[Any] = Var(
    _js_expr=(f"((url) => (new RegExp({json.dumps(SAFE_URL_PATTERN)}, 'i')).test(url) ? url : '')")
)


def _link(value: Any, **_props: Any) -> rx.Component:
    # the outer span receives react-markdown's props (href, title): inert on a span
    return rx.el.span(
        rx.cond(
            _HREF,
            # a plain <a> (rx.el.a is a React Router link, for in-app navigation)
            A.create(
                value,
                href=_HREF,
                target="_blank",
                rel=LINK_REL,
                custom_attrs={"data-testid": "message-link"},
            ),
            value,
        )
    )


def _image(_value: Any, **_props: Any) -> rx.Component:
    return rx.el.span("[image: ", _ALT, "]")


def _heading(value: Any, **_props: Any) -> rx.Component:
    return rx.el.p(rx.el.strong(value))


def _pre(value: Any, **_props: Any) -> rx.Component:
    return rx.el.pre(rx.el.code(value))


_COMPONENT_MAP: dict[str, Any] = {
    "a": _link,
    "img": _image,
    "p": lambda value, **_: rx.el.p(value),
    "ul": lambda value, **_: rx.el.ul(value),
    "ol": lambda value, **_: rx.el.ol(value),
    "li": lambda value, **_: rx.el.li(value),
    "code": lambda value, **_: rx.el.code(value),
    "pre": _pre,
    **{f"h{level}": _heading for level in range(1, 7)},
}

# Compact spacing for chat bubbles; colours follow the bubble (white text on the sender's own).
_STYLE: dict[str, Any] = {
    "white_space": "normal",
    "font_size": "var(--font-size-2)",
    "line_height": "1.45",
    "& p, & ul, & ol, & pre, & blockquote, & table, & hr": {"margin": "0.45em 0 0"},
    "& p": {"white_space": "pre-line"},
    "& > :first-child": {"margin_top": "0"},  # beats the rule above: (0,2,0) > (0,1,1)
    "& ul, & ol": {"padding_left": "1.4em"},
    "& ul": {"list_style_type": "disc"},
    "& ol": {"list_style_type": "decimal"},
    "& li + li": {"margin_top": "0.15em"},
    "& li > p": {"margin": "0"},
    "& a": {"color": "inherit", "text_decoration": "underline", "font_weight": "500"},
    "& code": {
        "font_family": "var(--code-font-family, ui-monospace, monospace)",
        "font_size": "0.9em",
        "padding": "0.05em 0.3em",
        "border_radius": "4px",
        "background": "rgba(127, 127, 127, 0.18)",
    },
    "& pre": {
        "padding": "0.5em 0.7em",
        "border_radius": "8px",
        "background": "rgba(127, 127, 127, 0.16)",
        "overflow_x": "auto",
        "white_space": "pre",
    },
    "& pre code": {"padding": "0", "background": "transparent"},
    "& blockquote": {
        "padding_left": "0.7em",
        "border_left": "3px solid rgba(127, 127, 127, 0.4)",
    },
    "& table": {"border_collapse": "collapse"},
    "& th, & td": {"border": "1px solid rgba(127, 127, 127, 0.35)", "padding": "0.15em 0.4em"},
}


def message_markdown(body: Any) -> rx.Component:
    """One message body, rendered as sanitised markdown."""
    return rx.box(
        rx.markdown.root(
            body,
            component_map=_COMPONENT_MAP,
            remark_plugins=[rx.markdown.plugin.gfm],
            rehype_plugins=[],
            custom_attrs={
                "urlTransform": _URL_TRANSFORM,
                "allowedElements": list(ALLOWED_ELEMENTS),
                "unwrapDisallowed": True,
                "skipHtml": False,
            },
        ),
        class_name="message-markdown",
        style=_STYLE,
    )
