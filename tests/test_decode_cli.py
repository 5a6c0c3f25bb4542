"""`qr-terminal decode` on files that are not what their header says (hostile review 2, M8 and
L14): refused in one line each, unread, and the batch goes on."""

from __future__ import annotations

import io
import json

from PIL import Image

from terminal.cli import main


def _png(size: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (size, size), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_huge_file_with_a_small_header_is_refused_unread(tmp_path, capfd):
    sparse, ok = tmp_path / "sparse.png", tmp_path / "ok.png"
    ok.write_bytes(_png())
    with sparse.open("wb") as file:  # a 200×200 header, then 64 MB of holes: no disk used
        file.write(_png()[:100])
        file.truncate(64 << 20)
    assert main(["decode", str(sparse), str(ok)]) == 2
    out, err = capfd.readouterr()
    first, second = (json.loads(line) for line in out.splitlines())
    assert "more than a 200×200 px image can hold" in first["error"]
    assert second["file"] == str(ok) and second["codes"] == []  # the batch went on
    assert err.count("\n") == 1 and "sparse.png" in err


def test_a_png_cut_short_is_one_line_without_the_decoders_own_warnings(tmp_path, capfd):
    whole = _png(600)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[: len(whole) // 2])
    assert main(["decode", str(cut)]) == 2
    out, err = capfd.readouterr()
    assert json.loads(out)["error"] == "damaged or unsupported image data"
    assert err.count("\n") == 1, err  # no "[ WARN:0@…] global grfmt_png.cpp" line before ours


def test_a_symlink_loop_is_not_called_missing(tmp_path, capfd):
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    assert main(["decode", str(tmp_path / "a.png")]) == 2
    assert "symbolic link to nothing" in capfd.readouterr().err
