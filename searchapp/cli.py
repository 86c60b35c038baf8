"""The `searchapp` command: index seed files, search them, serve the site."""

from __future__ import annotations

import faulthandler
import io
import json
import os
import signal
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import click

from . import settings as settings_mod, workspace
from .index import check, store
from .index.indexer import Indexer
from .index.summary import Summary
from .settings import Settings

PROGRESS_FROM = 200  # files: shorter runs finish before a bar would be read


def _common(func):
    """Options every subcommand takes; each overrides the config file and environment."""
    func = click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
                        help="Index folder [setting: index, default ./index].")(func)
    func = click.option("--seeds", "seeds_dir", type=click.Path(file_okay=False, path_type=Path),
                        help="Seeds folder [setting: seeds, default ./seeds].")(func)
    return func


def _settings(ctx: click.Context, **overrides) -> Settings:
    try:
        return settings_mod.load(overrides, ctx.obj.get("config"))
    except settings_mod.SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML config file [default: ./searchapp.yaml when present].")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Full-text search over news-article seed files."""
    ctx.ensure_object(dict)["config"] = config
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>`: where every thread is, to stderr
        try:
            faulthandler.register(signal.SIGUSR1, all_threads=True)
        except (ValueError, OSError, AttributeError, io.UnsupportedOperation):
            pass  # stderr is no file (a test's runner captures it)


@main.command("index")
@_common
@click.option("--full", is_flag=True, help="Rebuild from scratch beside the live index, then swap.")
@click.option("--shards", type=click.IntRange(1, 64),
              help="Shards of a full build [setting: shards, default 0: one per core].")
@click.option("--watch", is_flag=True, help="Keep running; index seed files as they change.")
@click.option("--cluster", metavar="ADDRESS",
              help="Parse and write the shards of a --full build on this Ray cluster "
                   "(HOST:PORT, or auto) [setting: cluster]; the folders must be shared.")
@click.pass_context
def index_cmd(ctx, seeds_dir, index_dir, full, shards, watch, cluster):
    """Bring the index up to date with the seeds folder (incremental unless --full)."""
    if cluster and watch:
        raise click.UsageError("--cluster cannot be used with --watch: a watcher's runs are "
                               "incremental, and incremental runs are local")
    if cluster and not full:
        raise click.UsageError("--cluster needs --full: incremental runs are local (they "
                               "read only what changed); a full build runs on the cluster")
    cfg = _settings(ctx, seeds=seeds_dir, index=index_dir, shards=shards, cluster=cluster)
    if watch:
        _watch(cfg, full)
        return
    pool = _cluster_pool(cfg) if full and cfg.cluster else None
    summary = _run(cfg, full, pool=pool)
    for phase in pool.phases if pool is not None else ():
        click.echo(f"on the cluster: {phase.line()}", err=True)
    ctx.exit(0 if summary.ok else 1)


def _cluster_pool(cfg: Settings):
    """Join the cluster a full build runs on; Ray is imported only here."""
    from .cluster import ClusterUnavailable, connect
    from .cluster.build import RayPool
    try:
        ray = connect(cfg.cluster)
    except ClusterUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    return RayPool(ray, shared=(cfg.seeds, cfg.index))


def _run(cfg: Settings, full: bool = False, repair: bool = False, pool=None) -> Summary:
    with _progress_bar() as progress:
        try:
            summary = Indexer(cfg, progress=progress, pool=pool).run(
                full=full, repair=repair)
        except store.IndexProblem as exc:
            raise click.ClickException(str(exc)) from None
    _report(summary)
    return summary


@contextmanager
def _progress_bar() -> Iterator:
    """A progress callback drawing click's progress bar on a terminal, for long runs only."""
    bars: list = []

    def progress(done: int, total: int) -> None:
        if total < PROGRESS_FROM or not sys.stderr.isatty():
            return
        if not bars:
            bars.append(click.progressbar(length=total, label="reading seed files",
                                          file=sys.stderr, show_pos=True).__enter__())
        bar = bars[0]
        bar.update(done - bar.pos)

    try:
        yield progress
    finally:
        for bar in bars:
            bar.__exit__(None, None, None)


def _report(summary: Summary) -> None:
    for problem in summary.errors:
        click.echo(f"error: {problem}", err=True)
    for problem in summary.warnings:
        click.echo(f"warning: {problem}", err=True)
    click.echo(summary.line())


@main.command("check")
@_common
@click.option("--repair", is_flag=True,
              help="Rebuild the index from the seeds beside the damaged one, then swap it in.")
@click.pass_context
def check_cmd(ctx, seeds_dir, index_dir, repair):
    """Verify the live index, as `git fsck` does a repository: every file against the
    checksum it was written with, every segment opened and read, the manifest's own check.
    Exit status 1 when something is wrong; --repair rebuilds it from the seeds."""
    cfg = _settings(ctx, seeds=seeds_dir, index=index_dir)
    kept = workspace.check(workspace.folder_of(cfg))  # never rebuilt: repair leaves it be
    for problem in kept:
        click.echo(f"damaged: {problem}")
    found, verdict = check.verdict(cfg.index, cfg.seeds)
    if not found:
        click.echo(verdict)
        ctx.exit(1 if kept else 0)
    for problem in found:
        click.echo(f"damaged: {problem}")
    if not repair:
        click.echo("run `searchapp check --repair` to rebuild the index from the seeds "
                   "(until then the build is served as it is: a search that reads a damaged "
                   "file answers 503; a lost spelling index or stories file costs what is said "
                   "above)")
        ctx.exit(1)
    click.echo("repairing: rebuilding the index from the seeds beside the damaged build")
    _run(cfg, repair=True)
    found, verdict = check.verdict(cfg.index, cfg.seeds)
    for problem in found:
        click.echo(f"still damaged: {problem}")
    if found:
        ctx.exit(1)
    click.echo(f"repaired: {verdict}")


@main.command("search")
@_common
@click.argument("query", nargs=-1)
@click.option("--topic", multiple=True, help="Only records with this topic (repeatable).")
@click.option("--provider", "--source", "provider", multiple=True,
              help="Only records from this source (repeatable).")
@click.option("--category", multiple=True, help="Only records in this category (repeatable).")
@click.option("--type", "type_", multiple=True, help="Only records of this type (repeatable).")
@click.option("--kind", type=click.Choice(["seed", "related"]), multiple=True,
              help="Only seeds, or only related articles.")
@click.option("--from", "date_from", help="Published on or after (YYYY-MM-DD, YYYY-MM or YYYY).")
@click.option("--to", "date_to", help="Published on or before.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance")
@click.option("--match", type=click.Choice(["all", "any"]), default="all",
              help="Require all words (default) or rank by any of them.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--every-copy", is_flag=True,
              help="List every copy of a story (by default one hit per story, its copies under it).")
@click.option("--literal", is_flag=True,
              help="List the words as typed even where a correction finds far more.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the /api/search format).")
@click.pass_context
def search_cmd(ctx, seeds_dir, index_dir, query, topic, provider, category, type_, kind, date_from,
               date_to, sort, match, limit, every_copy, literal, as_json):
    """Search the index, ranked as the web page ranks."""
    # Imported here: `searchapp index` runs after every batch of new files, and the query
    # parser and search modules would add a tenth of a second to each run.
    from .search import BadRequest, SearchIndex, SearchRequest
    from .search.request import RequestLimits

    cfg = _settings(ctx, seeds=seeds_dir, index=index_dir)
    params = {"q": [" ".join(query)], "topic": topic, "provider": provider,
              "category": category, "type": type_, "kind": kind, "from": [date_from or ""],
              "to": [date_to or ""], "sort": [sort], "match": [match], "per_page": [str(limit)],
              "group": ["records" if every_copy else "story"], "literal": ["1" if literal else ""]}
    try:
        # A command line may list more than a page shows.
        marks = None if cfg.read_only else workspace.Workspace(workspace.folder_of(cfg))
        req = SearchRequest.from_params(params, replace(RequestLimits.of(cfg), max_per_page=1000,
                                                        marks=marks))
    except BadRequest as exc:
        raise click.UsageError(str(exc)) from None
    index = SearchIndex.from_settings(cfg, recent=False)
    try:
        result = index.search(req)
    except store.IndexProblem as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        index.close()
    if as_json:
        from .search.serialize import result_to_json
        click.echo(json.dumps(result_to_json(result), ensure_ascii=False, indent=2))
        return
    if result.notice:
        click.echo(f"note: {result.notice}", err=True)
    stories = f", {result.stories:,} stories" if result.stories != result.total else ""
    click.echo(f"{result.total:,} record{' matches' if result.total == 1 else 's match'}"
               f"{stories} ({result.took_ms:.1f} ms)")
    if result.showing:
        click.echo(f"showing the {result.showing_total:,} for {result.showing!r} instead "
                   f"(--literal lists the words as typed)")
    for rank, hit in enumerate(result.hits, 1):
        r = hit.record
        date = (r["published"] or "")[:10] or "undated"
        provider_name = r["provider"]["name"] or r["provider"]["domain"] or "unknown source"
        score = f"{hit.score:6.2f}" if hit.score is not None else "     -"
        click.echo(f"{rank:3}. {score}  {r['title']}")
        click.echo(f"            {provider_name} · {date} · {r['kind']}"
                   + (f" · {r['url']}" if r["url"] else ""))
        if hit.copies:
            outlets = ", ".join(dict.fromkeys(c["provider"]["name"] or c["provider"]["domain"]
                                              or "unknown source" for c in hit.copies))
            more = len(hit.copies) + hit.more_copies
            click.echo(f"            + {more} other cop{'ies' if more > 1 else 'y'} "
                       f"of this story: {outlets}{' …' if hit.more_copies else ''}")
    if result.suggestion:
        click.echo(f"did you mean: {result.suggestion}")
    for spelled in result.spellings:
        click.echo(f"also spelled: {spelled.word}: "
                   + ", ".join(f"{w} ({n})" for w, n, _ in spelled.others)
                   + f"; every spelling: {spelled.everything} ({spelled.total})")


@main.command("serve")
@_common
@click.option("--host", help="Address to bind [setting: host, default 127.0.0.1].")
@click.option("--port", type=int, help="Port [setting: port, default 5000].")
@click.option("--workers", type=int,
              help="Processes serving requests [setting: workers, default 0: one per core].")
@click.option("--threads", type=int, help="Threads per process [setting: threads, default 8].")
@click.option("--reindex/--no-reindex", default=False,
              help="Bring the index up to date before serving.")
@click.option("--watch/--no-watch", default=None,
              help="Keep the index up to date while serving [setting: watch, default on].")
@click.option("--cluster", metavar="ADDRESS",
              help="Search the shards on this Ray cluster (`auto`: start one here), one actor "
                   "per shard, the index folder shared by every node [setting: cluster].")
@click.pass_context
def serve_cmd(ctx, seeds_dir, index_dir, host, port, workers, threads, reindex, watch, cluster):
    """Serve the search site: a waitress server in a process per core, and a process that
    indexes seed files as they arrive (unless --no-watch). With --cluster,
    one process coordinates the shards' actors on a Ray cluster."""
    cfg = _settings(ctx, seeds=seeds_dir, index=index_dir, host=host, port=port,
                    workers=workers, threads=threads, watch=watch, cluster=cluster)
    if reindex:
        summary = _run(cfg, full=False)
        if not summary.ok:
            click.echo("some seed files were rejected (see above); serving the rest", err=True)
    if cfg.watch:
        _watch_beside(cfg, ctx.obj.get("config"))
    from .web import create_app
    from .web.server import ClientLimits, default_workers, serve
    cfg = cfg.replace(freeze_gc=True)  # these processes only serve: see SearchIndex
    app = create_app(cfg)
    if cfg.host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: serving on {cfg.host}, reachable from other machines", err=True)
    _say_if_damaged(cfg)
    processes = cfg.workers or default_workers()
    if cfg.cluster:
        processes = 1  # the work is the actors'; one coordinator keeps one set of them
        _join_cluster(cfg)
    host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    click.echo(f"serving {cfg.index} on http://{host}:{cfg.port}/ with {processes} "
               f"process{'es' if processes > 1 else ''} (Ctrl-C stops)")
    sys.stdout.flush()
    serve(app, cfg.host, cfg.port, processes, cfg.threads,
          ClientLimits(cfg.slow_client_s, cfg.request_line_bytes, cfg.max_connections))


def _join_cluster(cfg: Settings) -> None:
    """Join the cluster and start the shards' actors before the first request, saying where
    they run; a cluster that cannot be reached stops the command with the reason."""
    from .cluster import ClusterUnavailable, connect
    from .cluster.pool import ShardPool
    try:
        ray = connect(cfg.cluster)
        live = store.live(cfg.index)
        count = len(live.shards) if live is not None else 0
        pool = ShardPool(cfg.index, cfg)
        answers = pool.hello(count) if count else []
    except ClusterUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # Ray's: the actors could not start
        raise click.ClickException(
            f"the shards' actors did not start on the cluster ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:300] if str(exc) else ''}). Each asks for "
            "a quarter of a CPU, and every node needs searchapp installed and the index "
            f"folder at {cfg.index.resolve()}.") from None
    nodes = {a["node"] for a in answers}
    click.echo(f"cluster: {len(ray.nodes())} node(s); {len(answers)} shard actor(s) on "
               f"{len(nodes)} of them")
    # Ray's own handler dumps a stack trace on SIGTERM; a service manager's stop is a plain
    # exit here, leaving the cluster on the way out (an `auto` one stops with it).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    import atexit
    from .cluster import disconnect
    atexit.register(disconnect)


def _watch_beside(cfg: Settings, config: Path | None) -> None:
    """One watcher for the whole server, however many worker processes it runs:
    `searchapp index --watch` as a child process, restarted whenever it dies, stopped when
    the server stops (and by the kernel when the server is killed), writing through the
    same lock as any indexer."""
    import atexit

    from .index.supervisor import Supervisor, refusal, watch_command

    why_not = refusal(cfg.index, cfg.seeds)
    if why_not is not None:
        click.echo(f"warning: {why_not}", err=True)
        return
    command = watch_command(cfg.seeds, cfg.index, config)
    supervisor = Supervisor(command, cfg.index,
                            say=lambda message: click.echo(f"watch: {message}", err=True))
    atexit.register(supervisor.stop)
    supervisor.start()
    click.echo(f"watching {cfg.seeds}: new, changed and deleted seed files are indexed as they "
               "arrive (--no-watch turns it off)", err=True)


def _stop_on_signals() -> None:
    """A watcher stops between runs on SIGTERM (what service managers send) and on SIGINT
    even when it was started ignoring SIGINT, as a shell without job control starts a
    background command: it then never stopped until killed."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def _watch(cfg: Settings, full: bool) -> None:
    """`searchapp index --watch`, alone or as a server's watcher (see index/supervisor.py),
    which says less: only the runs that changed something, and what they refused."""
    from .index.supervisor import PARENT, die_with_parent
    from .index.watch import watch as run_watch

    served = PARENT in os.environ
    die_with_parent()
    _stop_on_signals()
    prefix = "watch: " if served else "note: "

    def report(summary: Summary) -> None:
        if not served:
            _report(summary)
            return
        for problem in summary.errors:
            click.echo(f"watch: refused {problem}", err=True)
        if summary.new or summary.changed or summary.deleted or summary.rejected:
            click.echo(f"watch: {summary.line()}", err=True)

    try:
        run_watch(Indexer(cfg), cfg, report=report, full_first=full,
                  say=lambda message: click.echo(f"{prefix}{message}", err=True))
    except KeyboardInterrupt:
        if not served:
            click.echo("stopped watching", err=True)


def _say_if_damaged(cfg: Settings) -> None:
    found = check.damage(cfg.index)
    if found:
        click.echo(f"warning: {found}; searches answer 503 until then", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
