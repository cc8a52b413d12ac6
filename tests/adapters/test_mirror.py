"""The mirror serves a raw-store folder like the PubAPI: validators, 304, 404, 301, faults."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import httpx
import pytest

from adapters.chesscom import parse_http_date
from mirror import Fault, running_mirror

UA = {"User-Agent": "mirror-test/1.0 (test@example.com)"}


def test_archives_are_served_verbatim_with_weak_etag_and_chesscom_last_modified(
    fixtures_dir: Path,
) -> None:
    expected = (fixtures_dir / "shaunchess123" / "archives.json").read_bytes()
    with running_mirror(fixtures_dir) as mirror:
        response = httpx.get(f"{mirror.base_url}/player/shaunchess123/games/archives", headers=UA)
    assert response.status_code == 200
    assert response.content == expected
    assert response.headers["etag"].startswith('W/"')
    last_modified = response.headers["last-modified"]
    # Chess.com's own odd form: "Thursday, 17-Oct-2024 22:34:57 GMT+0000".
    assert last_modified.endswith(" GMT+0000")
    assert "-" in last_modified.split(",")[1]
    mtime = int((fixtures_dir / "shaunchess123" / "archives.json").stat().st_mtime)
    parsed = parse_http_date(last_modified)
    assert parsed is not None
    assert int(parsed.timestamp()) == mtime


def raw_get(url: str, accept_encoding: str) -> tuple[httpx.Headers, bytes]:
    """Headers and the body exactly as sent on the wire (httpx does not decompress it)."""
    with (
        httpx.Client() as client,
        client.stream("GET", url, headers={**UA, "Accept-Encoding": accept_encoding}) as response,
    ):
        return response.headers, b"".join(response.iter_raw())


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("gzip", True),
        ("br, gzip;q=0.5", True),
        ("*", True),
        ("identity", False),
        ("gzip;q=0", False),
        ("br", False),
    ],
)
def test_month_body_is_byte_identical_and_gzipped_only_when_accepted(
    fixtures_dir: Path, accept_encoding: str, gzipped: bool
) -> None:
    expected = (fixtures_dir / "magnuscarlsen" / "2024" / "02.json").read_bytes()
    with running_mirror(fixtures_dir) as mirror:
        url = f"{mirror.base_url}/player/magnuscarlsen/games/2024/02"
        headers, wire = raw_get(url, accept_encoding)
    assert int(headers["content-length"]) == len(wire)
    if gzipped:
        assert headers["content-encoding"] == "gzip"
        assert wire[:2] == b"\x1f\x8b"
        assert gzip.decompress(wire) == expected
        assert len(wire) < len(expected)
    else:
        assert "content-encoding" not in headers
        assert wire == expected


def test_conditional_requests_get_304_without_body(fixtures_dir: Path) -> None:
    with running_mirror(fixtures_dir) as mirror:
        url = f"{mirror.base_url}/player/wizardchiken/games/2023/01"
        first = httpx.get(url, headers=UA)
        etag, last_modified = first.headers["etag"], first.headers["last-modified"]
        by_etag = httpx.get(url, headers={**UA, "If-None-Match": etag})
        by_date = httpx.get(url, headers={**UA, "If-Modified-Since": last_modified})
        by_std_date = httpx.get(
            url, headers={**UA, "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}
        )
        stale_etag = httpx.get(url, headers={**UA, "If-None-Match": 'W/"0000"'})
        old_date = httpx.get(
            url, headers={**UA, "If-Modified-Since": "Thu, 01 Jan 1998 00:00:00 GMT"}
        )
        log = mirror.log()
    assert (by_etag.status_code, by_etag.content) == (304, b"")
    assert (by_date.status_code, by_date.content) == (304, b"")
    assert by_std_date.status_code == 304
    assert by_etag.headers["etag"] == etag
    assert stale_etag.status_code == 200
    assert old_date.status_code == 200
    assert [r.conditional for r in log] == [False, True, True, True, True, True]
    assert [r.status for r in log] == [200, 304, 304, 304, 200, 200]
    assert all(r.user_agent == UA["User-Agent"] for r in log)


def test_unknown_player_is_404_in_chesscom_error_shape(fixtures_dir: Path) -> None:
    with running_mirror(fixtures_dir) as mirror:
        response = httpx.get(f"{mirror.base_url}/player/nosuchplayer/games/archives", headers=UA)
        missing_month = httpx.get(f"{mirror.base_url}/player/afgano29/games/2016/08", headers=UA)
    assert response.status_code == 404
    assert response.json() == {"code": 0, "message": 'User "nosuchplayer" not found.'}
    assert missing_month.status_code == 404
    assert missing_month.json()["code"] == 0


def test_mixed_case_username_redirects_to_lowercase(fixtures_dir: Path) -> None:
    with running_mirror(fixtures_dir) as mirror:
        response = httpx.get(f"{mirror.base_url}/player/FabianoCaruana/games/archives", headers=UA)
    assert response.status_code == 301
    assert response.headers["location"] == "/pub/player/fabianocaruana/games/archives"


def test_archives_list_is_built_from_month_files_when_no_archives_json(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    for month in ("2023/06", "2024/10", "2023/05"):
        target = tmp_path / "shaunchess123" / f"{month}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fixtures_dir / "shaunchess123" / f"{month}.json", target)
    with running_mirror(tmp_path) as mirror:
        response = httpx.get(f"{mirror.base_url}/player/shaunchess123/games/archives", headers=UA)
    assert response.json() == {
        "archives": [
            "https://api.chess.com/pub/player/shaunchess123/games/2023/05",
            "https://api.chess.com/pub/player/shaunchess123/games/2023/06",
            "https://api.chess.com/pub/player/shaunchess123/games/2024/10",
        ]
    }


def test_pgn_endpoint_is_newest_first(fixtures_dir: Path) -> None:
    games = json.loads((fixtures_dir / "fabianocaruana" / "2020" / "05.json").read_bytes())["games"]
    with running_mirror(fixtures_dir) as mirror:
        response = httpx.get(f"{mirror.base_url}/player/fabianocaruana/games/2020/05/pgn")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.chess-pgn")
    assert response.text.startswith(games[-1]["pgn"])
    assert response.text.count('[Event "') == len(games)


def test_faults_apply_n_times_then_the_url_serves_normally(fixtures_dir: Path) -> None:
    path = "/player/wizardchiken/games/2023/01"
    with running_mirror(
        fixtures_dir,
        faults={
            path: [
                Fault.http(429, retry_after="7"),
                Fault.http(503, times=2),
                Fault.blocked_html(),
                Fault.truncated(),
            ]
        },
    ) as mirror:
        url = mirror.base_url + path
        answers = [httpx.get(url, headers=UA) for _ in range(6)]
        mirror.add_fault(path, Fault.dropped())
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(url, headers=UA)
        mirror.add_fault(path, Fault.short_body())
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(url, headers=UA)
        after = httpx.get(url, headers=UA)
        log = mirror.log()
    full = (fixtures_dir / "wizardchiken" / "2023" / "01.json").read_bytes()
    assert [a.status_code for a in answers] == [429, 503, 503, 403, 200, 200]
    assert answers[0].headers["retry-after"] == "7"
    assert "retry-after" not in answers[1].headers
    assert answers[3].headers["content-type"].startswith("text/html")
    assert answers[4].content == full[: len(full) // 2]
    assert answers[5].content == full
    assert after.content == full
    assert [r.fault for r in log] == [
        "status 429", "status 503", "status 503", "html", "truncate", None, "drop", "short", None,
    ]  # fmt: skip


def test_serving_a_fault_leaves_the_callers_fault_as_it_was(fixtures_dir: Path) -> None:
    path = "/player/wizardchiken/games/2023/01"
    mine = Fault.http(503, times=2)
    added = Fault.http(429)
    with running_mirror(fixtures_dir, faults={path: [mine]}) as mirror:
        mirror.add_fault(path, added)
        codes = [httpx.get(mirror.base_url + path, headers=UA).status_code for _ in range(4)]
    assert codes == [503, 503, 429, 200]
    assert (mine.times, added.times) == (2, 1)  # the plan the test wrote still says what it said


def test_slow_fault_delays_and_the_log_counts_in_flight(fixtures_dir: Path) -> None:
    path = "/player/wizardchiken/games/2023/01"
    with running_mirror(fixtures_dir, faults={path: [Fault.slow(0.3)]}) as mirror:
        response = httpx.get(mirror.base_url + path, headers=UA)
    assert response.status_code == 200
    assert mirror.log()[0].fault == "slow"
    assert mirror.max_in_flight == 1
    assert mirror.log()[0].in_flight == 1
