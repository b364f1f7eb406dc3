"""The house rules of README.md's layout: imports only go down the map, no circle in any role, and
settings come from the environment only through the config modules."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "runtime", "segmenter", "edge", "tracker", "player")
# README.md, layout: what each folder may import of ours.
MAY_IMPORT = {
    "protocol": set(),
    "runtime": set(),
    "segmenter": {"protocol"},
    "edge": {"protocol", "segmenter", "runtime"},
    "tracker": {"protocol", "runtime", "player"},
    "player": {"protocol"},
}
CONFIG_MODULES = {"edge/config.py", "tracker/config.py", "player/settings.py", "runtime/settings.py",
                  "segmenter/config.py"}


def modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT), ast.parse(path.read_text())


def module_name(path):
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path, tree, known=()):
    """The dotted names that `path` imports, anywhere in the file: `from a import b` is the module
    `a.b` when that is one of the `known` modules, else `a`."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_only_go_down_the_map(package):
    wrong = set()
    for path, tree in modules():
        if path.parts[0] != package:
            continue
        for target in imported(path, tree):
            top = target.split(".")[0]
            if top in PACKAGES and top != package and top not in MAY_IMPORT[package]:
                wrong.add(f"{path} imports {target}")
    assert not wrong


def test_no_import_circle_in_any_role():
    known = {module_name(path) for path, _ in modules()}
    graph = {}
    for path, tree in modules():
        name = module_name(path)
        graph[name] = {t for t in imported(path, tree, known) if t in known and t != name}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles


def test_only_config_modules_read_the_environment():
    readers = set()
    for path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.add(str(path))
    assert readers <= CONFIG_MODULES
