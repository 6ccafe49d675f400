"""Static checks of the house rules (docs/architecture.md): the source tree is read with ``ast`` and
``tokenize`` only — no app, no database, no imports of application code — so these run in well under a
second and fail with the list of offending files and lines.

Imports inside an ``if TYPE_CHECKING:`` block are ignored by every rule: they create no runtime
dependency. The allow-lists below are the reviewed exceptions; growing one is a design decision.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# -- what is application code -----------------------------------------------------------------------
APP_PACKAGES = ("coordination", "agencies", "childplan", "notifications")
SKIPPED_DIRS = ("coordination/translations",)

# -- rule 1: import circles ---------------------------------------------------------------------------
# The app factory registers the CLI and the CLI builds the app: the one circle by design.
ALLOWED_IMPORT_CIRCLES: tuple[frozenset[str], ...] = (frozenset({"coordination.app", "coordination.cli"}),)

# -- rule 2: the shell (files directly under coordination/) imports no domain package -----------------
SHELL_PACKAGE = "coordination"
DOMAIN_TOP_PACKAGES = ("childplan", "notifications")  # besides coordination's own sub-packages
SHELL_MAY_IMPORT = frozenset({"childplan.compass"})  # a documented leaf vocabulary (the Needs Compass)
SHELL_FILES_REGISTERING_EVERYTHING = frozenset(
    {
        "coordination/app.py",  # the app factory registers every package's blueprints
        "coordination/cli.py",  # the CLI reaches every package's operations
        "coordination/all_models.py",  # imports every package's tables for the metadata
        "coordination/access.py",  # the access core reads the domain's tables by design
    }
)

# -- rule 3: who commits ----------------------------------------------------------------------------------
COMMITTING_FILES = frozenset(
    {
        "coordination/form_writes.py",  # the request's one commit
        "coordination/auth.py",  # login, logout, the back-off
        "coordination/audit.py",  # the audit writer's own transaction
        "coordination/cli.py",
        "agencies/cli.py",
        "coordination/demo/loader.py",
    }
)

# -- rule 4: type: ignore ---------------------------------------------------------------------------------
MAX_TYPE_IGNORES = 40  # the total must stay below this
TYPE_IGNORE = re.compile(r"type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")
EXPLAINED_REST = re.compile(r"^\s*#\s*\S")  # a second comment, with words in it

# -- rule 6: route functions ------------------------------------------------------------------------------
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "route"})
VIEW_RETURN_ANNOTATION = "ResponseReturnValue"

# -- rule 7: view modules keep no private access helpers --------------------------------------------
PRIVATE_ACTOR_HELPER = re.compile(r"_.*actor")
LOADER_SUFFIX = "_or_404"


# == reading the tree =================================================================================


@dataclass(frozen=True)
class SourceFile:
    path: Path

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def module(self) -> str:
        parts = list(self.path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)


def _skipped(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rel == skipped or rel.startswith(skipped + "/") for skipped in SKIPPED_DIRS)


@cache
def source_files() -> tuple[SourceFile, ...]:
    found = []
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not _skipped(path):
                found.append(SourceFile(path))
    return tuple(found)


@cache
def modules() -> dict[str, SourceFile]:
    return {source.module: source for source in source_files()}


@cache
def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree, like ``ast.walk``, except the bodies of ``if TYPE_CHECKING:`` blocks
    (their ``else:`` branch runs, so it is kept)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            children: Iterable[ast.AST] = node.orelse
        else:
            children = ast.iter_child_nodes(node)
        stack.extend(reversed(list(children)))


def package_dirs() -> list[Path]:
    """Directories of the application packages that are packages (hold an ``__init__.py``)."""
    return sorted({source.path.parent for source in source_files() if source.is_package})


# == the import graph =================================================================================


@dataclass(frozen=True)
class Import:
    source: SourceFile
    line: int
    target: str  # an application module

    def __str__(self) -> str:
        return f"{self.source.rel}:{self.line} imports {self.target}"


def _nearest_module(name: str) -> str | None:
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _imported_names(source: SourceFile, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = source.module.split(".") if source.is_package else source.module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    known = modules()
    # ``from a.b import c`` depends on the module a.b.c when there is one, else on a.b (c is a name in it)
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]


@cache
def imports_of(source: SourceFile) -> tuple[Import, ...]:
    """The application modules a file imports at run time, anywhere in the file (functions too)."""
    found: dict[Import, None] = {}  # ordered and without repeats (two names from one module on a line)
    for node in runtime_nodes(parse(source.path)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in _imported_names(source, node):
                target = _nearest_module(name)
                if target is not None and target != source.module:
                    found[Import(source, node.lineno, target)] = None
    return tuple(found)


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for source in source_files():
        graph[source.module].update(found.target for found in imports_of(source))
    return graph


def strongly_connected_components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (no recursion limit to worry about)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


# == the rules ========================================================================================


def test_no_import_circles() -> None:
    """No two application modules import each other, directly or through others (the import graph
    has no strongly connected component of more than one module), except app ↔ cli."""
    graph = import_graph()
    assert len(graph) > 100, f"only {len(graph)} modules found under {ROOT}"
    assert sum(len(targets) for targets in graph.values()) > 200, "hardly any imports found"

    # the algorithm itself finds a circle (so an empty answer means there is none)
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert sorted(map(sorted, strongly_connected_components(toy))) == [["a", "b", "c"], ["d"], ["e"]]

    components = strongly_connected_components(graph)
    assert sum(len(component) for component in components) == len(graph)  # every module in exactly one
    circles = [c for c in components if len(c) > 1 and frozenset(c) not in ALLOWED_IMPORT_CIRCLES]

    report = []
    for circle in sorted(circles, key=lambda c: sorted(c)):
        report.append("circle of " + ", ".join(sorted(circle)) + ":")
        members = [modules()[name] for name in sorted(circle)]
        report += [f"  {edge}" for member in members for edge in imports_of(member) if edge.target in circle]
    assert not circles, "import circles:\n" + "\n".join(report)


def _shell_files() -> list[SourceFile]:
    return [source for source in source_files() if source.path.parent == ROOT / SHELL_PACKAGE]


def _domain_packages() -> list[str]:
    shell = ROOT / SHELL_PACKAGE
    own = [f"{SHELL_PACKAGE}.{d.name}" for d in sorted(shell.iterdir()) if (d / "__init__.py").is_file()]
    return own + list(DOMAIN_TOP_PACKAGES)


def test_shell_imports_no_domain_package() -> None:
    """The shell — the files directly under coordination/ — imports nothing from coordination's
    sub-packages, childplan or notifications (except the leaf vocabulary childplan.compass); the domain
    builds on the shell, never the other way round. The app factory, the CLI, the model registry and the
    access core are the reviewed exceptions."""
    shell = _shell_files()
    domain = _domain_packages()
    assert len(shell) > 20, f"only {len(shell)} shell files found under {ROOT / SHELL_PACKAGE}"
    assert {"coordination.children", "coordination.consent", "coordination.concerns"} <= set(domain), domain
    missing = sorted(rel for rel in SHELL_FILES_REGISTERING_EVERYTHING if not (ROOT / rel).is_file())
    assert not missing, f"exempt files that do not exist (update the allow-list): {missing}"

    def is_domain(target: str) -> bool:
        if target in SHELL_MAY_IMPORT or any(target.startswith(ok + ".") for ok in SHELL_MAY_IMPORT):
            return False
        return any(target == package or target.startswith(package + ".") for package in domain)

    assert sum(len(imports_of(source)) for source in shell) > 50, "hardly any imports found in the shell"
    checked = [source for source in shell if source.rel not in SHELL_FILES_REGISTERING_EVERYTHING]
    offending = [str(edge) for source in checked for edge in imports_of(source) if is_domain(edge.target)]
    assert not offending, "the shell imports domain packages:\n" + "\n".join(offending)


def _is_session_commit(node: ast.Call) -> bool:
    if not (isinstance(node.func, ast.Attribute) and node.func.attr == "commit"):
        return False
    owner = node.func.value
    return (isinstance(owner, ast.Name) and owner.id == "session") or (
        isinstance(owner, ast.Attribute) and owner.attr == "session"
    )


def test_commits_only_in_the_shell() -> None:
    """``session.commit()`` (or ``<anything>.session.commit()``) is called only by the shell's writers:
    the request's one commit (form_writes), login, the audit writer's own transaction, the CLIs and the
    demo loader. Operations and views never commit."""
    files = source_files()
    assert len(files) > 100, f"only {len(files)} source files found under {ROOT}"
    missing = sorted(rel for rel in COMMITTING_FILES if not (ROOT / rel).is_file())
    assert not missing, f"allow-listed files that do not exist (update the allow-list): {missing}"

    commits = [
        f"{source.rel}:{node.lineno}"
        for source in files
        for node in runtime_nodes(parse(source.path))
        if isinstance(node, ast.Call) and _is_session_commit(node)
    ]
    assert any(found.startswith("coordination/form_writes.py:") for found in commits), "no commit found at all"
    offending = [found for found in commits if found.rpartition(":")[0] not in COMMITTING_FILES]
    assert not offending, "session.commit() outside the shell's writers:\n" + "\n".join(offending)


def _comments(path: Path) -> Iterator[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    for token in tokens:
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string


def test_type_ignores_are_few_and_explained() -> None:
    """Every ``# type: ignore`` names its error code(s) and says why in a second comment on the same
    line (``# type: ignore[attr-defined]  # Flask-Login adds it at run time``); there are fewer than
    MAX_TYPE_IGNORES in all."""
    files = source_files()
    assert len(files) > 100, f"only {len(files)} source files found under {ROOT}"

    sample = TYPE_IGNORE.search("# type: ignore[attr-defined]  # Flask-Login adds it at run time")
    assert sample is not None and sample["codes"] and EXPLAINED_REST.match(sample["rest"])

    found: list[str] = []
    unexplained: list[str] = []
    per_file: dict[str, int] = defaultdict(int)
    for source in files:
        for line, comment in _comments(source.path):
            match = TYPE_IGNORE.search(comment)
            if match is None:
                continue
            where = f"{source.rel}:{line}"
            found.append(where)
            per_file[source.rel] += 1
            if not match["codes"] or match["codes"] == "[]":
                unexplained.append(f"{where}: no error code: {comment}")
            elif not EXPLAINED_REST.match(match["rest"]):
                unexplained.append(f"{where}: no reason: {comment}")

    counts = "\n".join(f"  {n:4} {rel}" for rel, n in sorted(per_file.items(), key=lambda item: -item[1]))
    problems = []
    if unexplained:
        problems.append(f"{len(unexplained)} type: ignore comments without code or reason:\n" + "\n".join(unexplained))
    if len(found) >= MAX_TYPE_IGNORES:
        problems.append(f"{len(found)} type: ignore comments (must be under {MAX_TYPE_IGNORES}):\n{counts}")
    assert not problems, "\n\n".join(problems)


def _prefix(file_name: str) -> str:
    """``raise_forms.py`` → ``raise``; ``review_view.py`` → ``review``; ``forms.py`` → ``forms``."""
    return file_name.removesuffix(".py").partition("_")[0]


def test_no_shared_file_name_prefix() -> None:
    """In a package directory no two modules share the part of their name before the first underscore
    (``raise_forms.py`` and ``raise_views.py`` belong in a ``raise/`` sub-package). A view model
    (``review_view.py``) counts by its own prefix (``review``)."""
    directories = package_dirs()
    assert len(directories) > 10, f"only {len(directories)} package directories found under {ROOT}"

    assert _prefix("raise_forms.py") == _prefix("raise_views.py") == "raise"
    assert _prefix("review_view.py") == "review" != _prefix("reviews.py")
    module_files = [path for directory in directories for path in directory.glob("*.py")]
    assert len(module_files) > 100, f"only {len(module_files)} module files found in package directories"

    offending = []
    for directory in directories:
        by_prefix: dict[str, list[str]] = defaultdict(list)
        for path in sorted(directory.glob("*.py")):
            if path.name != "__init__.py":
                by_prefix[_prefix(path.name)].append(path.name)
        for prefix, names in sorted(by_prefix.items()):
            if len(names) > 1:
                rel = directory.relative_to(ROOT).as_posix()
                offending.append(f"{rel}/: {', '.join(names)} share the prefix {prefix!r}")
    assert not offending, "files that belong in a sub-package:\n" + "\n".join(offending)


def _is_route_decorator(decorator: ast.expr) -> bool:
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in ROUTE_METHODS
        and isinstance(decorator.func.value, ast.Name)
    )


def _names_response_return_value(annotation: ast.expr | None) -> bool:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):  # a quoted annotation
        annotation = ast.parse(annotation.value, mode="eval").body
    if isinstance(annotation, ast.Name):
        return annotation.id == VIEW_RETURN_ANNOTATION
    return isinstance(annotation, ast.Attribute) and annotation.attr == VIEW_RETURN_ANNOTATION


def test_views_are_annotated() -> None:
    """Every route function (``@<blueprint>.get/.post/.put/.patch/.delete/.route(...)``) is annotated
    ``-> ResponseReturnValue``."""
    routes = []
    for source in source_files():
        for node in runtime_nodes(parse(source.path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                _is_route_decorator(d) for d in node.decorator_list
            ):
                routes.append((source, node))
    assert len(routes) > 50, f"only {len(routes)} route functions found under {ROOT}"

    offending = []
    for source, function in routes:
        if not _names_response_return_value(function.returns):
            written = ast.unparse(function.returns) if function.returns is not None else "nothing"
            offending.append(f"{source.rel}:{function.lineno} {function.name} returns {written}")
    assert not offending, f"route functions not annotated -> {VIEW_RETURN_ANNOTATION}:\n" + "\n".join(offending)


def _view_modules() -> list[SourceFile]:
    return [source for source in source_files() if source.path.name == "views.py" or source.path.parent.name == "views"]


def test_views_keep_no_private_access_helpers() -> None:
    """View modules (``views.py``, or any module in a ``views/`` package) define no ``_…actor…`` helper
    and no ``…_or_404`` loader: who-may rules and loaders belong in ``access`` modules; a view opens with
    ``@policy`` and one ``get_<thing>_or_404``."""
    views = _view_modules()
    assert len(views) > 10, f"only {len(views)} view modules found under {ROOT}"

    functions = [
        (source, node)
        for source in views
        for node in runtime_nodes(parse(source.path))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    assert len(functions) > 100, f"only {len(functions)} functions found in view modules"

    offending = [
        f"{source.rel}:{function.lineno} {function.name}"
        for source, function in functions
        if PRIVATE_ACTOR_HELPER.match(function.name) or function.name.endswith(LOADER_SUFFIX)
    ]
    assert not offending, "access helpers defined in view modules:\n" + "\n".join(offending)
