"""The app bench's measurements run (two rounds, offline; nothing about time is asserted)."""

from __future__ import annotations

from terminal.bench.app import Rig, code_to_approved, key_to_frame


def test_code_to_approved_and_key_to_frame_measure(tmp_path):
    rig = Rig(tmp_path / "offline", fps=15)
    try:
        samples = code_to_approved(2, rig, lambda i: rig.token(300 + i))
    finally:
        rig.close()
    assert len(samples) == 2 and all(s > 0 for s in samples)
    keys = key_to_frame(2, tmp_path)
    assert set(keys) == {"key_ms", "render_ms", "amount_qr_ms", "sign_draw_ms"}
