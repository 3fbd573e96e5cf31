"""A helper process that speaks every sentence with eSpeak NG from the same starting state.

libespeak-ng keeps state from one utterance to the next that neither espeak_Initialize nor
espeak_ng_SetRandSeed resets (the pitch "flutter" position, a function-local static in
wavegen.c, and a cycle counter): the same sentence gives different samples depending on what was
said before it in the process (measured: "Hello world." four times in a row gave four different
clips, 33,414–33,426 bytes). The narration cache and reproducible builds need a clip to depend on
its text only. So this process loads the library and selects voices but never speaks itself: for
each sentence it forks a child, which starts from that untouched state, speaks, sends the samples
back through a pipe and exits.

Protocol on stdin/stdout (binary): a request is one line "VOICE WPM SIZE\\n" and SIZE bytes of
UTF-8 text; the answer is one line "STATUS SIZE\\n" and SIZE bytes (16-bit PCM when STATUS is 0,
else an error message).

    python -m publisher.speech.engines.espeak_worker
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Any, BinaryIO

from publisher.errors import EngineError
from publisher.speech.engines.espeak import _CALLBACK, _CHARS_UTF8, _POS_CHARACTER, _RATE, _library


def _speak(lib: Any, text: bytes, wpm: int) -> tuple[int, bytes]:
    buf = bytearray()

    @_CALLBACK
    def collect(wav: Any, count: int, _events: Any) -> int:
        if count > 0:
            buf.extend(ctypes.string_at(wav, count * 2))
        return 0

    data = ctypes.create_string_buffer(text)
    lib.espeak_SetSynthCallback(collect)
    lib.espeak_SetParameter(_RATE, wpm, 0)
    status = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
    return status, bytes(buf)


def _in_child(lib: Any, text: bytes, wpm: int, out: int) -> None:
    """Speak in a forked child and write STATUS, then the samples, to `out`; never returns."""
    code = 1
    try:
        status, pcm = _speak(lib, text, wpm)
        with os.fdopen(out, "wb") as pipe:
            pipe.write(status.to_bytes(4, "little", signed=True) + pcm)
        code = 0
    finally:
        os._exit(code)


def _answer(stdout: BinaryIO, status: int, payload: bytes) -> None:
    stdout.write(f"{status} {len(payload)}\n".encode() + payload)
    stdout.flush()


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer requests until stdin closes."""
    try:
        lib, _rate = _library()
    except EngineError as exc:
        _answer(stdout, -1, exc.message.encode())
        return
    voice = b""
    while header := stdin.readline():
        wanted, wpm, size = header.split()
        text = stdin.read(int(size))
        if wanted != voice:
            if lib.espeak_SetVoiceByName(wanted) != 0:
                _answer(stdout, -2, b"eSpeak NG has no voice " + wanted)
                continue
            voice = wanted
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            _in_child(lib, text, int(wpm), write)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            reply = pipe.read()
        _, exit_status = os.waitpid(pid, 0)
        if exit_status != 0 or len(reply) < 4:
            _answer(stdout, -3, b"the eSpeak NG helper's child failed (exit status %d)" % exit_status)
            continue
        _answer(stdout, int.from_bytes(reply[:4], "little", signed=True), reply[4:])


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the publisher that started this helper decides what
    # stops (it closes our stdin, and we end); the helper itself stays quiet
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(sys.stdin.buffer, sys.stdout.buffer)
