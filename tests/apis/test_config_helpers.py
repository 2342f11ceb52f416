"""``mmsofteq.apis``: the one detector of soft equivariance / rotated evaluation in a config,
the model the Runner would build, and the plain config without mmsofteq."""
import pytest
from mmengine.config import Config

from mmsofteq.apis import (find_softeq, is_rotated_loop_config, plain_config, softeq_of_config,
                           with_softeq)
from mmsofteq.engine.runner import RotatedValLoop
from mmsofteq.engine.runner.rotated_loops import rotated_metric_config

SOFTEQ = dict(group='C4', softness=0.5)
MODEL = dict(type='EncoderDecoder', backbone=dict(type='MixVisionTransformer'))


@pytest.mark.parametrize('cfg, where', [
    (dict(model=dict(type='mmsofteq.SoftEqModel', model=MODEL, softeq=SOFTEQ)), 'model'),
    (dict(model=MODEL, default_hooks=dict(
        timer=dict(type='IterTimerHook'), softeq=dict(type='mmsofteq.SoftEqHook',
                                                      softeq=SOFTEQ))), 'default_hooks'),
    (dict(model=MODEL, custom_hooks=[dict(type='EMAHook'),
                                     dict(type='SoftEqHook', softeq=SOFTEQ)]), 'custom_hooks'),
])
def test_softeq_is_found_in_each_place_and_replaced_there(cfg, where):
    cfg = Config(cfg)
    assert softeq_of_config(cfg) == (SOFTEQ, where)
    new = with_softeq(cfg, dict(SOFTEQ, softness=0.9))
    assert softeq_of_config(new) == (dict(SOFTEQ, softness=0.9), where)
    assert softeq_of_config(cfg)[0] == SOFTEQ  # a copy: the original is untouched
    plain = plain_config(cfg)
    assert find_softeq(plain) is None and plain.model == MODEL
    if where == 'custom_hooks':
        assert plain.custom_hooks == [dict(type='EMAHook')]
    if where == 'default_hooks':
        assert plain.default_hooks == dict(timer=dict(type='IterTimerHook'))


def test_softeq_asked_twice_or_never_is_an_error():
    twice = Config(dict(model=dict(type='mmsofteq.SoftEqModel', model=MODEL, softeq=SOFTEQ),
                        custom_hooks=[dict(type='mmsofteq.SoftEqHook', softeq=SOFTEQ)]))
    with pytest.raises(ValueError, match='2 times'):
        find_softeq(twice)
    with pytest.raises(ValueError, match='no soft equivariance'):
        softeq_of_config(Config(dict(model=MODEL)))


def test_rotated_loop_detection_by_name_and_class():
    assert is_rotated_loop_config(dict(type='mmsofteq.RotatedValLoop'))
    assert is_rotated_loop_config(dict(type='RotatedTestLoop'))
    assert is_rotated_loop_config(dict(type=RotatedValLoop))
    assert not is_rotated_loop_config(dict(type='ValLoop'))
    assert not is_rotated_loop_config(None)


def test_plain_config_has_no_mmsofteq_component_left():
    cfg = Config(dict(
        custom_imports=dict(imports=['mmsofteq', 'mypkg'], allow_failed_imports=False),
        model=dict(type='mmsofteq.SoftEqModel', model=MODEL, softeq=SOFTEQ),
        val_cfg=dict(type='mmsofteq.RotatedValLoop', angles=dict(kind='cyclic', order=4)),
        test_cfg=dict(type='mmsofteq.RotatedTestLoop'),
        val_evaluator=dict(type='mmsofteq.RotatedIoUMetric', ignore_index=7),
        test_evaluator=[dict(type='mmsofteq.RotatedAccuracy', topk=(1, 5)),
                        dict(type='IoUMetric')]))
    plain = plain_config(cfg)
    assert plain.val_cfg == dict(type='ValLoop') and plain.test_cfg == dict(type='TestLoop')
    assert plain.val_evaluator == dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'],
                                       ignore_index=7, nan_to_num=None)
    assert plain.test_evaluator == [dict(type='mmpretrain.Accuracy', topk=(1, 5)),
                                    dict(type='IoUMetric')]
    assert plain.custom_imports['imports'] == ['mypkg']
    assert 'mmsofteq' not in plain.pretty_text


def test_the_rotated_metric_is_paired_with_the_configs_own_metric():
    from mmpretrain.evaluation import Accuracy
    from mmseg.evaluation import IoUMetric

    from mmsofteq.evaluation import RotatedIoUMetric

    assert rotated_metric_config([IoUMetric(ignore_index=9, nan_to_num=0)], 'auto') == dict(
        type='mmsofteq.RotatedIoUMetric', ignore_index=9, nan_to_num=0, clean_metrics=False)
    assert rotated_metric_config([Accuracy(topk=(1, 5))], 'auto') == dict(
        type='mmsofteq.RotatedAccuracy', topk=(1, 5), clean_metrics=False)
    assert rotated_metric_config([RotatedIoUMetric()], 'auto') is None  # already there
    assert rotated_metric_config([IoUMetric()], None) is None
    assert rotated_metric_config([], dict(type='mmsofteq.RotatedAccuracy')) == dict(
        type='mmsofteq.RotatedAccuracy', clean_metrics=True)
    with pytest.raises(ValueError, match="no metric it can pair"):
        rotated_metric_config([object()], 'auto')
    with pytest.raises(ValueError, match='rotated_metric must be'):
        rotated_metric_config([IoUMetric()], 'yes')


@pytest.mark.parametrize('form', ['model', 'default_hooks'])
def test_cfg_options_on_softeq_reach_the_softeq_in_use(tmp_path, form):
    """``--cfg-options softeq.softness=...`` changes what the model gets, not only the
    top-level ``softeq`` variable the config was written with."""
    from mmsofteq.apis import load_config
    use = ("model = dict(type='mmsofteq.SoftEqModel', model=dict(type='X'), softeq=softeq)"
           if form == 'model' else
           "default_hooks = dict(softeq=dict(type='mmsofteq.SoftEqHook', softeq=softeq))")
    path = tmp_path / 'config.py'
    path.write_text(f"softeq = dict(group='C4', softness=dict(conv=0.5, default=0.9))\n{use}\n")
    cfg = load_config(str(path), {'softeq.softness.conv': 0.1, 'softeq.group': 'C8'})
    assert softeq_of_config(cfg)[0] == dict(group='C8', softness=dict(conv=0.1, default=0.9))
    assert cfg.softeq == softeq_of_config(cfg)[0]
    plain = tmp_path / 'plain.py'
    plain.write_text("model = dict(type='X')\n")
    with pytest.raises(ValueError, match='no soft equivariance to change'):
        load_config(str(plain), {'softeq.softness': 0.1})
    assert load_config(str(plain), {'model.type': 'Y'}).model.type == 'Y'


def test_softeq_options_reach_the_softeq_in_use_through_mmengines_own_merge(tmp_path):
    """What mmseg's / mmpretrain's own tools do with --cfg-options (Config.fromfile, then
    cfg.merge_from_dict): once the config's custom_imports imported mmsofteq, softeq.* keys
    change the wrapper's and the hook's softeq, not only the top-level variable; on a config
    without soft equivariance they raise."""
    from mmengine.config import Config
    for form, where in (('wrapper', lambda cfg: cfg.model.softeq),
                        ('hook', lambda cfg: cfg.default_hooks.softeq.softeq)):
        model = ("dict(type='mmsofteq.SoftEqModel', model=dict(type='EncoderDecoder'), "
                 'softeq=softeq)' if form == 'wrapper' else "dict(type='EncoderDecoder')")
        hooks = ("default_hooks = dict(softeq=dict(type='mmsofteq.SoftEqHook', softeq=softeq))\n"
                 if form == 'hook' else '')
        path = tmp_path / f'{form}.py'
        path.write_text("custom_imports = dict(imports=['mmsofteq'])\n"
                        "softeq = dict(group='C4', softness=0.9)\n"
                        f'model = {model}\n{hooks}')
        cfg = Config.fromfile(str(path))
        cfg.merge_from_dict({'softeq.softness': 0.5, 'softeq.group': 'SO2'})
        assert where(cfg)['softness'] == 0.5 and where(cfg)['group'] == 'SO2', form
    plain = tmp_path / 'plain.py'
    plain.write_text("custom_imports = dict(imports=['mmsofteq'])\n"
                     "model = dict(type='EncoderDecoder')\n")
    cfg = Config.fromfile(str(plain))
    with pytest.raises(ValueError, match='no soft equivariance to change'):
        cfg.merge_from_dict({'softeq.softness': 0.5})
    cfg.merge_from_dict({'model.type': 'ImageClassifier'})   # other keys as in mmengine
    assert cfg.model.type == 'ImageClassifier'


def test_config_dicts_visits_every_dict_depth_first():
    from mmsofteq.apis import config_dicts
    tree = dict(a=dict(type='A', b=[dict(type='B'), (dict(type='C'), 3)]), d='x')
    assert [node.get('type') for node in config_dicts(tree)] == [None, 'A', 'B', 'C']
    assert list(config_dicts([1, 'two'])) == []
