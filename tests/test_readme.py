"""The README has no stale commands: every path it names exists, every ``tools/*.py`` command
it shows parses with that tool's own argument parser, the ``make`` targets exist and CI runs
the README's test command, and the "adopt it in your own config" snippet builds a projected
model through the real config machinery (both the wrapper and the hook form).

What the commands *do* is tested elsewhere: ``make demo`` by tests/tools (run_demo), training
and dist launchers by tests/tools/test_launchers.py, export by
tests/tools/test_export_checkpoint.py.
"""
import os.path as osp
import re
import shlex

import pytest
from fixtures.tools import REPO, load_tool
from mmengine.config import Config

README = osp.join(REPO, 'README.md')
#: Placeholders the README uses for user-provided values, and what stands in for them here.
PLACEHOLDERS = {'CONFIG': 'configs/segformer_softeq_voc.py', 'CKPT': 'work_dirs/x/iter_1.pth',
                'OUT.pth': 'work_dirs/x/plain.pth', 'PLAIN.py': 'work_dirs/x/plain.py',
                'N': '2', 'DIR': 'work_dirs/x'}


def readme_text():
    with open(README, encoding='utf-8') as handle:
        return handle.read()


def code_blocks(language):
    """Bodies of the README's fenced code blocks in ``language``."""
    return re.findall(r'```' + language + r'\n(.*?)```', readme_text(), flags=re.S)


def shell_commands():
    """Every command line of the README's bash blocks, comments stripped, continuations joined."""
    commands = []
    for block in code_blocks('bash'):
        for line in block.replace('\\\n', ' ').splitlines():
            line = line.split('#', 1)[0].strip()
            if line:
                commands.append(line)
    return commands


def tool_invocations():
    """``(tool path, argv)`` of every ``python tools/X.py ...`` command in the README."""
    found = []
    for command in shell_commands():
        words = shlex.split(command)
        for index, word in enumerate(words[:-1]):
            if word.endswith('python') and words[index + 1].startswith('tools/'):
                argv = [PLACEHOLDERS.get(arg, arg) for arg in words[index + 2:]]
                found.append((words[index + 1], argv))
    return found


def test_every_repository_path_in_the_readme_exists():
    text = readme_text()
    paths = set(re.findall(r'(?<![\w/.])((?:tools|configs|docs|tests|mmsofteq)/[\w./-]+\w)', text))
    paths |= set(re.findall(r'\]\(([\w./-]+)\)', text))  # markdown links
    assert len(paths) > 10, 'the README should point at the tools, configs and docs'
    missing = sorted(path for path in paths if not osp.exists(osp.join(REPO, path)))
    assert not missing, f'README names paths that do not exist: {missing}'


def test_every_tool_command_in_the_readme_parses():
    invocations = tool_invocations()
    assert {path for path, _ in invocations} >= {'tools/train.py', 'tools/test.py',
                                                 'tools/export_checkpoint.py'}
    for path, argv in invocations:
        tool = load_tool(path[len('tools/'):])
        assert hasattr(tool, 'parse_args'), f'{path} has no parse_args(argv)'
        try:
            tool.parse_args(argv)
        except SystemExit as error:  # argparse rejected the README's arguments
            pytest.fail(f'README command `{path} {" ".join(argv)}` is rejected by its '
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
