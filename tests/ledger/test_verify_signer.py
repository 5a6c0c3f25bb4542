"""`journal verify --cert --ca` checks who signed: a certificate issued by the platform CA, valid
when each record was written, naming the device of every record and of the end line; it prints
the exported range and time; bad input is one line and exit 2."""

from __future__ import annotations

import datetime
import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from terminal.cli import main
from terminal.core.records import canonical_json
from terminal.ledger.certs import verify_signed_by
from terminal.sim.ca import SimCA
from tests.ledger.helpers import DEVICE, T0, cli_as_nobody, clock, open_ledger, sale, write_pki

DAY_MS = 86_400_000
EXPORTED_MS = T0 + 3_600_000


@pytest.fixture
def signed(tmp_path):
    """An export of three sales and a refund, its device key, and good cert.pem / ca.pem."""
    ledger = open_ledger(tmp_path)
    first = sale(ledger, 1000)
    for n in range(1, 3):
        sale(ledger, 1000 + n, n)
    ledger.record_refund(original_txn=first.record.txn_id, amount_won=100, clock=clock(9000))
    export = tmp_path / "journal.jsonl"
    export.write_text("\n".join(ledger.export_lines(EXPORTED_MS)) + "\n")
    ledger.close()
    write_pki(tmp_path, ledger.key)
    return tmp_path, ledger.key


def verify(folder, cert="cert.pem", ca="ca.pem", export="journal.jsonl") -> int:
    return main(
        [
            "journal",
            "verify",
            str(folder / export),
            "--cert",
            str(folder / cert),
            "--ca",
            str(folder / ca),
        ]
    )


def test_a_good_export_verifies_and_shows_its_range_and_export_time(signed, capsys):
    folder, _ = signed
    assert verify(folder) == 0
    err = capsys.readouterr().err
    when = datetime.datetime.fromtimestamp(EXPORTED_MS / 1000, datetime.UTC)
    assert f"device {DEVICE}: seq 1..4, exported {when:%Y-%m-%d %H:%M:%S} UTC" in err
    assert "4 records, 0 problem(s)" in err


def test_the_end_line_carries_range_and_time(signed):
    folder, key = signed
    from terminal.signing import jws_verify

    end = json.loads((folder / "journal.jsonl").read_text().splitlines()[-1])["end"]
    payload = json.loads(jws_verify(end, {key.kid: key.public_key})[1])
    assert payload["first_seq"] == 1 and payload["last_seq"] == 4
    assert payload["exported_ms"] == EXPORTED_MS and payload["device_id"] == DEVICE


def test_a_self_signed_certificate_is_rejected(signed, capsys):
    folder, key = signed
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEVICE)])
    at = datetime.datetime.fromtimestamp(T0 / 1000, datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key)
        .serial_number(1)
        .not_valid_before(at - datetime.timedelta(days=1))
        .not_valid_after(at + datetime.timedelta(days=365))
        .sign(key.private_key, hashes.SHA256())
    )
    (folder / "self.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    assert verify(folder, cert="self.pem") == 1
    assert "self-signed" in capsys.readouterr().out
    # Nor does it help to name the self-signed certificate as the CA: it is not a CA.
    assert verify(folder, cert="self.pem", ca="self.pem") == 1


def test_a_certificate_from_another_ca_with_the_same_name_is_rejected(signed, capsys):
    folder, _ = signed
    impostor = SimCA(datetime.datetime.fromtimestamp(T0 / 1000, datetime.UTC))
    (folder / "impostor-ca.pem").write_bytes(
        impostor.certificate.public_bytes(serialization.Encoding.PEM)
    )
    assert verify(folder, ca="impostor-ca.pem") == 1
    assert "does not verify with the platform CA" in capsys.readouterr().out


def test_an_expired_certificate_is_rejected_for_every_record(signed, capsys):
    folder, key = signed
    write_pki(folder, key, ca_at_ms=T0 - 10 * DAY_MS, days=1)
    assert verify(folder) == 1
    out = capsys.readouterr().out
    assert out.count("when the device certificate was expired") == 4


def test_a_certificate_not_yet_valid_is_rejected(signed, capsys):
    folder, key = signed
    write_pki(folder, key, ca_at_ms=T0 + 10 * DAY_MS)
    assert verify(folder) == 1
    assert "not yet valid" in capsys.readouterr().out


def test_a_certificate_of_another_device_is_rejected(signed, capsys):
    folder, key = signed
    write_pki(folder, key, device="D-OTHER-9")
    assert verify(folder) == 1
    out = capsys.readouterr().out
    assert out.count("certificate names D-OTHER-9") == 4
    assert f"end line names device {DEVICE}, certificate D-OTHER-9" in out


def test_an_end_line_naming_another_device_is_rejected(signed):
    folder, key = signed
    lines = (folder / "journal.jsonl").read_text().splitlines()
    end = {
        "device_id": "D-OTHER-9",
        "first_seq": 1,
        "last_seq": 4,
        "last_hash": json.loads(lines[-1]) and _last_hash(lines),
        "exported_ms": EXPORTED_MS,
    }
    lines[-1] = json.dumps({"end": key.jws(canonical_json(end))})
    authority = x509.load_pem_x509_certificates((folder / "ca.pem").read_bytes())
    certificate = x509.load_pem_x509_certificate((folder / "cert.pem").read_bytes())
    problems = [str(p) for p in verify_signed_by(lines, certificate, authority).problems]
    assert any("end line names device D-OTHER-9" in p for p in problems), problems


def _last_hash(lines: list[str]) -> str:
    from terminal.core.records import chain_hash

    return chain_hash(json.loads(lines[-2])["jws"])


def test_verify_without_the_ca_is_refused(signed, capsys):
    folder, _ = signed
    code = main(
        ["journal", "verify", str(folder / "journal.jsonl"), "--cert", str(folder / "cert.pem")]
    )
    assert code == 2 and "--ca" in capsys.readouterr().err


def test_a_certificate_without_a_p256_key_is_one_line(signed, capsys):
    folder, _ = signed
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEVICE)])
    at = datetime.datetime.fromtimestamp(T0 / 1000, datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(at)
        .not_valid_after(at + datetime.timedelta(days=1))
        .sign(key, hashes.SHA384())
    )
    (folder / "p384.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    assert verify(folder, cert="p384.pem") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "P-256" in err and "p384.pem" in err


BAD_EXPORTS = {
    "jws is a number": '{"seq": 1, "jws": 5}\n',
    "seq is text": '{"seq": "1", "jws": "a.b.c"}\n',
    "not an object": "[1, 2, 3]\n",
    "not JSON": "this is not json\n",
    "nested too deeply": "[" * 100_000 + "]" * 100_000 + "\n",
    "end is not text": '{"end": {"device_id": "x"}}\n',
    "huge line": '{"seq": 1, "jws": "' + "A" * 5_000_000 + '"}\n',
}


@pytest.mark.parametrize("name", BAD_EXPORTS)
def test_a_malformed_export_is_one_line_exit_2(signed, capsys, name):
    folder, _ = signed
    (folder / "bad.jsonl").write_text(BAD_EXPORTS[name])
    before = sorted(p.name for p in folder.iterdir())
    assert verify(folder, export="bad.jsonl") == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "bad.jsonl" in captured.err
    assert len(captured.err) < 300 and "Traceback" not in captured.err and captured.out == ""
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_deep_jws_header_is_a_problem_not_a_crash(signed, capsys):
    folder, _ = signed
    from terminal.core.base64url import b64url

    header = b64url(("[" * 50_000 + "]" * 50_000).encode())
    (folder / "deep-header.jsonl").write_text(json.dumps({"seq": 1, "jws": f"{header}.e30.AA"}))
    assert verify(folder, export="deep-header.jsonl") == 1
    assert "nested too deeply" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("what", "argument"),
    [("export", "journal.jsonl"), ("cert", "cert.pem"), ("ca", "ca.pem")],
)
@pytest.mark.parametrize("problem", ["missing", "directory", "not UTF-8 / not PEM"])
def test_unusable_input_files_are_one_line_exit_2(signed, capsys, what, argument, problem):
    folder, _ = signed
    target = folder / argument
    target.unlink()
    if problem == "directory":
        target.mkdir()
    elif problem != "missing":
        target.write_bytes(b"\xff\xfe\x00garbage\n")
    names = {"export": "journal.jsonl", "cert": "cert.pem", "ca": "ca.pem"}
    assert (
        verify(folder, **{k: v for k, v in names.items() if k != "export"}, export=names["export"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and argument in err and "Traceback" not in err


@pytest.mark.parametrize("argument", ["journal.jsonl", "cert.pem", "ca.pem"])
def test_unreadable_input_files_are_one_line_exit_2(signed, open_folder, argument):
    folder, _ = signed
    for name in ("journal.jsonl", "cert.pem", "ca.pem"):
        (open_folder / name).write_bytes((folder / name).read_bytes())
        os.chmod(open_folder / name, 0o644)
    os.chmod(open_folder / argument, 0o600)  # root's, so 'nobody' may not read it
    code, err = cli_as_nobody(
        [
            "journal",
            "verify",
            str(open_folder / "journal.jsonl"),
            "--cert",
            str(open_folder / "cert.pem"),
            "--ca",
            str(open_folder / "ca.pem"),
        ]
    )
    assert code == 2, err
    assert err.count("\n") == 1 and argument in err and "ermission" in err
