"""The documentation: the MkDocs site in docs/ builds under --strict (no broken link or anchor, no page missing from
the navigation, none the navigation names that is missing) and loads nothing from elsewhere; the README, its front
door, links only to files that exist, keeps its two set-up commands and the commands table of docs/commands.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)\)")
#: What a built page may not load from another host: a script, a stylesheet, a font or an image.
REMOTE = re.compile(r"""<(?:script|img|iframe)[^>]*\ssrc=["']?(?:https?:)?//|<link[^>]*\shref=["']?(?:https?:)?//""",
                    re.I)


def prose(text: str) -> str:
    """Markdown without its fenced blocks and code spans: what links can be written in."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """A heading's anchor, as GitHub and MkDocs' table of contents make it for the headings these pages have."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return re.sub(r"\s+", "-", text.strip())


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def relative_links(page: Path) -> list[str]:
    return [target for _, target in LINK.findall(prose(page.read_text(encoding="utf-8")))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_the_site_builds_strictly_and_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(site)], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    pages = sorted(path.stem for path in DOCS.glob("*.md"))
    assert "index" in pages and len(pages) >= 15
    for stem in pages:
        built = site / ("index.html" if stem == "index" else f"{stem}/index.html")
        assert built.is_file(), f"docs/{stem}.md was not built"
    for built in site.rglob("*.html"):
        found = REMOTE.search(built.read_text(encoding="utf-8"))
        assert found is None, f"{built.relative_to(site)} loads {found.group(0)!r}"
    assert (site / "screenshots" / "4-dry-run.png").is_file()


def test_every_relative_link_of_the_readme_points_at_a_file_and_heading_that_exist() -> None:
    links = relative_links(README)
    assert any(target.startswith("docs/") for target in links)
    for target in links:
        path, _, anchor = target.partition("#")
        file = (README.parent / path).resolve() if path else README
        assert file.is_relative_to(ROOT) and file.exists(), f"README.md links to {target}, which does not exist"
        if anchor:
            assert file.suffix == ".md", target
            assert anchor in anchors(file), f"README.md links to {target}: {file.name} has no such heading"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in relative_links(README)}
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "page-wizard.md":  # reached from docs/index.md and the web page's section of the site
            assert page.resolve() in linked, f"README.md does not link to docs/{page.name}"


def test_the_readme_keeps_its_two_set_up_commands() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"\n## Set up\n\n```sh\n(.*?)```", text, re.S)
    assert block is not None
    assert block.group(1).splitlines() == [
        "python -m pip install -e . && python -m importer run sample_data/leads.csv -m mappings/example.yaml --sandbox",
        "python -m pip install -e '.[test]' && python -m pytest -n 2",
    ]


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| `")]


def test_the_readme_commands_table_is_the_one_of_docs_commands() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    documented = table_rows((DOCS / "commands.md").read_text(encoding="utf-8").split("\nExit codes:", 1)[0])
    # GitHub needs a pipe escaped even inside code in a table; MkDocs shows the backslash, so the page has none.
    # The README's links start from the repository's root, the page's from docs/.
    as_in_docs = [row.replace("\\|", "|").replace("](docs/", "](") for row in table_rows(section)]
    assert len(documented) >= 18
    assert as_in_docs == documented
    for row in table_rows(section):
        for span in re.findall(r"`[^`]*`", row):
            assert re.search(r"(?<!\\)\|", span) is None, f"an unescaped | in {span} splits the README's table"
