"""The README has no stale commands: every path it names exists, every ``tools/*.py`` command
it shows parses with that tool's own argument parser, the ``make`` targets exist and CI runs
the README's test command, and the "adopt it in your own config" snippet builds a projected
model through the real config machinery (both the wrapper and the hook form). The same path
and command checks hold for every page of ``docs/`` and for ``configs/README.md``.

What the commands *do* is tested elsewhere: ``make demo`` by
projects/softeq_lab/tests/demo/test_run_demo.py, training and dist launchers by
tests/tools/test_launchers.py, export by tests/tools/test_export_checkpoint.py.
"""
import glob
import importlib
import os.path as osp
import re
import shlex

import pytest
from fixtures.tools import REPO, load_tool
from mmengine.config import Config

README = osp.join(REPO, 'README.md')
#: Every page whose paths and tool commands are checked (relative to the repository).
DOCUMENTS = ['README.md', 'configs/README.md', 'projects/softeq_lab/README.md'] + sorted(
    osp.relpath(path, REPO) for path in glob.glob(osp.join(REPO, 'docs', '*.md')))
#: Placeholders the README uses for user-provided values, and what stands in for them here.
PLACEHOLDERS = {'CONFIG': 'configs/segformer_softeq_voc.py', 'CKPT': 'work_dirs/x/iter_1.pth',
                'OUT.pth': 'work_dirs/x/plain.pth', 'PLAIN.py': 'work_dirs/x/plain.py',
                'N': '2', 'DIR': 'work_dirs/x'}


def readme_text(document='README.md'):
    with open(osp.join(REPO, document), encoding='utf-8') as handle:
        return handle.read()


def code_blocks(language, document='README.md'):
    """Bodies of the document's fenced code blocks in ``language``."""
    return re.findall(r'```' + language + r'\n(.*?)```', readme_text(document), flags=re.S)


def shell_commands(document='README.md'):
    """Every command line of the document's bash blocks, comments stripped, continuations
    joined."""
    commands = []
    for block in code_blocks('bash', document):
        for line in block.replace('\\\n', ' ').splitlines():
            line = line.split('#', 1)[0].strip()
            if line:
                commands.append(line)
    return commands


def _without_optional_parts(argv):
    """``argv`` of a usage synopsis with its ``[...]`` parts (and ``...``) removed: the
    required part of the command, which the tool must accept as it is."""
    kept, depth = [], 0
    for arg in argv:
        depth += arg.count('[')
        if depth == 0 and arg != '...':
            kept.append(arg)
        depth -= arg.count(']')
    return kept


def tool_invocations(document='README.md'):
    """``(tool, argv)`` of every ``python tools/X.py ...`` (tool: the path) and
    ``python -m softeq_lab.X ...`` (tool: the module) command in the document."""
    found = []
    for command in shell_commands(document):
        words = shlex.split(command)
        for index, word in enumerate(words[:-1]):
            if not word.endswith('python'):
                continue
            if words[index + 1].startswith('tools/'):
                tool, rest = words[index + 1], words[index + 2:]
            elif words[index + 1] == '-m' and words[index + 2:][:1] and \
                    words[index + 2].startswith('softeq_lab.'):
                tool, rest = words[index + 2], words[index + 3:]
            else:
                continue
            argv = [PLACEHOLDERS.get(arg, arg) for arg in rest]
            if any(arg.startswith('[') for arg in argv):  # a usage synopsis: [--opt X]
                argv = _without_optional_parts(argv)
            found.append((tool, argv))
    return found


def load_command(tool):
    """The module behind ``tools/X.py`` (imported by path) or ``softeq_lab.X``."""
    if tool.startswith('tools/'):
        return load_tool(tool[len('tools/'):])
    return importlib.import_module(tool)


@pytest.mark.parametrize('document', DOCUMENTS)
def test_every_repository_path_in_the_docs_exists(document):
    """Repository paths (from the root) and relative markdown links (from the page)."""
    text = readme_text(document)
    paths = set(re.findall(
        r'(?<![\w/.])((?:tools|configs|docs|tests|mmsofteq|projects)/[\w./-]+\w)(?![\w*])', text))
    missing = sorted(path for path in paths if not osp.exists(osp.join(REPO, path)))
    folder = osp.dirname(osp.join(REPO, document))
    links = {link.split('#')[0] for link in re.findall(r'\]\(([\w./#-]+)\)', text)
             if not link.startswith('#')}
    missing += sorted(link for link in links if not osp.exists(osp.join(folder, link)))
    if document == 'README.md':
        assert len(paths | links) > 10, 'the README should point at the tools, configs and docs'
    assert not missing, f'{document} names paths that do not exist: {missing}'


@pytest.mark.parametrize('document', DOCUMENTS)
def test_every_tool_command_in_the_docs_parses(document):
    invocations = tool_invocations(document)
    if document == 'README.md':
        assert {path for path, _ in invocations} >= {'tools/train.py', 'tools/test.py',
                                                     'tools/export_checkpoint.py'}
    for path, argv in invocations:
        tool = load_command(path)
        assert hasattr(tool, 'parse_args'), f'{path} has no parse_args(argv)'
        try:
            tool.parse_args(argv)
        except SystemExit as error:  # argparse rejected the README's arguments
            pytest.fail(f'{document} command `{path} {" ".join(argv)}` is rejected by its '
                        f'parser (exit {error.code})')


def test_make_targets_and_ci_run_the_readme_commands():
    commands = shell_commands()
    make_targets = [command.split()[1] for command in commands if command.startswith('make ')]
    assert 'demo' in make_targets and 'test' in make_targets
    with open(osp.join(REPO, 'Makefile'), encoding='utf-8') as handle:
        makefile = handle.read()
    for target in make_targets:
        assert re.search(rf'^{target}:', makefile, flags=re.M), f'Makefile lacks `{target}:`'
    with open(osp.join(REPO, '.ci', 'run'), encoding='utf-8') as handle:
        ci_lines = [line.strip() for line in handle if line.strip() and
                    not line.lstrip().startswith('#')]
    assert ci_lines[-1] == 'make test', '.ci/run must end by running the README test command'
    for command in commands:
        for script in re.findall(r'bash (tools/\S+\.sh)', command):
            assert osp.exists(osp.join(REPO, script)), script


def adoption_snippet():
    """The README's "own config" block: the python block that sets ``softeq``."""
    blocks = [block for block in code_blocks('python') if 'softeq = dict(' in block]
    assert len(blocks) == 1, 'expected exactly one adoption snippet in the README'
    return blocks[0]


@pytest.mark.parametrize('form', ['wrapper', 'hook'])
def test_the_adoption_snippet_builds_a_projected_model(tmp_path, form):
    from mmsofteq.apis import build_model_from_config
    from mmsofteq.nn import softeq_report

    snippet = adoption_snippet()
    if form == 'hook':  # the README's commented alternative: leave `model` untouched
        snippet = re.sub(r'^model = .*$', '', snippet, flags=re.M)
        snippet = re.sub(r'^# (default_hooks = .*)$', r'\1', snippet, flags=re.M)
        assert 'default_hooks = dict(softeq=' in snippet
    config_file = tmp_path / 'own_config.py'
    config_file.write_text(snippet)
    cfg = Config.fromfile(str(config_file))
    assert cfg.custom_imports['imports'] == ['mmsofteq']
    if form == 'wrapper':
        assert cfg.model.type == 'mmsofteq.SoftEqModel'
    else:
        assert cfg.default_hooks.softeq['type'] == 'mmsofteq.SoftEqHook'
        assert cfg.default_hooks.checkpoint['type'] == 'CheckpointHook'  # the base's hooks stay
        assert cfg.model.type == 'EncoderDecoder'
    report = softeq_report(build_model_from_config(cfg))
    assert report.num_projected > 0
    assert {entry.softness for entry in report.projected} == {cfg.softeq['softness']}
