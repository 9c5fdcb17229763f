"""`python -m services.<name>.projector`'s arguments: `--processes` only where members can share a rebuild."""

from __future__ import annotations

import pytest

from shared.service import _projector_args


@pytest.mark.parametrize(
    "argv",
    [["--until-caught-up", "--processes", "3"], ["--rebuild-shadow", "--processes", "2"], ["--processes", "1"], []],
)
def test_processes_with_a_rebuild_that_ends(argv: list[str]) -> None:
    args = _projector_args("services.ledger", argv)
    assert args.processes == (int(argv[-1]) if argv else 1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--processes", "3"], "--processes needs --rebuild-shadow or --until-caught-up"),
        (["--rebuild", "--until-caught-up", "--processes", "2"], "--processes needs"),
        (["--until-caught-up", "--processes", "0"], "--processes must be at least 1"),
    ],
)
def test_processes_refused_elsewhere(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        _projector_args("services.ledger", argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
