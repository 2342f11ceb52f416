# The hook form of softeq_resnet50_8xb16-10e_cifar10.py: the Base config's `model` is left as
# it is and mmsofteq.SoftEqHook projects it before the run starts. `default_hooks` is merged key
# by key with the base's hooks (none is lost, unlike a `custom_hooks` list, which replaces the
# base's EMAHook / PreciseBNHook). Same projection and state-dict keys as the wrapper form.
_base_ = ['./resnet50_8xb16-10e_cifar10.py', '../_base_/softeq/resnet_so2.py']
default_hooks = dict(softeq=dict(type='mmsofteq.SoftEqHook',
                                 softeq=dict(_base_.softeq, min_kernel_size=2)))
