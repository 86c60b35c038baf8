"""What each generation keeps beside its records, made from them after they are committed
and before the generation goes live: which records are copies of one story, and the
spelling index.

Both only help searches: a reader groups the stories again if they are missing, and a
spelling index that cannot be rebuilt leaves the one before it in use.
"""

from __future__ import annotations

import numpy as np

from ..ingest.problems import Problem
from . import spelling, stories, store


def group_stories(live: store.Live, before: int | None, changed: np.ndarray | None,
                  rule: stories.Rule) -> None:
    """Group the records of `live` (not yet live) into stories and keep them beside it:
    from the stories of generation `before` and the id keys of the records the run
    `changed`, or (when either is missing, or the rule changed) from scratch."""
    old = stories.Stories.load(stories.path(live.build, before)) \
        if before is not None and changed is not None else None
    if old is not None and not len(changed) and old.rule == rule.key:
        found = old  # the same records (a merge of segments): the same stories
    else:
        with live.searcher() as searcher:
            keys, sigs, present, dates = stories.of_reader(searcher.reader())
        if old is not None:
            found = stories.regroup(keys, sigs, present, dates, old, changed, rule)
        else:
            found = stories.group(keys, sigs, present, dates, rule)
    found.save(stories.path(live.build, live.generation))
    store.note_story_rule(live.build, rule.threshold, rule.window_hours)


def respell(live: store.Live, warnings: list[Problem], always: bool = False) -> None:
    """Rebuild the spelling index when it is missing or outgrown (or `always`). Failing to
    write it is a warning: the index commit before it stands."""
    build = live.build
    try:
        with live.searcher() as searcher:
            if always or spelling.stale(build, searcher.doc_count()):
                spelling.build(build, searcher.reader(), searcher.doc_count())
    except OSError as exc:
        warnings.append(Problem(str(build.name), None, "the spelling index could "
                                f"not be rebuilt ({exc.strerror or exc}); "
                                "suggestions use the one before"))
