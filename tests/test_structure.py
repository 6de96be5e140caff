"""How the code is layered: audiences (one blueprint each) never import each other, and the
analysis package knows nothing of the web application."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
AUDIENCES = {"respond", "trainer", "leadership", "admin", "auth"}


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: "from . import x" or "from .x import y"
                names.update([module.split(".")[0]] if module
                             else [alias.name for alias in node.names])
            else:
                names.add(module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("audience", sorted(AUDIENCES))
def test_no_audience_imports_another(audience):
    names = imported(ROOT / "survey" / f"{audience}.py")
    others = {n for n in names if n in AUDIENCES or n.removeprefix("survey.") in AUDIENCES}
    assert others - {audience} == set()


def test_analysis_never_imports_the_web_application():
    for path in (ROOT / "analysis").glob("*.py"):
        names = imported(path)
        assert not {n for n in names if n.split(".")[0] in {"flask", "survey", "sqlalchemy"}}, path
