"""The package's structure: modules by role, no import cycles, a cheap `import cnn_tutor`, a complete `__all__`.

The module graph is read from the source (``import`` statements at module
level and inside functions), so the test also documents it:
``python tests/test_package.py`` prints every module's imports and size.
"""

import ast
import importlib
import inspect
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "cnn_tutor"
#: A module should be readable in one sitting.
MAX_LINES = 500


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def import_graph():
    """Module -> the package modules it imports (module level only, which is what makes cycles)."""
    graph = {}
    names = {name for name, _ in _modules()}
    for name, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for node in tree.body:
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                base = node.module
                if node.level:
                    base = ".".join(name.split(".")[: -node.level] + [node.module])
                targets.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in names else base for alias in node.names)
        graph[name] = sorted(t for t in targets if t in names and t != name)
    return graph


def test_no_import_cycles():
    graph = import_graph()
    # A package's __init__ may import its own submodules (re-exports); edges from a submodule to a
    # parent package would close a cycle through that __init__.
    state, path = {}, []

    def visit(node):
        state[node] = "active"
        path.append(node)
        for target in graph[node]:
            if state.get(target) == "active":
                cycle = path[path.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node)


def test_modules_by_role_do_not_reach_across():
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith("cnn_tutor.metrics") or name in ("cnn_tutor.baselines", "cnn_tutor.cost"):
            # scoring and baselines never build or train models
            assert not any(t.startswith("cnn_tutor.models") for t in targets), (name, targets)
        if name.startswith("cnn_tutor.models") and name not in ("cnn_tutor.models", "cnn_tutor.models.training",
                                                                "cnn_tutor.models.cache"):
            # builders never import the training module
            assert "cnn_tutor.models.training" not in targets, (name, targets)
        if name.startswith(("cnn_tutor.data", "cnn_tutor.ops", "cnn_tutor.viz")):
            assert not any(t.startswith("cnn_tutor.models") for t in targets), (name, targets)


@pytest.mark.parametrize("name,path", list(_modules()), ids=[name for name, _ in _modules()])
def test_every_module_is_short_and_documented(name, path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by role"
    assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{name} has no docstring"


PUBLIC = [
    name for name, _ in _modules()
    if not any(part.startswith("_") for part in name.split(".")[1:]) and name not in ("cnn_tutor.bench",)
]


@pytest.mark.parametrize("name", PUBLIC)
def test_all_lists_every_public_function_and_class(name):
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    defined = {
        key for key, value in vars(module).items()
        if not key.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
        and getattr(value, "__module__", None) == name
    }
    missing = defined - set(module.__all__)
    assert not missing, f"{name}.__all__ misses {sorted(missing)}"
    assert all(hasattr(module, key) for key in module.__all__), name


def test_import_cnn_tutor_is_cheap():
    code = "import sys, cnn_tutor; print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
    code = "import sys, cnn_tutor.data, cnn_tutor.baselines, cnn_tutor.cost, cnn_tutor.timing; print('keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"


if __name__ == "__main__":
    for module, targets in import_graph().items():
        size = len(next(path for name, path in _modules() if name == module).read_text().splitlines())
        print(f"{module:42s} {size:4d}  -> {', '.join(t.replace('cnn_tutor.', '') for t in targets) or '-'}")
