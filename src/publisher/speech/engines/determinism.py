"""Deterministic Piper: the model's random noise replaced by slices of one fixed noise tensor.

A VITS voice draws noise inside the ONNX graph (RandomNormalLike nodes), so the same sentence
sounds slightly different on every call and no cache or reproducible build is possible;
`onnxruntime.set_seed` does not reach those nodes. Replacing each RandomNormalLike with a slice of
a constant standard-normal tensor, cut to the shape of the node's input (and repeated first if
the input is longer than the tensor), keeps the voice's usual variety inside a sentence while
making every call with the same text give the same samples, in any order and in any process.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

NOISE_SEED = 20261126
#: [batch, channels, frames]: 8,192 frames of 256 samples at 22,050 Hz ≈ 95 s, more than any chunk
#: of MAX_CHUNK characters takes to say; a longer input gets the tensor repeated (Tile)
NOISE_SHAPE = (1, 192, 8192)
#: 2: the noise drawn in float32 and 8,192 frames long, tiled (was 40,000 frames drawn in float64:
#: 30 MB more to write and parse, 0.3 s more to prepare the model)
PATCH_VERSION = "2"


@functools.lru_cache(maxsize=8)
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_digest(model: Path, memo: Path | None = None) -> str:
    """SHA-256 of a model file (remembered per path, size and modification time: in this process,
    and in the folder `memo` when given, which saves hashing 63 MB on every run)."""
    stat = model.stat()
    resolved = model.resolve()
    if memo is None:
        return _digest(resolved, stat.st_size, stat.st_mtime_ns)
    tag = hashlib.sha256(f"{resolved}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:24]
    note = memo / f"{model.stem}.{tag}.sha256"
    try:
        known = note.read_text(encoding="ascii").strip()
        if len(known) == 64:
            return known
    except OSError:
        pass
    digest = _digest(resolved, stat.st_size, stat.st_mtime_ns)
    try:
        memo.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=memo, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(digest)
        os.replace(tmp, note)
    except OSError:
        pass  # a read-only cache: hash again next time
    return digest


def patched_graph(model: Path) -> bytes:
    """`model` with its noise fixed, serialized (an ONNX model onnxruntime can load from bytes)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    graph_model = onnx.load(str(model))
    graph = graph_model.graph
    noise = np.random.default_rng(NOISE_SEED).standard_normal(NOISE_SHAPE, dtype=np.float32)
    graph.initializer.extend([
        numpy_helper.from_array(noise, "publisher_fixed_noise"),
        numpy_helper.from_array(np.array(NOISE_SHAPE, dtype=np.int64), "publisher_noise_shape"),
        numpy_helper.from_array(np.array(NOISE_SHAPE, dtype=np.int64) - 1, "publisher_noise_shape_less_1"),
        numpy_helper.from_array(np.zeros(3, dtype=np.int64), "publisher_noise_starts"),
    ])  # fmt: skip
    replaced = 0
    for node in list(graph.node):
        if node.op_type != "RandomNormalLike":
            continue
        name = f"{node.name}_publisher"

        # repeats = ceil(shape / NOISE_SHAPE), element by element; then tile, then cut to shape
        def node_(op: str, inputs: list[str], output: str, name: str = name) -> Any:
            return helper.make_node(op, inputs, [output], name=f"{name}_{op}")

        new_nodes = [
            node_("Shape", [node.input[0]], f"{name}_shape"),
            node_("Add", [f"{name}_shape", "publisher_noise_shape_less_1"], f"{name}_up"),
            node_("Div", [f"{name}_up", "publisher_noise_shape"], f"{name}_repeats"),
            node_("Tile", ["publisher_fixed_noise", f"{name}_repeats"], f"{name}_tiled"),
            node_("Slice", [f"{name}_tiled", "publisher_noise_starts", f"{name}_shape"], node.output[0]),
        ]
        position = list(graph.node).index(node)
        graph.node.remove(node)
        for offset, new in enumerate(new_nodes):
            graph.node.insert(position + offset, new)
        replaced += 1
    if replaced == 0:
        log.info("%s has no RandomNormalLike node: it is deterministic already", model.name)
    return bytes(graph_model.SerializeToString())


def load_options() -> Any:
    """onnxruntime session options for a model made by `prepared_model`: loaded as it is, without
    onnxruntime's graph optimizations, which take 0.2–0.3 s of the joe voice's 0.4–0.5 s load and
    do not make it speak any faster (measured on the seed's text: 11.6–11.9 s with one thread and
    6.6–7.5 s with two, optimized or not, in interleaved runs). A graph optimized differently would
    give slightly different samples: this one setting is used for every session."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    return options


def prepared_model(model: Path, cache_dir: Path) -> Path:
    """The deterministic model, made once and then kept in `cache_dir/models` (0.3 s for the joe
    voice here), keyed by the model's content and the patch."""
    digest = model_digest(model, cache_dir / "models")
    key = f"{digest}:{PATCH_VERSION}:{NOISE_SEED}:{NOISE_SHAPE}"
    target = cache_dir / "models" / f"{model.stem}.{hashlib.sha256(key.encode()).hexdigest()[:16]}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp.onnx")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(patched_graph(model))
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target
