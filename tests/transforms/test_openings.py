"""Opening family and variation from every ECOUrl slug shape in the fixtures, glued ones too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tests.transforms.test_archive_games import _opening
from transforms.games import opening_from_url

FAMILY_WORDS = ("Defense", "Game", "Opening", "Attack", "Gambit", "Countergambit", "System")
URL = "https://www.chess.com/openings/"


def fixture_eco_urls(root: Path) -> set[str]:
    """Every ECOUrl in the fixtures: PGN headers (JSON-escaped or not) and JSON `eco` keys."""
    found: set[str] = set()
    pattern = re.compile(r'(?:ECOUrl \\?"|"eco": ?")(https://www\.chess\.com/openings/[^"\\]+)')
    for path in sorted(root.rglob("*")):
        if path.suffix in (".json", ".pgn") and path.is_file():
            found.update(pattern.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found


@pytest.fixture(scope="module")
def eco_urls() -> set[str]:
    assert FIXTURES.is_dir(), f"fixture folder {FIXTURES} is missing"
    urls = fixture_eco_urls(FIXTURES)
    assert len(urls) > 3000  # thousands of distinct slugs, about half with glued moves
    return urls


def test_every_fixture_eco_url_maps_to_a_family_by_the_rule(eco_urls: set[str]) -> None:
    shapes = {"glued": 0, "glued to a family word": 0, "eco prefix": 0, "plain": 0}
    for url in sorted(eco_urls):
        family, variation = opening_from_url(url)
        assert (family, variation) == _opening(url), url
        assert family, url  # every fixture slug names a family
        assert "..." not in family, (url, family)
        assert not re.search(r"(^| )\d", family), (url, family)
        slug = url.rsplit("/", 1)[1]
        shapes["eco prefix" if re.match(r"[A-E]\d\d-", slug) else "plain"] += 1
        if re.search(r"[A-Za-z]\.\.\.", slug):
            shapes["glued"] += 1
            if re.search(rf"({'|'.join(FAMILY_WORDS)})\.\.\.", slug):
                shapes["glued to a family word"] += 1
    assert all(shapes.values()), shapes  # every shape is present and checked


@pytest.mark.parametrize(
    ("slug", "family", "variation"),
    [
        ("Alapin-Sicilian-Defense...4.exd5-Qxd5-5.d4-Nf6", "Alapin Sicilian Defense",
         "4.exd5 Qxd5 5.d4 Nf6"),
        ("Giuoco-Piano-Game...", "Giuoco Piano Game", None),
        ("Giuoco-Piano-Game", "Giuoco Piano Game", None),
        ("Alapin-Sicilian-Defense-Barmen-Defense...5.Nf3-Bf5", "Alapin Sicilian Defense",
         "Barmen Defense 5.Nf3 Bf5"),
        ("Queens-Gambit-Declined-Albin-Countergambit", "Queens Gambit Declined",
         "Albin Countergambit"),
        ("Albin-Countergambit-Lasker-Trap", "Albin Countergambit", "Lasker Trap"),
        ("Center-Game-Accepted", "Center Game Accepted", None),
        ("Queens-Pawn-Opening-1...c6", "Queens Pawn Opening", "1...c6"),
        ("French-Defense-Horwitz-Papa-Ticulat-Gambit-3...dxe4-4.Nc3-Nf6", "French Defense",
         "Horwitz Papa Ticulat Gambit 3...dxe4 4.Nc3 Nf6"),
        ("Kings-Indian...3.g3", "Kings Indian", "3.g3"),
        ("Vienna-3.f4", "Vienna", "3.f4"),
        ("A04-Reti-Opening-Nimzo-Larsen-Variation...3.Bb2-Bg7", "Reti Opening",
         "Nimzo Larsen Variation 3.Bb2 Bg7"),
    ],
)  # fmt: skip
def test_glued_and_other_slugs(slug: str, family: str, variation: str | None) -> None:
    assert opening_from_url(URL + slug) == (family, variation)
    assert _opening(URL + slug) == (family, variation)  # the test's restatement agrees


NAME = st.from_regex(r"[A-Z][a-z]{2,9}", fullmatch=True).filter(
    lambda w: w not in FAMILY_WORDS and w not in ("Accepted", "Declined")
)
MOVES = st.lists(st.from_regex(r"[1-9]\.(?:[a-h][1-8]|N[a-h][1-8])", fullmatch=True), max_size=4)


@given(
    names=st.lists(NAME, min_size=1, max_size=3),
    word=st.sampled_from(FAMILY_WORDS),
    suffix=st.sampled_from(["", "-Accepted", "-Declined"]),
    rest=st.lists(NAME, max_size=2),
    moves=MOVES,
    glue=st.booleans(),
)
def test_generated_slugs(
    names: list[str], word: str, suffix: str, rest: list[str], moves: list[str], glue: bool
) -> None:
    family = "-".join([*names, word]) + suffix
    tail = "-".join([*rest, *moves])
    slug = family + ("..." + tail if glue else ("-" + tail if tail else ""))
    got_family, got_variation = opening_from_url(URL + slug)
    assert got_family == family.replace("-", " ")
    assert got_variation == (tail.replace("-", " ") or None)
