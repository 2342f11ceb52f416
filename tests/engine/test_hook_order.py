"""The order of mmsofteq's hooks among mmengine's, on a minimal real ``Runner``
(``fixtures.toy_runner``; the fast tier's guard, the end-to-end runs are in
test_softeq_hook.py): ``SoftEqHook`` injects in ``before_run`` ahead of ``EMAHook``, which
copies the model there, so the averaged model is the projected one."""
import pytest
from fixtures.toy_runner import toy_runner

from mmsofteq.nn import is_swapped

SOFTEQ = dict(group='C4', softness=0.5, min_kernel_size=3, include=[r'^conv\.weight$'])


@pytest.mark.parametrize('ema_priority', ['NORMAL', 'ABOVE_NORMAL', 'HIGH'])
def test_the_ema_copy_is_taken_after_the_projection(tmp_path, ema_priority):
    runner = toy_runner(tmp_path, max_iters=1,
                        default_hooks=dict(softeq=dict(type='mmsofteq.SoftEqHook',
                                                       softeq=SOFTEQ)),
                        custom_hooks=[dict(type='EMAHook', priority=ema_priority)])
    names = [type(hook).__name__ for hook in runner.hooks]
    assert names.index('SoftEqHook') < names.index('EMAHook')
    runner.train()
    ema = next(hook for hook in runner.hooks if type(hook).__name__ == 'EMAHook')
    assert is_swapped(runner.model.conv)
    assert is_swapped(ema.ema_model.module.conv)
