"""A scripted OpenAI-compatible chat server on loopback: a real provider route for litellm.

Each request takes the next step of the script (then `default`): stream a text answer, stream
a tool call, answer with an HTTP error, go silent before answering, or stall in the middle of a
stream. Every request body is kept, so tests assert what litellm sent.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Step:
    kind: str  # text | tool | status | sleep | stall
    text: str = ""
    reason: str = ""
    status: int = 200
    seconds: float = 0.0


def text(answer: str, per_word: float = 0.0) -> Step:
    """A streamed answer; `per_word` seconds between words (a slow model)."""
    return Step("text", text=answer, seconds=per_word)


def tool_call(reason: str) -> Step:
    return Step("tool", reason=reason)


def status(code: int) -> Step:
    return Step("status", status=code)


def silent(seconds: float) -> Step:
    return Step("sleep", seconds=seconds)


def stall(first_words: str, seconds: float) -> Step:
    return Step("stall", text=first_words, seconds=seconds)


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class _Chunked:
    """HTTP/1.1 chunked transfer encoding: a body cut off before its last chunk is an error
    the client sees (unlike a plain close, which ends a body legitimately)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def write(self, data: bytes) -> None:
        self.raw.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.raw.flush()

    def flush(self) -> None:
        self.raw.flush()

    def end(self) -> None:
        self.raw.write(b"0\r\n\r\n")
        self.raw.flush()


@dataclass
class OpenAIServer:
    script: list[Step] = field(default_factory=list)
    default: Step = field(default_factory=lambda: text("Default answer from the test server."))
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                step = server.script.pop(0) if server.script else server.default
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    server._answer(self, step)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def _answer(self, handler: BaseHTTPRequestHandler, step: Step) -> None:
        if step.kind == "sleep":
            time.sleep(step.seconds)
            step = text("Too late.")
        if step.kind == "status":
            payload = json.dumps({"error": {"message": f"test error {step.status}"}}).encode()
            handler.send_response(step.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Connection", "close")
        handler.end_headers()
        out = _Chunked(handler.wfile)
        out.write(_chunk({"role": "assistant", "content": ""}))
        if step.kind == "tool":
            call = {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "escalate_to_human", "arguments": ""},
            }
            out.write(_chunk({"tool_calls": [call]}))
            arguments = json.dumps({"reason": step.reason})
            for piece in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
                out.write(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
            out.write(_chunk({}, finish="tool_calls"))
        else:
            for word in step.text.split(" "):
                out.write(_chunk({"content": word + " "}))
                out.flush()
                if step.kind == "text" and step.seconds:
                    time.sleep(step.seconds)
            if step.kind == "stall":
                time.sleep(step.seconds)
                return  # no last chunk: the body is cut off, a broken stream
            out.write(_chunk({}, finish="stop"))
        out.write(b"data: [DONE]\n\n")
        out.end()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
