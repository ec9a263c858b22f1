"""The chaos campaign (``python -m bench chaos``), short: a few dozen SIGKILLs, no violation allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos import Execution, Figures, campaign, check_steps, render

KILLS = {"embedded": 20, "restate": 15}


# A campaign is a few dozen restarts of real processes: minutes on a busy 2-core machine, not the
# suite's default two. (Every wait inside it has its own bound, so a hang still fails, with a name.)
@pytest.mark.timeout(900)
@pytest.mark.parametrize("engine", ["embedded", "restate"])
def test_a_short_campaign_finds_nothing(engine: str, tmp_path: Path) -> None:
    figures = campaign(engine, KILLS[engine], seed=7, workdir=tmp_path, quiet=True)
    print(render([figures]))
    assert figures.violations == []
    assert figures.kills == KILLS[engine]
    assert figures.invocations >= 3 * KILLS[engine]
    assert figures.completed == figures.invocations
    if engine == "restate":
        assert figures.server_kills == KILLS[engine] // 5


def test_a_step_started_after_the_handler_had_its_result_is_a_violation() -> None:
    log = [
        Execution(1, 100.0, "start", "j1", "a"),  # cut short by a kill: its result was lost
        Execution(2, 101.0, "start", "j1", "a"),
        Execution(2, 101.5, "end", "j1", "a"),
        Execution(2, 101.6, "after", "j1", "a"),  # the handler had the result: it was journaled
        Execution(3, 105.0, "after", "j1", "a"),  # a replay passes again: fine
        Execution(3, 106.0, "start", "j1", "a"),  # run again although journaled: a violation
        Execution(3, 107.0, "awakeable", "j2", "sign_1"),
        Execution(4, 108.0, "awakeable", "j2", "sign_1"),  # published twice before it was observed
        Execution(4, 108.1, "after", "j2", "publish"),
    ]
    figures = Figures(engine="embedded", seed=0)
    check_steps(log, figures)
    assert figures.steps_rerun_after_kill == 2
    assert len(figures.violations) == 1
    assert figures.violations[0].startswith("step a of job j1 started again at 106.000 (pid 3)")
