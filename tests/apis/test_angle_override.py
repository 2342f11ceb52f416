"""``apply_angle_override`` (the ``tools/test.py --angles`` hook) and config registration."""
import copy

import pytest
from mmengine.config import Config
from mmengine.registry import LOOPS, METRICS, DefaultScope

import mmsofteq  # noqa: F401  (registers the loops and metrics)
from mmsofteq.apis import apply_angle_override, is_rotated_loop_config
from mmsofteq.engine.runner import RotatedTestLoop, RotatedValLoop
from mmsofteq.evaluation import RotatedAccuracy, RotatedIoUMetric
from mmsofteq.nn.evaluation_angles import AngleSampler


def rotated_config():
    return Config(dict(
        val_cfg=dict(type='mmsofteq.RotatedValLoop',
                     angles=dict(kind='uniform', low=-30.0, high=30.0, seed=5)),
        test_cfg=dict(type='mmsofteq.RotatedTestLoop')))


@pytest.mark.parametrize('spec, expected', [
    ('c4', dict(kind='cyclic', order=4)),
    ('list:0,90,180,270', dict(kind='list', values=[0.0, 90.0, 180.0, 270.0])),
    ('uniform:-15,45', dict(kind='uniform', low=-15.0, high=45.0)),
])
def test_override_rewrites_val_and_test_loops_keeping_their_seeds(spec, expected):
    cfg = rotated_config()
    apply_angle_override(cfg, spec)
    assert cfg.val_cfg.angles == dict(expected, seed=5)
    assert cfg.test_cfg.angles == dict(expected, seed=0)  # the loop default seed
    assert cfg.val_cfg.type == 'mmsofteq.RotatedValLoop'  # nothing else changes
    # what the loop builds from it
    assert AngleSampler.from_config(cfg.test_cfg.angles).to_config() == dict(expected, seed=0)


def test_override_with_explicit_seed_and_a_class_typed_loop():
    cfg = Config(dict(test_cfg=dict(type=RotatedTestLoop), val_cfg=dict(type='ValLoop')))
    apply_angle_override(cfg, 'c8@11')
    assert cfg.test_cfg.angles == dict(kind='cyclic', order=8, seed=11)
    assert 'angles' not in cfg.val_cfg  # a plain ValLoop is left alone


@pytest.mark.parametrize('spec', ['list:', 'uniform:30,-30', 'spin:3', 'c4@seed'])
def test_bad_specs_raise_and_leave_the_config_untouched(spec):
    cfg = rotated_config()
    before = copy.deepcopy(cfg.to_dict())
    with pytest.raises(ValueError):
        apply_angle_override(cfg, spec)
    assert cfg.to_dict() == before


def test_config_without_rotated_loop_is_rejected():
    cfg = Config(dict(val_cfg=dict(type='ValLoop'), test_cfg=dict(type='TestLoop')))
    with pytest.raises(ValueError, match='RotatedTestLoop'):
        apply_angle_override(cfg, 'c4')
    assert not is_rotated_loop_config(None)


@pytest.mark.parametrize('scope, base, metric', [
    ('mmseg', 'mmseg::_base_/datasets/pascal_voc12.py', 'RotatedIoUMetric'),
    ('mmpretrain', 'mmpretrain::_base_/datasets/imagenet_bs32.py', 'RotatedAccuracy'),
])
def test_documented_snippet_on_real_base_configs(tmp_path, scope, base, metric):
    """The docs' snippet, inheriting mmseg/mmpretrain bases (whose evaluator keys such as
    iou_metrics=['mIoU'] / topk=(1, 5) get merged in), builds, and --angles applies."""
    config_file = tmp_path / 'rotated.py'
    config_file.write_text(
        f"_base_ = ['{base}']\n"
        f"default_scope = '{scope}'\n"
        "custom_imports = dict(imports=['mmsofteq'], allow_failed_imports=False)\n"
        "val_cfg = dict(type='mmsofteq.RotatedValLoop')\n"
        "test_cfg = dict(type='mmsofteq.RotatedTestLoop')\n"
        f"val_evaluator = dict(type='mmsofteq.{metric}')\n"
        "test_evaluator = val_evaluator\n")
    cfg = Config.fromfile(str(config_file))
    with DefaultScope.overwrite_default_scope(scope):
        built = METRICS.build(cfg.test_evaluator)
    assert type(built).__name__ == metric
    apply_angle_override(cfg, 'uniform:-30,30@3')
    assert cfg.test_cfg.angles == dict(kind='uniform', low=-30.0, high=30.0, seed=3)
    assert cfg.val_cfg.angles == cfg.test_cfg.angles


@pytest.mark.parametrize('scope', ['mmseg', 'mmpretrain'])
def test_scoped_names_resolve_from_mmseg_and_mmpretrain_configs(scope):
    import mmpretrain.registry  # noqa: F401
    import mmseg.registry  # noqa: F401
    with DefaultScope.overwrite_default_scope(scope):
        assert LOOPS.get('mmsofteq.RotatedValLoop') is RotatedValLoop
        assert LOOPS.get('mmsofteq.RotatedTestLoop') is RotatedTestLoop
        assert METRICS.get('mmsofteq.RotatedIoUMetric') is RotatedIoUMetric
        assert METRICS.get('mmsofteq.RotatedAccuracy') is RotatedAccuracy
