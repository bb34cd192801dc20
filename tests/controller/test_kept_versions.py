"""A version folder kept from earlier (``--keep``) is re-verified before ``current`` is switched back to it,
and ``status.json`` reports the digest of what ``current`` actually points at."""

from __future__ import annotations

import shutil
from pathlib import Path

from controller.helpers import Remote, check_target, live, status_of
from gitreg.controller import Controller, ControllerConfig, ModelChange, reconcile_once
from testing import sha256_file, tree_state


def config(remote: Remote, target: Path, **options: object) -> ControllerConfig:
    return ControllerConfig(remote.url, "production", target, **options)  # type: ignore[arg-type]


def keep_one_back(remote: Remote, target: Path, model: str, folder: bool = False) -> Path:
    """Deploy ``model`` 1 then 2, so that version 1 stays on disk as a kept folder; return that folder."""
    remote.register(model, seed=1, folder=folder)
    remote.register(model, seed=2, folder=folder)
    remote.stage({model: 1})
    assert reconcile_once(remote.url, "production", target).outcome == "applied"
    remote.stage({model: 2})
    assert reconcile_once(remote.url, "production", target).outcome == "applied"
    kept = target / model / "1"
    assert kept.is_dir()
    return kept


def writable(path: Path) -> Path:
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        p.chmod(p.stat().st_mode | 0o200)
    return path


def flip_a_byte(path: Path) -> None:
    writable(path)
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))


def assert_status_matches_disk(target: Path, remote: Remote) -> None:
    """Each model's reported live version, digest and path are those of what ``current`` names."""
    for model, state in status_of(target)["models"].items():
        on_disk = live(target, model)
        assert state["live"] == (int(on_disk) if on_disk else None), model
        if on_disk is None:
            assert (state["digest"], state["path"]) == (None, None), model
            continue
        assert state["digest"] == remote.digest(model, int(on_disk)), model
        folder = target / model / on_disk
        assert state["path"] in (str(folder), str(folder / "model.bin")), model
        wanted = state["wanted"]
        assert state["wanted_digest"] == (remote.digest(model, wanted) if wanted else None), model


# --- case: a kept folder altered on disk ----------------------------------------------------------------


def test_a_tampered_kept_file_is_downloaded_again_before_the_switch(remote: Remote, target: Path) -> None:
    kept = keep_one_back(remote, target, "fraud")
    flip_a_byte(kept / "model.bin")
    events: list[str] = []

    remote.stage({"fraud": 1})
    result = reconcile_once(remote.url, "production", target, log=lambda e: events.append(e.text()))

    assert result.outcome == "applied"
    assert result.changes == (ModelChange("fraud", 2, 1, 1, "deploy"),)
    assert live(target, "fraud") == "1"
    assert sha256_file(target / "fraud" / "current" / "model.bin") == remote.digest("fraud", 1)
    assert check_target(target, remote) == {"fraud": "1"}
    assert any("event=kept-version-mismatch" in e and "hashes to" in e for e in events), events
    assert list((target / ".gitreg" / "tmp").iterdir()) == []


def test_a_file_added_to_a_kept_file_folder_is_downloaded_again(remote: Remote, target: Path) -> None:
    kept = keep_one_back(remote, target, "fraud")
    writable(kept)
    (kept / "extra.py").write_text("import os\n")

    remote.stage({"fraud": 1})
    result = reconcile_once(remote.url, "production", target)

    assert result.changes == (ModelChange("fraud", 2, 1, 1, "deploy"),)
    assert sorted(p.name for p in (target / "fraud" / "1").iterdir()) == ["model.bin"]


def test_a_file_added_to_a_kept_tree_is_downloaded_again(remote: Remote, target: Path) -> None:
    kept = keep_one_back(remote, target, "churn", folder=True)
    writable(kept)
    (kept / "config" / "evil.json").write_text("{}\n")

    remote.stage({"churn": 1})
    result = reconcile_once(remote.url, "production", target)

    assert result.changes == (ModelChange("churn", 2, 1, 1, "deploy"),)
    assert check_target(target, remote) == {"churn": "1"}
    assert not (target / "churn" / "1" / "config" / "evil.json").exists()


def test_a_file_removed_from_a_kept_tree_is_downloaded_again(remote: Remote, target: Path) -> None:
    kept = keep_one_back(remote, target, "churn", folder=True)
    writable(kept)
    (kept / "config" / "params.json").unlink()

    remote.stage({"churn": 1})
    result = reconcile_once(remote.url, "production", target)

    assert result.changes == (ModelChange("churn", 2, 1, 1, "deploy"),)
    assert check_target(target, remote) == {"churn": "1"}
    assert (target / "churn" / "1" / "config" / "params.json").is_file()


def test_a_changed_file_in_a_kept_tree_is_downloaded_again(remote: Remote, target: Path) -> None:
    kept = keep_one_back(remote, target, "churn", folder=True)
    flip_a_byte(kept / "weights.bin")

    remote.stage({"churn": 1})
    result = reconcile_once(remote.url, "production", target)

    assert result.changes == (ModelChange("churn", 2, 1, 1, "deploy"),)
    assert check_target(target, remote) == {"churn": "1"}


def test_a_symlink_inside_a_kept_tree_is_downloaded_again(
    remote: Remote, target: Path, tmp_path: Path
) -> None:
    kept = keep_one_back(remote, target, "churn", folder=True)
    outside = tmp_path / "outside.json"
    shutil.copy(kept / "config" / "params.json", outside)
    writable(kept)
    (kept / "config" / "params.json").unlink()
    (kept / "config" / "params.json").symlink_to(outside)

    remote.stage({"churn": 1})
    result = reconcile_once(remote.url, "production", target)

    assert result.changes == (ModelChange("churn", 2, 1, 1, "deploy"),)
    assert not (target / "churn" / "1" / "config" / "params.json").is_symlink()
    assert check_target(target, remote) == {"churn": "1"}


def test_a_kept_folder_replaced_by_a_symlink_outside_is_never_served(
    remote: Remote, target: Path, tmp_path: Path
) -> None:
    kept = keep_one_back(remote, target, "fraud")
    elsewhere = tmp_path / "elsewhere"
    shutil.move(kept, elsewhere)
    flip_a_byte(elsewhere / "model.bin")
    kept.symlink_to(elsewhere, target_is_directory=True)
    outside = tree_state(elsewhere)

    remote.stage({"fraud": 1})
    result = reconcile_once(remote.url, "production", target)

    assert result.changes == (ModelChange("fraud", 2, 1, 1, "deploy"),)
    assert not (target / "fraud" / "1").is_symlink()
    assert sha256_file(target / "fraud" / "current" / "model.bin") == remote.digest("fraud", 1)
    assert check_target(target, remote) == {"fraud": "1"}
    assert tree_state(elsewhere) == outside  # nothing outside the target was written or removed


def test_a_live_folder_replaced_by_a_symlink_is_replaced(
    remote: Remote, target: Path, tmp_path: Path
) -> None:
    remote.register("fraud", seed=1)
    remote.stage({"fraud": 1})
    reconcile_once(remote.url, "production", target)
    live_folder = target / "fraud" / "1"
    elsewhere = tmp_path / "elsewhere"
    shutil.move(live_folder, elsewhere)
    live_folder.symlink_to(elsewhere, target_is_directory=True)
    outside = tree_state(elsewhere)

    result = reconcile_once(remote.url, "production", target)

    assert result.changes == (ModelChange("fraud", None, 1, 1, "deploy"),)
    assert not live_folder.is_symlink()
    assert check_target(target, remote) == {"fraud": "1"}
    assert tree_state(elsewhere) == outside


def test_an_intact_kept_folder_is_switched_to_without_a_download(remote: Remote, target: Path) -> None:
    keep_one_back(remote, target, "churn", folder=True)
    remote.stage({"churn": 1})
    with Controller(config(remote, target)) as controller:
        result = controller.reconcile()
        downloaded = controller.metrics.registry.get_sample_value("gitreg_controller_downloaded_bytes_total")
    assert result.changes == (ModelChange("churn", 2, 1, 1, "switch"),)
    assert downloaded == 0
    assert check_target(target, remote) == {"churn": "1"}


# --- case: status.json reports the digest of what is served ---------------------------------------------


def test_status_reports_the_live_digest_after_a_failed_deploy(remote: Remote, target: Path) -> None:
    keep_one_back(remote, target, "fraud")
    remote.register("fraud", seed=3)
    (target / "fraud" / "current").unlink()
    (target / "fraud" / "current").symlink_to("1")  # an operator switched back by hand
    remote.blob("fraud", 3).rename(remote.blob("fraud", 3).with_name("hidden"))

    remote.stage({"fraud": 3})
    result = reconcile_once(remote.url, "production", target)

    assert result.outcome == "partial"
    fraud = status_of(target)["models"]["fraud"]
    assert (fraud["wanted"], fraud["live"], fraud["digest"]) == (3, 1, remote.digest("fraud", 1))
    assert fraud["wanted_digest"] == remote.digest("fraud", 3)
    assert_status_matches_disk(target, remote)


def test_status_reports_the_live_digest_after_a_rollback_on_hook_failure(
    remote: Remote, target: Path
) -> None:
    keep_one_back(remote, target, "fraud")
    remote.register("fraud", seed=3)
    (target / "fraud" / "current").unlink()
    (target / "fraud" / "current").symlink_to("1")

    remote.stage({"fraud": 3})
    result = reconcile_once(
        remote.url, "production", target, on_deploy="exit 5", rollback_on_hook_failure=True
    )

    assert result.outcome == "partial"
    assert live(target, "fraud") == "1"
    fraud = status_of(target)["models"]["fraud"]
    assert (fraud["live"], fraud["digest"]) == (1, remote.digest("fraud", 1))
    assert fraud["path"] == str(target / "fraud" / "1" / "model.bin")
    assert_status_matches_disk(target, remote)


def test_status_reports_the_live_digest_of_a_retained_model(remote: Remote, target: Path) -> None:
    keep_one_back(remote, target, "fraud")
    remote.register("churn", seed=5)
    remote.stage({"churn": 1})
    reconcile_once(remote.url, "production", target)
    (target / "fraud" / "current").unlink()
    (target / "fraud" / "current").symlink_to("1")

    reconcile_once(remote.url, "production", target)

    fraud = status_of(target)["models"]["fraud"]
    assert (fraud["state"], fraud["live"], fraud["digest"]) == ("retained", 1, remote.digest("fraud", 1))
    assert_status_matches_disk(target, remote)


def test_status_reports_the_live_digest_after_a_hook_failure(remote: Remote, target: Path) -> None:
    keep_one_back(remote, target, "fraud")
    remote.stage({"fraud": 1})
    result = reconcile_once(remote.url, "production", target, on_deploy="exit 3")
    assert result.errors == ("fraud: on-deploy hook exited with 3",)
    assert_status_matches_disk(target, remote)
    fraud = status_of(target)["models"]["fraud"]
    assert (fraud["live"], fraud["digest"], fraud["state"]) == (1, remote.digest("fraud", 1), "failed")
