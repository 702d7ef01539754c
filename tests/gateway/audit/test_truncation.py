"""Finding: truncating the log's tail, or deleting every entry, verified clean ("0 entries, chain
intact") unless the operator had kept a head. Now the centre's signed checkpoints, kept by its
peers, anchor the log: ``liaison audit verify --checkpoint`` finds what was cut off."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.checkpoints import anchor_of
from gateway.audit.log import verify_file
from gateway.cli import main
from tests.support.audit_logs import (
    PEER,
    SigningCentre,
    tamper,
    write_checkpoints,
    write_log,
)


async def test_a_truncated_log_passes_the_chain_alone_and_fails_against_a_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log, centre = tmp_path / "audit.db", SigningCentre(tmp_path)
    head = await write_log(log, 10)
    kept_by_peer = write_checkpoints(tmp_path / "from-peer.json", centre.checkpoint(head))

    tamper(log, "DELETE FROM audit WHERE position > 6")
    # The attack: the shortened chain is still a chain.
    assert verify_file(log).ok
    assert main(["audit", "verify", str(log)]) == 0
    assert "6 entries, chain intact" in capsys.readouterr().out

    report = verify_file(log, anchors=[anchor_of(centre.checkpoint(head))])
    assert report.first_break is not None
    assert (report.first_break.position, report.head.sequence) == (7, 6)
    args = ["audit", "verify", str(log), "--checkpoint", str(kept_by_peer)]
    assert main([*args, "--keys", str(centre.public_key_path)]) == 1
    out = capsys.readouterr().out
    assert "chain broken at entry 7" in out
    assert "the log ends at sequence 6, but the checkpoint WCO-I2C signed at" in out
    assert "records 10 entries: entries were cut off the end" in out


async def test_deleting_every_entry_fails_against_a_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log, centre = tmp_path / "audit.db", SigningCentre(tmp_path)
    kept = write_checkpoints(tmp_path / "cp.json", centre.checkpoint(await write_log(log, 4)))

    tamper(log, "DELETE FROM audit")
    assert main(["audit", "verify", str(log)]) == 0
    assert "0 entries, chain intact" in capsys.readouterr().out  # the attack

    keys = ["--keys", str(centre.public_key_path)]
    assert main(["audit", "verify", str(log), "--checkpoint", str(kept), *keys]) == 1
    out = capsys.readouterr().out
    assert "the log ends at sequence 0" in out
    assert "records 4 entries: entries were cut off the end" in out


async def test_a_log_cut_short_and_written_on_is_caught_at_the_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cutting the tail and letting the gateway append again gives a log as long as before."""
    log, centre = tmp_path / "audit.db", SigningCentre(tmp_path)
    kept = write_checkpoints(tmp_path / "cp.json", centre.checkpoint(await write_log(log, 8)))
    tamper(log, "DELETE FROM audit WHERE position > 5")
    await write_log(log, 5)
    assert verify_file(log).ok

    keys = ["--keys", str(centre.public_key_path)]
    assert main(["audit", "verify", str(log), "--checkpoint", str(kept), *keys]) == 1
    out = capsys.readouterr().out
    assert "chain broken at entry 8 (sequence 8)" in out
    assert "differs from the one the checkpoint WCO-I2C signed at" in out


async def test_a_log_that_grew_after_its_checkpoints_verifies_against_all_of_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log, centre = tmp_path / "audit.db", SigningCentre(tmp_path)
    first = centre.checkpoint(await write_log(log, 3))
    second = centre.checkpoint(await write_log(log, 4))
    one = write_checkpoints(tmp_path / "one.json", first)
    both = write_checkpoints(tmp_path / "both.json", second, first)
    await write_log(log, 2)

    keys = ["--keys", str(centre.public_key_path)]
    assert main(["audit", "verify", str(log), "--checkpoint", str(both), *keys]) == 0
    out, err = capsys.readouterr()
    assert "9 entries, chain intact, reaches 2 checkpoint(s)" in out
    assert "7 entries)" in out
    assert err == ""
    assert (
        main(
            [
                "audit",
                "verify",
                str(log),
                "--checkpoint",
                str(one),
                "--checkpoint",
                str(both),
                *keys,
            ]
        )
        == 0
    )
    assert "reaches 3 checkpoint(s)" in capsys.readouterr().out


async def test_checkpoints_that_are_not_the_centres_are_not_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log, centre = tmp_path / "audit.db", SigningCentre(tmp_path)
    head = await write_log(log, 3)
    impostor = SigningCentre(tmp_path / "impostor")
    forged = write_checkpoints(tmp_path / "forged.json", impostor.checkpoint(head))
    keys = ["--keys", str(centre.public_key_path)]

    assert main(["audit", "verify", str(log), "--checkpoint", str(forged), *keys]) == 2
    assert "does not verify under any of the given keys" in capsys.readouterr().err

    altered = centre.checkpoint(head)
    altered.entries = 2  # the signature covers the count
    path = write_checkpoints(tmp_path / "altered.json", altered)
    assert main(["audit", "verify", str(log), "--checkpoint", str(path), *keys]) == 2
    assert "does not verify" in capsys.readouterr().err

    assert main(["audit", "verify", str(log), "--checkpoint", str(forged)]) == 2
    assert "--checkpoint needs --keys" in capsys.readouterr().err

    other = SigningCentre(tmp_path / "peer", PEER)
    mixed = write_checkpoints(
        tmp_path / "mixed.json", centre.checkpoint(head), other.checkpoint(head)
    )
    both_keys = [*keys, str(other.public_key_path)]
    assert main(["audit", "verify", str(log), "--checkpoint", str(mixed), *both_keys]) == 2
    assert "several centres (INTERPOL-CCC-LYON, WCO-I2C)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", "is not a JSON checkpoint file"),
        ("[]", "must hold a JSON object"),
        ('{"checkpoints": []}', "holds no checkpoints"),
        ('{"checkpoints": [{"entries": "x"}]}', "Failed to parse entries field"),
        ('{"centre": "WCO-I2C", "entries": 0}', "checkpoint #1: entries must be from 1 to"),
        ('{"centre": "WCO-I2C", "entries": 1, "headHash": "zz"}', "head_hash must be 64"),
        ('{"surprise": 1}', 'no field named "surprise"'),
    ],
)
async def test_a_bad_checkpoint_file_is_named_with_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, words: str
) -> None:
    log, centre = tmp_path / "audit.db", SigningCentre(tmp_path)
    await write_log(log, 1)
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    args = ["audit", "verify", str(log), "--checkpoint", str(bad)]
    assert main([*args, "--keys", str(centre.public_key_path)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    assert words in err
    missing = ["--checkpoint", str(tmp_path / "none.json"), "--keys", str(centre.public_key_path)]
    assert main(["audit", "verify", str(log), *missing]) == 2
    assert "cannot read the checkpoint file" in capsys.readouterr().err


async def test_an_unanchored_verification_says_what_it_cannot_see(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "audit.db"
    await write_log(log, 2)
    assert main(["audit", "verify", str(log)]) == 0
    assert "entries cut off the end cannot be detected" in capsys.readouterr().err
