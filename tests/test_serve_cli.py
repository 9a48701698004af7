"""``verivote serve``'s errors: one line on standard error, exit code 2, never a traceback,
never "serving on …" before the socket is bound, and nothing written to a file that is
not already a store."""

from __future__ import annotations

import socket

import pytest

from verivote.cli import main


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "operator.key"
    path.write_text("11" * 32)
    return path


def serve(capsys, *args):
    code = main(["serve", *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err):
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_port_out_of_range(capsys, tmp_path, key, port):
    code, out, err = serve(
        capsys, "--store", f"sqlite:{tmp_path}/x.db", "--key", str(key), "--port", port
    )
    assert code == 2 and out == ""
    assert "out of range" in one_line(err)


def test_a_port_in_use(capsys, tmp_path, key):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = serve(
            capsys, "--store", f"sqlite:{tmp_path}/x.db", "--key", str(key), "--port", str(port)
        )
    assert code == 2 and "serving" not in out
    assert f"cannot listen on 127.0.0.1:{port}" in one_line(err)


def test_a_missing_store_says_how_to_make_one(capsys, tmp_path, key):
    code, _, err = serve(
        capsys, "--store", f"sqlite:{tmp_path}/none.db", "--key", str(key), "--port", "0"
    )
    assert code == 2
    assert "no such store" in one_line(err) and "verivote board init" in err
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("content", [b"", b"hello, not a database\n", b"SQLite format 3\x00"])
def test_a_file_that_is_not_a_store_is_left_untouched(capsys, tmp_path, key, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    code, out, err = serve(capsys, "--store", f"sqlite:{path}", "--key", str(key), "--port", "0")
    assert code == 2 and "serving" not in out
    assert "not a verivote store" in one_line(err)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db", "operator.key"]


def test_an_empty_store_says_so(capsys, tmp_path, key):
    from verivote.board.sqlite_store import SQLiteStore

    SQLiteStore(tmp_path / "board.db").close()
    code, _, err = serve(
        capsys, "--store", f"sqlite:{tmp_path}/board.db", "--key", str(key), "--port", "0"
    )
    assert code == 2
    assert "holds no election yet" in one_line(err)


@pytest.mark.parametrize("option", ["--max-inflight", "--max-connections", "--read-timeout"])
def test_limits_must_be_positive(capsys, tmp_path, key, option):
    code, _, err = serve(
        capsys, "--store", f"sqlite:{tmp_path}/x.db", "--key", str(key), option, "0"
    )
    assert code == 2 and "must be positive" in one_line(err)
