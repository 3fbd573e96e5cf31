"""The command line: click commands only. Library errors become one line and an exit code here."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from publisher import __version__
from publisher.cli_cache import cache
from publisher.cli_progress import Report
from publisher.cli_studio import studio, user
from publisher.errors import BatchError, PublisherError, ValidationError
from publisher.settings import Settings, load_settings

log = logging.getLogger("publisher")


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if not verbose:
        for noisy in ("piper", "onnxruntime", "urllib3", "gtts"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


class PublisherGroup(click.Group):
    """Turns PublisherError into one line on stderr and its exit code (traceback with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PublisherError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing half-written was kept", err=True)
            ctx.exit(130)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: one line, not a traceback (unless --debug)
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(
                f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback; please report it)",
                err=True,
            )
            ctx.exit(PublisherError.exit_code)


@click.group(cls=PublisherGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="publisher")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("-v", "--verbose", count=True, help="Say more about what is happening.")
@click.option("-q", "--quiet", is_flag=True, help="Only print errors.")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Settings file (default: ./publisher.toml if present).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int, quiet: bool, config: Path | None) -> None:
    """Publish text sources as accessible EPUB 3 books and narrated MP3 chapters.

    \b
    Example:
      publisher publish sources/ --output output/
    """
    _setup_logging(2 if debug else verbose, quiet)
    ctx.ensure_object(dict)
    ctx.obj.update(debug=debug, quiet=quiet, config=config)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder [default: output].",
)
@click.option("-e", "--engine", help="Speech engine: piper (default), espeak, gtts, silent.")
@click.option(
    "--voice", help="Engine voice: Piper .onnx path or voice name, eSpeak voice or language (en-GB), gTTS language."
)
@click.option(
    "--voice-dir",
    "voices_dir",
    type=click.Path(path_type=Path),
    help="Folder of Piper voices (NAME.onnx + NAME.onnx.json).",
)
@click.option("--speed", type=float, help="Speaking rate, 1.0 = the voice's own [0.25–4].")
@click.option("--bitrate", type=int, help="MP3 bitrate in kbit/s [default: 64].")
@click.option("--sample-rate", type=int, help="MP3 sample rate in Hz [default: 44100].")
@click.option("--pause-sentence", type=float, help="Seconds of silence after a sentence [default: 0.35].")
@click.option("--pause-paragraph", type=float, help="Seconds of silence after a paragraph [default: 0.8].")
@click.option("--pause-heading", type=float, help="Seconds of silence after a heading [default: 1.0].")
@click.option(
    "--profile", type=click.Choice(["podcast", "acx"]), help="Loudness profile [default: podcast, −19 LUFS mono]."
)
@click.option(
    "--lexicon", type=click.Path(dir_okay=False, path_type=Path), help="Pronunciation lexicon (.txt or .pls)."
)
@click.option(
    "--cover", type=click.Path(dir_okay=False, path_type=Path), help="Cover image instead of the source's own."
)
@click.option("--read-aloud/--no-read-aloud", default=None, help="Also write <slug>-read-aloud.epub [default: on].")
@click.option("--daisy/--no-daisy", default=None, help="Also write the DAISY 2.02 talking book [default: on].")
@click.option(
    "--audiobooks/--no-audiobooks", default=None, help="Also write .audiobook and .lpf packages [default: on]."
)
@click.option("--read-aloud-bitrate", type=int, help="MP3 bitrate inside the read-aloud EPUB; 0 = chapter MP3s.")
@click.option("--announce/--no-announce", default=None, help="Spoken opening credits and closing line [default: on].")
@click.option(
    "--narration",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A person's recording of the text (audio file or folder; repeatable): aligned instead of synthesis.",
)
@click.option("--narrator", metavar="NAME", help="Who reads the --narration recording (credited as the narrator).")
@click.option("-j", "--jobs", type=int, help="Synthesis processes [default: one per core].")
@click.option(
    "--cluster",
    metavar="ADDRESS",
    help="Run on a Dask cluster (tcp://host:8786), or local:N for N worker processes [$DASK_SCHEDULER_ADDRESS].",
)
@click.option("--cache/--no-cache", "use_cache", default=None, help="Reuse cached sentence audio [default: on].")
@click.option(
    "--cache-dir", "cache", type=click.Path(file_okay=False, path_type=Path), help="Cache folder [.cache/publisher]."
)
@click.option(
    "-f", "--force", is_flag=True, default=None, help="Render even if nothing changed since the last publish."
)
@click.option("--publisher", "publisher", help="Publisher name for sources that do not name one.")
@click.option("--language", help="Language of sources that do not say (BCP 47) [default: en].")
@click.option("--slug", help="Output name for the source (one source at a time) instead of its file name.")
@click.option("--base-url", help="Public URL of the output folder, for feeds and OPDS [http://localhost:8000/].")
@click.option("--proof", "run_proof", is_flag=True, help="Then proof-listen what was published (publisher proof).")
@click.option(
    "--watch", "watch", is_flag=True,
    help="Then publish again whenever a source (or the lexicon) changes, the voice kept loaded; Ctrl-C stops.",
)  # fmt: skip
@click.pass_context
def publish(ctx: click.Context, paths: tuple[Path, ...], **flags: Any) -> None:
    """Publish sources (files or folders; default: sources/) into OUTPUT/<slug>/.

    Each source becomes two EPUBs (text, and read-aloud with the narration), chapter MP3s, a
    full-length MP3 with chapters, an M4B, captions, a DAISY 2.02 book, Readium and W3C audiobook
    packages and a read-along web page; OUTPUT gets podcast feeds, an OPDS catalogue and an index
    page. A source that fails leaves its previous outputs untouched and does not stop the others.

    \b
    Examples:
      publisher publish                       # everything in sources/
      publisher publish essay.md -o site/ --engine espeak --voice en-gb
      publisher publish library/ --cluster tcp://scheduler:8786 -o /shared/output
      publisher publish book.md --narration recording/ --narrator "Kara Shallenberg"
      publisher publish essay.md --watch      # again on every save, until Ctrl-C
    """
    from publisher.api import publish as publish_sources
    from publisher.pipeline.executor import cluster_address

    run_proof, watch = flags.pop("run_proof"), flags.pop("watch")  # actions, not settings
    if run_proof and watch:
        raise click.UsageError("--proof and --watch do not go together: proof-listen with `publisher proof`")
    flags["narration"] = flags["narration"] or None  # none given: the source's own (front matter), if any
    settings = load_settings(ctx.obj.get("config")).override("command line", **flags)
    quiet = ctx.obj.get("quiet", False)
    if run_proof or settings.narration:
        from publisher.proof.asr import require_extra

        require_extra()  # before any work: say how to install it, not after an hour of narration

    report = Report(whole_run=cluster_address(settings.cluster) is not None, quiet=quiet)
    if watch:
        from publisher.cli_watch import watch_sources

        return watch_sources(list(paths) or [Path("sources")], settings, report)
    try:
        batch = publish_sources(list(paths) or [Path("sources")], settings, progress=report.progress,
                                on_result=report.finished)  # fmt: skip
    finally:
        report.close()
    if run_proof and batch.published:
        folders = [r.folder for r in batch.published if r.folder]
        _proof_folders(ctx, folders, settings.cache, settings.lexicon, None, 10, None)
    if report.problems(batch):
        failed = batch.failed
        ctx.exit(failed[0].error.exit_code if len(failed) == 1 and failed[0].error else BatchError.exit_code)


def _proof_folders(
    ctx: click.Context, folders: list[Path], cache: Path, lexicon: Path | None, model: str | None, top: int,
    threshold: float | None,
) -> None:  # fmt: skip
    from publisher.prepare.lexicon import load_project_lexicon
    from publisher.proof.asr import Decoding, require_extra
    from publisher.proof.report import REPORT_HTML, proof_folders, summary

    require_extra()
    words = load_project_lexicon(lexicon or load_settings(ctx.obj.get("config")).lexicon)
    failures: list[PublisherError] = []
    for folder, outcome in proof_folders(folders, cache, words, Decoding(model) if model else None, threshold):
        if isinstance(outcome, PublisherError):  # one folder's problem does not stop the others
            click.echo(f"error: {outcome}", err=True)
            failures.append(outcome)
        elif not ctx.obj.get("quiet", False):
            click.echo("\n".join(summary(outcome, top)) + f"\n  → {folder / REPORT_HTML}")
    if failures:
        ctx.exit(failures[0].exit_code if len(failures) == 1 else BatchError.exit_code)


@cli.command()
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path))
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Cache folder [.cache/publisher].")
@click.option(
    "--lexicon", type=click.Path(dir_okay=False, path_type=Path), help="Pronunciation lexicon the voice used."
)
@click.option(
    "--model",
    type=click.Choice(["tiny.en", "base"]),
    help="Whisper model [default: tiny.en for English, multilingual base otherwise].",
)
@click.option("--top", type=int, default=10, show_default=True, help="Flagged sentences shown in the terminal.")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    help="Flag sentences whose confidence is at least this [default: 0.4, calibrated on the seed].",
)
@click.pass_context
def proof(
    ctx: click.Context, folders: tuple[Path, ...], cache_dir: Path | None, lexicon: Path | None, model: str | None,
    top: int, threshold: float | None,
) -> None:  # fmt: skip
    """Proof-listen published narration: transcribe each full-length MP3 offline (Whisper) and report
    the sentences whose audio does not match their text.

    FOLDERS are publication folders (OUTPUT/<slug>) or output folders (default: output/). Writes
    proof.json and proof.html (each flagged sentence playable from its cue) into each publication
    folder and prints the word error rate, the flagged sentences (surest first, with the word,
    what was heard and the confidence) and lexicon suggestions. Needs the `proof` extra:
    pip install 'publisher[proof]'.

    \b
    Example:
      publisher proof output/putin-today
    """
    from publisher.proof.report import publication_folders

    settings = load_settings(ctx.obj.get("config"))
    found = publication_folders(list(folders) or [settings.output])
    if not found:
        click.echo("nothing to proof: no published folders found; run `publisher publish` first", err=True)
        sys.exit(BatchError.exit_code)
    _proof_folders(ctx, found, cache_dir or settings.cache, lexicon, model, top, threshold)


@cli.command()
def engines() -> None:
    """List speech engines and voices, and whether each is usable here.

    \b
    Example:
      publisher engines
    """
    from publisher.speech.engines import ENGINES

    for info in ENGINES.values():
        problem = info.probe()
        status = "ready" if problem is None else f"unavailable: {problem}"
        where = "offline" if info.offline else "online"
        default = " (default)" if info.name == Settings().engine else ""
        click.echo(f"{info.name}{default}: {info.summary} [{where}] — {status}")
        if problem is None:
            names = info.voices(None)
            for voice in names[:3]:
                click.echo(f"    {voice}")
            if len(names) > 3:
                click.echo(f"    … {len(names)} in all: publisher voices --engine {info.name}")


@cli.command()
@click.option("--engine", "engine_name", help="Only this engine's voices.")
@click.option("--voice-dir", "voices_dir", type=click.Path(path_type=Path), help="Folder of Piper voices to list too.")
@click.pass_context
def voices(ctx: click.Context, engine_name: str | None, voices_dir: Path | None) -> None:
    """List the voices each usable engine has here: the bundled Piper voice and every Piper voice
    in the voices folder (--voice-dir or voices_dir: NAME.onnx + NAME.onnx.json, used as
    --voice NAME), and every eSpeak NG voice with the languages it speaks.

    \b
    Examples:
      publisher voices --engine espeak
      publisher voices --engine piper --voice-dir voices/
    """
    from publisher.speech.engines import ENGINES

    for info in ENGINES.values():
        if engine_name and info.name != engine_name:
            continue
        problem = info.probe()
        if problem is not None:
            click.echo(f"{info.name}: unavailable: {problem}")
            continue
        names = info.voices(voices_dir or load_settings(ctx.obj.get("config")).voices_dir)
        click.echo(f"{info.name}: {len(names)} voice{'s' * (len(names) != 1)}")
        for name in names:
            click.echo(f"    {name}")


@cli.command()
@click.argument("outputs", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--no-ace", is_flag=True, help="Skip DAISY Ace (EPUBCheck and our own checks still run).")
@click.option(
    "--max-wer",
    type=click.FloatRange(0, 1),
    help="Fail a proof-listened publication whose word error rate (proof.json) is above this.",
)
@click.option(
    "--sources",
    "source_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the source EPUBs are, to tell an enhanced EPUB's inherited Ace findings apart [sources/].",
)
def check(outputs: tuple[Path, ...], no_ace: bool, max_wer: float | None, source_dirs: tuple[Path, ...]) -> None:
    """Validate published outputs: EPUBCheck and DAISY Ace on every EPUB, media-overlay timing and
    coverage in read-aloud editions, the ID3 frames of every MP3, DAISY books, audiobook packages,
    feeds and OPDS; and the summary of each proof-listening report (proof.json), which must
    describe the narration now published. In an enhanced EPUB (made from an EPUB source), the Ace
    findings its source has too are listed as inherited and do not fail. Exits 8 on any finding.

    \b
    Examples:
      publisher check output/
      publisher check output/putin-today --max-wer 0.05
    """
    from publisher.api import check as check_outputs

    sources = list(source_dirs) or [Path("sources")]
    reports = check_outputs(list(outputs) or [Path("output")], ace=not no_ace, max_wer=max_wer, sources=sources)
    if not reports:
        click.echo("nothing to check: no .epub or .mp3 files found", err=True)
        sys.exit(BatchError.exit_code)
    for report in reports:
        status = "ok" if report.ok else "FAIL"
        click.echo(f"{status:4}  {report.check:<17} {report.path}: {report.summary}")
        for message in report.messages:
            click.echo(f"        {message}")
    failures = sum(not r.ok for r in reports)
    click.echo(f"{len(reports) - failures} passed, {failures} failed")
    if failures:
        sys.exit(ValidationError.exit_code)


@cli.command()
@click.argument("output", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-p", "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0 = any free one)."
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 shares it with your network."
)
@click.pass_context
def serve(ctx: click.Context, output: Path | None, port: int, host: str) -> None:
    """Preview OUTPUT (default: output/) in a browser or podcast app on this machine.

    Serves every format with the right media type and supports byte ranges (seeking in audio).
    Feed and catalogue links use base_url (default http://localhost:8000/); publish with
    --base-url to match another address or port.

    \b
    Example:
      publisher serve            # then open http://localhost:8000/
    """
    from publisher.formats.web.serve import make_server

    folder = output or load_settings(ctx.obj.get("config")).output
    if not folder.is_dir():
        raise PublisherError("no such folder; run `publisher publish` first", path=folder)
    try:
        server = make_server(folder, host, port, quiet=ctx.obj.get("quiet", False))
    except OSError as exc:
        raise PublisherError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", path=None) from exc
    bound = server.server_address[1]
    shown = "localhost" if host in ("127.0.0.1", "::1", "localhost") else host
    click.echo(f"Serving {folder} at http://{shown}:{bound}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    finally:
        server.server_close()


cli.add_command(cache)
cli.add_command(studio)
cli.add_command(user)


def main() -> None:
    """Console-script entry point.

    When the command is over (every output written, closed and moved into place), the streams are
    flushed and the process ends at once instead of through the interpreter's teardown, which
    spent 0.07–0.1 s of every run freeing some 500 modules and the voice model (measured). An
    unexpected exception still ends the usual way, with its traceback.
    """
    try:
        cli(prog_name="publisher")
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    engines = sys.modules.get("publisher.pipeline.engines")  # loaded only by a command that publishes
    if engines is not None:
        engines.end_speakers()  # no voice process outlives the command; their CPU time is its own
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (publisher … | head) or stream
            stream.flush()
    os._exit(code)
