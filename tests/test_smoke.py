from pathlib import Path

from testing import git, run, write_bytes


def test_register_then_show(registry: Path, tmp_path: Path) -> None:
    art = write_bytes(tmp_path / "model.bin", 1000)
    result = run("register", "fraud", art, "--metric", "auc=0.9", cwd=registry)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "fraud@1\n"
    assert "Register fraud@1" in git(registry, "log", "-1", "--format=%s")
