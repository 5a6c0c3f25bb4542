"""`scripts/bench display` runs and reports each panel format and the receipt (no timings
asserted)."""

from terminal.bench import SECTIONS


def test_display_bench_reports_both_panels_and_the_receipt(capsys):
    SECTIONS["display"](2)
    out = capsys.readouterr().out
    assert "480×320 RGB565" in out and "800×480 XRGB8888" in out
    assert out.count("× copy") == 2
    assert "at 9600 baud" in out
