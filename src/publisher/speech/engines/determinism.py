"""Deterministic Piper: the model's random noise replaced by slices of one fixed noise tensor.

A VITS voice draws noise inside the ONNX graph (RandomNormalLike nodes), so the same sentence
sounds slightly different on every call and no cache or reproducible build is possible;
`onnxruntime.set_seed` does not reach those nodes. Replacing each RandomNormalLike with a slice of
a constant standard-normal tensor, cut to the shape of the node's input (and repeated first if
the input is longer than the tensor), keeps the voice's usual variety inside a sentence while
making every call with the same text give the same samples, in any order and in any process.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from publisher.files import own_file, write_note

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
    info = model.stat()
    resolved = model.resolve()
    if memo is None:
        return _digest(resolved, info.st_size, info.st_mtime_ns)
    tag = hashlib.sha256(f"{resolved}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()[:24]
    note = memo / f"{model.stem}.{tag}.sha256"
    try:
        known = note.read_text(encoding="ascii").strip() if own_file(note) else ""
        if len(known) == 64:
            return known
    except OSError:
        pass
    digest = _digest(resolved, info.st_size, info.st_mtime_ns)
    write_note(note, digest.encode("ascii"))  # a read-only cache: hash again next time
    return digest


# The patch is made on the model's protobuf encoding directly (no ONNX library, no full parse of
# the 63 MB model: 0.1 s instead of 0.5 s): fields are (tag, value) pairs, a tag being
# field number << 3 | wire type, and a message's repeated fields may be written in any order.
_WIRE_GRAPH = 7  # ModelProto.graph
_WIRE_NODE, _WIRE_INITIALIZER = 1, 5  # GraphProto.node, GraphProto.initializer
_WIRE_INPUT, _WIRE_OUTPUT, _WIRE_NAME, _WIRE_OP_TYPE = 1, 2, 3, 4  # NodeProto
_WIRE_DIMS, _WIRE_DATA_TYPE, _WIRE_TENSOR_NAME = 1, 2, 8  # TensorProto
_WIRE_RAW_DATA, _WIRE_EXTERNAL_DATA, _WIRE_DATA_LOCATION = 9, 13, 14  # TensorProto
_WIRE_KEY, _WIRE_VALUE = 1, 2  # StringStringEntryProto
#: tensors this big or bigger are kept beside the graph, in its data file (the ONNX library's default)
EXTERNAL_MIN_BYTES = 1024
_ONNX_TYPES = {"<f4": 1, "<i8": 7}  # TensorProto.DataType FLOAT, INT64


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_varint(data: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("the model file is truncated")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(data: memoryview, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Each field of the message encoded in data[start:end]: (number, where its tag starts, where
    its value starts, where it ends)."""
    pos = start
    while pos < end:
        tag_at = pos
        key, pos = _read_varint(data, pos)
        wire = key & 7
        if wire == 0:  # varint
            value_at = pos
            _, pos = _read_varint(data, pos)
        elif wire in (1, 5):  # fixed 64 or 32 bits
            value_at, pos = pos, pos + (8 if wire == 1 else 4)
        elif wire == 2:  # length-delimited
            length, value_at = _read_varint(data, pos)
            pos = value_at + length
        else:
            raise ValueError(f"not an ONNX model (protobuf wire type {wire})")
        if pos > end:
            raise ValueError("the model file is truncated")
        yield key >> 3, tag_at, value_at, pos


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _strings(data: memoryview, start: int, end: int, number: int) -> list[str]:
    return [bytes(data[v:e]).decode() for n, _, v, e in _fields(data, start, end) if n == number]


def _node(op: str, inputs: list[str], output: str, prefix: str) -> bytes:
    body = b"".join([
        *(_field(_WIRE_INPUT, name.encode()) for name in inputs),
        _field(_WIRE_OUTPUT, output.encode()),
        _field(_WIRE_NAME, f"{prefix}_{op}".encode()),
        _field(_WIRE_OP_TYPE, op.encode()),
    ])  # fmt: skip
    return _field(_WIRE_NODE, body)


def _tensor(name: str, array: Any) -> bytes:
    """A TensorProto initializer with its data inline (little-endian raw_data)."""
    body = b"".join([
        *(_varint(_WIRE_DIMS << 3) + _varint(dim) for dim in array.shape),
        _varint(_WIRE_DATA_TYPE << 3) + _varint(_ONNX_TYPES[array.dtype.str]),
        _field(_WIRE_TENSOR_NAME, name.encode()),
        _field(_WIRE_RAW_DATA, array.tobytes()),
    ])  # fmt: skip
    return _field(_WIRE_INITIALIZER, body)


def _replacement(data: memoryview, start: int, end: int) -> list[bytes]:
    """The nodes standing in for one RandomNormalLike node: repeats = ceil(shape / NOISE_SHAPE),
    element by element; the fixed noise tiled that many times, then cut to the input's shape."""
    source = _strings(data, start, end, _WIRE_INPUT)[0]
    output = _strings(data, start, end, _WIRE_OUTPUT)[0]
    name = (_strings(data, start, end, _WIRE_NAME) or [output])[0] + "_publisher"
    return [
        _node("Shape", [source], f"{name}_shape", name),
        _node("Add", [f"{name}_shape", "publisher_noise_shape_less_1"], f"{name}_up", name),
        _node("Div", [f"{name}_up", "publisher_noise_shape"], f"{name}_repeats", name),
        _node("Tile", ["publisher_fixed_noise", f"{name}_repeats"], f"{name}_tiled", name),
        _node("Slice", [f"{name}_tiled", "publisher_noise_starts", f"{name}_shape"], output, name),
    ]


def _external(
    field: memoryview, location: str, data: list[bytes | memoryview], offset: int
) -> tuple[bytes | memoryview, int]:
    """An initializer (a GraphProto field) with its raw data moved to the end of `data`, which
    holds `offset` bytes so far, and pointed at there; a small one as it is."""
    _, _, start, end = next(_fields(field, 0, len(field)))
    kept: list[bytes | memoryview] = []
    raw = None
    for number, tag, value_at, stop in _fields(field, start, end):
        if number == _WIRE_RAW_DATA:
            raw = field[value_at:stop]
        else:
            kept.append(field[tag:stop])
    if raw is None or len(raw) < EXTERNAL_MIN_BYTES:
        return field, offset
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(len(raw)))):
        kept.append(_field(_WIRE_EXTERNAL_DATA, _field(_WIRE_KEY, key.encode()) + _field(_WIRE_VALUE, value.encode())))
    kept.append(_varint(_WIRE_DATA_LOCATION << 3) + _varint(1))  # EXTERNAL
    data.append(raw)
    return _field(_WIRE_INITIALIZER, b"".join(kept)), offset + len(raw)


def _patched_parts(
    encoded: bytes, data_file: str | None = None
) -> tuple[list[bytes | memoryview], list[bytes | memoryview]]:
    """The patched model's encoding in pieces (written out or joined without copying the
    original's 63 MB more than once), and with `data_file` the pieces of that file, which then
    holds every tensor of EXTERNAL_MIN_BYTES or more (onnxruntime maps it instead of parsing it:
    the joe voice loads in 0.07 s instead of 0.17 s)."""
    import numpy as np

    data = memoryview(encoded)
    graphs = [(tag, start, end) for number, tag, start, end in _fields(data, 0, len(data)) if number == _WIRE_GRAPH]
    if len(graphs) != 1:
        raise ValueError("not an ONNX model (it has no graph)")
    graph_tag, graph_start, graph_end = graphs[0]
    body: list[bytes | memoryview] = []
    replaced = 0
    for number, tag, start, end in _fields(data, graph_start, graph_end):
        if (
            number == _WIRE_NODE
            and b"RandomNormalLike" in bytes(data[start:end])  # a quick look first: 3 nodes of 2,761
            and _strings(data, start, end, _WIRE_OP_TYPE) == ["RandomNormalLike"]
        ):
            body += _replacement(data, start, end)
            replaced += 1
        else:
            body.append(data[tag:end])
    if replaced == 0:
        log.info("the model has no RandomNormalLike node: it is deterministic already")
    noise = np.random.default_rng(NOISE_SEED).standard_normal(NOISE_SHAPE, dtype=np.float32).astype("<f4")
    shape = np.array(NOISE_SHAPE, dtype="<i8")
    body += [
        _tensor("publisher_fixed_noise", noise),
        _tensor("publisher_noise_shape", shape),
        _tensor("publisher_noise_shape_less_1", shape - 1),
        _tensor("publisher_noise_starts", np.zeros(3, dtype="<i8")),
    ]
    outside: list[bytes | memoryview] = []
    if data_file is not None:
        offset = 0
        for n, part in enumerate(body):
            view = memoryview(part)
            if next(_fields(view, 0, len(view)))[0] == _WIRE_INITIALIZER:
                body[n], offset = _external(view, data_file, outside, offset)
    size = sum(len(part) for part in body)
    return [data[:graph_tag], _varint(_WIRE_GRAPH << 3 | 2) + _varint(size), *body, data[graph_end:]], outside


def patched_graph(model: Path) -> bytes:
    """`model` with its noise fixed, encoded in one piece (an ONNX model onnxruntime can load
    from bytes)."""
    return b"".join(_patched_parts(model.read_bytes())[0])


def load_options() -> Any:
    """onnxruntime session options for a model made by `prepared_model`: loaded as it is, without
    onnxruntime's graph optimizations, which took 0.2–0.3 s of the joe voice's 0.4–0.5 s load and
    do not make it speak any faster (measured on the seed's text: 11.6–11.9 s with one thread and
    6.6–7.5 s with two, optimized or not, in interleaved runs). A graph optimized differently would
    give slightly different samples: this one setting is used for every session."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    return options


@functools.lru_cache(maxsize=16)
def _file_digest(path: Path, identity: tuple[int, ...]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _content(path: Path) -> str:
    """SHA-256 of a file, hashed once per process while it is unchanged (same inode, size, and
    change time, which no one can set back)."""
    info = path.stat()
    return _file_digest(path, (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))


def _identity(path: Path) -> list[int]:
    """What changes whenever a file's content does (ctime cannot be set back): device, inode, size,
    modification and change times."""
    info = path.lstat()
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _verified(target: Path, tensors: Path, record: Path) -> bool:
    """Whether a prepared model found in the cache is the one this publisher made there: three
    regular files of this user, the graph and its tensors hashing to what the record says, or
    still the very files (`_identity`) the record says were hashed and found whole before (which
    saves hashing 63 MB, 0.1-0.2 s, on every run that loads the voice)."""
    if not all(own_file(p) for p in (target, tensors, record)):
        return False
    try:
        expected = json.loads(record.read_text(encoding="ascii"))
        if not isinstance(expected, dict):
            return False
        if expected.get("seen") == [_identity(target), _identity(tensors)]:
            return True
        sums = {"graph": expected.get("graph"), "data": expected.get("data")}
        return bool(sums == {"graph": _content(target), "data": _content(tensors)})
    except (OSError, ValueError):
        return False


def _reused(target: Path, tensors: Path, record: Path) -> None:
    """A verified prepared model is used: its files' times are brought forward (`cache prune`
    keeps what was used) when more than an hour old, and the record notes the files it vouches
    for, so the next run need not hash them again."""
    with contextlib.suppress(OSError, ValueError):
        hour_ago = time.time() - 3600
        if any(p.stat().st_mtime < hour_ago for p in (target, tensors, record)):
            for path in (target, tensors, record):
                os.utime(path)
        expected = json.loads(record.read_text(encoding="ascii"))
        if expected.get("seen") != [_identity(target), _identity(tensors)]:
            _write_record(record, expected["graph"], expected["data"], target, tensors)


def _write_record(record: Path, graph: str, data: str, target: Path, tensors: Path) -> None:
    """The record of a prepared model: the SHA-256 of its graph and tensors files, and those files'
    identities as they are now (seen whole: `_verified` trusts them until they change)."""
    seen = [_identity(target), _identity(tensors)]
    _replace(record, [json.dumps({"graph": graph, "data": data, "seen": seen}, sort_keys=True).encode()])


def prepared_model(model: Path, cache_dir: Path) -> Path:
    """The deterministic model, made once and then kept in `cache_dir/models` (0.2 s for the joe
    voice here), keyed by the model's content and the patch: a small graph file, beside it (same
    name + ".data") its tensors, and (+ ".sha256") the SHA-256 of both. Found again, it is reused
    only if its files are this user's regular files with those digests (or the very files found
    with them before: `_verified`); otherwise it is made again."""
    digest = model_digest(model, cache_dir / "models")
    key = f"{digest}:{PATCH_VERSION}:{NOISE_SEED}:{NOISE_SHAPE}:{EXTERNAL_MIN_BYTES}"
    target = cache_dir / "models" / f"{model.stem}.{hashlib.sha256(key.encode()).hexdigest()[:16]}.onnx"
    tensors = target.with_name(target.name + ".data")
    record = target.with_name(target.name + ".sha256")
    if _verified(target, tensors, record):
        _reused(target, tensors, record)
        return target
    if any(p.exists() or p.is_symlink() for p in (target, tensors)):
        log.warning("%s does not hold the prepared voice model this publisher made; making it again", target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    graph, outside = _patched_parts(model.read_bytes(), tensors.name)
    for dest, parts in ((tensors, outside), (target, graph)):
        _replace(dest, parts)
    # hashed as written, not read back; the record last: it says the files are whole
    _write_record(record, _parts_digest(graph), _parts_digest(outside), target, tensors)
    return target


def _parts_digest(parts: list[bytes | memoryview]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def _replace(dest: Path, parts: list[bytes | memoryview]) -> None:
    """Write `parts` into a new file (made exclusively: no planted link is followed) and rename it to `dest`."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(parts)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
