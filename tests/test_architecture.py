"""The package's layers import only downward (docs/architecture.md), and the math layers
need no OpenMMLab."""
import ast
import os
import os.path as osp

import pytest

import mmsofteq

PACKAGE = osp.dirname(mmsofteq.__file__)
#: layer -> the mmsofteq layers it may import (besides itself).
ALLOWED = {
    'groups': set(),
    'projection': {'groups'},
    'structures': set(),
    'utils': set(),
    'registry': set(),
    'version': set(),
    'nn': {'groups', 'projection', 'utils'},
    'evaluation': {'structures', 'utils', 'registry'},
    'models': {'groups', 'projection', 'nn', 'structures', 'registry', 'utils'},
    'datasets': {'registry'},
    'engine': {'nn', 'evaluation', 'structures', 'utils', 'registry'},
    'apis': {'groups', 'projection', 'nn', 'evaluation', 'models', 'engine', 'structures',
             'utils', 'registry'},
}
OPENMMLAB = ('mmengine', 'mmcv', 'mmseg', 'mmpretrain')


def modules():
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(folder, name)
                parts = osp.relpath(path, PACKAGE).split(os.sep)
                yield path, parts


def imported_layers(path, parts):
    """``(mmsofteq layers, top-level packages)`` that the module at ``path`` imports."""
    tree = ast.parse(open(path, encoding='utf-8').read())
    layers, packages = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = parts[:-1][:len(parts) - 1 - (node.level - 1)]
                target = base + (node.module.split('.') if node.module else [])
                if not target:  # `from .. import x` at the top: x is a layer
                    layers.update(alias.name for alias in node.names)
                else:
                    layers.add(target[0])
                continue
            names = [node.module]
        else:
            continue
        for name in names:
            top, *rest = name.split('.')
            if top == 'mmsofteq':
                if rest:
                    layers.add(rest[0])
            else:
                packages.add(top)
    return layers, packages


@pytest.mark.parametrize('path, parts', list(modules()), ids=lambda value: (
    '/'.join(value) if isinstance(value, list) else None))
def test_layers_import_only_downward(path, parts):
    if parts == ['__init__.py']:
        return  # the package root registers everything
    layer = osp.splitext(parts[0])[0]
    layers, packages = imported_layers(path, parts)
    assert layer in ALLOWED, f'{layer} is not a known layer of docs/architecture.md'
    assert layers - {layer} <= ALLOWED[layer], (layer, sorted(layers - {layer}))
    if layer in ('groups', 'projection', 'structures'):
        assert not packages & set(OPENMMLAB), (path, packages & set(OPENMMLAB))


def test_the_import_scanner_sees_relative_and_absolute_imports(tmp_path):
    source = tmp_path / 'probe.py'
    source.write_text('from ...projection import x\nfrom . import y\nimport mmsofteq.nn\n'
                      'from mmengine import Config\n')
    layers, packages = imported_layers(str(source), ['engine', 'runner', 'probe.py'])
    assert layers == {'projection', 'engine', 'nn'} and packages == {'mmengine'}


def test_sources_cite_the_paper_or_the_authors_code_not_internal_notes():
    """Users have the paper and the authors' public code, not the project's internal notes or
    its issue tracker: no tracked text file cites a section of those notes, their folder or an
    issue number (the pattern below)."""
    import re
    import subprocess
    repo = osp.dirname(PACKAGE)
    tracked = subprocess.run(['git', 'ls-files'], cwd=repo, capture_output=True, text=True,
                             check=True).stdout.split()
    pattern = re.compile(r'(REFERENCE|SPEC) §|\.\./shared|\bissue \d+\b', re.IGNORECASE)
    found = []
    for name in tracked:
        if not name.endswith(('.py', '.md', '.sh', '.cfg', '.ini', '.txt')) or \
                name == 'tests/test_architecture.py':
            continue
        with open(osp.join(repo, name), encoding='utf-8') as handle:
            for number, line in enumerate(handle, 1):
                if pattern.search(line):
                    found.append(f'{name}:{number}: {line.strip()[:80]}')
    assert not found, '\n'.join(found)


def test_the_layer_picture_in_the_docs_names_every_layer_and_module_folder():
    """docs/architecture.md's layer table names every layer of ``ALLOWED`` that is a folder,
    and every module file of ``nn/`` (the layer most edits touch), so the page follows the
    code."""
    import re
    with open(osp.join(osp.dirname(PACKAGE), 'docs', 'architecture.md'),
              encoding='utf-8') as handle:
        text = handle.read()
    folders = sorted(name for name in ALLOWED if osp.isdir(osp.join(PACKAGE, name)))
    missing = [name for name in folders if not re.search(rf'`{name}`', text)]
    nn_modules = sorted(name for name in os.listdir(osp.join(PACKAGE, 'nn'))
                        if name.endswith('.py') and name != '__init__.py')
    missing += [f'nn/{name}' for name in nn_modules if name not in text]
    assert not missing, f'docs/architecture.md does not name: {missing}'
