"""The AI bot: retrieval, the offline litellm provider, replies. No reflex here."""

import os

# litellm fetches a model cost map over the network at import unless told to use its local copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# numpy's BLAS: one thread (see bot/embeddings.py); must be set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
