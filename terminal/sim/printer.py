"""The recording printer: python-escpos's Dummy behind our ESC/POS backend, so tests read the
exact bytes a real printer would have been sent."""

from __future__ import annotations

from terminal.hw.printer import EscposPrinter, _escpos


class DummyPrinter(EscposPrinter):
    def __init__(self, paper_width: int = 384):
        self.dummy = _escpos().Dummy()
        super().__init__(
            "dummy", "memory", lambda: self.dummy, paper_width, "the dummy printer always opens"
        )

    @property
    def output(self) -> bytes:
        return self.dummy.output
