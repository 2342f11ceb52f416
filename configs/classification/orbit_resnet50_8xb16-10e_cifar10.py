# Orbit-averaged (C4) ResNet-50 on CIFAR-10: the Base twin resnet50_8xb16-10e_cifar10.py with
# predictions averaged over the four quarter turns (recipe: _base_/baselines/orbit_c4.py).
_base_ = ['./resnet50_8xb16-10e_cifar10.py', '../_base_/baselines/orbit_c4.py']
model = dict(_delete_=True, type='mmsofteq.OrbitAveragedModel', model=_base_.model,
             **_base_.orbit)
