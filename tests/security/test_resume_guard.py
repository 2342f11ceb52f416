"""``--resume`` continues the run that wrote the checkpoint, end to end through tools/train.py:
a changed ``softeq`` is refused unless the user says so, a SoftEq checkpoint never runs silently
under the Base config (tools/test.py), and a validation interrupted by a signal is run on
resume (``mmsofteq.RunGuardHook``, ``mmsofteq.engine.hooks.resume_state``)."""
import json

import pytest
import torch
from fixtures import make_tiny_voc, tiny_segformer_cfg
from fixtures.tools import load_tool
from mmengine.hooks import Hook

from mmsofteq.engine.hooks.resume_state import META_SOFTEQ, VALIDATIONS_FILE
from mmsofteq.registry import HOOKS

pytestmark = pytest.mark.slow  # real Runner runs

SOFTEQ = dict(group='C8', softness=0.5)


@HOOKS.register_module(name='InterruptValidationForTest', force=True)
class InterruptValidation(Hook):
    """Raises ``KeyboardInterrupt`` (what SIGINT raises) inside the validation at ``at``."""

    def __init__(self, at: int):
        self.at = at

    def before_val_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at:
            raise KeyboardInterrupt(f'signal during the validation at iteration {self.at}')


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    """``(softeq config, base config, root)``: 2 iterations, validation and checkpoint each."""
    root = tmp_path_factory.mktemp('resume')
    data_root = make_tiny_voc(root / 'voc', num_images=4, size=32, num_classes=4)
    base = tiny_segformer_cfg(data_root, root / 'unused', num_classes=4, max_iters=2,
                              val_interval=1, checkpoint_interval=1, norm_type='BN')
    base.custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)
    base_path = str(root / 'base.py')
    base.dump(base_path)
    softeq = base.copy()
    softeq.model = dict(type='mmsofteq.SoftEqModel', model=base.model, softeq=SOFTEQ)
    softeq_path = str(root / 'softeq.py')
    softeq.dump(softeq_path)
    softeq.custom_hooks = [dict(type='mmsofteq.InterruptValidationForTest', at=2)]
    softeq.dump(str(root / 'softeq_interrupted.py'))
    return softeq_path, base_path, root


def _train(config, work_dir, *arguments):
    load_tool('train.py').main([config, '--work-dir', str(work_dir), *arguments])


def _validations(work_dir):
    with open(work_dir / VALIDATIONS_FILE) as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope='module')
def run_a(configs):
    softeq_path, _, root = configs
    _train(softeq_path, root / 'a')
    return root / 'a'


def test_the_checkpoint_records_softeq_and_completed_validations(run_a):
    meta = torch.load(run_a / 'iter_1.pth', weights_only=False)['meta']
    assert meta[META_SOFTEQ][0]['group'] == 'C8' and meta[META_SOFTEQ][0]['softness'] == 0.5
    assert [entry['iter'] for entry in _validations(run_a)] == [1, 2]


def test_resume_with_another_softness_is_refused(configs, run_a, tmp_path):
    softeq_path, _, _ = configs
    arguments = ['--resume', str(run_a / 'iter_1.pth'), '--cfg-options',
                 'train_cfg.max_iters=3', 'model.softeq.softness=0.3']
    with pytest.raises(RuntimeError, match=r'--resume with another softeq than the checkpoint\'s'
                                           r': it was written by \[group=C8 softness=0.5 .*\], '
                                           r'this run builds \[group=C8 softness=0.3'):
        _train(softeq_path, tmp_path / 'b', *arguments)
    assert not (tmp_path / 'b' / 'iter_2.pth').exists()
    _train(softeq_path, tmp_path / 'c', *arguments,
           'default_hooks.run_guard.allow_softeq_change=True')
    assert (tmp_path / 'c' / 'iter_3.pth').exists()


def test_resume_with_the_same_softeq_continues(configs, run_a, tmp_path):
    softeq_path, _, _ = configs
    _train(softeq_path, tmp_path / 'd', '--resume', str(run_a / 'iter_2.pth'), '--cfg-options',
           'train_cfg.max_iters=3')
    assert (tmp_path / 'd' / 'iter_3.pth').exists()


def test_a_softeq_checkpoint_under_the_base_config_is_refused(configs, run_a, tmp_path):
    _, base_path, _ = configs
    with pytest.raises(RuntimeError, match='this checkpoint holds θ of a soft-equivariant model'):
        load_tool('test.py').main([base_path, str(run_a / 'iter_2.pth'), '--work-dir',
                                   str(tmp_path / 'test')])
    with pytest.raises(RuntimeError, match=r'this run builds \[plain model \(no softeq\)\]'):
        _train(base_path, tmp_path / 'e', '--resume', str(run_a / 'iter_1.pth'))


def test_a_validation_interrupted_by_a_signal_is_run_on_resume(configs, tmp_path):
    softeq_path, _, root = configs
    work_dir = tmp_path / 'interrupted'
    with pytest.raises(KeyboardInterrupt):
        _train(str(root / 'softeq_interrupted.py'), work_dir)
    assert (work_dir / 'iter_2.pth').exists()  # written before the validation at 2
    assert [entry['iter'] for entry in _validations(work_dir)] == [1]
    _train(softeq_path, work_dir, '--resume', '--cfg-options', 'train_cfg.max_iters=3')
    entries = _validations(work_dir)
    assert [entry['iter'] for entry in entries] == [1, 2, 3]  # 2 was run on resume
    assert len({entry['run_id'] for entry in entries}) == 1  # the same run throughout


def test_a_completed_validation_is_not_run_again(configs, run_a, tmp_path):
    softeq_path, _, _ = configs
    work_dir = tmp_path / 'completed'
    _train(softeq_path, work_dir)
    _train(softeq_path, work_dir, '--resume', '--cfg-options', 'train_cfg.max_iters=3')
    assert [entry['iter'] for entry in _validations(work_dir)] == [1, 2, 3]
