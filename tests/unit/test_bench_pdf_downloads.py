"""`bench.documents.PdfDownloads` counts what its clients got: a PDF (200 and `%PDF-`) or not, against a small
HTTP server of this test that answers by token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.documents import PdfDownloads


class Answers(BaseHTTPRequestHandler):
    """Token `pdf`: a PDF; `html`: a 200 that is not one; anything else: 404. Every path is recorded."""

    seen: list[str] = []
    enough = threading.Event()  # set at the 30th request

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        Answers.seen.append(self.path)
        if len(Answers.seen) >= 30:
            Answers.enough.set()
        status, body = {"pdf": (200, b"%PDF-1.7 ..."), "html": (200, b"<html>")}.get(token, (404, b"{}"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pdfs_and_failures_are_counted_apart(gateway: str) -> None:
    Answers.seen.clear()
    Answers.enough.clear()
    downloads = PdfDownloads(gateway, ["pdf", "html", "nobody"], clients=2)
    with downloads:
        assert Answers.enough.wait(30)  # the clients made 30 requests
    figures = downloads.figures()
    done = len(Answers.seen)
    got = round(figures["pdf_per_s"] * downloads.seconds)
    # every answer within the block counted once; at most one per client ended after it, not counted
    assert done - 2 <= got + figures["pdf_failed"] <= done
    assert got > 0 and figures["pdf_failed"] > 0
    assert figures["pdf_failed"] >= got  # two of every three tokens are not a PDF
    assert figures["pdf_p50"] > 0
    assert all(path.endswith("&format=pdf") and "settlement-sheet" in path for path in Answers.seen)


def test_no_clients_no_figures(gateway: str) -> None:
    with PdfDownloads(gateway, ["pdf"], clients=0) as downloads:
        pass
    figures = downloads.figures()
    assert figures["pdf_per_s"] == 0 and figures["pdf_failed"] == 0
    assert figures["pdf_p50"] != figures["pdf_p50"]  # NaN: no PDF to take a median of


def test_figures_only_after_the_block_and_clients_need_tokens(gateway: str) -> None:
    downloads = PdfDownloads(gateway, ["pdf"], clients=1)
    with downloads, pytest.raises(RuntimeError):
        downloads.figures()
    assert downloads.figures()["pdf_failed"] == 0
    with pytest.raises(ValueError):
        PdfDownloads(gateway, [], clients=1)
